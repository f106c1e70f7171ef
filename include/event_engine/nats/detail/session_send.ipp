#pragma once
// session's app -> NATS (the out thread): sequence numbers, core NATS's held messages and markers,
// JetStream publishes, their acks awaited and retried.
// Included by session.hpp in the header-only mode, compiled once into
// event_engine::nats_compiled otherwise (src/event_engine_nats.cpp; nats/detail/config.hpp).

#include "event_engine/nats/detail/session.hpp"

#include <fmt/core.h>

#include <nats/nats.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace event_engine::nats::detail {

EVENT_ENGINE_NATS_DECL bool session::take_echo(std::string_view event_name, std::span<const std::byte> payload)
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

EVENT_ENGINE_NATS_DECL void session::send(std::size_t index, std::span<const std::byte> payload,
                                          const std::function<bool()>& stopping)
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

EVENT_ENGINE_NATS_DECL void session::tend()
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

EVENT_ENGINE_NATS_DECL void session::unsent_at_stop()
{
    ++events_out_;
    ++unsent_at_stop_;
}

EVENT_ENGINE_NATS_DECL void session::maintain()
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
        const std::span<const std::byte> payload{
            reinterpret_cast<const std::byte*>(natsMsg_GetData(entry.message.get())),
            static_cast<std::size_t>(natsMsg_GetDataLength(entry.message.get()))};
        auto message = make_message(natsMsg_GetSubject(entry.message.get()), reply.c_str(), payload);
        copy_headers(entry.message.get(), message.get());
        auto earlier = std::move(entry.earlier);
        earlier.push_back(due_entry.first);
        register_and_publish(fresh, std::move(message), entry.attempts + 1, std::move(earlier));
    }
}

EVENT_ENGINE_NATS_DECL void session::stamp(natsMsg* message, std::size_t index, std::uint64_t sequence)
{
    set_header(message, origin_header, instance_);
    set_header(message, run_header, run_);
    set_header(message, seq_header, std::to_string(sequence));
    set_header(message, topic_header, topics_hex_[index]);
}

EVENT_ENGINE_NATS_DECL void session::send_jetstream(std::size_t index, std::span<const std::byte> payload,
                                                    const std::function<bool()>& stopping)
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

EVENT_ENGINE_NATS_DECL void session::register_and_publish(std::uint64_t token, message_ptr message, int attempts,
                                                          std::vector<std::uint64_t> earlier)
{
    natsMsg* raw = message.get();
    const auto deadline = clock::now() + options_.publish_ack_timeout;
    {
        const std::scoped_lock lock{state_->mutex};
        next_due_ = std::min(next_due_, deadline);
        for (const auto alias : earlier) state_->aliases[alias] = token;
        state_->pending.emplace(
            token, shared_state::pending_publish{std::move(message), deadline, attempts, false, std::move(earlier)});
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

EVENT_ENGINE_NATS_DECL void session::publish_core(std::size_t index, natsMsg* message, std::size_t bytes)
{
    stamp(message, index, sequence_ + 1);
    const natsStatus status = natsConnection_PublishMsg(connection_, message);
    if (status == NATS_OK) {
        ++sequence_;
        ++state_->published;
        return;
    }
    fail_publish(index, bytes,
                 status == NATS_INSUFFICIENT_BUFFER
                     ? status_text(status) + " (the connection is lost and reconnect_buffer_bytes, " +
                           std::to_string(options_.reconnect_buffer_bytes) + ", are already buffered)"
                     : status_text(status));
}

EVENT_ENGINE_NATS_DECL void session::hold(std::size_t index, message_ptr message, std::size_t bytes)
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

EVENT_ENGINE_NATS_DECL void session::flush_held()
{
    while (!held_.empty()) {
        auto entry = std::move(held_.front());
        held_.pop_front();
        held_bytes_ -= entry.bytes + held_overhead;
        publish_core(entry.index, entry.message.get(), entry.bytes);
    }
}

EVENT_ENGINE_NATS_DECL void session::send_marker(bool final)
{
    auto message = make_message(marker_subject_, nullptr, {});
    set_header(message.get(), origin_header, instance_);
    set_header(message.get(), run_header, run_);
    set_header(message.get(), seq_header, std::to_string(sequence_));
    set_header(message.get(), marker_header, final ? "final" : "periodic");
    const natsStatus status = natsConnection_PublishMsg(connection_, message.get());
    if (status != NATS_OK) state_->note_error("sequence marker: " + status_text(status));
}

EVENT_ENGINE_NATS_DECL void session::fail_publish(std::size_t index, std::size_t bytes, const std::string& why)
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

EVENT_ENGINE_NATS_DECL std::string session::last_error() const
{
    const std::scoped_lock lock{state_->mutex};
    return state_->last_error;
}

} // namespace event_engine::nats::detail
