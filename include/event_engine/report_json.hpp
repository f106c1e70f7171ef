#pragma once
/// @file
/// The run's account as JSON, for tools rather than people (people: format.hpp).
/// Part of the target event_engine::manifest, which brings nlohmann_json:
///
///     const nlohmann::ordered_json json = app.run();   // or nlohmann::json
///     std::cout << json.dump(2) << '\n';
///
/// Every counter appears by its member's name, always (zero included), so a tool can
/// check the account (docs/design.md, "Every event accounted for") without knowing
/// which counters a version has: {"report_version": 1, "stopped": false,
/// "tcp_events_offered": 0, ..., "plugins": [{"name": "Counter", "outcome": "finished",
/// "error": "", "events_received": 10, ...}]}.

#include "event_engine/format.hpp"
#include "event_engine/report.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace event_engine {

/// The version of the JSON form below; it changes only when a field changes meaning or goes.
inline constexpr int report_json_version = 1;

// Found by nlohmann's adl_serializer, for nlohmann::json and nlohmann::ordered_json alike.
template <class Json>
void to_json(Json& json, const plugin_report& report)
{
    json = Json::object();
    json["name"] = report.name;
    json["outcome"] = std::string{to_string(report.outcome)};
    json["error"] = report.error;
    for (const auto& counter : detail::counters_of(report)) json[std::string{counter.member}] = counter.value;
}

template <class Json>
void to_json(Json& json, const run_report& report)
{
    json = Json::object();
    json["report_version"] = report_json_version;
    json["stopped"] = report.stopped;
    for (const auto& counter : detail::counters_of(report)) json[std::string{counter.member}] = counter.value;
    auto& plugins = json["plugins"] = Json::array();
    for (const auto& plugin : report.plugins) plugins.push_back(Json(plugin));
}

} // namespace event_engine
