#pragma once
// Topics the engine uses for itself (delivery marks, the publish port's confirmations). No application
// topic may start with this prefix or be a prefix of it; event_list checks that,
// and the proxy refuses such frames from TCP peers.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace event_engine::detail {

// clang-format off
inline constexpr std::string_view control_prefix = "\xff" "event_engine/";
// clang-format on
// The publish port's confirmations (docs/protocol.md, "Confirming a publish"): a
// publisher sends "<prefix>confirm/<token>" after its events; once the engine has handled
// what that connection sent before, it answers upstream (to every publisher: an XSUB
// cannot address one) "<prefix>confirmed/<token>/<refused>/<first reason>", where
// <refused> counts the frames of that connection refused since its previous confirm ("?"
// if the engine could not keep that count) and <first reason> is the first one's reason
// (empty if none). Nothing in it names another publisher or what it sent.
inline constexpr std::string_view confirm_marker = "confirm/";
inline constexpr std::string_view confirmed_marker = "confirmed/";
inline constexpr std::size_t max_confirm_token = 64;

/// The control topic "<prefix><kind><index>/" of plugin @p index. The closing slash
/// keeps them prefix-free: plugin 1's "end/1/" must not match plugin 10's "end/10/".
inline std::string control_topic(std::string_view kind, std::size_t index)
{
    return std::string{control_prefix} + std::string{kind} + std::to_string(index) + "/";
}

} // namespace event_engine::detail
