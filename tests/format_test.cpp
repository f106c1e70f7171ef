#include "support.hpp"

#include <catch2/catch.hpp>

#include <event_engine/format.hpp>

#include <fmt/format.h>

#include <string>
#include <utility>

using namespace event_engine;

static_assert(fmt::is_formattable<plugin_outcome>::value && fmt::is_formattable<log_level>::value &&
              fmt::is_formattable<full_policy>::value && fmt::is_formattable<receive_status>::value &&
              fmt::is_formattable<plugin_report>::value && fmt::is_formattable<run_report>::value);
static_assert(to_string(plugin_outcome::disconnected) == "disconnected" && to_string(log_level::warn) == "warn" &&
              to_string(full_policy::drop) == "drop"); // constexpr

namespace {

plugin_report quiet_plugin(std::string name)
{
    plugin_report report;
    report.name = std::move(name);
    return report;
}

// A failed external plugin with every counter set: 1, 2, ... 14 in member order.
plugin_report busy_plugin()
{
    return {.name = "pyplugin",
            .outcome = plugin_outcome::failed,
            .error = "connection lost",
            .events_received = 1,
            .events_published = 2,
            .decode_failures = 3,
            .events_dropped = 4,
            .events_unread = 5,
            .events_after_end = 6,
            .publishes_abandoned = 7,
            .publish_waits = 8,
            .requests_rejected = 9,
            .requests_ignored = 10,
            .peers_cut_off = 11,
            .events_refused = 12,
            .batches_repeated = 13,
            .max_spilled = 14};
}

} // namespace

TEST_CASE("enumerations print their names and take a string's options", "[format]")
{
    CHECK(fmt::format("{} {} {} {}", plugin_outcome::finished, plugin_outcome::stopped, plugin_outcome::failed,
                      plugin_outcome::disconnected) == "finished stopped failed disconnected");
    CHECK(fmt::format("{} {} {} {} {} {}", log_level::trace, log_level::debug, log_level::info, log_level::warn,
                      log_level::error, log_level::off) == "trace debug info warn error off");
    CHECK(fmt::format("{} {}", full_policy::wait, full_policy::drop) == "wait drop");
    CHECK(fmt::format("{} {} {} {}", receive_status::received, receive_status::timed_out, receive_status::finishing,
                      receive_status::stopping) == "received timed_out finishing stopping");
    CHECK(fmt::format("[{:>8}|{:<6}|{:^6}]", plugin_outcome::failed, log_level::info, full_policy::drop) ==
          "[  failed|info  | drop ]");
    CHECK(fmt::format("{}", static_cast<plugin_outcome>(42)) == "unknown");
    CHECK(to_string(static_cast<log_level>(42)) == "unknown");
    CHECK(to_string(static_cast<full_policy>(42)) == "unknown");
}

TEST_CASE("a plugin_report prints on one line, or every counter with {:l}", "[format]")
{
    SECTION("compact: received and published always, other counters when not zero")
    {
        CHECK(fmt::format("{}", quiet_plugin("Watchdog")) == "Watchdog: finished; received 0, published 0");
        auto some = quiet_plugin("Pager");
        some.outcome = plugin_outcome::stopped;
        some.events_received = 7;
        some.events_unread = 2;
        CHECK(fmt::format("{}", some) == "Pager: stopped; received 7, published 0, unread 2");
        CHECK(fmt::format("{}", busy_plugin()) ==
              "pyplugin: failed (connection lost); received 1, published 2, decode failures 3, dropped 4, unread 5, "
              "after end 6, publishes abandoned 7, publish waits 8, requests rejected 9, requests ignored 10, "
              "peers cut off 11, events refused 12, batches repeated 13, max spilled 14");
    }
    SECTION("long: the heading, then every member")
    {
        CHECK(fmt::format("{:l}", busy_plugin()) == "pyplugin: failed (connection lost)\n"
                                                    "  events_received        1\n"
                                                    "  events_published       2\n"
                                                    "  decode_failures        3\n"
                                                    "  events_dropped         4\n"
                                                    "  events_unread          5\n"
                                                    "  events_after_end       6\n"
                                                    "  publishes_abandoned    7\n"
                                                    "  publish_waits          8\n"
                                                    "  requests_rejected      9\n"
                                                    "  requests_ignored       10\n"
                                                    "  peers_cut_off          11\n"
                                                    "  events_refused         12\n"
                                                    "  batches_repeated       13\n"
                                                    "  max_spilled            14");
    }
}

TEST_CASE("a run_report prints a heading and a line per plugin, or everything with {:l}", "[format]")
{
    run_report report;
    SECTION("no plugins") { CHECK(fmt::format("{}", report) == "run finished: 0 plugins, dropped 0"); }
    SECTION("one plugin")
    {
        report.plugins = {quiet_plugin("Watchdog")};
        CHECK(fmt::format("{}", report) == "run finished: 1 plugin, dropped 0\n"
                                           "  Watchdog: finished; received 0, published 0");
    }
    SECTION("compact: the TCP counters only when not zero")
    {
        report.plugins = {quiet_plugin("Watchdog"), busy_plugin()};
        report.stopped = true;
        report.tcp_publishes_refused = 3;
        CHECK(fmt::format("{}", report) ==
              "run stopped: 2 plugins, dropped 4, tcp publishes refused 3\n"
              "  Watchdog: finished; received 0, published 0\n"
              "  pyplugin: failed (connection lost); received 1, published 2, decode failures 3, dropped 4, "
              "unread 5, after end 6, publishes abandoned 7, publish waits 8, requests rejected 9, requests ignored "
              "10, peers cut off 11, events refused 12, batches repeated 13, max spilled 14");
        report.tcp_events_offered = 5;
        report.connections_refused = 1;
        CHECK(
            fmt::format("{}", report)
                .starts_with(
                    "run stopped: 2 plugins, dropped 4, tcp events offered 5, tcp publishes refused 3, connections refused 1\n"));
    }
    SECTION("long: every counter of the run and of each plugin")
    {
        report.plugins = {quiet_plugin("Watchdog")};
        report.tcp_events_offered = 5;
        CHECK(fmt::format("{:l}", report) == "run finished: 1 plugin, dropped 0\n"
                                             "  tcp_events_offered     5\n"
                                             "  tcp_events_dropped     0\n"
                                             "  tcp_publishes_refused  0\n"
                                             "  connections_refused    0\n"
                                             "  Watchdog: finished\n"
                                             "    events_received        0\n"
                                             "    events_published       0\n"
                                             "    decode_failures        0\n"
                                             "    events_dropped         0\n"
                                             "    events_unread          0\n"
                                             "    events_after_end       0\n"
                                             "    publishes_abandoned    0\n"
                                             "    publish_waits          0\n"
                                             "    requests_rejected      0\n"
                                             "    requests_ignored       0\n"
                                             "    peers_cut_off          0\n"
                                             "    events_refused         0\n"
                                             "    batches_repeated       0\n"
                                             "    max_spilled            0");
    }
}

TEST_CASE("a report's format spec is {} or {:l}; anything else is a format_error", "[format]")
{
    const run_report report;
    CHECK_THROWS_MATCHES(
        fmt::format(fmt::runtime("{:x}"), report), fmt::format_error,
        Catch::Matchers::Message("event_engine reports are formatted with {} (compact) or {:l} (long)"));
    CHECK_THROWS_AS(fmt::format(fmt::runtime("{:ll}"), plugin_report{}), fmt::format_error);
}

TEST_CASE("the report of a real run prints", "[format][app]")
{
    class Speaker : public plugin<Speaker, subscribes<>, publishes<test_events::Note>> {
    public:
        void run() { publish(test_events::Note{"hello"}); }
    };
    app<test_events::events> application{test_events::any_ports()};
    CHECK(fmt::format("{}", application.register_plugin(Speaker{}).run()) ==
          "run finished: 1 plugin, dropped 0\n"
          "  Speaker: finished; received 0, published 1");
}
