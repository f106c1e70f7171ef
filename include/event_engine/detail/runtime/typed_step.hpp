#pragma once
// The receive loop's typed step, between dispatch (dispatch.hpp: finds the event, decodes
// it and returns what it found) and the plugin's untyped runtime (plugin_runtime.hpp: counts,
// traces and reports), and the typed publish. plugin<...> and the NATS bridge call these.

#include "event_engine/codec.hpp"
#include "event_engine/detail/dispatch/dispatch.hpp"
#include "event_engine/detail/endpoints/sockets.hpp"
#include "event_engine/detail/meta/type_list.hpp"
#include "event_engine/detail/runtime/envelope.hpp"
#include "event_engine/detail/runtime/event_route.hpp"
#include "event_engine/detail/runtime/plugin_runtime.hpp"
#include "event_engine/event.hpp"

#include <zmq.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>

namespace event_engine::detail {

// Cold, one function per event type (distinct calls: g++ does not merge the leaves' traces
// into one block that each leaf must fill in).
template <event_type E>
[[gnu::cold, gnu::noinline]] void trace_received(const plugin_runtime& runtime, dispatched delivery)
{
    runtime.trace_event("receives", name_of<E>, delivery.payload_size(topic_of<E>.size()));
}

// What @p runtime does with each delivery: count it and trace it, then @p deliver.
template <class Deliver>
[[gnu::always_inline]] inline auto counted(plugin_runtime& runtime, Deliver& deliver)
{
    // (always_inline: as the rest of the path, so that g++ keeps the event in registers.)
    return [&runtime, &deliver ](dispatched delivery, auto&& event) __attribute__((always_inline))
    {
        runtime.count_delivered();
        if (runtime.tracing()) [[unlikely]]
            trace_received<std::remove_cvref_t<decltype(event)>>(runtime, delivery);
        deliver(std::forward<decltype(event)>(event));
    };
}

// A refusal dispatch returned, reported (never throws: nor did the codec's catch block it
// came from). One function per event type (the index picks the name).
template <event_type... Subscribed>
[[gnu::cold, gnu::noinline]] void report_refused(plugin_runtime& runtime, std::uint32_t index) noexcept
{
    try {
        const refusal& last = last_refusal();
        runtime.report_decode_failure(names_of_v<Subscribed...>[index], last.payload_size, last.reason);
    } catch (...) {
    }
}

/// dispatch() with the plan's limits given (the benchmark compares them).
template <plan_limits Limits, event_type... Subscribed, class Deliver>
[[gnu::always_inline]] inline void dispatch_planned(plugin_runtime& runtime, const zmq::message_t& frame,
                                                    Deliver&& deliver)
{
    const std::string_view bytes = frame_view(frame);
    const dispatch_result found = dispatch_frame<Limits, Subscribed...>(bytes, counted(runtime, deliver));
    if (found.what == dispatch_result::outcome::refused) [[unlikely]]
        report_refused<Subscribed...>(runtime, found.index);
    else if (found.what == dispatch_result::outcome::unknown_topic) [[unlikely]] runtime.report_unknown_topic(bytes);
}

/// Finds the subscribed type of @p frame, decodes it and calls @p deliver with the event.
template <event_type... Subscribed, class Deliver>
[[gnu::always_inline]] inline void dispatch(plugin_runtime& runtime, const zmq::message_t& frame, Deliver&& deliver)
{
    dispatch_planned<default_plan_limits, Subscribed...>(runtime, frame, deliver);
}

/// Hands the event of @p item, one of Subscribed, to @p deliver (as `const E&`).
template <event_type... Subscribed, class Deliver>
[[gnu::always_inline]] inline void deliver_envelope(plugin_runtime& runtime, const envelope& item, Deliver&& deliver)
{
    const dispatch_result found = dispatch_envelope<Subscribed...>(item, counted(runtime, deliver));
    if (found.what == dispatch_result::outcome::refused) [[unlikely]]
        report_refused<Subscribed...>(runtime, found.index);
    else if (found.what == dispatch_result::outcome::bad_event) [[unlikely]]
        runtime.report_bad_event(names_of_v<Subscribed...>[found.index], item);
}

/// Publishes @p event, the plugin's @p k-th publication: built once into an envelope (moved
/// in when it is an rvalue) and handed to every subscriber; encoded, once, only when a
/// subscriber outside the process receives it (or its codec views its frame). One function
/// per event type, not inlined into each plugin's publish() calls.
template <event_type E, class Event>
[[gnu::noinline]] bool publish_event(plugin_runtime& runtime, std::size_t k, Event&& event)
{
    const event_route& route = runtime.publication(k);
    envelope item;
    item.index = route.event;
    std::size_t payload = 0;
    // (A plugin that traces is told the payload's size: encoded for that alone.)
    if (borrows_frame_v<E> || runtime.needs_frame(route) || runtime.tracing()) [[unlikely]] {
        payload_writer writer{runtime.start_event(topic_of<E>)};
        codec<E>::encode(event, writer);
        payload = writer.size();
        item.frame = runtime.finish_frame();
    }
    if constexpr (!borrows_frame_v<E>) {
        if (has_subscribers(route)) item.hold(std::forward<Event>(event));
    }
    return runtime.send_event(route, item, name_of<E>, payload);
}

} // namespace event_engine::detail
