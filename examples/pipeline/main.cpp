// The pipeline example: struct events with the reflective codec, described by the manifest.
//
//   Sensors (C++) --Reading--> Aggregator (C++) --Summary, Alert--> analyst (Python)
//        ^                                                             |
//        +------------------------- Report ----------------------------+
//
// Sensors publishes readings of three sensors (nested structs, vectors, optionals, enums,
// an array); Aggregator sums each sensor's readings up in windows and raises alerts; the
// Python plugin analyst.py (docs/python.md) reads all three event types as dataclasses,
// recomputes every Summary and Alert from the Readings, and answers with one Report, which
// Sensors waits for. run_pipeline.sh runs both processes and checks the exact counts.
//
// Usage: pipeline_app [--readings N] [--interval-ms MS] [--analyst-port N]
//                     [--publish-port N] [--subscribe-port N]
//                     [--manifest PATH] [--introspection-port N] [--keys DIR]
// --readings 0 publishes until the application is stopped (SIGINT/SIGTERM), for the
// command-line tools (README "Tools"); the analyst's queue then drops when full instead of
// holding Sensors back. --keys DIR turns CURVE on: DIR/pipeline.key_secret is the
// application's key pair, DIR/analyst.key the analyst's, DIR/tools.key a client allowed to
// subscribe and publish (pyevents' tools); `python3 -m pyevents keygen DIR NAME` makes them.

#include "events.hpp"

#include <event_engine/event_engine.hpp>
#include <event_engine/graph_check.hpp>
#include <event_engine/manifest.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace pipeline {

// Loop style: publishes the readings, then waits for the analyst's report.
class Sensors
    : public event_engine::plugin<Sensors, event_engine::subscribes<Report>, event_engine::publishes<Reading>> {
public:
    Sensors(std::uint64_t readings, std::chrono::milliseconds interval) : readings_{readings}, interval_{interval} {}

    void run()
    {
        for (std::uint64_t sequence = 1; readings_ == 0 || sequence <= readings_; ++sequence) {
            if (stop_requested()) return;
            publish(make_reading(sequence));
            if (interval_.count() > 0) std::this_thread::sleep_for(interval_);
        }
        fmt::print("Sensors: published {} readings\n", readings_);
        const auto event = receive();
        if (!event) return; // the application is stopping
        const Report& report = std::get<Report>(*event);
        std::string sites;
        for (const auto& site : report.sites) sites += (sites.empty() ? "" : ",") + site;
        fmt::print("Sensors: Report readings={} summaries={} alerts={} sites={} summaries_match={}\n", report.readings,
                   report.summaries, report.alerts, sites, report.summaries_match);
    }

private:
    std::uint64_t readings_;
    std::chrono::milliseconds interval_;
};

// Handler style: a Summary per sensor every `window` readings, an Alert per hot reading.
class Aggregator : public event_engine::plugin<Aggregator, event_engine::subscribes<Reading>,
                                               event_engine::publishes<Summary, Alert>> {
public:
    explicit Aggregator(std::uint64_t readings) : readings_{readings} {}

    void on(const Reading& reading)
    {
        for (const Sample& sample : reading.samples) {
            if (sample.quantity == Quantity::celsius && sample.value > alert_celsius) {
                publish(Alert{
                    reading.sensor, reading.sequence,
                    sample.value > alert_celsius + 2 ? Severity::critical : Severity::warning,
                    fmt::format("sensor {} ({}) reads {:.1f} C", reading.sensor, reading.location.site, sample.value)});
            }
        }
        auto& readings = windows_[reading.sensor];
        readings.push_back(reading);
        if (readings.size() == window) {
            publish(summarize(readings));
            readings.clear();
        }
        if (++seen_ == readings_) finish();
    }

private:
    static Summary summarize(const std::vector<Reading>& readings)
    {
        Summary summary{};
        summary.sensor = readings.front().sensor;
        summary.readings = static_cast<std::uint32_t>(readings.size());
        double celsius_sum = 0;
        double humidity_sum = 0;
        int celsius_count = 0;
        int humidity_count = 0;
        summary.max_celsius = -1e300;
        for (const Reading& reading : readings) {
            summary.sequences.push_back(reading.sequence);
            for (const Sample& sample : reading.samples) {
                if (sample.quantity == Quantity::celsius) {
                    celsius_sum += sample.value;
                    ++celsius_count;
                    summary.max_celsius = std::max(summary.max_celsius, sample.value);
                } else if (sample.quantity == Quantity::humidity) {
                    humidity_sum += sample.value;
                    ++humidity_count;
                }
            }
        }
        summary.mean_celsius = celsius_sum / celsius_count;
        if (humidity_count > 0) summary.mean_humidity = humidity_sum / humidity_count;
        return summary;
    }

    std::uint64_t readings_;
    std::uint64_t seen_ = 0;
    std::map<std::uint32_t, std::vector<Reading>> windows_;
};

// The Python plugin (analyst.py), declared here; its process connects to its port.
// clang-format off
using Analyst = event_engine::external_plugin<event_engine::subscribes<Reading, Summary, Alert>,
                                              event_engine::publishes<Report>>;
// clang-format on

static_assert(event_engine::graph_is_complete_v<events, event_engine::plugins_list<Sensors, Aggregator, Analyst>>);

} // namespace pipeline

namespace {

const char* argument(int argc, char** argv, std::string_view flag)
{
    for (int i = 1; i + 1 < argc; ++i) {
        if (argv[i] == flag) return argv[i + 1];
    }
    return nullptr;
}

long long number_argument(int argc, char** argv, std::string_view flag, long long fallback)
{
    const char* text = argument(argc, argv, flag);
    return text == nullptr ? fallback : std::atoll(text);
}

} // namespace

int main(int argc, char** argv)
{
    std::setvbuf(stdout, nullptr, _IOLBF, 0); // line by line, interleaved with the Python plugin's output
    const auto readings = static_cast<std::uint64_t>(number_argument(argc, argv, "--readings", 12));
    const auto interval = std::chrono::milliseconds{number_argument(argc, argv, "--interval-ms", 0)};
    const auto analyst_port = static_cast<std::uint16_t>(number_argument(argc, argv, "--analyst-port", 6001));

    event_engine::app_config config;
    config.publish_port = static_cast<std::uint16_t>(number_argument(argc, argv, "--publish-port", 5559));
    config.subscribe_port = static_cast<std::uint16_t>(number_argument(argc, argv, "--subscribe-port", 5560));
    config.stop_on_signals = true;
    if (const char* path = argument(argc, argv, "--manifest")) config.manifest_path = path;
    if (argument(argc, argv, "--introspection-port") != nullptr) {
        config.introspection_port = static_cast<std::uint16_t>(number_argument(argc, argv, "--introspection-port", 0));
    }
    event_engine::external_options analyst_options;
    if (readings == 0) analyst_options.when_full = event_engine::full_policy::drop; // streaming: never held back

    try {
        if (const char* keys = argument(argc, argv, "--keys")) {
            const std::filesystem::path directory{keys};
            config.security.server = event_engine::curve_keypair::load(directory / "pipeline.key_secret");
            const auto tools = event_engine::curve_key::from_file(directory / "tools.key");
            config.security.subscribers = {tools};
            config.security.publishers = {event_engine::authorized_publisher{tools}};
            analyst_options.client_key = event_engine::curve_key::from_file(directory / "analyst.key");
        }
        pipeline::Sensors sensors{readings, interval};
        pipeline::Aggregator aggregator{readings};
        event_engine::app<pipeline::events> app{config};
        event_engine::enable_manifest(app); // --manifest, --introspection-port and plugin_command: manifest
        const auto report = app.register_plugin(sensors)
                                .register_plugin(aggregator)
                                .register_external_plugin(pipeline::Analyst{"analyst", analyst_port, analyst_options})
                                .run();
        fmt::print("{}\n", report);
        const bool all_finished = std::all_of(report.plugins.begin(), report.plugins.end(), [](const auto& plugin) {
            return plugin.outcome == event_engine::plugin_outcome::finished;
        });
        if (!all_finished) fmt::print(stderr, "pipeline_app: stopped before every plugin had finished\n");
        return all_finished ? EXIT_SUCCESS : EXIT_FAILURE;
    } catch (const event_engine::error& failure) {
        fmt::print(stderr, "pipeline_app: {}\n", failure.what());
        return EXIT_FAILURE;
    }
}
