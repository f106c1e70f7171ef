#pragma once
// The definitions of app_core (detail/app/app_core.hpp): included by that header in the
// header-only mode, compiled once into event_engine::compiled otherwise
// (src/event_engine.cpp; docs/design.md, "Separately compiled mode").

#include "event_engine/detail/app/app_core.hpp"

#include "event_engine/app_config.hpp"
#include "event_engine/detail/app/app_description.hpp"
#include "event_engine/detail/app/app_runner.hpp"
#include "event_engine/detail/runtime/plugin_slot.hpp"
#include "event_engine/errors.hpp"
#include "event_engine/log.hpp"
#include "event_engine/report.hpp"

#include <algorithm>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace event_engine::detail {

EVENT_ENGINE_DECL app_core::app_core(const app_config& config, event_table events, events_describer describe_events)
    : config_{config}, events_{events}, describe_events_{describe_events}
{}

EVENT_ENGINE_DECL app_core::app_core(app_config&& config, event_table events, events_describer describe_events)
    : config_{std::move(config)}, events_{events}, describe_events_{describe_events}
{}

EVENT_ENGINE_DECL app_core::~app_core() = default;

EVENT_ENGINE_DECL void app_core::add_plugin(std::unique_ptr<plugin_slot> slot, const void* object,
                                            std::string_view type)
{
    // Two threads must never run one object: refused before anything starts.
    for (std::size_t i = 0; object != nullptr && i < objects_.size(); ++i) {
        if (objects_[i] == object) {
            throw configuration_error{"event_engine: register_plugin(): this " + std::string{type} +
                                      " object is already registered, as '" + slots_[i]->name() +
                                      "'; one object runs on one thread, so register another object to run "
                                      "it twice"};
        }
    }
    if (slot->name().empty()) slot->rename(std::string{type});
    // Names label threads, logs and reports, so keep them unique: "Counter", "Counter#2".
    const std::string base = slot->name();
    for (int n = 2; name_taken(slot->name()); ++n) slot->rename(base + "#" + std::to_string(n));
    slots_.push_back(std::move(slot));
    objects_.push_back(object);
}

EVENT_ENGINE_DECL bool app_core::name_taken(const std::string& name) const
{
    for (const auto& slot : slots_) {
        if (slot->name() == name) return true;
    }
    return false;
}

EVENT_ENGINE_DECL void app_core::on_bound(std::function<void(const bound_endpoints&)> callback)
{
    on_bound_ = std::move(callback);
}

EVENT_ENGINE_DECL std::optional<bound_endpoints> app_core::endpoints() const
{
    const std::scoped_lock lock{bound_mutex_};
    return bound_;
}

EVENT_ENGINE_DECL run_report app_core::run()
{
    if (ran_.exchange(true)) throw configuration_error{"event_engine: app::run() can only be called once"};
    if (slots_.empty()) throw configuration_error{"event_engine: run() needs at least one registered plugin"};
    // The manifest is used by the file, the introspection endpoint and every external plugin's
    // port (plugin_command: manifest); the first two cannot work without it.
    const bool external = std::any_of(slots_.begin(), slots_.end(), [](const auto& slot) { return slot->external(); });
    const bool required = !config_.manifest_path.empty() || config_.introspection_port.has_value();
    const manifest_writer write = required || external ? writer() : nullptr;
    if (required && write == nullptr) {
        throw configuration_error{"event_engine: app_config::" +
                                  std::string{config_.manifest_path.empty() ? "introspection_port" : "manifest_path"} +
                                  " is set, but " + std::string{manifest_part_missing}};
    }
    app_runner runner{config_,
                      slots_,
                      events_,
                      stop_,
                      [this](const bound_endpoints& bound) {
                          {
                              const std::scoped_lock lock{bound_mutex_};
                              bound_ = bound;
                          }
                          if (on_bound_) on_bound_(bound);
                      },
                      [this, write](const bound_endpoints& bound) -> std::optional<std::string> {
                          if (write == nullptr) return std::nullopt;
                          return write(describe(&bound));
                      }};
    return runner.run();
}

EVENT_ENGINE_DECL std::string app_core::manifest() const
{
    const manifest_writer write = writer();
    if (write == nullptr) {
        throw configuration_error{"event_engine: app::manifest(): " + std::string{manifest_part_missing}};
    }
    const std::optional<bound_endpoints> bound = endpoints();
    return write(describe(bound ? &*bound : nullptr));
}

EVENT_ENGINE_DECL manifest_writer app_core::writer() const
{
    if (writer_ != nullptr) return writer_;
    const manifest_writer fallback = installed_manifest_writer();
    if (fallback != nullptr && !fallback_warned_.exchange(true)) {
        log(log_level::warn, "{}", manifest_fallback_deprecated);
    }
    return fallback;
}

EVENT_ENGINE_DECL app_description app_core::describe(const bound_endpoints* bound) const
{
    app_description described{describe_events_(), {}, &config_, bound};
    for (const auto& slot : slots_) described.plugins.push_back(slot->describe());
    return described;
}

} // namespace event_engine::detail
