#pragma once
// Minimal type-list vocabulary. Plain C++20 folds: they read as easily as the
// Boost.Hana equivalents and compile faster (see docs/design.md, "Why not Hana").

#include <cstddef>
#include <type_traits>
#include <utility>

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

// Pack indexing, one way for every use: Ts... as a class with one base per (index, type),
// so that overload resolution finds the I-th type, or a type's index, in one step where
// std::tuple_element (or a fold per lookup) instantiates a recursion per index.
template <std::size_t I, class T>
struct indexed_type {
    using type = T;
};
template <class Indices, class... Ts>
struct indexed_types;
template <std::size_t... Is, class... Ts>
struct indexed_types<std::index_sequence<Is...>, Ts...> : indexed_type<Is, Ts>... {};
/// Ts... indexed: what nth_t and index_in look up.
template <class... Ts>
using index_map_t = indexed_types<std::index_sequence_for<Ts...>, Ts...>;

template <std::size_t I, class T>
indexed_type<I, T> select_indexed(const indexed_type<I, T>&); // never defined: decltype only

/// The I-th of Ts.
template <std::size_t I, class... Ts>
using nth_t = typename decltype(select_indexed<I>(std::declval<index_map_t<Ts...>>()))::type;

inline constexpr std::size_t absent_index = ~std::size_t{0};

/// The index of T in an index_map_t (a pointer to it: `static_cast<const map*>(nullptr)`);
/// absent_index for a type it lacks, or holds more than once.
template <class T, std::size_t I>
constexpr std::size_t index_in(const indexed_type<I, T>*) noexcept
{
    return I;
}
template <class T>
constexpr std::size_t index_in(const void*) noexcept
{
    return absent_index;
}

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
