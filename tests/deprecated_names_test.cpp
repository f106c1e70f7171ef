// Renamed or retired public names keep compiling, with a deprecation warning, for one minor
// version (docs/testing.md, "Changing the public API"; CHANGELOG.md, "Deprecated"). Each
// test here is code written against the old name, with the warning silenced around it only;
// compile_fail/deprecated_tcp_subscriber_drops.cpp checks that the warning is given.

#include "support.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <type_traits>
#include <utility>

using namespace event_engine;
using namespace test_events;

// Copying, moving and default-constructing a report never names the deprecated member, so
// they must not warn: this file is compiled with -Werror in the project's builds, and these
// lines are outside the silenced regions below.
static_assert(std::is_nothrow_move_constructible_v<run_report>);
static_assert(std::is_copy_constructible_v<run_report>);
static_assert(std::is_aggregate_v<run_report>);

namespace {

// Old code: what a program written before 2026-11-27 did with the report.
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif
std::uint64_t old_tcp_subscriber_drops(const run_report& report)
{
    return report.tcp_subscriber_drops;
}
std::uint64_t old_all_drops(const run_report& report)
{
    return report.total_dropped() + report.tcp_subscriber_drops;
}
void old_set_tcp_subscriber_drops(run_report& report, std::uint64_t value)
{
    report.tcp_subscriber_drops = value;
}
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

class Finisher : public plugin<Finisher, subscribes<>, publishes<Note>> {
public:
    void run()
    {
        for (int i = 0; i < 3; ++i) {
            if (!publish(Note{"n"})) return;
        }
    }
};

} // namespace

TEST_CASE("run_report::tcp_subscriber_drops still compiles and reads 0", "[deprecated][report]")
{
    SECTION("a default report, a copy and a move")
    {
        run_report report;
        report.tcp_events_offered = 5; // offered is not dropped
        CHECK(old_tcp_subscriber_drops(report) == 0);
        const run_report copy = report;
        CHECK(old_tcp_subscriber_drops(copy) == 0);
        run_report moved = std::move(report);
        CHECK(old_tcp_subscriber_drops(moved) == 0);
        CHECK(moved.tcp_events_offered == 5);
    }
    SECTION("old arithmetic on it still gives the run's drops")
    {
        run_report report;
        plugin_report a;
        a.name = "a";
        a.events_dropped = 3;
        report.plugins = {a};
        CHECK(old_all_drops(report) == 3);
        CHECK(report.total_dropped() == 3);
    }
    SECTION("old code that wrote it still compiles; a copy carries what it wrote")
    {
        run_report report;
        old_set_tcp_subscriber_drops(report, 2);
        run_report copy;
        copy = report;
        CHECK(old_tcp_subscriber_drops(copy) == 2);
        CHECK(copy.total_dropped() == 0); // not a drop the engine saw: not in the total
    }
    SECTION("a real run reports 0: the subscribe port never holds an event back")
    {
        app<events> application{any_ports()};
        Finisher finisher;
        const run_report report = application.register_plugin(finisher).run();
        REQUIRE(report.find("Finisher") != nullptr);
        CHECK(report.find("Finisher")->events_published == 3);
        CHECK(old_tcp_subscriber_drops(report) == 0);
    }
}
