// The process boundary (docs/security.md): what holds against peers the engine
// does not control, and that every event is accounted for around ends, stops and
// vanished clients. Real applications, real ZeroMQ clients on threads of the test.

#include "clients.hpp"
#include "support.hpp"

#include <event_engine/detail/endpoints/endpoint.hpp>
#include <event_engine/detail/endpoints/log_throttle.hpp>
#include <event_engine/detail/security/zap_handler.hpp>
#include <event_engine/detail/wire/external_protocol.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

using namespace event_engine;
using namespace test_events;
using namespace std::chrono_literals;
using test_clients::bound_port;
using test_clients::client_thread;
using test_clients::curve_client;
using test_clients::no_reply;
using test_clients::req_client;
namespace protocol = event_engine::detail::protocol;

namespace {

using External = external_plugin<subscribes<Note>, publishes<Count, Blob>>;

class NoteSource : public plugin<NoteSource, subscribes<>, publishes<Note>> {
public:
    int count = 3;
    std::size_t text_size = 0; // 0: "note <i>"
    // Done only once every subscriber (an external plugin's bridge too) has taken in or
    // dropped every Note: a delivery mark follows them and is waited for (marks are never
    // dropped), so a test need not guess how long that takes.
    bool done_when_taken_in = false;
    std::atomic<bool> done{false};
    [[nodiscard]] bool tracks_delivery() const noexcept { return done_when_taken_in; }
    void run()
    {
        for (int i = 0; i < count; ++i) {
            std::string text = "note " + std::to_string(i);
            if (text_size > 0) text.resize(text_size, '.');
            if (!publish(Note{text})) break;
        }
        if (done_when_taken_in) wait_until_taken_in();
        done = true;
    }

private:
    void wait_until_taken_in()
    {
        auto& runtime = *detail::plugin_access::runtime_of(*this);
        runtime.publish_mark();
        wait_for_first_mark(runtime, [this] { return stop_requested(); });
    }
};

// Publishes Counts until the application stops (or @p most).
class CountSource : public plugin<CountSource, subscribes<>, publishes<Count>> {
public:
    std::uint64_t most = ~std::uint64_t{0};
    void run()
    {
        for (std::uint64_t i = 0; i < most; ++i) {
            if (!publish(Count{i})) return;
        }
    }
};

// Takes Counts; finishes after finish_after, or stops the application after stop_after.
class CountSink : public plugin<CountSink, subscribes<Count>, publishes<>> {
public:
    std::uint64_t finish_after = ~std::uint64_t{0};
    std::uint64_t stop_after = ~std::uint64_t{0};
    std::uint64_t seen = 0;
    void on(const Count&)
    {
        ++seen;
        if (seen == finish_after) finish();
        if (seen == stop_after) stop_application();
    }
};

external_options waiting_forever()
{
    external_options options;
    options.connect_timeout = 20s;
    return options;
}

// Every event published on a subscriber's topics is in exactly one of these.
std::uint64_t accounted(const plugin_report& r)
{
    return r.events_received + r.decode_failures + r.events_dropped + r.events_unread + r.events_after_end;
}

// "event-engine: events <first> <epoch>" -> first, epoch
std::pair<std::uint64_t, std::string> fetch_header(const std::string& header)
{
    REQUIRE_THAT(header, Catch::Matchers::StartsWith(std::string{protocol::events_header}));
    const auto rest = header.substr(protocol::events_header.size());
    const auto space = rest.find(' ');
    return {std::stoull(rest.substr(0, space)), rest.substr(space + 1)};
}

std::string count_frame(std::uint64_t value)
{
    std::string frame{"Count"};
    frame.append(reinterpret_cast<const char*>(&value), sizeof value);
    return frame;
}

// docs/security.md's example, verbatim (tests/docs/check_snippets.py checks it is here):
// it must compile; it is not run (it reads key files from keys/).
[[maybe_unused]] void security_md_example(app<events>& app)
{
    using PyPlugin = External;
    // clang-format off
    event_engine::app_config config;
    config.bind_address = "0.0.0.0";                        // beyond loopback: keys required
    config.security.server = event_engine::curve_keypair::load("keys/engine.key_secret");
    config.security.subscribers = {event_engine::curve_key::from_file("keys/monitor.key")};
    config.security.publishers = {{event_engine::curve_key::from_file("keys/sensor.key"), {"Reading"}}};

    app.register_external_plugin(PyPlugin{"pyplugin", 6000,
                                          {.client_key = event_engine::curve_key::from_file("keys/pyplugin.key")}});
    // clang-format on
}

} // namespace

// ---------------------------------------------------------------- parser

TEST_CASE("parse: fetch and ack", "[boundary][protocol]")
{
    const auto fetch = protocol::parse("plugin_command: fetch 100 500 42");
    CHECK(fetch.what == protocol::kind::fetch);
    CHECK(fetch.most == 100);
    CHECK(fetch.wait == 500ms);
    CHECK(fetch.ack == 42);
    CHECK(fetch.have == 0);
    // The optional fourth number (docs/protocol.md): the last event the client holds.
    const auto ahead = protocol::parse("plugin_command: fetch 100 0 42 57");
    CHECK(ahead.what == protocol::kind::fetch);
    CHECK((ahead.ack == 42 && ahead.have == 57));
    const auto ack = protocol::parse("plugin_command: ack 18446744073709551615\n");
    CHECK(ack.what == protocol::kind::ack);
    CHECK(ack.ack == 18446744073709551615ULL);
    for (const char* bad :
         {"plugin_command: fetch", "plugin_command: fetch 10 0", "plugin_command: fetch 0 0 0",
          "plugin_command: fetch 100001 0 0", "plugin_command: fetch 1 -1 0", "plugin_command: fetch 1 0 -1",
          "plugin_command: fetch 1 0 1 1 1", "plugin_command: fetch 1 0 1 x", "plugin_command: ack",
          "plugin_command: ack x", "plugin_command: ack 1 2"}) {
        CAPTURE(bad);
        CHECK(protocol::parse(bad).what == protocol::kind::malformed);
    }
    // Numbers are digits after a space: no signs, no numbers run together (found by fuzzing).
    for (const char* bad :
         {"plugin_command: next_msgs 15-000", "plugin_command: next_msg_wait -0", "plugin_command: next_msgs 5 -0",
          "plugin_command: fetch 5 -0 1", "plugin_command: fetch 5-0 3", "plugin_command: next_msgs 5 +1"}) {
        CAPTURE(bad);
        CHECK(protocol::parse(bad).what == protocol::kind::malformed);
    }
    CHECK(protocol::parse("plugin_command: next_msg_wait5").what == protocol::kind::unknown_command);
    CHECK(protocol::parse("plugin_command: next_msgs5").what == protocol::kind::unknown_command);
    CHECK(protocol::parse("plugin_command: fetchx 1 0 0").what == protocol::kind::unknown_command);
    CHECK(protocol::parse("plugin_command: acks 1").what == protocol::kind::unknown_command);
}

// ---------------------------------------------------------------- at-least-once fetch

TEST_CASE("fetch: what a client did not acknowledge is sent again, with the same numbers", "[boundary][e2e]")
{
    NoteSource source;
    source.count = 5;
    app<events> application{any_ports()};
    application.register_plugin(source, "source").register_external_plugin(External{"ext", 0, waiting_forever()});
    const bound_port port{application, "ext"};

    std::vector<std::string> first_batch, all;
    std::string first_epoch, second_epoch, acked, quit;
    std::uint64_t first_number = 0, second_number = 0;
    client_thread client{[&] {
        {
            req_client lost{port}; // takes a batch and dies without acknowledging it
            auto reply = lost.request("plugin_command: fetch 3 10000 0");
            std::tie(first_number, first_epoch) = fetch_header(reply.front());
            first_batch.assign(reply.begin() + 1, reply.end());
        }
        req_client next{port};
        std::uint64_t last = 0;
        while (all.size() < 5) {
            auto reply = next.request("plugin_command: fetch 10 10000 " + std::to_string(last));
            const auto [number, epoch] = fetch_header(reply.front());
            if (all.empty()) std::tie(second_number, second_epoch) = std::pair{number, epoch};
            for (std::size_t i = 1; i < reply.size(); ++i) {
                if (number + i - 1 > last) all.push_back(reply[i]); // skip duplicates, as a client should
            }
            last = number + reply.size() - 2;
        }
        acked = next.one("plugin_command: ack " + std::to_string(last));
        quit = next.one(protocol::quit);
    }};
    const auto report = application.run();
    client.join();

    CHECK(first_number == 1);
    CHECK(first_batch.size() >= 1);
    CHECK(second_number == 1); // the lost batch again, from its first number
    CHECK(second_epoch == first_epoch);
    CHECK(all == std::vector<std::string>{"Notenote 0", "Notenote 1", "Notenote 2", "Notenote 3", "Notenote 4"});
    CHECK(acked == "event-engine: acknowledged 5");
    CHECK(quit == protocol::quit_reply);
    const auto* ext = report.find("ext");
    CHECK(ext->events_received == 5); // acknowledged, each once
    CHECK(ext->events_unread == 0);
}

TEST_CASE("fetch: events never acknowledged are unread at the end, not received", "[boundary][e2e]")
{
    NoteSource source;
    source.count = 4;
    app<events> application{any_ports()};
    application.register_plugin(source, "source").register_external_plugin(External{"ext", 0, waiting_forever()});
    const bound_port port{application, "ext"};
    std::size_t fetched = 0;
    client_thread client{[&] {
        req_client req{port};
        while (fetched < 4) fetched += req.request("plugin_command: fetch 10 10000 0").size() - 1;
        (void)req.one(protocol::quit); // without an ack
    }};
    const auto report = application.run();
    client.join();
    const auto* ext = report.find("ext");
    CHECK(ext->events_received == 0);
    CHECK(ext->events_unread == 4);
    CHECK(accounted(*ext) == 4);
}

// ---------------------------------------------------------------- bounded queues

TEST_CASE("queue_limit with full_policy::drop: exactly the limit is held, the rest dropped and counted",
          "[boundary][e2e]")
{
    NoteSource source;
    source.count = 50;
    source.done_when_taken_in = true;
    auto options = waiting_forever();
    options.queue_limit = 10;
    options.when_full = full_policy::drop;
    app<events> application{any_ports()};
    application.register_plugin(source, "source").register_external_plugin(External{"ext", 0, options});
    const bound_port port{application, "ext"};

    std::size_t first_batch = 0, total = 0;
    client_thread client{[&] {
        while (!source.done) std::this_thread::sleep_for(1ms); // the bridge has taken in (or dropped) all 50
        req_client req{port};
        first_batch = req.request("plugin_command: next_msgs 1000 10000").size();
        total = first_batch;
        for (;;) {
            const auto more = req.request("plugin_command: next_msgs 1000 200");
            if (more.size() == 1 && more.front().empty()) break;
            total += more.size();
        }
        (void)req.one(protocol::quit);
    }};
    const auto report = application.run();
    client.join();

    const auto* ext = report.find("ext");
    CHECK(first_batch == 10);
    CHECK(ext->events_received == total);
    CHECK(ext->events_dropped == 40);
    CHECK(accounted(*ext) == 50);
    CHECK(report.find("source")->publish_waits == 0); // nobody waited for the plugin
}

TEST_CASE("queue_byte_limit: held bytes stay within the limit plus one event", "[boundary][e2e]")
{
    NoteSource source;
    source.count = 40;
    source.done_when_taken_in = true;
    source.text_size = 1000; // frames of 4 + 1000 bytes
    auto options = waiting_forever();
    options.queue_byte_limit = 10 * 1004;
    options.when_full = full_policy::drop;
    app<events> application{any_ports()};
    application.register_plugin(source, "source").register_external_plugin(External{"ext", 0, options});
    const bound_port port{application, "ext"};

    std::size_t first_batch = 0;
    client_thread client{[&] {
        while (!source.done) std::this_thread::sleep_for(1ms); // all 40 taken in or dropped
        req_client req{port};
        first_batch = req.request("plugin_command: next_msgs 1000 10000").size();
        (void)req.one(protocol::quit);
    }};
    const auto report = application.run();
    client.join();
    const auto* ext = report.find("ext");
    CHECK(first_batch == 10);
    CHECK(ext->events_dropped == 30);
    CHECK(accounted(*ext) == 40);
}

TEST_CASE("queue_limit with full_policy::wait: publishers wait, nothing is lost", "[boundary][e2e]")
{
    NoteSource source;
    source.count = 2000;
    auto options = waiting_forever();
    options.queue_limit = 20;
    auto config = any_ports();
    config.high_water_mark = 100; // so the engine's own pipes hold far fewer than 2000
    app<events> application{config};
    application.register_plugin(source, "source").register_external_plugin(External{"ext", 0, options});
    const bound_port port{application, "ext"};

    std::size_t first_batch = 0, total = 0;
    client_thread client{[&] {
        std::this_thread::sleep_for(300ms); // the source fills what the engine may hold, then waits
        req_client req{port};
        while (total < 2000) {
            const auto batch = req.request("plugin_command: next_msgs 100000 10000").size();
            if (first_batch == 0) first_batch = batch;
            total += batch;
        }
        (void)req.one(protocol::quit);
    }};
    const auto report = application.run();
    client.join();
    CHECK(first_batch <= 20);
    CHECK(total == 2000);
    CHECK(report.find("ext")->events_received == 2000);
    CHECK(report.find("source")->publish_waits > 0);
}

// ---------------------------------------------------------------- every event accounted for

TEST_CASE("a subscriber that finishes early: what it did not take is unread or after its end", "[boundary][e2e]")
{
    CountSource source;
    source.most = 5000;
    CountSink sink;
    sink.finish_after = 100;
    app<events> application{any_ports()};
    application.register_plugin(source, "source").register_plugin(sink, "sink");
    const auto report = application.run();
    const auto* s = report.find("sink");
    CHECK(report.find("source")->events_published == 5000);
    CHECK(s->events_received == 100);
    CHECK(accounted(*s) == 5000);
}

TEST_CASE("a stop in full flow: every published event is accounted for by every subscriber", "[boundary][e2e]")
{
    CountSource counts;
    NoteSource notes;
    notes.count = 3000;
    CountSink fast, stopper;
    stopper.stop_after = 2000; // stops the application in the middle of the flow
    app<events> application{any_ports()};
    application.register_plugin(counts, "counts")
        .register_plugin(notes, "notes")
        .register_plugin(fast, "fast")
        .register_plugin(stopper, "stopper")
        .register_external_plugin(External{"ext", 0, {.connect_timeout = 0ms}}); // its process never comes
    const auto report = application.run();
    CHECK(report.stopped);
    const auto published = report.find("counts")->events_published;
    CHECK(published >= 2000);
    CHECK(accounted(*report.find("fast")) == published);
    CHECK(accounted(*report.find("stopper")) == published);
    CHECK(accounted(*report.find("ext")) == report.find("notes")->events_published);
}

TEST_CASE("a publish during a stop is refused, not acknowledged and lost", "[boundary][e2e]")
{
    CountSink sink;
    auto options = waiting_forever();
    options.stop_grace = 10s;
    app<events> application{any_ports()};
    application.register_plugin(sink, "sink").register_external_plugin(External{"ext", 0, options});
    const bound_port port{application, "ext"};
    std::string refused, quit;
    client_thread client{[&] {
        req_client req{port};
        (void)req.one(protocol::ping); // run() is running
        application.stop();
        refused = req.one(count_frame(7));
        quit = req.one(protocol::quit);
    }};
    const auto report = application.run();
    client.join();
    CHECK_THAT(refused, Catch::Matchers::StartsWith(std::string{protocol::error_prefix}) &&
                            Catch::Matchers::Contains("stopping"));
    CHECK(quit == protocol::quit_reply);
    CHECK(report.find("ext")->events_published == 0);
    CHECK(report.find("ext")->requests_rejected == 1);
}

// ---------------------------------------------------------------- hostile peers

TEST_CASE("a peer that never reads its replies is cut off; the plugin and the application carry on",
          "[boundary][e2e][hostile]")
{
    CountSink sink;
    NoteSource source;
    source.count = 200;
    app<events> application{any_ports()};
    application.register_plugin(sink, "sink")
        .register_plugin(source, "source")
        .register_external_plugin(External{"ext", 0, waiting_forever()});
    const bound_port port{application, "ext"};

    // The engine's log says when it cuts a peer off: the flooder floods until then.
    std::atomic<bool> cut_off{false};
    set_log_sink([&](log_level, std::string_view line) {
        if (line.find("it is cut off") != std::string_view::npos) cut_off = true;
    });
    std::size_t flood_sent = 0;
    std::vector<std::string> notes;
    client_thread client{[&] {
        zmq::context_t context;
        zmq::socket_t flooder{context, zmq::socket_type::dealer};
        flooder.set(zmq::sockopt::linger, 0);
        flooder.set(zmq::sockopt::rcvhwm, 1);    // replies back up in the engine soon,
        flooder.set(zmq::sockopt::rcvbuf, 4096); // not in this process or its kernel buffer;
        flooder.set(zmq::sockopt::sndhwm, 16);   // requests wait here only briefly
        flooder.set(zmq::sockopt::sndbuf, 4096);
        flooder.connect("tcp://127.0.0.1:" + std::to_string(port));
        // REQ-framed requests, never reading a reply: a few publishes, then pings,
        // as fast as its queue takes them, until the engine has cut it off. The engine
        // bounds each connection's kernel buffers (socket_buffer_bytes), so that comes
        // within some 50,000 requests on any host (250,000 with the system's defaults); the
        // limit is twice that, and the clock only guards against a hang (no request taken
        // for a minute).
        const auto flood_one = [&](std::string_view body) {
            if (!flooder.send(zmq::message_t{}, zmq::send_flags::sndmore | zmq::send_flags::dontwait)) return false;
            (void)flooder.send(zmq::buffer(body), zmq::send_flags::none);
            ++flood_sent;
            return true;
        };
        for (int i = 0; i < 100; ++i) {
            while (!flood_one(count_frame(1))) std::this_thread::sleep_for(1ms);
        }
        auto progressed = std::chrono::steady_clock::now();
        while (!cut_off && flood_sent < 100'000 && std::chrono::steady_clock::now() - progressed < 60s) {
            if (flood_one(protocol::ping)) progressed = std::chrono::steady_clock::now();
            else std::this_thread::sleep_for(1ms);
        }
        req_client req{port}; // the real plugin, on the same port
        while (notes.size() < 200) {
            auto batch = req.request("plugin_command: next_msgs 1000 10000");
            notes.insert(notes.end(), batch.begin(), batch.end());
        }
        (void)req.one(protocol::quit);
        flooder.close();
        application.stop(); // the sink never finishes by itself
    }};
    const auto report = application.run();
    client.join();
    set_log_sink({});

    const auto* ext = report.find("ext");
    CHECK(cut_off);
    CHECK(notes.size() == 200);
    CHECK(ext->peers_cut_off >= 1);
    CHECK(ext->requests_ignored >= 1);
    // What the flooder got published before it was cut off reached the sink, all of it.
    CHECK(ext->events_published <= 100);
    CHECK(accounted(*report.find("sink")) == ext->events_published);
}

TEST_CASE("a stranger's ping before the plugin connects does not count as the plugin's process",
          "[boundary][e2e][hostile]")
{
    NoteSource source;
    auto options = waiting_forever();
    options.disconnect_grace = 200ms;
    app<events> application{any_ports()};
    application.register_plugin(source, "source").register_external_plugin(External{"ext", 0, options});
    const bound_port port{application, "ext"};
    std::string pong;
    std::vector<std::string> notes;
    client_thread client{[&] {
        {
            req_client stranger{port};
            pong = stranger.one(protocol::ping);
            (void)stranger.one("plugin_command: frobnicate");
        }
        std::this_thread::sleep_for(1s); // far past the disconnect grace
        req_client plugin{port, std::nullopt, 10s};
        while (notes.size() < 3) notes.push_back(plugin.one(protocol::next_msg));
        (void)plugin.one(protocol::quit);
    }};
    const auto report = application.run();
    client.join();
    CHECK(pong == protocol::pong_reply);
    CHECK(notes.size() == 3);
    CHECK(report.find("ext")->outcome == plugin_outcome::finished);
}

// ---------------------------------------------------------------- CURVE

TEST_CASE("CURVE: only the plugin's key gets an answer on its port", "[boundary][e2e][curve]")
{
    const auto server = curve_keypair::generate();
    const auto plugin_keys = curve_keypair::generate();
    const auto stranger_keys = curve_keypair::generate();
    NoteSource source;
    auto options = waiting_forever();
    options.client_key = plugin_keys.public_key;
    options.disconnect_grace = 200ms;
    auto config = any_ports();
    config.security.server = server;
    app<events> application{config};
    application.register_plugin(source, "source").register_external_plugin(External{"ext", 0, options});
    const bound_port port{application, "ext"};

    bool stranger_answered = true, plain_answered = true;
    std::vector<std::string> notes;
    client_thread client{[&] {
        const auto answered = [&](const std::optional<curve_client>& keys) {
            req_client req{port, keys, 1500ms};
            try {
                (void)req.one(protocol::ping);
                return true;
            } catch (const no_reply&) {
                return false;
            }
        };
        stranger_answered = answered(
            curve_client{server.public_key.z85(), stranger_keys.public_key.z85(), stranger_keys.secret_key.z85()});
        plain_answered = answered(std::nullopt);
        std::this_thread::sleep_for(500ms); // past the disconnect grace: strangers do not count
        req_client plugin{
            port, curve_client{server.public_key.z85(), plugin_keys.public_key.z85(), plugin_keys.secret_key.z85()}};
        while (notes.size() < 3) notes.push_back(plugin.one(protocol::next_msg));
        (void)plugin.one(protocol::quit);
    }};
    const auto report = application.run();
    client.join();
    CHECK_FALSE(stranger_answered);
    CHECK_FALSE(plain_answered);
    CHECK(notes.size() == 3);
    CHECK(report.find("ext")->outcome == plugin_outcome::finished);
    CHECK(report.connections_refused >= 1); // the stranger (a plain client fails before ZAP)
}

TEST_CASE("CURVE: an application with keys needs a client key for each external plugin", "[boundary][curve]")
{
    auto config = any_ports();
    config.security.server = curve_keypair::generate();
    app<events> application{config};
    application.register_external_plugin(External{"keyless", 0, waiting_forever()});
    CHECK_THROWS_MATCHES(application.run(), configuration_error,
                         Catch::Matchers::Predicate<configuration_error>([](const configuration_error& e) {
                             return std::string_view{e.what()}.find("'keyless' has no client_key") !=
                                    std::string_view::npos;
                         }));
}

namespace {
/// A new directory of its own under /tmp (mkdtemp: not a predictable shared name), removed
/// when the test ends, a failed REQUIRE included.
struct temporary_directory {
    std::filesystem::path path;
    temporary_directory()
    {
        std::string name = "/tmp/eekXXXXXX";
        REQUIRE(::mkdtemp(name.data()) != nullptr);
        path = name;
    }
    temporary_directory(const temporary_directory&) = delete;
    temporary_directory& operator=(const temporary_directory&) = delete;
    ~temporary_directory()
    {
        std::error_code ignored;
        std::filesystem::remove_all(path, ignored);
    }
};
} // namespace

TEST_CASE("keys: generate, save, load; Z85 text or certificate files", "[boundary][curve]")
{
    const temporary_directory temporary;
    const auto& directory = temporary.path;
    const auto pair = curve_keypair::generate();
    pair.save(directory, "engine");
    const auto loaded = curve_keypair::load(directory / "engine.key_secret");
    CHECK(loaded.public_key == pair.public_key);
    CHECK(loaded.secret_key == pair.secret_key);
    CHECK(curve_key::from_file(directory / "engine.key") == pair.public_key);
    CHECK(curve_key::from_z85(pair.public_key.z85()) == pair.public_key);
    CHECK(curve_key::from_setting("z85:" + pair.public_key.z85()) == pair.public_key);
    CHECK(curve_key::from_setting("file:" + (directory / "engine.key").string()) == pair.public_key);
    // A bare key is the key when it cannot be a path ('/' is Z85: about a third of keys have one).
    auto bare = curve_keypair::generate().public_key;
    while (bare.z85().find('/') != std::string::npos || bare.z85().starts_with('.') || bare.z85().ends_with(".key")) {
        bare = curve_keypair::generate().public_key;
    }
    CHECK(curve_key::from_setting(bare.z85()) == bare);
    CHECK_THROWS_AS(curve_keypair::load(directory / "engine.key"), configuration_error); // no secret in it
    CHECK_THROWS_WITH(curve_key::from_setting("not a key and not a file"),
                      Catch::Matchers::Contains("z85:") && Catch::Matchers::Contains("file:"));
    CHECK_THROWS_WITH(curve_key::from_z85((directory / "engine.key").string()), Catch::Matchers::Contains("from_file"));
    CHECK_THROWS_WITH(curve_key::from_file(pair.public_key.z85()), Catch::Matchers::Contains("from_z85"));
    CHECK_THROWS_AS(curve_key::from_z85("short"), configuration_error);
    ::setenv("EE_TEST_KEY", (directory / "engine.key").c_str(), 1);
    CHECK(curve_key::from_env("EE_TEST_KEY") == pair.public_key);
    ::unsetenv("EE_TEST_KEY");
    CHECK_THROWS_WITH(curve_key::from_env("EE_TEST_KEY"), Catch::Matchers::Contains("EE_TEST_KEY"));
}

TEST_CASE("keys: a certificate path of 40 Z85 characters is never taken as the key itself", "[boundary][curve]")
{
    // '/', '.', '-', letters and digits are all Z85: such a path decodes as a key.
    const temporary_directory temporary;
    const std::string base = temporary.path.string();
    const std::string name = std::string(40 - base.size() - std::string{"/.key"}.size(), 'k');
    const std::string path = (temporary.path / (name + ".key")).string();
    REQUIRE(path.size() == 40);
    REQUIRE(curve_key::is_z85_key(path));
    const auto pair = curve_keypair::generate();
    pair.save(temporary.path, name);

    CHECK(curve_key::from_file(path) == pair.public_key);
    CHECK(curve_key::from_setting("file:" + path) == pair.public_key);
    CHECK(curve_key::from_setting("z85:" + path).z85() == path); // asked for as text: the text
    // Without a prefix it could be either: refused, naming both ways, never guessed.
    ::setenv("EE_TEST_KEY40", path.c_str(), 1);
    CHECK_THROWS_WITH(curve_key::from_env("EE_TEST_KEY40"), Catch::Matchers::Contains("file:<path>") &&
                                                                Catch::Matchers::Contains("z85:<key>") &&
                                                                Catch::Matchers::Contains("EE_TEST_KEY40"));
    ::setenv("EE_TEST_KEY40", ("file:" + path).c_str(), 1);
    CHECK(curve_key::from_env("EE_TEST_KEY40") == pair.public_key);
    ::unsetenv("EE_TEST_KEY40");
    // The deprecated guesser still works where it cannot be wrong, and no longer guesses.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    CHECK(curve_key::load("z85:" + pair.public_key.z85()) == pair.public_key);
    CHECK_THROWS_WITH(curve_key::load(path), Catch::Matchers::Contains("z85:<key>"));
#pragma GCC diagnostic pop
}

TEST_CASE("keys: without a prefix, a 40-character Z85 value that could be a path is refused even if "
          "no such file exists",
          "[boundary][curve]")
{
    // Missing, mistyped or not mounted: the path must not silently become the key.
    for (const std::string missing : {"/home/ann/keys/abcdefghijklmn/engine.key",    // '/' and ".key"
                                      "keys/abcdefghijklmnopqrstuvwxyz012345678",    // '/' only
                                      "./abcdefghijklmnopqrstuvwxyz0123456789AB",    // starts with '.'
                                      "abcdefghijklmnopqrstuvwxyz0123456789.key"}) { // ".key"
        INFO(missing);
        REQUIRE(missing.size() == 40);
        REQUIRE(curve_key::is_z85_key(missing)); // so it could be taken for a key
        REQUIRE_FALSE(std::filesystem::exists(missing));
        CHECK_THROWS_WITH(curve_key::from_setting(missing),
                          Catch::Matchers::Contains("file:<path>") && Catch::Matchers::Contains("z85:<key>"));
        CHECK(curve_key::from_setting("z85:" + missing).z85() == missing); // as text when asked
    }

    // A name whose existence cannot be checked could be a file too: a symbolic link to itself
    // (stat fails with ELOOP; std::filesystem::exists is false then, with an error).
    const temporary_directory temporary;
    const std::string loop = "abcdefghijklmnopqrstuvwxyz0123456789ABCD";
    REQUIRE(curve_key::is_z85_key(loop));
    std::filesystem::create_symlink(loop, temporary.path / loop);
    struct back_to {
        std::filesystem::path directory;
        ~back_to() { std::filesystem::current_path(directory); }
    } const restore{std::filesystem::current_path()};
    std::filesystem::current_path(temporary.path);
    std::error_code check;
    CHECK_FALSE(std::filesystem::exists(loop, check));
    CHECK(check); // the case: not "no such file", an error
    CHECK_THROWS_WITH(curve_key::from_setting(loop), Catch::Matchers::Contains("cannot be checked"));
    std::filesystem::current_path(restore.directory);

    // A secret key refused as ambiguous is not shown in the message.
    std::string secret = curve_keypair::generate().secret_key.z85();
    while (secret.find('/') == std::string::npos) secret = curve_keypair::generate().secret_key.z85();
    try {
        (void)curve_key::from_setting(secret);
        FAIL("a bare key containing '/' was taken");
    } catch (const configuration_error& refused) {
        const std::string message = refused.what();
        CHECK(message.find(secret) == std::string::npos);
        CHECK(message.find("40 characters, not shown") != std::string::npos);
    }
    std::string mistyped = secret.substr(0, 39); // neither a key nor a file: still not shown
    CHECK_THROWS_WITH(curve_key::from_setting(mistyped), !Catch::Matchers::Contains(mistyped));
}

// ---------------------------------------------------------------- binding

TEST_CASE("binding beyond loopback without keys is refused unless explicitly allowed", "[boundary][bind]")
{
    for (const bool allow : {false, true}) {
        CAPTURE(allow);
        auto config = any_ports();
        config.bind_address = "0.0.0.0";
        config.security.allow_insecure_non_loopback = allow;
        CountSource source;
        source.most = 1;
        app<events> application{config};
        application.register_plugin(source);
        if (allow) {
            CHECK_NOTHROW(application.run());
        } else {
            CHECK_THROWS_MATCHES(application.run(), configuration_error,
                                 Catch::Matchers::Predicate<configuration_error>([](const configuration_error& e) {
                                     const std::string_view what = e.what();
                                     return what.find("security.server") != std::string_view::npos &&
                                            what.find("allow_insecure_non_loopback") != std::string_view::npos;
                                 }));
        }
    }
}

TEST_CASE("bind addresses: IPv4, IPv6, host names, interfaces", "[boundary][bind]")
{
    using detail::resolve_bind_host;
    CHECK(resolve_bind_host("127.0.0.1").loopback);
    CHECK(resolve_bind_host("127.3.4.5").loopback);
    CHECK_FALSE(resolve_bind_host("0.0.0.0").loopback);
    CHECK_FALSE(resolve_bind_host("*").loopback);
    const auto v6 = resolve_bind_host("::1");
    CHECK(v6.ipv6);
    CHECK(v6.loopback);
    CHECK(v6.host == "[::1]");
    CHECK(resolve_bind_host("[::1]").host == "[::1]");
    CHECK_FALSE(resolve_bind_host("::").loopback);
    CHECK(resolve_bind_host("localhost").loopback);
    CHECK(resolve_bind_host("lo").loopback);
    CHECK_THROWS_AS(resolve_bind_host("no-such-host.invalid"), bind_error);
}

TEST_CASE("an application bound to ::1 or localhost serves its plugin there", "[boundary][bind][e2e]")
{
    for (const std::string address : {"::1", "localhost"}) {
        CAPTURE(address);
        NoteSource source;
        auto config = any_ports();
        config.bind_address = address;
        app<events> application{config};
        application.register_plugin(source, "source").register_external_plugin(External{"ext", 0, waiting_forever()});
        const bound_port port{application, "ext"};
        std::vector<std::string> notes;
        client_thread client{[&] {
            req_client req{port, std::nullopt, 10s, address == "::1" ? "::1" : "127.0.0.1"};
            while (notes.size() < 3) notes.push_back(req.one(protocol::next_msg));
            (void)req.one(protocol::quit);
        }};
        const auto report = application.run();
        client.join();
        CHECK(notes.size() == 3);
    }
}

// ---------------------------------------------------------------- logs

TEST_CASE("CURVE: refusal summaries name the endpoint they count", "[boundary][curve][log]")
{
    const auto server = curve_keypair::generate();
    const auto stranger = curve_keypair::generate();
    const curve_client keys{server.public_key.z85(), stranger.public_key.z85(), stranger.secret_key.z85()};
    constexpr int per_port = 3;
    std::vector<std::string> lines;
    {
        log_capture log{log_level::warn, "CURVE"};
        zmq::context_t context;
        std::optional<detail::zap_handler> zap;
        zap.emplace(context, detail::zap_handler::key_table{{"publish", {}}, {"subscribe", {}}});
        std::vector<zmq::socket_t> sockets;
        for (const char* domain : {"publish", "subscribe"}) {
            auto& listener = sockets.emplace_back(context, zmq::socket_type::router);
            listener.set(zmq::sockopt::linger, 0);
            detail::make_curve_server(listener, server.secret_key.z85(), domain);
            listener.bind("tcp://127.0.0.1:*");
            const std::string endpoint = listener.get(zmq::sockopt::last_endpoint);
            for (int i = 0; i < per_port; ++i) {
                auto& client = sockets.emplace_back(context, zmq::socket_type::dealer);
                client.set(zmq::sockopt::linger, 0);
                client.set(zmq::sockopt::reconnect_ivl, -1); // one handshake each: exact counts
                make_curve_client(client, keys);
                client.connect(endpoint);
            }
        }
        for (int waited = 0; zap->refused() < 2 * per_port && waited < 3000; ++waited) {
            std::this_thread::sleep_for(10ms); // bounded: 30 s
        }
        REQUIRE(zap->refused() == 2 * per_port);
        sockets.clear();
        zap.reset(); // logs what is still suppressed
        lines = log.lines();
    }
    std::map<std::string, std::string> last_summary;
    for (const auto& line : lines) {
        if (line.find(" more ") == std::string::npos) continue;
        CAPTURE(line);
        const bool publish = line.find("more connections to the publish port refused") != std::string::npos;
        const bool subscribe = line.find("more connections to the subscribe port refused") != std::string::npos;
        CHECK((publish != subscribe)); // each summary names its endpoint
        last_summary[publish ? "publish" : "subscribe"] = line;
    }
    REQUIRE(last_summary.size() == 2);
    CHECK_THAT(last_summary["publish"], Catch::Matchers::Contains(std::to_string(per_port) + " in all so far"));
    CHECK_THAT(last_summary["subscribe"], Catch::Matchers::Contains(std::to_string(per_port) + " in all so far"));
}

TEST_CASE("log_throttle: a flood costs a first line and a summary, the counter has the total", "[boundary][log]")
{
    std::vector<std::string> lines;
    std::mutex mutex;
    set_log_sink([&](log_level, std::string_view line) {
        const std::scoped_lock lock{mutex};
        lines.emplace_back(line);
    });
    detail::log_throttle throttle;
    for (int i = 0; i < 100'000; ++i) {
        throttle.note(log_level::warn, "plugin 'x'", "requests rejected",
                      [&] { return "rejected #" + std::to_string(i); });
    }
    throttle.flush(log_level::warn, "plugin 'x'", "requests rejected");
    set_log_sink({});
    CHECK(throttle.total() == 100'000);
    REQUIRE(lines.size() <= 3); // the first, at most one timed summary, the final one
    CHECK(lines.front() == "rejected #0");
    CHECK_THAT(lines.back(), Catch::Matchers::Contains("100000 in all"));
}
