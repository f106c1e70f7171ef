#pragma once
// Minimal type-list vocabulary. Plain C++20 folds: they read as easily as the
// Boost.Hana equivalents and compile faster (see docs/design.md, "Why not Hana").

#include <cstddef>
#include <tuple>
#include <type_traits>

namespace event_engine::detail {

template <class... Ts>
struct type_list {
    static constexpr std::size_t size = sizeof...(Ts);
};

template <class T, class... Ts>
inline constexpr bool contains_v = (std::is_same_v<T, Ts> || ...);

template <class T, class List>
struct list_contains;
template <class T, template <class...> class L, class... Ts>
struct list_contains<T, L<Ts...>> : std::bool_constant<contains_v<T, Ts...>> {};

template <std::size_t I, class... Ts>
using nth_t = std::tuple_element_t<I, std::tuple<Ts...>>;

template <class... Ts>
inline constexpr bool always_false = false;

} // namespace event_engine::detail
