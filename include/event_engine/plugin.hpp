#pragma once
/// @file
/// Internal plugins. A plugin derives from `plugin<Self, subscribes<...>, publishes<...>>`
/// and is written in one of two styles:
///
/// - handler style: a member `void on(const E&)` for each subscribed E; the engine
///   runs the receive loop and calls the right handler (optional `on_start()` and
///   `on_stop()` run before and after the loop);
/// - loop style: a member `void run()` that pulls events with `receive()` and ends
///   by returning (like the original's `start()`).
///
/// Either style publishes with `publish(event)`, which accepts only the events the
/// plugin declared. See docs/tutorial.md.

#include "event_engine/detail/meta/type_list.hpp"
#include "event_engine/detail/runtime/plugin_runtime.hpp"
#include "event_engine/detail/runtime/typed_step.hpp"
#include "event_engine/errors.hpp"
#include "event_engine/event.hpp"
#include "event_engine/receive_result.hpp"
#include "event_engine/rules.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace event_engine {

/// The event types a plugin receives.
template <class... Es>
struct subscribes {};

/// The event types a plugin may publish.
template <class... Es>
struct publishes {};

namespace detail {
struct plugin_root {};
struct plugin_access;

// Cold and out of line: the throw stays out of every publish().
[[noreturn, gnu::cold, gnu::noinline]] inline void throw_not_running()
{
    throw error{"event_engine: publish() and receive() work only while the application runs the plugin "
                "(not in its constructor or after run() returned)"};
}

// The lists of plugin<Self, Second, Third> (and external_plugin<First, Second>) when
// they are not subscribes<...> then publishes<...>: swapped, or publishes<...> alone,
// are read as meant, anything else as empty. The class reports the rule it breaks,
// and the rest of the program compiles as if it were written right: one error.
template <class Second, class Third>
struct declared_lists {
    using subscriptions = subscribes<>;
    using publications = publishes<>;
};
template <class... Subscribed, class... Published>
struct declared_lists<publishes<Published...>, subscribes<Subscribed...>> {
    using subscriptions = subscribes<Subscribed...>;
    using publications = publishes<Published...>;
};
template <class... Published>
struct declared_lists<publishes<Published...>, publishes<>> {
    using subscriptions = subscribes<>;
    using publications = publishes<Published...>;
};

// Whether a plugin's (or external plugin's) lists hold event types, each listed once.
// A variable apart from the class: never read a verdict out of a class that reports (rules.hpp).
template <class Subscriptions, class Publications>
inline constexpr bool valid_declaration_v = false;
// clang-format off
template <class... Subscribed, class... Published>
inline constexpr bool valid_declaration_v<type_list<Subscribed...>, type_list<Published...>> =
    valid_event_pack_v<Subscribed...> && valid_event_pack_v<Published...>;
// clang-format on
} // namespace detail

/// plugin<Self, Subscriptions, Publications> with arguments that are not
/// subscribes<...> then publishes<...>: reported (rule::plugin_takes_subscribes_then_publishes).
template <class Self, class Subscriptions = subscribes<>, class Publications = publishes<>>
class plugin : public plugin<Self, typename detail::declared_lists<Subscriptions, Publications>::subscriptions,
                             typename detail::declared_lists<Subscriptions, Publications>::publications> {
    static_assert(sizeof(rule::plugin_takes_subscribes_then_publishes<Self, Subscriptions, Publications>) > 0);
};

/// Base class of every internal plugin; `Self` is the derived plugin class.
template <class Self, class... Subscribed, class... Published>
class plugin<Self, subscribes<Subscribed...>, publishes<Published...>> : public detail::plugin_root {
    // Reported here, where the plugin is declared: a type that is not an event type,
    // an event listed twice (rules.hpp).
    static_assert(sizeof(detail::event_pack_report<rule::subscribes_must_list_each_event_once, Self, Subscribed...>) >
                  0);
    static_assert(sizeof(detail::event_pack_report<rule::publishes_must_list_each_event_once, Self, Published...>) > 0);

public:
    using self_type = Self;
    using subscriptions = detail::type_list<Subscribed...>;
    using publications = detail::type_list<Published...>;
    /// What `receive()` returns: one of the subscribed event types.
    using event =
        std::conditional_t<(sizeof...(Subscribed) > 0), detail::unique_t<std::variant, Subscribed...>, std::monostate>;

protected:
    /// Publishes @p event to every plugin that subscribes to it: the object itself, shared
    /// (or, small and trivially copyable, copied), encoded only for subscribers outside the
    /// process. Waits while a subscriber is full (backpressure). Returns false only if the
    /// application is stopping and the event was not sent (it is then counted as abandoned).
    template <class E>
    bool publish(const E& event)
    {
        return publish_checked<E>(event);
    }

    /// publish() of an rvalue: the event is moved into the envelope its subscribers share,
    /// so a large payload is never copied.
    // clang-format off
    template <class E>
        requires(!std::is_lvalue_reference_v<E> && !std::is_const_v<E>)
    bool publish(E&& event)
    // clang-format on
    {
        return publish_checked<E>(std::move(event));
    }

    /// Waits for the next subscribed event. Empty when the plugin is finishing or the
    /// application is stopping (status() says which). Undecodable payloads are reported
    /// and skipped.
    receive_result<event> receive() { return receive_until(std::nullopt); }

    /// As receive(), but also empty, with status() receive_status::timed_out, once
    /// @p timeout has passed without an event.
    template <class Rep, class Period>
    receive_result<event> receive(std::chrono::duration<Rep, Period> timeout)
    {
        return receive_until(detail::deadline_after(detail::clock::now(), timeout));
    }

    /// True once the application is stopping; long-running work should return.
    [[nodiscard]] bool stop_requested() const noexcept { return runtime_ != nullptr && runtime_->stop_requested(); }

    /// Ends this plugin: the handler loop exits after the current handler, receive() returns
    /// empty (receive_status::finishing).
    void finish() noexcept
    {
        if (runtime_ != nullptr) runtime_->finish();
    }

    /// Asks the whole application to stop, as `app::stop()` does.
    void stop_application() noexcept
    {
        if (runtime_ != nullptr) runtime_->request_application_stop();
    }

    /// The name the plugin was registered under.
    [[nodiscard]] std::string_view name() const noexcept
    {
        return runtime_ != nullptr ? std::string_view{runtime_->name()} : std::string_view{};
    }

private:
    friend struct detail::plugin_access;

    template <class E, class Event>
    bool publish_checked(Event&& event)
    {
        if constexpr (std::is_pointer_v<E>) {
            static_cast<void>(event);
            static_cast<void>(sizeof(rule::publish_takes_the_event_not_a_pointer<Self, E>));
            return false;
        } else if constexpr (!detail::contains_v<E, Published...>) {
            static_cast<void>(event);
            static_cast<void>(sizeof(rule::plugin_must_declare_what_it_publishes<Self, E>));
            return false;
        } else if constexpr (!detail::valid_declaration_v<subscriptions, publications>) {
            static_cast<void>(event); // reported where the plugin is declared
            return false;
        } else {
            return detail::publish_event<E>(runtime(), detail::position_v<E, Published...>, std::forward<Event>(event));
        }
    }

    detail::plugin_runtime& runtime() const
    {
        if (runtime_ == nullptr) [[unlikely]]
            detail::throw_not_running();
        return *runtime_;
    }

    receive_result<event> receive_until(std::optional<detail::clock::time_point> deadline)
    {
        if constexpr (!detail::valid_declaration_v<subscriptions, publications>) {
            static_cast<void>(deadline); // reported where the plugin is declared
            return receive_result<event>{receive_status::stopping};
        } else if constexpr (sizeof...(Subscribed) == 0) {
            static_cast<void>(deadline);
            static_cast<void>(sizeof(rule::plugin_without_subscriptions_cannot_receive<Self>));
            return receive_result<event>{receive_status::stopping};
        } else if constexpr ((detail::borrows_frame_v<Subscribed> || ...)) {
            static_cast<void>(deadline);
            (detail::report_if<detail::borrows_frame_v<Subscribed>,
                               rule::receive_cannot_return_events_that_view_their_frame<Self, Subscribed>>(),
             ...);
            return receive_result<event>{receive_status::stopping};
        } else {
            auto& rt = runtime();
            std::optional<event> result;
            while (!result) {
                auto item = rt.receive(deadline);
                if (!item) return receive_result<event>{rt.why_none()};
                detail::deliver_envelope<Subscribed...>(rt, *item, [&](const auto& held) { result.emplace(held); });
                // Undecodable events do not make a timeout wait longer.
                if (!result && deadline && detail::clock::now() >= *deadline) [[unlikely]]
                    return receive_result<event>{receive_status::timed_out};
            }
            return receive_result<event>{std::move(*result)};
        }
    }

    detail::plugin_runtime* runtime_ = nullptr;
};

namespace detail {

// clang-format off
template <class P>
concept derives_from_plugin =
    std::is_base_of_v<plugin_root, P> && requires { typename P::self_type; } && std::is_same_v<typename P::self_type, P>;

template <class P>
concept loop_style = requires(P& p) { p.run(); };

template <class P, class E>
concept handles = requires(P& p, const E& e) { p.on(e); };
// clang-format on

struct plugin_access {
    template <class P>
    static void attach(P& plugin, plugin_runtime* runtime) noexcept
    {
        plugin.runtime_ = runtime;
    }
    /// The runtime of a running plugin (null otherwise), for the engine's own plugins.
    template <class P>
    static plugin_runtime* runtime_of(P& plugin) noexcept
    {
        return plugin.runtime_;
    }
};

// Runs a handler-style plugin: receive, hand the event over, call on(const E&).
template <class P, class... Subscribed>
void run_handler_loop(P& plugin, plugin_runtime& runtime, type_list<Subscribed...>)
{
    if constexpr (requires { plugin.on_start(); }) plugin.on_start();
    while (auto item = runtime.receive(std::nullopt)) {
        deliver_envelope<Subscribed...>(runtime, *item, [&plugin](const auto& event) { plugin.on(event); });
    }
    if constexpr (requires { plugin.on_stop(); }) plugin.on_stop();
}

} // namespace detail

} // namespace event_engine
