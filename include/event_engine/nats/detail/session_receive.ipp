#pragma once
// session's NATS -> app (the in thread): the inbound checks (subject, origin, headers, topic, own
// consumer, redelivery), sequence gaps and markers, echoes.
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
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

namespace event_engine::nats::detail {

EVENT_ENGINE_NATS_DECL std::optional<session::incoming> session::next(std::chrono::milliseconds wait)
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

EVENT_ENGINE_NATS_DECL void session::expect_echo(std::string_view event_name, std::span<const std::byte> payload)
{
    const std::scoped_lock lock{echo_mutex_};
    echoes_.insert(echo_key(event_name, payload));
}

EVENT_ENGINE_NATS_DECL void session::forget_echo(std::string_view event_name, std::span<const std::byte> payload)
{
    const std::scoped_lock lock{echo_mutex_};
    const auto found = echoes_.find(echo_key(event_name, payload));
    if (found != echoes_.end()) echoes_.erase(found);
}

EVENT_ENGINE_NATS_DECL std::optional<session::incoming> session::check(message_ptr message)
{
    natsMsg* raw = message.get();
    // Core NATS: every message of another instance with a valid sequence counts for the
    // gaps, whatever follows (not imported, bad topic): the sender numbers all its subjects
    // in one sequence, so skipping one would count it as lost.
    note_sequence(raw);
    const std::string_view subject = natsMsg_GetSubject(raw);
    const std::string_view prefix = options_.subject_prefix;
    std::optional<std::size_t> index;
    if (subject.size() > prefix.size() + 1 && subject.substr(0, prefix.size()) == prefix &&
        subject[prefix.size()] == '.') {
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
                              event_engine::detail::printable(*topic),
                              event_engine::detail::printable(imported_[*index].topic));
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
    const std::span<const std::byte> bytes{reinterpret_cast<const std::byte*>(natsMsg_GetData(raw)),
                                           static_cast<std::size_t>(natsMsg_GetDataLength(raw))};
    incoming result{*index, to_received(std::move(message)), 0, bytes};
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
            if (entry != awaiting_.end()) entry->message = from_received(std::move(result.message));
            return std::nullopt;
        }
    }
    return result;
}

EVENT_ENGINE_NATS_DECL void session::count_gaps(std::string_view origin, std::string_view run, std::uint64_t sequence,
                                                bool marker, bool final)
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
        (marker ? tail_log_ : gap_log_)
            .note(log_level::warn, name(), marker ? "losses after a sender's last message" : "sequence gaps", [&] {
                return fmt::format(
                    "NATS bridge '{}': {} events from '{}' never arrived (its sequence numbers {} to {}{}); "
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

EVENT_ENGINE_NATS_DECL std::optional<session::sequence_headers> session::sequence_of(natsMsg* raw)
{
    const auto origin = header(raw, origin_header);
    const auto run = header(raw, run_header);
    const auto text = header(raw, seq_header);
    // 0 is no sequence number (they start at 1): a missing or malformed one reads as 0.
    const std::uint64_t number = text ? parse_number(*text).value_or(0) : 0;
    if (!origin || !run) return std::nullopt;
    if (origin->empty() || origin->size() > 128 || !is_subject_token(*origin)) return std::nullopt;
    if (run->size() != 16 || !std::all_of(run->begin(), run->end(),
                                          [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); })) {
        return std::nullopt;
    }
    if (number == 0 || number >= (std::uint64_t{1} << 53)) return std::nullopt;
    return sequence_headers{*origin, *run, number};
}

EVENT_ENGINE_NATS_DECL void session::note_sequence(natsMsg* raw)
{
    if (options_.mode != delivery::core) return;
    const auto sequence = sequence_of(raw);
    if (sequence && sequence->origin != instance_) count_gaps(sequence->origin, sequence->run, sequence->number);
}

EVENT_ENGINE_NATS_DECL void session::take_marker(natsMsg* raw)
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

EVENT_ENGINE_NATS_DECL bool session::from_own_consumer(natsMsg* raw) const
{
    const char* reply = natsMsg_GetReply(raw);
    if (reply == nullptr || std::string_view{reply}.rfind("$JS.ACK.", 0) != 0) return false;
    jsMsgMetaData* meta = nullptr;
    if (natsMsg_GetMetaData(&meta, raw) != NATS_OK || meta == nullptr) return false;
    const bool ours =
        meta->Stream != nullptr && meta->Consumer != nullptr && stream_ == meta->Stream &&
        std::find(consumers_.begin(), consumers_.end(), std::string_view{meta->Consumer}) != consumers_.end();
    jsMsgMetaData_Destroy(meta);
    return ours;
}

EVENT_ENGINE_NATS_DECL std::uint64_t session::echo_key(std::string_view event_name, std::span<const std::byte> payload)
{
    const std::string_view bytes{reinterpret_cast<const char*>(payload.data()), payload.size()};
    const std::uint64_t a = std::hash<std::string_view>{}(event_name);
    const std::uint64_t b = std::hash<std::string_view>{}(bytes);
    return a ^ (b + 0x9e3779b97f4a7c15ULL + (a << 6) + (a >> 2)) ^ (payload.size() << 1);
}

} // namespace event_engine::nats::detail
