#pragma once
/// @file
/// The application's events as a compile-time list:
///     using events = event_engine::event_list<TypeA, TypeB, TypeC>;
/// It is checked when first used (by `app<events>`, or by `static_assert(events::valid)`):
/// every type an event type, listed once; names non-empty and unique, topics unique and
/// prefix-free.

#include "event_engine/detail/meta/type_list.hpp"
#include "event_engine/detail/wire/control.hpp"
#include "event_engine/event.hpp"
#include "event_engine/rules.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <string_view>
#include <type_traits>

namespace event_engine {

namespace detail {

enum class list_problem { none, empty_name, reserved_topic, duplicate_name, duplicate_topic, topic_prefix };

struct list_finding {
    list_problem problem = list_problem::none;
    std::size_t first = 0;
    std::size_t second = 0;
};

// The whole first byte 0xFF is reserved: simpler to state, and room for the engine to grow.
constexpr bool overlaps_control_prefix(std::string_view topic)
{
    return !topic.empty() && topic.front() == control_prefix.front();
}

template <class... Es>
constexpr list_finding find_list_problem()
{
    constexpr std::size_t n = sizeof...(Es);
    constexpr std::array<std::string_view, n> names{name_of<Es>...};
    constexpr std::array<std::string_view, n> topics{topic_of<Es>...};
    for (std::size_t i = 0; i < n; ++i) {
        if (names[i].empty() || topics[i].empty()) return {list_problem::empty_name, i, i};
        if (overlaps_control_prefix(topics[i])) return {list_problem::reserved_topic, i, i};
    }
    // Sorted, equal strings are neighbours, and so are a prefix and a string it
    // prefixes (every string sorted between them starts with the prefix too): so
    // n log n comparisons instead of n^2 / 2, which also keeps clang's constexpr
    // step limit (1,048,576 steps by default) out of reach for long lists.
    std::array<std::size_t, n> order{};
    for (std::size_t i = 0; i < n; ++i) order[i] = i;
    const auto sort_by = [&order](const std::array<std::string_view, n>& keys) {
        std::sort(order.begin(), order.end(),
                  [&keys](std::size_t a, std::size_t b) { return keys[a] < keys[b] || (keys[a] == keys[b] && a < b); });
    };
    sort_by(names);
    for (std::size_t k = 0; k + 1 < n; ++k) {
        if (names[order[k]] == names[order[k + 1]]) return {list_problem::duplicate_name, order[k], order[k + 1]};
    }
    sort_by(topics);
    for (std::size_t k = 0; k + 1 < n; ++k) {
        const std::size_t a = order[k], b = order[k + 1];
        if (topics[a] == topics[b]) return {list_problem::duplicate_topic, a, b};
        if (topics[b].starts_with(topics[a])) return {list_problem::topic_prefix, a, b};
    }
    return {};
}

// Turns the first problem found into the instantiation of the rule it breaks.
template <list_problem P, class A, class B>
struct report_list_problem {};
template <class A, class B>
struct report_list_problem<list_problem::empty_name, A, B> : rule::event_name_must_not_be_empty<A> {};
template <class A, class B>
struct report_list_problem<list_problem::reserved_topic, A, B> : rule::event_topic_must_not_use_reserved_prefix<A> {};
template <class A, class B>
struct report_list_problem<list_problem::duplicate_name, A, B> : rule::event_names_must_be_unique<A, B> {};
template <class A, class B>
struct report_list_problem<list_problem::duplicate_topic, A, B> : rule::event_topics_must_be_unique<A, B> {};
template <class A, class B>
struct report_list_problem<list_problem::topic_prefix, A, B> : rule::event_topics_must_be_prefix_free<A, B> {};

// The list's verdict, from traits alone (rules.hpp). Its own rules are checked once
// its types are events, each listed once.
template <class... Es>
struct list_check {
    static constexpr list_finding finding = [] {
        if constexpr (valid_event_pack_v<Es...>) return find_list_problem<Es...>();
        else return list_finding{};
    }();
    static constexpr bool valid = valid_event_pack_v<Es...> && finding.problem == list_problem::none;
};

template <class Owner, class Event>
using event_listed_twice = rule::event_list_must_list_each_event_once<Event>;

// Instantiated only to report: the rule each broken event breaks, an event listed
// twice, or the list's first problem. `void` pads the pack so that nth_t is valid
// for an empty list.
template <class... Es>
struct list_report {
    using check = list_check<Es...>;
    static_assert(sizeof(event_pack_report<event_listed_twice, void, Es...>) > 0);
    static_assert(sizeof(report_list_problem<check::finding.problem, nth_t<check::finding.first, Es..., void>,
                                             nth_t<check::finding.second, Es..., void>>) > 0);
};

} // namespace detail

/// The application's event types. Each must be an `event_type`; a type that is not is
/// reported by the rule it breaks (event.hpp).
template <class... Es>
struct event_list {
    /// Number of event types.
    static constexpr std::size_t size = sizeof...(Es);
    /// Whether @p E is one of the application's events.
    template <class E>
    static constexpr bool contains = detail::contains_v<E, Es...>;
    /// True once the list has passed its checks (a failing check is a compile error).
    static constexpr bool valid = detail::list_check<Es...>::valid;
    // Runs the checks when the list is used: a broken rule's template is instantiated
    // here and its static_assert names the rule and the events. (sizeof is only the
    // trigger; `valid` is computed apart so that nothing else fails with it.)
    static_assert(sizeof(detail::list_report<Es...>) > 0);
};

} // namespace event_engine
