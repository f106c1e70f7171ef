// The program docs/tutorial.md walks through. Built and run as a test, and the
// tutorial's code blocks are checked to appear here verbatim (docs_snippets test).

#include <event_engine/event_engine.hpp>

#include <fmt/core.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

// --- Events -----------------------------------------------------------------

struct Reading {
    static constexpr std::string_view name = "Reading";
    using codec = event_engine::trivial_codec; // the struct's bytes, as they are in memory
    std::uint32_t sensor = 0;
    double celsius = 0;
};

struct Alert {
    static constexpr std::string_view name = "Alert";
    using codec = event_engine::text_codec; // the string's bytes
    std::string text;
};

using events = event_engine::event_list<Reading, Alert>;

// --- Plugins ------------------------------------------------------------------

// Loop style: run() does the work and returns when done.
// clang-format off
class Thermometer : public event_engine::plugin<Thermometer, event_engine::subscribes<>,
                                                event_engine::publishes<Reading>> {
public:
    void run()
    {
        for (std::uint32_t i = 0; i < 10; ++i) publish(Reading{i % 3, 20.0 + i});
    }
};
// clang-format on

// Handler style: the engine calls on() for each subscribed event.
// clang-format off
class Watchdog : public event_engine::plugin<Watchdog, event_engine::subscribes<Reading>,
                                             event_engine::publishes<Alert>> {
public:
    void on(const Reading& reading)
    {
        if (reading.celsius > 25.0) publish(Alert{fmt::format("sensor {} at {:.1f} C", reading.sensor, reading.celsius)});
        if (++seen_ == 10) finish(); // this plugin is done
    }

private:
    int seen_ = 0;
};
// clang-format on

// Loop style with a timeout: receive() returns an optional std::variant<Alert> (empty: status() says why).
class Pager : public event_engine::plugin<Pager, event_engine::subscribes<Alert>, event_engine::publishes<>> {
public:
    int alerts = 0;
    void run()
    {
        while (auto event = receive(std::chrono::milliseconds{500})) {
            fmt::print("page: {}\n", std::get<Alert>(*event).text);
            ++alerts;
        }
    }
};

// --- The application -----------------------------------------------------------

int main()
{
    // clang-format off
    event_engine::app_config config;
    config.publish_port = 0;   // 0: any free port (the defaults are 5559 and 5560)
    config.subscribe_port = 0;
    config.stop_on_signals = true; // Ctrl-C or SIGTERM stops the run cleanly

    Pager pager;
    event_engine::app<events> app{config};
    app.register_plugin(pager).register_plugin(Watchdog{}).register_plugin(Thermometer{});
    // clang-format on
    app.on_bound([](const event_engine::bound_endpoints& bound) { // before any plugin starts
        fmt::print("publish port {}, subscribe port {}\n", bound.publish_port, bound.subscribe_port);
    });

    try {
        const event_engine::run_report report = app.run();
        fmt::print("{}\n", report); // a line for the run, then one per plugin (event_engine/format.hpp)
        return pager.alerts == 4 ? EXIT_SUCCESS : EXIT_FAILURE;
    } catch (const event_engine::plugin_error& failure) {
        fmt::print(stderr, "plugin {} failed: {}\n", failure.plugin(), failure.what());
    } catch (const event_engine::bind_error& failure) {
        fmt::print(stderr, "cannot bind {}: {}\n", failure.endpoint(), failure.what());
    }
    return EXIT_FAILURE;
}
