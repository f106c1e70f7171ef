#include "support.hpp"

#include <catch2/catch.hpp>

#include <type_traits>

using namespace event_engine;

// Every library error is an event_engine::error, which is a std::runtime_error.
static_assert(std::is_base_of_v<std::runtime_error, error>);
static_assert(std::is_base_of_v<error, decode_error>);
static_assert(std::is_base_of_v<error, bind_error>);
static_assert(std::is_base_of_v<error, plugin_error>);
static_assert(std::is_base_of_v<error, configuration_error>);

TEST_CASE("run_report totals drops and finds plugins by name", "[errors][report]")
{
    run_report report;
    report.tcp_events_offered = 2; // offered, not dropped: not in the total
    plugin_report a;
    a.name = "a";
    a.events_dropped = 3;
    plugin_report b = a;
    b.name = "b";
    b.events_dropped = 4;
    report.plugins = {a, b};
    CHECK(report.total_dropped() == 7);
    CHECK(report.find("b")->events_dropped == 4);
    CHECK(report.find("c") == nullptr);
}
