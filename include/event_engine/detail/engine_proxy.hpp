#pragma once
// The engine's proxy: an XSUB that publishers connect to (inproc and TCP), forwarding
// to an XPUB for in-process subscribers and another for TCP ones. The in-process
// XPUB never drops (it waits: backpressure); the TCP XPUB serves unregistered
// external processes and counts what it cannot deliver, so a stuck remote
// subscriber cannot stall the application.
//
// Plugins that also subscribe publish to a second, priority XSUB, drained before
// each small batch from the first: work in progress (answers to events) moves on
// before new work is admitted. Without it, a fast source and a relay's answers
// would be forwarded at equal rates, and the relay's backlog would drift upward
// for as long as the source runs (docs/design.md, loss policy).

#include "event_engine/detail/proxy_demand.hpp"
#include "event_engine/detail/sockets.hpp"
#include "event_engine/log.hpp"

#include <zmq.hpp>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <string>
#include <thread>

namespace event_engine::detail {

struct proxy_endpoints {
    std::string publish_tcp;   // where publishers connect (engine incoming)
    std::string subscribe_tcp; // where subscribers connect (engine outgoing)
};

class engine_proxy {
public:
    engine_proxy(zmq::context_t& context, const proxy_endpoints& endpoints, int high_water_mark, demand_board& demand)
        : demand_{&demand},
          incoming_{context, zmq::socket_type::xsub},
          incoming_priority_{context, zmq::socket_type::xsub},
          outgoing_{context, zmq::socket_type::xpub},
          outgoing_tcp_{context, zmq::socket_type::xpub}
    {
        for (auto* socket : {&incoming_, &incoming_priority_, &outgoing_, &outgoing_tcp_}) {
            socket->set(zmq::sockopt::linger, 0);
        }
        incoming_.set(zmq::sockopt::rcvhwm, high_water_mark);
        incoming_priority_.set(zmq::sockopt::rcvhwm, high_water_mark);
        outgoing_.set(zmq::sockopt::sndhwm, high_water_mark);
        outgoing_.set(zmq::sockopt::xpub_nodrop, 1);
        outgoing_tcp_.set(zmq::sockopt::sndhwm, high_water_mark);
        outgoing_tcp_.set(zmq::sockopt::xpub_nodrop, 1); // EAGAIN instead of a silent drop, so we can count it

        bind_or_throw(incoming_, incoming_inproc, "engine's incoming socket");
        bind_or_throw(incoming_priority_, incoming_priority_inproc, "engine's priority incoming socket");
        bind_or_throw(outgoing_, outgoing_inproc, "engine's outgoing socket");
        bind_or_throw(incoming_, endpoints.publish_tcp, "publish port (where plugins publish)");
        bind_or_throw(outgoing_tcp_, endpoints.subscribe_tcp, "subscribe port (where plugins subscribe)");
        publish_tcp_ = incoming_.get(zmq::sockopt::last_endpoint);
        subscribe_tcp_ = outgoing_tcp_.get(zmq::sockopt::last_endpoint);

        // Every publisher sends everything to the engine; subscribers filter at the XPUB.
        const char subscribe_all = 1;
        incoming_.send(zmq::buffer(&subscribe_all, 1));
        incoming_priority_.send(zmq::buffer(&subscribe_all, 1));
    }

    /// Forwards until the context shuts down (zmq::context_t::shutdown()).
    void run() noexcept
    {
        try {
            forward_until_shutdown();
        } catch (const zmq::error_t& failure) {
            if (failure.num() != ETERM) detail::log(log_level::error, "engine proxy stopped: {}", failure.what());
        }
    }

    [[nodiscard]] const std::string& publish_endpoint() const noexcept { return publish_tcp_; }
    [[nodiscard]] const std::string& subscribe_endpoint() const noexcept { return subscribe_tcp_; }
    [[nodiscard]] std::uint64_t tcp_drops() const noexcept { return tcp_drops_.load(); }

private:
    void forward_until_shutdown()
    {
        zmq::pollitem_t items[] = {{incoming_priority_.handle(), 0, ZMQ_POLLIN, 0},
                                   {incoming_.handle(), 0, ZMQ_POLLIN, 0},
                                   {outgoing_.handle(), 0, ZMQ_POLLIN, 0},
                                   {outgoing_tcp_.handle(), 0, ZMQ_POLLIN, 0}};
        zmq::message_t frame;
        for (;;) {
            detail::poll(items, 4, std::chrono::milliseconds{-1});
            // Subscription messages: in-process ones are only read to keep the XPUB
            // processing them; TCP ones tell us whether anyone listens remotely.
            if (items[2].revents & ZMQ_POLLIN) {
                while (outgoing_.recv(frame, zmq::recv_flags::dontwait)) {
                }
            }
            if (items[3].revents & ZMQ_POLLIN) {
                while (outgoing_tcp_.recv(frame, zmq::recv_flags::dontwait)) {
                    if (frame.size() > 0) tcp_topics_ += frame.data<unsigned char>()[0] == 1 ? 1 : -1;
                }
            }
            // Forward until both inputs are empty (poll is the expensive part), the
            // priority input first, new work in small batches in between.
            for (bool moved = true; moved;) {
                moved = false;
                for (int batch = 0; batch < 1024 && incoming_priority_.recv(frame, zmq::recv_flags::dontwait); ++batch) {
                    forward(frame);
                    moved = true;
                }
                for (int batch = 0; batch < 32 && incoming_.recv(frame, zmq::recv_flags::dontwait); ++batch) {
                    forward(frame);
                    moved = true;
                }
            }
        }
    }

    void forward(zmq::message_t& frame)
    {
        if (tcp_topics_ > 0 && !is_control_frame(frame)) {
            zmq::message_t copy;
            copy.copy(frame); // reference-counted for large frames
            if (!outgoing_tcp_.send(copy, zmq::send_flags::dontwait)) {
                const auto dropped = ++tcp_drops_;
                if (dropped == 1 || dropped % 10'000 == 0) {
                    detail::log(log_level::warn, "a TCP subscriber is full; {} event(s) not delivered to TCP subscribers",
                                dropped);
                }
            }
        }
        if (outgoing_.send(frame, zmq::send_flags::dontwait)) return;
        // An in-process subscriber is full: tell the subscribers of this frame that we
        // wait for them (they may be blocked publishing to us), then wait too.
        demand_->mark(frame_view(frame));
        for (int attempt = 0;; ++attempt) {
            if (attempt < 64) std::this_thread::yield();
            else std::this_thread::sleep_for(std::chrono::microseconds{50});
            (void)outgoing_.get(zmq::sockopt::events); // process ZeroMQ's pending "room again" commands now
            if (outgoing_.send(frame, zmq::send_flags::dontwait)) return;
        }
    }

    demand_board* demand_;
    zmq::socket_t incoming_;
    zmq::socket_t incoming_priority_;
    zmq::socket_t outgoing_;
    zmq::socket_t outgoing_tcp_;
    std::string publish_tcp_;
    std::string subscribe_tcp_;
    long tcp_topics_ = 0;
    std::atomic<std::uint64_t> tcp_drops_{0};
};

} // namespace event_engine::detail
