#pragma once
// What register_plugin() checks at compile time.

#include "event_engine/detail/meta/type_list.hpp"
#include "event_engine/event_list.hpp"
#include "event_engine/plugin.hpp"
#include "event_engine/rules.hpp"

#include <type_traits>

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
    static constexpr bool holds =
        (contains_v<Subscribed, Es...> && ... && true) && (contains_v<Published, Es...> && ... && true);
    static void report() noexcept
    {
        (report_if<!contains_v<Subscribed, Es...>, rule::subscribed_event_must_be_in_event_list<Owner, Subscribed>>(),
         ...);
        (report_if<!contains_v<Published, Es...>, rule::published_event_must_be_in_event_list<Owner, Published>>(),
         ...);
    }
};

template <class P, class Events>
using plugin_events_rules = declared_events_rules<P, typename P::subscriptions, typename P::publications, Events>;

// A member named `on` or `run`, whatever its access or parameters: in a class derived
// from both P and a probe that declares the name, the name is ambiguous exactly when P
// has it too, because name lookup ignores access. (A final P cannot be derived from;
// then only what the engine can call counts.)
struct on_name_probe {
    void on();
};
struct run_name_probe {
    void run();
};
template <class P, class Probe>
struct name_probe : P, Probe {};

// clang-format off
template <class P>
concept declares_on = !std::is_final_v<P> && !requires { &name_probe<P, on_name_probe>::on; };
template <class P>
concept declares_run = loop_style<P> || (!std::is_final_v<P> && !requires { &name_probe<P, run_name_probe>::run; });
// clang-format on

// A pointer, or a smart pointer (std::shared_ptr<P>, ...), given where a plugin object belongs.
// clang-format off
template <class P>
concept pointer_like = std::is_pointer_v<P> || (!derives_from_plugin<P> && requires(P& pointer) {
    typename P::element_type;
    *pointer;
});
// clang-format on

// Converts to any handler's parameter, to ask whether P has a public on() at all.
struct any_event {
    template <class T>
    operator T&() const; // NOLINT(google-explicit-constructor): declared only, never called
};

// An internal plugin's rules: what it is (an object, not a pointer; non-const; a
// plugin), its events, and its style: a public run() without on(), or a public
// on() for each subscription.
template <class P, class Events>
struct plugin_rules;

template <class P, class... Es>
struct plugin_rules<P, event_list<Es...>> {
    using events = event_list<Es...>;

    template <class... Subscribed>
    static constexpr bool style_holds(type_list<Subscribed...>)
    {
        if constexpr (declares_run<P>) return loop_style<P> && !declares_on<P>;
        else return sizeof...(Subscribed) > 0 && (handles<P, Subscribed> && ...);
    }
    static constexpr bool holds()
    {
        if constexpr (pointer_like<P> || std::is_const_v<P> || !derives_from_plugin<P>) {
            return false;
        } else {
            return valid_declaration_v<typename P::subscriptions, typename P::publications> &&
                   plugin_events_rules<P, events>::holds && style_holds(typename P::subscriptions{});
        }
    }

    // Asked only when a handler is missing: whether P has a public on() at all.
    template <class... Subscribed>
    static constexpr bool some_public_on(type_list<Subscribed...>)
    {
        // clang-format off
        return requires(P& plugin, any_event event) { plugin.on(event); } || (handles<P, Es> || ...) ||
               (handles<P, Subscribed> || ...);
        // clang-format on
    }

    template <class... Subscribed>
    static void report_handlers(type_list<Subscribed...> subscriptions) noexcept
    {
        if constexpr ((handles<P, Subscribed> && ...)) {
            static_cast<void>(subscriptions);
        } else if constexpr (!declares_on<P>) {
            (report_if<!handles<P, Subscribed>,
                       rule::handler_style_plugin_needs_a_handler_per_subscription<P, Subscribed>>(),
             ...);
        } else if constexpr (!some_public_on(subscriptions)) {
            report_if<true, rule::handlers_must_be_public<P, nth_t<0, Subscribed...>>>(); // one fix for all
        } else {
            (report_if<!handles<P, Subscribed>, rule::handler_overloads_must_cover_each_subscription<P, Subscribed>>(),
             ...);
        }
    }
    template <class... Subscribed>
    static void report_style(type_list<Subscribed...> subscriptions) noexcept
    {
        if constexpr (declares_run<P>) {
            report_if<!loop_style<P>, rule::run_must_be_public<P>>();
            report_if<loop_style<P> && declares_on<P>, rule::plugin_must_not_have_both_run_and_on<P>>();
        } else if constexpr (sizeof...(Subscribed) == 0) {
            report_if<true, rule::plugin_needs_run_or_subscriptions<P>>();
        } else {
            report_handlers(subscriptions);
        }
    }
    static void report() noexcept
    {
        if constexpr (pointer_like<P>) {
            report_if<true, rule::register_plugin_takes_the_plugin_not_a_pointer<P>>();
        } else if constexpr (std::is_const_v<P>) {
            report_if<true, rule::register_plugin_needs_a_non_const_plugin<std::remove_const_t<P>>>();
        } else if constexpr (!derives_from_plugin<P>) {
            report_if<true, rule::plugin_must_derive_from_event_engine_plugin<P>>();
        } else {
            plugin_events_rules<P, events>::report();
            report_style(typename P::subscriptions{});
        }
    }
};

} // namespace event_engine::detail
