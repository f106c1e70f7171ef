#pragma once
// The definitions of app_runner (detail/app/app_runner.hpp): included by that header in
// the header-only mode, compiled once into event_engine::compiled otherwise
// (src/event_engine.cpp; docs/design.md, "Separately compiled mode").

#include "event_engine/detail/app/app_runner.hpp"

#include "event_engine/app_config.hpp"
#include "event_engine/detail/app/app_description.hpp"
#include "event_engine/detail/app/signal_scope.hpp"
#include "event_engine/detail/endpoints/endpoint.hpp"
#include "event_engine/detail/endpoints/engine_proxy.hpp"
#include "event_engine/detail/endpoints/external_bridge.hpp"
#include "event_engine/detail/endpoints/introspection_endpoint.hpp"
#include "event_engine/detail/endpoints/sockets.hpp"
#include "event_engine/detail/runtime/delivery_board.hpp"
#include "event_engine/detail/runtime/delivery_marks.hpp"
#include "event_engine/detail/runtime/event_bus.hpp"
#include "event_engine/detail/runtime/plugin_runtime.hpp"
#include "event_engine/detail/runtime/plugin_slot.hpp"
#include "event_engine/detail/runtime/start_gate.hpp"
#include "event_engine/detail/runtime/thread_joiner.hpp"
#include "event_engine/detail/runtime/wake_pipe.hpp"
#include "event_engine/detail/security/key_policy.hpp"
#include "event_engine/detail/security/zap_handler.hpp"
#include "event_engine/errors.hpp"
#include "event_engine/log.hpp"
#include "event_engine/report.hpp"

#include <zmq.hpp>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace event_engine::detail {

EVENT_ENGINE_DECL run_report app_runner::run()
{
    const signal_scope signals{config_.stop_on_signals ? &stop_ : nullptr};
    const bind_host host = resolve_bind_host(config_.bind_address);
    zmq::context_t context;
    run_report report;
    {
        // Authentication first: without a ZAP handler, libzmq lets every CURVE client in.
        std::optional<zap_handler> zap;
        if (config_.security.server) zap.emplace(context, key_table());
        const delivery_board marks = plan_delivery_marks();
        const std::vector<runtime_settings> settings = plugin_settings();
        std::vector<station_plan> stations;
        for (std::size_t i = 0; i < slots_.size(); ++i) {
            stations.push_back({slots_[i]->topics(), slots_[i]->published_topics(), slots_[i]->external(),
                                settings[i].inbox_capacity()});
        }
        event_bus bus{events_, stations, marks,
                      runtime_settings{.high_water_mark = config_.high_water_mark}.inbox_capacity()};
        engine_proxy proxy{context, make_proxy_settings(host), bus};
        log(log_level::info, "engine listening: publish port {}, subscribe port {}", proxy.publish_endpoint(),
            proxy.subscribe_endpoint());
        // External plugins' ports, bound before any thread starts (a port in use fails here).
        std::vector<external_bridge_ptr> bridges;
        bound_endpoints bound{proxy.publish_endpoint(),
                              port_of_endpoint(proxy.publish_endpoint()),
                              proxy.subscribe_endpoint(),
                              port_of_endpoint(proxy.subscribe_endpoint()),
                              {},
                              {},
                              0};
        for (const auto& slot : slots_) {
            bridges.push_back(slot->prepare(context, config_, host));
            if (const auto& bridge = bridges.back()) {
                log(log_level::info, "external plugin '{}' listening on {}", slot->name(), bridge->endpoint());
                bound.external_plugins.push_back(
                    {slot->name(), bridge->endpoint(), port_of_endpoint(bridge->endpoint())});
            }
        }
        std::optional<introspection_endpoint> introspection;
        if (config_.introspection_port) {
            const std::string endpoint = tcp_endpoint(host, *config_.introspection_port);
            require_keys_beyond_loopback(config_, host, "introspection port", endpoint);
            std::optional<std::string> curve;
            if (config_.security.server) curve = config_.security.server->secret_key.z85();
            introspection.emplace(context, endpoint, host.ipv6, curve);
            bound.introspection_endpoint = introspection->endpoint();
            bound.introspection_port = port_of_endpoint(bound.introspection_endpoint);
            log(log_level::info, "introspection endpoint listening on {}", bound.introspection_endpoint);
        }
        publish_manifest(bound, bridges, introspection);
        log_graph_holes();
        // Before any plugin starts: the application may start the processes now.
        if (on_bound_) on_bound_(bound);
        std::thread proxy_thread{[&proxy] {
            set_thread_name("ee-proxy");
            proxy.run();
        }};
        {
            // However run_plugins() ends (every plugin thread joined), the proxy then
            // forwards what is still queued, counting it, and is joined.
            const thread_joiner join_proxy{proxy_thread, [&proxy] { proxy.finish(); }};
            run_plugins(bus, settings, marks, bridges, introspection ? &*introspection : nullptr, report);
        }
        // Every thread has ended. What is left in an inbox was pushed as its plugin ended
        // (after its runtime had taken the rest): after its end; in one that never closed
        // (its plugin failed before it ran), unread.
        for (std::size_t i = 0; i < report.plugins.size(); ++i) {
            inbox& input = bus.input(i);
            std::uint64_t left = 0;
            envelope item;
            while (input.try_pop(item)) {
                if (item.is_event()) ++left;
            }
            auto& plugin = report.plugins[i];
            plugin.events_after_end = input.after_end() + (input.closed() ? left : 0);
            if (!input.closed()) plugin.events_unread += left;
        }
        report.tcp_events_offered = proxy.tcp_events_offered();
        report.tcp_events_dropped = bus.tcp_dropped();
        report.tcp_publishes_refused = proxy.tcp_publishes_refused();
        if (zap) report.connections_refused = zap->refused();
    }
    report.stopped = stop_.requested();
    context.close();
    return finish_report(std::move(report));
}

EVENT_ENGINE_DECL void app_runner::publish_manifest(const bound_endpoints& bound,
                                                    const std::vector<external_bridge_ptr>& bridges,
                                                    std::optional<introspection_endpoint>& introspection) const
{
    if (!manifest_) return;
    std::optional<std::string> text = manifest_(bound);
    if (!text) return;
    const auto shared = std::make_shared<const std::string>(std::move(*text));
    if (!config_.manifest_path.empty()) write_manifest(*shared);
    for (const auto& bridge : bridges) {
        if (bridge) bridge->set_manifest(shared);
    }
    if (introspection) introspection->set_manifest(shared);
}

EVENT_ENGINE_DECL void app_runner::write_manifest(const std::string& text) const
{
    const std::filesystem::path& path = config_.manifest_path;
    std::filesystem::path partial = path;
    partial += ".partial";
    std::error_code failure;
    {
        std::ofstream file{partial, std::ios::binary | std::ios::trunc};
        file << text;
        file.close();
        if (!file) failure = std::make_error_code(std::errc::io_error);
    }
    if (!failure) std::filesystem::rename(partial, path, failure);
    if (failure) {
        std::filesystem::remove(partial, failure);
        throw configuration_error{"event_engine: cannot write the manifest to '" + path.string() +
                                  "' (app_config::manifest_path); is its directory there and writable?"};
    }
    log(log_level::info, "manifest written to {}", path.string());
}

EVENT_ENGINE_DECL void app_runner::log_graph_holes() const
{
    if (!log_enabled(log_level::info)) return;
    std::vector<plugin_description> plugins;
    for (const auto& slot : slots_) plugins.push_back(slot->describe());
    const graph_holes holes = find_graph_holes(events_.names, plugins);
    const auto joined = [](const std::vector<std::string_view>& names) {
        std::string text;
        for (const auto name : names) text += (text.empty() ? "" : ", ") + std::string{name};
        return text;
    };
    if (!holes.unsubscribed.empty()) {
        log(log_level::info,
            "events published by a plugin but subscribed by none: {} (only processes on the "
            "subscribe port can receive them)",
            joined(holes.unsubscribed));
    }
    if (!holes.unpublished.empty()) {
        log(log_level::info,
            "events subscribed by a plugin but published by none: {} (only processes on the "
            "publish port can send them)",
            joined(holes.unpublished));
    }
}

EVENT_ENGINE_DECL proxy_settings app_runner::make_proxy_settings(const bind_host& host) const
{
    proxy_settings settings;
    settings.host = host;
    settings.publish_port = config_.publish_port;
    settings.subscribe_port = config_.subscribe_port;
    settings.high_water_mark = config_.high_water_mark;
    settings.max_message_size = config_.max_message_size;
    settings.app_topics = events_.topics;
    const std::string endpoint = tcp_endpoint(host, config_.publish_port);
    require_keys_beyond_loopback(config_, host, "publish and subscribe ports", endpoint);
    if (!config_.security.server) return settings;
    settings.curve_secret_key = config_.security.server->secret_key.z85();
    const auto& publishers = config_.security.publishers;
    for (std::size_t i = 0; i < publishers.size(); ++i) {
        settings.publisher_keys["publisher/" + std::to_string(i)] = publishers[i].key.z85();
        if (publishers[i].events.empty()) continue;
        auto& topics = settings.publisher_topics["publisher/" + std::to_string(i)];
        for (const auto& event : publishers[i].events) topics.push_back(topic_named(event));
    }
    return settings;
}

EVENT_ENGINE_DECL std::string_view app_runner::topic_named(std::string_view event) const
{
    for (std::size_t i = 0; i < events_.names.size(); ++i) {
        if (events_.names[i] == event) return events_.topics[i];
    }
    throw configuration_error{"event_engine: security.publishers names the event '" + std::string{event} +
                              "', which is not in the application's event list"};
}

EVENT_ENGINE_DECL zap_handler::key_table app_runner::key_table() const
{
    zap_handler::key_table table;
    const auto& security = config_.security;
    std::set<std::string> publisher_keys;
    for (const auto& publisher : security.publishers) {
        if (!publisher_keys.insert(publisher.key.z85()).second) {
            throw configuration_error{"event_engine: security.publishers lists the key " + publisher.key.z85() +
                                      " twice; list each publisher once, with all the events it may publish"};
        }
    }
    for (std::size_t i = 0; i < security.publishers.size(); ++i) {
        table["publish"][security.publishers[i].key.z85()] = "publisher/" + std::to_string(i);
    }
    for (std::size_t i = 0; i < security.subscribers.size(); ++i) {
        table["subscribe"][security.subscribers[i].z85()] = "subscriber/" + std::to_string(i);
    }
    for (const auto& slot : slots_) {
        if (const auto& key = slot->client_key()) table["plugin/" + slot->name()][key->z85()] = slot->name();
    }
    // Whoever the application lets in anywhere may read its manifest.
    if (config_.introspection_port) {
        auto& readers = table["introspection"];
        for (const auto& [domain, keys] : table) {
            if (domain == "introspection") continue;
            for (const auto& [key, user] : keys) readers.emplace(key, user);
        }
    }
    return table;
}

EVENT_ENGINE_DECL delivery_board app_runner::plan_delivery_marks() const
{
    std::vector<delivery_party> plugins;
    for (const auto& slot : slots_)
        plugins.push_back({slot->tracks_delivery(), slot->topics(), slot->published_topics()});
    return delivery_board{plugins};
}

EVENT_ENGINE_DECL std::vector<runtime_settings> app_runner::plugin_settings() const
{
    runtime_settings common;
    common.high_water_mark = config_.high_water_mark;
    common.spill_limit = config_.spill_limit;
    common.startup_timeout = config_.startup_timeout;
    std::vector<runtime_settings> settings(slots_.size(), common);
    for (std::size_t i = 0; i < slots_.size(); ++i) slots_[i]->adjust(settings[i]);
    return settings;
}

EVENT_ENGINE_DECL void app_runner::run_plugins(event_bus& bus, const std::vector<runtime_settings>& settings,
                                               const delivery_board& marks,
                                               const std::vector<external_bridge_ptr>& bridges,
                                               introspection_endpoint* introspection, run_report& report)
{
    start_gate gate{slots_.size()};
    wake_pipe ended;
    std::vector<plugin_state> states(slots_.size());
    std::atomic<std::size_t> running{slots_.size()};

    try {
        for (std::size_t i = 0; i < slots_.size(); ++i) {
            states[i].thread = std::thread{[&, i] {
                run_one(bus, *slots_[i], i, settings[i], marks.links(i), bridges[i].get(), gate, states[i]);
                running.fetch_sub(1);
                ended.signal();
            }};
        }
    } catch (...) { // could not start a thread: stop and join the ones that did start
        stop_.request();
        gate.abort();
        for (std::size_t i = 0; i < slots_.size(); ++i) {
            if (!states[i].thread.joinable()) bus.input(i).close(); // nobody will take its events
        }
        bus.wake_publishers();
        for (auto& state : states) {
            if (state.thread.joinable()) state.thread.join();
        }
        throw;
    }

    // Supervise: release the start gate on a stop, return when every plugin has ended.
    // (Once requested, the stop pipe stays readable, so it is watched only until then.)
    // The introspection endpoint is served here too, never waiting on a peer.
    while (running.load() > 0) {
        std::vector<zmq::pollitem_t> items{{nullptr, ended.read_fd(), ZMQ_POLLIN, 0}};
        if (introspection != nullptr) items.push_back(introspection->pollitem());
        if (!stop_.requested()) items.push_back({nullptr, stop_.fd(), ZMQ_POLLIN, 0});
        poll(items.data(), items.size(), std::chrono::milliseconds{-1});
        if (introspection != nullptr && (items[1].revents & ZMQ_POLLIN)) introspection->serve();
        ended.drain();
        if (stop_.requested()) {
            gate.abort();
            bus.wake_publishers(); // they look at the stop flag now, not at their next timeout
        }
    }
    for (auto& state : states) state.thread.join();

    for (auto& state : states) {
        report.plugins.push_back(std::move(state.report));
        if (state.failure && !first_failure_) first_failure_ = state.failure;
    }
}

EVENT_ENGINE_DECL void app_runner::run_one(event_bus& bus, plugin_slot& slot, std::size_t index,
                                           const runtime_settings& settings, const delivery_links& links,
                                           external_bridge* bridge, start_gate& gate, plugin_state& state) noexcept
{
    set_thread_name(slot.name());
    std::unique_ptr<plugin_runtime> runtime;
    try {
        runtime = std::make_unique<plugin_runtime>(bus, slot.name(), index, settings, stop_, links);
        if (runtime->probe() && gate.arrive_and_wait()) {
            log(log_level::debug, "plugin '{}' started", slot.name());
            slot.run(*runtime, bridge);
        }
        const plugin_outcome outcome = runtime->outcome()                           ? *runtime->outcome()
                                       : runtime->finishing() || !stop_.requested() ? plugin_outcome::finished
                                                                                    : plugin_outcome::stopped;
        if (outcome == plugin_outcome::finished) runtime->end_watches(); // (before its input is read away)
        runtime->close_input();
        state.report = runtime->final_report();
        state.report.outcome = outcome;
    } catch (const std::exception& failure) {
        record_failure(slot, state, runtime.get(), failure.what(), gate);
    } catch (...) {
        record_failure(slot, state, runtime.get(), "a non-standard exception", gate);
    }
    // Closed however the plugin ended (its runtime closed it, unless it was never built):
    // no publisher waits for it any more.
    bus.input(index).close();
    log(log_level::debug, "plugin '{}' ended", slot.name());
}

EVENT_ENGINE_DECL void app_runner::record_failure(plugin_slot& slot, plugin_state& state, plugin_runtime* runtime,
                                                  std::string_view what, start_gate& gate) noexcept
{
    try {
        state.failure = std::current_exception();
        if (runtime != nullptr) {
            runtime->close_input();
            state.report = runtime->final_report();
        }
        state.report.name = slot.name();
        state.report.outcome = plugin_outcome::failed;
        state.report.error = std::string{what};
        log(log_level::error, "plugin '{}' failed: {}; stopping the application", slot.name(), what);
    } catch (...) {
    }
    gate.abort();
    stop_.request();
}

EVENT_ENGINE_DECL run_report app_runner::finish_report(run_report report)
{
    if (!first_failure_) return report;
    for (const auto& plugin : report.plugins) {
        if (plugin.outcome == plugin_outcome::failed) {
            throw plugin_error{plugin.name, "event_engine: plugin '" + plugin.name + "' failed: " + plugin.error,
                               first_failure_, std::move(report)};
        }
    }
    return report;
}

} // namespace event_engine::detail
