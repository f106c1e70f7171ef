#pragma once
/// @file
/// The application: configuration, plugin registration and `run()`.
///
///     event_engine::app<events> app{{.publish_port = 5559, .subscribe_port = 5560}};
///     app.register_plugin(producer).register_plugin(counter);
///     event_engine::run_report report = app.run();

#include "event_engine/app_config.hpp"
#include "event_engine/app_description.hpp"
#include "event_engine/detail/app/app_core.hpp"
#include "event_engine/detail/app/app_description.hpp"
#include "event_engine/detail/app/registration_rules.hpp"
#include "event_engine/detail/meta/type_name.hpp"
#include "event_engine/detail/runtime/plugin_slot.hpp"
#include "event_engine/errors.hpp"
#include "event_engine/event_list.hpp"
#include "event_engine/external_plugin.hpp"
#include "event_engine/plugin.hpp"
#include "event_engine/report.hpp"

#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace event_engine {

namespace detail {
struct manifest_access; // event_engine::enable_manifest(app)'s way in (manifest.hpp)
} // namespace detail

template <class Events>
class app {
    static_assert(detail::always_false<Events>,
                  "event_engine::app<Events>: Events must be an event_engine::event_list<...>");
};

/// An event-based application: the engine plus its plugins. (Any types are accepted
/// here: event_list reports those that are not event types, by the rule they break.)
/// What does not depend on the event types is detail::app_core's, compiled once in
/// the compiled mode; this class adds the typed registration.
template <class... Es>
class app<event_list<Es...>> {
public:
    using events = event_list<Es...>;
    static_assert(((void)events::valid, true));

    // The configuration is copied or moved by app_core, so in the compiled mode the
    // program does not compile app_config's copy and move.
    explicit app(const app_config& config) : core_{config, {app_topics_, app_names_, app_decoders_}, &describe_events}
    {}
    explicit app(app_config&& config = {})
        : core_{std::move(config), {app_topics_, app_names_, app_decoders_}, &describe_events}
    {}
    app(const app&) = delete;
    app& operator=(const app&) = delete;

    /// Registers @p plugin, which the caller keeps alive until run() returns.
    /// @p name (default: the class name) labels its thread, logs and report.
    /// @throws configuration_error if this object is already registered (one object runs on one thread).
    template <class P>
    app& register_plugin(P& plugin, std::string name = {})
    {
        detail::plugin_rules<P, events>::report();
        if constexpr (detail::plugin_rules<P, events>::holds()) {
            core_.add_plugin(std::make_unique<detail::typed_plugin_slot<P>>(std::move(name), plugin, nullptr), &plugin,
                             detail::short_type_name<P>());
        }
        return *this;
    }

    /// Registers @p plugin, which the application owns.
    template <class P>
    app& register_plugin(std::unique_ptr<P> plugin, std::string name = {})
    {
        detail::plugin_rules<P, events>::report();
        if constexpr (detail::plugin_rules<P, events>::holds()) {
            if (!plugin) throw configuration_error{"event_engine: register_plugin() was given a null plugin"};
            P& ref = *plugin;
            core_.add_plugin(std::make_unique<detail::typed_plugin_slot<P>>(std::move(name), ref, std::move(plugin)),
                             &ref, detail::short_type_name<P>());
        }
        return *this;
    }

    /// Registers a temporary plugin, moved into the application.
    // clang-format off
    template <class P>
        requires(!std::is_lvalue_reference_v<P>)
    app& register_plugin(P&& plugin, std::string name = {})
    // clang-format on
    {
        if constexpr (detail::pointer_like<P>) {
            detail::plugin_rules<P, events>::report(); // a pointer: pass the object
            return *this;
        } else {
            return register_plugin(std::make_unique<std::remove_cvref_t<P>>(std::move(plugin)), std::move(name));
        }
    }

    /// Registers an external plugin: its process connects to its port and speaks the
    /// command protocol (docs/protocol.md). It has finished when it sent quit, or when its
    /// process has gone (reported as plugin_outcome::disconnected).
    template <class Subscriptions, class Publications>
    app& register_external_plugin(external_plugin<Subscriptions, Publications> plugin)
    {
        using declaration = external_plugin<Subscriptions, Publications>;
        using rules = detail::plugin_events_rules<declaration, events>;
        rules::report();
        // Lists out of order, or not of event types, are reported by external_plugin itself.
        if constexpr (rules::holds && detail::valid_external_plugin_v<Subscriptions, Publications>) {
            if (plugin.name().empty()) throw configuration_error{"event_engine: an external plugin needs a name"};
            core_.add_plugin(
                std::make_unique<detail::external_plugin_slot<Subscriptions, Publications>>(std::move(plugin)), nullptr,
                {});
        }
        return *this;
    }

    /// Calls @p callback from run(), on run()'s thread, once every endpoint is bound and
    /// before any plugin starts: the place to learn ports picked by port 0 and to start
    /// external plugins' processes with them. An exception from it ends run() (rethrown,
    /// after everything bound is closed again). One callback: a second call replaces the first.
    app& on_bound(std::function<void(const bound_endpoints&)> callback)
    {
        core_.on_bound(std::move(callback));
        return *this;
    }

    /// Every endpoint the application has bound, from any thread; nullopt until run()
    /// has bound them. They stay readable after run() returns or throws, when they are
    /// closed again.
    [[nodiscard]] std::optional<bound_endpoints> endpoints() const { return core_.endpoints(); }

    /// Builds the event bus (every plugin's inbox), binds the engine's sockets, starts the
    /// TCP ports' thread and one thread per plugin,
    /// waits until every plugin has finished, then shuts everything down.
    /// @throws bind_error if a port or endpoint cannot be bound;
    /// @throws plugin_error if a plugin threw (after the others were stopped and joined).
    run_report run() { return core_.run(); }

    /// The application's manifest, as JSON text (docs/protocol.md, "Manifest"): its
    /// events, its plugins and, once run() has bound them, its endpoints. The same text
    /// run() writes to app_config::manifest_path and serves over the wire.
    /// Needs `event_engine::enable_manifest(app)` first (event_engine/manifest.hpp, the
    /// event_engine::manifest target); `event_engine::manifest_json(app)` there gives it as an
    /// nlohmann::json.
    /// @throws configuration_error if the application has no manifest writer.
    [[nodiscard]] std::string manifest() const { return core_.manifest(); }

    /// The application as plain data (what the manifest is made from); @p bound may be null.
    [[nodiscard]] app_description describe(const bound_endpoints* bound) const { return core_.describe(bound); }

    /// Stops a running application: plugins see stop_requested(), blocked receives
    /// and publishes return, and run() returns once all have ended. Thread-safe and
    /// async-signal-safe; a stop before run() makes run() stop right after start-up.
    void stop() noexcept { core_.stop(); }

    [[nodiscard]] const app_config& config() const noexcept { return core_.config(); }

private:
    static constexpr std::array<std::string_view, sizeof...(Es)> app_topics_{topic_of<Es>...};
    static constexpr std::array<std::string_view, sizeof...(Es)> app_names_{name_of<Es>...};
    // How each event is decoded where it enters the process (once, for every subscriber).
    static constexpr std::array<detail::boundary_decoder, sizeof...(Es)> app_decoders_{
        detail::boundary_decoder_of<Es>()...};

    static std::vector<event_description> describe_events() { return {detail::describe_event<Es>()...}; }

    friend struct detail::manifest_access;

    detail::app_core core_;
};

} // namespace event_engine
