// The run's account as JSON (event_engine/report_json.hpp), from a real run.
#include "support.hpp"

#include <event_engine/report_json.hpp>

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

using namespace event_engine;
using namespace test_events;

namespace {

class Talker : public plugin<Talker, subscribes<>, publishes<Note>> {
public:
    void run() { publish(Note{"hi"}); }
};

class Hearer : public plugin<Hearer, subscribes<Note>, publishes<>> {
public:
    void on(const Note&) { finish(); }
};

} // namespace

TEST_CASE("a run's report as JSON: every counter by its member's name, in order", "[report_json]")
{
    Talker talker;
    Hearer hearer;
    app<events> application{any_ports()};
    application.register_plugin(talker).register_plugin(hearer);
    const nlohmann::ordered_json json = application.run();

    const auto plugin = [](const char* name, int received, int published) {
        return nlohmann::ordered_json{{"name", name},
                                      {"outcome", "finished"},
                                      {"error", ""},
                                      {"events_received", received},
                                      {"events_published", published},
                                      {"decode_failures", 0},
                                      {"events_dropped", 0},
                                      {"events_unread", 0},
                                      {"events_after_end", 0},
                                      {"publishes_abandoned", 0},
                                      {"publish_waits", 0},
                                      {"requests_rejected", 0},
                                      {"requests_ignored", 0},
                                      {"peers_cut_off", 0},
                                      {"events_refused", 0},
                                      {"batches_repeated", 0},
                                      {"max_spilled", 0}};
    };
    const nlohmann::ordered_json expected{{"report_version", 1},
                                          {"stopped", false},
                                          {"tcp_events_offered", 0},
                                          {"tcp_events_dropped", 0},
                                          {"tcp_publishes_refused", 0},
                                          {"connections_refused", 0},
                                          {"plugins", {plugin("Talker", 0, 1), plugin("Hearer", 1, 0)}}};
    CHECK(json.dump() == expected.dump()); // the order too
}

TEST_CASE("a failed plugin's report as JSON carries its outcome and error; plain nlohmann::json works too",
          "[report_json]")
{
    plugin_report failed;
    failed.name = "sensor";
    failed.outcome = plugin_outcome::failed;
    failed.error = "unplugged";
    failed.events_dropped = 3;
    run_report report;
    report.stopped = true;
    report.plugins.push_back(failed);
    const nlohmann::json json = report;
    CHECK(json["stopped"] == true);
    CHECK(json["plugins"][0]["outcome"] == "failed");
    CHECK(json["plugins"][0]["error"] == "unplugged");
    CHECK(json["plugins"][0]["events_dropped"] == 3);
    CHECK(json["plugins"][0].size() == 17);
}
