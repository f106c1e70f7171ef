// Two sites joined through NATS JetStream (docs/nats.md, the walk-through).
//
// A field device measures and sends Reading events to the central site; the central site
// answers every tenth reading with a Setpoint for the device. Each runs until it has
// received everything it expects and everything it sent is stored by the stream, then
// prints what it sent, received and lost, and exits 0 if it lost nothing.
//
//   nats_site device  <nats-urls> <readings>
//   nats_site central <nats-urls> <readings>
//
// <nats-urls> is a comma-separated list, e.g. nats://127.0.0.1:4222,nats://127.0.0.1:4223.

#include <event_engine/event_engine.hpp>
#include <event_engine/nats/bridge.hpp>

#include <fmt/format.h>

#include <algorithm>
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

struct Reading {
    static constexpr std::string_view name = "Reading";
    using codec = ee::trivial_codec;
    std::uint64_t number = 0;
    double celsius = 0;
};

struct Setpoint {
    static constexpr std::string_view name = "Setpoint";
    using codec = ee::trivial_codec;
    std::uint64_t for_reading = 0;
    double celsius = 0;
};

using events = ee::event_list<Reading, Setpoint>;

// What both sites wait for before they stop: every expected event in, every sent one stored.
class progress {
public:
    /// False if @p number had been received before (JetStream delivers at least once).
    bool received(std::uint64_t number)
    {
        const std::scoped_lock lock{mutex_};
        if (numbers_.insert(number).second) return true;
        ++duplicates_;
        return false;
    }
    std::uint64_t unique() const
    {
        const std::scoped_lock lock{mutex_};
        return numbers_.size();
    }
    std::uint64_t duplicates() const
    {
        const std::scoped_lock lock{mutex_};
        return duplicates_;
    }

private:
    mutable std::mutex mutex_;
    std::set<std::uint64_t> numbers_;
    std::uint64_t duplicates_ = 0;
};

// The device: sends a reading every 10 ms.
class Sensor : public ee::plugin<Sensor, ee::subscribes<>, ee::publishes<Reading>> {
public:
    explicit Sensor(std::uint64_t count) : count_{count} {}
    void run()
    {
        for (std::uint64_t n = 1; n <= count_ && !stop_requested(); ++n) {
            publish(Reading{n, 20.0 + static_cast<double>(n % 50) / 10.0});
            if (n % 100 == 0) {
                fmt::print("device: {} readings sent\n", n);
                std::fflush(stdout);
            }
            std::this_thread::sleep_for(10ms);
        }
    }

private:
    std::uint64_t count_;
};

class Actuator : public ee::plugin<Actuator, ee::subscribes<Setpoint>> {
public:
    explicit Actuator(progress& state) : state_{&state} {}
    void on(const Setpoint& setpoint) { state_->received(setpoint.for_reading); }

private:
    progress* state_;
};

// The central site: records readings, answers every tenth.
class Controller : public ee::plugin<Controller, ee::subscribes<Reading>, ee::publishes<Setpoint>> {
public:
    explicit Controller(progress& state) : state_{&state} {}
    void on(const Reading& reading)
    {
        if (!state_->received(reading.number)) return; // a duplicate: answered already
        if (reading.number % 10 == 0) publish(Setpoint{reading.number, reading.celsius - 0.5});
        if (const auto received = state_->unique(); received % 100 == 0) {
            fmt::print("central: {} readings received\n", received); // the walk-through's cue to kill a node
            std::fflush(stdout);
        }
    }

private:
    progress* state_;
};

// Stops the application once the site has everything and the stream has stored all it sent.
template <class Bridge>
class Watcher : public ee::plugin<Watcher<Bridge>> {
public:
    Watcher(const Bridge& bridge, const progress& state, std::uint64_t expected, std::uint64_t to_send)
        : bridge_{&bridge}, state_{&state}, expected_{expected}, to_send_{to_send}
    {}
    void run()
    {
        while (!this->stop_requested()) {
            const auto report = bridge_->report();
            if (state_->unique() >= expected_ && report.published >= to_send_) {
                this->stop_application();
                return;
            }
            std::this_thread::sleep_for(20ms);
        }
    }

private:
    const Bridge* bridge_;
    const progress* state_;
    std::uint64_t expected_;
    std::uint64_t to_send_;
};

std::vector<std::string> split(const std::string& text)
{
    std::vector<std::string> parts;
    for (std::size_t start = 0;;) {
        const auto comma = text.find(',', start);
        parts.push_back(text.substr(start, comma - start));
        if (comma == std::string::npos) return parts;
        start = comma + 1;
    }
}

ee::nats::bridge_options options_for(const std::string& site, const std::string& urls)
{
    // clang-format off
    ee::nats::bridge_options options;
    options.servers = split(urls);
    options.subject_prefix = "plant";           // subjects plant.Reading, plant.Setpoint
    options.mode = ee::nats::delivery::jetstream;
    options.instance = site;                    // also names its durable consumers
    options.stream_replicas = 3;                // every event stored on three nodes
    options.ack_wait = 2s;                      // redeliver quickly what a lost node swallowed
    // clang-format on
    return options;
}

template <class Bridge, class... Plugins>
int run_site(const std::string& site, Bridge& bridge, const progress& state, std::uint64_t expected,
             std::uint64_t to_send, Plugins&&... plugins)
{
    ee::app_config config;
    config.publish_port = 0; // free ports: both sites may run on one machine
    config.subscribe_port = 0;
    config.stop_on_signals = true;
    ee::app<events> app{config};
    bridge.register_with(app);
    (app.register_plugin(std::forward<Plugins>(plugins)), ...);
    Watcher<Bridge> watcher{bridge, state, expected, to_send};
    app.register_plugin(watcher);
    app.run();
    const auto report = bridge.report();
    const std::uint64_t lost = expected - std::min<std::uint64_t>(expected, state.unique());
    fmt::print("{}: sent {} (stored {}, failed {}), received {} of {} (duplicates {}), lost {}\n", site,
               report.events_out, report.published, report.publish_failed, state.unique(), expected,
               state.duplicates() + report.duplicates_skipped, lost);
    return lost == 0 && report.publish_failed == 0 && report.unconfirmed_at_stop == 0 ? 0 : 1;
}

int main(int argc, char** argv)
{
    if (argc != 4) {
        fmt::print(stderr, "usage: {} device|central <nats-urls> <readings>\n", argv[0]);
        return 2;
    }
    const std::string site = argv[1];
    const std::uint64_t readings = std::stoull(argv[3]);
    progress state;
    try {
        if (site == "device") {
            ee::nats::bridge<ee::subscribes<Reading>, ee::publishes<Setpoint>> bridge{options_for(site, argv[2])};
            return run_site(site, bridge, state, readings / 10, readings, Sensor{readings}, Actuator{state});
        }
        ee::nats::bridge<ee::subscribes<Setpoint>, ee::publishes<Reading>> bridge{options_for(site, argv[2])};
        return run_site(site, bridge, state, readings, readings / 10, Controller{state});
    } catch (const std::exception& error) {
        fmt::print(stderr, "{}: {}\n", site, error.what());
        return 1;
    }
}
