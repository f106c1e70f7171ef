// The application describes itself (docs/protocol.md, "Manifest"): the manifest's
// exact content, its file, the wire (plugin ports and the introspection endpoint, with
// and without CURVE), hostile peers on the introspection endpoint, the run-time log of
// dangling events and the compile-time whole-graph check.

#include "external/clients.hpp"
#include "support.hpp"

#include <event_engine/detail/wire/external_protocol.hpp>
#include <event_engine/graph_check.hpp>
#include <event_engine/manifest.hpp>
#include <event_engine/reflective_codec.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace event_engine;
using namespace test_events;
using namespace std::chrono_literals;
using test_clients::client_thread;
using test_clients::curve_client;
using test_clients::no_reply;
using test_clients::req_client;
using json = nlohmann::ordered_json;
namespace protocol = event_engine::detail::protocol;

namespace {

struct Position { // a reflective event: a plain aggregate, members named by position
    static constexpr std::string_view name = "Position";
    using codec = reflective_codec;
    std::int32_t x = 0;
    std::optional<double> z;
};

using manifest_events = event_list<Note, Count, Reading, Position>;
using External = external_plugin<subscribes<Note, Reading>, publishes<Count>>;

class NoteSource : public plugin<NoteSource, subscribes<>, publishes<Note>> {
public:
    void run() { publish(Note{"hello"}); }
};

class PositionSink : public plugin<PositionSink, subscribes<Position>, publishes<>> {
public:
    void on(const Position&) {}
};

// Runs until the application stops.
class Idle : public plugin<Idle, subscribes<>, publishes<Note>> {
public:
    void run()
    {
        while (!stop_requested()) std::this_thread::sleep_for(5ms);
    }
};

std::string read_file(const std::filesystem::path& path)
{
    std::ifstream file{path};
    std::stringstream text;
    text << file.rdbuf();
    return text.str();
}

std::filesystem::path scratch(const std::string& name)
{
    return std::filesystem::temp_directory_path() / ("ee-manifest-" + std::to_string(::getpid()) + "-" + name);
}

curve_client keys_of(const curve_keypair& server, const curve_keypair& client)
{
    return {server.public_key.z85(), client.public_key.z85(), client.secret_key.z85()};
}

// Stops the application when a client thread ends, even by an exception, so that a
// failing client fails the test instead of hanging it.
template <class App>
struct stop_when_done {
    App& application;
    ~stop_when_done() { application.stop(); }
};
template <class App>
stop_when_done(App&) -> stop_when_done<App>; // clang 14 has no aggregate deduction

// A port the application binds (the introspection port, or an external plugin's),
// learned when it has bound it; reading it waits until then.
class learned_port {
public:
    template <class App>
    explicit learned_port(App& application, std::string plugin = {})
    {
        future_ = promise_.get_future().share();
        application.on_bound([this, plugin](const bound_endpoints& bound) {
            promise_.set_value(plugin.empty() ? bound.introspection_port : bound.port_of(plugin));
        });
    }
    [[nodiscard]] std::uint16_t get() const
    {
        if (future_.wait_for(60s) != std::future_status::ready) throw std::runtime_error{"not bound within 60 s"};
        return future_.get();
    }
    operator std::uint16_t() const { return get(); } // NOLINT

private:
    std::promise<std::uint16_t> promise_;
    std::shared_future<std::uint16_t> future_;
};

// Removes the program-wide writer that including manifest.hpp installs (deprecated) while it
// lives, so that only an application's own writer (enable_manifest(app)) is there.
class without_program_wide_writer {
public:
    without_program_wide_writer() { detail::installed_manifest_writer() = nullptr; }
    ~without_program_wide_writer() { detail::installed_manifest_writer() = installed_; }
    without_program_wide_writer(const without_program_wide_writer&) = delete;
    without_program_wide_writer& operator=(const without_program_wide_writer&) = delete;

private:
    detail::manifest_writer installed_ = detail::installed_manifest_writer();
};

// Every log line at warn or above while it lives.
class captured_warnings {
public:
    captured_warnings()
    {
        if (level_ > log_level::warn) set_log_level(log_level::warn);
        set_log_sink([this](log_level level, std::string_view line) {
            if (level < log_level::warn) return;
            const std::scoped_lock lock{mutex_};
            lines_.emplace_back(line);
        });
    }
    ~captured_warnings()
    {
        set_log_sink({});
        set_log_level(level_);
    }
    captured_warnings(const captured_warnings&) = delete;
    captured_warnings& operator=(const captured_warnings&) = delete;

    [[nodiscard]] std::size_t count(std::string_view text) const
    {
        const std::scoped_lock lock{mutex_};
        return static_cast<std::size_t>(std::count_if(lines_.begin(), lines_.end(), [&](const std::string& line) {
            return line.find(text) != std::string::npos;
        }));
    }

private:
    log_level level_ = current_log_level();
    mutable std::mutex mutex_;
    std::vector<std::string> lines_;
};

} // namespace

// ---------------------------------------------------------------- content

TEST_CASE("manifest: the exact document of a small application", "[manifest]")
{
    const without_program_wide_writer explicit_only;
    app<manifest_events> application{any_ports()};
    enable_manifest(application);
    application.register_plugin(NoteSource{}, "source")
        .register_plugin(PositionSink{}, "sink")
        .register_external_plugin(External{"ext", 6123});
    const json expected = json::parse(R"({
      "manifest_version": 1,
      "events": [
        {"name": "Note", "topic": {"hex": "4e6f7465", "text": "Note"}, "codec": "text"},
        {"name": "Count", "topic": {"hex": "436f756e74", "text": "Count"}, "codec": "trivial", "size": 8},
        {"name": "Reading", "topic": {"hex": "0100", "text": "\\x01\\x00"}, "codec": "trivial", "size": 16},
        {"name": "Position", "topic": {"hex": "506f736974696f6e", "text": "Position"}, "codec": "reflective",
         "layout": {"kind": "struct", "name": "Position", "members": [
            {"name": "0", "type": {"kind": "i32"}},
            {"name": "1", "type": {"kind": "optional", "element": [{"kind": "f64"}]}}]}}
      ],
      "plugins": [
        {"name": "source", "kind": "internal", "subscribes": [], "publishes": ["Note"]},
        {"name": "sink", "kind": "internal", "subscribes": ["Position"], "publishes": []},
        {"name": "ext", "kind": "external", "subscribes": ["Note", "Reading"], "publishes": ["Count"],
         "port": 6123, "endpoint": null, "curve": false}
      ],
      "endpoints": {
        "bind_address": "127.0.0.1",
        "publish": {"endpoint": null, "port": 0, "curve": false, "confirms": true},
        "subscribe": {"endpoint": null, "port": 0, "curve": false},
        "introspection": null
      },
      "curve": {"required": false, "server_public_key": null}
    })");
    CHECK(json::parse(application.manifest()) == expected);
    CHECK(manifest_json(application) == expected);
    CHECK(application.manifest().back() == '\n');
}

TEST_CASE("manifest: topics are given as hex and as escaped printable text", "[manifest]")
{
    CHECK(detail::topic_hex(std::string_view{"\x01\x00\xff", 3}) == "0100ff");
    CHECK(detail::topic_text(std::string_view{"A\\b\x01\x00\x7f\xff", 7}) == "A\\\\b\\x01\\x00\\x7f\\xff");
    CHECK(detail::topic_text("TypeA") == "TypeA");
}

TEST_CASE("manifest: without enable_manifest(app) and without a program-wide writer, asking for it is a "
          "configuration error naming enable_manifest",
          "[manifest]")
{
    const without_program_wide_writer none;
    auto config = any_ports();
    config.manifest_path = scratch("never");
    app<manifest_events> application{config};
    application.register_plugin(NoteSource{});
    CHECK_THROWS_WITH(application.manifest(), Catch::Matchers::Contains("event_engine::enable_manifest(app)"));
    CHECK_THROWS_WITH(application.run(), Catch::Matchers::Contains("manifest_path") &&
                                             Catch::Matchers::Contains("event_engine::enable_manifest(app)"));
    CHECK_FALSE(std::filesystem::exists(config.manifest_path));

    auto introspected = any_ports();
    introspected.introspection_port = 0;
    app<manifest_events> other{introspected};
    other.register_plugin(NoteSource{});
    CHECK_THROWS_WITH(other.run(), Catch::Matchers::Contains("introspection_port") &&
                                       Catch::Matchers::Contains("event_engine::enable_manifest(app)"));
}

TEST_CASE("manifest: the writer is the application's, another application of the program has none", "[manifest]")
{
    const without_program_wide_writer explicit_only;
    app<manifest_events> enabled{any_ports()};
    app<manifest_events> other{any_ports()};
    enable_manifest(enabled);
    enable_manifest(enabled); // again: changes nothing
    CHECK(json::parse(enabled.manifest())["manifest_version"] == 1);
    CHECK_THROWS_AS(other.manifest(), configuration_error);
}

TEST_CASE("manifest, deprecated: without enable_manifest(app), the writer including manifest.hpp installed still "
          "serves, with one warning naming enable_manifest",
          "[manifest][e2e]")
{
    REQUIRE(detail::installed_manifest_writer() != nullptr); // this file includes manifest.hpp
    const auto path = scratch("fallback.json");
    std::filesystem::remove(path);
    auto config = any_ports();
    config.manifest_path = path;
    config.introspection_port = 0;
    app<manifest_events> application{config};
    application.register_plugin(Idle{}, "idle");
    const learned_port port{application};
    const captured_warnings warnings;
    std::string manifest;
    client_thread client{[&] {
        const stop_when_done guard{application};
        req_client req{port};
        manifest = req.one(protocol::manifest);
    }};
    (void)application.run();
    client.join();
    CHECK(json::parse(manifest)["endpoints"]["introspection"]["port"] == port.get());
    CHECK(read_file(path) == manifest);
    CHECK(application.manifest() == manifest); // no second warning
    CHECK(warnings.count("event_engine::enable_manifest(app)") == 1);
    CHECK(warnings.count("deprecated") == 1);
    std::filesystem::remove(path);

    // An external plugin's port answers plugin_command: manifest: the same fallback, the same warning.
    app<manifest_events> with_external{any_ports()};
    with_external.register_external_plugin(External{"ext", 0});
    with_external.stop(); // run() stops right after start-up
    (void)with_external.run();
    CHECK(warnings.count("event_engine::enable_manifest(app)") == 2);
}

TEST_CASE("manifest: enable_manifest(app) logs no deprecation warning, nor does an application that uses no manifest "
          "logs none either",
          "[manifest][e2e]")
{
    const captured_warnings warnings;
    const auto path = scratch("explicit.json");
    auto config = any_ports();
    config.manifest_path = path;
    app<manifest_events> enabled{config};
    enable_manifest(enabled);
    enabled.register_plugin(NoteSource{});
    (void)enabled.run();
    CHECK(json::parse(read_file(path))["manifest_version"] == 1);
    app<manifest_events> plain{any_ports()}; // no manifest_path, no introspection, no external plugin
    plain.register_plugin(NoteSource{});
    (void)plain.run();
    CHECK(warnings.count("enable_manifest") == 0);
    std::filesystem::remove(path);
}

// ---------------------------------------------------------------- the file

TEST_CASE("manifest: run() writes it to manifest_path once bound, before any plugin starts", "[manifest][e2e]")
{
    const auto path = scratch("written.json");
    std::filesystem::remove(path);
    auto config = any_ports();
    config.manifest_path = path;
    const without_program_wide_writer explicit_only;
    app<manifest_events> application{config};
    enable_manifest(application);
    application.register_plugin(NoteSource{}, "source").register_plugin(PositionSink{}, "sink");
    std::string at_bound;
    std::optional<bound_endpoints> bound;
    application.on_bound([&](const bound_endpoints& endpoints) {
        at_bound = read_file(path);
        bound = endpoints;
        application.stop(); // the sink would wait for Positions forever
    });
    (void)application.run();
    REQUIRE(bound);
    const json manifest = json::parse(at_bound);
    CHECK(manifest["endpoints"]["publish"]["endpoint"] == bound->publish_endpoint);
    CHECK(manifest["endpoints"]["publish"]["port"] == bound->publish_port);
    CHECK(manifest["endpoints"]["subscribe"]["port"] == bound->subscribe_port);
    CHECK(manifest["endpoints"]["subscribe"]["port"] != 0);
    CHECK(at_bound == application.manifest()); // after run(), the same document
    CHECK_FALSE(std::filesystem::exists(path.string() + ".partial"));
    std::filesystem::remove(path);
}

TEST_CASE("manifest: a path that cannot be written fails run() before any plugin starts", "[manifest][e2e]")
{
    auto config = any_ports();
    config.manifest_path = scratch("no-such-directory") / "manifest.json";
    app<manifest_events> application{config};
    enable_manifest(application);
    NoteSource source;
    application.register_plugin(source);
    bool bound = false;
    application.on_bound([&](const bound_endpoints&) { bound = true; });
    CHECK_THROWS_AS(application.run(), configuration_error);
    CHECK_FALSE(bound);
}

// ---------------------------------------------------------------- the wire

TEST_CASE("manifest over the wire: the introspection endpoint of an application without external plugins",
          "[manifest][e2e]")
{
    auto config = any_ports();
    config.introspection_port = 0;
    const without_program_wide_writer explicit_only;
    app<manifest_events> application{config};
    enable_manifest(application);
    application.register_plugin(Idle{}, "idle");
    const learned_port port{application};
    std::string manifest, pong, refused;
    client_thread client{[&] {
        const stop_when_done guard{application};
        req_client req{port};
        manifest = req.one(protocol::manifest);
        pong = req.one(protocol::ping);
        refused = req.one("plugin_command: next_msg");
        application.stop();
    }};
    (void)application.run();
    client.join();
    const json parsed = json::parse(manifest);
    CHECK(parsed["manifest_version"] == 1);
    CHECK(parsed["plugins"].size() == 1);
    CHECK(parsed["endpoints"]["introspection"]["port"] == port.get());
    CHECK(parsed["endpoints"]["introspection"]["endpoint"] == "tcp://127.0.0.1:" + std::to_string(port.get()));
    CHECK(manifest == application.manifest());
    CHECK(pong == protocol::pong_reply);
    CHECK_THAT(refused, Catch::Matchers::StartsWith(std::string{protocol::error_prefix}) &&
                            Catch::Matchers::Contains("plugin_command: manifest"));
}

TEST_CASE("manifest over the wire: plugin_command: manifest on an external plugin's port", "[manifest][e2e]")
{
    auto options = external_options{};
    options.connect_timeout = 20s;
    options.disconnect_grace = 200ms;
    const without_program_wide_writer explicit_only;
    app<manifest_events> application{any_ports()};
    enable_manifest(application);
    application.register_plugin(NoteSource{}, "source").register_external_plugin(External{"ext", 0, options});
    const learned_port port{application, "ext"};
    std::string manifest, note;
    client_thread client{[&] {
        {
            req_client tool{port}; // a tool, not the plugin: it must not count as the plugin's process
            manifest = tool.one(protocol::manifest);
        }
        std::this_thread::sleep_for(600ms); // past the disconnect grace
        req_client plugin{port};
        note = plugin.one(protocol::next_msg);
        (void)plugin.one(protocol::quit);
    }};
    const auto report = application.run();
    client.join();
    const json parsed = json::parse(manifest);
    CHECK(parsed["plugins"][1]["name"] == "ext");
    CHECK(parsed["plugins"][1]["port"] == port.get());
    CHECK(note == "Notehello");
    CHECK(report.find("ext")->outcome == plugin_outcome::finished);
    CHECK(report.find("ext")->requests_rejected == 0);
}

TEST_CASE("manifest over the wire with CURVE: keys the application lists read it, others are refused",
          "[manifest][e2e][curve]")
{
    const auto server = curve_keypair::generate();
    const auto subscriber = curve_keypair::generate();
    const auto stranger = curve_keypair::generate();
    auto config = any_ports();
    config.introspection_port = 0;
    config.security.server = server;
    config.security.subscribers = {subscriber.public_key};
    app<manifest_events> application{config};
    enable_manifest(application);
    application.register_plugin(Idle{}, "idle");
    const learned_port port{application};
    std::string manifest;
    bool stranger_answered = true, plain_answered = true;
    client_thread client{[&] {
        const stop_when_done guard{application};
        const auto answered = [&](const std::optional<curve_client>& keys) {
            req_client req{port, keys, 1500ms};
            try {
                (void)req.one(protocol::manifest);
                return true;
            } catch (const no_reply&) {
                return false;
            }
        };
        stranger_answered = answered(keys_of(server, stranger));
        plain_answered = answered(std::nullopt);
        req_client reader{port, keys_of(server, subscriber)};
        manifest = reader.one(protocol::manifest);
        application.stop();
    }};
    const auto report = application.run();
    client.join();
    CHECK_FALSE(stranger_answered);
    CHECK_FALSE(plain_answered);
    const json parsed = json::parse(manifest);
    CHECK(parsed["curve"]["required"] == true);
    CHECK(parsed["curve"]["server_public_key"] == server.public_key.z85());
    CHECK(parsed["endpoints"]["introspection"]["curve"] == true);
    CHECK(parsed["endpoints"]["publish"]["curve"] == true);
    CHECK(report.connections_refused >= 1);
}

// ---------------------------------------------------------------- hostile peers

TEST_CASE("introspection endpoint: garbage, huge frames and a peer that never reads stall nothing",
          "[manifest][e2e][hostile]")
{
    auto config = any_ports();
    config.introspection_port = 0;
    app<manifest_events> application{config};
    enable_manifest(application);
    application.register_plugin(Idle{}, "idle");
    const learned_port port{application};
    std::string after_flood, after_garbage;
    std::size_t flood_sent = 0;
    client_thread client{[&] {
        const stop_when_done guard{application};
        zmq::context_t context;
        const std::string endpoint = "tcp://127.0.0.1:" + std::to_string(port.get());
        // A DEALER that asks for the manifest as fast as it can and never reads a reply.
        zmq::socket_t flooder{context, zmq::socket_type::dealer};
        flooder.set(zmq::sockopt::linger, 0);
        flooder.set(zmq::sockopt::rcvhwm, 1);
        flooder.set(zmq::sockopt::rcvbuf, 4096);
        flooder.connect(endpoint);
        const auto deadline = std::chrono::steady_clock::now() + 3s;
        while (std::chrono::steady_clock::now() < deadline && flood_sent < 200'000) {
            if (!flooder.send(zmq::message_t{}, zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
                std::this_thread::sleep_for(1ms);
                continue;
            }
            (void)flooder.send(zmq::buffer(protocol::manifest), zmq::send_flags::none);
            ++flood_sent;
        }
        {
            req_client req{port, std::nullopt, 10s};
            after_flood = req.one(protocol::manifest);
        }
        // Garbage: several frames, binary bytes, an empty request, a frame far past the limit.
        zmq::socket_t garbage{context, zmq::socket_type::dealer};
        garbage.set(zmq::sockopt::linger, 0);
        garbage.connect(endpoint);
        (void)garbage.send(zmq::str_buffer("a"), zmq::send_flags::sndmore);
        (void)garbage.send(zmq::str_buffer("b"), zmq::send_flags::sndmore);
        (void)garbage.send(zmq::str_buffer("c"), zmq::send_flags::none);
        (void)garbage.send(zmq::message_t{}, zmq::send_flags::none);
        const std::string binary{"\x00\xff\x01plugin_command: manifest", 27};
        (void)garbage.send(zmq::buffer(binary), zmq::send_flags::none);
        (void)garbage.send(zmq::message_t{std::string(1 << 20, 'x')}, zmq::send_flags::none);
        zmq::socket_t raw{context, zmq::socket_type::stream}; // not ZeroMQ at all
        raw.set(zmq::sockopt::linger, 0);
        raw.connect(endpoint);
        std::this_thread::sleep_for(200ms);
        {
            req_client req{port, std::nullopt, 10s};
            after_garbage = req.one(protocol::manifest);
        }
        flooder.close();
        application.stop();
    }};
    (void)application.run();
    client.join();
    CHECK(flood_sent > 10);
    CHECK(json::parse(after_flood)["manifest_version"] == 1);
    CHECK(after_garbage == after_flood);
}

// ---------------------------------------------------------------- dangling events

TEST_CASE("dangling events: published by none or subscribed by none, logged at start-up", "[manifest][graph]")
{
    const std::vector<std::string_view> events{"Note", "Count", "Reading", "Position"};
    std::vector<plugin_description> plugins{
        {"source", false, {}, {"Note", "Count"}, 0, {}},
        {"sink", false, {"Note", "Position"}, {}, 0, {}},
    };
    const auto holes = detail::find_graph_holes(events, plugins);
    CHECK(holes.unsubscribed == std::vector<std::string_view>{"Count"});
    CHECK(holes.unpublished == std::vector<std::string_view>{"Position"});

    std::mutex lines_mutex;
    std::vector<std::string> lines;
    set_log_level(log_level::info);
    set_log_sink([&](log_level, std::string_view line) {
        const std::scoped_lock lock{lines_mutex};
        lines.emplace_back(line);
    });
    app<manifest_events> application{any_ports()};
    application.register_plugin(NoteSource{}, "source").register_plugin(PositionSink{}, "sink");
    application.on_bound([&](const bound_endpoints&) { application.stop(); });
    (void)application.run();
    set_log_sink({});
    set_log_level(log_level::warn);
    const auto logged = [&](std::string_view text) {
        return std::any_of(lines.begin(), lines.end(),
                           [&](const std::string& line) { return line.find(text) != std::string::npos; });
    };
    CHECK(logged("events published by a plugin but subscribed by none: Note"));
    CHECK(logged("events subscribed by a plugin but published by none: Position"));
}

// ---------------------------------------------------------------- the compile-time check

namespace {
class Relay : public plugin<Relay, subscribes<Note>, publishes<Position>> {
public:
    void on(const Note&) {}
};
using complete = plugins_list<NoteSource, Relay, PositionSink>;
using missing_publisher = plugins_list<Relay, PositionSink>;            // nobody publishes Note
using unread = plugins_list<NoteSource, Relay, PositionSink, External>; // Count: published, never subscribed
using ExternalReader = external_plugin<subscribes<Count, Reading>, publishes<Reading>>;
} // namespace

static_assert(graph_is_complete_v<manifest_events, complete>);
static_assert(every_published_event_is_subscribed_v<manifest_events, complete>);
static_assert(!graph_is_complete_v<manifest_events, missing_publisher>);
static_assert(!graph_is_complete_v<manifest_events, unread>); // External subscribes to Reading, nobody publishes it
static_assert(
    graph_is_complete_v<manifest_events, plugins_list<NoteSource, Relay, PositionSink, External, ExternalReader>>);
static_assert(every_published_event_is_subscribed_v<
              manifest_events, plugins_list<NoteSource, Relay, PositionSink, External, ExternalReader>>);
static_assert(graph_is_complete_v<manifest_events, plugins_list<>>);

TEST_CASE("check_graph compiles for a complete graph", "[manifest][graph]")
{
    check_graph<manifest_events, complete, graph_rules::strict>();
    check_graph<manifest_events, plugins_list<NoteSource, Relay, PositionSink, External, ExternalReader>>();
    SUCCEED();
}
