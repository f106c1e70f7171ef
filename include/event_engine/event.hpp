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

#include "event_engine/codec.hpp"

#include <string_view>
#include <type_traits>

namespace event_engine {

namespace detail {
template <class E>
concept has_static_name = requires {
    { E::name } -> std::convertible_to<std::string_view>;
};
template <class E>
concept has_static_topic = requires {
    { E::topic } -> std::convertible_to<std::string_view>;
};
} // namespace detail

/// An event type: a cv-unqualified class with a static `name` and a codec.
template <class E>
concept event_type = std::is_class_v<E> && std::is_same_v<E, std::remove_cvref_t<E>> &&
                     detail::has_static_name<E> && has_codec<E>;

/// Trait form of `event_type`, for `static_assert(event_engine::is_event_v<MyEvent>)`.
template <class E>
inline constexpr bool is_event_v = event_type<E>;

/// The event's name, e.g. "TypeA".
template <event_type E>
inline constexpr std::string_view name_of = E::name;

/// The bytes that prefix the event on the wire and that subscribers filter on.
/// Binary topics with embedded zero bytes must give their length:
/// `static constexpr std::string_view topic{"\x01\x00", 2};`
template <event_type E>
inline constexpr std::string_view topic_of = [] {
    if constexpr (detail::has_static_topic<E>) return std::string_view{E::topic};
    else return std::string_view{E::name};
}();

namespace detail {
/// Whether decoded E events point into the received frame (view codecs).
template <class E>
inline constexpr bool borrows_frame_v = [] {
    if constexpr (requires { codec<E>::borrows_frame; }) return bool{codec<E>::borrows_frame};
    else return false;
}();
} // namespace detail

} // namespace event_engine
