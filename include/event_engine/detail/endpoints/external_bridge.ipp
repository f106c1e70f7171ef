#pragma once
// The definitions of external_bridge (detail/endpoints/external_bridge.hpp): included by that header in the
// header-only mode, compiled once into event_engine::compiled otherwise
// (src/event_engine.cpp; docs/design.md, "Separately compiled mode").

#include "event_engine/detail/endpoints/external_bridge.hpp"

#include "event_engine/detail/endpoints/endpoint.hpp"
#include "event_engine/detail/endpoints/log_throttle.hpp"
#include "event_engine/detail/endpoints/sockets.hpp"
#include "event_engine/detail/runtime/event_route.hpp"
#include "event_engine/detail/runtime/plugin_runtime.hpp"
#include "event_engine/detail/security/zap_handler.hpp"
#include "event_engine/detail/wire/external_protocol.hpp"
#include "event_engine/errors.hpp"
#include "event_engine/external_plugin.hpp"
#include "event_engine/log.hpp"

#include <zmq.hpp>
#include <zmq_addon.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <deque>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace event_engine::detail {

EVENT_ENGINE_DECL external_bridge::external_bridge(zmq::context_t& context, bridge_settings settings)
    : settings_{std::move(settings)}, name_{settings_.name}, router_{context, zmq::socket_type::router},
      monitor_{context, zmq::socket_type::pair}, epoch_{random_epoch()}
{
    router_.set(zmq::sockopt::router_mandatory, 1);
    router_.set(zmq::sockopt::linger, 1000); // let the last reply (quit's) reach the client
    router_.set(zmq::sockopt::sndhwm, unread_replies);
    router_.set(zmq::sockopt::rcvhwm, queued_requests);
    router_.set(zmq::sockopt::sndbuf, socket_buffer_bytes);
    router_.set(zmq::sockopt::rcvbuf, socket_buffer_bytes);
    router_.set(zmq::sockopt::maxmsgsize, settings_.max_message_size);
    router_.set(zmq::sockopt::ipv6, settings_.ipv6 ? 1 : 0);
    // TCP keepalive, not ZMTP heartbeats, notices a vanished host: with heartbeats,
    // a peer that floods requests can make libzmq 4.3.4 abort (upstream issue 4364).
    router_.set(zmq::sockopt::tcp_keepalive, 1);
    router_.set(zmq::sockopt::tcp_keepalive_idle, 5);
    router_.set(zmq::sockopt::tcp_keepalive_intvl, 1);
    router_.set(zmq::sockopt::tcp_keepalive_cnt, 5);
    if (settings_.curve_secret_key) make_curve_server(router_, *settings_.curve_secret_key, "plugin/" + name_);
    // Watch connections from before the first one can happen; read in every wait of
    // this thread.
    monitor_connections(router_, monitor_, "inproc://event_engine/monitor/plugin/" + name_,
                        "the port of external plugin '" + name_ + "'");
    bind_or_throw(router_, settings_.endpoint, "port of external plugin '" + name_ + "'");
    endpoint_ = router_.get(zmq::sockopt::last_endpoint);
}

EVENT_ENGINE_DECL void external_bridge::serve(plugin_runtime& runtime)
{
    // However the plugin ends (quit, gone, stop, never connected), its port closes
    // then, not when the whole application ends: a client that is still connected
    // sees the connection drop, and a late request is refused instead of never
    // being answered. The last reply (quit's) still goes out (linger).
    runtime_ = &runtime;
    struct close_when_done {
        external_bridge* bridge;
        ~close_when_done() { bridge->finish(); }
    } closer{this};
    runtime.while_publish_waits([this] { read_monitor(); });
    const auto started = clock::now();
    if (settings_.timing.connect_warning_interval.count() > 0) {
        next_connect_warning_ = deadline_after(started, settings_.timing.connect_warning_interval);
    }
    for (;;) {
        const auto now = clock::now();
        if (runtime.stop_requested() && !stop_deadline_)
            stop_deadline_ = deadline_after(now, settings_.timing.stop_grace);
        if (stop_deadline_ && now >= *stop_deadline_) return;
        const auto connect_timeout = settings_.timing.connect_timeout;
        if (!ever_connected_ && connect_timeout.count() > 0 && now >= deadline_after(started, connect_timeout)) {
            // No prefix and no name: plugin_error says "event_engine: plugin '<name>' failed: ".
            throw error{"its process never connected to " + endpoint_ + " within " +
                        std::to_string(connect_timeout.count()) +
                        " ms (external_options::connect_timeout); is it running, on that port?"};
        }
        if (!ever_connected_ && next_connect_warning_ && now >= *next_connect_warning_)
            warn_not_connected(started, now);
        if (gone_deadline_ && now >= *gone_deadline_) {
            std::string why = "external plugin '" + name_ + "' disconnected without sending quit (no connection for " +
                              std::to_string(settings_.timing.disconnect_grace.count()) + " ms)";
            detail::log(log_level::warn, "{}", why);
            runtime.set_outcome(plugin_outcome::disconnected, std::move(why));
            return;
        }
        fill();
        expire_waiters(now);
        serve_waiters();

        // Read the plugin's input whenever there is room for it (or always, when
        // dropping): past the limits, it stays queued in the engine and holds its
        // publishers back. After a stop the stop pipe stays readable, so it is left out then.
        std::vector<zmq::pollitem_t> items{{router_.handle(), 0, ZMQ_POLLIN, 0}, {monitor_.handle(), 0, ZMQ_POLLIN, 0}};
        bool input_asleep = false;
        bool input_ready = false;
        if (has_room() || settings_.when_full == full_policy::drop) {
            input_asleep = runtime.input_sleep();
            input_ready = !input_asleep; // an event is there already: only look at the port, then take it
            if (input_asleep) items.push_back({nullptr, runtime.input_fd(), ZMQ_POLLIN, 0});
        }
        if (!runtime.stop_requested()) items.push_back({nullptr, runtime.stop_fd(), ZMQ_POLLIN, 0});
        detail::poll(items.data(), items.size(),
                     input_ready ? std::chrono::milliseconds{0} : poll_timeout(started, clock::now()));
        if (input_asleep) runtime.input_woken();

        if (items[1].revents & ZMQ_POLLIN) read_monitor();
        if (items[0].revents & ZMQ_POLLIN) {
            for (int handled = 0; handled < 64; ++handled) {
                std::vector<zmq::message_t> parts;
                if (!zmq::recv_multipart(router_, std::back_inserter(parts), zmq::recv_flags::dontwait)) break;
                // Disconnects that happened before this request are known first, so
                // a reused descriptor is not mistaken for the old connection.
                read_monitor();
                if (handle(parts) == verdict::quit) return;
            }
        }
    }
}

EVENT_ENGINE_DECL std::uint64_t external_bridge::random_epoch()
{
    std::random_device entropy;
    return (std::uint64_t{entropy()} << 32) ^ entropy() ^
           static_cast<std::uint64_t>(clock::now().time_since_epoch().count());
}

EVENT_ENGINE_DECL void external_bridge::finish() noexcept
{
    close_port();
    try {
        // Everything held is unread: fetched but unacknowledged, or never sent.
        runtime_->count_unread(unacked_.size() + held_.size());
        unacked_.clear();
        held_.clear();
        for (auto& [reason, throttle] : logs_)
            throttle.flush(log_level::warn, "external plugin '" + name_ + "'", reason);
    } catch (...) {
    }
}

EVENT_ENGINE_DECL void external_bridge::close_port() noexcept
{
    if (!router_) return;
    zmq_socket_monitor(router_.handle(), nullptr, 0);
    router_.close();
    monitor_.close();
}

[[nodiscard]] EVENT_ENGINE_DECL bool external_bridge::has_room() const noexcept
{
    return held_events() < settings_.queue_limit && held_bytes_ < settings_.queue_byte_limit;
}

EVENT_ENGINE_DECL void external_bridge::fill()
{
    while (has_room() || settings_.when_full == full_policy::drop) {
        auto event = runtime_->take_ready_frame();
        if (!event) return;
        if (!has_room()) {
            runtime_->count_dropped();
            note("events dropped (queue full)", [&] {
                return fmt::format("external plugin '{}': its queue is full ({} events / {} bytes); events for it "
                                   "are dropped and counted (external_options::when_full = drop)",
                                   name_, settings_.queue_limit, settings_.queue_byte_limit);
            });
            continue;
        }
        held_bytes_ += event->size();
        held_.push_back(std::move(*event));
    }
}

EVENT_ENGINE_DECL std::chrono::milliseconds external_bridge::poll_timeout(clock::time_point started,
                                                                          clock::time_point now) const
{
    std::optional<clock::time_point> next;
    const auto consider = [&](std::optional<clock::time_point> when) {
        if (when && (!next || *when < *next)) next = when;
    };
    consider(stop_deadline_);
    consider(gone_deadline_);
    const auto connect_timeout = settings_.timing.connect_timeout;
    if (!ever_connected_ && connect_timeout.count() > 0) consider(deadline_after(started, connect_timeout));
    if (!ever_connected_) consider(next_connect_warning_);
    for (const auto& w : waiters_) consider(w.deadline);
    if (!next) return std::chrono::milliseconds{-1};
    return std::max(std::chrono::milliseconds{0}, std::chrono::ceil<std::chrono::milliseconds>(*next - now));
}

EVENT_ENGINE_DECL void external_bridge::read_monitor()
{
    while (const auto event = next_connection_event(monitor_)) {
        const int fd = event->fd;
        if (event->accepted) {
            live_connections_.insert(fd);
            continue;
        }
        live_connections_.erase(fd);
        std::erase_if(waiters_, [&](const waiter& w) { return w.fd == fd; }); // nobody to answer
        if (plugin_connections_.erase(fd) > 0 && plugin_connections_.empty()) start_gone_clock();
    }
}

EVENT_ENGINE_DECL void external_bridge::warn_not_connected(clock::time_point started, clock::time_point now)
{
    const auto waited = std::chrono::duration_cast<std::chrono::seconds>(now - started);
    detail::log(
        log_level::warn, "external plugin '{}' has not connected to {} yet (waiting {} s); still waiting{}", name_,
        endpoint_, waited.count(),
        settings_.timing.connect_timeout.count() > 0
            ? fmt::format(", up to external_options::connect_timeout ({} ms)", settings_.timing.connect_timeout.count())
            : std::string{" as long as it takes"});
    next_connect_warning_ = deadline_after(now, settings_.timing.connect_warning_interval);
}

EVENT_ENGINE_DECL void external_bridge::count_as_plugin(int fd)
{
    ever_connected_ = true;
    if (fd < 0 || live_connections_.contains(fd)) {
        gone_deadline_.reset();
        if (fd >= 0) plugin_connections_.insert(fd);
    } else if (plugin_connections_.empty() && !gone_deadline_) {
        start_gone_clock(); // it came and went at once
    }
}

EVENT_ENGINE_DECL external_bridge::verdict external_bridge::handle(std::vector<zmq::message_t>& parts)
{
    const std::string peer{frame_view(parts.front())};
    if (cut_off_.contains(peer)) {
        runtime_->count_ignored();
        note("requests ignored (cut-off peers)", [&] {
            return fmt::format("external plugin '{}': ignoring requests from a peer that was cut off for not "
                               "reading its replies",
                               name_);
        });
        return verdict::carry_on;
    }
    // A REQ client's request arrives as [routing id, empty delimiter, body]. A batch's
    // events may be empty frames themselves: one that comes without a delimiter (a
    // DEALER's) starts right after the routing id.
    const bool undelimited_batch = parts.size() > 2 && frame_view(parts[1]).starts_with(protocol::publish_batch);
    auto delimiter = undelimited_batch ? parts.end()
                                       : std::find_if(parts.begin(), parts.end(),
                                                      [](const zmq::message_t& m) { return m.size() == 0; });
    const auto body_begin = delimiter != parts.end() ? delimiter + 1 : parts.begin() + 1;
    std::vector<zmq::message_t> envelope;
    for (auto it = parts.begin(); it != body_begin; ++it) envelope.push_back(std::move(*it));

    if (parts.end() - body_begin > 1 && frame_view(*body_begin).starts_with(protocol::publish_batch)) {
        publish_batch(peer, envelope, std::span{body_begin, parts.end()});
        serve_waiters();
        return verdict::carry_on;
    }
    if (parts.end() - body_begin != 1) {
        reject(envelope, "not one frame",
               "send one frame per request (a command, or an event: topic bytes then payload), or "
               "'plugin_command: publish_batch <session> <sequence>' followed by the events");
        return verdict::carry_on;
    }
    zmq::message_t& body = *body_begin;
    const int fd = zmq_msg_get(body.handle(), ZMQ_SRCFD); // -1 if unknown
    if (settings_.curve_secret_key) count_as_plugin(fd);  // only the plugin's key gets this far
    if (body.size() == 0) {
        reject(envelope, "empty message", "empty message; send a command or an event (topic bytes then payload)");
        return verdict::carry_on;
    }
    const auto request = protocol::parse(frame_view(body));
    if (log_enabled(log_level::trace)) {
        detail::log(log_level::trace, "external plugin '{}': request '{}' ({} bytes, connection fd {})", name_,
                    printable(frame_view(body)), body.size(), fd);
    }
    switch (request.what) {
    case protocol::kind::next:
        count_as_plugin(fd);
        park({peer, fd, std::move(envelope), fetch_style::single, 1, std::nullopt, 0});
        break;
    case protocol::kind::next_wait:
        count_as_plugin(fd);
        park({peer, fd, std::move(envelope), fetch_style::single, 1, clock::now() + request.wait, 0});
        break;
    case protocol::kind::next_batch:
        count_as_plugin(fd);
        park({peer, fd, std::move(envelope), fetch_style::batch, request.most, clock::now() + request.wait, 0});
        break;
    case protocol::kind::fetch:
        count_as_plugin(fd);
        acknowledge(request.ack);
        park({peer, fd, std::move(envelope), fetch_style::acknowledged, request.most, clock::now() + request.wait,
              request.have});
        break;
    case protocol::kind::ack:
        count_as_plugin(fd);
        acknowledge(request.ack);
        reply(peer, envelope, std::string{protocol::acknowledged_reply} + std::to_string(request.ack));
        break;
    case protocol::kind::quit:
        count_as_plugin(fd);
        reply(peer, envelope, protocol::quit_reply);
        detail::log(log_level::debug, "external plugin '{}' quit", name_);
        return verdict::quit;
    case protocol::kind::ping: reply(peer, envelope, protocol::pong_reply); break;
    case protocol::kind::manifest: // anyone's request, like ping: it does not make a connection the plugin's
        if (manifest_) reply(peer, envelope, *manifest_);
        else reject(envelope, "no manifest", std::string{protocol::manifest_unavailable});
        break;
    case protocol::kind::unknown_command: reject(envelope, "unknown command", std::string{request.problem}); break;
    case protocol::kind::malformed: reject(envelope, "malformed command", std::string{request.problem}); break;
    case protocol::kind::publish_batch:
        reject(envelope, "empty batch",
               "a batch carries its events in the frames after 'plugin_command: publish_batch <session> "
               "<sequence>': 1 to " +
                   std::to_string(protocol::largest_batch) + " of them; this one has none");
        break;
    case protocol::kind::publish: publish(peer, envelope, body, fd); break;
    }
    serve_waiters();
    return verdict::carry_on;
}

EVENT_ENGINE_DECL void external_bridge::park(waiter w)
{
    // A new request from the same connection supersedes its old one (a REQ
    // client cannot have two; a relaxed one no longer wants the first answer).
    std::erase_if(waiters_, [&](const waiter& other) { return other.peer == w.peer; });
    if (waiters_.size() >= most_waiting) {
        reject(w.envelope, "too many waiting",
               "too many fetches are waiting on this plugin's port (" + std::to_string(most_waiting) + ")");
        return;
    }
    waiters_.push_back(std::move(w));
}

[[nodiscard]] EVENT_ENGINE_DECL bool external_bridge::reply_has_room(std::size_t count, std::size_t bytes,
                                                                     std::size_t next) const noexcept
{
    return count == 0 || settings_.max_message_size < 0 ||
           bytes + next <= static_cast<std::size_t>(settings_.max_message_size);
}

EVENT_ENGINE_DECL void external_bridge::publish(const std::string& peer, std::vector<zmq::message_t>& envelope,
                                                zmq::message_t& event, int fd)
{
    if (!may_publish(frame_view(event))) {
        reject(envelope, "undeclared topic",
               "the message does not start with " + undeclared_topic_reason() + "; nothing was published");
        return;
    }
    count_as_plugin(fd);
    // During a stop the subscribers are ending: refuse rather than acknowledge
    // an event that nobody would receive.
    if (runtime_->stop_requested() || !runtime_->publish(event)) {
        reject(envelope, "stopping", "the application is stopping; the event was not published");
        return;
    }
    reply(peer, envelope, protocol::published_reply);
}

[[nodiscard]] EVENT_ENGINE_DECL bool external_bridge::may_publish(std::string_view event) const noexcept
{
    return topic_starting(settings_.publish_topics, event).has_value();
}

[[nodiscard]] EVENT_ENGINE_DECL std::string external_bridge::undeclared_topic_reason() const
{
    std::string names;
    for (const auto name : settings_.publish_names) names += (names.empty() ? "" : ", ") + std::string{name};
    return "the topic of an event this plugin may publish (" + (names.empty() ? std::string{"none declared"} : names) +
           ")";
}

EVENT_ENGINE_DECL void external_bridge::publish_batch(const std::string& peer, std::vector<zmq::message_t>& envelope,
                                                      std::span<zmq::message_t> frames)
{
    const auto request = protocol::parse(frame_view(frames.front()));
    if (request.what != protocol::kind::publish_batch) {
        reject(envelope, "malformed command", std::string{request.problem});
        return;
    }
    const auto events = frames.subspan(1);
    // Whole batches are refused before anything is published: too many events, or too
    // many bytes (each frame is bounded by max_message_size in ZeroMQ; the batch as a
    // whole by the same bound here).
    if (events.size() > protocol::largest_batch) {
        reject(envelope, "batch too large",
               fmt::format("a batch carries at most {} events; this one has {}: nothing was published; send "
                           "smaller batches",
                           protocol::largest_batch, events.size()));
        return;
    }
    std::size_t bytes = 0;
    for (const auto& event : events) bytes += event.size();
    if (settings_.max_message_size >= 0 && bytes > static_cast<std::size_t>(settings_.max_message_size)) {
        reject(envelope, "batch too large",
               fmt::format("the batch's events hold {} bytes, more than the application's max_message_size ({}): "
                           "nothing was published; send smaller batches",
                           bytes, settings_.max_message_size));
        return;
    }
    const int fd = zmq_msg_get(frames.front().handle(), ZMQ_SRCFD);
    if (settings_.curve_secret_key) count_as_plugin(fd); // only the plugin's key gets this far
    if (log_enabled(log_level::trace)) {
        detail::log(log_level::trace,
                    "external plugin '{}': publish batch {} of {} events ({} bytes, connection fd {})", name_,
                    request.ack, events.size(), bytes, fd);
    }
    const auto send_reply = [&](const std::vector<std::string>& reply) {
        std::vector<zmq::message_t> parts;
        parts.reserve(reply.size());
        for (const auto& part : reply) parts.emplace_back(part.data(), part.size());
        (void)send(peer, envelope, parts);
    };
    // A batch sent again (its reply was lost) is answered as the first time, and not
    // published again; an older one is a client's mistake.
    const auto known = batches_.find(request.session);
    if (known != batches_.end() && request.ack <= known->second.sequence) {
        if (request.ack < known->second.sequence) {
            reject(envelope, "stale batch",
                   fmt::format("batch {} of this session comes after batch {} of it; sequence numbers must grow: "
                               "nothing was published",
                               request.ack, known->second.sequence));
            return;
        }
        if (known->second.accepted_any) count_as_plugin(fd);
        known->second.last_used = ++batch_clock_;
        runtime_->count_repeated();
        send_reply(known->second.reply);
        return;
    }

    // Each event in order: refused ones are said in runs of one reason; a stop refuses
    // the event it hits and every later one (nobody would receive them).
    struct refused_run {
        std::size_t first;
        std::size_t last;
        std::string_view reason;
    };
    static constexpr std::string_view stopping_reason = "the application is stopping; not published";
    static constexpr std::string_view empty_reason = "an empty frame is not an event";
    const std::string undeclared_reason = "it does not start with " + undeclared_topic_reason();
    const auto check = [&](const zmq::message_t& event) -> std::string_view {
        if (event.size() == 0) return empty_reason;
        if (!may_publish(frame_view(event))) return undeclared_reason;
        return {};
    };
    // The reply names every run of refusals, so their number is bounded before anything is
    // published: a batch whose refusals alternate would otherwise make a reply of a frame
    // per event, many times the request's size, for a peer that may never read it.
    std::size_t runs = 0;
    std::string_view previous;
    for (const auto& event : events) {
        const auto reason = check(event);
        if (!reason.empty() && reason != previous) ++runs;
        previous = reason;
    }
    if (runs > most_refusal_runs) {
        reject(envelope, "batch too scattered",
               fmt::format("the batch's refused events form {} runs, more than {}: nothing was published; "
                           "send events this plugin may publish",
                           runs, most_refusal_runs));
        return;
    }
    std::vector<refused_run> refused;
    std::size_t accepted = 0;
    bool stopping = false;
    for (std::size_t i = 0; i < events.size(); ++i) {
        std::string_view reason;
        zmq::message_t& event = events[i];
        if (stopping) {
            reason = stopping_reason;
        } else if (reason = check(event); reason.empty()) {
            count_as_plugin(fd);
            if (!runtime_->stop_requested() && runtime_->publish(event)) {
                ++accepted;
                continue;
            }
            stopping = true;
            reason = stopping_reason;
        }
        runtime_->count_refused();
        if (!refused.empty() && refused.back().last + 1 == i && refused.back().reason == reason) {
            refused.back().last = i;
        } else {
            refused.push_back({i, i, reason});
        }
    }
    std::vector<std::string> reply;
    reply.reserve(1 + refused.size());
    reply.push_back(
        fmt::format("{}{} {} {}", protocol::batch_published_reply, request.ack, accepted, events.size() - accepted));
    for (const auto& run : refused) {
        reply.push_back(fmt::format("{} {} {}", run.first, run.last, run.reason));
        // No session name in the log: it is how a client's retries are recognised.
        note("events refused in batches (" + std::string{run.reason} + ")", [&] {
            return fmt::format("external plugin '{}': events {} to {} of a batch refused: {}", name_, run.first,
                               run.last, run.reason);
        });
    }
    remember_batch(request.session, request.ack, reply, accepted > 0);
    send_reply(reply);
}

EVENT_ENGINE_DECL void external_bridge::remember_batch(std::string_view session, std::uint64_t sequence,
                                                       const std::vector<std::string>& reply, bool accepted_any)
{
    const auto size_of = [](const std::vector<std::string>& frames) {
        std::size_t bytes = 0;
        for (const auto& frame : frames) bytes += frame.size();
        return bytes;
    };
    const auto forget = [&](auto where) {
        batches_bytes_ -= size_of(where->second.reply);
        batches_.erase(where);
    };
    if (const auto old = batches_.find(session); old != batches_.end()) forget(old);
    const std::size_t bytes = size_of(reply);
    // Too large to keep (a reply of thousands of refusal runs): a retry of this batch is
    // published again (docs/protocol.md).
    if (bytes > remembered_reply_bytes) return;
    while (!batches_.empty() && (batches_.size() >= remembered_sessions || batches_bytes_ + bytes > remembered_bytes)) {
        forget(std::min_element(batches_.begin(), batches_.end(),
                                [](const auto& a, const auto& b) { return a.second.last_used < b.second.last_used; }));
    }
    batches_.emplace(std::string{session}, remembered_batch{sequence, reply, accepted_any, ++batch_clock_});
    batches_bytes_ += bytes;
}

EVENT_ENGINE_DECL void external_bridge::acknowledge(std::uint64_t last)
{
    while (!unacked_.empty() && first_unacked_ <= last) {
        held_bytes_ -= unacked_.front().size();
        unacked_.pop_front();
        ++first_unacked_;
        runtime_->count_delivered(1);
    }
}

EVENT_ENGINE_DECL void external_bridge::expire_waiters(clock::time_point now)
{
    std::vector<waiter> expired;
    for (auto it = waiters_.begin(); it != waiters_.end();) {
        if (it->deadline && now >= *it->deadline) {
            expired.push_back(std::move(*it));
            it = waiters_.erase(it);
        } else {
            ++it;
        }
    }
    for (auto& w : expired) {
        // Nothing arrived in time: an empty frame, or for fetch the header alone.
        std::vector<zmq::message_t> frames;
        if (w.style == fetch_style::acknowledged) frames.push_back(fetch_header(first_unacked_ + unacked_.size()));
        else frames.emplace_back();
        (void)send(w.peer, w.envelope, frames);
    }
}

EVENT_ENGINE_DECL void external_bridge::serve_waiters()
{
    const auto servable = [&](const waiter& w) {
        return !held_.empty() || (w.style == fetch_style::acknowledged && first_not_held(w.have) < unacked_.size());
    };
    // Serving may cut a peer off, which edits waiters_: look again from the front each time.
    for (auto it = std::find_if(waiters_.begin(), waiters_.end(), servable); it != waiters_.end();
         it = std::find_if(waiters_.begin(), waiters_.end(), servable)) {
        waiter w = std::move(*it);
        waiters_.erase(it);
        if (w.style == fetch_style::acknowledged) serve_fetch(w);
        else serve_at_most_once(w);
    }
}

EVENT_ENGINE_DECL void external_bridge::serve_at_most_once(waiter& w)
{
    std::vector<zmq::message_t> events;
    std::size_t bytes = 0;
    while (events.size() < w.most && !held_.empty() && reply_has_room(events.size(), bytes, held_.front().size())) {
        bytes += held_.front().size();
        held_bytes_ -= held_.front().size();
        events.push_back(std::move(held_.front()));
        held_.pop_front();
    }
    const auto count = events.size();
    if (send(w.peer, w.envelope, events) == sent::ok) {
        runtime_->count_delivered(count);
        return;
    }
    // Not sent (the client has gone or was cut off): keep them for the next request.
    for (auto event = events.rbegin(); event != events.rend(); ++event) {
        held_bytes_ += event->size();
        held_.push_front(std::move(*event));
    }
}

EVENT_ENGINE_DECL void external_bridge::serve_fetch(waiter& w)
{
    // What the client holds already (events it received and has not acknowledged yet:
    // it fetches ahead while it works) is not sent again; the rest of the unacknowledged
    // events go first, with their numbers, then new ones.
    const std::size_t skip = first_not_held(w.have);
    std::vector<zmq::message_t> frames;
    frames.push_back(fetch_header(first_unacked_ + skip));
    std::size_t bytes = 0;
    const auto room = [&](const zmq::message_t& next) {
        return frames.size() <= w.most && reply_has_room(frames.size() - 1, bytes, next.size());
    };
    for (std::size_t i = skip; i < unacked_.size() && room(unacked_[i]); ++i) {
        bytes += unacked_[i].size();
        frames.emplace_back().copy(unacked_[i]);
    }
    while (!held_.empty() && room(held_.front())) {
        bytes += held_.front().size();
        frames.emplace_back().copy(held_.front());
        unacked_.push_back(std::move(held_.front()));
        held_.pop_front();
    }
    (void)send(w.peer, w.envelope, frames); // not sent: the events stay unacknowledged
}

EVENT_ENGINE_DECL zmq::message_t external_bridge::fetch_header(std::uint64_t first) const
{
    const std::string text = fmt::format("{}{} {:016x}", protocol::events_header, first, epoch_);
    return zmq::message_t{text.data(), text.size()};
}

EVENT_ENGINE_DECL external_bridge::sent external_bridge::send(const std::string& peer,
                                                              std::vector<zmq::message_t>& envelope,
                                                              std::vector<zmq::message_t>& frames)
{
    if (cut_off_.contains(peer)) return sent::full;
    try {
        // Never waits: a full queue fails at the first frame, before anything is sent.
        // Before concluding the peer does not read, let ZeroMQ process its pending
        // "the peer took some" notices, and try once more.
        bool first = true;
        for (auto& part : envelope) {
            if (router_.send(part, zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
                first = false;
                continue;
            }
            (void)router_.get(zmq::sockopt::events);
            if (!first || !router_.send(part, zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
                return cut_off(peer);
            }
            first = false;
        }
        for (std::size_t i = 0; i < frames.size(); ++i) {
            (void)router_.send(frames[i], i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
        }
        return sent::ok;
    } catch (const zmq::error_t& failure) {
        // EHOSTUNREACH (ROUTER_MANDATORY): the requester is gone. Anything else but the
        // context ending (e.g. EINTR) is treated alike: nothing was sent, the events are kept.
        if (failure.num() == ETERM) throw;
        return sent::gone;
    }
}

EVENT_ENGINE_DECL external_bridge::sent external_bridge::cut_off(const std::string& peer)
{
    cut_off_.insert(peer);
    cut_off_order_.push_back(peer);
    if (cut_off_order_.size() > 4096) { // routing ids are never reused; keep the newest
        cut_off_.erase(cut_off_order_.front());
        cut_off_order_.pop_front();
    }
    std::erase_if(waiters_, [&](const waiter& w) { return w.peer == peer; });
    runtime_->count_cut_off();
    note("peers cut off", [&] {
        return fmt::format("external plugin '{}': a peer left {} replies unread (a REQ client never does); it is "
                           "cut off and its requests are ignored",
                           name_, unread_replies);
    });
    return sent::full;
}

EVENT_ENGINE_DECL void external_bridge::reply(const std::string& peer, std::vector<zmq::message_t>& envelope,
                                              std::string_view text)
{
    std::vector<zmq::message_t> frames;
    frames.emplace_back(text.data(), text.size());
    (void)send(peer, envelope, frames);
}

EVENT_ENGINE_DECL void external_bridge::reject(std::vector<zmq::message_t>& envelope, const std::string& reason,
                                               const std::string& why)
{
    runtime_->count_rejected();
    note("requests rejected (" + reason + ")",
         [&] { return fmt::format("external plugin '{}': request rejected: {}", name_, why); });
    const std::string peer{envelope.empty() ? std::string_view{} : frame_view(envelope.front())};
    reply(peer, envelope, std::string{protocol::error_prefix} + why);
}

} // namespace event_engine::detail
