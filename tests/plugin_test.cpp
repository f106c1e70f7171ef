#include "support.hpp"

#include <catch2/catch.hpp>

#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

using namespace event_engine;
using namespace test_events;

namespace {

zmq::message_t frame_of(std::string_view bytes) { return zmq::message_t{bytes.data(), bytes.size()}; }

template <class E>
zmq::message_t encoded(const E& event)
{
    byte_buffer buffer;
    buffer.append(std::as_bytes(std::span{topic_of<E>.data(), topic_of<E>.size()}));
    payload_writer writer{buffer};
    codec<E>::encode(event, writer);
    return detail::take_frame(buffer);
}

// The plugin runtime's sockets connect to endpoints nobody binds here: ZeroMQ allows that,
// and dispatch only needs the runtime for its counters.
struct runtime_fixture {
    zmq::context_t context;
    detail::stop_flag stop;
    std::vector<std::string_view> topics{topic_of<Note>, topic_of<Count>, topic_of<Reading>};
    detail::plugin_runtime runtime{context, "fixture", 0, topics, detail::runtime_settings{}, stop};
};

} // namespace

TEST_CASE("static dispatch decodes each frame as its topic's event type", "[plugin][dispatch]")
{
    runtime_fixture fixture;
    std::vector<std::string> seen;
    const auto record = [&](const auto& event) {
        using E = std::remove_cvref_t<decltype(event)>;
        if constexpr (std::is_same_v<E, Note>) seen.push_back("Note:" + event.text);
        else if constexpr (std::is_same_v<E, Count>) seen.push_back("Count:" + std::to_string(event.value));
        else seen.push_back("Reading:" + std::to_string(event.sensor));
    };

    detail::dispatch<Note, Count, Reading>(fixture.runtime, encoded(Note{"hi"}), record);
    detail::dispatch<Note, Count, Reading>(fixture.runtime, encoded(Count{42}), record);
    detail::dispatch<Note, Count, Reading>(fixture.runtime, encoded(Reading{1.0, 9}), record);

    CHECK(seen == std::vector<std::string>{"Note:hi", "Count:42", "Reading:9"});
    const auto report = fixture.runtime.final_report();
    CHECK(report.events_received == 3);
    CHECK(report.decode_failures == 0);
}

namespace {

// Refuses every payload but "ok", by throwing. Its event owns memory (a std::string),
// so g++ builds decode it out of line, once per event type; Count (trivial_codec) is decoded
// inline in the dispatch, by try_decode(), without exceptions (detail/dispatch/dispatch.hpp):
// the test below takes both paths, and both report a refusal with the codec's reason.
struct picky_codec {
    template <class E>
    static void encode(const E& event, payload_writer& out)
    {
        out.append(std::as_bytes(std::span{event.text.data(), event.text.size()}));
    }
    template <class E>
    static E decode(std::span<const std::byte> payload)
    {
        const std::string_view text{reinterpret_cast<const char*>(payload.data()), payload.size()};
        if (text != "ok") throw decode_error{"picky_codec accepts only \"ok\""};
        return E{std::string{text}};
    }
};

struct Picky {
    static constexpr std::string_view name = "Picky";
    using codec = picky_codec;
    std::string text;
};

} // namespace

TEST_CASE("decode failures are counted and skipped on both decode paths (inline and out of line)", "[plugin][dispatch]")
{
    STATIC_REQUIRE(detail::decode_inline_v<Picky> == !detail::smaller_decode_code); // out of line with g++
    STATIC_REQUIRE_FALSE(detail::decodes_without_throwing<Picky>);
    STATIC_REQUIRE(detail::decode_inline_v<Count>);
    STATIC_REQUIRE(detail::decodes_without_throwing<Count>);
    const log_capture errors{log_level::error};
    std::vector<std::string> seen;
    const auto record = [&](const auto& event) {
        using E = std::remove_cvref_t<decltype(event)>;
        if constexpr (std::is_same_v<E, Picky>) seen.push_back("Picky:" + event.text);
        else seen.push_back("Count:" + std::to_string(event.value));
    };
    // Two plugins' runtimes: each logs only its first undecodable event in full.
    runtime_fixture first;
    // clang-format off
    detail::dispatch<Picky, Count>(first.runtime, frame_of("Picky" "no"), record);
    detail::dispatch<Picky, Count>(first.runtime, frame_of("Picky" "ok"), record);
    // clang-format on
    detail::dispatch<Picky, Count>(first.runtime, frame_of("Picky"), record);
    runtime_fixture second;
    // clang-format off
    detail::dispatch<Picky, Count>(second.runtime, frame_of("Count" "abc"), record);
    // clang-format on
    detail::dispatch<Picky, Count>(second.runtime, encoded(Count{7}), record);

    CHECK(seen == std::vector<std::string>{"Picky:ok", "Count:7"});
    const auto first_report = first.runtime.final_report();
    CHECK(first_report.events_received == 1);
    CHECK(first_report.decode_failures == 2);
    const auto second_report = second.runtime.final_report();
    CHECK(second_report.events_received == 1);
    CHECK(second_report.decode_failures == 1);
    CHECK(errors.count("cannot decode a Picky event (2 payload bytes)") > 0);
    CHECK(errors.count("picky_codec accepts only \"ok\"") > 0);
    CHECK(errors.count("cannot decode a Count event (3 payload bytes)") > 0);
    CHECK(errors.count("trivial_codec expected 8 payload bytes, got 3") > 0);
}

TEST_CASE("a payload that fails to decode is counted and skipped - not thrown", "[plugin][dispatch]")
{
    runtime_fixture fixture;
    int delivered = 0;
    const auto count = [&](const auto&) { ++delivered; };

    // clang-format off
    detail::dispatch<Note, Count, Reading>(fixture.runtime, frame_of("Count" "abc"), count); // 3 bytes, not 8
    // clang-format on
    detail::dispatch<Note, Count, Reading>(fixture.runtime, frame_of("Unknown"), count);
    detail::dispatch<Note, Count, Reading>(fixture.runtime, encoded(Count{1}), count);

    CHECK(delivered == 1);
    const auto report = fixture.runtime.final_report();
    CHECK(report.decode_failures == 2);
    CHECK(report.events_received == 1);
}

namespace {

// Loop style: pulls every kind of event it subscribes to through receive().
class Collector : public plugin<Collector, subscribes<Note, Count, Reading>, publishes<>> {
public:
    std::vector<std::string> seen;
    void run()
    {
        while (seen.size() < 3) {
            auto event = receive();
            if (!event) return;
            std::visit(
                [this](const auto& e) {
                    using E = std::remove_cvref_t<decltype(e)>;
                    seen.emplace_back(name_of<E>);
                },
                *event);
        }
    }
};

// Publishes one of each, then ends.
class Emitter : public plugin<Emitter, subscribes<>, publishes<Note, Count, Reading>> {
public:
    void run()
    {
        publish(Note{"n"});
        publish(Count{2});
        publish(Reading{3.0, 4});
    }
};

// Handler style with overloaded handlers and start/stop hooks.
class Overloaded : public plugin<Overloaded, subscribes<Note, Count>, publishes<Reading>> {
public:
    bool started = false;
    bool stopped = false;
    std::string log;
    void on_start() { started = true; }
    void on(const Note& note) { log += "N" + note.text; }
    void on(const Count& count)
    {
        log += 'C'; // not "C" + to_string(): g++ 12 -O3 warns -Wrestrict on that, wrongly (GCC bug 105329)
        log += std::to_string(count.value);
        publish(Reading{0.5, static_cast<std::uint32_t>(count.value)});
        finish();
    }
    void on_stop() { stopped = true; }
};

class ReadingSink : public plugin<ReadingSink, subscribes<Reading>, publishes<>> {
public:
    std::uint32_t sensor = 0;
    void on(const Reading& reading)
    {
        sensor = reading.sensor;
        finish();
    }
};

} // namespace

TEST_CASE("receive() returns each subscribed type in the variant - in publish order", "[plugin][receive]")
{
    Collector collector;
    Emitter emitter;
    app<events> application{any_ports()};
    const auto report = application.register_plugin(collector).register_plugin(emitter).run();
    CHECK(collector.seen == std::vector<std::string>{"Note", "Count", "Reading"});
    CHECK(report.find("Emitter")->events_published == 3);
    CHECK(report.find("Collector")->events_received == 3);
}

TEST_CASE("handler style calls the overload for each type - hooks around the loop", "[plugin][handler]")
{
    class Starter : public plugin<Starter, subscribes<>, publishes<Note, Count>> {
    public:
        void run()
        {
            publish(Note{"a"});
            publish(Count{7});
        }
    };
    Overloaded overloaded;
    ReadingSink sink;
    Starter starter;
    app<events> application{any_ports()};
    application.register_plugin(overloaded).register_plugin(sink).register_plugin(starter).run();
    CHECK(overloaded.started);
    CHECK(overloaded.stopped);
    CHECK(overloaded.log == "NaC7");
    CHECK(sink.sensor == 7);
}

TEST_CASE("receive() with a timeout returns nullopt when nothing arrives", "[plugin][receive]")
{
    class Waiter : public plugin<Waiter, subscribes<Note>, publishes<>> {
    public:
        bool timed_out = false;
        void run() { timed_out = !receive(std::chrono::milliseconds{50}).has_value(); }
    };
    Waiter waiter;
    app<events> application{any_ports()};
    application.register_plugin(waiter).run();
    CHECK(waiter.timed_out);
}

TEST_CASE("publish() outside a run is an error - not a crash", "[plugin]")
{
    class Eager : public plugin<Eager, subscribes<>, publishes<Note>> {
    public:
        void run() {}
        void too_early() { publish(Note{"x"}); }
    };
    Eager eager;
    CHECK_THROWS_WITH(eager.too_early(), Catch::Matchers::Contains("only while the application runs the plugin"));
}
