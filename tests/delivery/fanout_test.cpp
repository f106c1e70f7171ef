// Typed fan-out (issue 22): one producer, several handler-style and loop-style consumers of
// several event types (trivially copyable, std::string-holding with text_codec and
// reflective_codec, a 1 MiB payload); every consumer gets every event of its types, intact,
// in the producer's order across types, and its report accounts for each exactly.
// Public API only: the test holds for any transport behind app<> and plugin<>.

#include "delivery_support.hpp"
#include "support.hpp"

#include <event_engine/reflective_codec.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>
#include <variant>
#include <vector>

using namespace event_engine;
using delivery_tests::check_all_received;
using delivery_tests::check_published;

namespace {

struct Tick {
    static constexpr std::string_view name = "Tick";
    using codec = trivial_codec;
    std::uint64_t seq = 0;
    std::uint64_t check = 0;
};
struct Label {
    static constexpr std::string_view name = "Label";
    using codec = text_codec;
    std::string text;
};
struct Record {
    static constexpr std::string_view name = "Record";
    using codec = reflective_codec;
    std::uint64_t seq = 0;
    std::string tag;
    std::vector<std::uint32_t> values;
};
struct Frame {
    static constexpr std::string_view name = "Frame";
    using codec = bytes_codec;
    std::vector<std::byte> bytes;
};
using fanout_events = event_list<Tick, Label, Record, Frame>;

constexpr std::uint64_t total_events = 20'000;
constexpr std::size_t frame_size = std::size_t{1} << 20;

enum class kind { tick, label, record, frame };

// Which event the producer sends as its seq-th: mostly small ones, a 1 MiB Frame every 2,000.
constexpr kind kind_of(std::uint64_t seq)
{
    if (seq % 2000 == 1000) return kind::frame;
    switch (seq % 4) {
    case 0:
    case 1: return kind::tick;
    case 2: return kind::label;
    default: return kind::record;
    }
}

std::uint64_t tick_check(std::uint64_t seq) { return seq * 0x9E3779B97F4A7C15ULL ^ 0x5555; }
std::string label_text(std::uint64_t seq) { return "label " + std::to_string(seq) + " " + std::string(seq % 61, 'x'); }
std::string record_tag(std::uint64_t seq) { return "record-" + std::to_string(seq); }
std::vector<std::uint32_t> record_values(std::uint64_t seq)
{
    std::vector<std::uint32_t> values(seq % 7);
    for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<std::uint32_t>(seq * 3 + i);
    return values;
}
// The 1 MiB pattern every Frame carries after its 8-byte sequence number.
const std::vector<std::byte>& frame_pattern()
{
    static const std::vector<std::byte> pattern = [] {
        std::vector<std::byte> bytes(frame_size);
        for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::byte>((i * 131 + 7) % 251);
        return bytes;
    }();
    return pattern;
}
Frame make_frame(std::uint64_t seq)
{
    Frame frame{frame_pattern()};
    std::memcpy(frame.bytes.data(), &seq, sizeof seq);
    return frame;
}

// The sequence number an event carries, and whether the rest of it is what the producer sent.
struct seen {
    std::uint64_t seq = 0;
    bool intact = false;
};
seen inspect(const Tick& tick) { return {tick.seq, tick.check == tick_check(tick.seq)}; }
seen inspect(const Label& label)
{
    const auto digits = label.text.find_first_of("0123456789");
    if (digits == std::string::npos) return {};
    const std::uint64_t seq = std::stoull(label.text.substr(digits));
    return {seq, label.text == label_text(seq)};
}
seen inspect(const Record& record)
{
    return {record.seq, record.tag == record_tag(record.seq) && record.values == record_values(record.seq)};
}
seen inspect(const Frame& frame)
{
    if (frame.bytes.size() != frame_size) return {};
    std::uint64_t seq = 0;
    std::memcpy(&seq, frame.bytes.data(), sizeof seq);
    const auto& pattern = frame_pattern();
    return {seq,
            std::memcmp(frame.bytes.data() + sizeof seq, pattern.data() + sizeof seq, frame_size - sizeof seq) == 0};
}

template <class E>
constexpr kind kind_of_type()
{
    if constexpr (std::is_same_v<E, Tick>) return kind::tick;
    else if constexpr (std::is_same_v<E, Label>) return kind::label;
    else if constexpr (std::is_same_v<E, Record>) return kind::record;
    else return kind::frame;
}

// The sequence numbers a subscriber of Es... must receive, in this order.
template <class... Es>
std::vector<std::uint64_t> expected_for()
{
    std::vector<std::uint64_t> expected;
    for (std::uint64_t seq = 0; seq < total_events; ++seq) {
        if (((kind_of(seq) == kind_of_type<Es>()) || ...)) expected.push_back(seq);
    }
    return expected;
}

// What a consumer saw: the sequence numbers in arrival order, and how many events were damaged.
struct consumer_log {
    std::vector<std::uint64_t> seqs;
    std::uint64_t damaged = 0;
    std::size_t expected = 0;

    template <class E>
    void note(const E& event)
    {
        const auto what = inspect(event);
        seqs.push_back(what.seq);
        if (!what.intact) ++damaged;
    }
    [[nodiscard]] bool complete() const { return seqs.size() == expected; }
};

class Producer : public plugin<Producer, subscribes<>, publishes<Tick, Label, Record, Frame>> {
public:
    std::array<std::uint64_t, 4> published{}; // per kind
    std::uint64_t refused = 0;
    void run()
    {
        for (std::uint64_t seq = 0; seq < total_events; ++seq) {
            const kind what = kind_of(seq);
            bool sent = false;
            switch (what) {
            case kind::tick: sent = publish(Tick{seq, tick_check(seq)}); break;
            case kind::label: sent = publish(Label{label_text(seq)}); break;
            case kind::record: sent = publish(Record{seq, record_tag(seq), record_values(seq)}); break;
            case kind::frame: sent = publish(make_frame(seq)); break;
            }
            if (!sent) {
                ++refused;
                return;
            }
            ++published[static_cast<std::size_t>(what)];
        }
    }
    template <class... Es>
    [[nodiscard]] std::uint64_t published_of() const
    {
        return (published[static_cast<std::size_t>(kind_of_type<Es>())] + ...);
    }
};

// Handler style: on(const E&) per subscribed type; finishes once it has every event it expects.
template <class... Es>
class HandlerConsumer : public plugin<HandlerConsumer<Es...>, subscribes<Es...>, publishes<>> {
public:
    consumer_log log;
    HandlerConsumer() { log.expected = expected_for<Es...>().size(); }
    template <class E>
    void on(const E& event)
    {
        log.note(event);
        if (log.complete()) this->finish();
    }
};

// Loop style: receive() until it has every event it expects.
template <class... Es>
class LoopConsumer : public plugin<LoopConsumer<Es...>, subscribes<Es...>, publishes<>> {
public:
    consumer_log log;
    LoopConsumer() { log.expected = expected_for<Es...>().size(); }
    void run()
    {
        while (!log.complete()) {
            auto received = this->receive();
            if (!received) return;
            std::visit([this](const auto& event) { log.note(event); }, *received);
        }
    }
};

template <class Consumer, class... Es>
void check_consumer(const run_report& report, std::string_view name, const Consumer& consumer, const Producer& producer)
{
    INFO("consumer '" << name << "'");
    // Every one, in the producer's order, none twice; said by the first difference, not 20,000 numbers.
    const auto expected = expected_for<Es...>();
    const auto& seqs = consumer.log.seqs;
    const auto differ = std::mismatch(seqs.begin(), seqs.end(), expected.begin(), expected.end());
    INFO(
        "received " << seqs.size() << " of " << expected.size() << " events; the first difference at position "
                    << (differ.first - seqs.begin()) << ": "
                    << (differ.first == seqs.end() ? std::string{"none received"} : std::to_string(*differ.first))
                    << " where "
                    << (differ.second == expected.end() ? std::string{"none expected"} : std::to_string(*differ.second))
                    << " was expected");
    CHECK((differ.first == seqs.end() && differ.second == expected.end()));
    CHECK(consumer.log.damaged == 0);
    check_all_received(report, name, producer.template published_of<Es...>());
    CHECK(report.find(name)->outcome == plugin_outcome::finished);
}

} // namespace

TEST_CASE("typed fan-out: every consumer gets every event of its types, intact, in publisher order",
          "[delivery][fanout]")
{
    // The default high-water mark, and a tiny one that keeps every queue full.
    const int high_water_mark = GENERATE(1000, 4);
    CAPTURE(high_water_mark);

    Producer producer;
    HandlerConsumer<Tick, Label, Record, Frame> handler_all;
    HandlerConsumer<Tick, Label, Record, Frame> handler_all_again;
    HandlerConsumer<Tick, Label> handler_small;
    HandlerConsumer<Frame> handler_frames;
    LoopConsumer<Tick, Label, Record, Frame> loop_all;
    LoopConsumer<Record, Frame> loop_large;
    LoopConsumer<Label> loop_text;

    auto config = test_events::any_ports();
    config.high_water_mark = high_water_mark;
    app<fanout_events> application{config};
    // Consumers first and last around the producer: registration order must not matter.
    application.register_plugin(handler_all, "handler_all")
        .register_plugin(loop_all, "loop_all")
        .register_plugin(handler_small, "handler_small")
        .register_plugin(producer, "producer")
        .register_plugin(handler_frames, "handler_frames")
        .register_plugin(loop_large, "loop_large")
        .register_plugin(handler_all_again, "handler_all_again")
        .register_plugin(loop_text, "loop_text");
    // Consumers finish once they have every event: one lost would keep the run going. A
    // hang guard, not a time limit: after two minutes it is stopped and the checks say
    // which consumer misses what.
    delivery_tests::background_run running{application};
    const auto hang_guard = std::chrono::steady_clock::now() + std::chrono::minutes{2};
    while (!running.done() && std::chrono::steady_clock::now() < hang_guard) {
        std::this_thread::sleep_for(std::chrono::milliseconds{10});
    }
    if (!running.done()) application.stop();
    const auto report = running.join();

    CHECK_FALSE(report.stopped);
    CHECK(producer.refused == 0);
    check_published(report, "producer", total_events);
    REQUIRE(producer.published_of<Tick, Label, Record, Frame>() == total_events);
    check_consumer<decltype(handler_all), Tick, Label, Record, Frame>(report, "handler_all", handler_all, producer);
    check_consumer<decltype(handler_all_again), Tick, Label, Record, Frame>(report, "handler_all_again",
                                                                            handler_all_again, producer);
    check_consumer<decltype(handler_small), Tick, Label>(report, "handler_small", handler_small, producer);
    check_consumer<decltype(handler_frames), Frame>(report, "handler_frames", handler_frames, producer);
    check_consumer<decltype(loop_all), Tick, Label, Record, Frame>(report, "loop_all", loop_all, producer);
    check_consumer<decltype(loop_large), Record, Frame>(report, "loop_large", loop_large, producer);
    check_consumer<decltype(loop_text), Label>(report, "loop_text", loop_text, producer);
    CHECK(report.total_dropped() == 0);
}
