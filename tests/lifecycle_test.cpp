// Lifecycle edges of a real application: registration, receive()'s reasons, bound
// endpoints (port 0) and what the library logs about them.
#include "support.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using namespace event_engine;
using namespace test_events;
using namespace std::chrono_literals;

namespace {

class Quiet : public plugin<Quiet, subscribes<Note>, publishes<>> {
public:
    void on(const Note&) {}
};

class Talker : public plugin<Talker, subscribes<>, publishes<Note>> {
public:
    void run() { publish(Note{"hi"}); }
};

class Hearer : public plugin<Hearer, subscribes<Note>, publishes<>> {
public:
    void on(const Note&) { finish(); }
};

// Receives with a timeout until it times out once, then finishes: records each status.
class Patient : public plugin<Patient, subscribes<Note>, publishes<>> {
public:
    std::vector<receive_status> seen;
    void run()
    {
        for (;;) {
            const auto event = receive(20ms);
            seen.push_back(event.status());
            if (event) continue;
            CHECK_FALSE(event.has_value());
            if (event.timed_out()) {
                finish();
                seen.push_back(receive().status()); // after finish(): finishing, at once
                return;
            }
        }
    }
};

// Waits without a timeout until the application stops.
class Waiter : public plugin<Waiter, subscribes<Note>, publishes<>> {
public:
    std::atomic<bool> waiting{false};
    receive_status last = receive_status::received;
    void run()
    {
        waiting = true;
        while (auto event = receive()) {
        }
        last = receive().status();
    }
};

} // namespace

TEST_CASE("one plugin object registered twice is refused before anything starts", "[lifecycle]")
{
    Quiet quiet;
    app<events> application{any_ports()};
    application.register_plugin(quiet, "first");
    CHECK_THROWS_WITH(application.register_plugin(quiet, "second"),
                      "event_engine: register_plugin(): this Quiet object is already registered, as 'first'; one "
                      "object runs on one thread, so register another object to run it twice");
    // The application is unchanged: the first registration still runs.
    Talker talker;
    application.register_plugin(talker);
    application.stop();
    const auto report = application.run();
    CHECK(report.plugins.size() == 2);
    CHECK(report.find("second") == nullptr);

    Quiet other;
    app<events> twice{any_ports()};
    CHECK_NOTHROW(twice.register_plugin(quiet).register_plugin(other)); // two objects of one type are fine
}

TEST_CASE("one plugin object running in two applications at once: the second fails, the first runs on", "[lifecycle]")
{
    class Holder : public plugin<Holder, subscribes<>, publishes<>> {
    public:
        std::atomic<bool> running{false};
        std::atomic<bool> release{false};
        void run()
        {
            running = true;
            while (!release && !stop_requested()) std::this_thread::sleep_for(1ms);
        }
    };
    Holder holder;
    app<events> first{any_ports()};
    first.register_plugin(holder, "held");
    std::optional<run_report> first_report;
    std::thread first_run{[&] { first_report = first.run(); }};
    while (!holder.running) std::this_thread::sleep_for(1ms);

    app<events> second{any_ports()};
    second.register_plugin(holder, "again"); // registration alone cannot see the other app
    try {
        second.run();
        FAIL("the second application ran an object that was running already");
    } catch (const plugin_error& failure) {
        CHECK(failure.plugin() == "again");
        CHECK(std::string_view{failure.what()} ==
              "event_engine: plugin 'again' failed: this Holder object is running "
              "already, in another application; one object runs on one thread at a time, so give each application "
              "its own object");
    }
    holder.release = true;
    first_run.join();
    REQUIRE(first_report.has_value());
    CHECK(first_report->find("held")->outcome == plugin_outcome::finished);

    // Once the first has finished, the object may run again.
    holder.release = true;
    app<events> third{any_ports()};
    third.register_plugin(holder);
    CHECK(third.run().find("Holder")->outcome == plugin_outcome::finished);
}

TEST_CASE("receive() says why it has no event: timed out, finishing, stopping", "[lifecycle]")
{
    Patient patient;
    app<events> application{any_ports()};
    application.register_plugin(patient);
    application.run();
    REQUIRE(patient.seen.size() == 2);
    CHECK(patient.seen[0] == receive_status::timed_out);
    CHECK(patient.seen[1] == receive_status::finishing);
    CHECK(to_string(receive_status::timed_out) == "timed_out");

    Waiter waiter;
    app<events> stopped{any_ports()};
    stopped.register_plugin(waiter);
    std::thread stopper{[&] {
        while (!waiter.waiting) std::this_thread::sleep_for(1ms);
        stopped.stop();
    }};
    stopped.run();
    stopper.join();
    CHECK(waiter.last == receive_status::stopping);
}

TEST_CASE("port 0: the application says which ports it bound, before plugins start and after", "[lifecycle]")
{
    Talker talker;
    Quiet quiet;
    app<events> application{any_ports()};
    application.register_plugin(talker).register_plugin(quiet);
    CHECK_FALSE(application.endpoints().has_value());

    std::optional<bound_endpoints> seen;
    application.on_bound([&](const bound_endpoints& bound) {
        seen = bound;
        CHECK(application.endpoints().has_value()); // readable from the callback on
    });
    application.stop(); // ends right after start-up; binding happened before
    application.run();

    REQUIRE(seen.has_value());
    CHECK(seen->publish_port != 0);
    CHECK(seen->subscribe_port != 0);
    CHECK(seen->publish_port != seen->subscribe_port);
    CHECK(seen->publish_endpoint == "tcp://127.0.0.1:" + std::to_string(seen->publish_port));
    CHECK(seen->subscribe_endpoint == "tcp://127.0.0.1:" + std::to_string(seen->subscribe_port));
    CHECK(seen->external_plugins.empty());
    CHECK_THROWS_AS(seen->port_of("nobody"), configuration_error);
    const auto after = application.endpoints();
    REQUIRE(after.has_value());
    CHECK(after->publish_port == seen->publish_port);
}

TEST_CASE("an exception from on_bound ends run() with it, everything closed", "[lifecycle]")
{
    Quiet quiet;
    app<events> application{any_ports()};
    application.register_plugin(quiet);
    application.on_bound([](const bound_endpoints&) { throw std::runtime_error{"could not start the helper"}; });
    CHECK_THROWS_WITH(application.run(), "could not start the helper");
    // Its ports were closed again: a second app can bind the same ones.
    const auto bound = application.endpoints();
    REQUIRE(bound.has_value());
    app_config config;
    config.publish_port = bound->publish_port;
    config.subscribe_port = bound->subscribe_port;
    Quiet again;
    app<events> second{config};
    second.register_plugin(again);
    second.stop();
    CHECK_NOTHROW(second.run());
}

TEST_CASE("trace logs every event published and received, by plugin and event", "[lifecycle][log]")
{
    const log_capture log{log_level::trace};
    Talker talker;
    Hearer hearer;
    app<events> application{any_ports()};
    application.register_plugin(talker).register_plugin(hearer);
    application.run();
    CHECK(log.count("plugin 'Talker' publishes Note (2 payload bytes)") == 1);
    CHECK(log.count("plugin 'Hearer' receives Note (2 payload bytes)") == 1);
}

TEST_CASE("debug does not log each event", "[lifecycle][log]")
{
    const log_capture log{log_level::debug};
    Talker talker;
    Hearer hearer;
    app<events> application{any_ports()};
    application.register_plugin(talker).register_plugin(hearer);
    application.run(); // Talker publishes, Hearer receives, both finish
    CHECK(log.count("plugin 'Talker' started") == 1);
    CHECK(log.count("plugin 'Hearer' ended") == 1);
    CHECK(log.count("publishes") == 0);
    CHECK(log.count("receives") == 0);
}

TEST_CASE("receive(): finish() while the application stops says finishing; the result is a std::optional",
          "[lifecycle]")
{
    class Both : public plugin<Both, subscribes<Note>, publishes<>> {
    public:
        receive_status last = receive_status::received;
        void run()
        {
            stop_application();
            finish();
            last = receive().status();
            // Used as the std::optional it is.
            auto result = receive(1ms);
            result = std::nullopt;
            CHECK(result.status() == receive_status::finishing); // emptied: keeps its reason
            result = event{Note{"x"}};
            CHECK(result.status() == receive_status::received);
            result.reset();
            CHECK(result.status() == receive_status::finishing);
            decltype(receive()) empty;
            CHECK(empty.status() == receive_status::stopping); // made empty: stopping
            std::optional<event> plain = receive(1ms);
            CHECK_FALSE(plain.has_value());
        }
    };
    Both both;
    app<events> application{any_ports()};
    application.register_plugin(both, "Both");
    application.run();
    CHECK(both.last == receive_status::finishing);
}

TEST_CASE("receive(timeout) times out while undecodable frames keep arriving", "[lifecycle]")
{
    // Count's trivial_codec wants 8 payload bytes: "Countxyz" (3) never decodes.
    class Counter : public plugin<Counter, subscribes<Count>, publishes<>> {
    public:
        std::atomic<bool> done{false};
        receive_status status = receive_status::received;
        void run()
        {
            status = receive(50ms).status();
            done = true;
        }
    };
    Counter counter;
    app<events> application{any_ports()};
    application.register_plugin(counter, "Counter");
    std::optional<std::thread> flooder;
    application.on_bound([&](const bound_endpoints& bound) {
        flooder.emplace([&counter, port = bound.publish_port] {
            zmq::context_t context;
            zmq::socket_t publisher{context, zmq::socket_type::pub};
            publisher.set(zmq::sockopt::linger, 0);
            publisher.connect("tcp://127.0.0.1:" + std::to_string(port));
            // Floods until the plugin has returned: it must, though frames never stop.
            while (!counter.done)
                (void)publisher.send(zmq::buffer(std::string_view{"Countxyz"}), zmq::send_flags::dontwait);
        });
    });
    const log_capture quiet_log{log_level::off};
    const auto report = application.run();
    flooder->join();
    CHECK(counter.status == receive_status::timed_out);
    CHECK(report.find("Counter")->decode_failures > 0);
}

TEST_CASE("endpoints() is readable from a plugin while the application runs", "[lifecycle]")
{
    class Reader : public plugin<Reader, subscribes<>, publishes<>> {
    public:
        const app<events>* application = nullptr;
        std::optional<bound_endpoints> seen;
        void run() { seen = application->endpoints(); }
    };
    Reader reader;
    app<events> application{any_ports()};
    reader.application = &application;
    application.register_plugin(reader);
    application.run();
    REQUIRE(reader.seen.has_value());
    CHECK(reader.seen->publish_port == application.endpoints()->publish_port);
}

TEST_CASE("deadlines saturate: a wait too long to represent is never, not the past", "[lifecycle]")
{
    using namespace std::chrono;
    const auto now = detail::clock::now();
    CHECK(detail::deadline_after(now, milliseconds::max()) == detail::clock::time_point::max());
    CHECK(detail::deadline_after(now, hours{24 * 365 * 1000}) == detail::clock::time_point::max());
    CHECK(detail::deadline_after(now, milliseconds{-5}) == now);
    CHECK(detail::deadline_after(now, milliseconds{5}) == now + milliseconds{5});
}

TEST_CASE("printable() shows binary bytes escaped and long ones cut", "[log]")
{
    CHECK(detail::printable(std::string_view{"ab\x01\x00\\", 5}) == "ab\\x01\\x00\\x5c");
    CHECK(detail::printable(std::string(50, 'x'), 4) == "xxxx... (50 bytes)");
}
