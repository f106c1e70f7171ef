// The nats.consumer test's application: the smallest realistic use of an installed
// event_engine_nats. Two applications in one process, each with a bridge to the NATS server
// at $EE_CONSUMER_NATS_URL: a device sends `count` Readings, the central site answers each
// with a Setpoint, through NATS both ways. Exits 0 only if every answer came back and both
// bridges' reports agree.

#include <event_engine/event_engine.hpp>
#include <event_engine/nats/bridge.hpp>

#if defined(EVENT_ENGINE_NATS_SEPARATE_COMPILATION) && defined(NATS_H_)
#error "linked with event_engine::nats_compiled, event_engine/nats/bridge.hpp must not include <nats/nats.h>"
#endif

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace ee = event_engine;
using namespace std::chrono_literals;

namespace {

constexpr int count = 50;

struct Reading {
    static constexpr std::string_view name = "Reading";
    using codec = ee::trivial_codec;
    int number = 0;
};

struct Setpoint {
    static constexpr std::string_view name = "Setpoint";
    using codec = ee::trivial_codec;
    int for_reading = 0;
};

using events = ee::event_list<Reading, Setpoint>;

std::atomic<bool> go{false}; // both bridges are subscribed: nothing sent is lost for want of a receiver

class Sensor : public ee::plugin<Sensor, ee::subscribes<>, ee::publishes<Reading>> {
public:
    void run()
    {
        while (!go && !stop_requested()) std::this_thread::sleep_for(5ms);
        for (int n = 1; n <= count && !stop_requested(); ++n) publish(Reading{n});
    }
};

// The device's side: counts the answers, each once, and stops its application when all came.
class Actuator : public ee::plugin<Actuator, ee::subscribes<Setpoint>, ee::publishes<>> {
public:
    void on(const Setpoint& setpoint)
    {
        if (setpoint.for_reading < 1 || setpoint.for_reading > count || answered_[setpoint.for_reading]) {
            ++wrong;
            return;
        }
        answered_[setpoint.for_reading] = true;
        if (++answers == count) stop_application();
    }

    int answers = 0;
    int wrong = 0;

private:
    std::vector<bool> answered_ = std::vector<bool>(count + 1, false);
};

class Controller : public ee::plugin<Controller, ee::subscribes<Reading>, ee::publishes<Setpoint>> {
public:
    void on(const Reading& reading) { publish(Setpoint{reading.number}); }
};

ee::nats::bridge_options options_for(const std::string& url, const std::string& instance)
{
    ee::nats::bridge_options options;
    options.servers = {url};
    options.subject_prefix = "consumer"; // subjects consumer.Reading, consumer.Setpoint
    options.instance = instance;
    // Only the final sequence marker (docs/nats.md, "On the wire"), so that what each bridge
    // sends the server is exactly its events and one marker (tests/nats/test_consumer.py).
    options.marker_interval = std::chrono::milliseconds{0};
    return options;
}

} // namespace

int main()
{
    const char* url = std::getenv("EE_CONSUMER_NATS_URL");
    if (url == nullptr || *url == '\0') {
        std::fprintf(stderr, "consumer: set EE_CONSUMER_NATS_URL to a NATS server, e.g. nats://127.0.0.1:4222\n");
        return EXIT_FAILURE;
    }
    ee::nats::bridge<ee::subscribes<Reading>, ee::publishes<Setpoint>> device_bridge{options_for(url, "device")};
    ee::nats::bridge<ee::subscribes<Setpoint>, ee::publishes<Reading>> central_bridge{options_for(url, "central")};
    Sensor sensor;
    Actuator actuator;
    Controller controller;
    ee::app<events> device{{.publish_port = 0, .subscribe_port = 0}};
    ee::app<events> central{{.publish_port = 0, .subscribe_port = 0}};
    device_bridge.register_with(device);
    device.register_plugin(sensor).register_plugin(actuator);
    central_bridge.register_with(central);
    central.register_plugin(controller);

    std::atomic<int> finished{0};
    std::mutex failures_mutex;
    std::string failures; // read after the joins
    const auto run = [&](ee::app<events>& app, const char* name) {
        try {
            app.run();
        } catch (const std::exception& failure) {
            const std::scoped_lock lock{failures_mutex};
            failures += std::string{name} + ": " + failure.what() + "\n";
        }
        ++finished;
    };
    std::thread central_thread{run, std::ref(central), "central"};
    std::thread device_thread{run, std::ref(device), "device"};
    // Until both bridges are subscribed (or an application failed; 60 s: a hang, not a slow start).
    for (int i = 0; i < 6000 && finished == 0 && !go; ++i) {
        if (device_bridge.report().subscribed && central_bridge.report().subscribed) go = true;
        else std::this_thread::sleep_for(10ms);
    }
    if (!go) device.stop();
    device_thread.join(); // the Actuator stops the device once every answer is in
    central.stop();
    central_thread.join();

    const auto d = device_bridge.report();
    const auto c = central_bridge.report();
    const bool ok = failures.empty() && actuator.answers == count && actuator.wrong == 0 && d.published == count &&
                    d.events_in == count && c.events_in == count && c.published == count && d.sequence_gaps == 0 &&
                    c.sequence_gaps == 0;
    std::fputs(failures.c_str(), stderr);
    std::printf("consumer (NATS at %s): device sent %llu Readings, central brought in %llu and sent %llu Setpoints, "
                "device brought in %llu, %d/%d answered -> %s\n",
                url, static_cast<unsigned long long>(d.published), static_cast<unsigned long long>(c.events_in),
                static_cast<unsigned long long>(c.published), static_cast<unsigned long long>(d.events_in),
                actuator.answers, count, ok ? "OK" : "FAILED");
    return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}
