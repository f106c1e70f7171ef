#pragma once
// What an application is made of, as plain data: its events (name, topic, codec), its
// plugins (who subscribes to and publishes what), its configuration and what it bound.
// app::describe() gives it; event_engine/manifest.hpp turns it into the JSON manifest
// (docs/protocol.md, "Manifest").

#include "event_engine/app_config.hpp"

#include <any>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace event_engine {

/// One event type of the application's list.
struct event_description {
    std::string_view name;
    std::string_view topic; // may hold any bytes
    /// The codec's stable name: "text", "bytes", "trivial", "text_view", "bytes_view",
    /// "reflective", or "custom" for any other codec.
    std::string_view codec;
    /// trivial_codec: the payload's size (sizeof the event); otherwise nullopt.
    std::optional<std::size_t> size;
    /// reflective codec: the event's layout (event_engine::layout_type); otherwise empty.
    std::any layout;
};

/// One registered plugin.
struct plugin_description {
    std::string name;
    bool external = false;
    std::vector<std::string_view> subscribes; // event names
    std::vector<std::string_view> publishes;  // event names
    std::uint16_t port = 0;                   // external: as configured (0: any free port)
    /// What the plugin says about itself (an internal plugin with a member `manifest_details()`
    /// returning name/value pairs, e.g. a NATS bridge's subjects): the manifest's plugins[].details.
    std::vector<std::pair<std::string, std::string>> details{};
};

/// The whole application; `bound` is null until run() has bound its endpoints.
struct app_description {
    std::vector<event_description> events;
    std::vector<plugin_description> plugins;
    const app_config* config = nullptr;
    const bound_endpoints* bound = nullptr;
};

} // namespace event_engine
