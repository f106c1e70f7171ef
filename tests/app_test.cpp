#include "support.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <csignal>
#include <memory>
#include <mutex>
#include <thread>

using namespace event_engine;
using namespace test_events;

namespace {

// Waits for events until the application stops it.
class Listener : public plugin<Listener, subscribes<Note>, publishes<>> {
public:
    std::atomic<int> heard{0};
    std::atomic<bool> started{false};
    void on_start() { started = true; }
    void on(const Note&) { ++heard; }
};

class Speaker : public plugin<Speaker, subscribes<>, publishes<Note>> {
public:
    int count = 3;
    void run()
    {
        for (int i = 0; i < count; ++i) publish(Note{"hello"});
    }
};

class Thrower : public plugin<Thrower, subscribes<>, publishes<>> {
public:
    void run() { throw std::runtime_error{"sensor unplugged"}; }
};

// Runs app.run() on a thread so the test can stop it.
template <class App>
class background_run {
public:
    explicit background_run(App& application)
        : thread_{[this, &application] {
              try {
                  report_ = application.run();
              } catch (...) {
                  failure_ = std::current_exception();
              }
          }}
    {}
    run_report join()
    {
        thread_.join();
        if (failure_) std::rethrow_exception(failure_);
        return report_;
    }

private:
    run_report report_;
    std::exception_ptr failure_;
    std::thread thread_;
};

} // namespace

TEST_CASE("run() returns once every plugin has finished - with an account of each", "[app]")
{
    class Finisher : public plugin<Finisher, subscribes<Note>, publishes<>> {
    public:
        void on(const Note&)
        {
            if (++heard_ == 3) finish();
        }

    private:
        int heard_ = 0;
    };
    Finisher finisher;
    app<events> application{any_ports()};
    const auto report = application.register_plugin(finisher).register_plugin(Speaker{}).run();
    REQUIRE(report.plugins.size() == 2);
    CHECK_FALSE(report.stopped);
    CHECK(report.plugins[0].name == "Finisher");
    CHECK(report.plugins[0].outcome == plugin_outcome::finished);
    CHECK(report.plugins[0].events_received == 3);
    CHECK(report.plugins[1].name == "Speaker");
    CHECK(report.plugins[1].events_published == 3);
    CHECK(report.total_dropped() == 0);
}

TEST_CASE("stop() from another thread ends plugins that would wait forever", "[app][stop]")
{
    Listener listener;
    app<events> application{any_ports()};
    application.register_plugin(listener);
    background_run running{application};
    // Waiting, not sleeping: a stop before the plugin started is the next test's case.
    while (!listener.started) std::this_thread::sleep_for(std::chrono::milliseconds{1});
    application.stop();
    const auto report = running.join();
    CHECK(report.stopped);
    CHECK(report.plugins[0].outcome == plugin_outcome::stopped);
}

TEST_CASE("stop() before run() makes run() return right after start-up", "[app][stop]")
{
    Listener listener;
    app<events> application{any_ports()};
    application.register_plugin(listener);
    application.stop();
    CHECK(application.run().stopped);
}

TEST_CASE("SIGTERM stops an application configured with stop_on_signals", "[app][stop]")
{
    struct sigaction before {};
    ::sigaction(SIGTERM, nullptr, &before);
    Listener listener;
    auto config = any_ports();
    config.stop_on_signals = true;
    app<events> application{config};
    application.register_plugin(listener);
    // run() installs its handler before it binds: raised earlier, SIGTERM would end the test binary.
    std::atomic<bool> bound{false};
    application.on_bound([&](const bound_endpoints&) { bound = true; });
    background_run running{application};
    while (!bound) std::this_thread::sleep_for(std::chrono::milliseconds{1});
    std::raise(SIGTERM);
    CHECK(running.join().stopped);
    // The previous disposition is back once run() has returned.
    struct sigaction after {};
    ::sigaction(SIGTERM, nullptr, &after);
    CHECK(after.sa_handler == before.sa_handler);
}

TEST_CASE("a plugin that throws stops the others - and run() reports which and why", "[app][errors]")
{
    Listener listener;
    app<events> application{any_ports()};
    application.register_plugin(listener).register_plugin(Thrower{}, "camera");
    try {
        application.run();
        FAIL("run() should have thrown");
    } catch (const plugin_error& failure) {
        CHECK(failure.plugin() == "camera");
        CHECK_THAT(failure.what(), Catch::Matchers::Contains("plugin 'camera' failed: sensor unplugged"));
        CHECK_THROWS_WITH(std::rethrow_exception(failure.cause()), "sensor unplugged");
        const auto& report = failure.report();
        CHECK(report.find("camera")->outcome == plugin_outcome::failed);
        CHECK(report.find("Listener")->outcome == plugin_outcome::stopped);
    }
}

TEST_CASE("a TCP port in use is a bind_error that names the port", "[app][errors]")
{
    zmq::context_t context;
    zmq::socket_t squatter{context, zmq::socket_type::pub};
    squatter.set(zmq::sockopt::linger, 0);
    squatter.bind("tcp://127.0.0.1:*");
    const std::string taken = squatter.get(zmq::sockopt::last_endpoint);
    const auto port = static_cast<std::uint16_t>(std::stoi(taken.substr(taken.rfind(':') + 1)));

    auto config = any_ports();
    config.subscribe_port = port;
    app<events> application{config};
    application.register_plugin(Speaker{});
    try {
        application.run();
        FAIL("run() should have thrown");
    } catch (const bind_error& failure) {
        CHECK(failure.endpoint() == "tcp://127.0.0.1:" + std::to_string(port));
        CHECK_THAT(failure.what(), Catch::Matchers::Contains("subscribe port") &&
                                       Catch::Matchers::Contains(std::to_string(port)) &&
                                       Catch::Matchers::Contains("Address already in use"));
    }
}

TEST_CASE("a bad bind address is a bind_error naming the endpoint", "[app][errors]")
{
    auto config = any_ports();
    config.bind_address = "not-an-interface";
    app<events> application{config};
    application.register_plugin(Speaker{});
    CHECK_THROWS_MATCHES(application.run(), bind_error,
                         Catch::Matchers::Predicate<bind_error>([](const bind_error& failure) {
                             return failure.endpoint().find("not-an-interface") != std::string::npos;
                         }));
}

TEST_CASE("registration: owned plugins - and unique names for repeated types", "[app]")
{
    Listener listener;
    app<events> application{any_ports()};
    application.register_plugin(std::make_unique<Speaker>())
        .register_plugin(Speaker{})
        .register_plugin(Speaker{}, "loud")
        .register_plugin(listener);
    std::thread stopper{[&] {
        while (listener.heard < 9) std::this_thread::sleep_for(std::chrono::milliseconds{5});
        application.stop();
    }};
    const auto report = application.run();
    stopper.join();
    CHECK(report.find("Speaker") != nullptr);
    CHECK(report.find("Speaker#2") != nullptr);
    CHECK(report.find("loud") != nullptr);
    CHECK(listener.heard == 9);
}

TEST_CASE("run() is single-use and needs a plugin", "[app][errors]")
{
    app<events> empty{any_ports()};
    CHECK_THROWS_AS(empty.run(), configuration_error);

    app<events> once{any_ports()};
    once.register_plugin(Speaker{});
    once.run();
    CHECK_THROWS_WITH(once.run(), Catch::Matchers::Contains("only be called once"));
}

TEST_CASE("multi-MiB payloads pass intact", "[app][payload]")
{
    class BlobSource : public plugin<BlobSource, subscribes<>, publishes<Blob>> {
    public:
        void run()
        {
            Blob blob;
            blob.bytes.resize(6 * 1024 * 1024);
            for (std::size_t i = 0; i < blob.bytes.size(); ++i) blob.bytes[i] = static_cast<std::byte>(i * 31);
            publish(blob);
        }
    };
    class BlobSink : public plugin<BlobSink, subscribes<Blob>, publishes<>> {
    public:
        bool intact = false;
        void on(const Blob& blob)
        {
            intact = blob.bytes.size() == 6 * 1024 * 1024;
            for (std::size_t i = 0; intact && i < blob.bytes.size(); ++i) {
                intact = blob.bytes[i] == static_cast<std::byte>(i * 31);
            }
            finish();
        }
    };
    BlobSink sink;
    app<events> application{any_ports()};
    application.register_plugin(sink).register_plugin(BlobSource{}).run();
    CHECK(sink.intact);
}

TEST_CASE("binary topics and trivially copyable payloads cross the engine", "[app][payload]")
{
    class Thermometer : public plugin<Thermometer, subscribes<>, publishes<Reading>> {
    public:
        void run() { publish(Reading{-3.25, 12}); }
    };
    class Display : public plugin<Display, subscribes<Reading>, publishes<>> {
    public:
        Reading last{};
        void on(const Reading& reading)
        {
            last = reading;
            finish();
        }
    };
    Display display;
    app<events> application{any_ports()};
    application.register_plugin(display).register_plugin(Thermometer{}).run();
    CHECK(display.last.celsius == -3.25);
    CHECK(display.last.sensor == 12);
}

TEST_CASE("a payload that fails to decode is logged with its event type - counted - and skipped", "[app][errors]")
{
    // An unregistered external process publishes straight to the TCP publish port:
    // first a Count whose payload has the wrong size, then a good one.
    class CountSink : public plugin<CountSink, subscribes<Count>, publishes<>> {
    public:
        std::uint64_t value = 0;
        int good = 0;
        void on(const Count& count)
        {
            value = count.value;
            // Each bad frame goes out right before a good one, so by the third good
            // one at least two bad ones have arrived, whenever the link came up.
            if (++good == 3) finish();
        }
    };
    std::mutex lines_mutex;
    std::vector<std::string> lines;
    set_log_sink([&](log_level level, std::string_view line) {
        const std::scoped_lock lock{lines_mutex};
        if (level == log_level::error) lines.emplace_back(line);
    });

    auto config = any_ports();
    CountSink sink;
    app<events> application{config};
    application.register_plugin(sink, "sink");
    std::atomic<bool> done{false};
    std::optional<std::thread> outsider;
    application.on_bound([&](const bound_endpoints& bound) {
        outsider.emplace([&, port = bound.publish_port] {
            zmq::context_t context;
            zmq::socket_t publisher{context, zmq::socket_type::pub};
            publisher.set(zmq::sockopt::linger, 0);
            publisher.connect("tcp://127.0.0.1:" + std::to_string(port));
            const std::uint64_t good = 99;
            std::string good_frame{"Count"};
            good_frame.append(reinterpret_cast<const char*>(&good), sizeof good);
            // PUB drops until connected, so repeat until the sink has what it needs.
            while (!done) {
                publisher.send(zmq::buffer(std::string_view{"Countxyz"}));
                publisher.send(zmq::buffer(good_frame));
                std::this_thread::sleep_for(std::chrono::milliseconds{5});
            }
        });
    });
    const auto report = application.run();
    done = true;
    outsider->join();
    set_log_sink({});

    CHECK(sink.value == 99);
    CHECK(report.find("sink")->decode_failures >= 2);
    const std::scoped_lock lock{lines_mutex};
    REQUIRE_FALSE(lines.empty());
    CHECK_THAT(lines.front(), Catch::Matchers::Contains("plugin 'sink'") &&
                                  Catch::Matchers::Contains("cannot decode a Count event (3 payload bytes)") &&
                                  Catch::Matchers::Contains("trivial_codec expected 8 payload bytes, got 3"));
}

TEST_CASE("an unregistered external subscriber on the TCP subscribe port receives events", "[app][tcp]")
{
    auto config = any_ports();
    std::atomic<bool> heard{false};
    class Repeater : public plugin<Repeater, subscribes<>, publishes<Note>> {
    public:
        std::atomic<bool>* heard = nullptr;
        void run()
        {
            // A remote subscriber joins whenever it joins: keep publishing until it has heard.
            while (!*heard && !stop_requested()) {
                publish(Note{"over tcp"});
                std::this_thread::sleep_for(std::chrono::milliseconds{5});
            }
        }
    };
    Repeater repeater;
    repeater.heard = &heard;
    app<events> application{config};
    application.register_plugin(repeater);
    std::string received;
    std::optional<std::thread> outsider;
    application.on_bound([&](const bound_endpoints& bound) {
        outsider.emplace([&, port = bound.subscribe_port] {
            zmq::context_t context;
            zmq::socket_t subscriber{context, zmq::socket_type::sub};
            subscriber.set(zmq::sockopt::linger, 0);
            subscriber.set(zmq::sockopt::subscribe, "Note");
            subscriber.connect("tcp://127.0.0.1:" + std::to_string(port));
            zmq::message_t frame;
            (void)subscriber.recv(frame);
            received = frame.to_string();
            heard = true;
        });
    });
    application.run();
    outsider->join();
    CHECK(received == "Noteover tcp");
}

namespace {
struct Image {
    static constexpr std::string_view name = "Image";
    using codec = bytes_view_codec;
    std::span<const std::byte> pixels;
};
using image_events = event_list<Image>;
} // namespace

TEST_CASE("a view codec hands a handler the received frame's bytes without a copy", "[app][payload]")
{
    class Camera : public plugin<Camera, subscribes<>, publishes<Image>> {
    public:
        void run()
        {
            std::vector<std::byte> pixels(5 * 1024 * 1024);
            for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<std::byte>(i % 253);
            publish(Image{pixels});
        }
    };
    class Viewer : public plugin<Viewer, subscribes<Image>, publishes<>> {
    public:
        bool intact = false;
        void on(const Image& image)
        {
            intact = image.pixels.size() == 5 * 1024 * 1024;
            for (std::size_t i = 0; intact && i < image.pixels.size(); ++i) {
                intact = image.pixels[i] == static_cast<std::byte>(i % 253);
            }
            finish();
        }
    };
    Viewer viewer;
    app<image_events> application{any_ports()};
    application.register_plugin(viewer).register_plugin(Camera{}).run();
    CHECK(viewer.intact);
}
