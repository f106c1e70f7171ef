#pragma once
// Statically generated dispatch: the subscribed topics are known at compile time,
// so the code that finds a frame's event type is planned for them
// (detail/dispatch/dispatch_plan.hpp): up to 8 topics, a chain of whole-topic compares,
// like a hand-written `if (starts_with(...)) ... else if ...`; 9 to 16, the first 8
// so, then a tree over the rest; beyond, the first topic alone, then a decision tree
// that switches on the byte that best tells the remaining topics apart, chosen per
// bucket, and confirms the one candidate left with a compare (detail/dispatch/topic_match.hpp).
// Topics are prefix-free, so at most one matches.
//
// The data path runs one way: dispatch finds the event's type, decodes it and hands it
// on, and returns what it found (dispatch_result: the subscription, an unknown topic, a
// refusal and why). It counts and logs nothing: the receive loop that calls it does, on
// the plugin's runtime (plugin.hpp, detail::dispatch and detail::deliver_envelope).

#include "event_engine/codec.hpp"
#include "event_engine/detail/dispatch/dispatch_plan.hpp"
#include "event_engine/detail/dispatch/topic_match.hpp"
#include "event_engine/detail/meta/type_list.hpp"
#include "event_engine/detail/runtime/envelope.hpp"
#include "event_engine/event.hpp"

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace event_engine::detail {

/// The topics of Es, in order: what topic_matcher plans for.
template <event_type... Es>
inline constexpr std::array<std::string_view, sizeof...(Es)> topics_of_v{topic_of<Es>...};

/// The names of Es, in order: what the receive loop reports a refusal under.
template <event_type... Es>
inline constexpr std::array<std::string_view, sizeof...(Es)> names_of_v{name_of<Es>...};

/// What dispatch found for one event, returned for the receive loop to report what was not
/// delivered (a delivery it counts as deliver is called: dispatched).
struct dispatch_result {
    enum class outcome : std::uint8_t {
        delivered,     ///< decoded and handed to deliver
        unknown_topic, ///< none of the subscribed topics (a frame), or no such subscription (an envelope)
        refused,       ///< the codec refused the payload: last_refusal() says why
        bad_event,     ///< an envelope whose event did not decode where it entered the process
    };
    outcome what = outcome::unknown_topic;
    std::uint32_t index = 0; ///< the subscription, among the subscribed types (not unknown_topic)

    [[nodiscard]] constexpr bool delivered() const noexcept { return what == outcome::delivered; }
};

/// A delivery, told to deliver beside the event (deliver(dispatched, event)): what the
/// receive loop counts and traces before the plugin's code sees the event.
/// (The event's type says its name and topic.)
struct dispatched {
    std::size_t frame_size = 0;     ///< its frame's length, unless it came in an envelope:
    const envelope* item = nullptr; ///< then the envelope's frame, looked at only if asked

    /// The bytes after a topic of @p topic_size (0 for an event that has no frame: it never
    /// left the process). Not computed unless asked: the loop asks only when it traces.
    [[nodiscard, gnu::always_inline]] std::size_t payload_size(std::size_t topic_size) const noexcept
    {
        const std::size_t size = item != nullptr ? item->bytes() : frame_size;
        return size > 0 ? size - topic_size : 0;
    }
};

/// The last refusal dispatch returned on this thread (cold: the receive loop reports it
/// before its next event). Kept apart from dispatch_result so that the hot path returns
/// two constants, not the refusal's fields.
struct refusal {
    std::size_t payload_size = 0;
    std::string reason;
};
inline refusal& last_refusal() noexcept
{
    thread_local refusal last;
    return last;
}

/// The what() of the exception being handled (called in a catch block) into @p why;
/// "unknown exception" for one that is no std::exception. Never throws: @p why is left
/// as it is if it cannot hold the text.
[[gnu::cold, gnu::noinline]] inline void describe_current_exception(std::string& why) noexcept
{
    try {
        throw;
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
}

// Cold, out of the inlined dispatch, one function for every event type: a codec threw on
// a payload of @p payload_size bytes (called in its catch block).
[[gnu::cold, gnu::noinline]] inline void note_current_refusal(std::size_t payload_size) noexcept
{
    refusal& last = last_refusal();
    last.payload_size = payload_size;
    last.reason.clear();
    describe_current_exception(last.reason);
}

// clang-format off
template <class E>
concept decodes_without_throwing = requires(std::span<const std::byte> payload, std::optional<E>& event) {
    { codec<E>::try_decode(payload, event) } noexcept -> std::same_as<bool>;
};
// clang-format on

// Cold, once per event type: try_decode() refused @p payload; decode() says why.
template <event_type E>
[[gnu::cold, gnu::noinline]] void note_refused_payload(std::span<const std::byte> payload) noexcept
{
    try {
        static_cast<void>(codec<E>::decode(payload));
        refusal& last = last_refusal();
        last.payload_size = payload.size();
        last.reason.clear();
        try {
            last.reason = "try_decode() refused what decode() accepts";
        } catch (...) {
        }
    } catch (...) {
        note_current_refusal(payload.size());
    }
}

// Two ways to generate less code per (plugin, event) pair, for g++ only: they shorten
// g++'s compile of large applications, while clang++ compiled slower with either, so
// clang++ builds keep the code as it was (measured: docs/benchmarks-history.md (d),
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

// clang-format off
template <class E>
inline constexpr bool decode_without_throwing_v = smaller_decode_code && decodes_without_throwing<E>;
// clang-format on
template <class E>
inline constexpr bool decode_inline_v = !smaller_decode_code || std::is_trivially_copyable_v<E>;

// Decodes the payload after E's topic into @p event; false if the codec refused it
// (last_refusal() says why). Called only once the frame is known to start with E's topic.
template <event_type E>
[[gnu::always_inline]] inline bool decode_received(std::string_view frame, std::optional<E>& event)
{
    constexpr std::size_t topic_size = topic_of<E>.size();
    const std::span<const std::byte> payload{reinterpret_cast<const std::byte*>(frame.data()) + topic_size,
                                             frame.size() - topic_size};
    if constexpr (decode_without_throwing_v<E>) {
        if (!codec<E>::try_decode(payload, event)) [[unlikely]] {
            note_refused_payload<E>(payload);
            return false;
        }
    } else {
        try {
            event.emplace(codec<E>::decode(payload));
        } catch (...) {
            note_current_refusal(payload.size());
            return false;
        }
    }
    return true;
}

// decode_received() as one function per event type, shared by every plugin that
// receives E, instead of a copy inlined into each plugin's dispatch.
template <event_type E>
[[gnu::noinline]] std::optional<E> decode_received_out_of_line(std::string_view frame)
{
    std::optional<E> event;
    decode_received<E>(frame, event);
    return event;
}

// Decodes the payload as E, the @p index-th subscription, and hands it to @p deliver (as
// deliver(dispatched, event)); delivered, or refused. An exception from @p deliver (the
// plugin) propagates.
template <event_type E, class Deliver>
[[gnu::always_inline]] inline dispatch_result decode_and_deliver(std::uint32_t index, std::string_view frame,
                                                                 Deliver& deliver)
{
    if constexpr (decode_inline_v<E>) {
        std::optional<E> event;
        if (!decode_received<E>(frame, event)) return {dispatch_result::outcome::refused, index};
        deliver(dispatched{frame.size()}, std::move(*event));
    } else {
        std::optional<E> event = decode_received_out_of_line<E>(frame);
        if (!event) return {dispatch_result::outcome::refused, index};
        deliver(dispatched{frame.size()}, std::move(*event));
    }
    return {dispatch_result::outcome::delivered, index};
}

// The switch from a topic's index to its event type: one fold over the indices and the
// types together (no per-index type lookup, no closure), inlined so that g++ and
// clang++ at -O2 merge it into the tree that found the index (each of the tree's
// leaves returns a constant: jump threading), as checked by disassembly up to 32 types.
// (Through a lambda, g++ kept the event and the lambda on the stack at 32 types.)
template <event_type... Subscribed, std::size_t... I, class Deliver>
[[gnu::always_inline]] inline dispatch_result deliver_by_index(std::size_t index, std::index_sequence<I...>,
                                                               [[maybe_unused]] std::string_view frame,
                                                               [[maybe_unused]] Deliver& deliver)
{
    dispatch_result found;
    static_cast<void>(
        ((index == I ? (found = decode_and_deliver<Subscribed>(I, frame, deliver), true) : false) || ...));
    return found;
}

// Up to this many subscribed types, the topic's index is found first and switched on
// after (find_topic, deliver_by_index): g++ compiles large applications faster than
// with the delivery inlined into each leaf of the tree, and benchmark (a) is as fast
// with both compilers (clang++'s code is the same size and shape either way). Beyond,
// g++ no longer merges the switch into the whole tree, so the leaf that finds the topic
// delivers (measured: docs/benchmarks-history.md (d), "The tree apart from the delivery").
inline constexpr std::size_t index_switch_up_to = 32;

/// Finds which of Subscribed @p bytes (a frame) holds (the plan's limits given: the
/// benchmark compares them), decodes it and calls deliver(dispatched, event); returns
/// what it found.
/// Inlined into its caller, the receive loop (one call site per plugin type): a call
/// per event costs about a dozen instructions, as much as a tree level.
template <plan_limits Limits, event_type... Subscribed, class Deliver>
[[gnu::always_inline]] inline dispatch_result dispatch_frame(std::string_view bytes, Deliver&& deliver)
{
    if constexpr (sizeof...(Subscribed) <= index_switch_up_to) {
        const std::size_t index = find_topic<topics_of_v<Subscribed...>, Limits>(bytes);
        return deliver_by_index<Subscribed...>(index, std::index_sequence_for<Subscribed...>{}, bytes, deliver);
    } else {
        dispatch_result found;
        // (always_inline: the leaf that found the topic delivers, as a hand-written chain would.)
        match_topic<topics_of_v<Subscribed...>, Limits>(
            bytes, [&](auto index) __attribute__((always_inline)) {
                constexpr std::size_t i = decltype(index)::value;
                found = decode_and_deliver<nth_t<i, Subscribed...>>(static_cast<std::uint32_t>(i), bytes, deliver);
            });
        return found;
    }
}

// Typed delivery (docs/design.md, "In-process delivery"): what the receive loop runs per
// event. The envelope says which of the plugin's subscriptions it holds (item.local, set by
// the publisher for this subscriber): a switch on it hands the publisher's object over.
// No topic, no decode, per (plugin, event) a compare and a call.

// Hands the event held by @p item, the @p index-th subscription, to @p deliver. An event
// that did not decode where it entered the process (a `bad` envelope) is not delivered;
// one whose codec views its frame (borrows_frame) is decoded from the frame here (a view).
template <event_type E, class Deliver>
[[gnu::always_inline]] inline dispatch_result deliver_held(std::uint32_t index, const envelope& item, Deliver& deliver)
{
    if (item.what == envelope::kind::bad) [[unlikely]]
        return {dispatch_result::outcome::bad_event, index};
    if constexpr (borrows_frame_v<E>) {
        return decode_and_deliver<E>(index, item.frame_bytes(), deliver);
    } else {
        deliver(dispatched{0, &item}, item.template get<E>());
        return {dispatch_result::outcome::delivered, index};
    }
}

template <event_type... Subscribed, std::size_t... I, class Deliver>
[[gnu::always_inline]] inline dispatch_result deliver_by_position(std::index_sequence<I...>, const envelope& item,
                                                                  Deliver& deliver)
{
    dispatch_result found;
    static_cast<void>(((item.local == I ? (found = deliver_held<Subscribed>(I, item, deliver), true) : false) || ...));
    return found;
}

/// Hands the event of @p item, one of Subscribed (the item.local-th), to @p deliver (as
/// deliver(dispatched, event), the event a `const E&`); returns what it found.
template <event_type... Subscribed, class Deliver>
[[gnu::always_inline]] inline dispatch_result dispatch_envelope(const envelope& item, Deliver&& deliver)
{
    return deliver_by_position<Subscribed...>(std::index_sequence_for<Subscribed...>{}, item, deliver);
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
    } catch (...) {
        describe_current_exception(why);
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
