#pragma once
// How app.hpp builds an application's description (event_engine/app_description.hpp) from
// its compile-time lists, the event table the untyped back end reads, and the manifest
// writer's hook. Nothing here needs a JSON library: the core stays on cppzmq and fmt, and
// the manifest part (nlohmann_json) is linked only by programs that include manifest.hpp.

#include "event_engine/app_config.hpp"
#include "event_engine/app_description.hpp"
#include "event_engine/codec.hpp"
#include "event_engine/detail/meta/type_list.hpp"
#include "event_engine/event.hpp"

#include <algorithm>
#include <any>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace event_engine {
// reflective_codec.hpp and layout.hpp (Boost.Hana): declared here, used only for events
// whose codec is reflective_codec, which the program then has included.
struct reflective_codec;
struct layout_type;
template <class T>
layout_type describe_layout();
} // namespace event_engine

namespace event_engine::detail {

struct envelope; // envelope.hpp

/// Decodes the payload of one event type of the application's list into @p into (the
/// object, built once: event_bus.hpp); false, with the codec's reason in @p why, if it
/// does not decode. Where events from outside the process enter it (envelope.hpp).
using boundary_decoder = bool (*)(std::span<const std::byte> payload, envelope& into, std::string& why);

/// The application's events, as the untyped back end needs them.
struct event_table {
    std::span<const std::string_view> topics;
    std::span<const std::string_view> names;
    std::span<const boundary_decoder> decoders{}; // by index; empty: events from outside are not decoded
};

/// Turns a description into the manifest's text: event_engine/manifest.hpp's, which
/// event_engine::enable_manifest(app) gives the application (the core never includes nlohmann_json).
using manifest_writer = std::string (*)(const app_description&);

/// Deprecated, goes away in the next minor version: the program-wide writer that including
/// event_engine/manifest.hpp installs, used (with a warning) by an application that did not
/// call enable_manifest(app). Null in a program that does not include manifest.hpp.
inline manifest_writer& installed_manifest_writer() noexcept
{
    static manifest_writer writer = nullptr;
    return writer;
}

inline constexpr std::string_view manifest_part_missing =
    "the application has no manifest writer: call event_engine::enable_manifest(app) before run() "
    "(event_engine/manifest.hpp, CMake target event_engine::manifest; docs/protocol.md, \"3. The manifest\")";

inline constexpr std::string_view manifest_fallback_deprecated =
    "this application's manifest is written only because event_engine/manifest.hpp is included somewhere in the "
    "program, which is deprecated and stops working in the next minor version: call "
    "event_engine::enable_manifest(app) before run()";

/// The stable name of E's codec in the manifest.
template <class E>
constexpr std::string_view codec_name()
{
    if constexpr (!has_member_codec<E>) {
        return "custom"; // a specialization of event_engine::codec<E>
    } else {
        using C = typename E::codec;
        if constexpr (std::is_same_v<C, text_codec>) return "text";
        else if constexpr (std::is_same_v<C, bytes_codec>) return "bytes";
        else if constexpr (std::is_same_v<C, trivial_codec>) return "trivial";
        else if constexpr (std::is_same_v<C, text_view_codec>) return "text_view";
        else if constexpr (std::is_same_v<C, bytes_view_codec>) return "bytes_view";
        else if constexpr (std::is_same_v<C, reflective_codec>) return "reflective";
        else return "custom";
    }
}

template <class E>
event_description describe_event()
{
    event_description described{name_of<E>, topic_of<E>, codec_name<E>(), std::nullopt, {}};
    if constexpr (has_member_codec<E>) {
        if constexpr (std::is_same_v<typename E::codec, trivial_codec>) described.size = sizeof(E);
        if constexpr (std::is_same_v<typename E::codec, reflective_codec>) described.layout = describe_layout<E>();
    }
    return described;
}

template <class... Es>
std::vector<std::string_view> event_names(type_list<Es...>)
{
    return {name_of<Es>...};
}

/// Events the registered plugins leave dangling: published by some plugin and
/// subscribed by none, or subscribed by some and published by none (either may be
/// intended: an unregistered process on the publish or subscribe port may be the other end).
struct graph_holes {
    std::vector<std::string_view> unsubscribed;
    std::vector<std::string_view> unpublished;
};

inline graph_holes find_graph_holes(std::span<const std::string_view> events,
                                    const std::vector<plugin_description>& plugins)
{
    const auto used = [&](std::string_view event, auto member) {
        return std::any_of(plugins.begin(), plugins.end(), [&](const plugin_description& plugin) {
            const auto& names = plugin.*member;
            return std::find(names.begin(), names.end(), event) != names.end();
        });
    };
    graph_holes holes;
    for (const auto event : events) {
        const bool published = used(event, &plugin_description::publishes);
        const bool subscribed = used(event, &plugin_description::subscribes);
        if (published && !subscribed) holes.unsubscribed.push_back(event);
        if (subscribed && !published) holes.unpublished.push_back(event);
    }
    return holes;
}

} // namespace event_engine::detail
