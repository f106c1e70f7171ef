#pragma once
// What register_plugin() checks at compile time.

#include "event_engine/detail/rules.hpp"
#include "event_engine/detail/type_list.hpp"
#include "event_engine/event_list.hpp"
#include "event_engine/plugin.hpp"

namespace event_engine::detail {

// The compile-time rules a plugin must follow to be registered with an app whose
// events are Events. holds() is the verdict, computed from traits alone; report()
// instantiates the rule:: template of every broken rule, whose static_assert says
// which rule and which types. The two are kept apart (see rules.hpp) so that a
// broken rule is one error on every compiler.

// What any plugin, internal or external, declares must be in the application's list.
template <class Owner, class Subscriptions, class Publications, class Events>
struct declared_events_rules;

template <class Owner, class... Subscribed, class... Published, class... Es>
struct declared_events_rules<Owner, type_list<Subscribed...>, type_list<Published...>, event_list<Es...>> {
    static constexpr bool holds = (contains_v<Subscribed, Es...> && ... && true) &&
                                  (contains_v<Published, Es...> && ... && true);
    static void report() noexcept
    {
        (report_if<!contains_v<Subscribed, Es...>, rule::subscribed_event_must_be_in_event_list<Owner, Subscribed>>(),
         ...);
        (report_if<!contains_v<Published, Es...>, rule::published_event_must_be_in_event_list<Owner, Published>>(),
         ...);
    }
};

template <class P, class Events>
using plugin_events_rules =
    declared_events_rules<P, typename P::subscriptions, typename P::publications, Events>;

// An internal plugin's rules: its events, plus a handler per subscription (or a run()).
template <class P, class Events>
struct plugin_rules {
    template <class E>
    static constexpr bool handled = loop_style<P> || handles<P, E>;

    template <class... Subscribed>
    static constexpr bool has_work(type_list<Subscribed...>)
    {
        return (handled<Subscribed> && ... && true) && (sizeof...(Subscribed) > 0 || loop_style<P>);
    }
    static constexpr bool holds()
    {
        if constexpr (!derives_from_plugin<P>) return false;
        else return plugin_events_rules<P, Events>::holds && has_work(typename P::subscriptions{});
    }

    template <class... Subscribed>
    static void report_work(type_list<Subscribed...>) noexcept
    {
        (report_if<!handled<Subscribed>, rule::handler_style_plugin_needs_a_handler_per_subscription<P, Subscribed>>(),
         ...);
        report_if<sizeof...(Subscribed) == 0 && !loop_style<P>, rule::plugin_needs_run_or_subscriptions<P>>();
    }
    static void report() noexcept
    {
        if constexpr (!derives_from_plugin<P>) {
            report_if<true, rule::plugin_must_derive_from_event_engine_plugin<P>>();
        } else {
            plugin_events_rules<P, Events>::report();
            report_work(typename P::subscriptions{});
        }
    }
};

} // namespace event_engine::detail
