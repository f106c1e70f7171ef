// How often the engine encodes and decodes an event, counted by a codec that counts
// (issue 22, "Encoding only at the boundary, and once"). These state what typed delivery
// promises; they fail on the engine before it (e54445f), which encodes every publish and
// decodes once per internal subscriber:
//   - only internal plugins subscribe: zero encodes, zero decodes;
//   - 1, 2 or 5 registered external plugins (real Python processes using pyevents) and an
//     internal subscriber: exactly one encode per event, zero decodes;
//   - an external plugin publishes to three internal subscribers: one decode per event, at
//     the boundary, and no encode;
//   - 1 or 2 TCP subscribers on the subscribe port: exactly one encode per event published
//     once they are known to be subscribed, at most one before, zero decodes.
// Every case also checks that the events arrived, so that a count of zero means something.

#include "delivery_support.hpp"
#include "support.hpp"

#include <catch2/catch.hpp>

#include <zmq.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <variant>
#include <vector>

#include <spawn.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ; // NOLINT: POSIX

using namespace event_engine;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t tracked_seqs = 8192;

// Counts per event type, and per sequence number for events that carry one.
template <class E>
struct codec_counts {
    static inline std::atomic<std::uint64_t> encodes{0};
    static inline std::atomic<std::uint64_t> decodes{0};
    static inline std::array<std::atomic<std::uint32_t>, tracked_seqs> encodes_of{};
    static inline std::atomic<std::uint64_t> untracked{0};

    static void reset()
    {
        encodes = 0;
        decodes = 0;
        untracked = 0;
        for (auto& count : encodes_of) count = 0;
    }
};

// A codec (codec.hpp) that counts every encode and decode, then does what Inner does.
template <class Inner>
struct counting_codec {
    template <class E>
    static void encode(const E& event, payload_writer& out)
    {
        ++codec_counts<E>::encodes;
        if constexpr (requires { event.seq; }) {
            if (event.seq < tracked_seqs) ++codec_counts<E>::encodes_of[event.seq];
            else ++codec_counts<E>::untracked;
        }
        Inner::encode(event, out);
    }
    template <class E>
    static E decode(std::span<const std::byte> payload)
    {
        ++codec_counts<E>::decodes;
        return Inner::template decode<E>(payload);
    }
};

struct CountedTick {
    static constexpr std::string_view name = "CountedTick";
    using codec = counting_codec<trivial_codec>;
    std::uint64_t seq = 0;
    std::uint64_t value = 0;
};
struct CountedNote {
    static constexpr std::string_view name = "CountedNote";
    using codec = counting_codec<text_codec>;
    std::string text;
};
using counted_events = event_list<CountedTick, CountedNote>;

// As counting_plugin.py computes it.
constexpr std::uint64_t value_of(std::uint64_t seq) { return seq * 0x9E3779B97F4A7C15ULL; }
constexpr std::uint64_t last_marker = 1; // a value value_of() never gives below tracked_seqs
constexpr std::uint64_t unseen = 20;     // TCP events published before a TCP subscriber connects

void reset_counts()
{
    codec_counts<CountedTick>::reset();
    codec_counts<CountedNote>::reset();
}

struct counts {
    std::uint64_t tick_encodes = codec_counts<CountedTick>::encodes;
    std::uint64_t tick_decodes = codec_counts<CountedTick>::decodes;
    std::uint64_t note_encodes = codec_counts<CountedNote>::encodes;
    std::uint64_t note_decodes = codec_counts<CountedNote>::decodes;
};

// ---------------------------------------------------------------- plugins

class TickProducer : public plugin<TickProducer, subscribes<>, publishes<CountedTick>> {
public:
    explicit TickProducer(std::uint64_t events) : count{events} {}
    std::uint64_t count;
    std::uint64_t published = 0;
    void run()
    {
        for (std::uint64_t seq = 0; seq < count; ++seq) {
            if (!publish(CountedTick{seq, value_of(seq)})) return;
            ++published;
        }
    }
};

class MixedProducer : public plugin<MixedProducer, subscribes<>, publishes<CountedTick, CountedNote>> {
public:
    std::uint64_t count = 0; // of each type
    std::uint64_t published = 0;
    void run()
    {
        for (std::uint64_t seq = 0; seq < count; ++seq) {
            if (!publish(CountedTick{seq, value_of(seq)})) return;
            if (!publish(CountedNote{"note " + std::to_string(seq)})) return;
            published += 2;
        }
    }
};

// Handler style: finishes after `expected` events (or at the last marker); counts the Ticks in order.
template <class... Es>
class HandlerSink : public plugin<HandlerSink<Es...>, subscribes<Es...>, publishes<>> {
public:
    explicit HandlerSink(std::uint64_t events) : expected{events} {}
    std::uint64_t expected; // 0: until the last marker
    std::uint64_t handed = 0;
    std::uint64_t out_of_order = 0;
    std::uint64_t next_tick = 0;
    template <class E>
    void on(const E& event)
    {
        ++handed;
        bool last = false;
        if constexpr (std::is_same_v<E, CountedTick>) {
            if (event.seq != next_tick) ++out_of_order;
            next_tick = event.seq + 1;
            last = event.value == last_marker;
        }
        if ((expected != 0 && handed == expected) || (expected == 0 && last)) this->finish();
    }
};

class LoopSink : public plugin<LoopSink, subscribes<CountedTick, CountedNote>, publishes<>> {
public:
    std::uint64_t expected = 0;
    std::uint64_t handed = 0;
    void run()
    {
        while (handed < expected) {
            auto received = receive();
            if (!received) return;
            std::visit([](const auto&) {}, *received);
            ++handed;
        }
    }
};

// ---------------------------------------------------------------- Python plugin processes

// counting_plugin.py run by /usr/bin/python3 with pyevents on its path; killed if still
// there when the test is done with it.
class python_plugin {
public:
    python_plugin(std::uint16_t port, const std::string& mode, std::uint64_t count)
    {
        std::vector<std::string> args{EE_TEST_PYTHON, EE_TEST_COUNTING_PLUGIN, std::to_string(port), mode,
                                      std::to_string(count)};
        std::vector<std::string> env{std::string{"PYTHONPATH="} + EE_TEST_PYEVENTS_DIR, "PYTHONDONTWRITEBYTECODE=1"};
        for (char** entry = environ; *entry != nullptr; ++entry) {
            const std::string_view line{*entry};
            if (line.rfind("PYTHONPATH=", 0) != 0 && line.rfind("PYTHONDONTWRITEBYTECODE=", 0) != 0) {
                env.emplace_back(line);
            }
        }
        std::vector<char*> argv;
        for (auto& arg : args) argv.push_back(arg.data());
        argv.push_back(nullptr);
        std::vector<char*> envp;
        for (auto& entry : env) envp.push_back(entry.data());
        envp.push_back(nullptr);
        if (::posix_spawn(&pid_, EE_TEST_PYTHON, nullptr, nullptr, argv.data(), envp.data()) != 0) pid_ = -1;
    }
    python_plugin(const python_plugin&) = delete;
    python_plugin& operator=(const python_plugin&) = delete;
    ~python_plugin()
    {
        if (pid_ > 0 && !reaped_) {
            ::kill(pid_, SIGKILL);
            int status = 0;
            ::waitpid(pid_, &status, 0);
        }
    }

    // Its exit status; -1 if it could not start or had to be killed after @p bound.
    int wait(std::chrono::milliseconds bound = 30s)
    {
        if (pid_ <= 0) return -1;
        const auto give_up = std::chrono::steady_clock::now() + bound;
        int status = 0;
        for (;;) {
            const pid_t done = ::waitpid(pid_, &status, WNOHANG);
            if (done == pid_) break;
            if (std::chrono::steady_clock::now() >= give_up) {
                ::kill(pid_, SIGKILL);
                ::waitpid(pid_, &status, 0);
                reaped_ = true;
                return -1;
            }
            std::this_thread::sleep_for(5ms);
        }
        reaped_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }

private:
    pid_t pid_ = -1;
    bool reaped_ = false;
};

// Each of the first @p count CountedTicks was encoded exactly once.
void check_each_encoded_once(std::uint64_t count)
{
    for (std::uint64_t seq = 0; seq < count; ++seq) {
        const auto encodes = codec_counts<CountedTick>::encodes_of[seq].load();
        if (encodes != 1) {
            FAIL_CHECK("event " << seq << " encoded " << encodes << " times");
            return;
        }
    }
}

external_options bounded()
{
    external_options options;
    options.connect_timeout = 60s; // fails, not hangs, if a process never comes
    return options;
}

} // namespace

TEST_CASE("typed delivery: only internal subscribers - no encode and no decode", "[typed][counting]")
{
    reset_counts();
    constexpr std::uint64_t count = 1000;
    MixedProducer producer;
    producer.count = count;
    HandlerSink<CountedTick, CountedNote> both{2 * count};
    HandlerSink<CountedTick> ticks{count};
    LoopSink loop;
    loop.expected = 2 * count;

    app<counted_events> application{test_events::any_ports()};
    application.register_plugin(both, "both")
        .register_plugin(ticks, "ticks")
        .register_plugin(loop, "loop")
        .register_plugin(producer, "producer");
    const auto report = application.run();
    const counts seen;

    // They got every event, so zero counts below are not an empty run.
    delivery_tests::check_published(report, "producer", 2 * count);
    delivery_tests::check_all_received(report, "both", 2 * count);
    delivery_tests::check_all_received(report, "ticks", count);
    delivery_tests::check_all_received(report, "loop", 2 * count);
    CHECK(both.out_of_order == 0);
    CHECK(ticks.out_of_order == 0);

    INFO("published " << count << " CountedTick (3 internal subscribers) and " << count
                      << " CountedNote (2 internal subscribers); CountedTick: " << seen.tick_encodes << " encodes, "
                      << seen.tick_decodes << " decodes; CountedNote: " << seen.note_encodes << " encodes, "
                      << seen.note_decodes << " decodes");
    CHECK(seen.tick_encodes == 0);
    CHECK(seen.tick_decodes == 0);
    CHECK(seen.note_encodes == 0);
    CHECK(seen.note_decodes == 0);
}

TEST_CASE("typed delivery: external subscribers beside an internal one - one encode per event, no decode",
          "[typed][counting][python]")
{
    const int externals = GENERATE(1, 2, 5);
    CAPTURE(externals);
    reset_counts();
    constexpr std::uint64_t count = 300;
    using External = external_plugin<subscribes<CountedTick>, publishes<>>;

    TickProducer producer{count};
    HandlerSink<CountedTick> internal{count};
    app<counted_events> application{test_events::any_ports()};
    application.register_plugin(internal, "internal").register_plugin(producer, "producer");
    std::vector<std::string> names;
    for (int i = 0; i < externals; ++i) {
        names.push_back("py" + std::to_string(i));
        application.register_external_plugin(External{names.back(), 0, bounded()});
    }
    std::vector<std::unique_ptr<python_plugin>> processes;
    application.on_bound([&](const bound_endpoints& bound) {
        for (const auto& name : names) {
            processes.push_back(std::make_unique<python_plugin>(bound.port_of(name), "subscribe", count));
        }
    });
    const auto report = application.run();
    const counts seen;

    REQUIRE(processes.size() == names.size());
    for (std::size_t i = 0; i < processes.size(); ++i) {
        INFO("external plugin " << names[i]);
        CHECK(processes[i]->wait() == 0); // it took every event, in order, intact
        delivery_tests::check_all_received(report, names[i], count);
        CHECK(report.find(names[i])->outcome == plugin_outcome::finished);
    }
    delivery_tests::check_published(report, "producer", count);
    delivery_tests::check_all_received(report, "internal", count);
    CHECK(internal.out_of_order == 0);

    INFO("published " << count << " CountedTick to 1 internal and " << externals << " external subscribers: "
                      << seen.tick_encodes << " encodes, " << seen.tick_decodes << " decodes");
    CHECK(seen.tick_encodes == count); // once for everything outside, however many
    check_each_encoded_once(count);
    CHECK(seen.tick_decodes == 0); // the internal subscriber takes the object
}

TEST_CASE("typed delivery: external plugins and a TCP subscriber together - still one encode per event",
          "[typed][counting][python]")
{
    reset_counts();
    constexpr std::uint64_t count = 300;
    using External = external_plugin<subscribes<CountedTick>, publishes<>>;

    TickProducer producer{count};
    HandlerSink<CountedTick> internal{count};
    app<counted_events> application{test_events::any_ports()};
    application.register_plugin(internal, "internal")
        .register_plugin(producer, "producer")
        .register_external_plugin(External{"py0", 0, bounded()})
        .register_external_plugin(External{"py1", 0, bounded()});
    std::vector<std::unique_ptr<python_plugin>> processes;
    std::atomic<bool> run_done{false};
    std::uint64_t tcp_received = 0;
    std::optional<std::thread> outsider;
    application.on_bound([&](const bound_endpoints& bound) {
        for (const char* name : {"py0", "py1"}) {
            processes.push_back(std::make_unique<python_plugin>(bound.port_of(name), "subscribe", count));
        }
        // What it receives depends on when its subscription arrives (best effort): not checked.
        outsider.emplace([&, port = bound.subscribe_port] {
            zmq::context_t context;
            zmq::socket_t subscriber{context, zmq::socket_type::sub};
            subscriber.set(zmq::sockopt::linger, 0);
            subscriber.set(zmq::sockopt::rcvtimeo, 50);
            subscriber.set(zmq::sockopt::subscribe, "CountedTick");
            subscriber.connect("tcp://127.0.0.1:" + std::to_string(port));
            zmq::message_t frame;
            while (!run_done) {
                if (subscriber.recv(frame)) ++tcp_received;
            }
        });
    });
    const auto report = application.run();
    run_done = true;
    outsider->join();
    const counts seen;

    REQUIRE(processes.size() == 2);
    for (auto& process : processes) CHECK(process->wait() == 0);
    delivery_tests::check_all_received(report, "py0", count);
    delivery_tests::check_all_received(report, "py1", count);
    delivery_tests::check_all_received(report, "internal", count);

    INFO("published " << count << " CountedTick to 1 internal, 2 external and 1 TCP subscriber (which received "
                      << tcp_received << "): " << seen.tick_encodes << " encodes, " << seen.tick_decodes << " decodes");
    CHECK(seen.tick_encodes == count);
    check_each_encoded_once(count);
    CHECK(seen.tick_decodes == 0);
}

TEST_CASE("typed delivery: events from an external publisher - decoded once at the boundary, never encoded",
          "[typed][counting][python]")
{
    reset_counts();
    constexpr std::uint64_t count = 300;
    using External = external_plugin<subscribes<>, publishes<CountedTick>>;

    HandlerSink<CountedTick> first{count};
    HandlerSink<CountedTick> second{count};
    LoopSink loop;
    loop.expected = count;
    app<counted_events> application{test_events::any_ports()};
    application.register_plugin(first, "first")
        .register_plugin(second, "second")
        .register_plugin(loop, "loop")
        .register_external_plugin(External{"py", 0, bounded()});
    std::unique_ptr<python_plugin> process;
    application.on_bound([&](const bound_endpoints& bound) {
        process = std::make_unique<python_plugin>(bound.port_of("py"), "publish", count);
    });
    const auto report = application.run();
    const counts seen;

    REQUIRE(process != nullptr);
    CHECK(process->wait() == 0);
    CHECK(report.find("py")->events_published == count);
    delivery_tests::check_all_received(report, "first", count);
    delivery_tests::check_all_received(report, "second", count);
    delivery_tests::check_all_received(report, "loop", count);
    CHECK(first.out_of_order == 0);
    CHECK(second.out_of_order == 0);

    INFO("an external plugin published " << count << " CountedTick to 3 internal subscribers: " << seen.tick_encodes
                                         << " encodes, " << seen.tick_decodes << " decodes");
    CHECK(seen.tick_decodes == count);
    CHECK(seen.tick_encodes == 0);
}

TEST_CASE("typed delivery: TCP subscribers on the subscribe port - one encode per event they can receive, no decode",
          "[typed][counting]")
{
    const int subscribers = GENERATE(1, 2);
    CAPTURE(subscribers);
    reset_counts();
    constexpr std::uint64_t counted = 500;

    // Publishes 20 events before any TCP subscriber connects, then slowly until every TCP
    // subscriber has heard an event (its subscription is then known to the engine), notes
    // where that was, then `counted` events as fast as it can and a last one that says so.
    class Repeater : public plugin<Repeater, subscribes<>, publishes<CountedTick>> {
    public:
        std::atomic<int>* heard = nullptr;
        std::atomic<bool>* may_connect = nullptr;
        int subscribers = 0;
        std::uint64_t first_counted = 0;
        std::uint64_t published = 0;
        void run()
        {
            std::uint64_t seq = 0;
            while (heard->load() < subscribers && !stop_requested() && seq < tracked_seqs / 2) {
                if (!publish(CountedTick{seq, value_of(seq)})) return;
                if (++seq == unseen) *may_connect = true;
                std::this_thread::sleep_for(2ms);
            }
            first_counted = seq;
            for (std::uint64_t i = 0; i < counted; ++i, ++seq) {
                if (!publish(CountedTick{seq, value_of(seq)})) return;
            }
            if (publish(CountedTick{seq, last_marker})) ++seq;
            published = seq;
        }
    };

    std::atomic<int> heard{0};
    std::atomic<bool> may_connect{false};
    Repeater repeater;
    repeater.heard = &heard;
    repeater.may_connect = &may_connect;
    repeater.subscribers = subscribers;
    HandlerSink<CountedTick> internal{0}; // until the last marker
    app<counted_events> application{test_events::any_ports()};
    application.register_plugin(internal, "internal").register_plugin(repeater, "repeater");

    std::vector<std::uint64_t> received(static_cast<std::size_t>(subscribers));
    std::vector<int> got_last(static_cast<std::size_t>(subscribers));
    std::vector<std::thread> outsiders;
    application.on_bound([&](const bound_endpoints& bound) {
        for (int i = 0; i < subscribers; ++i) {
            outsiders.emplace_back([&, i, port = bound.subscribe_port] {
                zmq::context_t context;
                zmq::socket_t subscriber{context, zmq::socket_type::sub};
                subscriber.set(zmq::sockopt::linger, 0);
                subscriber.set(zmq::sockopt::rcvtimeo, 30'000); // a hang guard
                subscriber.set(zmq::sockopt::subscribe, "CountedTick");
                const auto hang_guard = std::chrono::steady_clock::now() + 60s;
                while (!may_connect && std::chrono::steady_clock::now() < hang_guard) std::this_thread::sleep_for(1ms);
                subscriber.connect("tcp://127.0.0.1:" + std::to_string(port));
                zmq::message_t frame;
                while (subscriber.recv(frame)) {
                    if (received[static_cast<std::size_t>(i)]++ == 0) ++heard;
                    CountedTick tick;
                    if (frame.size() == 11 + sizeof tick) {
                        std::memcpy(&tick, static_cast<const char*>(frame.data()) + 11, sizeof tick);
                        if (tick.value == last_marker) {
                            got_last[static_cast<std::size_t>(i)] = 1;
                            return;
                        }
                    }
                }
            });
        }
    });
    const auto report = application.run();
    for (auto& outsider : outsiders) outsider.join();
    const counts seen;

    CHECK(heard == subscribers);
    for (int i = 0; i < subscribers; ++i) {
        CHECK(got_last[static_cast<std::size_t>(i)] == 1);
    }
    delivery_tests::check_published(report, "repeater", repeater.published);
    delivery_tests::check_all_received(report, "internal", repeater.published);
    CHECK(internal.out_of_order == 0);

    INFO(repeater.first_counted << " events published before every TCP subscriber was known (" << unseen
                                << " before any connected), then " << counted + 1 << " with " << subscribers
                                << " TCP subscribers and 1 internal: " << seen.tick_encodes << " encodes, "
                                << seen.tick_decodes << " decodes");
    REQUIRE(repeater.published < tracked_seqs);
    CHECK(codec_counts<CountedTick>::untracked == 0);
    std::uint64_t before = 0;
    for (std::uint64_t seq = 0; seq < repeater.published; ++seq) {
        const auto encodes = codec_counts<CountedTick>::encodes_of[seq].load();
        if (seq < repeater.first_counted) {
            before += encodes;
            CHECK(encodes <= 1);
        } else if (encodes != 1) {
            FAIL_CHECK("event " << seq << " (after every subscriber was known) encoded " << encodes << " times");
            break;
        }
    }
    INFO("of the " << repeater.first_counted << " events published before every TCP subscriber was known, " << before
                   << " were encoded");
    CHECK(seen.tick_encodes == before + (repeater.published - repeater.first_counted));
    CHECK(seen.tick_decodes == 0);
}
