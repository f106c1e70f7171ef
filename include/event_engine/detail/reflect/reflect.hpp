#pragma once
// One view of a struct's members, whichever way the struct is reflected:
//   * Boost.Hana's Struct concept (BOOST_HANA_DEFINE_STRUCT, BOOST_HANA_ADAPT_STRUCT,
//     or the type's own hana::accessors_impl): members with their names;
//   * a plain aggregate, no macro (aggregate_members.hpp): members by position,
//     named "0", "1", ... (no base classes, up to max_aggregate_members).
// member_count_v<T>, get_member<I>(object), member_t<T, I> and member_name_v<T, I>
// are the same for both.

#include "event_engine/detail/meta/fixed_string.hpp"
#include "event_engine/detail/reflect/aggregate_members.hpp"

#include <boost/hana/accessors.hpp>
#include <boost/hana/at.hpp>
#include <boost/hana/concept/struct.hpp>
#include <boost/hana/first.hpp>
#include <boost/hana/length.hpp>
#include <boost/hana/pair.hpp>
#include <boost/hana/second.hpp>
#include <boost/hana/string.hpp>
#include <boost/hana/tuple.hpp>

#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>

namespace event_engine::detail {

/// A class modelling Hana's Struct concept: its members have names.
// clang-format off
template <class T>
concept hana_struct = std::is_class_v<T> && boost::hana::Struct<T>::value;
// clang-format on

/// A class reflected without any macro: an aggregate (not a union), by position.
// clang-format off
template <class T>
concept plain_aggregate = std::is_class_v<T> && !std::is_union_v<T> && std::is_aggregate_v<T> && !hana_struct<T> &&
                          aggregate_member_count<T> <= max_aggregate_members;

template <class T>
concept reflected_struct = hana_struct<T> || plain_aggregate<T>;
// clang-format on

template <class T>
inline constexpr std::size_t member_count_v = [] {
    if constexpr (hana_struct<T>) return decltype(boost::hana::length(boost::hana::accessors<T>()))::value;
    else return aggregate_member_count<T>;
}();

/// A reference to member @p I of @p object (const when the object is).
template <std::size_t I, class T>
constexpr decltype(auto) get_member(T& object) noexcept
{
    using plain = std::remove_cv_t<T>;
    if constexpr (hana_struct<plain>) {
        return boost::hana::second(boost::hana::at_c<I>(boost::hana::accessors<plain>()))(object);
    } else {
        return std::get<I>(tie_members(object));
    }
}

template <class T, std::size_t I>
using member_t = std::remove_cvref_t<decltype(get_member<I>(std::declval<T&>()))>;

template <char... Chars>
constexpr auto to_fixed_string(boost::hana::string<Chars...>) noexcept
{
    const char text[] = {Chars..., '\0'};
    return fixed_string<sizeof...(Chars)>{text};
}

/// The member's name: its identifier for Hana structs, its position ("0", "1", ...) otherwise.
template <class T, std::size_t I>
inline constexpr auto member_name_v = [] {
    if constexpr (hana_struct<T>) {
        using name = decltype(boost::hana::first(boost::hana::at_c<I>(boost::hana::accessors<T>())));
        return to_fixed_string(std::remove_cvref_t<name>{});
    } else {
        return decimal_string<I>();
    }
}();

/// Calls f(std::integral_constant<std::size_t, I>{}, member) for every member, in order.
template <class T, class F>
constexpr void for_each_member(T& object, F&& f)
{
    // clang-format off
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        (f(std::integral_constant<std::size_t, I>{}, get_member<I>(object)), ...);
    }(std::make_index_sequence<member_count_v<std::remove_cv_t<T>>>{});
    // clang-format on
}

} // namespace event_engine::detail
