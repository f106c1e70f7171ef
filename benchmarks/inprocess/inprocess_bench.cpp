// In-process delivery benchmark (issue 22; docs/benchmarks.md, "In-process delivery").
//
// Written against the public API of docs/tutorial.md only (app, event_list, plugin<Self,
// subscribes<...>, publishes<...>>, handler-style `void on(const E&)`, loop-style `run()`,
// publish(), app_config, run_report), so that the same file compiles against the engine at
// e54445f and against the typed-delivery rewrite; compare.py builds it against both and
// alternates them.
//
// Cases (each run prints one JSON line on stdout):
//   spsc16         (a) 16-byte trivially copyable events, 1 producer -> 1 consumer; also
//                  (g) the process's CPU time per event between the first and last event;
//   fanout16       (b) 16-byte events, 1 producer -> 4 consumers, the rate per consumer;
//   image1m        (c) 1 MiB "image" events, 1 producer -> 2 consumers: the event holds a
//                  shared_ptr<const vector<byte>> the producer allocates once and never
//                  copies; image_codec encodes the bytes and decodes into a new shared_ptr;
//                  each consumer reads one byte of each image;
//   ring16         (d) the floor: a bare bounded SPSC ring of 16-byte values between the same
//                  two threads (atomic_queue::AtomicQueue2, SPSC, 1024 slots, from Debian's
//                  libatomic-queue-dev; a minimal ring of the same shape where it is missing);
//   ring16_shared  (d) the same ring carrying a shared_ptr to a new 16-byte object per event;
//   latency        (e) one hop at a steady 10,000 events/s: the producer stamps each event with
//                  steady_clock, the consumer records the delta; p50, p99 and more;
//   idle           (f) the application of (a) running with no traffic: the process's CPU time
//                  (getrusage) over --idle-seconds as % of one core.
//
// Throughput cases run for --seconds: the producer publishes until then and marks its last
// event; every consumer checks that it received every sequence number, in order, and times
// "first event received" to "last event received" (steady state, start-up excluded). A run
// that does not finish in time is killed by SIGALRM (no number is printed).

#include "../bench_common.hpp"

#include <event_engine/event_engine.hpp>

#if __has_include(<atomic_queue/atomic_queue.h>)
#include <atomic_queue/atomic_queue.h>
#define EE_INPROCESS_ATOMIC_QUEUE 1
#else
#define EE_INPROCESS_ATOMIC_QUEUE 0
#endif

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <sys/resource.h>
#include <unistd.h>

namespace bench::inprocess {

namespace ee = event_engine;

// ---------------------------------------------------------------------------
// What every case shares.

struct options {
    double seconds = 1.0;         // throughput cases: how long the producer publishes
    double latency_seconds = 5.0; // (e)
    double idle_seconds = 10.0;   // (f)
    double paced_rate = 10'000;   // (e), events per second
    std::string label = "engine"; // copied into every line (compare.py: before / after)
};

/// The sequence number's top bit marks the producer's last event.
constexpr std::uint64_t last_bit = std::uint64_t{1} << 63;

/// CPU time (user + system) of the whole process so far, in nanoseconds.
inline std::int64_t process_cpu_ns()
{
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    const auto ns = [](const timeval& t) {
        return static_cast<std::int64_t>(t.tv_sec) * 1'000'000'000 + static_cast<std::int64_t>(t.tv_usec) * 1'000;
    };
    return ns(usage.ru_utime) + ns(usage.ru_stime);
}

inline std::string compiler_name()
{
#if defined(__clang__)
    return "clang++ " + std::to_string(__clang_major__);
#elif defined(__GNUC__)
    return "g++ " + std::to_string(__GNUC__);
#else
    return "unknown";
#endif
}

/// What one consumer saw: counts, the first and last arrival, CPU time at both.
struct consumer_stats {
    std::uint64_t received = 0;
    bool in_order = true;
    bool saw_last = false;
    std::int64_t first_ns = 0;
    std::int64_t last_ns = 0;
    std::int64_t cpu_first_ns = 0;
    std::int64_t cpu_last_ns = 0;
    std::uint64_t sink = 0; // bytes read from images, so the reads are not optimised out

    /// Counts an event with sequence word @p sequence; returns true on the last one.
    bool note(std::uint64_t sequence)
    {
        const std::int64_t now = now_ns();
        if (received == 0) {
            first_ns = now;
            cpu_first_ns = process_cpu_ns();
        }
        if ((sequence & ~last_bit) != received) in_order = false;
        ++received;
        if ((sequence & last_bit) == 0) return false;
        saw_last = true;
        last_ns = now;
        cpu_last_ns = process_cpu_ns();
        return true;
    }
    [[nodiscard]] bool exact() const { return in_order && saw_last; }
    [[nodiscard]] double rate() const
    {
        if (received < 2 || last_ns <= first_ns) return 0.0;
        return static_cast<double>(received - 1) * 1e9 / static_cast<double>(last_ns - first_ns);
    }
    [[nodiscard]] double cpu_ns_per_event() const
    {
        if (received < 2) return 0.0;
        return static_cast<double>(cpu_last_ns - cpu_first_ns) / static_cast<double>(received - 1);
    }
};

/// Decides, every 64 events, whether the producer's time is up.
class deadline {
public:
    explicit deadline(double seconds) : end_ns_{now_ns() + static_cast<std::int64_t>(seconds * 1e9)} {}
    [[nodiscard]] bool reached(std::uint64_t sequence) const { return (sequence % 64) == 63 && now_ns() >= end_ns_; }

private:
    std::int64_t end_ns_;
};

// ---------------------------------------------------------------------------
// The events.

/// 16 bytes, trivially copyable: a sequence word and a steady_clock stamp.
struct Small {
    static constexpr std::string_view name = "Small";
    using codec = ee::trivial_codec;
    std::uint64_t sequence = 0;
    std::int64_t stamp_ns = 0;
};
static_assert(sizeof(Small) == 16);

/// Published by nobody: what the idle case's producer waits on.
struct Wake {
    static constexpr std::string_view name = "Wake";
    using codec = ee::trivial_codec;
    std::uint64_t unused = 0;
};

using pixels = std::vector<std::byte>;
constexpr std::size_t image_bytes = std::size_t{1} << 20;

/// The sequence word, then the image's bytes; decoding makes a new shared image.
struct image_codec {
    template <class E>
    static void encode(const E& event, ee::payload_writer& out)
    {
        std::array<std::byte, sizeof event.sequence> word{};
        std::memcpy(word.data(), &event.sequence, sizeof event.sequence);
        out.reserve(word.size() + event.image->size());
        out.append(std::span<const std::byte>{word});
        out.append(std::span<const std::byte>{*event.image});
    }
    template <class E>
    static E decode(std::span<const std::byte> payload)
    {
        E event;
        if (payload.size() < sizeof event.sequence) throw ee::decode_error{"image: shorter than its sequence word"};
        std::memcpy(&event.sequence, payload.data(), sizeof event.sequence);
        event.image = std::make_shared<const pixels>(payload.begin() + sizeof event.sequence, payload.end());
        return event;
    }
};

/// An image the producer allocates once and shares: a pointer and a sequence word.
struct Image {
    static constexpr std::string_view name = "Image";
    using codec = image_codec;
    std::shared_ptr<const pixels> image;
    std::uint64_t sequence = 0;
};

// ---------------------------------------------------------------------------
// The plugins.

/// Loop style: publishes E for options.seconds, then one last event, then returns.
template <class E>
class Producer : public ee::plugin<Producer<E>, ee::subscribes<>, ee::publishes<E>> {
public:
    Producer(double seconds, E prototype) : seconds_{seconds}, prototype_{std::move(prototype)} {}
    void run()
    {
        const deadline time_up{seconds_};
        E event = prototype_;
        for (std::uint64_t sequence = 0;; ++sequence) {
            const bool last = time_up.reached(sequence);
            event.sequence = last ? (sequence | last_bit) : sequence;
            if (!this->publish(event) || last) return;
        }
    }

private:
    double seconds_;
    E prototype_;
};

/// Handler style: counts every event and finishes on the last one. An image consumer
/// reads one byte of each image.
template <class E>
class Consumer : public ee::plugin<Consumer<E>, ee::subscribes<E>, ee::publishes<>> {
public:
    explicit Consumer(consumer_stats& stats) : stats_{&stats} {}
    void on(const E& event)
    {
        if constexpr (requires { event.image; }) {
            stats_->sink += static_cast<std::uint8_t>((*event.image)[stats_->received % event.image->size()]);
        }
        if (stats_->note(event.sequence)) this->finish();
    }

private:
    consumer_stats* stats_;
};

/// (e) Loop style: publishes one stamped event every 1/rate s for @p seconds.
class PacedProducer : public ee::plugin<PacedProducer, ee::subscribes<>, ee::publishes<Small>> {
public:
    PacedProducer(double seconds, double rate) : count_{static_cast<std::uint64_t>(seconds * rate)}, rate_{rate} {}
    std::uint64_t late = 0; // events published more than one period after their time
    void run()
    {
        const auto period = std::chrono::nanoseconds{static_cast<std::int64_t>(1e9 / rate_)};
        const auto start = std::chrono::steady_clock::now();
        for (std::uint64_t sequence = 0; sequence < count_; ++sequence) {
            const auto due = start + period * static_cast<std::int64_t>(sequence);
            std::this_thread::sleep_until(due);
            const auto now = std::chrono::steady_clock::now();
            if (now - due > period) ++late;
            const std::uint64_t word = sequence + 1 == count_ ? (sequence | last_bit) : sequence;
            if (!publish(
                    Small{word, std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count()}))
                return;
        }
    }

private:
    std::uint64_t count_;
    double rate_;
};

/// (e) Handler style: records now - stamp for every event.
class LatencyConsumer : public ee::plugin<LatencyConsumer, ee::subscribes<Small>, ee::publishes<>> {
public:
    LatencyConsumer(consumer_stats& stats, std::vector<double>& latencies_us)
        : stats_{&stats}, latencies_{&latencies_us}
    {}
    void on(const Small& event)
    {
        latencies_->push_back(static_cast<double>(now_ns() - event.stamp_ns) / 1e3);
        if (stats_->note(event.sequence)) finish();
    }

private:
    consumer_stats* stats_;
    std::vector<double>* latencies_;
};

/// (f) Handler style: waits for an event nobody publishes; declares Small so that the
/// idle application has the topology of (a).
class IdleProducer : public ee::plugin<IdleProducer, ee::subscribes<Wake>, ee::publishes<Small>> {
public:
    void on(const Wake&) { finish(); }
};

// ---------------------------------------------------------------------------
// Running an application and reporting.

ee::app_config quiet_config()
{
    ee::app_config config;
    config.publish_port = 0;
    config.subscribe_port = 0;
    return config;
}

/// Common fields of every line.
json_object line(std::string_view case_name, const options& opts)
{
    json_object out;
    out.add("case", case_name).add("label", opts.label).add("compiler", compiler_name());
    return out;
}

/// Adds the report's accounting; returns whether it is exact (nothing dropped, nothing
/// undecodable, nothing unread, every plugin finished on its own).
bool add_report(json_object& out, const ee::run_report& report)
{
    std::uint64_t decode_failures = 0;
    std::uint64_t unread = 0;
    std::uint64_t waits = 0;
    for (const auto& plugin : report.plugins) {
        decode_failures += plugin.decode_failures;
        unread += plugin.events_unread;
        waits += plugin.publish_waits;
    }
    out.add("dropped", static_cast<unsigned long long>(report.total_dropped()))
        .add("decode_failures", static_cast<unsigned long long>(decode_failures))
        .add("unread", static_cast<unsigned long long>(unread))
        .add("publish_waits", static_cast<unsigned long long>(waits));
    return !report.stopped && report.total_dropped() == 0 && decode_failures == 0 && unread == 0;
}

/// (a), (b), (c): one producer of E, @p consumers consumers, for opts.seconds.
template <class E>
bool run_throughput(std::string_view case_name, const options& opts, std::size_t consumers, E prototype)
{
    std::vector<consumer_stats> stats(consumers);
    ee::app<ee::event_list<E>> app{quiet_config()};
    for (std::size_t i = 0; i < consumers; ++i) {
        app.register_plugin(std::make_unique<Consumer<E>>(stats[i]), "Consumer" + std::to_string(i));
    }
    app.register_plugin(Producer<E>{opts.seconds, std::move(prototype)}, "Producer");
    const ee::run_report report = app.run();

    json_object out = line(case_name, opts);
    bool exact = add_report(out, report);
    std::vector<double> rates;
    std::int64_t first = stats.front().first_ns;
    std::int64_t last = stats.front().last_ns;
    for (const auto& s : stats) {
        exact = exact && s.exact() && s.received == stats.front().received;
        rates.push_back(s.rate());
        first = std::min(first, s.first_ns);
        last = std::max(last, s.last_ns);
    }
    const std::uint64_t events = stats.front().received;
    // Per consumer: every consumer received every event between the earliest first and the
    // latest last arrival, so this is the rate each of them sustained together.
    const double rate = last > first ? static_cast<double>(events - 1) * 1e9 / static_cast<double>(last - first) : 0.0;
    out.add("consumers", static_cast<unsigned long>(consumers))
        .add("events", static_cast<unsigned long long>(events))
        .add("seconds", static_cast<double>(last - first) / 1e9)
        .add("rate", rate)
        .add("rate_min_consumer", *std::min_element(rates.begin(), rates.end()))
        .add("rate_max_consumer", *std::max_element(rates.begin(), rates.end()));
    if (consumers == 1) out.add("cpu_ns_per_event", stats.front().cpu_ns_per_event());
    out.add("peak_rss_kib", peak_rss_kib()).add("exact", exact);
    std::cout << out.str() << std::endl;
    return exact;
}

// ---------------------------------------------------------------------------
// (d) The floor: a bare bounded SPSC ring between two threads.

#if EE_INPROCESS_ATOMIC_QUEUE
template <class T>
using ring = atomic_queue::AtomicQueue2<T, 1024, true, true, false, true>; // SPSC
constexpr std::string_view ring_name = "atomic_queue::AtomicQueue2<T, 1024, SPSC> (libatomic-queue-dev)";
#else
// The same shape where atomic_queue is not installed: a Lamport ring with one slot
// state per element, acquire/release.
template <class T>
class ring {
public:
    bool try_push(T&& value)
    {
        const std::uint64_t head = head_.load(std::memory_order_relaxed);
        if (head - tail_.load(std::memory_order_acquire) >= slots_.size()) return false;
        slots_[head % slots_.size()] = std::move(value);
        head_.store(head + 1, std::memory_order_release);
        return true;
    }
    bool try_pop(T& value)
    {
        const std::uint64_t tail = tail_.load(std::memory_order_relaxed);
        if (head_.load(std::memory_order_acquire) == tail) return false;
        value = std::move(slots_[tail % slots_.size()]);
        tail_.store(tail + 1, std::memory_order_release);
        return true;
    }

private:
    alignas(64) std::atomic<std::uint64_t> head_{0};
    alignas(64) std::atomic<std::uint64_t> tail_{0};
    alignas(64) std::array<T, 1024> slots_{};
};
constexpr std::string_view ring_name = "own Lamport ring, 1024 slots (atomic_queue not installed)";
#endif

/// A full or empty ring: spin a little, then give the core away.
inline void back_off(unsigned& misses)
{
    if (++misses < 64) return;
    misses = 0;
    std::this_thread::yield();
}

struct plain16 {
    std::uint64_t sequence = 0;
    std::int64_t stamp_ns = 0;
};

template <class T>
std::uint64_t sequence_of(const T& value)
{
    if constexpr (requires { value->sequence; }) {
        return value->sequence;
    } else {
        return value.sequence;
    }
}

template <class T, class Make>
bool run_ring(std::string_view case_name, const options& opts, Make make)
{
    const auto queue = std::make_unique<ring<T>>();
    consumer_stats stats;
    std::thread consumer{[&] {
        unsigned misses = 0;
        T value{};
        for (;;) {
            if (!queue->try_pop(value)) {
                back_off(misses);
                continue;
            }
            if (stats.note(sequence_of(value))) return;
        }
    }};
    std::thread producer{[&] {
        const deadline time_up{opts.seconds};
        unsigned misses = 0;
        for (std::uint64_t sequence = 0;; ++sequence) {
            const bool last = time_up.reached(sequence);
            T value = make(last ? (sequence | last_bit) : sequence);
            while (!queue->try_push(std::move(value))) back_off(misses);
            if (last) return;
        }
    }};
    producer.join();
    consumer.join();

    json_object out = line(case_name, opts);
    out.add("ring", ring_name)
        .add("consumers", 1)
        .add("events", static_cast<unsigned long long>(stats.received))
        .add("seconds", static_cast<double>(stats.last_ns - stats.first_ns) / 1e9)
        .add("rate", stats.rate())
        .add("cpu_ns_per_event", stats.cpu_ns_per_event())
        .add("peak_rss_kib", peak_rss_kib())
        .add("exact", stats.exact());
    std::cout << out.str() << std::endl;
    return stats.exact();
}

// ---------------------------------------------------------------------------
// (e) and (f)

bool run_latency(const options& opts)
{
    consumer_stats stats;
    std::vector<double> latencies;
    latencies.reserve(static_cast<std::size_t>(opts.latency_seconds * opts.paced_rate) + 1);
    LatencyConsumer consumer{stats, latencies};
    PacedProducer producer{opts.latency_seconds, opts.paced_rate};
    ee::app<ee::event_list<Small>> app{quiet_config()};
    app.register_plugin(consumer, "Consumer").register_plugin(producer, "Producer");
    const std::int64_t cpu_before = process_cpu_ns();
    const std::int64_t wall_before = now_ns();
    const ee::run_report report = app.run();
    const double cpu_percent =
        100.0 * static_cast<double>(process_cpu_ns() - cpu_before) / static_cast<double>(now_ns() - wall_before);

    // The first 50 ms (start-up, cold caches) are left out.
    const auto skip = std::min(latencies.size(), static_cast<std::size_t>(opts.paced_rate * 0.05));
    const std::vector<double> steady(latencies.begin() + static_cast<std::ptrdiff_t>(skip), latencies.end());
    json_object out = line("latency", opts);
    const bool exact = add_report(out, report) && stats.exact();
    out.add("rate_target", opts.paced_rate)
        .add("events", static_cast<unsigned long long>(stats.received))
        .add("samples", static_cast<unsigned long>(steady.size()))
        .add("late_publishes", static_cast<unsigned long long>(producer.late))
        .add("p50_us", quantile(steady, 0.50))
        .add("p90_us", quantile(steady, 0.90))
        .add("p99_us", quantile(steady, 0.99))
        .add("p999_us", quantile(steady, 0.999))
        .add("max_us", quantile(steady, 1.0))
        .add("cpu_percent", cpu_percent)
        .add("exact", exact);
    std::cout << out.str() << std::endl;
    return exact;
}

bool run_idle(const options& opts)
{
    consumer_stats stats;
    Consumer<Small> consumer{stats};
    IdleProducer producer;
    ee::app<ee::event_list<Small, Wake>> app{quiet_config()};
    app.register_plugin(consumer, "Consumer").register_plugin(producer, "Producer");
    std::atomic<bool> bound{false};
    app.on_bound([&bound](const ee::bound_endpoints&) { bound = true; });
    ee::run_report report;
    std::thread runner{[&] { report = app.run(); }};
    while (!bound) std::this_thread::sleep_for(std::chrono::milliseconds{10});
    // Let the plugins start and the engine settle, then measure.
    std::this_thread::sleep_for(
        std::chrono::milliseconds{std::min<long>(1000, static_cast<long>(opts.idle_seconds * 1000))});
    const std::int64_t cpu_before = process_cpu_ns();
    const std::int64_t wall_before = now_ns();
    std::this_thread::sleep_for(std::chrono::nanoseconds{static_cast<std::int64_t>(opts.idle_seconds * 1e9)});
    const std::int64_t cpu = process_cpu_ns() - cpu_before;
    const std::int64_t wall = now_ns() - wall_before;
    app.stop();
    runner.join();

    json_object out = line("idle", opts);
    out.add("seconds", static_cast<double>(wall) / 1e9)
        .add("cpu_ms", static_cast<double>(cpu) / 1e6)
        .add("cpu_percent", 100.0 * static_cast<double>(cpu) / static_cast<double>(wall))
        .add("received", static_cast<unsigned long long>(stats.received))
        .add("exact", stats.received == 0 && report.total_dropped() == 0);
    std::cout << out.str() << std::endl;
    return stats.received == 0;
}

// ---------------------------------------------------------------------------

constexpr std::string_view usage =
    "usage: ee_bench_inprocess [--case spsc16|fanout16|image1m|ring16|ring16_shared|latency|idle|all]\n"
    "                          [--seconds S] [--latency-seconds S] [--idle-seconds S] [--rate R]\n"
    "                          [--label L] [--smoke] [--json FILE]\n";

bool run_case(std::string_view name, const options& opts)
{
    if (name == "spsc16") return run_throughput("spsc16", opts, 1, Small{});
    if (name == "fanout16") return run_throughput("fanout16", opts, 4, Small{});
    if (name == "image1m") {
        // The producer's one image, never copied by the producer; a pattern, not zeros.
        auto image = std::make_shared<pixels>(image_bytes);
        for (std::size_t i = 0; i < image->size(); ++i) (*image)[i] = static_cast<std::byte>(i * 131);
        return run_throughput("image1m", opts, 2, Image{std::shared_ptr<const pixels>{std::move(image)}, 0});
    }
    if (name == "ring16") return run_ring<plain16>("ring16", opts, [](std::uint64_t s) { return plain16{s, 0}; });
    if (name == "ring16_shared") {
        return run_ring<std::shared_ptr<const plain16>>("ring16_shared", opts, [](std::uint64_t s) {
            return std::make_shared<const plain16>(plain16{s, 0});
        });
    }
    if (name == "latency") return run_latency(opts);
    if (name == "idle") return run_idle(opts);
    std::cerr << "ee_bench_inprocess: unknown case '" << name << "'\n" << usage;
    std::exit(2);
}

} // namespace bench::inprocess

int main(int argc, char** argv)
{
    using namespace bench::inprocess;
    options opts;
    std::string which = "all";
    std::string json_path;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        const auto value = [&] { return bench::option_value(argc, argv, i, "ee_bench_inprocess"); };
        if (arg == "--case") {
            which = value();
        } else if (arg == "--seconds") {
            opts.seconds = std::stod(value());
        } else if (arg == "--latency-seconds") {
            opts.latency_seconds = std::stod(value());
        } else if (arg == "--idle-seconds") {
            opts.idle_seconds = std::stod(value());
        } else if (arg == "--rate") {
            opts.paced_rate = std::stod(value());
        } else if (arg == "--label") {
            opts.label = value();
        } else if (arg == "--smoke") {
            opts.seconds = 0.05;
            opts.latency_seconds = 0.2;
            opts.idle_seconds = 0.2;
        } else if (arg == "--json") {
            json_path = value();
        } else {
            std::cerr << usage;
            return 2;
        }
    }
    const std::vector<std::string> all{"ring16", "ring16_shared", "spsc16", "fanout16", "image1m", "latency", "idle"};
    const std::vector<std::string> cases = which == "all" ? all : std::vector<std::string>{which};

    // A run that hangs (a lost event) is killed: the longest case plus a minute.
    const double longest = std::max({opts.seconds, opts.latency_seconds, opts.idle_seconds + 1.0});
    ::alarm(static_cast<unsigned>(longest * static_cast<double>(cases.size())) + 60);

    // Each case's line also goes to --json (a JSON array), for run_all.sh.
    std::vector<std::string> lines;
    bool ok = true;
    for (const auto& name : cases) {
        std::ostringstream captured;
        auto* const previous = std::cout.rdbuf(captured.rdbuf());
        const bool exact = run_case(name, opts);
        std::cout.rdbuf(previous);
        std::cout << captured.str() << std::flush;
        if (!captured.str().empty()) lines.push_back(captured.str().substr(0, captured.str().size() - 1));
        if (!exact) std::cerr << "ee_bench_inprocess: " << name << ": counts not exact\n";
        ok = ok && exact;
    }
    if (!json_path.empty() && !bench::write_file(json_path, bench::json_array(lines))) {
        std::cerr << "ee_bench_inprocess: cannot write " << json_path << '\n';
        return 1;
    }
    return ok ? 0 : 1;
}
