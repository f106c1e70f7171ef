#pragma once
/// @file
/// Logging through fmt. Quiet by default (warnings and errors on stderr); set
/// EVENT_ENGINE_LOG=trace|debug|info|warn|error|off for more or less, or install
/// your own sink with set_log_sink(). The library never writes to std::cout.
/// info: endpoints bound; debug: plugins starting and ending;
/// trace: every event published and delivered, every external-plugin request.

#include "event_engine/detail/config.hpp"

#include <fmt/core.h>

#include <atomic>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace event_engine {

enum class log_level { trace, debug, info, warn, error, off };

/// Receives each log line the library emits (without a trailing newline).
using log_sink = std::function<void(log_level, std::string_view)>;

namespace detail {

inline std::optional<log_level> parse_log_level(std::string_view value) noexcept
{
    if (value == "trace") return log_level::trace;
    if (value == "debug") return log_level::debug;
    if (value == "info") return log_level::info;
    if (value == "warn" || value == "warning") return log_level::warn;
    if (value == "error") return log_level::error;
    if (value == "off" || value == "none") return log_level::off;
    return std::nullopt;
}

EVENT_ENGINE_DECL void emit(log_level level, std::string_view line);

// The level EVENT_ENGINE_LOG asks for (@p text: its value, or null): warn when unset
// or not a level. Pure: the threshold's initializer calls it.
inline log_level level_from_environment(const char* text) noexcept
{
    if (text == nullptr) return log_level::warn;
    return parse_log_level(text).value_or(log_level::warn);
}

// Says that @p text is not a log level (nothing if it is one, or null). Never called
// while the threshold is being initialized: a sink may read the level or log.
[[gnu::cold]] EVENT_ENGINE_DECL void report_bad_environment_level(const char* text) noexcept;

inline std::atomic<log_level>& log_threshold() noexcept
{
    static std::atomic<log_level> level{level_from_environment(std::getenv("EVENT_ENGINE_LOG"))};
    // Once per process, after initialization; an exchange, not call_once, so that a sink
    // that logs or reads the level from inside the report does not wait on itself.
    static std::atomic<bool> reported{false};
    if (!reported.load(std::memory_order_relaxed) && !reported.exchange(true)) [[unlikely]]
        report_bad_environment_level(std::getenv("EVENT_ENGINE_LOG"));
    return level;
}

struct sink_state {
    std::mutex mutex;
    log_sink sink;
};

inline sink_state& log_sink_state()
{
    static sink_state state;
    return state;
}

inline constexpr std::string_view level_label(log_level level) noexcept
{
    constexpr std::string_view labels[] = {"trace", "debug", "info", "warn", "error", "off"};
    return labels[static_cast<int>(level)];
}

inline bool log_enabled(log_level level) noexcept
{
    return level >= log_threshold().load(std::memory_order_relaxed) && level != log_level::off;
}

/// @p bytes as a log can show them: printable ASCII as is, other bytes as \xNN, at
/// most @p most bytes (then "... (N bytes)"), so a binary topic or a hostile request
/// never garbles a log line.
EVENT_ENGINE_DECL std::string printable(std::string_view bytes, std::size_t most = 48);

template <class... Args>
void log(log_level level, fmt::format_string<Args...> format, Args&&... args)
{
    if (!log_enabled(level)) return;
    emit(level, fmt::format(format, std::forward<Args>(args)...));
}

} // namespace detail

/// Sets the lowest level that is emitted (overrides EVENT_ENGINE_LOG).
inline void set_log_level(log_level level) noexcept { detail::log_threshold().store(level); }

/// The lowest level currently emitted.
inline log_level current_log_level() noexcept { return detail::log_threshold().load(); }

/// Routes log lines to @p sink instead of stderr; an empty sink restores stderr.
inline void set_log_sink(log_sink sink)
{
    auto& state = detail::log_sink_state();
    const std::scoped_lock lock{state.mutex};
    state.sink = std::move(sink);
}

} // namespace event_engine

#ifndef EVENT_ENGINE_SEPARATE_COMPILATION
#include "event_engine/log.ipp"
#endif
