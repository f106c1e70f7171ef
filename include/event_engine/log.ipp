#pragma once
// The definitions of log.hpp's functions that write: included by log.hpp in the
// header-only mode, compiled once into event_engine::compiled otherwise
// (src/event_engine.cpp; docs/design.md, "Separately compiled mode").

#include "event_engine/log.hpp"

#include <fmt/core.h>

#include <cstddef>
#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>

namespace event_engine::detail {

// Cold, not noinline: g++ refuses noinline on a function declared inline before (the
// header-only mode); a cold function with a try block is not inlined into its caller anyway.
[[gnu::cold]] EVENT_ENGINE_DECL void report_bad_environment_level(const char* text) noexcept
{
    if (text == nullptr || parse_log_level(text)) return;
    try {
        emit(log_level::warn, fmt::format("EVENT_ENGINE_LOG={} is not a log level (trace, debug, info, warn, error, "
                                          "off); using warn",
                                          text));
    } catch (...) {
    }
}

EVENT_ENGINE_DECL void emit(log_level level, std::string_view line)
{
    auto& state = log_sink_state();
    const std::scoped_lock lock{state.mutex};
    if (state.sink) {
        state.sink(level, line);
    } else {
        fmt::print(stderr, "event_engine [{}] {}\n", level_label(level), line);
    }
}

EVENT_ENGINE_DECL std::string printable(std::string_view bytes, std::size_t most)
{
    std::string text;
    for (std::size_t i = 0; i < bytes.size() && i < most; ++i) {
        const auto byte = static_cast<unsigned char>(bytes[i]);
        if (byte >= 0x20 && byte < 0x7f && byte != '\\') text += static_cast<char>(byte);
        else text += fmt::format("\\x{:02x}", byte);
    }
    if (bytes.size() > most) text += fmt::format("... ({} bytes)", bytes.size());
    return text;
}

} // namespace event_engine::detail
