#pragma once
/// @file
/// How an application binds and buffers (`app_config`), and what it bound
/// (`bound_endpoints`, for port 0 and for the processes an application starts).

#include "event_engine/errors.hpp"
#include "event_engine/security.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace event_engine {

/// How an application binds and buffers. Every field has a sensible default.
struct app_config {
    /// TCP port where publishers connect (the engine's incoming socket); 0 picks a free port
    /// (learn it with app::on_bound() or app::endpoints()).
    std::uint16_t publish_port = 5559;
    /// TCP port where subscribers connect (the engine's outgoing socket); 0 picks a free port.
    std::uint16_t subscribe_port = 5560;
    /// Interface the TCP ports bind to: an IPv4 or IPv6 literal ("::1"), a host name, or "*"
    /// (all interfaces). Loopback by default; beyond loopback needs `security` (docs/security.md).
    std::string bind_address = "127.0.0.1";
    /// Largest message a peer may send on any TCP endpoint; a larger one drops its connection.
    std::int64_t max_message_size = std::int64_t{16} << 20;
    /// Who may connect to the TCP endpoints (CURVE keys); empty: every local process (loopback only).
    security_config security{};
    /// The bound on queued events per link: each plugin's inbox holds this many (rounded up
    /// to a power of two, at most 65,536; 0 means 65,536), and it is the high-water mark
    /// (messages) of every ZeroMQ socket.
    int high_water_mark = 1000;
    /// Events a plugin may buffer while it waits to publish (see docs/design.md, loss policy).
    std::size_t spill_limit = 100'000;
    /// Not used since typed in-process delivery (there is no start-up handshake left: every
    /// plugin's inbox exists before any plugin starts); kept so that programs setting it compile.
    std::chrono::milliseconds startup_timeout{10'000};
    /// Stop on SIGINT and SIGTERM while run() is running (previous handlers are restored after).
    bool stop_on_signals = false;
    /// Where run() writes the application's manifest (JSON: its events, plugins and endpoints;
    /// docs/protocol.md, "Manifest"), once every endpoint is bound and before any plugin
    /// starts; empty: nowhere. Needs event_engine::enable_manifest(app) (manifest.hpp).
    std::filesystem::path manifest_path{};
    /// TCP port of the introspection endpoint, where any client may ask for the manifest
    /// (docs/protocol.md); nullopt (the default): no such endpoint; 0 picks a free port.
    /// Same bind address and CURVE rules as the other endpoints (docs/security.md).
    std::optional<std::uint16_t> introspection_port{};
};

/// One bound TCP endpoint of an external plugin.
struct bound_plugin_port {
    std::string plugin;   ///< the external plugin's name
    std::string endpoint; ///< e.g. "tcp://127.0.0.1:6000"
    std::uint16_t port = 0;
};

/// Every TCP endpoint a running application has bound, with the ports port 0 picked.
struct bound_endpoints {
    std::string publish_endpoint; ///< where publishers connect, e.g. "tcp://127.0.0.1:5559"
    std::uint16_t publish_port = 0;
    std::string subscribe_endpoint; ///< where subscribers connect
    std::uint16_t subscribe_port = 0;
    std::vector<bound_plugin_port> external_plugins; ///< in registration order
    /// Where clients ask for the manifest (app_config::introspection_port); empty: not bound.
    std::string introspection_endpoint;
    std::uint16_t introspection_port = 0;

    /// The bound port of the external plugin named @p plugin.
    /// @throws configuration_error if the application has no external plugin of that name.
    [[nodiscard]] std::uint16_t port_of(std::string_view plugin) const
    {
        for (const auto& bound : external_plugins) {
            if (bound.plugin == plugin) return bound.port;
        }
        throw configuration_error{"event_engine: bound_endpoints::port_of(): the application has no external plugin "
                                  "named '" +
                                  std::string{plugin} + "'"};
    }
};

} // namespace event_engine
