#pragma once
// Topics the engine uses for itself (start-up probes, end markers). No application
// topic may start with this prefix or be a prefix of it; event_list checks that,
// and the proxy refuses such frames from TCP peers.

#include <cstddef>
#include <string>
#include <string_view>

namespace event_engine::detail {

inline constexpr std::string_view control_prefix = "\xff" "event_engine/";
inline constexpr std::string_view probe_marker = "probe/";
inline constexpr std::string_view end_marker = "end/";

/// The control topic "<prefix><kind><index>/" of plugin @p index. The closing slash
/// keeps them prefix-free: plugin 1's "end/1/" must not match plugin 10's "end/10/".
inline std::string control_topic(std::string_view kind, std::size_t index)
{
    return std::string{control_prefix} + std::string{kind} + std::to_string(index) + "/";
}

} // namespace event_engine::detail
