#pragma once
// Topics the engine uses for itself (start-up probes, end markers). No application
// topic may start with this prefix or be a prefix of it; event_list checks that,
// and the proxy refuses such frames from TCP peers.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace event_engine::detail {

inline constexpr std::string_view control_prefix = "\xff" "event_engine/";
inline constexpr std::string_view probe_marker = "probe/";
inline constexpr std::string_view end_marker = "end/";
// The publish port's confirmations (docs/protocol.md, "Confirming a publish"): a
// publisher sends "<prefix>confirm/<token>" after its events; the engine answers
// upstream "<prefix>confirmed/<token>" once it has handled what came before, and
// "<prefix>refused/<fnv-1a 64 of the frame, 16 hex>/<CURVE user id>/<why>" for a frame it refused.
inline constexpr std::string_view confirm_marker = "confirm/";
inline constexpr std::string_view confirmed_marker = "confirmed/";
inline constexpr std::string_view refused_marker = "refused/";
inline constexpr std::size_t max_confirm_token = 64;

/// FNV-1a (64 bits) of @p bytes in 16 lowercase hex digits: how a refusal names its frame.
inline std::string frame_digest(std::string_view bytes)
{
    std::uint64_t hash = 14695981039346656037ULL;
    for (const char byte : bytes) {
        hash ^= static_cast<unsigned char>(byte);
        hash *= 1099511628211ULL;
    }
    std::string text(16, '0');
    for (int i = 15; i >= 0; --i, hash >>= 4) text[static_cast<std::size_t>(i)] = "0123456789abcdef"[hash & 0x0f];
    return text;
}

/// The control topic "<prefix><kind><index>/" of plugin @p index. The closing slash
/// keeps them prefix-free: plugin 1's "end/1/" must not match plugin 10's "end/10/".
inline std::string control_topic(std::string_view kind, std::size_t index)
{
    return std::string{control_prefix} + std::string{kind} + std::to_string(index) + "/";
}

} // namespace event_engine::detail
