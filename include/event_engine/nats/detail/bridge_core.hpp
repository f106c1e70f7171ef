#pragma once
// The untyped back end of a NATS bridge: the connection, JetStream set-up, sending
// with sequence numbers and (JetStream) acknowledgements and retries, receiving and
// checking what arrives, and the counters. The typed front (nats/bridge.hpp)
// encodes, decodes and publishes into the application; keeping this part
// non-template keeps each bridge's own code small.
//
// Threads: the bridge's two plugin threads (out: sends; in: receives) and libnats'
// threads, which call back only for connection events and JetStream publish acks.
// Those callbacks touch only `shared_state`, owned jointly with them, and never wait.

#include "event_engine/detail/endpoints/log_throttle.hpp"
#include "event_engine/detail/runtime/plugin_runtime.hpp"
#include "event_engine/errors.hpp"
#include "event_engine/log.hpp"
#include "event_engine/nats/detail/client.hpp"
#include "event_engine/nats/options.hpp"

#include <nats/nats.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <functional>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <unistd.h>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace event_engine::nats::detail {

using clock = std::chrono::steady_clock;
using event_engine::detail::log;
using event_engine::detail::log_throttle;

/// An event type as the bridge sees it at run time.
struct event_info {
    std::string_view name;
    std::string_view topic;
};

// What libnats' callback threads share with the bridge. They hold it through a
// heap-allocated shared_ptr that the last callback of its source releases (the
// connection's closed callback, the ack subscription's completion callback), so
// it outlives every callback whatever the order of destruction.
struct shared_state {
    std::string name;
    std::atomic<std::uint64_t> disconnects{0};
    std::atomic<std::uint64_t> reconnects{0};
    std::atomic<bool> connected{false};
    std::atomic<bool> ever_connected{false}; // connected at least once (libnats takes headers only then)
    std::atomic<bool> closing{false}; // the bridge closes the connection: not a disconnect
    std::atomic<std::uint64_t> published{0};
    std::atomic<std::uint64_t> stored_duplicates{0};

    std::mutex mutex;
    std::condition_variable changed; // an ack arrived
    std::string last_error;

    // JetStream publishes waiting for the stream's ack, by reply token.
    struct pending_publish {
        message_ptr message;
        clock::time_point deadline;
        int attempts = 1;
        bool held = false; // held back while the stream fails (one probe at a time is resent)
        std::vector<std::uint64_t> earlier; // the reply tokens of its earlier attempts
    };
    std::map<std::uint64_t, pending_publish> pending;
    // An earlier attempt's token -> the token it is pending under now: a late ack of any
    // attempt completes the publish (the stream stored it; a resend is a duplicate).
    std::unordered_map<std::uint64_t, std::uint64_t> aliases;
    std::string stream; // the stream that must answer ("stream" in the ack)

    void forget(const pending_publish& entry)
    {
        for (const auto token : entry.earlier) aliases.erase(token);
    }
    // Acknowledged messages, destroyed by the out thread (which may still be inside the
    // publish call that sent one when its ack comes back).
    std::vector<message_ptr> acknowledged;
    std::atomic<bool> retry_due{false};
    // The stream failed to acknowledge (an error reply, or none in time) and no ack has come
    // since: maintain() resends one publish at a time, backing off, until one is acknowledged.
    bool failing = false;

    void note_error(std::string text)
    {
        const std::scoped_lock lock{mutex};
        last_error = std::move(text);
    }
};

using state_holder = std::shared_ptr<shared_state>;

extern "C" inline void bridge_on_disconnected(natsConnection*, void* closure) noexcept
{
    auto& state = **static_cast<state_holder*>(closure);
    state.connected = false;
    if (state.closing) return;
    ++state.disconnects;
    try {
        log(log_level::warn, "NATS bridge '{}': disconnected from the server; reconnecting", state.name);
    } catch (...) {
    }
}

extern "C" inline void bridge_on_reconnected(natsConnection* connection, void* closure) noexcept
{
    auto& state = **static_cast<state_holder*>(closure);
    ++state.reconnects;
    state.connected = true;
    state.ever_connected = true;
    try {
        char url[256] = {};
        natsConnection_GetConnectedUrl(connection, url, sizeof url);
        log(log_level::info, "NATS bridge '{}': reconnected to {}", state.name, url);
        const std::scoped_lock lock{state.mutex};
        // What waited for an ack may have been lost with the old connection: due now.
        const auto now = clock::now();
        for (auto& waiting : state.pending) waiting.second.deadline = std::min(waiting.second.deadline, now);
        state.retry_due = true;
    } catch (...) {
    }
}

extern "C" inline void bridge_on_connected(natsConnection* connection, void* closure) noexcept
{
    auto& state = **static_cast<state_holder*>(closure);
    state.connected = true;
    state.ever_connected = true;
    try {
        char url[256] = {};
        natsConnection_GetConnectedUrl(connection, url, sizeof url);
        log(log_level::info, "NATS bridge '{}': connected to {} (retry_initial_connect)", state.name, url);
    } catch (...) {
    }
}

// The last callback of a connection: releases the callbacks' share of the state.
extern "C" inline void bridge_on_closed(natsConnection*, void* closure) noexcept
{
    auto* holder = static_cast<state_holder*>(closure);
    (**holder).connected = false;
    delete holder;
}

extern "C" inline void bridge_on_async_error(natsConnection*, natsSubscription*, natsStatus status, void* closure) noexcept
{
    try {
        (**static_cast<state_holder*>(closure)).note_error(status_text(status));
    } catch (...) {
    }
}

// A JetStream publish ack (or error, or "no responders") arrived on the bridge's inbox.
extern "C" inline void bridge_on_publish_ack(natsConnection*, natsSubscription*, natsMsg* raw, void* closure) noexcept
{
    const message_ptr reply{raw};
    auto& state = **static_cast<state_holder*>(closure);
    try {
        const std::string_view subject = natsMsg_GetSubject(raw);
        const auto dot = subject.rfind('.');
        const auto token = parse_number(dot == std::string_view::npos ? subject : subject.substr(dot + 1));
        if (!token) return;
        const std::string_view body{natsMsg_GetData(raw), static_cast<std::size_t>(natsMsg_GetDataLength(raw))};
        const bool failed = natsMsg_IsNoResponders(raw) || body.find("\"error\"") != std::string_view::npos ||
                            body.find("\"seq\"") == std::string_view::npos;
        const std::scoped_lock lock{state.mutex};
        auto entry = state.pending.find(*token);
        bool late = false; // the ack of an earlier attempt, resent since
        if (entry == state.pending.end()) {
            const auto alias = state.aliases.find(*token);
            if (alias == state.aliases.end()) return; // answered after the stop, or after the publish was given up
            entry = state.pending.find(alias->second);
            if (entry == state.pending.end()) return;
            late = true;
        }
        if (failed && late) return; // the latest attempt is still awaited
        const bool other_stream = !failed && body.find("\"stream\":\"" + state.stream + "\"") == std::string_view::npos;
        if (other_stream) {
            state.last_error = "JetStream publish: acknowledged by another stream than '" + state.stream +
                               "': " + std::string{body.substr(0, 300)};
            entry->second.deadline = clock::now() + std::chrono::milliseconds{250}; // sent again by maintain()
            state.retry_due = true;
            return;
        }
        if (failed) {
            state.last_error = natsMsg_IsNoResponders(raw) ? std::string{"JetStream publish: no stream answered"}
                                                           : "JetStream publish: " + std::string{body.substr(0, 300)};
            entry->second.deadline = clock::now() + std::chrono::milliseconds{250}; // sent again by maintain()
            state.retry_due = true;
            return;
        }
        ++state.published;
        if (body.find("\"duplicate\":true") != std::string_view::npos) ++state.stored_duplicates;
        state.acknowledged.push_back(std::move(entry->second.message));
        state.forget(entry->second);
        state.pending.erase(entry);
        if (state.failing) { // the stream answers again: what was held back goes now
            state.failing = false;
            const auto now = clock::now();
            for (auto& waiting : state.pending) {
                if (!waiting.second.held) continue;
                waiting.second.held = false;
                waiting.second.deadline = now;
            }
            state.retry_due = true;
        }
        state.changed.notify_all();
    } catch (...) {
    }
}

// The last callback of the ack subscription: releases its share of the state.
extern "C" inline void bridge_on_ack_subscription_complete(void* closure) noexcept
{
    delete static_cast<state_holder*>(closure);
}

class bridge_core {
public:
    bridge_core(bridge_options options, std::string name, std::vector<event_info> exported,
                std::vector<event_info> imported)
        : options_{std::move(options)},
          exported_{std::move(exported)},
          imported_{std::move(imported)},
          state_{std::make_shared<shared_state>()}
    {
        state_->name = std::move(name);
        participants_ = (exported_.empty() ? 0 : 1) + (imported_.empty() ? 0 : 1);
    }
    ~bridge_core() { close(); }
    bridge_core(const bridge_core&) = delete;
    bridge_core& operator=(const bridge_core&) = delete;

    [[nodiscard]] const std::string& name() const noexcept { return state_->name; }
    void rename(std::string name) { state_->name = std::move(name); }
    [[nodiscard]] const bridge_options& options() const noexcept { return options_; }

    /// Connects (and sets up JetStream) once, for whichever of the bridge's threads
    /// comes first; the other waits and sees the same result. Throws event_engine::error.
    void start()
    {
        std::unique_lock lock{start_mutex_};
        if (started_) return;
        if (start_failure_) throw error{*start_failure_};
        try {
            connect();
            started_ = true;
        } catch (const std::exception& failure) {
            start_failure_ = failure.what();
            close_connection();
            throw;
        }
    }

    /// A bridge thread is done; the last one closes the connection.
    void leave()
    {
        const std::scoped_lock lock{start_mutex_};
        if (++left_ >= participants_) close_connection();
    }

    // ---- app -> NATS (the out thread) ----

    /// True if @p payload of exported event @p index is one this bridge brought in
    /// from NATS (then it is counted and must not be sent back).
    bool take_echo(std::string_view event_name, std::span<const std::byte> payload)
    {
        const auto key = echo_key(event_name, payload);
        const std::scoped_lock lock{echo_mutex_};
        const auto found = echoes_.find(key);
        if (found == echoes_.end()) return false;
        echoes_.erase(found);
        ++events_out_;
        ++echoes_skipped_;
        return true;
    }

    /// Sends exported event @p index with @p payload (the codec's bytes). Under
    /// JetStream it waits while `max_unacknowledged` publishes are out (backpressure),
    /// until @p stopping says so.
    void send(std::size_t index, std::span<const std::byte> payload, const std::function<bool()>& stopping)
    {
        ++events_out_;
        if (connection_ == nullptr) {
            fail_publish(index, payload.size(), "the bridge is not connected");
            return;
        }
        if (options_.mode == delivery::jetstream) {
            send_jetstream(index, payload, stopping);
            return;
        }
        auto message = make_message(subjects_[index], nullptr, payload);
        if (!state_->ever_connected) { // retry_initial_connect: libnats takes no headers before a first connection
            hold(index, std::move(message), payload.size());
            return;
        }
        flush_held();
        publish_core(index, message.get(), payload.size());
    }

    /// Core NATS, called by the out thread between events: sends what waited for the first
    /// connection once there is one, and a periodic sequence marker when one is due.
    void tend()
    {
        if (options_.mode != delivery::core || connection_ == nullptr || !state_->ever_connected) return;
        flush_held();
        if (options_.marker_interval.count() <= 0 || sequence_ == 0) return;
        const auto now = clock::now();
        if (now < next_marker_) return;
        next_marker_ = now + options_.marker_interval;
        // Only while there is news: after the sequence moved, and marker_repeats times more
        // at twice the spacing each time (in case one is lost: a receiver that was a slow
        // consumer just then loses the first repeats too); then an idle bridge sends nothing.
        if (sequence_ != marked_sequence_) {
            marked_sequence_ = sequence_;
            marker_repeats_left_ = marker_repeats;
        } else if (marker_repeats_left_ == 0) {
            return;
        } else {
            --marker_repeats_left_;
            next_marker_ = now + options_.marker_interval * (1 << (marker_repeats - marker_repeats_left_));
        }
        send_marker(false);
    }

    /// An event taken from the application at the stop after drain_timeout: not sent.
    void unsent_at_stop()
    {
        ++events_out_;
        ++unsent_at_stop_;
    }

    /// JetStream: sends again what the stream did not acknowledge in time or refused.
    void maintain()
    {
        if (options_.mode != delivery::jetstream || connection_ == nullptr) return;
        const auto now = clock::now();
        if (!state_->retry_due.exchange(false) && now < next_due_) return;
        std::vector<std::pair<std::uint64_t, shared_state::pending_publish>> due;
        bool probing = false;
        bool answers_again = false;
        {
            const std::scoped_lock lock{state_->mutex};
            state_->acknowledged.clear();
            answers_again = !state_->failing && outage_start_.has_value(); // an ack came since the outage began
            if (!state_->failing) probe_wait_ = first_probe_wait;
            next_due_ = clock::time_point::max();
            for (auto it = state_->pending.begin(); it != state_->pending.end();) {
                if (it->second.deadline <= now) {
                    due.emplace_back(it->first, std::move(it->second));
                    it = state_->pending.erase(it);
                } else {
                    next_due_ = std::min(next_due_, it->second.deadline);
                    ++it;
                }
            }
            if (!due.empty()) {
                // The first failure resends everything due once (a lost ack, a reconnection);
                // while the stream keeps failing, only the oldest is resent (a probe), the rest
                // held back until an ack shows the stream answers again, or the next probe:
                // retries stay bounded (one per probe_wait_, which doubles up to max_probe_wait)
                // however many publishes wait, and none of them waits longer than that.
                probing = state_->failing;
                state_->failing = true;
                if (probing) {
                    // At most one probe per probe_wait_, however often replies wake this thread.
                    const bool probe_now = now >= next_probe_;
                    const auto hold_until = probe_now ? now + probe_wait_ : next_probe_;
                    for (std::size_t i = probe_now ? 1 : 0; i < due.size(); ++i) {
                        due[i].second.held = true;
                        due[i].second.deadline = hold_until;
                        state_->pending.emplace(due[i].first, std::move(due[i].second));
                    }
                    next_due_ = std::min(next_due_, hold_until);
                    due.resize(probe_now ? 1 : 0);
                    if (probe_now) next_probe_ = hold_until;
                    else probing = false; // nothing sent: the wait does not grow
                }
            }
        }
        if (answers_again) {
            log(log_level::info,
                "NATS bridge '{}': the JetStream stream acknowledges again after {} ms ({} publishes resent in all so far)",
                name(), std::chrono::duration_cast<std::chrono::milliseconds>(now - *outage_start_).count(),
                publish_retries_.load());
            outage_start_.reset();
        }
        if (probing) {
            if (!outage_start_) {
                outage_start_ = now;
                log(log_level::warn,
                    "NATS bridge '{}': the JetStream stream does not acknowledge ({}); resending one publish at a time, "
                    "at most every {} ms, until it does",
                    name(), last_error(), max_probe_wait.count());
            }
            probe_wait_ = std::min(probe_wait_ * 2, max_probe_wait);
        }
        for (auto& due_entry : due) {
            auto& entry = due_entry.second; // (not a structured binding: clang 14 cannot capture one)
            if (options_.publish_attempts > 0 && entry.attempts >= options_.publish_attempts) {
                {
                    const std::scoped_lock lock{state_->mutex};
                    state_->forget(entry);
                }
                ++publish_failed_;
                const std::string error_text = last_error();
                out_failures_.note(log_level::error, name(), "publishes failed", [&] {
                    return fmt::format("NATS bridge '{}': gave up on a JetStream publish on {} after {} attempts ({})",
                                       name(), natsMsg_GetSubject(entry.message.get()), entry.attempts, error_text);
                });
                continue;
            }
            ++publish_retries_;
            const std::uint64_t fresh = ++next_token_;
            const std::string reply = reply_prefix_ + std::to_string(fresh);
            const std::span<const std::byte> payload{reinterpret_cast<const std::byte*>(natsMsg_GetData(entry.message.get())),
                                                     static_cast<std::size_t>(natsMsg_GetDataLength(entry.message.get()))};
            auto message = make_message(natsMsg_GetSubject(entry.message.get()), reply.c_str(), payload);
            copy_headers(entry.message.get(), message.get());
            auto earlier = std::move(entry.earlier);
            earlier.push_back(due_entry.first);
            register_and_publish(fresh, std::move(message), entry.attempts + 1, std::move(earlier));
        }
    }

    /// The out thread ends: flush (core) or wait up to stop_timeout for the stream's
    /// acks (JetStream); what is still unacknowledged is counted unconfirmed_at_stop.
    void finish_outbound()
    {
        if (connection_ == nullptr) return;
        const auto wait_ms = static_cast<std::int64_t>(std::max<std::int64_t>(1, options_.stop_timeout.count()));
        if (options_.mode == delivery::core) {
            if (state_->ever_connected) {
                flush_held();
                if (sequence_ > 0) send_marker(true); // receivers count what they lost after their last event
            } else if (!held_.empty()) {
                unsent_at_stop_ += held_.size();
                log(log_level::warn,
                    "NATS bridge '{}': stopped before it ever connected to NATS at {}: {} events that waited for the "
                    "first connection were not sent (counted in unsent_at_stop)",
                    name(), server_list(), held_.size());
                held_.clear();
                held_bytes_ = 0;
            }
            const natsStatus status =
                state_->ever_connected ? natsConnection_FlushTimeout(connection_, wait_ms) : NATS_OK; // (nothing to flush)
            if (status != NATS_OK) {
                log(log_level::warn, "NATS bridge '{}': could not confirm at stop that what it sent reached the server: {}",
                    name(), status_text(status));
            }
            out_failures_.flush(log_level::error, name(), "publishes failed");
            return;
        }
        const auto deadline = clock::now() + options_.stop_timeout;
        for (;;) {
            maintain();
            std::unique_lock lock{state_->mutex};
            if (state_->pending.empty() || clock::now() >= deadline) {
                unconfirmed_at_stop_ += state_->pending.size();
                if (!state_->pending.empty()) {
                    log(log_level::warn,
                        "NATS bridge '{}': {} JetStream publishes were not acknowledged within {} ms of the stop "
                        "(counted unconfirmed_at_stop; stored or not)",
                        name(), state_->pending.size(), options_.stop_timeout.count());
                }
                state_->pending.clear();
                state_->aliases.clear();
                lock.unlock();
                out_failures_.flush(log_level::error, name(), "publishes failed");
                return;
            }
            state_->changed.wait_for(lock, std::chrono::milliseconds{20});
        }
    }

    // ---- NATS -> app (the in thread) ----

    /// A message that passed every check, for imported event @p index.
    struct incoming {
        std::size_t index = 0;
        message_ptr message;
        std::uint64_t stream_sequence = 0;
        [[nodiscard]] std::span<const std::byte> payload() const noexcept
        {
            return {reinterpret_cast<const std::byte*>(natsMsg_GetData(message.get())),
                    static_cast<std::size_t>(natsMsg_GetDataLength(message.get()))};
        }
    };

    /// JetStream: acknowledge a message only once the application's subscribers have
    /// handled it, learnt from delivery marks (event_engine/detail/runtime/delivery_marks.hpp)
    /// that @p runtime, the in thread's, publishes. Called by the in thread as it starts.
    void track_delivery(event_engine::detail::plugin_runtime& runtime) noexcept
    {
        // Nothing left from an earlier run that ended by an exception (its runtime is gone).
        awaiting_.clear();
        awaiting_set_.clear();
        unmarked_ = 0;
        marks_ = options_.mode == delivery::jetstream && runtime.tracker() != nullptr ? &runtime : nullptr;
    }

    /// The next message to publish into the application, waiting at most @p wait.
    /// Messages that fail a check are counted, logged and (JetStream) settled here.
    /// Under JetStream it first acknowledges what the application has handled, and
    /// takes nothing while max_unacknowledged published messages wait for that.
    std::optional<incoming> next(std::chrono::milliseconds wait)
    {
        if (marks_ != nullptr) {
            settle_handled();
            if (awaiting_.size() >= static_cast<std::size_t>(options_.max_unacknowledged)) {
                mark_published();
                std::this_thread::sleep_for(std::min(wait, std::chrono::milliseconds{1}));
                return std::nullopt;
            }
            if (!awaiting_.empty()) wait = std::min(wait, std::chrono::milliseconds{5}); // acks go out soon
        }
        natsMsg* raw = nullptr;
        const natsStatus status = natsSubscription_NextMsg(&raw, subscription_, static_cast<std::int64_t>(wait.count()));
        if (status == NATS_TIMEOUT || status == NATS_SLOW_CONSUMER) { // drops: GetDropped
            mark_published();
            note_drops();
            return std::nullopt;
        }
        if (status != NATS_OK) {
            if (!subscription_broken_) {
                subscription_broken_ = true;
                state_->note_error("subscription: " + status_text(status));
                log(log_level::error, "NATS bridge '{}': its subscription failed ({}); nothing more comes in", name(),
                    status_text(status));
            }
            std::this_thread::sleep_for(wait);
            return std::nullopt;
        }
        message_ptr message{raw};
        if ((++handed_over_ & 255U) == 0) note_drops();
        if (options_.mode == delivery::jetstream && !from_own_consumer(raw)) {
            // Anyone allowed to publish on the deliver subject could otherwise make this bridge
            // answer (ack, nak, term) on a reply subject of their choosing.
            ++messages_in_;
            ++bad_messages_;
            rejected_log_[0].note(log_level::error, name(), "messages from NATS rejected", [&] {
                const char* reply = natsMsg_GetReply(raw);
                return fmt::format("NATS bridge '{}': rejected a message on {} ({} bytes) with reply subject '{}': not a "
                                   "delivery of one of its JetStream consumers ({}); not answered",
                                   name(), natsMsg_GetSubject(raw), natsMsg_GetDataLength(raw),
                                   event_engine::detail::printable(reply == nullptr ? "" : reply), joined(consumers_));
            });
            return std::nullopt;
        }
        if (marker_subject_ == natsMsg_GetSubject(raw)) {
            take_marker(raw);
            return std::nullopt;
        }
        ++messages_in_;
        return check(std::move(message));
    }

    /// Records that @p message's payload, encoded again, is what the in thread is about to
    /// publish into the application, so that the out thread does not send it back.
    void expect_echo(std::string_view event_name, std::span<const std::byte> payload)
    {
        const std::scoped_lock lock{echo_mutex_};
        echoes_.insert(echo_key(event_name, payload));
    }
    void forget_echo(std::string_view event_name, std::span<const std::byte> payload)
    {
        const std::scoped_lock lock{echo_mutex_};
        const auto found = echoes_.find(echo_key(event_name, payload));
        if (found != echoes_.end()) echoes_.erase(found);
    }

    /// Published into the application: count it and (JetStream) acknowledge it, at once
    /// when nothing tracks its delivery or nobody receives it, else once a delivery mark
    /// after it has been read by every plugin that receives it (settle_handled()).
    void delivered(incoming& message)
    {
        ++events_in_;
        if (options_.mode != delivery::jetstream) return;
        if (marks_ == nullptr || (awaiting_.empty() && !marks_->tracker()->has_live_subscribers())) {
            acknowledge(message.message.get(), message.stream_sequence);
            return;
        }
        if (awaiting_.empty()) next_progress_ = clock::now() + options_.ack_wait / 2;
        if (message.stream_sequence != 0) awaiting_set_.insert(message.stream_sequence);
        awaiting_.push_back({std::move(message.message), message.stream_sequence, marks_->tracker()->issued() + 1});
        // A mark per batch: after mark_every messages, or when no more is queued now.
        int queued = 0;
        int queued_bytes = 0;
        if (++unmarked_ >= mark_every || natsSubscription_GetPending(subscription_, &queued, &queued_bytes) != NATS_OK ||
            queued == 0) {
            mark_published();
        }
    }

    void undecodable(incoming& message, std::string_view event_name, std::string_view reason)
    {
        ++decode_failures_;
        undecodable_log_.note(log_level::error, name(), "undecodable messages from NATS", [&] {
            return fmt::format("NATS bridge '{}': cannot decode a {} event from NATS ({} payload bytes): {}; skipped",
                               name(), event_name, natsMsg_GetDataLength(message.message.get()), reason);
        });
        settle(message.message.get(), false);
    }

    /// Not published because the application is stopping (JetStream: not acked, so delivered again).
    void abandoned(incoming&) { ++abandoned_at_stop_; }

    /// The in thread: logs (rate-limited) what the client dropped since the last look (a slow consumer).
    void note_drops()
    {
        const std::uint64_t before = slow_consumer_drops_;
        remember_dropped();
        const std::uint64_t after = slow_consumer_drops_;
        if (after <= before) return;
        drop_log_.note(log_level::warn, name(), "slow-consumer drops", [&] {
            return fmt::format("NATS bridge '{}': the NATS client dropped {} messages for it because its queue was full "
                               "(queue_limit {} messages, queue_byte_limit {} bytes): the application does not take them "
                               "as fast as they arrive; counted in slow_consumer_drops{}",
                               name(), after - before, options_.queue_limit, options_.queue_byte_limit,
                               options_.mode == delivery::core
                                   ? " and, once a later message or sequence marker of the sender arrives, in sequence_gaps"
                                   : " (JetStream delivers them again after ack_wait)");
        });
    }

    /// The in thread ends: what the client still holds for it is counted abandoned_at_stop;
    /// what the application has not confirmed handling stays unacknowledged (unacknowledged_at_stop).
    void finish_inbound()
    {
        if (marks_ != nullptr) {
            settle_handled();
            unacknowledged_at_stop_ += awaiting_.size();
            awaiting_.clear();
            awaiting_set_.clear();
            marks_ = nullptr;
        }
        if (subscription_ == nullptr) return;
        // Only what the client holds now, and for at most stop_timeout: others may go on sending
        // as fast as this reads (what arrives later is not read: under JetStream delivered again,
        // under core NATS never taken from the server's point of view of this run).
        int queued = 0;
        int queued_bytes = 0;
        if (subscription_broken_ || natsSubscription_GetPending(subscription_, &queued, &queued_bytes) != NATS_OK) queued = 0;
        const auto deadline = clock::now() + options_.stop_timeout;
        natsMsg* raw = nullptr;
        for (int taken = 0; taken < queued && clock::now() < deadline; ++taken) {
            if (natsSubscription_NextMsg(&raw, subscription_, 1) != NATS_OK) break;
            message_ptr message{raw};
            if (marker_subject_ == natsMsg_GetSubject(raw)) {
                take_marker(raw);
                continue;
            }
            ++messages_in_;
            ++abandoned_at_stop_;
            note_sequence(raw); // not lost on the way: not a gap
        }
        note_drops();
        drop_log_.flush(log_level::warn, name(), "slow-consumer drops");
        gap_log_.flush(log_level::warn, name(), "sequence gaps");
        tail_log_.flush(log_level::warn, name(), "losses after a sender's last message");
        undecodable_log_.flush(log_level::error, name(), "undecodable messages from NATS");
        for (auto& throttle : rejected_log_) throttle.flush(log_level::error, name(), "messages from NATS rejected");
    }

    /// The counters now.
    [[nodiscard]] bridge_report report() const
    {
        bridge_report r;
        r.events_out = events_out_;
        r.published = state_->published;
        r.echoes_skipped = echoes_skipped_;
        r.publish_failed = publish_failed_;
        r.unconfirmed_at_stop = unconfirmed_at_stop_;
        r.unsent_at_stop = unsent_at_stop_;
        r.publish_retries = publish_retries_;
        r.stored_duplicates = state_->stored_duplicates;
        r.messages_in = messages_in_;
        r.events_in = events_in_;
        r.own_skipped = own_skipped_;
        r.not_imported = not_imported_;
        r.bad_messages = bad_messages_;
        r.decode_failures = decode_failures_;
        r.duplicates_skipped = duplicates_skipped_;
        r.abandoned_at_stop = abandoned_at_stop_;
        r.unacknowledged_at_stop = unacknowledged_at_stop_;
        r.sequence_gaps = sequence_gaps_;
        r.slow_consumer_drops = slow_consumer_drops_;
        r.markers_in = markers_in_;
        r.disconnects = state_->disconnects;
        r.reconnects = state_->reconnects;
        r.connected = state_->connected;
        r.subscribed = subscribed_;
        const std::scoped_lock lock{state_->mutex};
        r.last_error = state_->last_error;
        return r;
    }

    /// From the options only (what validate() makes instance_ of), so that any thread may ask
    /// while the bridge's own threads start (instance_ is theirs).
    [[nodiscard]] std::string instance() const { return !options_.instance.empty() ? options_.instance : default_instance(); }

    /// What this bridge sends to and receives from NATS, as name/value pairs: logged at start
    /// and in the manifest (plugins[].details of `<name>.out`, @p outbound, and `<name>.in`).
    /// Computed from the options, so it is there before the bridge starts too.
    [[nodiscard]] std::vector<std::pair<std::string, std::string>> plan(bool outbound) const
    {
        const bool jetstream = options_.mode == delivery::jetstream;
        const auto subjects = [this](const std::vector<event_info>& events) {
            std::vector<std::string> list;
            for (const auto& event : events) list.push_back(options_.subject_prefix + "." + std::string{event.name});
            return joined(list);
        };
        std::vector<std::pair<std::string, std::string>> pairs;
        pairs.emplace_back("servers", server_list());
        pairs.emplace_back("mode", jetstream ? "jetstream" : "core");
        // The manifest may be asked for from another thread while the bridge's own threads start.
        pairs.emplace_back("instance", instance());
        std::string stream_name = options_.stream;
        if (stream_name.empty()) {
            stream_name = options_.subject_prefix;
            std::replace(stream_name.begin(), stream_name.end(), '.', '_');
        }
        std::string stream = stream_name;
        if (jetstream) {
            stream += fmt::format(" ({} replicas asked", options_.stream_replicas);
            if (!options_.jetstream_domain.empty()) stream += ", JetStream domain " + options_.jetstream_domain;
            stream += ")";
        }
        if (outbound) {
            pairs.emplace_back("sends", subjects(exported_));
            if (jetstream) pairs.emplace_back("stream", stream);
            return pairs;
        }
        if (!jetstream) {
            pairs.emplace_back("receives", options_.subject_prefix + ".> (brings in " + subjects(imported_) +
                                               "; other subjects counted not_imported)");
            return pairs;
        }
        pairs.emplace_back("receives", subjects(imported_));
        pairs.emplace_back("stream", stream);
        const std::string durable = options_.durable.empty() ? pairs[2].second : options_.durable;
        std::vector<std::string> names;
        for (const auto& event : imported_) names.push_back(durable + "_" + std::string{event.name});
        pairs.emplace_back("consumers", joined(names) + " (delivering to _EE.deliver." + stream_name + "." + durable + ")");
        return pairs;
    }

private:
    // ---- start-up ----

    void validate()
    {
        const auto refuse = [this](const std::string& why) {
            throw configuration_error{"event_engine::nats: bridge '" + name() + "': " + why + " (docs/nats.md)"};
        };
        if (options_.servers.empty()) refuse("bridge_options::servers is empty; give at least one NATS URL");
        if (!is_subject(options_.subject_prefix)) {
            refuse("subject_prefix '" + options_.subject_prefix +
                   "' is not a NATS subject (tokens of printable ASCII separated by '.', no '*', '>' or spaces)");
        }
        const bool jetstream = options_.mode == delivery::jetstream;
        if (options_.instance.empty()) {
            if (jetstream) {
                refuse("JetStream needs bridge_options::instance, a name for this application that stays the same "
                       "across restarts (it names its durable consumer and marks what it sends)");
            }
            instance_ = default_instance();
        } else {
            instance_ = options_.instance;
        }
        if (!is_subject_token(instance_)) {
            refuse("instance '" + instance_ + "' must be printable ASCII without '.', '*', '>' or spaces");
        }
        if (jetstream) {
            stream_ = options_.stream.empty() ? options_.subject_prefix : options_.stream;
            if (options_.stream.empty()) std::replace(stream_.begin(), stream_.end(), '.', '_');
            {
                const std::scoped_lock lock{state_->mutex};
                state_->stream = stream_;
            }
            durable_ = options_.durable.empty() ? instance_ : options_.durable;
            if (!is_subject_token(stream_)) refuse("stream name '" + stream_ + "' must be one subject token");
            if (!is_subject_token(durable_)) refuse("durable name '" + durable_ + "' must be one subject token");
            if (!options_.jetstream_domain.empty() && !is_subject_token(options_.jetstream_domain)) {
                refuse("jetstream_domain '" + options_.jetstream_domain + "' must be one subject token (or empty: no domain)");
            }
            if (options_.max_unacknowledged < 1) refuse("max_unacknowledged must be at least 1");
            if (options_.stream_replicas < 1 || options_.stream_replicas > 5) refuse("stream_replicas must be 1 to 5");
        }
        if (options_.queue_limit < 1 || options_.queue_byte_limit < 1) refuse("queue_limit and queue_byte_limit must be positive");
        if (jetstream && !imported_.empty()) {
            // Each imported event's consumer may have max_unacknowledged messages out to this
            // client at once; a client queue smaller than all of them would drop some, and the
            // server would send them again only after ack_wait.
            const auto needed = static_cast<std::int64_t>(imported_.size()) * options_.max_unacknowledged;
            if (options_.queue_limit < needed) {
                refuse(fmt::format("under JetStream queue_limit ({}) must be at least max_unacknowledged ({}) times the "
                                   "{} imported events (one consumer each) = {}: the server may send that many "
                                   "unacknowledged messages at once, and the client would drop what its queue cannot "
                                   "hold (delivered again only after ack_wait); raise queue_limit or lower "
                                   "max_unacknowledged",
                                   options_.queue_limit, options_.max_unacknowledged, imported_.size(), needed));
            }
        }
    }

    // Core NATS without bridge_options::instance: "<host>-<pid>", as a subject token.
    static std::string default_instance()
    {
        char host[256] = {};
        if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') std::snprintf(host, sizeof host, "host");
        std::string name = std::string{host} + "-" + std::to_string(::getpid());
        std::replace_if(name.begin(), name.end(), [](char c) { return !is_subject_token({&c, 1}); }, '_');
        return name;
    }

    [[nodiscard]] std::string server_list() const
    {
        std::string list;
        for (const auto& url : options_.servers) list += (list.empty() ? "" : ", ") + url;
        return list;
    }

    void check_option(natsStatus status, std::string_view what)
    {
        if (status != NATS_OK) {
            throw configuration_error{"event_engine::nats: bridge '" + name() + "': " + std::string{what} + ": " +
                                      status_text(status)};
        }
    }

    void connect()
    {
        validate();
        for (const auto& event : exported_) subjects_.push_back(options_.subject_prefix + "." + std::string{event.name});
        for (const auto& event : exported_) topics_hex_.push_back(to_hex(event.topic));
        marker_subject_ = options_.subject_prefix + "." + marker_subject;
        std::random_device entropy;
        run_ = fmt::format("{:08x}{:08x}", entropy(), entropy());

        natsOptions* raw_options = nullptr;
        check_option(natsOptions_Create(&raw_options), "cannot create NATS options");
        const options_ptr nats_options{raw_options};
        natsOptions* o = nats_options.get();
        std::vector<const char*> urls;
        bool tls_url = false;
        for (const auto& url : options_.servers) {
            urls.push_back(url.c_str());
            tls_url = tls_url || url.rfind("tls://", 0) == 0;
        }
        check_option(natsOptions_SetServers(o, urls.data(), static_cast<int>(urls.size())), "bad server URLs");
        check_option(natsOptions_SetName(o, instance_.c_str()), "name");
        check_option(natsOptions_SetTimeout(o, options_.connect_timeout.count()), "connect_timeout");
        check_option(natsOptions_SetMaxReconnect(o, options_.max_reconnect_attempts), "max_reconnect_attempts");
        check_option(natsOptions_SetReconnectWait(o, options_.reconnect_wait.count()), "reconnect_wait");
        check_option(natsOptions_SetReconnectBufSize(o, options_.reconnect_buffer_bytes), "reconnect_buffer_bytes");
        check_option(natsOptions_SetWriteDeadline(o, options_.write_deadline.count()), "write_deadline");
        check_option(natsOptions_SetNoEcho(o, true), "no echo");
        check_option(natsOptions_SetSendAsap(o, options_.send_asap), "send_asap");
        if (!options_.user.empty() || !options_.password.empty()) {
            check_option(natsOptions_SetUserInfo(o, options_.user.c_str(), options_.password.c_str()), "user/password");
        }
        if (!options_.token.empty()) check_option(natsOptions_SetToken(o, options_.token.c_str()), "token");
        if (!options_.credentials_file.empty()) {
            if (const auto why = unreadable(options_.credentials_file)) {
                throw configuration_error{"event_engine::nats: bridge '" + name() + "': credentials_file " +
                                          options_.credentials_file + ": cannot read it: " + *why};
            }
            check_option(natsOptions_SetUserCredentialsFromFiles(o, options_.credentials_file.c_str(), nullptr),
                         "credentials_file " + options_.credentials_file);
        }
        const bool tls = options_.tls || tls_url || !options_.ca_file.empty() || !options_.cert_file.empty();
        if (tls) {
            check_option(natsOptions_SetSecure(o, true), "TLS");
            if (!options_.ca_file.empty()) {
                check_option(natsOptions_LoadCATrustedCertificates(o, options_.ca_file.c_str()), "ca_file " + options_.ca_file);
            }
            if (!options_.cert_file.empty() || !options_.key_file.empty()) {
                check_option(natsOptions_LoadCertificatesChain(o, options_.cert_file.c_str(), options_.key_file.c_str()),
                             "cert_file/key_file " + options_.cert_file + ", " + options_.key_file);
            }
        }
        // The callbacks' share of the state, released by the closed callback (or below if
        // there never is a connection).
        auto* holder = new state_holder{state_};
        natsStatus status = natsOptions_SetDisconnectedCB(o, bridge_on_disconnected, holder);
        if (status == NATS_OK) status = natsOptions_SetReconnectedCB(o, bridge_on_reconnected, holder);
        if (status == NATS_OK) status = natsOptions_SetClosedCB(o, bridge_on_closed, holder);
        if (status == NATS_OK) status = natsOptions_SetErrorHandler(o, bridge_on_async_error, holder);
        if (status == NATS_OK) {
            status = natsOptions_SetRetryOnFailedConnect(o, options_.retry_initial_connect,
                                                         options_.retry_initial_connect ? bridge_on_connected : nullptr,
                                                         holder);
        }
        if (status != NATS_OK) {
            delete holder;
            check_option(status, "callbacks");
        }
        status = natsConnection_Connect(&connection_, o);
        if (status == NATS_OK) {
            state_->connected = true;
            state_->ever_connected = true;
        } else if (!(status == NATS_NOT_YET_CONNECTED && connection_ != nullptr)) {
            delete holder; // no connection, so no closed callback
            connection_ = nullptr;
            const bool credentials = !options_.user.empty() || !options_.token.empty() || !options_.credentials_file.empty();
            throw error{"event_engine::nats: bridge '" + name() + "' cannot connect to NATS at " + server_list() + ": " +
                        status_text(status) + " (" +
                        connect_failure_hint(status, tls, !options_.cert_file.empty(), credentials) + ")"};
        } else {
            log(log_level::warn, "NATS bridge '{}': no NATS server at {} yet; it keeps trying (retry_initial_connect)",
                name(), server_list());
        }

        if (options_.mode == delivery::jetstream) set_up_jetstream();
        else if (!imported_.empty()) subscribe_core();
        if (options_.mode == delivery::jetstream && !exported_.empty()) subscribe_acks();
        if (state_->connected) {
            const natsStatus flushed = natsConnection_FlushTimeout(connection_, options_.setup_timeout.count());
            if (flushed != NATS_OK) {
                throw error{"event_engine::nats: bridge '" + name() + "': the NATS server at " + server_list() +
                            " did not confirm the subscription: " + status_text(flushed)};
            }
        }
        subscribed_ = subscription_ != nullptr;
        log_plan();
    }

    // At start: where the bridge connected, what it sends and what it receives, so that a
    // misconfiguration (another prefix, another stream) shows in the log of both applications.
    void log_plan() const
    {
        std::string text;
        for (const bool outbound : {true, false}) {
            if ((outbound ? exported_ : imported_).empty()) continue;
            for (const auto& [key, value] : plan(outbound)) {
                if (key == "servers" || key == "mode" || key == "instance" || text.find(key + " ") != std::string::npos) {
                    continue;
                }
                text += "; " + key + " " + value;
            }
        }
        log(log_level::info, "NATS bridge '{}' ({} as '{}') {} {}{}", name(),
            options_.mode == delivery::jetstream ? "JetStream" : "core NATS", instance_,
            state_->connected ? "connected to" : "not connected yet (retry_initial_connect); will use", server_list(), text);
    }

    void subscribe_core()
    {
        const std::string wildcard = options_.subject_prefix + ".>";
        const natsStatus status = natsConnection_SubscribeSync(&subscription_, connection_, wildcard.c_str());
        if (status != NATS_OK) {
            subscription_ = nullptr;
            throw error{"event_engine::nats: bridge '" + name() + "' cannot subscribe to " + wildcard + ": " +
                        status_text(status)};
        }
        natsSubscription_SetPendingLimits(subscription_, options_.queue_limit, options_.queue_byte_limit);
    }

    void subscribe_acks()
    {
        natsInbox* inbox = nullptr;
        if (natsInbox_Create(&inbox) != NATS_OK) throw error{"event_engine::nats: cannot create an inbox"};
        reply_prefix_ = std::string{inbox} + ".";
        natsInbox_Destroy(inbox);
        const std::string wildcard = reply_prefix_ + "*";
        auto* holder = new state_holder{state_};
        natsStatus status =
            natsConnection_Subscribe(&ack_subscription_, connection_, wildcard.c_str(), bridge_on_publish_ack, holder);
        if (status != NATS_OK) {
            delete holder;
            ack_subscription_ = nullptr;
            throw error{"event_engine::nats: bridge '" + name() + "' cannot subscribe to its JetStream acks: " +
                        status_text(status)};
        }
        natsSubscription_SetPendingLimits(ack_subscription_, -1, -1);
        status = natsSubscription_SetOnCompleteCB(ack_subscription_, bridge_on_ack_subscription_complete, holder);
        if (status != NATS_OK) {
            // Without the completion callback the holder cannot be released safely: keep it (one pointer).
            log(log_level::warn, "NATS bridge '{}': no completion callback for its ack subscription: {}", name(),
                status_text(status));
        }
    }

    // Retries a JetStream management call that fails while the cluster is not ready yet.
    // All of them share one deadline, setup_timeout after the set-up began (set_up_jetstream()).
    template <class Call>
    void with_setup_retries(std::string_view what, Call&& call)
    {
        const auto deadline = setup_deadline_;
        for (;;) {
            std::string why;
            if (call(why)) return;
            if (clock::now() >= deadline) {
                throw error{"event_engine::nats: bridge '" + name() + "': " + std::string{what} + " failed: the JetStream set-up " +
                            "has taken setup_timeout (" + std::to_string(options_.setup_timeout.count()) + " ms) at " +
                            server_list() + ": " + why};
            }
            std::this_thread::sleep_for(std::chrono::milliseconds{250});
        }
    }

    void set_up_jetstream()
    {
        setup_deadline_ = clock::now() + options_.setup_timeout;
        jsOptions js_options;
        jsOptions_Init(&js_options);
        js_options.Wait = 5000;
        if (!options_.jetstream_domain.empty()) js_options.Domain = options_.jetstream_domain.c_str();
        natsStatus status = natsConnection_JetStream(&jetstream_, connection_, &js_options);
        if (status != NATS_OK) {
            jetstream_ = nullptr;
            throw error{"event_engine::nats: bridge '" + name() + "': no JetStream context: " + status_text(status)};
        }
        const std::string wildcard = options_.subject_prefix + ".>";
        const std::string in_domain =
            options_.jetstream_domain.empty() ? std::string{} : " in JetStream domain '" + options_.jetstream_domain + "'";
        with_setup_retries("finding or creating the JetStream stream '" + stream_ + "'" + in_domain, [&](std::string& why) {
            jsStreamInfo* info = nullptr;
            jsErrCode code{};
            natsStatus s = js_GetStreamInfo(&info, jetstream_, stream_.c_str(), nullptr, &code);
            if (s == NATS_OK) {
                try {
                    warn_if_stream_differs(*info, wildcard, in_domain); // throws if it lacks an imported subject
                } catch (...) {
                    jsStreamInfo_Destroy(info);
                    throw;
                }
                jsStreamInfo_Destroy(info);
                return true;
            }
            if (code != JSStreamNotFoundErr) {
                why = status_text(s);
                return false;
            }
            jsStreamConfig config;
            jsStreamConfig_Init(&config);
            const char* subjects[] = {wildcard.c_str()};
            config.Name = stream_.c_str();
            config.Subjects = subjects;
            config.SubjectsLen = 1;
            config.Storage = js_FileStorage;
            config.Replicas = options_.stream_replicas;
            s = js_AddStream(&info, jetstream_, &config, nullptr, &code);
            if (s == NATS_OK) {
                jsStreamInfo_Destroy(info);
                log(log_level::info, "NATS bridge '{}': created the JetStream stream '{}'{} for {} ({} replicas)", name(),
                    stream_, in_domain, wildcard, options_.stream_replicas);
                return true;
            }
            why = status_text(s);
            return false; // e.g. created meanwhile by another site: found on the next round
        });
        if (imported_.empty()) return;
        set_up_consumers(in_domain);
    }

    // An existing stream is used as it is: say so when it is not what the options ask, since
    // the bridge never changes it (an operator's limits stay).
    void warn_if_stream_differs(const jsStreamInfo& info, const std::string& wildcard, const std::string& in_domain)
    {
        if (info.Config == nullptr) return;
        const jsStreamConfig& config = *info.Config;
        if (config.Replicas != options_.stream_replicas) {
            log(log_level::warn,
                "NATS bridge '{}': the JetStream stream '{}'{} exists with {} replicas, not stream_replicas = {}; it is "
                "used as it is (change it with: nats stream edit {} --replicas {})",
                name(), stream_, in_domain, config.Replicas, options_.stream_replicas, stream_, options_.stream_replicas);
        }
        std::vector<std::string> patterns;
        for (int i = 0; i < config.SubjectsLen; ++i) patterns.emplace_back(config.Subjects[i] == nullptr ? "" : config.Subjects[i]);
        const auto held = [&](const std::string& subject) {
            return std::any_of(patterns.begin(), patterns.end(), [&](const std::string& p) { return subject_matches(p, subject); });
        };
        std::vector<std::string> not_held_in;
        std::vector<std::string> not_held_out;
        for (const auto& event : imported_) {
            const std::string subject = options_.subject_prefix + "." + std::string{event.name};
            if (!held(subject)) not_held_in.push_back(subject);
        }
        for (const auto& event : exported_) {
            const std::string subject = options_.subject_prefix + "." + std::string{event.name};
            if (!held(subject)) not_held_out.push_back(subject);
        }
        if (!not_held_in.empty()) {
            throw error{"event_engine::nats: bridge '" + name() + "': the JetStream stream '" + stream_ + "'" + in_domain +
                        " holds subjects [" + joined(patterns) + "], not " + joined(not_held_in) +
                        ", which this bridge brings in: add them to the stream (or " + wildcard +
                        ") or use another stream (bridge_options::stream)"};
        }
        if (!not_held_out.empty()) {
            log(log_level::warn,
                "NATS bridge '{}': the JetStream stream '{}'{} holds subjects [{}], not {}, which this bridge sends: "
                "those events are not stored (their publishes get no ack and are retried); add them to the stream (or {})",
                name(), stream_, in_domain, joined(patterns), joined(not_held_out), wildcard);
        }
    }

    /// Whether NATS subject @p subject (no wildcards) matches @p pattern ('*' one token, '>' the rest).
    static bool subject_matches(std::string_view pattern, std::string_view subject)
    {
        for (;;) {
            const auto p_dot = pattern.find('.');
            const auto s_dot = subject.find('.');
            const auto p_token = pattern.substr(0, p_dot);
            const auto s_token = subject.substr(0, s_dot);
            if (p_token == ">") return !subject.empty();
            if (p_token != "*" && p_token != s_token) return false;
            if (p_dot == std::string_view::npos || s_dot == std::string_view::npos) {
                return p_dot == std::string_view::npos && s_dot == std::string_view::npos;
            }
            pattern.remove_prefix(p_dot + 1);
            subject.remove_prefix(s_dot + 1);
        }
    }

    // JetStream: one durable push consumer per imported event, `<durable>_<EventName>`, each
    // filtered on that event's subject (nats-server 2.9 allows one filter per consumer), so the
    // server delivers only what this bridge brings in: never its own events, never other
    // applications' events it does not import. All deliver to one subject,
    // `_EE.deliver.<stream>.<durable>`, which one plain subscription reads: one client queue, one
    // drop count, one wait for the in thread. (A wildcard subscription on per-consumer subjects
    // would not do: tried with nats-server 2.9.10, consumers made before the subscription never
    // delivered to it; it sees new interest only on a consumer's literal deliver subject.) Acks go to each message's reply subject
    // (reply_ack()): libnats' natsMsg_Ack() needs a JetStream subscription.
    void set_up_consumers(const std::string& in_domain)
    {
        const std::string deliver_prefix = "_EE.deliver." + stream_ + "." + durable_;
        // An earlier version of the bridge had one consumer named `durable_` for all of `<prefix>.>`:
        // the new ones start after what it had acknowledged, and it is deleted.
        std::uint64_t start_after = 0;
        bool replace_old = false;
        with_setup_retries("looking for an earlier consumer '" + durable_ + "'" + in_domain, [&](std::string& why) {
            jsConsumerInfo* info = nullptr;
            jsErrCode code{};
            const natsStatus s = js_GetConsumerInfo(&info, jetstream_, stream_.c_str(), durable_.c_str(), nullptr, &code);
            if (s == NATS_OK) {
                const bool ours = info->Config != nullptr && info->Config->DeliverSubject != nullptr &&
                                  std::string_view{info->Config->DeliverSubject} == deliver_prefix;
                if (ours) {
                    replace_old = true;
                    start_after = info->AckFloor.Stream;
                } else {
                    log(log_level::warn,
                        "NATS bridge '{}': stream '{}' has a consumer '{}' that this bridge does not use (it reads "
                        "through one consumer per imported event, named '{}_<EventName>')",
                        name(), stream_, durable_, durable_);
                }
                jsConsumerInfo_Destroy(info);
                return true;
            }
            if (code == JSConsumerNotFoundErr) return true;
            why = status_text(s);
            return false;
        });
        consumers_.clear();
        for (const auto& event : imported_) {
            const std::string consumer = durable_ + "_" + std::string{event.name};
            const std::string subject = options_.subject_prefix + "." + std::string{event.name};
            const std::string& deliver = deliver_prefix; // all to the one subscription
            consumers_.push_back(consumer);
            with_setup_retries("finding or creating the durable consumer '" + consumer + "'" + in_domain,
                               [&](std::string& why) {
                jsConsumerInfo* info = nullptr;
                jsErrCode code{};
                natsStatus s = js_GetConsumerInfo(&info, jetstream_, stream_.c_str(), consumer.c_str(), nullptr, &code);
                if (s == NATS_OK) {
                    const jsConsumerConfig* config = info->Config;
                    const auto text = [](const char* c) { return std::string{c == nullptr ? "" : c}; };
                    const std::string filter = config == nullptr ? std::string{} : text(config->FilterSubject);
                    const std::string delivers = config == nullptr ? std::string{} : text(config->DeliverSubject);
                    const std::int64_t max_pending = config == nullptr ? 0 : config->MaxAckPending;
                    const bool explicit_acks = config != nullptr && config->AckPolicy == js_AckExplicit;
                    if (filter == subject && delivers == deliver && explicit_acks &&
                        (max_pending <= 0 || max_pending > options_.max_unacknowledged)) {
                        // Made with a larger max_unacknowledged: the server could push more than the
                        // client's queue holds (queue_limit). Lowered to this bridge's.
                        try {
                            update_max_ack_pending(consumer, *info->Config);
                        } catch (...) {
                            jsConsumerInfo_Destroy(info);
                            throw;
                        }
                    }
                    jsConsumerInfo_Destroy(info);
                    if (filter != subject || delivers != deliver || !explicit_acks) {
                        throw error{"event_engine::nats: bridge '" + name() + "': the consumer '" + consumer +
                                    "' of stream '" + stream_ + "' exists with filter '" + filter +
                                    "', deliver subject '" + delivers + "'" +
                                    (explicit_acks ? std::string{} : " and an ack policy other than explicit") +
                                    ", but this bridge needs filter '" + subject + "', deliver subject '" + deliver +
                                    "' and explicit acks: delete it (nats consumer rm " + stream_ + " " + consumer +
                                    ") or choose another bridge_options::durable"};
                    }
                    return true;
                }
                if (code != JSConsumerNotFoundErr) {
                    why = status_text(s);
                    return false;
                }
                jsConsumerConfig config;
                jsConsumerConfig_Init(&config);
                config.Durable = consumer.c_str();
                config.DeliverSubject = deliver.c_str();
                config.DeliverPolicy = replace_old ? js_DeliverByStartSequence : js_DeliverAll;
                if (replace_old) config.OptStartSeq = start_after + 1;
                config.AckPolicy = js_AckExplicit;
                config.AckWait = std::chrono::duration_cast<std::chrono::nanoseconds>(options_.ack_wait).count();
                config.MaxAckPending = options_.max_unacknowledged;
                config.FilterSubject = subject.c_str();
                s = js_AddConsumer(&info, jetstream_, stream_.c_str(), &config, nullptr, &code);
                if (s == NATS_OK) {
                    jsConsumerInfo_Destroy(info);
                    return true;
                }
                why = status_text(s);
                return false;
            });
        }
        if (replace_old) {
            jsErrCode code{};
            const natsStatus s = js_DeleteConsumer(jetstream_, stream_.c_str(), durable_.c_str(), nullptr, &code);
            log(log_level::warn,
                "NATS bridge '{}': replaced the consumer '{}' of stream '{}' (made by an earlier version for all of "
                "{}.>) by one per imported event ({}), which start after stream sequence {}, the last it had "
                "acknowledged{}",
                name(), durable_, stream_, options_.subject_prefix, joined(consumers_), start_after,
                s == NATS_OK ? std::string{}
                             : "; deleting it failed (" + status_text(s) + "): delete it yourself (nats consumer rm " +
                                   stream_ + " " + durable_ + ")");
        }
        warn_of_unused_consumers(deliver_prefix, in_domain);
        const natsStatus status = natsConnection_SubscribeSync(&subscription_, connection_, deliver_prefix.c_str());
        if (status != NATS_OK) {
            subscription_ = nullptr;
            throw error{"event_engine::nats: bridge '" + name() + "' cannot subscribe to its consumers' deliveries on " +
                        deliver_prefix + ": " + status_text(status)};
        }
        natsSubscription_SetPendingLimits(subscription_, options_.queue_limit, options_.queue_byte_limit);
    }

    // A consumer that delivers to this bridge's subject but is not one of its consumers (the
    // application no longer imports that event) keeps delivering into the bridge's subscription
    // (counted not_imported, acknowledged) and holds the stream's messages for nobody: warned
    // about at start, not deleted (the operator decides: nats consumer rm).
    void warn_of_unused_consumers(const std::string& deliver, const std::string& in_domain)
    {
        jsConsumerInfoList* list = nullptr;
        jsErrCode code{};
        if (js_Consumers(&list, jetstream_, stream_.c_str(), nullptr, &code) != NATS_OK || list == nullptr) return;
        std::vector<std::string> unused;
        for (int i = 0; i < list->Count; ++i) {
            const jsConsumerInfo* info = list->List[i];
            if (info == nullptr || info->Name == nullptr || info->Config == nullptr || info->Config->DeliverSubject == nullptr) {
                continue;
            }
            if (deliver != info->Config->DeliverSubject) continue;
            if (std::find(consumers_.begin(), consumers_.end(), std::string_view{info->Name}) != consumers_.end()) continue;
            unused.emplace_back(info->Name);
        }
        jsConsumerInfoList_Destroy(list);
        if (unused.empty()) return;
        log(log_level::warn,
            "NATS bridge '{}': the consumers {} of stream '{}'{} deliver to this bridge ({}) but are not among the "
            "events it brings in (an earlier version of the application imported them): what they deliver is "
            "counted not_imported and acknowledged; delete them if they are not needed (nats consumer rm {} <name>)",
            name(), joined(unused), stream_, in_domain, deliver, stream_);
    }

    void update_max_ack_pending(const std::string& consumer, jsConsumerConfig& config)
    {
        const std::int64_t before = config.MaxAckPending;
        config.MaxAckPending = options_.max_unacknowledged;
        jsConsumerInfo* info = nullptr;
        jsErrCode code{};
        const natsStatus s = js_UpdateConsumer(&info, jetstream_, stream_.c_str(), &config, nullptr, &code);
        if (s == NATS_OK) {
            jsConsumerInfo_Destroy(info);
            log(log_level::info, "NATS bridge '{}': lowered MaxAckPending of the consumer '{}' from {} to max_unacknowledged ({})",
                name(), consumer, before, options_.max_unacknowledged);
            return;
        }
        throw error{"event_engine::nats: bridge '" + name() + "': the consumer '" + consumer + "' of stream '" + stream_ +
                    "' lets the server send " + std::to_string(before) + " unacknowledged messages, more than "
                    "max_unacknowledged (" + std::to_string(options_.max_unacknowledged) + "), and could not be updated (" +
                    status_text(s) + "): delete it (nats consumer rm " + stream_ + " " + consumer + ")"};
    }

    static std::string joined(const std::vector<std::string>& items)
    {
        std::string text;
        for (const auto& item : items) text += (text.empty() ? "" : ", ") + item;
        return text;
    }

    // ---- sending ----

    void stamp(natsMsg* message, std::size_t index, std::uint64_t sequence)
    {
        set_header(message, origin_header, instance_);
        set_header(message, run_header, run_);
        set_header(message, seq_header, std::to_string(sequence));
        set_header(message, topic_header, topics_hex_[index]);
    }

    void send_jetstream(std::size_t index, std::span<const std::byte> payload, const std::function<bool()>& stopping)
    {
        for (;;) { // at most max_unacknowledged out: wait for acks (backpressure)
            {
                std::unique_lock lock{state_->mutex};
                state_->acknowledged.clear();
                if (state_->pending.size() < static_cast<std::size_t>(options_.max_unacknowledged)) break;
                if (stopping()) {
                    lock.unlock();
                    fail_publish(index, payload.size(), "the application stopped while it waited for the stream's acks");
                    return;
                }
                state_->changed.wait_for(lock, std::chrono::milliseconds{20});
            }
            maintain();
        }
        const std::uint64_t token = ++next_token_;
        const std::string reply = reply_prefix_ + std::to_string(token);
        auto message = make_message(subjects_[index], reply.c_str(), payload);
        const std::uint64_t sequence = ++sequence_;
        stamp(message.get(), index, sequence);
        set_header(message.get(), msg_id_header, instance_ + ":" + run_ + ":" + std::to_string(sequence));
        register_and_publish(token, std::move(message), 1);
    }

    void register_and_publish(std::uint64_t token, message_ptr message, int attempts, std::vector<std::uint64_t> earlier = {})
    {
        natsMsg* raw = message.get();
        const auto deadline = clock::now() + options_.publish_ack_timeout;
        {
            const std::scoped_lock lock{state_->mutex};
            next_due_ = std::min(next_due_, deadline);
            for (const auto alias : earlier) state_->aliases[alias] = token;
            state_->pending.emplace(token, shared_state::pending_publish{std::move(message), deadline, attempts, false,
                                                                         std::move(earlier)});
        }
        // The entry (and so the message) stays alive: only this thread erases entries that are due.
        const natsStatus status = natsConnection_PublishMsg(connection_, raw);
        if (status != NATS_OK) {
            state_->note_error("publish: " + status_text(status));
            const std::scoped_lock lock{state_->mutex};
            const auto entry = state_->pending.find(token);
            if (entry != state_->pending.end()) entry->second.deadline = clock::now() + std::chrono::milliseconds{250};
            state_->retry_due = true;
        }
    }

    // Core NATS: publishes @p message of exported event @p index (@p bytes of payload) with the next sequence number.
    void publish_core(std::size_t index, natsMsg* message, std::size_t bytes)
    {
        stamp(message, index, sequence_ + 1);
        const natsStatus status = natsConnection_PublishMsg(connection_, message);
        if (status == NATS_OK) {
            ++sequence_;
            ++state_->published;
            return;
        }
        fail_publish(index, bytes, status == NATS_INSUFFICIENT_BUFFER
                                       ? status_text(status) + " (the connection is lost and reconnect_buffer_bytes, " +
                                             std::to_string(options_.reconnect_buffer_bytes) + ", are already buffered)"
                                       : status_text(status));
    }

    // Core NATS before the first connection (retry_initial_connect): the message waits in the
    // bridge, up to reconnect_buffer_bytes (its payload plus held_overhead bytes a message, so
    // that empty events are bounded too); beyond that it counts as publish_failed.
    static constexpr std::size_t held_overhead = 128;
    void hold(std::size_t index, message_ptr message, std::size_t bytes)
    {
        if (held_bytes_ + bytes + held_overhead > static_cast<std::size_t>(std::max(0, options_.reconnect_buffer_bytes))) {
            fail_publish(index, bytes,
                         fmt::format("not connected to NATS yet (retry_initial_connect) and {} bytes (payloads plus {} a "
                                     "message) already wait for the first connection (reconnect_buffer_bytes is {})",
                                     held_bytes_, held_overhead, options_.reconnect_buffer_bytes));
            return;
        }
        held_bytes_ += bytes + held_overhead;
        held_.push_back({index, std::move(message), bytes});
    }

    // Sends, in order, what waited for the first connection.
    void flush_held()
    {
        while (!held_.empty()) {
            auto entry = std::move(held_.front());
            held_.pop_front();
            held_bytes_ -= entry.bytes + held_overhead;
            publish_core(entry.index, entry.message.get(), entry.bytes);
        }
    }

    // Core NATS: tells receivers this run's last sequence number, so that they count the
    // events they lost after the last one they received (docs/nats.md, "On the wire").
    void send_marker(bool final)
    {
        auto message = make_message(marker_subject_, nullptr, {});
        set_header(message.get(), origin_header, instance_);
        set_header(message.get(), run_header, run_);
        set_header(message.get(), seq_header, std::to_string(sequence_));
        set_header(message.get(), marker_header, final ? "final" : "periodic");
        const natsStatus status = natsConnection_PublishMsg(connection_, message.get());
        if (status != NATS_OK) state_->note_error("sequence marker: " + status_text(status));
    }

    void fail_publish(std::size_t index, std::size_t bytes, const std::string& why)
    {
        ++publish_failed_;
        state_->note_error("publish: " + why);
        std::string detail = why;
        // (Before a first connection libnats knows no max_payload: it says 0.)
        if (connection_ != nullptr && state_->ever_connected && natsConnection_GetMaxPayload(connection_) > 0 &&
            static_cast<std::int64_t>(bytes) > natsConnection_GetMaxPayload(connection_)) {
            detail += fmt::format(" (the server's max_payload is {} bytes)", natsConnection_GetMaxPayload(connection_));
        }
        out_failures_.note(log_level::error, name(), "publishes failed", [&] {
            return fmt::format("NATS bridge '{}': could not send a {} event ({} payload bytes) to NATS: {}; counted in "
                               "publish_failed",
                               name(), exported_[index].name, bytes, detail);
        });
    }

    [[nodiscard]] std::string last_error() const
    {
        const std::scoped_lock lock{state_->mutex};
        return state_->last_error;
    }

    // ---- receiving ----

    std::optional<incoming> check(message_ptr message)
    {
        natsMsg* raw = message.get();
        // Core NATS: every message of another instance with a valid sequence counts for the
        // gaps, whatever follows (not imported, bad topic): the sender numbers all its subjects
        // in one sequence, so skipping one would count it as lost.
        note_sequence(raw);
        const std::string_view subject = natsMsg_GetSubject(raw);
        const std::string_view prefix = options_.subject_prefix;
        std::optional<std::size_t> index;
        if (subject.size() > prefix.size() + 1 && subject.substr(0, prefix.size()) == prefix && subject[prefix.size()] == '.') {
            const auto event_name = subject.substr(prefix.size() + 1);
            for (std::size_t i = 0; i < imported_.size(); ++i) {
                if (imported_[i].name == event_name) index = i;
            }
        }
        if (!index) { // another application's event: not an error
            ++not_imported_;
            settle(raw, true);
            return std::nullopt;
        }
        const auto origin = header(raw, origin_header);
        if (origin && *origin == instance_) {
            ++own_skipped_;
            settle(raw, true);
            return std::nullopt;
        }
        const auto topic_text = header(raw, topic_header);
        const auto topic = topic_text ? from_hex(*topic_text) : std::nullopt;
        std::string problem;
        std::size_t kind = 0; // one log throttle per kind of problem, so each kind is logged once in full
        if (!sequence_of(raw)) {
            problem = "it lacks the bridge's Event-Engine-Origin, -Run or -Seq header, or one is malformed (not sent by "
                      "an event_engine bridge?)";
        } else if (!topic_text) {
            kind = 1;
            problem = "it has no Event-Engine-Topic header";
        } else if (!topic) {
            kind = 2;
            problem = "its Event-Engine-Topic header is not hex";
        } else if (*topic != imported_[*index].topic) {
            kind = 3;
            problem = fmt::format("its topic '{}' differs from this application's '{}' for that event (the two "
                                  "applications define it differently)",
                                  event_engine::detail::printable(*topic), event_engine::detail::printable(imported_[*index].topic));
        }
        if (!problem.empty()) {
            ++bad_messages_;
            rejected_log_[kind].note(log_level::error, name(), "messages from NATS rejected", [&] {
                return fmt::format("NATS bridge '{}': rejected a message on {} ({} bytes): {}", name(), subject,
                                   natsMsg_GetDataLength(raw), problem);
            });
            settle(raw, false);
            return std::nullopt;
        }
        incoming result{*index, std::move(message), 0};
        if (options_.mode == delivery::core) return result; // (its sequence was noted above)
        jsMsgMetaData* meta = nullptr;
        if (natsMsg_GetMetaData(&meta, raw) == NATS_OK) {
            result.stream_sequence = meta->Sequence.Stream;
            const bool redelivered = meta->NumDelivered > 1;
            jsMsgMetaData_Destroy(meta);
            if (redelivered && delivered_set_.contains(result.stream_sequence)) {
                ++duplicates_skipped_;
                settle(raw, true);
                return std::nullopt;
            }
            if (redelivered && awaiting_set_.contains(result.stream_sequence)) {
                // Still in the application, not handled yet: not published again, and acknowledged
                // later through this latest delivery.
                ++duplicates_skipped_;
                const auto entry = std::find_if(awaiting_.begin(), awaiting_.end(), [&](const awaiting_ack& a) {
                    return a.stream_sequence == result.stream_sequence;
                });
                if (entry != awaiting_.end()) entry->message = std::move(result.message);
                return std::nullopt;
            }
        }
        return result;
    }

    // Core NATS: a sequence number beyond the next expected one means events were lost
    // on the way (a server died, the client dropped them as a slow consumer). A sequence
    // marker carries the sender's last sequence number: what is beyond the last one seen
    // was lost after it (a final marker also ends the run's record). The first message or
    // marker of a run seen sets where counting starts.
    //
    // At most max_runs runs are remembered; the least recently heard of is forgotten first (a
    // forgotten run just restarts its count). Only a message starts a run's record, never a
    // marker, so markers with made-up runs cannot push real runs out.
    void count_gaps(std::string_view origin, std::string_view run, std::uint64_t sequence, bool marker = false,
                    bool final = false)
    {
        std::string key{origin};
        key += '/';
        key += run;
        auto found = last_sequence_.find(key);
        if (found == last_sequence_.end()) {
            if (marker) return;
            if (last_sequence_.size() >= max_runs) {
                last_sequence_.erase(runs_by_use_.back());
                runs_by_use_.pop_back();
            }
            runs_by_use_.push_front(key);
            last_sequence_.emplace(std::move(key), run_record{sequence, runs_by_use_.begin()});
            return;
        }
        runs_by_use_.splice(runs_by_use_.begin(), runs_by_use_, found->second.use);
        const std::uint64_t seen = found->second.last;
        const std::uint64_t expected = marker ? seen : seen + 1; // a marker's number was sent already
        if (sequence > expected) {
            const std::uint64_t lost = sequence - expected;
            sequence_gaps_ += lost;
            // (Losses at the end of a sender's stream, learnt from its marker, are logged apart.)
            (marker ? tail_log_ : gap_log_).note(log_level::warn, name(), marker ? "losses after a sender's last message" : "sequence gaps", [&] {
                return fmt::format("NATS bridge '{}': {} events from '{}' never arrived (its sequence numbers {} to {}{}); "
                                   "counted in sequence_gaps",
                                   name(), lost, origin, seen + 1, seen + lost,
                                   marker ? ", after the last one received: learnt from its sequence marker" : "");
            });
        }
        found->second.last = std::max(seen, sequence);
        if (final) {
            runs_by_use_.erase(found->second.use);
            last_sequence_.erase(found);
        }
    }

    /// The sender's instance, run and sequence number from @p raw's headers, if all are there
    /// and exactly in the form a bridge writes them: the instance one subject token of at most
    /// 128 bytes, the run 16 lower-case hex digits, the number 1 to 2^53 - 1.
    struct sequence_headers {
        std::string_view origin;
        std::string_view run;
        std::uint64_t number = 0;
    };
    static std::optional<sequence_headers> sequence_of(natsMsg* raw)
    {
        const auto origin = header(raw, origin_header);
        const auto run = header(raw, run_header);
        const auto text = header(raw, seq_header);
        // 0 is no sequence number (they start at 1): a missing or malformed one reads as 0.
        const std::uint64_t number = text ? parse_number(*text).value_or(0) : 0;
        if (!origin || !run) return std::nullopt;
        if (origin->empty() || origin->size() > 128 || !is_subject_token(*origin)) return std::nullopt;
        if (run->size() != 16 || !std::all_of(run->begin(), run->end(), [](char c) {
                return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
            })) {
            return std::nullopt;
        }
        if (number == 0 || number >= (std::uint64_t{1} << 53)) return std::nullopt;
        return sequence_headers{*origin, *run, number};
    }

    // Core NATS: a message of another instance with valid sequence headers counts for its gaps.
    void note_sequence(natsMsg* raw)
    {
        if (options_.mode != delivery::core) return;
        const auto sequence = sequence_of(raw);
        if (sequence && sequence->origin != instance_) count_gaps(sequence->origin, sequence->run, sequence->number);
    }

    // A sequence marker (<prefix>._ee.marker): not an event, counted in markers_in.
    void take_marker(natsMsg* raw)
    {
        settle(raw, true);
        const auto origin = header(raw, origin_header);
        if (origin && *origin == instance_) return; // (not delivered: no echo)
        const auto sequence = sequence_of(raw);
        const auto kind = header(raw, marker_header);
        if (!sequence || !kind || (*kind != "final" && *kind != "periodic")) {
            // Not a marker a bridge sends: a bad message (in messages_in and bad_messages, not markers_in).
            ++messages_in_;
            ++bad_messages_;
            rejected_log_[0].note(log_level::error, name(), "messages from NATS rejected", [&] {
                return fmt::format("NATS bridge '{}': rejected a sequence marker on {}: its Event-Engine-Origin, -Run, "
                                   "-Seq or -Marker header is missing or malformed (not sent by an event_engine bridge?)",
                                   name(), marker_subject_);
            });
            return;
        }
        ++markers_in_;
        if (options_.mode != delivery::core) return;
        count_gaps(sequence->origin, sequence->run, sequence->number, true, *kind == "final");
    }

    void remember_delivered(std::uint64_t stream_sequence)
    {
        if (stream_sequence == 0) return;
        if (delivered_set_.insert(stream_sequence).second) delivered_order_.push_back(stream_sequence);
        while (delivered_order_.size() > 65'536) {
            delivered_set_.erase(delivered_order_.front());
            delivered_order_.pop_front();
        }
    }

    // A delivery mark after each batch of at most this many published messages.
    static constexpr std::size_t mark_every = 64;

    // JetStream: a message published into the application and not acknowledged yet.
    struct awaiting_ack {
        message_ptr message;
        std::uint64_t stream_sequence = 0;
        std::uint64_t mark = 0; // the first delivery mark published after it
    };

    void acknowledge(natsMsg* message, std::uint64_t stream_sequence)
    {
        const natsStatus status = reply_ack(message, "+ACK");
        if (status != NATS_OK) state_->note_error("ack: " + status_text(status)); // delivered again: a duplicate, skipped
        remember_delivered(stream_sequence);
    }

    // JetStream: whether @p raw is a delivery of one of this bridge's consumers: its reply
    // subject is the server's ack subject ($JS.ACK.<stream>.<consumer>.... or, with a domain,
    // $JS.ACK.<domain>.<account hash>.<stream>.<consumer>....), naming this stream and consumer.
    [[nodiscard]] bool from_own_consumer(natsMsg* raw) const
    {
        const char* reply = natsMsg_GetReply(raw);
        if (reply == nullptr || std::string_view{reply}.rfind("$JS.ACK.", 0) != 0) return false;
        jsMsgMetaData* meta = nullptr;
        if (natsMsg_GetMetaData(&meta, raw) != NATS_OK || meta == nullptr) return false;
        const bool ours = meta->Stream != nullptr && meta->Consumer != nullptr && stream_ == meta->Stream &&
                          std::find(consumers_.begin(), consumers_.end(), std::string_view{meta->Consumer}) != consumers_.end();
        jsMsgMetaData_Destroy(meta);
        return ours;
    }

    // A JetStream ack of @p kind ("+ACK", "-NAK", "+WPI" in progress, "+TERM") on @p message's
    // reply subject. The bridge reads its consumers through a plain subscription (see
    // set_up_consumers()), so it answers the server itself rather than through natsMsg_Ack().
    natsStatus reply_ack(natsMsg* message, const char* kind)
    {
        const char* reply = natsMsg_GetReply(message);
        if (reply == nullptr || *reply == '\0' || connection_ == nullptr) return NATS_OK; // nothing to answer
        return natsConnection_PublishString(connection_, reply, kind);
    }

    // A delivery mark after what was published since the last one.
    void mark_published()
    {
        if (marks_ != nullptr && unmarked_ > 0 && marks_->publish_mark()) unmarked_ = 0;
    }

    // Acknowledges what every receiving plugin has handled (read a mark published after
    // it); a batch in which a plugin dropped an event is handed back (nak: delivered again
    // at once). What still waits is kept from being delivered again meanwhile (in progress).
    void settle_handled()
    {
        if (awaiting_.empty()) return;
        const auto& tracker = *marks_->tracker();
        const std::uint64_t confirmed = tracker.confirmed();
        while (!awaiting_.empty() && awaiting_.front().mark <= confirmed) {
            auto& entry = awaiting_.front();
            if (tracker.lossy(entry.mark)) {
                const natsStatus status = reply_ack(entry.message.get(), "-NAK");
                if (status != NATS_OK) state_->note_error("nak: " + status_text(status)); // redelivered after ack_wait
            } else {
                acknowledge(entry.message.get(), entry.stream_sequence);
            }
            awaiting_set_.erase(entry.stream_sequence);
            awaiting_.pop_front();
        }
        const auto now = clock::now();
        if (awaiting_.empty() || now < next_progress_) return;
        for (const auto& entry : awaiting_) (void)reply_ack(entry.message.get(), "+WPI");
        next_progress_ = now + options_.ack_wait / 2;
    }

    // JetStream: a message that needs no delivery is acked; one that can never be delivered
    // is terminated (never sent again). Core NATS: nothing to do.
    void settle(natsMsg* message, bool done)
    {
        if (options_.mode != delivery::jetstream) return;
        const natsStatus status = reply_ack(message, done ? "+ACK" : "+TERM");
        if (status != NATS_OK) state_->note_error("ack: " + status_text(status));
    }

    void remember_dropped()
    {
        if (subscription_ == nullptr) return;
        std::int64_t dropped = 0;
        if (natsSubscription_GetDropped(subscription_, &dropped) == NATS_OK && dropped >= 0) {
            slow_consumer_drops_ = static_cast<std::uint64_t>(dropped);
        }
    }

    static std::uint64_t echo_key(std::string_view event_name, std::span<const std::byte> payload)
    {
        const std::string_view bytes{reinterpret_cast<const char*>(payload.data()), payload.size()};
        const std::uint64_t a = std::hash<std::string_view>{}(event_name);
        const std::uint64_t b = std::hash<std::string_view>{}(bytes);
        return a ^ (b + 0x9e3779b97f4a7c15ULL + (a << 6) + (a >> 2)) ^ (payload.size() << 1);
    }

    // ---- closing ----

    void close_connection()
    {
        remember_dropped();
        if (connection_ != nullptr) {
            // Closed before any subscription is destroyed: closing stops the connection's
            // read loop, which in nats.c before 3.6 can still be handing a message to a
            // subscription another thread destroys, and crash (nats.c issue 637, fixed in
            // 3.6.0; Debian 12 ships 3.4). Seen here as a SIGSEGV at stop, about once in
            // 60-120 runs of nats.single_server under load.
            state_->closing = true;
            natsConnection_Close(connection_); // its closed callback releases its holder
        }
        if (subscription_ != nullptr) {
            natsSubscription_Destroy(subscription_); // a durable consumer stays: it was not created by this subscription
            subscription_ = nullptr;
        }
        if (ack_subscription_ != nullptr) {
            // Closed with the connection, which ran its completion callback (that releases
            // its holder); unsubscribing a closed subscription does nothing.
            natsSubscription_Destroy(ack_subscription_);
            ack_subscription_ = nullptr;
        }
        if (jetstream_ != nullptr) {
            jsCtx_Destroy(jetstream_);
            jetstream_ = nullptr;
        }
        if (connection_ != nullptr) {
            natsConnection_Destroy(connection_);
            connection_ = nullptr;
        }
        {
            const std::scoped_lock lock{state_->mutex};
            unconfirmed_at_stop_ += state_->pending.size(); // zero unless the out thread never finished
            state_->pending.clear();
            state_->aliases.clear();
            state_->acknowledged.clear();
        }
        subscribed_ = false;
    }

    void close()
    {
        const std::scoped_lock lock{start_mutex_};
        close_connection();
    }

    bridge_options options_;
    std::vector<event_info> exported_;
    std::vector<event_info> imported_;
    std::shared_ptr<shared_state> state_;
    std::string instance_;
    std::string run_;
    std::string stream_;
    std::string durable_;
    std::vector<std::string> subjects_;
    std::vector<std::string> topics_hex_;
    std::string marker_subject_; // <prefix>._ee.marker
    std::vector<std::string> consumers_; // JetStream: the durable consumers, one per imported event
    std::string reply_prefix_;
    clock::time_point setup_deadline_{}; // JetStream set-up: setup_timeout from its start, for all its steps

    std::mutex start_mutex_;
    bool started_ = false;
    std::optional<std::string> start_failure_;
    int participants_ = 0;
    int left_ = 0;

    natsConnection* connection_ = nullptr;
    natsSubscription* subscription_ = nullptr;
    natsSubscription* ack_subscription_ = nullptr;
    jsCtx* jetstream_ = nullptr;
    std::atomic<bool> subscribed_{false};

    // out thread
    std::uint64_t sequence_ = 0;
    std::uint64_t next_token_ = 0;
    clock::time_point next_due_ = clock::time_point::max();
    // JetStream retries while the stream fails: the wait between probes, from first_probe_wait
    // doubling up to max_probe_wait (so delivery resumes at most that long after the stream
    // answers again); when the failing began (logged once per outage).
    static constexpr std::chrono::milliseconds first_probe_wait{100};
    static constexpr std::chrono::milliseconds max_probe_wait{500};
    std::chrono::milliseconds probe_wait_{first_probe_wait};
    clock::time_point next_probe_{};
    std::optional<clock::time_point> outage_start_;
    log_throttle out_failures_;
    struct held_message { // core NATS, waiting for the first connection
        std::size_t index = 0;
        message_ptr message;
        std::size_t bytes = 0;
    };
    std::deque<held_message> held_;
    std::size_t held_bytes_ = 0;
    clock::time_point next_marker_{};
    static constexpr int marker_repeats = 6; // periodic markers sent again after the sequence last moved
    std::uint64_t marked_sequence_ = 0; // the sequence number the last periodic marker carried
    int marker_repeats_left_ = 0;
    // in thread
    static constexpr std::size_t max_runs = 4096;
    struct run_record {
        std::uint64_t last = 0; // the highest sequence number seen
        std::list<std::string>::iterator use; // in runs_by_use_
    };
    std::unordered_map<std::string, run_record> last_sequence_;
    std::list<std::string> runs_by_use_; // most recently heard of first
    std::unordered_set<std::uint64_t> delivered_set_;
    std::deque<std::uint64_t> delivered_order_;
    event_engine::detail::plugin_runtime* marks_ = nullptr; // JetStream with delivery tracking
    std::deque<awaiting_ack> awaiting_;
    std::unordered_set<std::uint64_t> awaiting_set_;
    std::size_t unmarked_ = 0;
    clock::time_point next_progress_{};
    bool subscription_broken_ = false;
    log_throttle undecodable_log_;
    std::array<log_throttle, 4> rejected_log_;
    log_throttle drop_log_;
    log_throttle gap_log_;
    log_throttle tail_log_;
    std::uint64_t handed_over_ = 0;

    std::mutex echo_mutex_;
    std::unordered_multiset<std::uint64_t> echoes_;

    // Counters: written by one thread each, read by report() from any.
    std::atomic<std::uint64_t> events_out_{0};
    std::atomic<std::uint64_t> echoes_skipped_{0};
    std::atomic<std::uint64_t> publish_failed_{0};
    std::atomic<std::uint64_t> unconfirmed_at_stop_{0};
    std::atomic<std::uint64_t> unsent_at_stop_{0};
    std::atomic<std::uint64_t> publish_retries_{0};
    std::atomic<std::uint64_t> messages_in_{0};
    std::atomic<std::uint64_t> events_in_{0};
    std::atomic<std::uint64_t> own_skipped_{0};
    std::atomic<std::uint64_t> not_imported_{0};
    std::atomic<std::uint64_t> bad_messages_{0};
    std::atomic<std::uint64_t> decode_failures_{0};
    std::atomic<std::uint64_t> duplicates_skipped_{0};
    std::atomic<std::uint64_t> abandoned_at_stop_{0};
    std::atomic<std::uint64_t> unacknowledged_at_stop_{0};
    std::atomic<std::uint64_t> sequence_gaps_{0};
    std::atomic<std::uint64_t> slow_consumer_drops_{0};
    std::atomic<std::uint64_t> markers_in_{0};
};

} // namespace event_engine::nats::detail
