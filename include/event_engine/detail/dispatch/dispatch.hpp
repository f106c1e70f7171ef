#pragma once
// Statically generated dispatch: the subscribed topics are known at compile time,
// so the code that finds a frame's event type is planned for them
// (detail/dispatch/dispatch_plan.hpp): up to 8 topics, a chain of whole-topic compares,
// like a hand-written `if (starts_with(...)) ... else if ...`; 9 to 16, the first 8
// so, then a tree over the rest; beyond, the first topic alone, then a decision tree
// that switches on the byte that best tells the remaining topics apart, chosen per
// bucket, and confirms the one candidate left with a compare (detail/dispatch/topic_match.hpp).
// Topics are prefix-free, so at most one matches.

#include "event_engine/codec.hpp"
#include "event_engine/detail/runtime/envelope.hpp"
#include "event_engine/detail/runtime/plugin_runtime.hpp"
#include "event_engine/detail/dispatch/topic_match.hpp"
#include "event_engine/event.hpp"

#include <zmq.hpp>

#include <array>
#include <concepts>
#include <exception>
#include <string>
#include <cstddef>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>

namespace event_engine::detail {

/// The topics of Es, in order: what topic_matcher plans for.
template <event_type... Es>
inline constexpr std::array<std::string_view, sizeof...(Es)> topics_of_v{topic_of<Es>...};

// The I-th of a pack in one step (overload resolution picks the base), where
// std::tuple_element would instantiate a recursion per index.
template <std::size_t I, class T>
struct indexed_type {
    using type = T;
};
template <class Indices, class... Ts>
struct indexed_types;
template <std::size_t... Is, class... Ts>
struct indexed_types<std::index_sequence<Is...>, Ts...> : indexed_type<Is, Ts>... {};
template <std::size_t I, class T>
indexed_type<I, T> select_indexed(const indexed_type<I, T>&); // never defined: decltype only
template <std::size_t I, class... Ts>
using pack_element_t =
    typename decltype(select_indexed<I>(std::declval<indexed_types<std::index_sequence_for<Ts...>, Ts...>>()))::type;

template <class E>
concept decodes_without_throwing = requires(std::span<const std::byte> payload, std::optional<E>& event) {
    { codec<E>::try_decode(payload, event) } noexcept -> std::same_as<bool>;
};

// Cold, once per event type: try_decode() refused @p payload; decode() says why.
template <event_type E>
[[gnu::cold, gnu::noinline]] void report_refused_payload(plugin_runtime& runtime,
                                                        std::span<const std::byte> payload) noexcept
{
    try {
        static_cast<void>(codec<E>::decode(payload));
        runtime.report_decode_failure(name_of<E>, payload.size(), "try_decode() refused what decode() accepts");
    } catch (...) {
        runtime.report_current_decode_failure(name_of<E>, payload.size());
    }
}

// Two ways to generate less code per (plugin, event) pair, for g++ only: they took 8-13%
// off g++ 12's compile of the 128 x 32 application, while clang++ 14 compiled it 4-11%
// slower with either, so clang++ builds keep the code as it was (docs/benchmarks.md (d),
// "Smaller dispatch code"):
//   - a codec's try_decode() (trivial_codec's) replaces decode() and its exception
//     handling in the inlined code;
//   - an event that owns memory (a std::string, a vector) costs an allocation to decode,
//     beside which a call is nothing: it is decoded out of line, once per event type.
// A trivially copyable event (a memcpy, or a view of the frame) is decoded inline, as a
// hand-written chain would have it: a call there costs as much as a tree level.
#if defined(__clang__)
inline constexpr bool smaller_decode_code = false;
#else
inline constexpr bool smaller_decode_code = true;
#endif

template <class E>
inline constexpr bool decode_without_throwing_v = smaller_decode_code && decodes_without_throwing<E>;
template <class E>
inline constexpr bool decode_inline_v = !smaller_decode_code || std::is_trivially_copyable_v<E>;

// Decodes the payload after E's topic into @p event, counts the delivery (and traces
// it); false if the codec refused it, which is reported. Called only once the frame is
// known to start with E's topic.
template <event_type E>
[[gnu::always_inline]] inline bool decode_received(plugin_runtime& runtime, std::string_view frame,
                                                   std::optional<E>& event)
{
    constexpr std::size_t topic_size = topic_of<E>.size();
    const std::span<const std::byte> payload{reinterpret_cast<const std::byte*>(frame.data()) + topic_size,
                                             frame.size() - topic_size};
    if constexpr (decode_without_throwing_v<E>) {
        if (!codec<E>::try_decode(payload, event)) [[unlikely]] {
            report_refused_payload<E>(runtime, payload);
            return false;
        }
    } else {
        try {
            event.emplace(codec<E>::decode(payload));
        } catch (...) {
            runtime.report_current_decode_failure(name_of<E>, payload.size());
            return false;
        }
    }
    runtime.count_delivered();
    if (runtime.tracing()) [[unlikely]]
        runtime.trace_event("receives", name_of<E>, payload.size());
    return true;
}

// decode_received() as one function per event type, shared by every plugin that
// receives E, instead of a copy inlined into each plugin's dispatch.
template <event_type E>
[[gnu::noinline]] std::optional<E> decode_received_out_of_line(plugin_runtime& runtime, std::string_view frame)
{
    std::optional<E> event;
    decode_received<E>(runtime, frame, event);
    return event;
}

// Decodes the payload as E and hands it to @p deliver. A codec failure is
// reported and skipped; an exception from @p deliver (the plugin) propagates.
template <event_type E, class Deliver>
[[gnu::always_inline]] inline void decode_and_deliver(plugin_runtime& runtime, std::string_view frame,
                                                      Deliver& deliver)
{
    if constexpr (decode_inline_v<E>) {
        std::optional<E> event;
        if (decode_received<E>(runtime, frame, event)) deliver(std::move(*event));
    } else {
        std::optional<E> event = decode_received_out_of_line<E>(runtime, frame);
        if (event) deliver(std::move(*event));
    }
}

// The switch from a topic's index to its event type: one fold over the indices and the
// types together (no per-index type lookup), inlined so that g++ 12 and clang++ 14 at
// -O2 merge it into the tree that found the index (each of the tree's leaves returns a
// constant: jump threading), as measured by disassembly up to 32 types.
template <event_type... Subscribed, std::size_t... I, class Deliver>
[[gnu::always_inline]] inline bool deliver_by_index([[maybe_unused]] std::size_t found, std::index_sequence<I...>,
                                                    [[maybe_unused]] plugin_runtime& runtime,
                                                    [[maybe_unused]] std::string_view frame,
                                                    [[maybe_unused]] Deliver& deliver)
{
    return ((found == I ? (decode_and_deliver<Subscribed>(runtime, frame, deliver), true) : false) || ...);
}

// Up to this many subscribed types, the topic's index is found first and switched on
// after (find_topic, deliver_by_index): g++ 12 compiles the 128 x 32 application
// (32 per plugin) in 9-10% less time than with the delivery inlined into each leaf of
// the tree, and benchmark (a) is as fast with both compilers (clang++ 14's code is
// the same size and shape either way). Beyond, g++ no longer merges the switch into
// the whole tree (k = 64: 0.52x -> 0.57x the hand-written chain), so the leaf that
// finds the topic delivers. docs/benchmarks.md (d), "The tree apart from the delivery".
inline constexpr std::size_t index_switch_up_to = 32;

/// dispatch() with the plan's limits given (the benchmark compares them).
/// Inlined into its caller, the receive loop (one call site per plugin type): a call
/// per event costs about a dozen instructions, as much as a tree level.
template <plan_limits Limits, event_type... Subscribed, class Deliver>
[[gnu::always_inline]] inline void dispatch_planned(plugin_runtime& runtime, const zmq::message_t& frame,
                                                    Deliver&& deliver)
{
    const std::string_view bytes = frame_view(frame);
    bool matched = false;
    if constexpr (sizeof...(Subscribed) <= index_switch_up_to) {
        const std::size_t found = find_topic<topics_of_v<Subscribed...>, Limits>(bytes);
        matched = deliver_by_index<Subscribed...>(found, std::index_sequence_for<Subscribed...>{}, runtime, bytes,
                                                  deliver);
    } else {
        matched = match_topic<topics_of_v<Subscribed...>, Limits>(bytes, [&](auto index) {
            decode_and_deliver<pack_element_t<decltype(index)::value, Subscribed...>>(runtime, bytes, deliver);
        });
    }
    if (!matched) runtime.report_unknown_topic(bytes);
}

/// Finds the subscribed type of @p frame, decodes it and calls @p deliver with the event.
template <event_type... Subscribed, class Deliver>
[[gnu::always_inline]] inline void dispatch(plugin_runtime& runtime, const zmq::message_t& frame, Deliver&& deliver)
{
    dispatch_planned<default_plan_limits, Subscribed...>(runtime, frame, deliver);
}

// Typed delivery (docs/design.md, "In-process delivery"): what the receive loop runs per
// event. The envelope says which of the plugin's subscriptions it holds (item.local, set by
// the publisher for this subscriber): a switch on it hands the publisher's object over.
// No topic, no decode, per (plugin, event) a compare and a call.

// Hands the event held by @p item to @p deliver, counts and traces it. An event that did
// not decode where it entered the process (a `bad` envelope) is reported and skipped; one
// whose codec views its frame (borrows_frame) is decoded from the frame here (a view).
template <event_type E, class Deliver>
[[gnu::always_inline]] inline void deliver_held(plugin_runtime& runtime, const envelope& item, Deliver& deliver)
{
    if (item.what == envelope::kind::bad) [[unlikely]] {
        runtime.report_bad_event(name_of<E>, item);
        return;
    }
    if constexpr (borrows_frame_v<E>) {
        std::optional<E> event;
        if (decode_received<E>(runtime, item.frame_bytes(), event)) deliver(std::move(*event));
    } else {
        runtime.count_delivered();
        if (runtime.tracing()) [[unlikely]]
            runtime.trace_event("receives", name_of<E>, item.bytes() > 0 ? item.bytes() - topic_of<E>.size() : 0);
        deliver(item.template get<E>());
    }
}

template <event_type... Subscribed, std::size_t... I, class Deliver>
[[gnu::always_inline]] inline void deliver_by_position(std::index_sequence<I...>, plugin_runtime& runtime,
                                                       const envelope& item, Deliver& deliver)
{
    static_cast<void>(((item.local == I ? (deliver_held<Subscribed>(runtime, item, deliver), true) : false) || ...));
}

/// Hands the event of @p item, one of Subscribed, to @p deliver (as `const E&`).
template <event_type... Subscribed, class Deliver>
[[gnu::always_inline]] inline void deliver_envelope(plugin_runtime& runtime, const envelope& item, Deliver&& deliver)
{
    deliver_by_position<Subscribed...>(std::index_sequence_for<Subscribed...>{}, runtime, item, deliver);
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

/// How a boundary (an external plugin's bridge, the TCP publish port) decodes event E:
/// once, into the envelope every subscriber shares (app.hpp lists one per event type).
template <event_type E>
bool decode_at_boundary(std::span<const std::byte> payload, envelope& into, std::string& why) noexcept
{
    try {
        if constexpr (borrows_frame_v<E>) {
            static_cast<void>(codec<E>::decode(payload)); // checked here; each subscriber views the frame
        } else {
            into.hold(codec<E>::decode(payload));
        }
        return true;
    } catch (const std::exception& failure) {
        try {
            why = failure.what();
        } catch (...) {
        }
    } catch (...) {
        try {
            why = "unknown exception";
        } catch (...) {
        }
    }
    return false;
}

/// decode_at_boundary<E> for an event type, nothing for any other type: event_list has
/// already said why that type is not one, and the decoder table must not say it again.
template <class E>
consteval auto boundary_decoder_of() noexcept -> bool (*)(std::span<const std::byte>, envelope&, std::string&)
{
    if constexpr (event_type<E>) {
        return &decode_at_boundary<E>;
    } else {
        return nullptr;
    }
}

} // namespace event_engine::detail
