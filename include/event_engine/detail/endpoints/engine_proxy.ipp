#pragma once
// The definitions of engine_proxy (detail/endpoints/engine_proxy.hpp): included by that header in the
// header-only mode, compiled once into event_engine::compiled otherwise
// (src/event_engine.cpp; docs/design.md, "Separately compiled mode").

#include "event_engine/detail/endpoints/engine_proxy.hpp"

#include "event_engine/detail/endpoints/endpoint.hpp"
#include "event_engine/detail/endpoints/log_throttle.hpp"
#include "event_engine/detail/endpoints/sockets.hpp"
#include "event_engine/detail/runtime/event_bus.hpp"
#include "event_engine/detail/runtime/wake_pipe.hpp"
#include "event_engine/detail/security/zap_handler.hpp"
#include "event_engine/detail/wire/control.hpp"
#include "event_engine/log.hpp"

#include <zmq.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <iterator>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

namespace event_engine::detail {

EVENT_ENGINE_DECL engine_proxy::engine_proxy(zmq::context_t& context, proxy_settings settings, event_bus& bus)
    : settings_{std::move(settings)}, bus_{&bus}, incoming_tcp_{context, zmq::socket_type::xsub},
      outgoing_tcp_{context, zmq::socket_type::xpub}, tcp_monitor_{context, zmq::socket_type::pair},
      publish_monitor_{context, zmq::socket_type::pair}
{
    incoming_tcp_.set(zmq::sockopt::linger, 0);
    // What the subscribe port was given just before run() ends still goes out to its
    // subscribers, for at most this long (a subscriber that does not read holds the
    // shutdown no longer than that): with typed delivery the last events of a fast
    // application reach the port microseconds before it closes.
    outgoing_tcp_.set(zmq::sockopt::linger, subscribe_port_linger_ms);
    incoming_tcp_.set(zmq::sockopt::rcvhwm, settings_.high_water_mark);
    outgoing_tcp_.set(zmq::sockopt::sndhwm, settings_.high_water_mark);
    for (auto* socket : {&incoming_tcp_, &outgoing_tcp_}) socket->set(zmq::sockopt::ipv6, settings_.host.ipv6 ? 1 : 0);
    incoming_tcp_.set(zmq::sockopt::maxmsgsize, settings_.max_message_size);
    // All a subscriber sends is subscriptions; each costs memory in ZeroMQ's trie
    // until it disconnects, so none may be longer than this (docs/security.md).
    outgoing_tcp_.set(zmq::sockopt::maxmsgsize, std::int64_t{max_subscription_size});
    if (settings_.curve_secret_key) {
        make_curve_server(incoming_tcp_, *settings_.curve_secret_key, "publish");
        make_curve_server(outgoing_tcp_, *settings_.curve_secret_key, "subscribe");
    }
    // Who is connected to the subscribe port, from the engine's own monitor: no
    // frame a peer sends can change it.
    // Read in every wait of the proxy.
    monitor_connections(outgoing_tcp_, tcp_monitor_, "inproc://event_engine/monitor/subscribe-port",
                        "the subscribe port");
    // Which publish-port connections close, so that their refusal counts are forgotten
    // (a confirmation is answered with the count of the connection that sent it).
    monitor_connections(incoming_tcp_, publish_monitor_, "inproc://event_engine/monitor/publish-port",
                        "the publish port");

    bind_or_throw(incoming_tcp_, tcp_endpoint(settings_.host, settings_.publish_port),
                  "publish port (app_config::publish_port)");
    bind_or_throw(outgoing_tcp_, tcp_endpoint(settings_.host, settings_.subscribe_port),
                  "subscribe port (app_config::subscribe_port)");
    publish_tcp_ = incoming_tcp_.get(zmq::sockopt::last_endpoint);
    subscribe_tcp_ = outgoing_tcp_.get(zmq::sockopt::last_endpoint);

    // Every TCP publisher sends everything to the engine, which checks it.
    const char subscribe_all = 1;
    incoming_tcp_.send(zmq::buffer(&subscribe_all, 1));
}

EVENT_ENGINE_DECL void engine_proxy::run() noexcept
{
    try {
        forward_until_finished();
    } catch (const zmq::error_t& failure) {
        if (failure.num() != ETERM) detail::log(log_level::error, "engine proxy stopped: {}", failure.what());
    }
    refused_log_.flush(log_level::warn, "publish port", "frames refused");
}

EVENT_ENGINE_DECL void engine_proxy::finish() noexcept
{
    finishing_.store(true);
    finish_pipe_.signal();
}

EVENT_ENGINE_DECL void engine_proxy::forward_until_finished()
{
    inbox& outbox = bus_->tcp_outbox();
    zmq::pollitem_t items[] = {
        {incoming_tcp_.handle(), 0, ZMQ_POLLIN, 0},    {outgoing_tcp_.handle(), 0, ZMQ_POLLIN, 0},
        {tcp_monitor_.handle(), 0, ZMQ_POLLIN, 0},     {nullptr, finish_pipe_.read_fd(), ZMQ_POLLIN, 0},
        {publish_monitor_.handle(), 0, ZMQ_POLLIN, 0}, {nullptr, outbox.wake_fd(), ZMQ_POLLIN, 0}};
    zmq::message_t frame;
    for (;;) {
        const bool asleep = outbox.sleep();
        detail::poll(items, std::size(items), std::chrono::milliseconds{asleep ? -1 : 0});
        if (asleep) outbox.woken();
        // Subscription messages say which events the subscribe port's peers want;
        // anything else a peer sends there is ignored.
        if (items[1].revents & ZMQ_POLLIN) read_subscriptions();
        if (items[2].revents & ZMQ_POLLIN) read_monitor();
        if (items[4].revents & ZMQ_POLLIN) read_publish_monitor();
        send_outbox();
        // Every plugin has ended: TCP publishers are not waited for (their frames were
        // never counted as published).
        if (finishing_.load()) return;
        for (int batch = 0; batch < 32 && incoming_tcp_.recv(frame, zmq::recv_flags::dontwait); ++batch) {
            if (!answer_confirm(frame) && admit_from_tcp(frame)) deliver(frame);
            send_outbox();
        }
    }
}

EVENT_ENGINE_DECL void engine_proxy::send_outbox()
{
    inbox& outbox = bus_->tcp_outbox();
    envelope item;
    while (outbox.try_pop(item)) {
        zmq::message_t message = message_of(item.frame);
        item = envelope{};
        (void)outgoing_tcp_.send(message, zmq::send_flags::dontwait); // never blocks: no XPUB_NODROP
        if (tcp_peers_ > 0) ++tcp_offered_;
    }
}

EVENT_ENGINE_DECL void engine_proxy::read_subscriptions()
{
    zmq::message_t message;
    bool changed = false;
    while (outgoing_tcp_.recv(message, zmq::recv_flags::dontwait)) {
        const std::string_view bytes = frame_view(message);
        if (bytes.empty() || (bytes[0] != 0 && bytes[0] != 1)) continue;
        std::string prefix{bytes.substr(1)};
        if (bytes[0] == 1) {
            ++tcp_subscriptions_[std::move(prefix)];
        } else if (const auto it = tcp_subscriptions_.find(prefix); it != tcp_subscriptions_.end()) {
            if (--it->second <= 0) tcp_subscriptions_.erase(it);
        }
        changed = true;
    }
    if (!changed) return;
    // A subscription matches an event if either is a prefix of the other (ZeroMQ's
    // match is on the frame: topic and payload).
    const auto topics = bus_->events().topics;
    for (std::size_t e = 0; e < topics.size(); ++e) {
        bool wanted = false;
        for (const auto& [prefix, count] : tcp_subscriptions_) {
            if (topics[e].starts_with(prefix) || std::string_view{prefix}.starts_with(topics[e])) {
                wanted = true;
                break;
            }
        }
        bus_->want_tcp(e, wanted);
    }
}

EVENT_ENGINE_DECL void engine_proxy::deliver(zmq::message_t& frame)
{
    const auto event = bus_->event_of(frame_view(frame)); // admitted: it starts with an event's topic
    if (!event) return;
    envelope item = bus_->admit(*event, share_frame(std::move(frame)));
    const event_route& route = bus_->route(*event);
    if (bus_->tcp_wanted(*event)) bus_->offer_tcp(*event, item.frame);
    fan_out(route, item, [this](std::uint32_t station, envelope& sent, bool) {
        inbox& to = bus_->input(station);
        // Waits while the subscriber is full, as a plugin's publish does; it ends either
        // by reading or, when it ends, by closing (every plugin ends at a stop).
        const auto result = push_waiting(to, sent, [&](unsigned round) {
            if (round % 64 == 63) read_monitor();
            return wait_verdict::wait;
        });
        if (result == inbox::push_result::closed) to.count_after_end();
        return true;
    });
}

EVENT_ENGINE_DECL void engine_proxy::read_monitor()
{
    while (const auto event = next_connection_event(tcp_monitor_)) {
        if (event->accepted) ++tcp_peers_;
        else if (tcp_peers_ > 0) --tcp_peers_;
    }
}

EVENT_ENGINE_DECL void engine_proxy::read_publish_monitor()
{
    while (const auto event = next_connection_event(publish_monitor_)) {
        // Accepted or closed: either way, what that descriptor's counts said is over.
        refusals_.erase(event->fd);
        if (event->accepted) {
            ++publish_connections_;
        } else if (publish_connections_ > 0) {
            --publish_connections_;
            if (publish_connections_ == 0) untracked_refusals_ = 0; // nobody left who may be owed one
        }
    }
}

EVENT_ENGINE_DECL void engine_proxy::count_refusal(const zmq::message_t& frame, const char* why)
{
    read_publish_monitor();
    auto& message = const_cast<zmq::message_t&>(frame);
    const int fd = zmq_msg_get(message.handle(), ZMQ_SRCFD);
    const char* user = zmq_msg_gets(message.handle(), "User-Id");
    const std::string_view user_id = user != nullptr ? user : "";
    auto entry = refusals_.find(fd);
    if (entry != refusals_.end() && entry->second.user_id != user_id) {
        refusals_.erase(entry); // the descriptor is another publisher's now
        entry = refusals_.end();
    }
    if (entry == refusals_.end()) {
        if (fd < 0 || refusals_.size() >= max_tracked_publishers) {
            ++untracked_refusals_;
            return;
        }
        entry = refusals_.emplace(fd, connection_refusals{std::string{user_id}, 0, why, untracked_refusals_ > 0}).first;
    }
    ++entry->second.count;
}

EVENT_ENGINE_DECL bool engine_proxy::admit_from_tcp(const zmq::message_t& frame)
{
    const std::string_view bytes = frame_view(frame);
    const auto starts = [&](std::span<const std::string_view> topics) {
        return topic_starting(topics, bytes).has_value();
    };
    const char* why = nullptr;
    if (!starts(settings_.app_topics)) {
        why = "it does not start with the topic of an event of the application";
    } else if (!settings_.publisher_topics.empty()) {
        const char* user = zmq_msg_gets(const_cast<zmq::message_t&>(frame).handle(), "User-Id");
        std::string_view publisher = user != nullptr ? user : "";
        publisher = publisher.substr(0, publisher.find('#')); // "publisher/<i>#<connection>"
        const auto allowed = settings_.publisher_topics.find(std::string{publisher});
        if (allowed != settings_.publisher_topics.end() && !starts(allowed->second)) {
            why = "its publisher's key is not allowed to publish that event";
        }
    }
    if (why == nullptr) return true;
    // Told only to the connection that sent it, when it asks (answer_confirm).
    count_refusal(frame, why);
    refused_log_.note(log_level::warn, "publish port", "frames refused", [&] {
        return fmt::format("publish port: refused a frame of {} bytes: {} (counted in "
                           "run_report::tcp_publishes_refused)",
                           bytes.size(), why);
    });
    return false;
}

EVENT_ENGINE_DECL bool engine_proxy::answer_confirm(const zmq::message_t& frame)
{
    std::string_view bytes = frame_view(frame);
    if (!bytes.starts_with(control_prefix) || !bytes.substr(control_prefix.size()).starts_with(confirm_marker)) {
        return false;
    }
    bytes.remove_prefix(control_prefix.size() + confirm_marker.size());
    if (bytes.size() > max_confirm_token) return false; // refused as a control frame
    read_publish_monitor();
    auto& message = const_cast<zmq::message_t&>(frame);
    const int fd = zmq_msg_get(message.handle(), ZMQ_SRCFD);
    const char* user = zmq_msg_gets(message.handle(), "User-Id");
    const std::string_view user_id = user != nullptr ? user : "";
    std::string refused = untracked_refusals_ > 0 ? "?" : "0";
    const char* first_reason = "";
    if (const auto entry = refusals_.find(fd); entry != refusals_.end()) {
        if (entry->second.user_id == user_id) {
            refused = entry->second.uncertain ? "?" : std::to_string(entry->second.count);
            first_reason = entry->second.first_reason;
        }
        refusals_.erase(entry); // counted from here on afresh
    }
    // The token is the asker's own random text: the notice, which every publisher gets,
    // names no publisher and no frame.
    tell_publishers(std::string{control_prefix} + std::string{confirmed_marker} + std::string{bytes} + "/" + refused +
                    "/" + first_reason);
    return true;
}

EVENT_ENGINE_DECL void engine_proxy::tell_publishers(const std::string& notice)
{
    // XSUB: a message that is not a (un)subscription goes upstream to every publisher;
    // one whose queue is full misses it (it then cannot confirm, and says so). libzmq
    // 4.3.4's xsub_t::xsend -> dist_t::send_to_all writes to each pipe without waiting and
    // drops the message for a full one: this never blocks on a publisher that does not read.
    (void)incoming_tcp_.send(zmq::buffer(notice), zmq::send_flags::dontwait);
}

} // namespace event_engine::detail
