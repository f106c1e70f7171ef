#pragma once
// The untyped half of app<Events>: the configuration, the registered plugin slots,
// the bound endpoints and run(). app<Events> (app.hpp) keeps what needs the types (the
// registration rules, the typed slots, its event table) and forwards the rest here, so
// a program in the compiled mode compiles none of this (docs/design.md, "Separately
// compiled mode"), and no program compiles it once per event list.

#include "event_engine/app_config.hpp"
#include "event_engine/detail/app/app_description.hpp"
#include "event_engine/detail/config.hpp"
#include "event_engine/detail/runtime/wake_pipe.hpp"
#include "event_engine/report.hpp"

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace event_engine::detail {

class plugin_slot;

class app_core {
public:
    /// The descriptions of the application's events, in its list's order (for the manifest).
    using events_describer = std::vector<event_description> (*)();

    /// The arrays @p events views must outlive the object (they are app<E>'s statics);
    /// @p describe_events is called whenever the manifest is made.
    EVENT_ENGINE_DECL app_core(const app_config& config, event_table events, events_describer describe_events);
    EVENT_ENGINE_DECL app_core(app_config&& config, event_table events, events_describer describe_events);
    EVENT_ENGINE_DECL ~app_core();
    app_core(const app_core&) = delete;
    app_core& operator=(const app_core&) = delete;

    /// Adds a registered plugin. @p object is the plugin object an internal plugin runs
    /// (null for an external one): one object runs on one thread, so registering it twice
    /// throws configuration_error, naming @p type. An empty name becomes @p type; names
    /// are kept unique ("Counter", "Counter#2").
    EVENT_ENGINE_DECL void add_plugin(std::unique_ptr<plugin_slot> slot, const void* object, std::string_view type);

    EVENT_ENGINE_DECL void on_bound(std::function<void(const bound_endpoints&)> callback);
    [[nodiscard]] EVENT_ENGINE_DECL std::optional<bound_endpoints> endpoints() const;
    EVENT_ENGINE_DECL run_report run();
    [[nodiscard]] EVENT_ENGINE_DECL std::string manifest() const;
    [[nodiscard]] EVENT_ENGINE_DECL app_description describe(const bound_endpoints* bound) const;

    void stop() noexcept { stop_.request(); }
    [[nodiscard]] const app_config& config() const noexcept { return config_; }

    /// The application's manifest writer (event_engine::enable_manifest(app), manifest.hpp);
    /// set before run().
    void set_manifest_writer(manifest_writer write) noexcept { writer_ = write; }

private:
    [[nodiscard]] EVENT_ENGINE_DECL bool name_taken(const std::string& name) const;
    /// The application's writer; else the deprecated program-wide one (installed_manifest_writer()),
    /// logging manifest_fallback_deprecated once per application; else null.
    [[nodiscard]] EVENT_ENGINE_DECL manifest_writer writer() const;

    app_config config_;
    event_table events_;
    events_describer describe_events_;
    std::vector<std::unique_ptr<plugin_slot>> slots_;
    std::vector<const void*> objects_; // the plugin object of each slot (null: external)
    std::function<void(const bound_endpoints&)> on_bound_;
    mutable std::mutex bound_mutex_;
    std::optional<bound_endpoints> bound_;
    stop_flag stop_;
    std::atomic<bool> ran_{false};
    manifest_writer writer_ = nullptr;
    mutable std::atomic<bool> fallback_warned_{false};
};

} // namespace event_engine::detail

#ifndef EVENT_ENGINE_SEPARATE_COMPILATION
#include "event_engine/detail/app/app_core.ipp"
#endif
