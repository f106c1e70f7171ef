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

/// The position of T among Ts (sizeof...(Ts) if absent).
template <class T, class... Ts>
inline constexpr std::size_t position_v = [] {
    std::size_t position = 0;
    static_cast<void>(((std::is_same_v<T, Ts> ? false : (++position, true)) && ...));
    return position;
}();

template <class T, class... Ts>
inline constexpr std::size_t count_v = (std::size_t{std::is_same_v<T, Ts>} + ... + 0);

/// The index of the first of Ts that appears more than once; sizeof...(Ts) if none does.
template <class... Ts>
inline constexpr std::size_t first_repeated_v = [] {
    constexpr std::size_t counts[] = {count_v<Ts, Ts...>..., 0};
    std::size_t i = 0;
    while (i < sizeof...(Ts) && counts[i] < 2) ++i;
    return i;
}();

/// L<Ts...> with every repeated type kept once, in order of first appearance.
template <class Done, class... Rest>
struct unique_into {
    using type = Done;
};
template <template <class...> class L, class... Done, class T, class... Rest>
struct unique_into<L<Done...>, T, Rest...>
    : unique_into<std::conditional_t<contains_v<T, Done...>, L<Done...>, L<Done..., T>>, Rest...> {};
template <template <class...> class L, class... Ts>
using unique_t = typename unique_into<L<>, Ts...>::type;

template <class... Ts>
inline constexpr bool always_false = false;

} // namespace event_engine::detail
