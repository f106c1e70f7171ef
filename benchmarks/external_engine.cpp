// Benchmark (c), engine side: an application whose producer publishes N events
// of a given size to a registered external plugin, "consumer", on a given port.
// The Python side (external_bench.py) fetches them through pyevents, one at a
// time or in batches, and measures the rate. The app exits once the consumer
// has quit and prints the consumer's report line.
//
// Usage: ee_bench_external_engine <port> <events> <payload-bytes>

#include <event_engine/event_engine.hpp>

#include <fmt/core.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace {

struct Payload {
    static constexpr std::string_view name = "Payload";
    using codec = event_engine::bytes_codec;
    std::vector<std::byte> bytes;
};

using events = event_engine::event_list<Payload>;

class Producer : public event_engine::plugin<Producer, event_engine::subscribes<>, event_engine::publishes<Payload>> {
public:
    Producer(std::uint64_t count, std::size_t size) : count_{count}, size_{size} {}
    void run()
    {
        Payload payload{std::vector<std::byte>(size_, std::byte{'x'})};
        for (std::uint64_t i = 0; i < count_; ++i) {
            if (!publish(payload)) return;
        }
    }

private:
    std::uint64_t count_;
    std::size_t size_;
};

using Consumer = event_engine::external_plugin<event_engine::subscribes<Payload>>;

} // namespace

int main(int argc, char** argv)
{
    if (argc != 4) {
        fmt::print(stderr, "usage: {} <port> <events> <payload-bytes>\n", argv[0]);
        return 2;
    }
    const auto port = static_cast<std::uint16_t>(std::atoi(argv[1]));
    const auto count = std::strtoull(argv[2], nullptr, 10);
    const auto size = static_cast<std::size_t>(std::strtoull(argv[3], nullptr, 10));

    event_engine::app_config config;
    config.publish_port = 0;
    config.subscribe_port = 0;
    event_engine::external_options options;
    options.connect_timeout = std::chrono::seconds{30};
    event_engine::app<events> app{config};
    try {
        const auto report = app.register_plugin(Producer{count, size})
                                .register_external_plugin(Consumer{"consumer", port, options})
                                .run();
        const auto* consumer = report.find("consumer");
        fmt::print("consumer received {} dropped {} outcome {}\n", consumer->events_received,
                   report.total_dropped(), static_cast<int>(consumer->outcome));
        return consumer->events_received == count && report.total_dropped() == 0 ? 0 : 1;
    } catch (const event_engine::error& failure) {
        fmt::print(stderr, "ee_bench_external_engine: {}\n", failure.what());
        return 1;
    }
}
