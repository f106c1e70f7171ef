#pragma once
/// @file
/// The application's manifest: a JSON document, generated from the compile-time
/// lists, that says what the application is made of (its events with their topics
/// and codecs, its plugins and what they subscribe to and publish, its endpoints and
/// whether they require CURVE), so that tools and other languages need no C++.
/// The format is specified in docs/protocol.md, "Manifest".
///
/// `event_engine::enable_manifest(app)` (this header; CMake target event_engine::manifest,
/// which adds nlohmann_json) turns the manifest on for that application: app::manifest()
/// returns it, run() writes it to app_config::manifest_path and answers
/// `plugin_command: manifest` on every external plugin's port and on the introspection
/// endpoint (app_config::introspection_port). The core target does not depend on
/// nlohmann_json: only programs that want a manifest pay for it.
///
///     #include <event_engine/manifest.hpp>
///     config.manifest_path = "seed.manifest.json";
///     event_engine::app<events> app{config};
///     event_engine::enable_manifest(app);
///     nlohmann::ordered_json manifest = event_engine::manifest_json(app);
///
/// Deprecated, goes away in the next minor version: including this header anywhere in the
/// program still gives every application that did not call enable_manifest(app) the
/// manifest, and run() logs a warning saying to call it.

#include "event_engine/app.hpp"
#include "event_engine/detail/app/app_description.hpp"

#include <nlohmann/json.hpp>

// Reflective events carry their layout (layout.hpp, which needs Boost.Hana); without
// Hana there can be no reflective event, so nothing is lost.
#if __has_include(<boost/hana/accessors.hpp>)
#include "event_engine/layout.hpp"
#define EVENT_ENGINE_MANIFEST_LAYOUTS 1
#endif

#include <cstdint>
#include <string>
#include <string_view>

namespace event_engine {

/// The version of the manifest's format, its "manifest_version" field. It changes only
/// when a reader of the previous version could misread a manifest; added fields do not
/// change it (readers ignore fields they do not know).
inline constexpr int manifest_version = 1;

namespace detail {

/// A topic's bytes as lowercase hex, e.g. "0100".
inline std::string topic_hex(std::string_view topic)
{
    static constexpr char digits[] = "0123456789abcdef";
    std::string hex;
    hex.reserve(topic.size() * 2);
    for (const char c : topic) {
        const auto byte = static_cast<unsigned char>(c);
        hex += digits[byte >> 4];
        hex += digits[byte & 0x0f];
    }
    return hex;
}

/// A topic's bytes as printable ASCII: printable characters as they are, a backslash
/// doubled, any other byte as \xHH, e.g. "\x01\x00". Reversible, and safe in any JSON
/// string, log line or terminal.
inline std::string topic_text(std::string_view topic)
{
    static constexpr char digits[] = "0123456789abcdef";
    std::string text;
    for (const char c : topic) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte == '\\') {
            text += "\\\\";
        } else if (byte >= 0x20 && byte < 0x7f) {
            text += c;
        } else {
            text += "\\x";
            text += digits[byte >> 4];
            text += digits[byte & 0x0f];
        }
    }
    return text;
}

inline nlohmann::ordered_json endpoint_json(std::string_view endpoint, std::uint16_t port, bool curve)
{
    nlohmann::ordered_json json;
    json["endpoint"] = endpoint.empty() ? nlohmann::ordered_json{} : nlohmann::ordered_json(endpoint);
    json["port"] = port;
    json["curve"] = curve;
    return json;
}

inline nlohmann::ordered_json events_json(const app_description& app)
{
    nlohmann::ordered_json events = nlohmann::ordered_json::array();
    for (const auto& event : app.events) {
        nlohmann::ordered_json json;
        json["name"] = event.name;
        json["topic"] = {{"hex", topic_hex(event.topic)}, {"text", topic_text(event.topic)}};
        json["codec"] = event.codec;
        if (event.size) json["size"] = *event.size;
#ifdef EVENT_ENGINE_MANIFEST_LAYOUTS
        // The layout's own JSON form (layout.hpp, docs/layout.md): kind "struct", name, members.
        if (const auto* layout = std::any_cast<layout_type>(&event.layout)) json["layout"] = *layout;
#endif
        events.push_back(std::move(json));
    }
    return events;
}

inline nlohmann::ordered_json plugins_json(const app_description& app, bool curve)
{
    nlohmann::ordered_json plugins = nlohmann::ordered_json::array();
    for (const auto& plugin : app.plugins) {
        nlohmann::ordered_json json;
        json["name"] = plugin.name;
        json["kind"] = plugin.external ? "external" : "internal";
        json["subscribes"] = plugin.subscribes;
        json["publishes"] = plugin.publishes;
        if (plugin.external) {
            std::string endpoint;
            std::uint16_t port = plugin.port;
            if (app.bound != nullptr) {
                for (const auto& bound : app.bound->external_plugins) {
                    if (bound.plugin == plugin.name) {
                        endpoint = bound.endpoint;
                        port = bound.port;
                    }
                }
            }
            json["port"] = port;
            json["endpoint"] = endpoint.empty() ? nlohmann::ordered_json{} : nlohmann::ordered_json(endpoint);
            json["curve"] = curve;
        }
        if (!plugin.details.empty()) {
            nlohmann::ordered_json details = nlohmann::ordered_json::object();
            for (const auto& [key, value] : plugin.details) details[key] = value;
            json["details"] = std::move(details);
        }
        plugins.push_back(std::move(json));
    }
    return plugins;
}

inline nlohmann::ordered_json endpoints_json(const app_description& app, bool curve)
{
    const app_config& config = *app.config;
    const bound_endpoints* bound = app.bound;
    nlohmann::ordered_json json;
    json["bind_address"] = config.bind_address;
    json["publish"] = endpoint_json(bound != nullptr ? bound->publish_endpoint : "",
                                    bound != nullptr ? bound->publish_port : config.publish_port, curve);
    json["publish"]["confirms"] = true; // answers "confirm/<token>" (docs/protocol.md)
    json["subscribe"] = endpoint_json(bound != nullptr ? bound->subscribe_endpoint : "",
                                      bound != nullptr ? bound->subscribe_port : config.subscribe_port, curve);
    if (config.introspection_port) {
        json["introspection"] =
            endpoint_json(bound != nullptr ? bound->introspection_endpoint : "",
                          bound != nullptr ? bound->introspection_port : *config.introspection_port, curve);
    } else {
        json["introspection"] = nullptr;
    }
    return json;
}

/// The manifest of a described application (docs/protocol.md, "Manifest").
inline nlohmann::ordered_json manifest_of(const app_description& app)
{
    const bool curve = app.config->security.server.has_value();
    nlohmann::ordered_json manifest;
    manifest["manifest_version"] = manifest_version;
    manifest["events"] = events_json(app);
    manifest["plugins"] = plugins_json(app, curve);
    manifest["endpoints"] = endpoints_json(app, curve);
    manifest["curve"] = {
        {"required", curve},
        {"server_public_key",
         curve ? nlohmann::ordered_json(app.config->security.server->public_key.z85()) : nlohmann::ordered_json{}}};
    return manifest;
}

inline std::string manifest_text(const app_description& app)
{
    // Names are the program's own strings; a byte that is not UTF-8 is replaced, never thrown on.
    return manifest_of(app).dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

// Deprecated, goes away in the next minor version: including this header installs the writer
// program-wide, for applications that do not call enable_manifest(app) (app_core warns when one
// uses it). A program whose only user of this header is an object the linker drops has none:
// hence enable_manifest(app).
inline const bool manifest_writer_installed = [] {
    installed_manifest_writer() = &manifest_text;
    return true;
}();

struct manifest_access {
    template <class Events>
    static void enable(app<Events>& application) noexcept
    {
        application.core_.set_manifest_writer(&manifest_text);
    }
};

} // namespace detail

/// Gives @p application its manifest (docs/protocol.md, "3. The manifest"): app::manifest()
/// returns it; run() writes it to app_config::manifest_path and answers
/// `plugin_command: manifest` on every external plugin's port and on the introspection
/// endpoint. Call it before run(), once per application; calling it again changes nothing.
/// Without it, setting manifest_path or introspection_port makes run() throw
/// configuration_error.
template <class Events>
void enable_manifest(app<Events>& application) noexcept
{
    detail::manifest_access::enable(application);
}

/// The manifest of @p application, as JSON: the same document as app::manifest(),
/// with the endpoints once run() has bound them (before, their "endpoint" is null and
/// their "port" the configured one).
template <class Events>
nlohmann::ordered_json manifest_json(const app<Events>& application)
{
    const auto bound = application.endpoints();
    return detail::manifest_of(application.describe(bound ? &*bound : nullptr));
}

} // namespace event_engine
