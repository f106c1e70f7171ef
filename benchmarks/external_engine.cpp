// Benchmark (c), engine side: the applications external_bench.py measures a Python plugin
// against (issue 23). One registered external plugin on <port> in each mode:
//
//   ee_bench_external_engine [fetch] <port> <events> <payload-bytes>
//       a producer publishes <events> Payload events of <payload-bytes> to the external
//       plugin "consumer", which fetches them; the app exits once the plugin has quit.
//   ee_bench_external_engine publish <port> <events> <payload-bytes>
//       the external plugin "source" publishes Payload events; a C++ plugin counts them
//       (each must carry <payload-bytes>) and finishes at <events>.
//   ee_bench_external_engine typed <port> <events>
//       a C++ plugin publishes <events> Readings (docs/python.md's, reflective) to the
//       external plugin "analyst", which answers each with a Verdict; a C++ plugin collects
//       the Verdicts (every sequence number exactly once) and finishes at <events>.
//   ee_bench_external_engine camera <port> <images> <image-bytes>
//       camera-traps-shaped: a C++ camera publishes <images> Images of <image-bytes> (an
//       8-byte sequence number, then bytes whose sum is known) to the external plugin
//       "scorer", which reads every byte and publishes a Score (the sum); a C++ plugin
//       stores the scores, checks each sum, and finishes at <images>.
//
// The receiving C++ plugin of publish, typed and camera times its events from the first to
// the last; every mode prints one line
//     engine <mode> events <n> first_to_last_s <seconds> dropped <d> ok <0|1>
// and exits 0 only if every count is exact (the consumer got all, nothing was dropped, each
// check held). Built with event_engine::manifest (nlohmann_json), every port answers
// pyevents' load_contract(), which the typed and camera modes need.

#include "../examples/pipeline/events.hpp"

#include <event_engine/event_engine.hpp>
#if defined(EE_BENCH_MANIFEST)
#include <event_engine/manifest.hpp> // pyevents' load_contract() (typed and camera modes)
#endif
#include <event_engine/reflective_codec.hpp>

#include <boost/hana/define_struct.hpp>

#include <fmt/core.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bench {

using clock_type = std::chrono::steady_clock;

struct Payload {
    static constexpr std::string_view name = "Payload";
    using codec = event_engine::bytes_codec;
    std::vector<std::byte> bytes;
};

// The typed round trip: docs/python.md's Reading (examples/pipeline/events.hpp) goes to
// Python, which answers each with a Verdict.
using pipeline::make_reading;
using pipeline::Reading;
using pipeline::Sample;

struct Verdict {
    static constexpr std::string_view name = "Verdict";
    using codec = event_engine::reflective_codec;
    BOOST_HANA_DEFINE_STRUCT(Verdict, (std::uint32_t, sensor), (std::uint64_t, sequence), (std::string, site),
                             (double, mean), (std::optional<std::string>, remark));
};

// The camera-traps shape: a large opaque image in, a small typed score out.
struct Image {
    static constexpr std::string_view name = "Image";
    using codec = event_engine::bytes_codec;
    std::vector<std::byte> bytes;
};

struct Score {
    static constexpr std::string_view name = "Score";
    using codec = event_engine::reflective_codec;
    BOOST_HANA_DEFINE_STRUCT(Score, (std::uint64_t, image), (std::uint64_t, sum));
};

using events = event_engine::event_list<Payload, Reading, Verdict, Image, Score>;

// What a receiving plugin saw, read by main() after run().
struct tally {
    std::uint64_t count = 0;
    bool ok = true;
    clock_type::time_point first{};
    clock_type::time_point last{};
    void note() noexcept
    {
        last = clock_type::now();
        if (count++ == 0) first = last;
    }
    [[nodiscard]] double seconds() const { return std::chrono::duration<double>(last - first).count(); }
};

class Producer : public event_engine::plugin<Producer, event_engine::subscribes<>, event_engine::publishes<Payload>> {
public:
    Producer(std::uint64_t count, std::size_t size) : count_{count}, size_{size} {}
    void run()
    {
        const Payload payload{std::vector<std::byte>(size_, std::byte{'x'})};
        for (std::uint64_t i = 0; i < count_; ++i) {
            if (!publish(payload)) return;
        }
    }

private:
    std::uint64_t count_;
    std::size_t size_;
};

class Counter : public event_engine::plugin<Counter, event_engine::subscribes<Payload>, event_engine::publishes<>> {
public:
    Counter(std::uint64_t count, std::size_t size, tally& seen) : count_{count}, size_{size}, seen_{&seen} {}
    void on(const Payload& payload)
    {
        if (payload.bytes.size() != size_) seen_->ok = false;
        seen_->note();
        if (seen_->count == count_) finish();
    }

private:
    std::uint64_t count_;
    std::size_t size_;
    tally* seen_;
};

class Sensors : public event_engine::plugin<Sensors, event_engine::subscribes<>, event_engine::publishes<Reading>> {
public:
    explicit Sensors(std::uint64_t count) : count_{count} {}
    void run()
    {
        for (std::uint64_t sequence = 1; sequence <= count_; ++sequence) {
            if (!publish(make_reading(sequence))) return;
        }
    }

private:
    std::uint64_t count_;
};

class Collector : public event_engine::plugin<Collector, event_engine::subscribes<Verdict>, event_engine::publishes<>> {
public:
    Collector(std::uint64_t count, tally& seen) : count_{count}, seen_{&seen}, seen_sequence_(count + 1, false) {}
    void on(const Verdict& verdict)
    {
        const Reading reading = make_reading(verdict.sequence);
        double sum = 0;
        for (const Sample& sample : reading.samples) sum += sample.value;
        if (verdict.sequence == 0 || verdict.sequence > count_ || seen_sequence_[verdict.sequence] ||
            verdict.sensor != reading.sensor || verdict.site != reading.location.site ||
            verdict.mean != sum / static_cast<double>(reading.samples.size())) {
            seen_->ok = false;
        } else {
            seen_sequence_[verdict.sequence] = true;
        }
        seen_->note();
        if (seen_->count == count_) finish();
    }

private:
    std::uint64_t count_;
    tally* seen_;
    std::vector<bool> seen_sequence_;
};

// An image: its number (8 bytes, little-endian), then byte j = j mod 256.
constexpr std::size_t image_header = 8;

std::uint64_t image_sum(std::size_t size)
{
    std::uint64_t sum = 0;
    for (std::size_t j = image_header; j < size; ++j) sum += j & 0xffU;
    return sum;
}

class Camera : public event_engine::plugin<Camera, event_engine::subscribes<>, event_engine::publishes<Image>> {
public:
    Camera(std::uint64_t count, std::size_t size) : count_{count}, size_{size} {}
    void run()
    {
        std::vector<std::byte> frame(size_);
        for (std::size_t j = image_header; j < size_; ++j) frame[j] = static_cast<std::byte>(j & 0xffU);
        for (std::uint64_t number = 1; number <= count_; ++number) {
            Image image{frame}; // a new image each time, as a camera's would be
            for (std::size_t k = 0; k < image_header; ++k)
                image.bytes[k] = static_cast<std::byte>((number >> (8 * k)) & 0xffU);
            if (!publish(std::move(image))) return;
        }
    }

private:
    std::uint64_t count_;
    std::size_t size_;
};

class Store : public event_engine::plugin<Store, event_engine::subscribes<Score>, event_engine::publishes<>> {
public:
    Store(std::uint64_t count, std::size_t size, tally& seen)
        : count_{count}, expected_sum_{image_sum(size)}, seen_{&seen}, stored_(count + 1, false)
    {}
    void on(const Score& score)
    {
        if (score.image == 0 || score.image > count_ || stored_[score.image] || score.sum != expected_sum_) {
            seen_->ok = false;
        } else {
            stored_[score.image] = true;
        }
        seen_->note();
        if (seen_->count == count_) finish();
    }

private:
    std::uint64_t count_;
    std::uint64_t expected_sum_;
    tally* seen_;
    std::vector<bool> stored_;
};

using Consumer = event_engine::external_plugin<event_engine::subscribes<Payload>>;
using Source = event_engine::external_plugin<event_engine::subscribes<>, event_engine::publishes<Payload>>;
using Analyst = event_engine::external_plugin<event_engine::subscribes<Reading>, event_engine::publishes<Verdict>>;
using Scorer = event_engine::external_plugin<event_engine::subscribes<Image>, event_engine::publishes<Score>>;

int finish_line(std::string_view mode, std::uint64_t expected, const tally& seen,
                const event_engine::run_report& report)
{
    const bool ok = seen.ok && seen.count == expected && report.total_dropped() == 0;
    fmt::print("engine {} events {} first_to_last_s {:.9f} dropped {} ok {}\n", mode, seen.count, seen.seconds(),
               report.total_dropped(), ok ? 1 : 0);
    return ok ? 0 : 1;
}

} // namespace bench

int main(int argc, char** argv)
{
    using namespace bench;
    std::vector<std::string_view> args(argv + 1, argv + argc);
    std::string_view mode = "fetch";
    if (!args.empty() && (args[0] == "fetch" || args[0] == "publish" || args[0] == "typed" || args[0] == "camera")) {
        mode = args[0];
        args.erase(args.begin());
    }
    const std::size_t needed = mode == "typed" ? 2 : 3;
    if (args.size() != needed) {
        fmt::print(stderr,
                   "usage: {} [fetch|publish|camera] <port> <events> <payload-bytes>\n"
                   "       {} typed <port> <events>\n",
                   argv[0], argv[0]);
        return 2;
    }
    const auto port = static_cast<std::uint16_t>(std::strtoul(std::string{args[0]}.c_str(), nullptr, 10));
    const auto count = std::strtoull(std::string{args[1]}.c_str(), nullptr, 10);
    const auto size =
        needed == 3 ? static_cast<std::size_t>(std::strtoull(std::string{args[2]}.c_str(), nullptr, 10)) : 0;
    if (mode == "camera" && size <= image_header) {
        fmt::print(stderr, "camera: images need more than {} bytes\n", image_header);
        return 2;
    }

    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    event_engine::app_config config;
    config.publish_port = 0;
    config.subscribe_port = 0;
    event_engine::external_options options;
    options.connect_timeout = std::chrono::seconds{30};
    event_engine::app<events> app{config};
#if defined(EE_BENCH_MANIFEST)
    event_engine::enable_manifest(app);
#endif
    try {
        if (mode == "fetch") {
            const auto report = app.register_plugin(Producer{count, size})
                                    .register_external_plugin(Consumer{"consumer", port, options})
                                    .run();
            const auto* consumer = report.find("consumer");
            const bool ok = consumer->events_received == count && report.total_dropped() == 0;
            fmt::print("engine fetch events {} dropped {} outcome {} ok {}\n", consumer->events_received,
                       report.total_dropped(), static_cast<int>(consumer->outcome), ok ? 1 : 0);
            return ok ? 0 : 1;
        }
        tally seen;
        if (mode == "publish") {
            Counter counter{count, size, seen};
            const auto report =
                app.register_plugin(counter).register_external_plugin(Source{"source", port, options}).run();
            return finish_line(mode, count, seen, report);
        }
        if (mode == "typed") {
            Collector collector{count, seen};
            const auto report = app.register_plugin(Sensors{count})
                                    .register_plugin(collector)
                                    .register_external_plugin(Analyst{"analyst", port, options})
                                    .run();
            return finish_line(mode, count, seen, report);
        }
        Store store{count, size, seen};
        const auto report = app.register_plugin(Camera{count, size})
                                .register_plugin(store)
                                .register_external_plugin(Scorer{"scorer", port, options})
                                .run();
        return finish_line(mode, count, seen, report);
    } catch (const event_engine::error& failure) {
        fmt::print(stderr, "ee_bench_external_engine: {}\n", failure.what());
        return 1;
    }
}
