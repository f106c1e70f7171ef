#pragma once
/// @file
/// The opt-in whole-graph check: given the application's events and every plugin
/// that will be registered (internal plugin classes and external_plugin declarations),
/// an event that some plugin subscribes to but none publishes is a compile error
/// naming the event and its subscribers:
///
///     using plugins = event_engine::plugins_list<Producer, Counter, PyPlugin>;
///     event_engine::check_graph<events, plugins>();                  // in any function
///     static_assert(event_engine::graph_is_complete_v<events, plugins>);  // the same, as a trait
///
/// An event published but subscribed by nobody is allowed (a process on the subscribe
/// port may read it); `every_published_event_is_subscribed_v` tells, and
/// `check_graph<events, plugins, graph_rules::strict>()` makes it an error too. At run
/// time, run() logs both kinds of dangling event at info level.
///
/// Opt-in because the application's plugin list is not a compile-time fact otherwise:
/// plugins are registered at run time. Its compile cost is measured in
/// docs/benchmarks-history.md (d).

#include "event_engine/detail/meta/type_list.hpp"
#include "event_engine/event_list.hpp"
#include "event_engine/rules.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>

namespace event_engine {

/// The application's plugins, as types: internal plugin classes and
/// external_plugin<subscribes<...>, publishes<...>> declarations.
template <class... Plugins>
struct plugins_list {};

/// What check_graph refuses.
enum class graph_rules {
    complete, ///< every subscribed event has a publisher
    strict,   ///< ... and every published event a subscriber
};

namespace detail::graph {

// Rule<E, Found...> from a std::tuple<Found...>.
template <template <class, class...> class Rule, class E, class Found>
struct apply;
template <template <class, class...> class Rule, class E, class... Found>
struct apply<Rule, E, std::tuple<Found...>> {
    using type = Rule<E, Found...>;
};
template <template <class, class...> class Rule, class E, class Found>
using apply_t = typename apply<Rule, E, Found>::type;

template <class Events, class Plugins>
struct analysis;

template <class... Es, class... Ps>
struct analysis<event_list<Es...>, plugins_list<Ps...>> {
    static constexpr std::size_t size = sizeof...(Es);
    // The position of an event in the list, found by overload resolution (no fold over the
    // list per lookup: type_list.hpp's index_in); absent_index for an event the list lacks
    // (register_plugin reports that).
    using map = index_map_t<Es...>;

    template <class... Listed>
    static constexpr void mark(std::array<bool, size + 1>& marks, type_list<Listed...>) noexcept
    {
        // Slot `size` takes the absent ones.
        ((marks[std::min(index_in<Listed>(static_cast<const map*>(nullptr)), size)] = true), ...);
    }

    struct usage {
        std::array<bool, size + 1> subscribed{};
        std::array<bool, size + 1> published{};
    };

    static constexpr usage used = [] {
        usage u{};
        (mark(u.subscribed, typename Ps::subscriptions{}), ...);
        (mark(u.published, typename Ps::publications{}), ...);
        return u;
    }();

    static constexpr bool complete = [] {
        for (std::size_t i = 0; i < size; ++i) {
            if (used.subscribed[i] && !used.published[i]) return false;
        }
        return true;
    }();

    static constexpr bool consumed = [] {
        for (std::size_t i = 0; i < size; ++i) {
            if (used.published[i] && !used.subscribed[i]) return false;
        }
        return true;
    }();

    // The plugins of Ps whose subscriptions (or publications) hold E.
    template <class E, bool Subscribers>
    using holders = decltype(std::tuple_cat(
        std::declval<std::conditional_t<list_contains<E, std::conditional_t<Subscribers, typename Ps::subscriptions,
                                                                            typename Ps::publications>>::value,
                                        std::tuple<Ps>, std::tuple<>>>()...));

    template <std::size_t I, bool Strict>
    static void report_one() noexcept
    {
        if constexpr (used.subscribed[I] && !used.published[I]) {
            static_cast<void>(sizeof(apply_t<rule::subscribed_event_must_have_a_publisher, nth_t<I, Es...>,
                                             holders<nth_t<I, Es...>, true>>));
        } else if constexpr (Strict && used.published[I] && !used.subscribed[I]) {
            static_cast<void>(sizeof(apply_t<rule::published_event_must_have_a_subscriber, nth_t<I, Es...>,
                                             holders<nth_t<I, Es...>, false>>));
        }
    }

    template <bool Strict, std::size_t... I>
    static void report(std::index_sequence<I...>) noexcept
    {
        (report_one<I, Strict>(), ...);
    }
};

} // namespace detail::graph

/// True when every event some plugin of Plugins subscribes to is published by one of them.
template <class Events, class Plugins>
inline constexpr bool graph_is_complete_v = detail::graph::analysis<Events, Plugins>::complete;

/// True when every event some plugin of Plugins publishes is subscribed to by one of them.
template <class Events, class Plugins>
inline constexpr bool every_published_event_is_subscribed_v = detail::graph::analysis<Events, Plugins>::consumed;

/// Fails to compile, naming the event and its subscribers (or, strict, its publishers),
/// when the graph of Plugins over Events has a subscribed event nobody publishes
/// (strict: or a published event nobody subscribes to). Does nothing at run time.
template <class Events, class Plugins, graph_rules Rules = graph_rules::complete>
void check_graph() noexcept
{
    using analysis = detail::graph::analysis<Events, Plugins>;
    if constexpr (!analysis::complete || (Rules == graph_rules::strict && !analysis::consumed)) {
        analysis::template report<Rules == graph_rules::strict>(std::make_index_sequence<analysis::size>{});
    }
}

} // namespace event_engine
