#pragma once
// The engine side of one registered external plugin: a ROUTER socket on the
// plugin's TCP port speaking the REQ/REP command protocol (external_protocol.hpp),
// in front of the plugin's ordinary runtime (filtered SUB, priority PUB).
//
// ROUTER rather than the original's REP, still wire-compatible with REQ clients:
// - a reply to a client that has gone fails (ROUTER_MANDATORY) instead of being
//   dropped, so the event it carried is put back, not lost -- once ZeroMQ has
//   noticed the disconnect: a reply sent in the moment between the client
//   closing its socket (or dying) with a fetch pending and the engine's I/O
//   thread seeing the connection drop is lost with the connection, and counted
//   as received (REQ/REP has no acknowledgement; nothing on this side can tell);
// - waiting fetches are parked, so other requests (a publish from another socket
//   of the same process, a quit) are answered meanwhile;
// - a socket monitor counts TCP connections, which is how a process that died
//   without sending quit is noticed.

#include "event_engine/detail/external_protocol.hpp"
#include "event_engine/detail/plugin_runtime.hpp"
#include "event_engine/detail/sockets.hpp"
#include "event_engine/errors.hpp"
#include "event_engine/log.hpp"

#include <zmq.hpp>
#include <zmq_addon.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace event_engine::detail {

struct external_timing {
    std::chrono::milliseconds connect_timeout;
    std::chrono::milliseconds disconnect_grace;
    std::chrono::milliseconds stop_grace;
};

class external_bridge {
public:
    /// Binds the plugin's port; called before any thread starts, so a port in use
    /// fails run() at once with a bind_error naming the plugin.
    external_bridge(zmq::context_t& context, std::string name, const std::string& endpoint,
                    std::span<const std::string_view> publish_topics, std::span<const std::string_view> publish_names,
                    const external_timing& timing)
        : name_{std::move(name)},
          publish_topics_{publish_topics},
          publish_names_{publish_names},
          timing_{timing},
          router_{context, zmq::socket_type::router},
          monitor_{context, zmq::socket_type::pair}
    {
        router_.set(zmq::sockopt::router_mandatory, 1);
        router_.set(zmq::sockopt::linger, 1000); // let the last reply (quit's) reach the client
        router_.set(zmq::sockopt::heartbeat_ivl, 1000);
        router_.set(zmq::sockopt::heartbeat_timeout, 5000);
        // Watch connections from before the first one can happen.
        const std::string monitor_endpoint = "inproc://event_engine/monitor/" + name_;
        if (zmq_socket_monitor(router_.handle(), monitor_endpoint.c_str(),
                               ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED) != 0) {
            throw error{"event_engine: cannot monitor the port of external plugin '" + name_ +
                        "': " + zmq_strerror(zmq_errno())};
        }
        monitor_.set(zmq::sockopt::linger, 0);
        monitor_.connect(monitor_endpoint);
        bind_or_throw(router_, endpoint, "port of external plugin '" + name_ + "'");
        endpoint_ = router_.get(zmq::sockopt::last_endpoint);
    }

    ~external_bridge() { close_port(); }
    external_bridge(const external_bridge&) = delete;
    external_bridge& operator=(const external_bridge&) = delete;

    [[nodiscard]] const std::string& endpoint() const noexcept { return endpoint_; }

    /// Serves the process until it quits, vanishes, never comes, or the app stops.
    void serve(plugin_runtime& runtime)
    {
        // However the plugin ends (quit, gone, stop, never connected), its port closes
        // then, not when the whole application ends: a client that is still connected
        // sees the connection drop, and a late request is refused instead of never
        // being answered. The last reply (quit's) still goes out (linger).
        struct close_when_done {
            external_bridge* bridge;
            ~close_when_done() { bridge->close_port(); }
        } closer{this};
        const auto started = clock::now();
        for (;;) {
            const auto now = clock::now();
            if (runtime.stop_requested() && !stop_deadline_) stop_deadline_ = now + timing_.stop_grace;
            if (stop_deadline_ && now >= *stop_deadline_) return;
            if (!ever_connected_ && timing_.connect_timeout.count() > 0 && now >= started + timing_.connect_timeout) {
                throw error{"event_engine: external plugin '" + name_ + "' never connected to " + endpoint_ +
                            " within " + std::to_string(timing_.connect_timeout.count()) +
                            " ms; is its process running, on that port?"};
            }
            if (gone_deadline_ && now >= *gone_deadline_) {
                std::string why = "external plugin '" + name_ + "' disconnected without sending quit (no connection for " +
                                  std::to_string(timing_.disconnect_grace.count()) + " ms)";
                detail::log(log_level::warn, "{}", why);
                runtime.set_outcome(plugin_outcome::disconnected, std::move(why));
                return;
            }
            expire_waiters(now);
            serve_waiters(runtime);

            // Watch for events only when someone waits for them; otherwise they stay
            // queued, and the queue's bound holds publishers back. After a stop the
            // stop pipe stays readable, so it is left out then.
            std::vector<zmq::pollitem_t> items{{router_.handle(), 0, ZMQ_POLLIN, 0},
                                               {monitor_.handle(), 0, ZMQ_POLLIN, 0}};
            if (!waiters_.empty()) items.push_back({runtime.subscriber().handle(), 0, ZMQ_POLLIN, 0});
            if (!runtime.stop_requested()) items.push_back({nullptr, runtime.stop_fd(), ZMQ_POLLIN, 0});
            detail::poll(items.data(), items.size(), poll_timeout(started, clock::now()));

            if (items[1].revents & ZMQ_POLLIN) read_monitor();
            if (items[0].revents & ZMQ_POLLIN) {
                for (int handled = 0; handled < 64; ++handled) {
                    std::vector<zmq::message_t> parts;
                    if (!zmq::recv_multipart(router_, std::back_inserter(parts), zmq::recv_flags::dontwait)) break;
                    if (handle(runtime, parts) == verdict::quit) return;
                }
            }
        }
    }

private:
    enum class verdict { carry_on, quit };

    void close_port() noexcept
    {
        if (!router_) return;
        zmq_socket_monitor(router_.handle(), nullptr, 0);
        router_.close();
        monitor_.close();
    }

    struct waiter {
        std::vector<zmq::message_t> envelope; // routing id(s) and the REQ delimiter
        std::size_t most = 1;
        bool batch = false;
        std::optional<clock::time_point> deadline;
    };

    std::chrono::milliseconds poll_timeout(clock::time_point started, clock::time_point now) const
    {
        std::optional<clock::time_point> next;
        const auto consider = [&](std::optional<clock::time_point> when) {
            if (when && (!next || *when < *next)) next = when;
        };
        consider(stop_deadline_);
        consider(gone_deadline_);
        if (!ever_connected_ && timing_.connect_timeout.count() > 0) consider(started + timing_.connect_timeout);
        for (const auto& w : waiters_) consider(w.deadline);
        if (!next) return std::chrono::milliseconds{-1};
        return std::max(std::chrono::milliseconds{0}, std::chrono::ceil<std::chrono::milliseconds>(*next - now));
    }

    void read_monitor()
    {
        for (;;) {
            std::vector<zmq::message_t> event;
            if (!zmq::recv_multipart(monitor_, std::back_inserter(event), zmq::recv_flags::dontwait)) return;
            if (event.empty() || event[0].size() < sizeof(std::uint16_t)) continue;
            std::uint16_t id = 0;
            std::memcpy(&id, event[0].data(), sizeof id);
            if (id == ZMQ_EVENT_ACCEPTED) {
                ++connections_;
                gone_deadline_.reset();
            } else if (id == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
                // A ZeroMQ peer, not a bare TCP connection (a port probe or health
                // check): only now has the plugin's process connected.
                ever_connected_ = true;
            } else if (id == ZMQ_EVENT_DISCONNECTED && connections_ > 0) {
                if (--connections_ == 0 && ever_connected_) gone_deadline_ = clock::now() + timing_.disconnect_grace;
            }
        }
    }

    verdict handle(plugin_runtime& runtime, std::vector<zmq::message_t>& parts)
    {
        // A REQ client's request arrives as [routing id, empty delimiter, body].
        auto delimiter = std::find_if(parts.begin(), parts.end(), [](const zmq::message_t& m) { return m.size() == 0; });
        const bool has_delimiter = delimiter != parts.end();
        const auto body_begin = has_delimiter ? delimiter + 1 : parts.begin() + 1;
        std::vector<zmq::message_t> envelope;
        for (auto it = parts.begin(); it != body_begin; ++it) envelope.push_back(std::move(*it));

        if (parts.end() - body_begin != 1) {
            reject(runtime, envelope, "send one frame per request (a command, or an event: topic bytes then payload)");
            return verdict::carry_on;
        }
        zmq::message_t& body = *body_begin;
        if (body.size() == 0) {
            reject(runtime, envelope, "empty message; send a command or an event (topic bytes then payload)");
            return verdict::carry_on;
        }
        const auto request = protocol::parse(frame_view(body));
        switch (request.what) {
        case protocol::kind::next:
            waiters_.push_back({std::move(envelope), 1, false, std::nullopt});
            break;
        case protocol::kind::next_wait:
            waiters_.push_back({std::move(envelope), 1, false, clock::now() + request.wait});
            break;
        case protocol::kind::next_batch:
            waiters_.push_back({std::move(envelope), request.most, true, clock::now() + request.wait});
            break;
        case protocol::kind::quit:
            reply(envelope, protocol::quit_reply);
            detail::log(log_level::debug, "external plugin '{}' quit", name_);
            return verdict::quit;
        case protocol::kind::ping:
            reply(envelope, protocol::pong_reply);
            break;
        case protocol::kind::unknown_command:
        case protocol::kind::malformed:
            reject(runtime, envelope, std::string{request.problem});
            break;
        case protocol::kind::publish:
            publish(runtime, envelope, body);
            break;
        }
        serve_waiters(runtime);
        return verdict::carry_on;
    }

    void publish(plugin_runtime& runtime, std::vector<zmq::message_t>& envelope, zmq::message_t& event)
    {
        const std::string_view bytes = frame_view(event);
        const bool declared = std::any_of(publish_topics_.begin(), publish_topics_.end(),
                                          [&](std::string_view topic) { return bytes.starts_with(topic); });
        if (!declared) {
            std::string names;
            for (const auto name : publish_names_) names += (names.empty() ? "" : ", ") + std::string{name};
            reject(runtime, envelope,
                   "the message does not start with the topic of an event this plugin may publish (" +
                       (names.empty() ? std::string{"none declared"} : names) + "); nothing was published");
            return;
        }
        if (!runtime.publish(event)) {
            reject(runtime, envelope, "the application is stopping; the event was not published");
            return;
        }
        reply(envelope, protocol::published_reply);
    }

    void expire_waiters(clock::time_point now)
    {
        for (auto it = waiters_.begin(); it != waiters_.end();) {
            if (it->deadline && now >= *it->deadline) {
                reply(it->envelope, std::string_view{}); // empty: nothing arrived in time
                it = waiters_.erase(it);
            } else {
                ++it;
            }
        }
    }

    // Hands queued events to waiting clients, oldest request first.
    void serve_waiters(plugin_runtime& runtime)
    {
        std::vector<zmq::message_t> events;
        while (!waiters_.empty()) {
            waiter& next = waiters_.front();
            while (events.size() < next.most) {
                auto event = runtime.take_ready();
                if (!event) break;
                events.push_back(std::move(*event));
            }
            if (events.empty()) return;
            const auto count = events.size();
            if (send(next.envelope, events)) {
                runtime.count_delivered(count);
            } else {
                runtime.put_back(events); // the client has gone: keep the events for the next request
            }
            events.clear();
            waiters_.pop_front();
        }
    }

    bool send(std::vector<zmq::message_t>& envelope, std::vector<zmq::message_t>& frames)
    {
        try {
            for (auto& part : envelope) router_.send(part, zmq::send_flags::sndmore);
            for (std::size_t i = 0; i < frames.size(); ++i) {
                router_.send(frames[i], i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
            }
            return true;
        } catch (const zmq::error_t& failure) {
            if (failure.num() != EHOSTUNREACH) throw;
            return false; // ROUTER_MANDATORY: the requester is gone; nothing was sent
        }
    }

    void reply(std::vector<zmq::message_t>& envelope, std::string_view text)
    {
        std::vector<zmq::message_t> frames;
        frames.emplace_back(text.data(), text.size());
        (void)send(envelope, frames);
    }

    void reject(plugin_runtime& runtime, std::vector<zmq::message_t>& envelope, const std::string& why)
    {
        runtime.count_rejected();
        detail::log(log_level::warn, "external plugin '{}': request rejected: {}", name_, why);
        reply(envelope, std::string{protocol::error_prefix} + why);
    }

    std::string name_;
    std::span<const std::string_view> publish_topics_;
    std::span<const std::string_view> publish_names_;
    external_timing timing_;
    zmq::socket_t router_;
    zmq::socket_t monitor_;
    std::string endpoint_;
    std::deque<waiter> waiters_;
    int connections_ = 0;
    bool ever_connected_ = false;
    std::optional<clock::time_point> gone_deadline_;
    std::optional<clock::time_point> stop_deadline_;
};

} // namespace event_engine::detail
