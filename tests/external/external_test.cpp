// The engine side of external plugins, without Python: the command parser, and
// a few end-to-end runs with a cppzmq REQ client on a thread of the test.

#include "clients.hpp"
#include "support.hpp"

#include <event_engine/detail/wire/external_protocol.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <exception>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

using namespace event_engine;
using namespace test_events;
namespace protocol = event_engine::detail::protocol;
using protocol::kind;
using namespace std::chrono_literals;
using test_clients::bound_port;
using test_clients::client_thread;
using test_clients::req_client;

// ---------------------------------------------------------------- the parser

TEST_CASE("parse: the five commands", "[external][protocol]")
{
    CHECK(protocol::parse("plugin_command: next_msg").what == kind::next);
    CHECK(protocol::parse("plugin_command: quit").what == kind::quit);
    CHECK(protocol::parse("plugin_command: ping").what == kind::ping);

    const auto wait = protocol::parse("plugin_command: next_msg_wait 250");
    CHECK(wait.what == kind::next_wait);
    CHECK(wait.wait == 250ms);

    const auto batch = protocol::parse("plugin_command: next_msgs 10 500");
    CHECK(batch.what == kind::next_batch);
    CHECK(batch.most == 10);
    CHECK(batch.wait == 500ms);

    const auto batch_no_wait = protocol::parse("plugin_command: next_msgs 7");
    CHECK(batch_no_wait.what == kind::next_batch);
    CHECK(batch_no_wait.most == 7);
    CHECK(batch_no_wait.wait == 0ms);
}

TEST_CASE("parse: anything that does not start with the command prefix is an event to publish", "[external][protocol]")
{
    CHECK(protocol::parse("TypeCGoodbye from python").what == kind::publish);
    CHECK(protocol::parse("TypeA").what == kind::publish);
    CHECK(protocol::parse(" plugin_command: next_msg").what == kind::publish); // leading space: not a command
    CHECK(protocol::parse("Plugin_command: next_msg").what == kind::publish);  // case matters
    CHECK(protocol::parse(std::string_view{"\xff\xfe\x00z", 4}).what == kind::publish);
}

TEST_CASE("parse: trailing whitespace after a command is ignored", "[external][protocol]")
{
    for (const std::string_view suffix : {" ", "\n", "\r\n", "\t", "  \t\r\n"}) {
        CAPTURE(suffix);
        CHECK(protocol::parse(std::string{"plugin_command: next_msg"} + std::string{suffix}).what == kind::next);
        CHECK(protocol::parse(std::string{"plugin_command: quit"} + std::string{suffix}).what == kind::quit);
        CHECK(protocol::parse(std::string{"plugin_command: ping"} + std::string{suffix}).what == kind::ping);
        const auto wait = protocol::parse(std::string{"plugin_command: next_msg_wait 5"} + std::string{suffix});
        CHECK(wait.what == kind::next_wait);
        CHECK(wait.wait == 5ms);
        const auto batch = protocol::parse(std::string{"plugin_command: next_msgs 3 9"} + std::string{suffix});
        CHECK(batch.what == kind::next_batch);
        CHECK(batch.most == 3);
        CHECK(batch.wait == 9ms);
    }
    // Spaces between the arguments are fine too.
    const auto spaced = protocol::parse("plugin_command: next_msgs   4    8");
    CHECK(spaced.what == kind::next_batch);
    CHECK(spaced.most == 4);
    CHECK(spaced.wait == 8ms);
}

TEST_CASE("parse: next_msg_wait bounds", "[external][protocol]")
{
    CHECK(protocol::parse("plugin_command: next_msg_wait 0").wait == 0ms);
    const auto longest = protocol::parse("plugin_command: next_msg_wait 3600000");
    CHECK(longest.what == kind::next_wait);
    CHECK(longest.wait == protocol::longest_wait);

    for (const char* bad :
         {"plugin_command: next_msg_wait", "plugin_command: next_msg_wait ", "plugin_command: next_msg_wait abc",
          "plugin_command: next_msg_wait -1", "plugin_command: next_msg_wait +5",
          "plugin_command: next_msg_wait 3600001", "plugin_command: next_msg_wait 99999999999999999999999",
          "plugin_command: next_msg_wait 5 6", "plugin_command: next_msg_wait 5ms",
          "plugin_command: next_msg_wait 1.5"}) {
        CAPTURE(bad);
        const auto request = protocol::parse(bad);
        CHECK(request.what == kind::malformed);
        CHECK_THAT(std::string{request.problem}, Catch::Matchers::Contains("next_msg_wait"));
    }
}

TEST_CASE("parse: next_msgs bounds", "[external][protocol]")
{
    CHECK(protocol::parse("plugin_command: next_msgs 1").most == 1);
    const auto largest = protocol::parse("plugin_command: next_msgs 100000 3600000");
    CHECK(largest.what == kind::next_batch);
    CHECK(largest.most == protocol::largest_batch);
    CHECK(largest.wait == protocol::longest_wait);

    for (const char* bad :
         {"plugin_command: next_msgs", "plugin_command: next_msgs 0", "plugin_command: next_msgs 0 10",
          "plugin_command: next_msgs 100001", "plugin_command: next_msgs -3", "plugin_command: next_msgs abc",
          "plugin_command: next_msgs 5 -1", "plugin_command: next_msgs 5 3600001", "plugin_command: next_msgs 5 x",
          "plugin_command: next_msgs 5 10 15", "plugin_command: next_msgs 99999999999999999999999999"}) {
        CAPTURE(bad);
        const auto request = protocol::parse(bad);
        CHECK(request.what == kind::malformed);
        CHECK_THAT(std::string{request.problem}, Catch::Matchers::Contains("next_msgs"));
    }
}

TEST_CASE("parse: unknown commands", "[external][protocol]")
{
    for (const char* unknown :
         {"plugin_command: frobnicate", "plugin_command:", "plugin_command: ", "plugin_command:next_msg",
          "plugin_command: next_msgx", "plugin_command: quit now", "plugin_command: NEXT_MSG"}) {
        CAPTURE(unknown);
        const auto request = protocol::parse(unknown);
        CHECK(request.what == kind::unknown_command);
        CHECK_THAT(std::string{request.problem}, Catch::Matchers::Contains("next_msg"));
    }
}

// ---------------------------------------------------------------- end to end

namespace {

using External = external_plugin<subscribes<Note>, publishes<Count, Blob>>;

// Publishes a fixed number of Notes as soon as the application starts.
class NoteSource : public plugin<NoteSource, subscribes<>, publishes<Note>> {
public:
    int count = 3;
    void run()
    {
        for (int i = 0; i < count; ++i) publish(Note{"note " + std::to_string(i)});
    }
};

// Takes Counts until it has the expected number.
class CountSink : public plugin<CountSink, subscribes<Count>, publishes<>> {
public:
    int expected = 1;
    std::vector<std::uint64_t> values;
    void on(const Count& count)
    {
        values.push_back(count.value);
        if (static_cast<int>(values.size()) == expected) finish();
    }
};

external_options timing(std::chrono::milliseconds connect_timeout,
                        std::chrono::milliseconds disconnect_grace = std::chrono::milliseconds{3000})
{
    external_options options;
    options.connect_timeout = connect_timeout;
    options.disconnect_grace = disconnect_grace;
    return options;
}

std::string count_frame(std::uint64_t value)
{
    std::string frame{"Count"};
    frame.append(reinterpret_cast<const char*>(&value), sizeof value);
    return frame;
}

} // namespace

TEST_CASE("next_msg - publish - quit over a REQ socket", "[external][e2e]")
{
    NoteSource source;
    CountSink sink;
    app<events> application{any_ports()};
    application.register_plugin(source, "source")
        .register_plugin(sink, "sink")
        .register_external_plugin(External{"ext", 0, timing(20s)});
    const bound_port port{application, "ext"};

    std::vector<std::string> notes;
    std::string published, quit;
    client_thread client{[&] {
        req_client req{port};
        for (int i = 0; i < 3; ++i) notes.push_back(req.one(protocol::next_msg));
        published = req.one(count_frame(42));
        quit = req.one(protocol::quit);
    }};
    const auto report = application.run();
    client.join();

    CHECK(notes == std::vector<std::string>{"Notenote 0", "Notenote 1", "Notenote 2"});
    CHECK(published == protocol::published_reply);
    CHECK(quit == protocol::quit_reply);
    CHECK(sink.values == std::vector<std::uint64_t>{42});
    const auto* ext = report.find("ext");
    REQUIRE(ext != nullptr);
    CHECK(ext->outcome == plugin_outcome::finished);
    CHECK(ext->events_received == 3);
    CHECK(ext->events_published == 1);
    CHECK(ext->requests_rejected == 0);
    CHECK(ext->events_unread == 0);
    CHECK(ext->error.empty());
}

TEST_CASE("next_msg_wait, next_msgs and ping", "[external][e2e]")
{
    NoteSource source;
    source.count = 5;
    app<events> application{any_ports()};
    application.register_plugin(source, "source").register_external_plugin(External{"ext", 0, timing(20s)});
    const bound_port port{application, "ext"};

    std::vector<std::string> events, empty_batch;
    std::vector<std::size_t> batch_sizes;
    std::string pong, empty_wait;
    client_thread client{[&] {
        req_client req{port};
        pong = req.one(protocol::ping);
        events.push_back(req.one("plugin_command: next_msg_wait 10000"));
        while (events.size() < 5) {
            const auto batch = req.request("plugin_command: next_msgs 3 10000");
            batch_sizes.push_back(batch.size());
            events.insert(events.end(), batch.begin(), batch.end());
        }
        empty_wait = req.one("plugin_command: next_msg_wait 1");
        empty_batch = req.request("plugin_command: next_msgs 10 1");
        (void)req.one(protocol::quit);
    }};
    const auto report = application.run();
    client.join();

    CHECK(pong == protocol::pong_reply);
    // In order, each batch 1..3 events (a short one only if the rest was still on its way).
    CHECK(events == std::vector<std::string>{"Notenote 0", "Notenote 1", "Notenote 2", "Notenote 3", "Notenote 4"});
    for (const auto size : batch_sizes) {
        CHECK(size >= 1);
        CHECK(size <= 3);
    }
    CHECK(empty_wait.empty());
    CHECK(empty_batch == std::vector<std::string>{""});
    CHECK(report.find("ext")->events_received == 5);
}

TEST_CASE("an undeclared topic is rejected with an error reply - the plugin carries on", "[external][e2e]")
{
    CountSink sink;
    app<events> application{any_ports()};
    application.register_plugin(sink, "sink").register_external_plugin(External{"ext", 0, timing(20s)});
    const bound_port port{application, "ext"};

    std::string refused, bad_command, empty, published;
    client_thread client{[&] {
        req_client req{port};
        refused = req.one("Notenot mine to publish");
        bad_command = req.one("plugin_command: frobnicate");
        empty = req.one("");
        published = req.one(count_frame(7));
        (void)req.one(protocol::quit);
    }};
    const auto report = application.run();
    client.join();

    CHECK_THAT(refused, Catch::Matchers::StartsWith(std::string{protocol::error_prefix}) &&
                            Catch::Matchers::Contains("Count, Blob") &&
                            Catch::Matchers::Contains("nothing was published"));
    CHECK_THAT(bad_command, Catch::Matchers::StartsWith(std::string{protocol::error_prefix}) &&
                                Catch::Matchers::Contains("unknown command"));
    CHECK_THAT(empty, Catch::Matchers::StartsWith(std::string{protocol::error_prefix}) &&
                          Catch::Matchers::Contains("empty message"));
    CHECK(published == protocol::published_reply);
    CHECK(sink.values == std::vector<std::uint64_t>{7});
    const auto* ext = report.find("ext");
    CHECK(ext->outcome == plugin_outcome::finished);
    CHECK(ext->requests_rejected == 3);
    CHECK(ext->events_published == 1);
}

TEST_CASE("a client that vanishes without quit is reported as disconnected", "[external][e2e]")
{
    app<events> application{any_ports()};
    application.register_external_plugin(External{"vanishing", 0, timing(20s, 200ms)});
    const bound_port port{application, "vanishing"};

    std::string nothing_yet = "unset";
    client_thread client{[&] {
        req_client req{port};
        // A fetch: only the plugin's process fetches, so from now on this connection is it.
        nothing_yet = req.one("plugin_command: next_msg_wait 0");
        req.close(); // and its context with it: the TCP connection goes, no quit was sent
    }};
    const auto report = application.run(); // returns: a vanished process is not a failure
    client.join();

    CHECK(nothing_yet.empty());
    const auto* ext = report.find("vanishing");
    REQUIRE(ext != nullptr);
    CHECK(ext->outcome == plugin_outcome::disconnected);
    CHECK_THAT(ext->error,
               Catch::Matchers::Contains("'vanishing'") && Catch::Matchers::Contains("without sending quit"));
}

TEST_CASE("a port already in use fails run() with a bind_error naming the plugin and port", "[external][e2e]")
{
    zmq::context_t context;
    zmq::socket_t squatter{context, zmq::socket_type::rep};
    squatter.set(zmq::sockopt::linger, 0);
    squatter.bind("tcp://127.0.0.1:*");
    const std::string taken = squatter.get(zmq::sockopt::last_endpoint);
    const auto port = static_cast<std::uint16_t>(std::stoi(taken.substr(taken.rfind(':') + 1)));

    NoteSource source;
    app<events> application{any_ports()};
    application.register_plugin(source).register_external_plugin(External{"squeezed", port});
    try {
        application.run();
        FAIL("run() returned although the plugin's port is taken");
    } catch (const bind_error& failure) {
        CHECK_THAT(failure.what(),
                   Catch::Matchers::Contains("'squeezed'") && Catch::Matchers::Contains(":" + std::to_string(port)));
        CHECK_THAT(failure.endpoint(), Catch::Matchers::EndsWith(":" + std::to_string(port)));
    }
}

TEST_CASE("a process that never connects fails run() with an error naming the plugin", "[external][e2e]")
{
    app<events> application{any_ports()};
    application.register_external_plugin(External{"absent", 0, timing(150ms)});
    const bound_port port{application, "absent"};
    try {
        application.run();
        FAIL("run() returned although the plugin never connected");
    } catch (const plugin_error& failure) {
        CHECK(failure.plugin() == "absent");
        CHECK_THAT(failure.what(), Catch::Matchers::Contains("'absent'") &&
                                       Catch::Matchers::Contains("never connected") &&
                                       Catch::Matchers::Contains(std::to_string(port)));
        CHECK(failure.report().find("absent")->outcome == plugin_outcome::failed);
        // Said once: the prefix and the name are not repeated.
        CHECK(std::string_view{failure.what()} ==
              "event_engine: plugin 'absent' failed: its process never connected to tcp://127.0.0.1:" +
                  std::to_string(port) +
                  " within 150 ms (external_options::connect_timeout); is it running, on that port?");
    }
}

TEST_CASE("port 0: an external plugin's port is learned in on_bound, and its process connects to it", "[external][e2e]")
{
    NoteSource source;
    app<events> application{any_ports()};
    // clang-format off
    application.register_plugin(source).register_external_plugin(External{"late", 0, timing(60s)}); // fails, not hangs, if never served
    // clang-format on

    std::optional<client_thread> client;
    std::vector<std::string> notes;
    std::uint16_t bound_port = 0;
    application.on_bound([&](const bound_endpoints& bound) {
        bound_port = bound.port_of("late");
        REQUIRE(bound.external_plugins.size() == 1);
        CHECK(bound.external_plugins[0].endpoint == "tcp://127.0.0.1:" + std::to_string(bound_port));
        client.emplace([&notes, port = bound_port] { // as an application would pass it to the process it starts
            req_client req{port};
            for (int i = 0; i < 3; ++i) notes.push_back(req.one(protocol::next_msg));
            CHECK(req.one(protocol::quit) == protocol::quit_reply);
        });
    });
    const auto report = application.run();
    client->join();
    CHECK(bound_port != 0);
    CHECK(notes == std::vector<std::string>{"Notenote 0", "Notenote 1", "Notenote 2"});
    CHECK(report.find("late")->outcome == plugin_outcome::finished);
    CHECK(report.find("late")->events_received == 3);
}

TEST_CASE("by default a process is waited for as long as it takes, with warnings naming it and its port",
          "[external][e2e]")
{
    const log_capture warnings{log_level::warn, "'sleepy'"};
    CHECK(external_options{}.connect_timeout == 0ms); // the original's behaviour: no deadline
    external_options options;
    options.connect_warning_interval = 20ms;
    app<events> application{any_ports()};
    application.register_external_plugin(External{"sleepy", 0, options});
    std::optional<client_thread> client;
    application.on_bound([&](const bound_endpoints& bound) {
        client.emplace([&, port = bound.port_of("sleepy")] {
            warnings.wait_for(2); // connect only after two warnings: still waited for, not failed
            req_client req{port};
            CHECK(req.one(protocol::quit) == protocol::quit_reply);
        });
    });
    const auto report = application.run();
    client->join();
    CHECK(report.find("sleepy")->outcome == plugin_outcome::finished);
    const auto lines = warnings.lines();
    REQUIRE(lines.size() >= 2);
    CHECK_THAT(lines[0],
               Catch::Matchers::StartsWith("external plugin 'sleepy' has not connected to tcp://127.0.0.1:") &&
                   Catch::Matchers::EndsWith("; still waiting as long as it takes"));
}

TEST_CASE("connect warnings: with a connect_timeout they say it; with interval 0 there are none", "[external][e2e]")
{
    const log_capture warnings{log_level::warn, "has not connected"};
    external_options warned = timing(60s);
    warned.connect_warning_interval = 20ms;
    external_options silent = timing(60s);
    silent.connect_warning_interval = 0ms;
    app<events> application{any_ports()};
    application.register_external_plugin(External{"warned", 0, warned})
        .register_external_plugin(External{"silent", 0, silent});
    std::optional<client_thread> client;
    application.on_bound([&](const bound_endpoints& bound) {
        client.emplace([&, warned_port = bound.port_of("warned"), silent_port = bound.port_of("silent")] {
            warnings.wait_for(2);
            req_client first{warned_port};
            req_client second{silent_port};
            CHECK(first.one(protocol::quit) == protocol::quit_reply);
            CHECK(second.one(protocol::quit) == protocol::quit_reply);
        });
    });
    application.run();
    client->join();
    const auto lines = warnings.lines();
    REQUIRE(lines.size() >= 2);
    for (const auto& line : lines) {
        CHECK_THAT(line, Catch::Matchers::StartsWith("external plugin 'warned' has not connected") &&
                             Catch::Matchers::EndsWith("; still waiting, up to external_options::connect_timeout "
                                                       "(60000 ms)"));
    }
}

TEST_CASE("trace logs each request of an external plugin's process, printable", "[external][e2e]")
{
    const log_capture trace{log_level::trace, "external plugin 'traced': request '"};
    app<events> application{any_ports()};
    application.register_external_plugin(External{"traced", 0, timing(60s)});
    const bound_port port{application, "traced"};
    client_thread client{[&] {
        req_client req{port};
        CHECK(req.one(std::string{"Note\x01\xff", 6}).rfind("event-engine: error", 0) == 0); // not its to publish
        CHECK(req.one(protocol::quit) == protocol::quit_reply);
    }};
    application.run();
    client.join();
    const auto lines = trace.lines();
    REQUIRE(lines.size() == 2);
    CHECK_THAT(lines[0], Catch::Matchers::StartsWith("external plugin 'traced': request 'Note\\x01\\xff' (6 bytes, "
                                                     "connection fd "));
    CHECK_THAT(lines[1], Catch::Matchers::StartsWith("external plugin 'traced': request 'plugin_command: quit' (20 "
                                                     "bytes, connection fd "));
}
