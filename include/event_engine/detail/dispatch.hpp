#pragma once
// Statically generated dispatch: a fold over the subscribed event types that
// compares the frame against each compile-time topic, the same code as a
// hand-written `if (starts_with(...)) ... else if ...` chain. Topics are
// prefix-free, so at most one matches.

#include "event_engine/codec.hpp"
#include "event_engine/detail/plugin_runtime.hpp"
#include "event_engine/event.hpp"

#include <zmq.hpp>

#include <cstring>
#include <exception>
#include <optional>
#include <span>
#include <string_view>

namespace event_engine::detail {

template <event_type E>
inline bool frame_has_topic(std::string_view frame) noexcept
{
    constexpr std::string_view topic = topic_of<E>;
    return frame.size() >= topic.size() && std::memcmp(frame.data(), topic.data(), topic.size()) == 0;
}

// The cold half of decode_and_deliver, called from its catch block: rethrows the
// codec's exception to report it. Out of line, so the per-type hot path stays small.
[[gnu::cold, gnu::noinline]] inline void report_current_decode_failure(plugin_runtime& runtime,
                                                                      std::string_view event_name,
                                                                      std::size_t payload_size) noexcept
{
    try {
        throw;
    } catch (const std::exception& failure) {
        try {
            runtime.report_decode_failure(event_name, payload_size, failure.what());
        } catch (...) {
        }
    } catch (...) {
        try {
            runtime.report_decode_failure(event_name, payload_size, "unknown exception");
        } catch (...) {
        }
    }
}

// Decodes the payload as E and hands it to @p deliver. A codec failure is
// reported and skipped; an exception from @p deliver (the plugin) propagates.
// Called only after frame_has_topic<E>(frame): the topic fits.
template <event_type E, class Deliver>
void decode_and_deliver(plugin_runtime& runtime, std::string_view frame, Deliver& deliver)
{
    constexpr std::size_t topic_size = topic_of<E>.size();
    const std::span<const std::byte> payload{reinterpret_cast<const std::byte*>(frame.data()) + topic_size,
                                             frame.size() - topic_size};
    std::optional<E> event;
    try {
        event.emplace(codec<E>::decode(payload));
    } catch (...) {
        report_current_decode_failure(runtime, name_of<E>, payload.size());
        return;
    }
    runtime.count_delivered();
    if (runtime.tracing()) [[unlikely]]
        runtime.trace_event("receives", name_of<E>, payload.size());
    deliver(std::move(*event));
}

/// Finds the subscribed type of @p frame, decodes it and calls @p deliver with the event.
template <event_type... Subscribed, class Deliver>
void dispatch(plugin_runtime& runtime, const zmq::message_t& frame, Deliver&& deliver)
{
    const std::string_view bytes = frame_view(frame);
    const bool matched =
        ((frame_has_topic<Subscribed>(bytes) ? (decode_and_deliver<Subscribed>(runtime, bytes, deliver), true) : false) ||
         ...);
    if (!matched) runtime.report_unknown_topic(bytes);
}

/// Encodes @p event as topic + payload in the runtime's scratch buffer and publishes it.
template <event_type E>
bool publish_event(plugin_runtime& runtime, const E& event)
{
    auto& buffer = runtime.scratch();
    buffer.clear();
    constexpr std::string_view topic = topic_of<E>;
    buffer.append(std::as_bytes(std::span{topic.data(), topic.size()}));
    payload_writer writer{buffer};
    codec<E>::encode(event, writer);
    const std::size_t payload_size = writer.size();
    zmq::message_t frame = take_frame(buffer);
    const bool sent = runtime.publish(frame);
    if (runtime.tracing()) [[unlikely]]
        runtime.trace_event(sent ? "publishes" : "abandons at stop", name_of<E>, payload_size);
    return sent;
}

} // namespace event_engine::detail
