#pragma once
/// @file
/// Text forms of the library's results, as fmt formatters (fmt 9) and, for the
/// enumerations, constexpr to_string() functions:
///
///     fmt::print("{}\n", app.run());   // one line for the run, one per plugin
///     fmt::print("{:l}\n", report);    // every counter, one per line
///     fmt::print("{:>12}", plugin.outcome);
///
/// `plugin_outcome`, `log_level`, `full_policy` and `receive_status` print their
/// names and take the options of a string (`{:>12}`). `plugin_report` and
/// `run_report` take `{}` (compact: the counters that are not zero, received and
/// published always) or `{:l}` (long: every counter, by its member's name). No
/// trailing newline. Only fmt/core.h is included: a program that uses more of fmt
/// (`fmt::join`, chrono formatting) includes what it uses.

#include "event_engine/detail/config.hpp"
#include "event_engine/external_plugin.hpp"
#include "event_engine/log.hpp"
#include "event_engine/receive_result.hpp"
#include "event_engine/report.hpp"

// fmt/core.h is enough to declare formatters; what formats (fmt/format.h, whose parse
// costs a file about 0.2 s) is in format.ipp.
#include <fmt/core.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace event_engine {

/// The name of @p outcome, e.g. "finished" ("unknown" for a value outside the enumeration).
[[nodiscard]] constexpr std::string_view to_string(plugin_outcome outcome) noexcept
{
    switch (outcome) {
    case plugin_outcome::finished: return "finished";
    case plugin_outcome::stopped: return "stopped";
    case plugin_outcome::failed: return "failed";
    case plugin_outcome::disconnected: return "disconnected";
    }
    return "unknown";
}

/// The name of @p level as EVENT_ENGINE_LOG spells it, e.g. "warn".
[[nodiscard]] constexpr std::string_view to_string(log_level level) noexcept
{
    return level >= log_level::trace && level <= log_level::off ? detail::level_label(level) : "unknown";
}

/// The name of @p policy, e.g. "wait".
[[nodiscard]] constexpr std::string_view to_string(full_policy policy) noexcept
{
    switch (policy) {
    case full_policy::wait: return "wait";
    case full_policy::drop: return "drop";
    }
    return "unknown";
}

namespace detail {

/// One counter of a plugin_report: its member's name, its short label, its value.
struct report_counter {
    std::string_view member;
    std::string_view label;
    std::uint64_t value;
};

/// Every counter of @p report, in the order of its members.
[[nodiscard]] inline std::array<report_counter, 14> counters_of(const plugin_report& report) noexcept
{
    return {{
        {"events_received", "received", report.events_received},
        {"events_published", "published", report.events_published},
        {"decode_failures", "decode failures", report.decode_failures},
        {"events_dropped", "dropped", report.events_dropped},
        {"events_unread", "unread", report.events_unread},
        {"events_after_end", "after end", report.events_after_end},
        {"publishes_abandoned", "publishes abandoned", report.publishes_abandoned},
        {"publish_waits", "publish waits", report.publish_waits},
        {"requests_rejected", "requests rejected", report.requests_rejected},
        {"requests_ignored", "requests ignored", report.requests_ignored},
        {"peers_cut_off", "peers cut off", report.peers_cut_off},
        {"events_refused", "events refused", report.events_refused},
        {"batches_repeated", "batches repeated", report.batches_repeated},
        {"max_spilled", "max spilled", report.max_spilled},
    }};
}

/// The run's own counters (the TCP endpoints'), in the order of its members.
[[nodiscard]] inline std::array<report_counter, 4> counters_of(const run_report& report) noexcept
{
    return {{
        {"tcp_events_offered", "tcp events offered", report.tcp_events_offered},
        {"tcp_events_dropped", "tcp events dropped", report.tcp_events_dropped},
        {"tcp_publishes_refused", "tcp publishes refused", report.tcp_publishes_refused},
        {"connections_refused", "connections refused", report.connections_refused},
    }};
}

/// @p text written with a string's format options (`{:>12}`), as fmt's own
/// formatter<std::string_view> writes it; out of line, so that this header needs only
/// fmt/core.h.
EVENT_ENGINE_DECL auto write_formatted(std::string_view text, const fmt::formatter<std::string_view>& spec,
                                       fmt::format_context& ctx) -> fmt::format_context::iterator;

/// Formats an enumeration by its to_string() name, with a string's format options.
template <class Enum>
struct enum_formatter : fmt::formatter<std::string_view> {
    auto format(Enum value, fmt::format_context& ctx) const -> fmt::format_context::iterator
    {
        return write_formatted(to_string(value), *this, ctx);
    }
};

/// Throws fmt::format_error naming the two specs a report takes (out of line: the
/// exception's class is in fmt/format.h).
[[noreturn]] EVENT_ENGINE_DECL void throw_bad_report_spec();

/// The format spec of a report: `{}` (compact) or `{:l}` (long).
struct report_spec {
    bool long_form = false;

    constexpr auto parse(fmt::format_parse_context& ctx) -> fmt::format_parse_context::iterator
    {
        auto it = ctx.begin();
        if (it != ctx.end() && *it == 'l') {
            long_form = true;
            ++it;
        }
        if (it != ctx.end() && *it != '}') {
            throw_bad_report_spec();
        }
        return it;
    }
};

/// "name: outcome", then " (error)" when there is one.
EVENT_ENGINE_DECL auto write_plugin_heading(fmt::format_context::iterator out, const plugin_report& report)
    -> fmt::format_context::iterator;

/// The compact line: heading; received and published, then every other counter that is not zero.
EVENT_ENGINE_DECL auto write_plugin_line(fmt::format_context::iterator out, const plugin_report& report)
    -> fmt::format_context::iterator;

/// The long form: heading, then every counter on its own line, indented by @p indent.
EVENT_ENGINE_DECL auto write_plugin_lines(fmt::format_context::iterator out, const plugin_report& report,
                                          std::string_view indent) -> fmt::format_context::iterator;

} // namespace detail
} // namespace event_engine

template <>
struct fmt::formatter<event_engine::plugin_outcome>
    : event_engine::detail::enum_formatter<event_engine::plugin_outcome> {};

template <>
struct fmt::formatter<event_engine::log_level> : event_engine::detail::enum_formatter<event_engine::log_level> {};

template <>
struct fmt::formatter<event_engine::full_policy> : event_engine::detail::enum_formatter<event_engine::full_policy> {};

template <>
struct fmt::formatter<event_engine::receive_status>
    : event_engine::detail::enum_formatter<event_engine::receive_status> {};

/// `{}`: "name: outcome (error); received 3, published 1, dropped 2" (zero counters
/// other than received and published left out). `{:l}`: the heading, then every
/// counter on its own line by its member's name.
template <>
struct fmt::formatter<event_engine::plugin_report> : event_engine::detail::report_spec {
    auto format(const event_engine::plugin_report& report, fmt::format_context& ctx) const
        -> fmt::format_context::iterator;
};

/// `{}`: "run finished: 2 plugins, dropped 0" (or "run stopped: ...", with the TCP
/// counters that are not zero), then one compact line per plugin, indented.
/// `{:l}`: the same heading, every TCP counter, and each plugin in its long form.
template <>
struct fmt::formatter<event_engine::run_report> : event_engine::detail::report_spec {
    auto format(const event_engine::run_report& report, fmt::format_context& ctx) const
        -> fmt::format_context::iterator;
};

#ifndef EVENT_ENGINE_SEPARATE_COMPILATION
#include "event_engine/format.ipp"
#endif
