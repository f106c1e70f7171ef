#pragma once
// What a NATS subject or one of its tokens may contain, and an event type as the bridge sees
// it at run time: what the typed front (nats/bridge.hpp) checks at compile time and hands to
// the untyped back end, without libnats.

#include <cstddef>
#include <string_view>

namespace event_engine::nats::detail {

/// An event type as the bridge sees it at run time.
struct event_info {
    std::string_view name;
    std::string_view topic;
};

/// One subject token: printable ASCII, no '.', '*', '>' or space (what NATS allows unquoted).
constexpr bool is_subject_token(std::string_view token) noexcept
{
    if (token.empty()) return false;
    for (const char c : token) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte <= 0x20 || byte >= 0x7f || c == '.' || c == '*' || c == '>') return false;
    }
    return true;
}

/// A subject of one or more tokens separated by '.'.
constexpr bool is_subject(std::string_view subject) noexcept
{
    if (subject.empty()) return false;
    std::size_t start = 0;
    for (;;) {
        const auto dot = subject.find('.', start);
        if (!is_subject_token(subject.substr(start, dot == std::string_view::npos ? dot : dot - start))) return false;
        if (dot == std::string_view::npos) return true;
        start = dot + 1;
    }
}

} // namespace event_engine::nats::detail
