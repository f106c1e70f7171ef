#pragma once
/// @file
/// What an event type is: a class with a compile-time `name`, an optional
/// compile-time `topic` (the bytes that prefix it on the wire; the name by
/// default), and a codec.
///
///     struct TypeA {
///         static constexpr std::string_view name = "TypeA";
///         using codec = event_engine::text_codec;
///         std::string text;
///     };
///
/// event_list, subscribes, publishes and external_plugin accept any type and check
/// each against the event rules (find_event_problem below, rules.hpp), so a
/// broken event type is one error naming its rule and the type (e.g.
/// `rule::event_type_needs_a_codec<Raw>`), not a constraint failure.

#include "event_engine/codec.hpp"
#include "event_engine/detail/meta/type_list.hpp"
#include "event_engine/rules.hpp"

#include <cstddef>
#include <string_view>
#include <type_traits>

namespace event_engine {

namespace detail {

// clang-format off
template <class E>
concept plain_class = std::is_class_v<E> && !std::is_const_v<E> && !std::is_volatile_v<E>;
// clang-format on

// `E::name` names something public, static or not (an unevaluated operand may name
// a non-static member), so a non-static `name` is told apart from a missing one.
// clang-format off
template <class E>
concept declares_name = requires { E::name; };
template <class E>
concept declares_topic = requires { E::topic; };
// clang-format on

// Static (its address is a plain pointer, not a pointer to member) and a constant
// expression convertible to std::string_view.
// clang-format off
template <class E>
concept has_constant_name = requires {
    requires !std::is_member_pointer_v<decltype(&E::name)>;
    typename std::integral_constant<std::size_t, std::string_view{E::name}.size()>;
};
template <class E>
concept has_constant_topic = requires {
    requires !std::is_member_pointer_v<decltype(&E::topic)>;
    typename std::integral_constant<std::size_t, std::string_view{E::topic}.size()>;
};
// clang-format on

// Whether byte @p I of the storage E::topic points into can be read at compile time,
// i.e. lies inside the string literal or array (reading past it is not a constant).
// clang-format off
template <class E, std::size_t I>
concept topic_storage_has_byte = requires {
    typename std::integral_constant<char, std::string_view{E::topic}.data()[I]>;
};
// clang-format on

// A topic that stops at a zero byte while its literal goes on: `"\x01\x00"` given as a
// `const char*`, a char array or a string_view without its length. (A topic written
// with its length, `topic{"\x01\x00", 2}`, ends right before the literal's own
// terminator, so there is no byte past it.)
template <class E>
constexpr bool topic_cut_at_zero() noexcept
{
    constexpr std::string_view topic{E::topic};
    if constexpr (topic_storage_has_byte<E, topic.size() + 1>) return topic.data()[topic.size()] == '\0';
    else return false;
}

// clang-format off
template <class E>
concept has_usable_topic = !declares_topic<E> || (has_constant_topic<E> && !topic_cut_at_zero<E>());
// clang-format on

} // namespace detail

/// An event type: a cv-unqualified class with a `static constexpr` name, a usable
/// topic if it declares one, and a codec.
// clang-format off
template <class E>
concept event_type =
    detail::plain_class<E> && detail::has_constant_name<E> && detail::has_usable_topic<E> && has_codec<E>;
// clang-format on

/// Trait form of `event_type`, for `static_assert(event_engine::is_event_v<MyEvent>)`.
template <class E>
inline constexpr bool is_event_v = event_type<E>;

/// The event's name, e.g. "TypeA". (Empty for a type without a usable name: those
/// are reported by their rule wherever they are declared as events.)
template <class E>
inline constexpr std::string_view name_of = [] {
    if constexpr (detail::has_constant_name<E>) return std::string_view{E::name};
    else return std::string_view{};
}();

/// The bytes that prefix the event on the wire and that subscribers filter on.
/// Binary topics with embedded zero bytes must give their length:
/// `static constexpr std::string_view topic{"\x01\x00", 2};`
template <class E>
inline constexpr std::string_view topic_of = [] {
    if constexpr (!detail::declares_topic<E>) return name_of<E>;
    else if constexpr (detail::has_constant_topic<E>) return std::string_view{E::topic};
    else return std::string_view{};
}();

namespace detail {

/// Whether decoded E events point into the received frame (view codecs).
template <class E>
inline constexpr bool borrows_frame_v = [] {
    if constexpr (requires { codec<E>::borrows_frame; }) return bool{codec<E>::borrows_frame};
    else return false;
}();

// The first event rule E breaks, found from traits alone (rules.hpp: never from a rule).
enum class event_problem { none, not_a_class, no_name, name_not_constant, no_codec, topic_not_constant, topic_cut };

template <class E>
constexpr event_problem find_event_problem() noexcept
{
    if constexpr (!plain_class<E>) return event_problem::not_a_class;
    else if constexpr (!declares_name<E>) return event_problem::no_name;
    else if constexpr (!has_constant_name<E>) return event_problem::name_not_constant;
    else if constexpr (!has_codec<E>) return event_problem::no_codec;
    else if constexpr (!declares_topic<E>) return event_problem::none;
    else if constexpr (!has_constant_topic<E>) return event_problem::topic_not_constant;
    else if constexpr (topic_cut_at_zero<E>()) return event_problem::topic_cut;
    else return event_problem::none;
}

template <event_problem P, class E>
struct event_rule {};
template <class E>
struct event_rule<event_problem::not_a_class, E> : rule::event_type_must_be_a_class<E> {};
template <class E>
struct event_rule<event_problem::no_name, E> : rule::event_type_needs_a_static_name<E> {};
template <class E>
struct event_rule<event_problem::name_not_constant, E> : rule::event_name_must_be_static_constexpr<E> {};
template <class E>
struct event_rule<event_problem::no_codec, E> : rule::event_type_needs_a_codec<E> {};
template <class E>
struct event_rule<event_problem::topic_not_constant, E> : rule::event_topic_must_be_static_constexpr<E> {};
template <class E>
struct event_rule<event_problem::topic_cut, E> : rule::binary_event_topic_needs_its_length<E> {};

/// The rule E breaks first, or an empty class; `sizeof` of it reports the rule. Each
/// rule is instantiated once per translation unit, so an event declared in several
/// places (the list, two plugins) is reported once.
template <class E>
using event_report = event_rule<find_event_problem<E>(), E>;

struct no_problem {};

/// Whether Es, declared together (an event_list, a subscribes<...>), are event types,
/// each listed once.
template <class... Es>
inline constexpr bool valid_event_pack_v = (event_type<Es> && ... && true) && first_repeated_v<Es...> == sizeof...(Es);

/// Instantiated only to report: the rule each of Es breaks, and RepeatRule<Owner, E>
/// for the first E listed twice.
template <template <class, class> class RepeatRule, class Owner, class... Es>
struct event_pack_report {
    static_assert(((sizeof(event_report<Es>) > 0) && ... && true));
    static_assert(
        sizeof(std::conditional_t<(first_repeated_v<Es...> < sizeof...(Es)),
                                  RepeatRule<Owner, nth_t<first_repeated_v<Es...>, Es..., void>>, no_problem>) > 0);
};

} // namespace detail

} // namespace event_engine
