// Benchmark (b): the original engine's load test, end to end.
//
// A producer publishes N `InitialMsgString` events whose payload is a string of
// 'X' whose length cycles 100, 101, ..., 1000, 100, ...; an operator answers each
// with an `OperatorMsg` carrying the length as decimal text; an accumulator sums
// the lengths and checks it received exactly N and the exact total.
//
// Variants with the same topology and loss policy (never drop; backpressure
// through XPUB_NODROP and the high-water marks, 1000 everywhere):
//   engine      event_engine::app with three plugins;
//   raw         hand-written cppzmq with the engine's current topology: a proxy
//               thread reading two XSUBs (one for plugins that only publish, one
//               for plugins that also subscribe, whose answers it forwards first,
//               the rest in batches of 32) into an XPUB with XPUB_NODROP; three
//               plugin threads, each with its own PUB and SUB; the same start-up
//               sync (a probe through the proxy, then a barrier). A publish that
//               finds its pipe full backs off as the engine's does (yield, then
//               50 us sleeps); meanwhile a plugin that subscribes moves what
//               arrives into a bounded queue (100,000, as the engine), so it
//               cannot deadlock with the proxy. Simpler than the engine where it
//               can be: the proxy waits in zmq_send, no demand signal;
//   raw_simple  the obvious hand-written program (informative): one XSUB, the
//               producer waits inside zmq_send; the operator as above. It shows
//               what the engine's policy buys: without the priority input the
//               operator's queue grows with N and, past its bound, events are lost;
//   engine_view the engine with a zero-copy codec for InitialMsgString (the event
//               views the frame during on(); the producer's event views a constant
//               buffer): informative, what an application can choose today when
//               copying payloads into std::string is the cost.
//
// Each run happens in its own child process (this binary re-executed with
// --child) so its peak RSS (VmHWM) is its own. The parent alternates the
// variants over several trials and reports medians, and the throughput ratio
// engine / raw as the median of the per-trial ratios.
//
// Latency: every `stride`-th event the producer stores a steady_clock timestamp
// in a side table indexed by sequence number, just before publishing it; the
// operator's handler (one hop) and the accumulator's (two hops, through the
// operator) record now - timestamp. Events arrive in order (one publisher, FIFO
// pipes, no drops), so the i-th event received is sequence number i.
// Under saturation those latencies are mostly queueing; --pace R makes the producer
// keep to R events/s (event i is published at start + i/R, or at once when late),
// which gives the latency of a steady stream (issue 22: --pace 10000, one hop).

#include "bench_common.hpp"

#include <event_engine/event_engine.hpp>

#include <zmq.hpp>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <iostream>
#include <latch>
#include <memory>
#include <mutex>
#include <optional>
#include <poll.h>
#include <span>
#include <spawn.h>
#include <string>
#include <string_view>
#include <sys/wait.h>
#include <thread>
#include <type_traits>
#include <unistd.h>
#include <vector>

extern char** environ;

namespace bench::load {

// ---------------------------------------------------------------------------
// What both variants share: sizes, expected results and the latency side table.

constexpr std::size_t min_length = 100;
constexpr std::size_t max_length = 1000;
constexpr int high_water_mark = 1000; // the engine's default, used by both variants

constexpr std::size_t length_of(std::uint64_t sequence)
{
    return min_length + static_cast<std::size_t>(sequence % (max_length - min_length + 1));
}

constexpr std::uint64_t expected_total(std::uint64_t n)
{
    std::uint64_t total = 0;
    for (std::uint64_t i = 0; i < n; ++i) total += length_of(i);
    return total;
}

class run_state {
public:
    run_state(std::uint64_t n, std::uint64_t stride, double pace = 0)
        : n_{n}, stride_{stride}, samples_{n / stride + 1}, published_ns_{new std::atomic<std::int64_t>[samples_]},
          period_ns_{pace > 0 ? static_cast<std::int64_t>(1e9 / pace) : 0}
    {
        for (std::size_t i = 0; i < samples_; ++i) published_ns_[i].store(0, std::memory_order_relaxed);
        hop1_us_.reserve(samples_);
        e2e_us_.reserve(samples_);
    }

    [[nodiscard]] std::uint64_t n() const noexcept { return n_; }

    void started() noexcept { start_ns_.store(now_ns()); }

    // Producer, just before publishing event @p sequence. Paced (--pace): first waits
    // until the event's time, start + sequence / pace.
    void before_publish(std::uint64_t sequence) noexcept
    {
        if (period_ns_ != 0) {
            const auto due =
                start_ns_.load(std::memory_order_relaxed) + static_cast<std::int64_t>(sequence) * period_ns_;
            std::this_thread::sleep_for(std::chrono::nanoseconds{due - now_ns()});
        }
        if (sequence % stride_ == 0) published_ns_[sequence / stride_].store(now_ns(), std::memory_order_release);
    }
    // Operator, on receiving event @p sequence.
    void at_operator(std::uint64_t sequence) { record(sequence, hop1_us_); }
    // Accumulator, on receiving the answer to event @p sequence.
    void at_accumulator(std::uint64_t sequence, std::uint64_t length)
    {
        record(sequence, e2e_us_);
        ++received_;
        total_ += length;
        if (received_ == n_) end_ns_ = now_ns();
    }

    [[nodiscard]] std::uint64_t received() const noexcept { return received_; }
    [[nodiscard]] std::uint64_t total() const noexcept { return total_; }
    [[nodiscard]] double seconds() const noexcept { return static_cast<double>(end_ns_ - start_ns_.load()) / 1e9; }
    [[nodiscard]] const std::vector<double>& hop1_us() const noexcept { return hop1_us_; }
    [[nodiscard]] const std::vector<double>& e2e_us() const noexcept { return e2e_us_; }

private:
    void record(std::uint64_t sequence, std::vector<double>& into)
    {
        if (sequence % stride_ != 0) return;
        const std::int64_t sent = published_ns_[sequence / stride_].load(std::memory_order_acquire);
        into.push_back(static_cast<double>(now_ns() - sent) / 1e3);
    }

    std::uint64_t n_;
    std::uint64_t stride_;
    std::size_t samples_;
    std::unique_ptr<std::atomic<std::int64_t>[]> published_ns_;
    std::vector<double> hop1_us_; // operator thread only
    std::vector<double> e2e_us_;  // accumulator thread only
    std::int64_t period_ns_;      // 0: as fast as possible
    std::atomic<std::int64_t> start_ns_{0};
    std::int64_t end_ns_ = 0;
    std::uint64_t received_ = 0;
    std::uint64_t total_ = 0;
};

// Stops a run that does not finish in time (a lost event would otherwise hang it).
class watchdog {
public:
    template <class OnTimeout>
    watchdog(std::chrono::seconds limit, OnTimeout on_timeout)
        : thread_{[this, limit, on_timeout] {
              std::unique_lock lock{mutex_};
              if (!done_changed_.wait_for(lock, limit, [this] { return done_; })) {
                  fired_ = true;
                  on_timeout();
              }
          }}
    {}
    ~watchdog()
    {
        {
            const std::scoped_lock lock{mutex_};
            done_ = true;
        }
        done_changed_.notify_all();
        thread_.join();
    }
    watchdog(const watchdog&) = delete;
    watchdog& operator=(const watchdog&) = delete;
    [[nodiscard]] bool fired() const noexcept { return fired_; }

private:
    std::mutex mutex_;
    std::condition_variable done_changed_;
    bool done_ = false;
    std::atomic<bool> fired_{false};
    std::thread thread_;
};

struct run_outcome {
    bool completed = false; // every plugin ended on its own, no watchdog
    std::uint64_t dropped = 0;
    std::uint64_t publish_waits = 0;
};

// ---------------------------------------------------------------------------
// (i) event_engine

namespace ee = event_engine;

struct InitialMsgString {
    static constexpr std::string_view name = "InitialMsgString";
    using codec = ee::text_codec;
    std::string text;
};

// engine_view: the same event with the library's zero-copy text_view_codec. The
// event holds a view of the received frame, valid while the handler runs, and the
// producer's event views a constant buffer of 'X' (docs/events.md, "Large payloads").
struct InitialMsgStringView {
    static constexpr std::string_view name = "InitialMsgString";
    using codec = ee::text_view_codec;
    std::string_view text;
};

// The length as decimal text, as the original's OperatorMsg carries it.
struct decimal_codec {
    template <class E>
    static void encode(const E& event, ee::payload_writer& out)
    {
        char digits[24];
        const auto end = std::to_chars(digits, digits + sizeof digits, event.length).ptr;
        out.append(std::string_view{digits, static_cast<std::size_t>(end - digits)});
    }
    template <class E>
    static E decode(std::span<const std::byte> payload)
    {
        const auto* first = reinterpret_cast<const char*>(payload.data());
        E event{};
        const auto [end, error] = std::from_chars(first, first + payload.size(), event.length);
        if (error != std::errc{} || end != first + payload.size()) throw ee::decode_error{"not a decimal length"};
        return event;
    }
};

struct OperatorMsg {
    static constexpr std::string_view name = "OperatorMsg";
    using codec = decimal_codec;
    std::uint64_t length = 0;
};

template <class Msg>
class Producer : public ee::plugin<Producer<Msg>, ee::subscribes<>, ee::publishes<Msg>> {
public:
    explicit Producer(run_state& state) : state_{&state} {}
    void run()
    {
        static const std::string x_buffer(max_length, 'X');
        Msg message;
        if constexpr (std::is_same_v<decltype(message.text), std::string>) message.text.reserve(max_length);
        state_->started();
        for (std::uint64_t i = 0; i < state_->n(); ++i) {
            if constexpr (std::is_same_v<decltype(message.text), std::string>) {
                message.text.assign(length_of(i), 'X');
            } else {
                message.text = std::string_view{x_buffer.data(), length_of(i)};
            }
            state_->before_publish(i);
            if (!this->publish(message)) return;
        }
    }

private:
    run_state* state_;
};

template <class Msg>
class Operator : public ee::plugin<Operator<Msg>, ee::subscribes<Msg>, ee::publishes<OperatorMsg>> {
public:
    explicit Operator(run_state& state) : state_{&state} {}
    void on(const Msg& event)
    {
        state_->at_operator(sequence_);
        this->publish(OperatorMsg{event.text.size()});
        if (++sequence_ == state_->n()) this->finish();
    }

private:
    run_state* state_;
    std::uint64_t sequence_ = 0;
};

class Accumulator : public ee::plugin<Accumulator, ee::subscribes<OperatorMsg>> {
public:
    explicit Accumulator(run_state& state) : state_{&state} {}
    void on(const OperatorMsg& event)
    {
        state_->at_accumulator(sequence_, event.length);
        if (++sequence_ == state_->n()) finish();
    }

private:
    run_state* state_;
    std::uint64_t sequence_ = 0;
};

template <class Msg>
run_outcome run_engine(run_state& state, std::chrono::seconds limit)
{
    Producer<Msg> producer{state};
    Operator<Msg> op{state};
    Accumulator accumulator{state};
    ee::app<ee::event_list<Msg, OperatorMsg>> app{
        {.publish_port = 0, .subscribe_port = 0, .high_water_mark = high_water_mark}};
    app.register_plugin(producer, "Producer").register_plugin(op, "Operator").register_plugin(accumulator);
    ee::run_report report;
    bool fired = false;
    {
        watchdog guard{limit, [&app] { app.stop(); }};
        report = app.run();
        fired = guard.fired();
    }
    run_outcome outcome;
    outcome.completed = !fired && !report.stopped;
    outcome.dropped = report.total_dropped();
    for (const auto& plugin : report.plugins) {
        outcome.publish_waits += plugin.publish_waits;
        outcome.dropped += plugin.decode_failures;
    }
    return outcome;
}

// ---------------------------------------------------------------------------
// (ii) raw cppzmq, written the way one would by hand.

namespace raw {

constexpr const char* incoming = "inproc://raw/incoming";
constexpr const char* incoming_priority = "inproc://raw/incoming-priority";
constexpr const char* outgoing = "inproc://raw/outgoing";
constexpr std::string_view initial_topic = "InitialMsgString";
constexpr std::string_view operator_topic = "OperatorMsg";
// clang-format off
constexpr std::string_view probe_prefix = "\xff" "raw/probe/";
// clang-format on
constexpr std::size_t spill_limit = 100'000; // the engine's default

std::string_view view(const zmq::message_t& frame) { return {static_cast<const char*>(frame.data()), frame.size()}; }

// The proxy: XSUB(s) in, XPUB out (never drops: waits while a subscriber is full).
// With @p priority, a second XSUB takes the output of plugins that also subscribe
// and is forwarded first; new work from the first comes in batches of 32.
void proxy(zmq::context_t& context, std::latch& bound, bool priority)
{
    zmq::socket_t in{context, zmq::socket_type::xsub};
    zmq::socket_t in_priority{context, zmq::socket_type::xsub};
    zmq::socket_t out{context, zmq::socket_type::xpub};
    for (auto* socket : {&in, &in_priority, &out}) socket->set(zmq::sockopt::linger, 0);
    in.set(zmq::sockopt::rcvhwm, high_water_mark);
    in_priority.set(zmq::sockopt::rcvhwm, high_water_mark);
    out.set(zmq::sockopt::sndhwm, high_water_mark);
    out.set(zmq::sockopt::xpub_nodrop, 1);
    in.bind(incoming);
    in_priority.bind(incoming_priority);
    out.bind(outgoing);
    const char subscribe_all = 1;
    in.send(zmq::buffer(&subscribe_all, 1));
    in_priority.send(zmq::buffer(&subscribe_all, 1));
    bound.count_down();
    const int batch_of_new_work = priority ? 32 : 1024;
    try {
        zmq::pollitem_t items[] = {{in_priority.handle(), 0, ZMQ_POLLIN, 0},
                                   {in.handle(), 0, ZMQ_POLLIN, 0},
                                   {out.handle(), 0, ZMQ_POLLIN, 0}};
        zmq::message_t frame;
        for (;;) {
            zmq::poll(items, 3, std::chrono::milliseconds{-1});
            if (items[2].revents & ZMQ_POLLIN) {
                while (out.recv(frame, zmq::recv_flags::dontwait)) {
                } // subscriptions: read so the XPUB processes them
            }
            for (bool moved = true; moved;) {
                moved = false;
                for (int batch = 0; batch < 1024 && in_priority.recv(frame, zmq::recv_flags::dontwait); ++batch) {
                    out.send(frame, zmq::send_flags::none);
                    moved = true;
                }
                for (int batch = 0; batch < batch_of_new_work && in.recv(frame, zmq::recv_flags::dontwait); ++batch) {
                    out.send(frame, zmq::send_flags::none);
                    moved = true;
                }
            }
        }
    } catch (const zmq::error_t& failure) {
        if (failure.num() != ETERM) std::cerr << "raw proxy: " << failure.what() << "\n";
    }
}

// One plugin's sockets: its own PUB and SUB, start-up probe, publish, receive.
class plugin_sockets {
public:
    plugin_sockets(zmq::context_t& context, std::initializer_list<std::string_view> topics, int index,
                   std::atomic<bool>& abort, bool priority)
        : abort_{&abort}, sub_{context, zmq::socket_type::sub}, pub_{context, zmq::socket_type::pub},
          probe_{std::string{probe_prefix} + std::to_string(index)}
    {
        sub_.set(zmq::sockopt::rcvhwm, high_water_mark);
        sub_.set(zmq::sockopt::linger, 0);
        sub_.connect(outgoing);
        for (const auto topic : topics) sub_.set(zmq::sockopt::subscribe, topic);
        sub_.set(zmq::sockopt::subscribe, probe_);
        pub_.set(zmq::sockopt::sndhwm, high_water_mark);
        pub_.set(zmq::sockopt::xpub_nodrop, 1);
        pub_.set(zmq::sockopt::linger, 5000);
        pub_.set(zmq::sockopt::sndtimeo, 100); // only for publish_blocking: look at abort_ now and then
        pub_.connect(priority && topics.size() > 0 ? incoming_priority : incoming);
    }

    // Publish probes until one comes back through the proxy: subscriptions and
    // the publisher's connection are then in place.
    void probe()
    {
        zmq::message_t frame;
        for (;;) {
            zmq::message_t probe{probe_.data(), probe_.size()};
            (void)pub_.send(probe, zmq::send_flags::dontwait);
            zmq::pollitem_t items[] = {{sub_.handle(), 0, ZMQ_POLLIN, 0}};
            zmq::poll(items, 1, std::chrono::milliseconds{2});
            while (sub_.recv(frame, zmq::recv_flags::dontwait)) {
                if (view(frame) == probe_) {
                    sub_.set(zmq::sockopt::unsubscribe, probe_);
                    return;
                }
            }
        }
    }

    // A plugin that only publishes can simply block at the high-water mark.
    void publish_blocking(zmq::message_t& frame)
    {
        while (!pub_.send(frame, zmq::send_flags::none) && !abort_->load()) {
        }
    }

    // The engine's publish policy, by hand: try; while the pipe is full, keep
    // reading the subscription into a bounded queue (a plugin that publishes and
    // subscribes could otherwise wait on the proxy while the proxy waits on it),
    // yield, then back off 50 us; let ZeroMQ process its "room again" commands; retry.
    void publish_draining(zmq::message_t& frame)
    {
        for (int attempt = 0; !pub_.send(frame, zmq::send_flags::dontwait) && !abort_->load(); ++attempt) {
            zmq::message_t incoming_frame;
            while (sub_.recv(incoming_frame, zmq::recv_flags::dontwait)) {
                if (spill_.size() < spill_limit) {
                    spill_.push_back(std::move(incoming_frame));
                } else {
                    ++dropped_;
                    abort_->store(true); // the count can no longer be exact: end the run
                }
            }
            if (attempt < 64) std::this_thread::yield();
            else std::this_thread::sleep_for(std::chrono::microseconds{50});
            (void)pub_.get(zmq::sockopt::events);
        }
    }

    [[nodiscard]] std::uint64_t dropped() const noexcept { return dropped_; }

    // The next frame, or nullopt once the run is aborted.
    std::optional<zmq::message_t> receive()
    {
        zmq::message_t frame;
        if (!spill_.empty()) {
            frame = std::move(spill_.front());
            spill_.pop_front();
            return frame;
        }
        while (!sub_.recv(frame, zmq::recv_flags::dontwait)) {
            if (abort_->load()) return std::nullopt;
            zmq::pollitem_t items[] = {{sub_.handle(), 0, ZMQ_POLLIN, 0}};
            zmq::poll(items, 1, std::chrono::milliseconds{100});
        }
        return frame;
    }

private:
    std::atomic<bool>* abort_;
    zmq::socket_t sub_;
    zmq::socket_t pub_;
    std::string probe_;
    std::deque<zmq::message_t> spill_;
    std::uint64_t dropped_ = 0;
};

run_outcome run(run_state& state, bool simple)
{
    const bool priority = !simple;
    const bool producer_blocks = simple;
    zmq::context_t context;
    std::latch bound{1};
    std::thread proxy_thread{[&] { proxy(context, bound, priority); }};
    bound.wait();
    std::latch started{3};
    std::atomic<std::uint64_t> unexpected{0};
    std::atomic<bool> abort{false};

    std::thread producer{[&] {
        plugin_sockets sockets{context, {}, 0, abort, priority};
        sockets.probe();
        started.arrive_and_wait();
        state.started();
        for (std::uint64_t i = 0; i < state.n() && !abort.load(); ++i) {
            const std::size_t length = length_of(i);
            zmq::message_t frame{initial_topic.size() + length};
            auto* bytes = static_cast<char*>(frame.data());
            std::memcpy(bytes, initial_topic.data(), initial_topic.size());
            std::memset(bytes + initial_topic.size(), 'X', length);
            state.before_publish(i);
            if (producer_blocks) sockets.publish_blocking(frame);
            else sockets.publish_draining(frame);
        }
        unexpected += sockets.dropped();
    }};
    std::thread op{[&] {
        plugin_sockets sockets{context, {initial_topic}, 1, abort, priority};
        sockets.probe();
        started.arrive_and_wait();
        for (std::uint64_t sequence = 0; sequence < state.n();) {
            const auto received = sockets.receive();
            if (!received) break;
            const std::string_view bytes = view(*received);
            if (!bytes.starts_with(initial_topic)) {
                ++unexpected;
                continue;
            }
            state.at_operator(sequence);
            const std::size_t length = bytes.size() - initial_topic.size();
            char text[64];
            std::memcpy(text, operator_topic.data(), operator_topic.size());
            const auto end = std::to_chars(text + operator_topic.size(), text + sizeof text, length).ptr;
            zmq::message_t reply{text, static_cast<std::size_t>(end - text)};
            sockets.publish_draining(reply);
            ++sequence;
        }
        unexpected += sockets.dropped();
    }};
    std::thread accumulator{[&] {
        plugin_sockets sockets{context, {operator_topic}, 2, abort, priority};
        sockets.probe();
        started.arrive_and_wait();
        for (std::uint64_t sequence = 0; sequence < state.n();) {
            const auto received = sockets.receive();
            if (!received) break;
            const std::string_view bytes = view(*received);
            std::uint64_t length = 0;
            const char* digits = bytes.data() + operator_topic.size();
            if (!bytes.starts_with(operator_topic) ||
                std::from_chars(digits, bytes.data() + bytes.size(), length).ec != std::errc{}) {
                ++unexpected;
                continue;
            }
            state.at_accumulator(sequence, length);
            ++sequence;
        }
    }};
    producer.join();
    op.join();
    accumulator.join();
    context.shutdown();
    proxy_thread.join();
    run_outcome outcome;
    outcome.completed = true;
    outcome.dropped = unexpected.load();
    return outcome;
}

} // namespace raw

// ---------------------------------------------------------------------------
// Child: one run, one JSON line on stdout.

int run_child(std::string_view variant, std::uint64_t n, std::uint64_t stride, double pace, std::chrono::seconds limit)
{
    run_state state{n, stride, pace};
    run_outcome outcome;
    if (variant == "engine") {
        outcome = run_engine<InitialMsgString>(state, limit);
    } else if (variant == "engine_view") {
        outcome = run_engine<InitialMsgStringView>(state, limit);
    } else if (variant == "raw" || variant == "raw_simple") {
        outcome = raw::run(state, variant == "raw_simple");
    } else {
        std::cerr << "load_test: unknown variant " << variant << "\n";
        return 2;
    }
    const std::uint64_t expected = expected_total(n);
    const bool exact = outcome.completed && state.received() == n && state.total() == expected && outcome.dropped == 0;
    const double seconds = state.seconds();
    const std::string line = json_object{}
                                 .add("variant", variant)
                                 .add("n", n)
                                 .add("pace", pace)
                                 .add("ok", exact)
                                 .add("received", state.received())
                                 .add("total", state.total())
                                 .add("expected_total", expected)
                                 .add("dropped", outcome.dropped)
                                 .add("publish_waits", outcome.publish_waits)
                                 .add("seconds", seconds)
                                 .add("events_per_s", seconds > 0 ? static_cast<double>(n) / seconds : 0.0)
                                 .add("hop1_p50_us", quantile(state.hop1_us(), 0.50))
                                 .add("hop1_p99_us", quantile(state.hop1_us(), 0.99))
                                 .add("e2e_p50_us", quantile(state.e2e_us(), 0.50))
                                 .add("e2e_p99_us", quantile(state.e2e_us(), 0.99))
                                 .add("latency_samples", static_cast<std::uint64_t>(state.hop1_us().size()))
                                 .add("peak_rss_kib", peak_rss_kib())
                                 .str();
    std::printf("%s\n", line.c_str());
    return exact ? 0 : 1;
}

// ---------------------------------------------------------------------------
// Parent: spawns the children, aggregates.

struct child_result {
    bool ok = false;
    std::string json;
    double events_per_s = 0, seconds = 0, hop1_p50 = 0, hop1_p99 = 0, e2e_p50 = 0, e2e_p99 = 0, rss_kib = 0;
};

double json_number(const std::string& json, std::string_view key)
{
    const std::string quoted = "\"" + std::string{key} + "\": ";
    const auto at = json.find(quoted);
    if (at == std::string::npos) return 0;
    return std::strtod(json.c_str() + at + quoted.size(), nullptr);
}

child_result spawn_child(std::string_view variant, std::uint64_t n, std::uint64_t stride, double pace, int timeout_s)
{
    child_result result;
    int out[2];
    if (::pipe(out) != 0) return result;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    posix_spawn_file_actions_addclose(&actions, out[1]);
    std::vector<std::string> args{"ee_bench_load",           "--child",  std::string{variant},   "--n",
                                  std::to_string(n),         "--stride", std::to_string(stride), "--timeout",
                                  std::to_string(timeout_s), "--pace",   std::to_string(pace)};
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    const int spawned = ::posix_spawn(&pid, "/proc/self/exe", &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    if (spawned != 0) {
        ::close(out[0]);
        std::cerr << "load_test: cannot spawn a child: " << std::strerror(spawned) << "\n";
        return result;
    }
    // Read the child's line; kill it if it outlives the timeout (the raw variant cannot stop itself).
    std::string text;
    const auto deadline = clock::now() + std::chrono::seconds{timeout_s + 10};
    for (;;) {
        pollfd fd{out[0], POLLIN, 0};
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
        if (left <= 0) {
            std::cerr << "load_test: " << variant << " n=" << n << " timed out; killing it\n";
            ::kill(pid, SIGKILL);
            break;
        }
        if (::poll(&fd, 1, static_cast<int>(std::min<long long>(left, 1000))) <= 0) continue;
        char buffer[4096];
        const auto got = ::read(out[0], buffer, sizeof buffer);
        if (got <= 0) break;
        text.append(buffer, static_cast<std::size_t>(got));
    }
    ::close(out[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    result.json = text.empty() ? "{}" : text;
    result.ok = WIFEXITED(status) && WEXITSTATUS(status) == 0 && text.find("\"ok\": true") != std::string::npos;
    result.events_per_s = json_number(text, "events_per_s");
    result.seconds = json_number(text, "seconds");
    result.hop1_p50 = json_number(text, "hop1_p50_us");
    result.hop1_p99 = json_number(text, "hop1_p99_us");
    result.e2e_p50 = json_number(text, "e2e_p50_us");
    result.e2e_p99 = json_number(text, "e2e_p99_us");
    result.rss_kib = json_number(text, "peak_rss_kib");
    return result;
}

struct options {
    bool smoke = false;
    std::vector<std::uint64_t> sizes{100'000, 1'000'000};
    int trials = 5;
    std::uint64_t stride = 16;
    int timeout_s = 300;
    double pace = 0; // events/s the producer keeps to (a paced run, for latency); 0: as fast as it can
    std::vector<std::string> variants{"engine", "raw", "raw_simple", "engine_view"};
    std::string json_path;
    // child mode
    std::string child_variant;
    std::uint64_t child_n = 0;
};

options parse(int argc, char** argv)
{
    options opt;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        auto next = [&] { return option_value(argc, argv, i, "load_test"); };
        if (arg == "--smoke") {
            opt.smoke = true;
            opt.sizes = {2'000};
            opt.trials = 1;
            opt.timeout_s = 60;
        } else if (arg == "--sizes") {
            opt.sizes.clear();
            std::string list = next();
            for (std::size_t at = 0; at < list.size();) {
                const auto comma = list.find(',', at);
                opt.sizes.push_back(std::stoull(list.substr(at, comma - at)));
                at = comma == std::string::npos ? list.size() : comma + 1;
            }
        } else if (arg == "--variants") {
            opt.variants.clear();
            std::string list = next();
            for (std::size_t at = 0; at < list.size();) {
                const auto comma = list.find(',', at);
                opt.variants.push_back(list.substr(at, comma - at));
                at = comma == std::string::npos ? list.size() : comma + 1;
            }
        } else if (arg == "--trials") {
            opt.trials = std::stoi(next());
        } else if (arg == "--stride") {
            opt.stride = std::stoull(next());
        } else if (arg == "--timeout") {
            opt.timeout_s = std::stoi(next());
        } else if (arg == "--pace") {
            opt.pace = std::stod(next());
        } else if (arg == "--json") {
            opt.json_path = next();
        } else if (arg == "--child") {
            opt.child_variant = next();
        } else if (arg == "--n") {
            opt.child_n = std::stoull(next());
        } else {
            std::cerr << "usage: ee_bench_load [--smoke] [--sizes N,N] [--trials T] [--variants V,V] [--stride S]\n"
                         "                     [--timeout SEC] [--pace EVENTS_PER_S] [--json FILE]\n"
                         "       ee_bench_load --child engine|engine_view|raw|raw_simple --n N [--stride S] "
                         "[--timeout SEC] [--pace EVENTS_PER_S]\n";
            std::exit(2);
        }
    }
    if (opt.stride == 0) opt.stride = 1;
    return opt;
}

} // namespace bench::load

int main(int argc, char** argv)
{
    using namespace bench::load;
    using bench::json_object;
    const options opt = parse(argc, argv);
    if (!opt.child_variant.empty()) {
        return run_child(opt.child_variant, opt.child_n, opt.stride, opt.pace, std::chrono::seconds{opt.timeout_s});
    }

    bool ok = true;
    std::vector<std::string> rows;
    std::vector<std::string> runs;
    const std::size_t variants = opt.variants.size();
    std::printf("%-9s %-13s %12s %9s %11s %11s %11s %11s %10s %8s\n", "n", "variant", "events/s", "wall s",
                "hop1 p50us", "hop1 p99us", "e2e p50us", "e2e p99us", "peak MiB", "x raw");
    for (const std::uint64_t n : opt.sizes) {
        std::vector<std::vector<child_result>> results(variants);
        for (int trial = 0; trial < opt.trials; ++trial) {
            // Rotate which variant goes first, so drift does not favour one.
            for (std::size_t j = 0; j < variants; ++j) {
                const std::size_t v = (j + static_cast<std::size_t>(trial)) % variants;
                child_result run = spawn_child(opt.variants[v], n, opt.stride, opt.pace, opt.timeout_s);
                runs.push_back(run.json);
                if (!run.ok) {
                    // raw_simple and engine_view are informative: a loss there is a finding, not a failure.
                    const bool informative = opt.variants[v] == "raw_simple" || opt.variants[v] == "engine_view";
                    std::cerr << "load_test: " << (informative ? "(informative) " : "")
                              << "a run was not exact: " << run.json << "\n";
                    if (!informative) ok = false;
                }
                results[v].push_back(std::move(run));
            }
        }
        // The reference for ratios: "raw" if it ran, else the first variant.
        std::size_t reference = 0;
        for (std::size_t v = 0; v < variants; ++v) {
            if (opt.variants[v] == "raw") reference = v;
        }
        for (std::size_t v = 0; v < variants; ++v) {
            const auto& list = results[v];
            auto pick = [&](double child_result::*field) {
                std::vector<double> values;
                for (const auto& run : list) values.push_back(run.*field);
                return values;
            };
            std::vector<double> ratios; // per trial, this variant's throughput / the reference's
            bool all_ok = true;
            for (std::size_t t = 0; t < list.size(); ++t) {
                all_ok = all_ok && list[t].ok;
                const double base = results[reference][t].events_per_s;
                if (base > 0) ratios.push_back(list[t].events_per_s / base);
            }
            const double throughput = bench::median(pick(&child_result::events_per_s));
            const double seconds = bench::median(pick(&child_result::seconds));
            const double hop1_p50 = bench::median(pick(&child_result::hop1_p50));
            const double hop1_p99 = bench::median(pick(&child_result::hop1_p99));
            const double e2e_p50 = bench::median(pick(&child_result::e2e_p50));
            const double e2e_p99 = bench::median(pick(&child_result::e2e_p99));
            const double rss_mib = bench::median(pick(&child_result::rss_kib)) / 1024.0;
            const double ratio = bench::median(ratios);
            std::printf("%-9llu %-13s %12.0f %9.3f %11.1f %11.1f %11.1f %11.1f %10.1f %8.2f\n",
                        static_cast<unsigned long long>(n), opt.variants[v].c_str(), throughput, seconds, hop1_p50,
                        hop1_p99, e2e_p50, e2e_p99, rss_mib, ratio);
            rows.push_back(json_object{}
                               .add("n", n)
                               .add("variant", opt.variants[v])
                               .add("ok", all_ok)
                               .add("informative", opt.variants[v] == "raw_simple" || opt.variants[v] == "engine_view")
                               .add("trials", static_cast<int>(list.size()))
                               .add("events_per_s", throughput)
                               .add("seconds", seconds)
                               .add("hop1_p50_us", hop1_p50)
                               .add("hop1_p99_us", hop1_p99)
                               .add("e2e_p50_us", e2e_p50)
                               .add("e2e_p99_us", e2e_p99)
                               .add("peak_rss_mib", rss_mib)
                               .add("throughput_ratio_to_raw", ratio)
                               .str());
        }
    }
    if (!opt.json_path.empty()) {
        const std::string json = json_object{}
                                     .add("benchmark", "load_test")
                                     .add("smoke", opt.smoke)
                                     .add("ok", ok)
                                     .add("trials", opt.trials)
                                     .add("latency_stride", opt.stride)
                                     .raw("rows", bench::json_array(rows))
                                     .raw("runs", bench::json_array(runs))
                                     .str();
        if (!bench::write_file(opt.json_path, json)) {
            std::cerr << "load_test: cannot write " << opt.json_path << "\n";
            return 1;
        }
    }
    if (!ok) std::cerr << "load_test: FAILED (counts not exact)\n";
    return ok ? 0 : 1;
}
