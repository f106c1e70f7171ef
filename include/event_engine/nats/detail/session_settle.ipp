#pragma once
// session's settlement (the in thread): JetStream acks, naks and terms of what the application
// handled, learnt from delivery marks.
// Included by session.hpp in the header-only mode, compiled once into
// event_engine::nats_compiled otherwise (src/event_engine_nats.cpp; nats/detail/config.hpp).

#include "event_engine/nats/detail/session.hpp"

#include <fmt/core.h>

#include <nats/nats.h>

#include <cstdint>
#include <string_view>
#include <utility>

namespace event_engine::nats::detail {

EVENT_ENGINE_NATS_DECL void session::track_delivery(event_engine::detail::plugin_runtime& runtime) noexcept
{
    // Nothing left from an earlier run that ended by an exception (its runtime is gone).
    awaiting_.clear();
    awaiting_set_.clear();
    unmarked_ = 0;
    marks_ = options_.mode == delivery::jetstream && runtime.tracker() != nullptr ? &runtime : nullptr;
}

EVENT_ENGINE_NATS_DECL void session::delivered(incoming& message)
{
    ++events_in_;
    if (options_.mode != delivery::jetstream) return;
    if (marks_ == nullptr || (awaiting_.empty() && !marks_->tracker()->has_live_subscribers())) {
        acknowledge(raw_of(message.message), message.stream_sequence);
        return;
    }
    if (awaiting_.empty()) next_progress_ = clock::now() + options_.ack_wait / 2;
    if (message.stream_sequence != 0) awaiting_set_.insert(message.stream_sequence);
    awaiting_.push_back(
        {from_received(std::move(message.message)), message.stream_sequence, marks_->tracker()->issued() + 1});
    // A mark per batch: after mark_every messages, or when no more is queued now.
    int queued = 0;
    int queued_bytes = 0;
    if (++unmarked_ >= mark_every || natsSubscription_GetPending(subscription_, &queued, &queued_bytes) != NATS_OK ||
        queued == 0) {
        mark_published();
    }
}

EVENT_ENGINE_NATS_DECL void session::undecodable(incoming& message, std::string_view event_name,
                                                 std::string_view reason)
{
    ++decode_failures_;
    undecodable_log_.note(log_level::error, name(), "undecodable messages from NATS", [&] {
        return fmt::format("NATS bridge '{}': cannot decode a {} event from NATS ({} payload bytes): {}; skipped",
                           name(), event_name, natsMsg_GetDataLength(raw_of(message.message)), reason);
    });
    settle(raw_of(message.message), false);
}

EVENT_ENGINE_NATS_DECL void session::remember_delivered(std::uint64_t stream_sequence)
{
    if (stream_sequence == 0) return;
    if (delivered_set_.insert(stream_sequence).second) delivered_order_.push_back(stream_sequence);
    while (delivered_order_.size() > 65'536) {
        delivered_set_.erase(delivered_order_.front());
        delivered_order_.pop_front();
    }
}

EVENT_ENGINE_NATS_DECL void session::acknowledge(natsMsg* message, std::uint64_t stream_sequence)
{
    const natsStatus status = reply_ack(message, "+ACK");
    if (status != NATS_OK) state_->note_error("ack: " + status_text(status)); // delivered again: a duplicate, skipped
    remember_delivered(stream_sequence);
}

EVENT_ENGINE_NATS_DECL natsStatus session::reply_ack(natsMsg* message, const char* kind)
{
    const char* reply = natsMsg_GetReply(message);
    if (reply == nullptr || *reply == '\0' || connection_ == nullptr) return NATS_OK; // nothing to answer
    return natsConnection_PublishString(connection_, reply, kind);
}

EVENT_ENGINE_NATS_DECL void session::mark_published()
{
    if (marks_ != nullptr && unmarked_ > 0 && marks_->publish_mark()) unmarked_ = 0;
}

EVENT_ENGINE_NATS_DECL void session::settle_handled()
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

EVENT_ENGINE_NATS_DECL void session::settle(natsMsg* message, bool done)
{
    if (options_.mode != delivery::jetstream) return;
    const natsStatus status = reply_ack(message, done ? "+ACK" : "+TERM");
    if (status != NATS_OK) state_->note_error("ack: " + status_text(status));
}

EVENT_ENGINE_NATS_DECL void session::remember_dropped()
{
    if (subscription_ == nullptr) return;
    std::int64_t dropped = 0;
    if (natsSubscription_GetDropped(subscription_, &dropped) == NATS_OK && dropped >= 0) {
        slow_consumer_drops_ = static_cast<std::uint64_t>(dropped);
    }
}

} // namespace event_engine::nats::detail
