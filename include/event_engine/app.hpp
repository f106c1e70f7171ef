#pragma once
/// @file
/// The application: configuration, plugin registration and `run()`.
///
///     event_engine::app<events> app{{.publish_port = 5559, .subscribe_port = 5560}};
///     app.register_plugin(producer).register_plugin(counter);
///     event_engine::run_report report = app.run();

#include "event_engine/app_config.hpp"
#include "event_engine/detail/app_description.hpp"
#include "event_engine/detail/app_runner.hpp"
#include "event_engine/detail/plugin_slot.hpp"
#include "event_engine/detail/registration_rules.hpp"
#include "event_engine/detail/type_name.hpp"
#include "event_engine/errors.hpp"
#include "event_engine/event_list.hpp"
#include "event_engine/external_plugin.hpp"
#include "event_engine/plugin.hpp"
#include "event_engine/report.hpp"

#include <array>
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace event_engine {

template <class Events>
class app {
    static_assert(detail::always_false<Events>,
                  "event_engine::app<Events>: Events must be an event_engine::event_list<...>");
};

/// An event-based application: the engine plus its plugins. (Any types are accepted
/// here: event_list reports those that are not event types, by the rule they break.)
template <class... Es>
class app<event_list<Es...>> {
public:
    using events = event_list<Es...>;
    static_assert(((void)events::valid, true));

    explicit app(app_config config = {}) : config_{std::move(config)} {}
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
            refuse_if_registered(&plugin, detail::short_type_name<P>());
            add_slot(std::make_unique<detail::typed_plugin_slot<P>>(default_name<P>(std::move(name)), plugin, nullptr),
                     &plugin);
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
            refuse_if_registered(&ref, detail::short_type_name<P>());
            add_slot(std::make_unique<detail::typed_plugin_slot<P>>(default_name<P>(std::move(name)), ref,
                                                                    std::move(plugin)),
                     &ref);
        }
        return *this;
    }

    /// Registers a temporary plugin, moved into the application.
    template <class P>
        requires(!std::is_lvalue_reference_v<P>)
    app& register_plugin(P&& plugin, std::string name = {})
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
            add_slot(std::make_unique<detail::external_plugin_slot<Subscriptions, Publications>>(std::move(plugin)),
                     nullptr);
        }
        return *this;
    }

    /// Calls @p callback from run(), on run()'s thread, once every endpoint is bound and
    /// before any plugin starts: the place to learn ports picked by port 0 and to start
    /// external plugins' processes with them. An exception from it ends run() (rethrown,
    /// after everything bound is closed again). One callback: a second call replaces the first.
    app& on_bound(std::function<void(const bound_endpoints&)> callback)
    {
        on_bound_ = std::move(callback);
        return *this;
    }

    /// Every endpoint the application has bound, from any thread; nullopt until run()
    /// has bound them. They stay readable after run() returns or throws, when they are
    /// closed again.
    [[nodiscard]] std::optional<bound_endpoints> endpoints() const
    {
        const std::scoped_lock lock{bound_mutex_};
        return bound_;
    }

    /// Binds the engine's sockets, starts the proxy and one thread per plugin,
    /// waits until every plugin has finished, then shuts everything down.
    /// @throws bind_error if a port or endpoint cannot be bound;
    /// @throws plugin_error if a plugin threw (after the others were stopped and joined).
    run_report run()
    {
        if (ran_.exchange(true)) throw configuration_error{"event_engine: app::run() can only be called once"};
        if (slots_.empty()) throw configuration_error{"event_engine: run() needs at least one registered plugin"};
        detail::app_runner runner{config_,
                                  slots_,
                                  {app_topics_, app_names_},
                                  stop_,
                                  [this](const bound_endpoints& bound) {
                                      {
                                          const std::scoped_lock lock{bound_mutex_};
                                          bound_ = bound;
                                      }
                                      if (on_bound_) on_bound_(bound);
                                  },
                                  [this](const bound_endpoints& bound) -> std::optional<std::string> {
                                      const detail::manifest_writer write = detail::installed_manifest_writer();
                                      if (write == nullptr) return std::nullopt;
                                      return write(describe(&bound));
                                  }};
        return runner.run();
    }

    /// The application's manifest, as JSON text (docs/protocol.md, "Manifest"): its
    /// events, its plugins and, once run() has bound them, its endpoints. The same text
    /// run() writes to app_config::manifest_path and serves over the wire.
    /// Needs event_engine/manifest.hpp (and the event_engine::manifest target) in the
    /// program; `event_engine::manifest_json(app)` there gives it as an nlohmann::json.
    /// @throws configuration_error if the program has no manifest writer.
    [[nodiscard]] std::string manifest() const
    {
        const detail::manifest_writer write = detail::installed_manifest_writer();
        if (write == nullptr) throw configuration_error{"event_engine: app::manifest(): " + std::string{detail::manifest_part_missing}};
        const std::optional<bound_endpoints> bound = endpoints();
        return write(describe(bound ? &*bound : nullptr));
    }

    /// The application as plain data (what the manifest is made from); @p bound may be null.
    [[nodiscard]] detail::app_description describe(const bound_endpoints* bound) const
    {
        detail::app_description described{{detail::describe_event<Es>()...}, {}, &config_, bound};
        for (const auto& slot : slots_) described.plugins.push_back(slot->describe());
        return described;
    }

    /// Stops a running application: plugins see stop_requested(), blocked receives
    /// and publishes return, and run() returns once all have ended. Thread-safe and
    /// async-signal-safe; a stop before run() makes run() stop right after start-up.
    void stop() noexcept { stop_.request(); }

    [[nodiscard]] const app_config& config() const noexcept { return config_; }

private:
    static constexpr std::array<std::string_view, sizeof...(Es)> app_topics_{topic_of<Es>...};
    static constexpr std::array<std::string_view, sizeof...(Es)> app_names_{name_of<Es>...};

    template <class P>
    static std::string default_name(std::string name)
    {
        return name.empty() ? std::string{detail::short_type_name<P>()} : std::move(name);
    }

    // Two threads must never run one object: refused before anything starts.
    void refuse_if_registered(const void* object, std::string_view type) const
    {
        for (std::size_t i = 0; i < objects_.size(); ++i) {
            if (objects_[i] == object) {
                throw configuration_error{"event_engine: register_plugin(): this " + std::string{type} +
                                          " object is already registered, as '" + slots_[i]->name() +
                                          "'; one object runs on one thread, so register another object to run "
                                          "it twice"};
            }
        }
    }

    void add_slot(std::unique_ptr<detail::plugin_slot> slot, const void* object)
    {
        // Names label threads, logs and reports, so keep them unique: "Counter", "Counter#2".
        const std::string base = slot->name();
        for (int n = 2; name_taken(slot->name()); ++n) slot->rename(base + "#" + std::to_string(n));
        slots_.push_back(std::move(slot));
        objects_.push_back(object);
    }

    bool name_taken(const std::string& name) const
    {
        for (const auto& slot : slots_) {
            if (slot->name() == name) return true;
        }
        return false;
    }

    app_config config_;
    std::vector<std::unique_ptr<detail::plugin_slot>> slots_;
    std::vector<const void*> objects_; // the plugin object of each slot (null: external)
    std::function<void(const bound_endpoints&)> on_bound_;
    mutable std::mutex bound_mutex_;
    std::optional<bound_endpoints> bound_;
    detail::stop_flag stop_;
    std::atomic<bool> ran_{false};
};

} // namespace event_engine
