#pragma once
// The definitions of format.hpp's report writers and of the report formatters' format():
// included by format.hpp in the header-only mode, compiled once into event_engine::compiled
// otherwise (src/event_engine.cpp; docs/design.md, "Separately compiled mode").

#include "event_engine/format.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>

namespace event_engine::detail {

/// fmt::format_to(out, ...), written through fmt::vformat, which the compiled fmt library
/// defines. fmt::format_to into a format_context iterator would instantiate fmt's whole
/// formatting engine (detail::vformat_to<char>, float formatting included: fmt 9 declares
/// no extern template for it) in every translation unit that prints a report; a report is
/// printed once a run, so the copy through a string costs nothing that matters.
template <class... Args>
auto format_into(fmt::format_context::iterator out, fmt::format_string<Args...> format, Args&&... args)
    -> fmt::format_context::iterator
{
    const std::string text = fmt::vformat(format, fmt::make_format_args(args...));
    return std::copy(text.begin(), text.end(), out);
}

[[noreturn]] EVENT_ENGINE_DECL void throw_bad_report_spec()
{
    throw fmt::format_error("event_engine reports are formatted with {} (compact) or {:l} (long)");
}

EVENT_ENGINE_DECL auto write_formatted(std::string_view text, const fmt::formatter<std::string_view>& spec,
                                       fmt::format_context& ctx) -> fmt::format_context::iterator
{
    return spec.format(text, ctx);
}

EVENT_ENGINE_DECL auto write_plugin_heading(fmt::format_context::iterator out, const plugin_report& report)
    -> fmt::format_context::iterator
{
    out = format_into(out, "{}: {}", report.name, to_string(report.outcome));
    if (!report.error.empty()) out = format_into(out, " ({})", report.error);
    return out;
}

EVENT_ENGINE_DECL auto write_plugin_line(fmt::format_context::iterator out, const plugin_report& report)
    -> fmt::format_context::iterator
{
    out = write_plugin_heading(out, report);
    const auto counters = counters_of(report);
    for (std::size_t i = 0; i < counters.size(); ++i) {
        if (i < 2 || counters[i].value != 0) {
            out = format_into(out, "{}{} {}", i == 0 ? "; " : ", ", counters[i].label, counters[i].value);
        }
    }
    return out;
}

EVENT_ENGINE_DECL auto write_plugin_lines(fmt::format_context::iterator out, const plugin_report& report,
                                          std::string_view indent) -> fmt::format_context::iterator
{
    out = write_plugin_heading(out, report);
    for (const auto& counter : counters_of(report)) {
        out = format_into(out, "\n{}  {:<22} {}", indent, counter.member, counter.value);
    }
    return out;
}

} // namespace event_engine::detail

EVENT_ENGINE_DECL auto fmt::formatter<event_engine::plugin_report>::format(const event_engine::plugin_report& report,
                                                                           fmt::format_context& ctx) const
    -> fmt::format_context::iterator
{
    if (long_form) return event_engine::detail::write_plugin_lines(ctx.out(), report, "");
    return event_engine::detail::write_plugin_line(ctx.out(), report);
}

EVENT_ENGINE_DECL auto fmt::formatter<event_engine::run_report>::format(const event_engine::run_report& report,
                                                                        fmt::format_context& ctx) const
    -> fmt::format_context::iterator
{
    auto out = event_engine::detail::format_into(ctx.out(), "run {}: {} plugin{}, dropped {}",
                                                 report.stopped ? "stopped" : "finished", report.plugins.size(),
                                                 report.plugins.size() == 1 ? "" : "s", report.total_dropped());
    for (const auto& counter : event_engine::detail::counters_of(report)) {
        if (long_form) out = event_engine::detail::format_into(out, "\n  {:<22} {}", counter.member, counter.value);
        else if (counter.value != 0)
            out = event_engine::detail::format_into(out, ", {} {}", counter.label, counter.value);
    }
    for (const auto& plugin : report.plugins) {
        out = event_engine::detail::format_into(out, "\n  ");
        out = long_form ? event_engine::detail::write_plugin_lines(out, plugin, "  ")
                        : event_engine::detail::write_plugin_line(out, plugin);
    }
    return out;
}
