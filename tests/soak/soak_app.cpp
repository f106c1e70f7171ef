// The soak runner's application (scripts/soak.sh, tests/soak/soak.py, docs/testing.md).
//
// One program, two roles, joined through NATS JetStream (a three-node cluster, stream R3):
//
//   source: Producer (internal) publishes Reading events at --rate a second, numbered 1, 2, 3...;
//           Checker (internal) receives them and the external plugin's Progress events;
//           "ext" (external plugin, a Python process) receives the Readings and publishes
//           Progress; the bridge sends the Readings to NATS.
//   sink:   the bridge brings the Readings in; Counter (internal) receives them and the
//           external plugin's Progress events; "ext" (external plugin) receives the Readings.
//
// Only the public API is used. Every second it prints "STATUS <json>" (its tallies and the
// bridge's report); at the end (SIGTERM, or "quit" on stdin) "FINAL <json>" with the run
// report (event_engine/report_json.hpp) too. stdin: "stop-sending" (the Producer stops
// publishing), "quit"; the end of stdin (the runner gone) stops it as "quit" does.
// Exit status 0 unless run() failed.
//
//   ee_soak_app --role source|sink --servers URL[,URL...] --ext-port PORT
//       [--rate EVENTS_PER_S] [--prefix P] [--disconnect-grace-ms MS]
//
// Memory: the tallies are bounded (a contiguous prefix of the numbers seen and the few seen
// out of order), so the process's own bookkeeping does not grow with the run's length.

#include <event_engine/event_engine.hpp>
#include <event_engine/nats/bridge.hpp>
#include <event_engine/report_json.hpp>

#include "../nats/app_harness.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace ee = event_engine;
using namespace std::chrono_literals;

namespace {

struct Reading {
    static constexpr std::string_view name = "Reading";
    using codec = ee::trivial_codec;
    std::uint64_t number = 0;
    std::uint64_t check = 0; // reading_check(number): a payload mangled on the way shows
};
struct Progress { // the external plugin's: "<incarnation> <events seen>"
    static constexpr std::string_view name = "Progress";
    using codec = ee::text_codec;
    std::string text;
};
using events = ee::event_list<Reading, Progress>;

std::uint64_t reading_check(std::uint64_t number) { return (number * 0x9E3779B97F4A7C15ULL) ^ 0x5eed5eed5eedULL; }

struct settings {
    std::string role;
    ee::nats::bridge_options bridge;
    std::uint16_t ext_port = 0;
    double rate = 250;
    std::chrono::milliseconds disconnect_grace{20'000};
};
settings config;

/// The numbers 1, 2, 3... seen, in bounded memory: everything up to `prefix` has been seen,
/// `above` holds the numbers seen beyond it (few: out of order or after a gap).
class number_tally {
public:
    void add(std::uint64_t number)
    {
        const std::scoped_lock lock{mutex_};
        ++total_;
        if (number <= prefix_ || !above_.insert(number).second) {
            ++duplicates_;
            return;
        }
        while (!above_.empty() && *above_.begin() == prefix_ + 1) {
            above_.erase(above_.begin());
            ++prefix_;
        }
    }
    void bad()
    {
        const std::scoped_lock lock{mutex_};
        ++bad_;
    }
    std::string json() const
    {
        const std::scoped_lock lock{mutex_};
        return fmt::format(R"({{"unique":{},"total":{},"duplicates":{},"contiguous":{},"out_of_order":{},"bad":{}}})",
                           prefix_ + above_.size(), total_, duplicates_, prefix_, above_.size(), bad_);
    }

private:
    mutable std::mutex mutex_;
    std::uint64_t prefix_ = 0, total_ = 0, duplicates_ = 0, bad_ = 0;
    std::set<std::uint64_t> above_;
};

struct tallies {
    std::atomic<bool> stop_sending{false}, sending_stopped{false};
    std::atomic<std::uint64_t> sent{0}, not_sent{0}, progress{0};
    number_tally readings;
};
tallies counts;

class Producer : public ee::plugin<Producer, ee::subscribes<>, ee::publishes<Reading>> {
public:
    // Paced at config.rate: event n is due at start + n / rate (a backlog after a stall is sent
    // as fast as backpressure allows). Runs until "stop-sending" or the application's stop.
    void run()
    {
        const auto start = std::chrono::steady_clock::now();
        for (std::uint64_t n = 1; !stop_requested() && !counts.stop_sending; ++n) {
            if (publish(Reading{n, reading_check(n)})) counts.sent.fetch_add(1, std::memory_order_relaxed);
            else counts.not_sent.fetch_add(1, std::memory_order_relaxed);
            std::this_thread::sleep_until(start +
                                          std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                              std::chrono::duration<double>(static_cast<double>(n) / config.rate)));
        }
        // release: whoever sees sending_stopped (acquire, tallies_json) sees the final sent count
        counts.sending_stopped.store(true, std::memory_order_release);
    }
};

// Checker (source) and Counter (sink): the internal receivers.
class Receiver : public ee::plugin<Receiver, ee::subscribes<Reading, Progress>, ee::publishes<>> {
public:
    void on(const Reading& reading)
    {
        if (reading.check != reading_check(reading.number)) counts.readings.bad();
        else counts.readings.add(reading.number);
    }
    void on(const Progress&) { ++counts.progress; }
};

using Ext = ee::external_plugin<ee::subscribes<Reading>, ee::publishes<Progress>>;

std::string tallies_json()
{
    // sending_stopped first (acquire), then the counts: a line saying sending stopped carries the
    // final sent and not_sent (the Producer stores them before sending_stopped, with release).
    // Function arguments are evaluated in an unspecified order, so the loads are sequenced here.
    const bool sending_stopped = counts.sending_stopped.load(std::memory_order_acquire);
    const auto sent = counts.sent.load(std::memory_order_relaxed);
    const auto not_sent = counts.not_sent.load(std::memory_order_relaxed);
    return fmt::format(R"("pid":{},"sent":{},"not_sent":{},"sending_stopped":{},"readings":{},"progress":{})",
                       ::getpid(), sent, not_sent, sending_stopped, counts.readings.json(), counts.progress.load());
}

template <class Bridge>
int run_role()
{
    Bridge bridge{config.bridge};
    ee::app_config app_config;
    app_config.publish_port = 0;
    app_config.subscribe_port = 0;
    app_config.stop_on_signals = true;
    ee::app<events> app{app_config};
    bridge.register_with(app);
    Producer producer;
    Receiver receiver;
    if (config.role == "source") app.register_plugin(producer, "producer");
    app.register_plugin(receiver, config.role == "source" ? "checker" : "counter");
    ee::external_options ext_options;
    ext_options.disconnect_grace = config.disconnect_grace; // a killed plugin's process is restarted within it
    ext_options.connect_warning_interval = 0ms;
    app.register_external_plugin(Ext{"ext", config.ext_port, ext_options});

    ee_test::runner_link link{1000ms,
                              [&] {
                                  return fmt::format("STATUS {{\"role\":\"{}\",{},\"bridge\":{}}}\n", config.role,
                                                     tallies_json(), ee_test::bridge_json(bridge.report()));
                              },
                              [&](const std::string& command) {
                                  if (command == "stop-sending") counts.stop_sending = true;
                                  else if (command == "quit") app.stop();
                              },
                              // end of stdin: the runner is gone (or closed the pipe), so the application stops
                              [&] { app.stop(); }};
    int status_code = 0;
    nlohmann::ordered_json report = nullptr;
    std::string failure;
    try {
        report = app.run();
    } catch (const ee::plugin_error& error) {
        failure = error.what();
        report = error.report();
        status_code = 1;
    } catch (const std::exception& error) {
        failure = error.what();
        status_code = 1;
    }
    link.stop();
    const auto line = fmt::format("FINAL {{\"role\":\"{}\",{},\"bridge\":{},\"report\":{},\"error\":{}}}\n",
                                  config.role, tallies_json(), ee_test::bridge_json(bridge.report()), report.dump(),
                                  nlohmann::json(failure).dump());
    std::fputs(line.c_str(), stdout);
    std::fflush(stdout);
    return status_code;
}

} // namespace

int main(int argc, char** argv)
{
    config.bridge.subject_prefix = "soak";
    config.bridge.mode = ee::nats::delivery::jetstream;
    config.bridge.stream_replicas = 3;
    config.bridge.ack_wait = 2s; // redeliver soon what a killed node swallowed (as the walk-through)
    config.bridge.reconnect_wait = 100ms;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string_view flag = argv[i];
        const std::string value = argv[i + 1];
        if (flag == "--role") config.role = value;
        else if (flag == "--servers") config.bridge.servers = ee_test::split_commas(value);
        else if (flag == "--ext-port") config.ext_port = static_cast<std::uint16_t>(std::stoul(value));
        else if (flag == "--rate") config.rate = std::stod(value);
        else if (flag == "--prefix") config.bridge.subject_prefix = value;
        else if (flag == "--disconnect-grace-ms")
            config.disconnect_grace = std::chrono::milliseconds{std::stoll(value)};
        else {
            std::fprintf(stderr, "ee_soak_app: unknown flag %s\n", argv[i]);
            return 2;
        }
    }
    if ((config.role != "source" && config.role != "sink") || config.ext_port == 0 || config.rate <= 0) {
        std::fprintf(stderr,
                     "usage: ee_soak_app --role source|sink --servers URL[,URL...] --ext-port PORT [--rate N]\n");
        return 2;
    }
    config.bridge.instance = "soak-" + config.role; // the durable consumer: the same across restarts
    if (config.role == "source") return run_role<ee::nats::bridge<ee::subscribes<Reading>, ee::publishes<>>>();
    return run_role<ee::nats::bridge<ee::subscribes<>, ee::publishes<Reading>>>();
}
