#pragma once
// The definitions of plugin_slot.hpp's untyped parts (an external plugin's bridge): included by that header in the header-only mode, compiled once into
// event_engine::compiled otherwise (src/event_engine.cpp; docs/design.md, "Separately
// compiled mode").

#include "event_engine/detail/runtime/plugin_slot.hpp"

#include "event_engine/app_config.hpp"
#include "event_engine/detail/endpoints/endpoint.hpp"
#include "event_engine/detail/endpoints/external_bridge.hpp"
#include "event_engine/detail/security/key_policy.hpp"
#include "event_engine/errors.hpp"

#include <zmq.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace event_engine::detail {

EVENT_ENGINE_DECL void external_bridge_deleter::operator()(external_bridge* bridge) const noexcept { delete bridge; }

EVENT_ENGINE_DECL external_bridge_ptr make_external_bridge(zmq::context_t& context, const app_config& config,
                                                           const bind_host& app_host, const std::string& name,
                                                           std::uint16_t port, const external_options& options,
                                                           std::span<const std::string_view> publication_topics,
                                                           std::span<const std::string_view> publication_names)
{
    const bind_host host = options.bind_address.empty() ? app_host : resolve_bind_host(options.bind_address);
    bridge_settings settings;
    settings.name = name;
    settings.endpoint = tcp_endpoint(host, port);
    require_keys_beyond_loopback(config, host, "port of external plugin '" + name + "'", settings.endpoint);
    settings.ipv6 = host.ipv6;
    settings.publish_topics = publication_topics;
    settings.publish_names = publication_names;
    settings.timing = {options.connect_timeout, options.connect_warning_interval, options.disconnect_grace,
                       options.stop_grace};
    if (options.queue_limit < 1) {
        throw configuration_error{"event_engine: external plugin '" + name + "': queue_limit must be at least 1"};
    }
    settings.queue_limit = static_cast<std::size_t>(options.queue_limit);
    settings.queue_byte_limit = options.queue_byte_limit;
    settings.when_full = options.when_full;
    settings.max_message_size = config.max_message_size;
    if (config.security.server) {
        if (!options.client_key) {
            throw configuration_error{
                "event_engine: external plugin '" + name +
                "' has no client_key, but the application uses CURVE (security.server is set): give it "
                "external_options::client_key, the public key of its process (docs/security.md)"};
        }
        settings.curve_secret_key = config.security.server->secret_key.z85();
    }
    return external_bridge_ptr{new external_bridge(context, std::move(settings))};
}

EVENT_ENGINE_DECL void serve_external_plugin(external_bridge& bridge, plugin_runtime& runtime)
{
    bridge.serve(runtime);
}

} // namespace event_engine::detail
