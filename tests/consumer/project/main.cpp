// The consumer test's application: the smallest realistic use of an installed
// event_engine. Producer (loop style) publishes `count` Text events and waits for
// one Length per Text; Measurer (handler style) answers each Text with its length.
// Exits 0 only if every answer came back, matched, and the report agrees.
//
// With `--pyplugin-port N` it also has an external plugin, "pyplugin" (../pyplugin.py,
// run with the installed pyevents), that reads every Text and Length and answers with
// one Verdict, which Producer waits for.

#include <event_engine/event_engine.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
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

// pyplugin's answer: "pyplugin: <n> Text, <n> Length" once it has read them all, in order.
struct Verdict {
    static constexpr std::string_view name = "Verdict";
    using codec = event_engine::text_codec;
    std::string text;
};

using events = event_engine::event_list<Text, Length, Verdict>;
static_assert(events::valid && events::contains<Text> && events::contains<Length> && events::contains<Verdict>);

using PyPlugin =
    event_engine::external_plugin<event_engine::subscribes<Text, Length>, event_engine::publishes<Verdict>>;
const std::string expected_verdict =
    "pyplugin: " + std::to_string(count) + " Text, " + std::to_string(count) + " Length";

std::string text_for(int index)
{
    return "message " + std::to_string(index) + std::string(static_cast<std::size_t>(index), '!');
}

class Producer
    : public event_engine::plugin<Producer, event_engine::subscribes<Length, Verdict>, event_engine::publishes<Text>> {
public:
    explicit Producer(bool wait_for_verdict) : wait_for_verdict_{wait_for_verdict} {}

    void run()
    {
        for (int i = 0; i < count; ++i) publish(Text{text_for(i)});
        while (matched < count || (wait_for_verdict_ && !verdict)) {
            auto event = receive(std::chrono::seconds{60});
            if (!event) return; // timeout or stop: main() reports the shortfall
            if (const auto* answer = std::get_if<Verdict>(&*event)) {
                verdict = answer->text;
                continue;
            }
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
    std::optional<std::string> verdict;

private:
    bool wait_for_verdict_;
};

class Measurer
    : public event_engine::plugin<Measurer, event_engine::subscribes<Text>, event_engine::publishes<Length>> {
public:
    void on(const Text& event)
    {
        publish(Length{handled, event.text.size()});
        if (++handled == count) finish();
    }

    int handled = 0;
};

} // namespace

int main(int argc, char** argv)
{
    std::optional<std::uint16_t> pyplugin_port;
    if (argc == 3 && std::string_view{argv[1]} == "--pyplugin-port") {
        pyplugin_port = static_cast<std::uint16_t>(std::atoi(argv[2]));
    } else if (argc != 1) {
        std::fprintf(stderr, "usage: consumer [--pyplugin-port N]\n");
        return EXIT_FAILURE;
    }
    Producer producer{pyplugin_port.has_value()};
    Measurer measurer;
    try {
        // Port 0: any free port, so this never collides with other tests.
        event_engine::app<events> app{{.publish_port = 0, .subscribe_port = 0}};
        app.register_plugin(producer).register_plugin(measurer);
        if (pyplugin_port) app.register_external_plugin(PyPlugin{"pyplugin", *pyplugin_port});
        const event_engine::run_report report = app.run();

        const auto* produced = report.find("Producer");
        const auto* measured = report.find("Measurer");
        const int received_by_producer = count + (pyplugin_port ? 1 : 0); // the Lengths, and the Verdict
        bool ok = !report.stopped && producer.matched == count && measurer.handled == count && produced != nullptr &&
                  measured != nullptr && produced->events_published == count &&
                  produced->events_received == static_cast<std::uint64_t>(received_by_producer) &&
                  measured->events_received == count && measured->events_published == count &&
                  report.total_dropped() == 0;
        if (pyplugin_port) {
            const auto* python = report.find("pyplugin");
            ok = ok && producer.verdict == expected_verdict && python != nullptr &&
                 python->outcome == event_engine::plugin_outcome::finished && python->events_received == 2 * count &&
                 python->events_published == 1;
            std::printf("consumer: pyplugin's verdict \"%s\"\n", producer.verdict.value_or("(none)").c_str());
        }
        std::printf("consumer: %d/%d answers matched, stopped=%d, dropped=%llu -> %s\n", producer.matched, count,
                    report.stopped ? 1 : 0, static_cast<unsigned long long>(report.total_dropped()),
                    ok ? "OK" : "FAILED");
        return ok ? EXIT_SUCCESS : EXIT_FAILURE;
    } catch (const event_engine::error& failure) {
        std::fprintf(stderr, "consumer: %s\n", failure.what());
        return EXIT_FAILURE;
    }
}
