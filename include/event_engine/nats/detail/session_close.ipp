#pragma once
// session's stopping: the out and in threads finish, the connection closes; the counters.
// Included by session.hpp in the header-only mode, compiled once into
// event_engine::nats_compiled otherwise (src/event_engine_nats.cpp; nats/detail/config.hpp).

#include "event_engine/nats/detail/session.hpp"

#include <fmt/core.h>

#include <nats/nats.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <mutex>

namespace event_engine::nats::detail {

EVENT_ENGINE_NATS_DECL void session::leave()
{
    const std::scoped_lock lock{start_mutex_};
    if (++left_ >= participants_) close_connection();
}

EVENT_ENGINE_NATS_DECL void session::finish_outbound()
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

EVENT_ENGINE_NATS_DECL void session::note_drops()
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

EVENT_ENGINE_NATS_DECL void session::finish_inbound()
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
    if (subscription_broken_ || natsSubscription_GetPending(subscription_, &queued, &queued_bytes) != NATS_OK)
        queued = 0;
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

EVENT_ENGINE_NATS_DECL bridge_report session::report() const
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

EVENT_ENGINE_NATS_DECL void session::close_connection()
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

EVENT_ENGINE_NATS_DECL void session::close()
{
    const std::scoped_lock lock{start_mutex_};
    close_connection();
}

} // namespace event_engine::nats::detail
