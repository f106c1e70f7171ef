// The consumer test's application: the smallest realistic use of an installed
// event_engine. Producer (loop style) publishes `count` Text events and waits for
// one Length per Text; Measurer (handler style) answers each Text with its length.
// Exits 0 only if every answer came back, matched, and the report agrees.

#include <event_engine/event_engine.hpp>

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

namespace {

constexpr int count = 20;

struct Text {
    static constexpr std::string_view name = "Text";
    using codec = event_engine::text_codec;
    std::string text;
};

struct Length {
    static constexpr std::string_view name = "Length";
    using codec = event_engine::trivial_codec;
    int index = 0;
    std::size_t length = 0;
};

using events = event_engine::event_list<Text, Length>;
static_assert(events::valid && events::contains<Text> && events::contains<Length>);

std::string text_for(int index) { return "message " + std::to_string(index) + std::string(static_cast<std::size_t>(index), '!'); }

class Producer : public event_engine::plugin<Producer, event_engine::subscribes<Length>,
                                             event_engine::publishes<Text>> {
public:
    void run()
    {
        for (int i = 0; i < count; ++i) publish(Text{text_for(i)});
        while (matched < count) {
            auto event = receive(std::chrono::seconds{20});
            if (!event) return; // timeout or stop: main() reports the shortfall
            const auto& answer = std::get<Length>(*event);
            if (answer.index != matched || answer.length != text_for(matched).size()) {
                std::fprintf(stderr, "consumer: answer %d was {index %d, length %zu}\n", matched, answer.index,
                             answer.length);
                return;
            }
            ++matched;
        }
    }

    int matched = 0;
};

class Measurer : public event_engine::plugin<Measurer, event_engine::subscribes<Text>,
                                             event_engine::publishes<Length>> {
public:
    void on(const Text& event)
    {
        publish(Length{handled, event.text.size()});
        if (++handled == count) finish();
    }

    int handled = 0;
};

} // namespace

int main()
{
    Producer producer;
    Measurer measurer;
    try {
        // Port 0: any free port, so this never collides with other tests.
        event_engine::app<events> app{{.publish_port = 0, .subscribe_port = 0}};
        const event_engine::run_report report = app.register_plugin(producer).register_plugin(measurer).run();

        const auto* produced = report.find("Producer");
        const auto* measured = report.find("Measurer");
        const bool ok = !report.stopped && producer.matched == count && measurer.handled == count &&
                        produced != nullptr && measured != nullptr && produced->events_published == count &&
                        produced->events_received == count && measured->events_received == count &&
                        measured->events_published == count && report.total_dropped() == 0;
        std::printf("consumer: %d/%d answers matched, stopped=%d, dropped=%llu -> %s\n", producer.matched, count,
                    report.stopped ? 1 : 0, static_cast<unsigned long long>(report.total_dropped()),
                    ok ? "OK" : "FAILED");
        return ok ? EXIT_SUCCESS : EXIT_FAILURE;
    } catch (const event_engine::error& failure) {
        std::fprintf(stderr, "consumer: %s\n", failure.what());
        return EXIT_FAILURE;
    }
}
