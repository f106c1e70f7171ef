#pragma once
// The untyped back end of app::run(): binds the endpoints, starts the proxy and
// one thread per plugin slot, supervises them, joins everything and builds the
// report. The typed front (app.hpp) only registers plugins and hands over its
// event table; nothing here depends on the application's event types.

#include "event_engine/app_config.hpp"
#include "event_engine/detail/app/app_description.hpp"
#include "event_engine/detail/config.hpp"
#include "event_engine/detail/runtime/delivery_board.hpp"
#include "event_engine/detail/runtime/delivery_marks.hpp"
#include "event_engine/detail/runtime/plugin_runtime.hpp"
#include "event_engine/detail/runtime/plugin_slot.hpp"
#include "event_engine/detail/runtime/wake_pipe.hpp"
#include "event_engine/detail/security/zap_handler.hpp"
#include "event_engine/report.hpp"

#include <zmq.hpp>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace event_engine::detail {

struct bind_host;
struct proxy_settings;
class introspection_endpoint;
class event_bus;
class start_gate;

class app_runner {
public:
    using bound_callback = std::function<void(const bound_endpoints&)>;
    /// The manifest's text for what was bound; nullopt when the program has no manifest writer.
    using manifest_callback = std::function<std::optional<std::string>(const bound_endpoints&)>;

    app_runner(const app_config& config, std::span<const std::unique_ptr<plugin_slot>> slots, event_table events,
               stop_flag& stop, bound_callback on_bound, manifest_callback manifest = {})
        : config_{config}, slots_{slots}, events_{events}, stop_{stop}, on_bound_{std::move(on_bound)},
          manifest_{std::move(manifest)}
    {}

    run_report run();

private:
    struct plugin_state {
        std::thread thread;
        plugin_report report;
        std::exception_ptr failure;
    };

    // The manifest, once everything is bound: to its file, to every external plugin's
    // port and to the introspection endpoint (docs/protocol.md, "Manifest").
    void publish_manifest(const bound_endpoints& bound, const std::vector<external_bridge_ptr>& bridges,
                          std::optional<introspection_endpoint>& introspection) const;

    // Written beside its place and renamed into it: a reader never sees half a manifest.
    void write_manifest(const std::string& text) const;

    // Said once at start-up, at info level: either end may be a process on the TCP ports.
    void log_graph_holes() const;

    proxy_settings make_proxy_settings(const bind_host& host) const;

    std::string_view topic_named(std::string_view event) const;

    // Who may connect where, for the ZAP handler: one domain per TCP endpoint.
    zap_handler::key_table key_table() const;

    // Who reads whose delivery marks: decided once, before any plugin subscribes.
    delivery_board plan_delivery_marks() const;

    // Each plugin's settings (its own adjustments made: an external plugin's inbox is small).
    std::vector<runtime_settings> plugin_settings() const;

    void run_plugins(event_bus& bus, const std::vector<runtime_settings>& settings, const delivery_board& marks,
                     const std::vector<external_bridge_ptr>& bridges, introspection_endpoint* introspection,
                     run_report& report);

    void run_one(event_bus& bus, plugin_slot& slot, std::size_t index, const runtime_settings& settings,
                 const delivery_links& links, external_bridge* bridge, start_gate& gate, plugin_state& state) noexcept;

    void record_failure(plugin_slot& slot, plugin_state& state, plugin_runtime* runtime, std::string_view what,
                        start_gate& gate) noexcept;

    run_report finish_report(run_report report);

    const app_config& config_;
    std::span<const std::unique_ptr<plugin_slot>> slots_;
    event_table events_;
    stop_flag& stop_;
    bound_callback on_bound_;
    manifest_callback manifest_;
    std::exception_ptr first_failure_;
};

} // namespace event_engine::detail

#ifndef EVENT_ENGINE_SEPARATE_COMPILATION
#include "event_engine/detail/app/app_runner.ipp"
#endif
