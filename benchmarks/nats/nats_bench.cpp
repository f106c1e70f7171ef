// Two applications in one process, linked three ways, measured side by side
// (docs/benchmarks.md, "(e) NATS bridge"):
//   nats-core       each app has a NATS bridge (core NATS) to one nats-server
//   nats-jetstream  the same with JetStream (a stream, a durable consumer per app, acks)
//   zmq-tcp         no broker: each app reads the other's TCP subscribe port with a ZeroMQ
//                   SUB socket in a plugin (the external-plugin style link) and publishes
//                   what arrives into itself
// For each: round-trip latency (app A publishes a Ping, app B's Echo answers with a Pong,
// A receives it: p50/p99 over `rounds`), then throughput (A publishes N Pings as fast as
// it can, B counts them: events/s from the first publish to the last arrival, and how
// many arrived). Needs a nats-server with JetStream at --url (benchmarks/nats/nats_bench.py
// starts one). Prints one JSON object.
//
//   ee_bench_nats --url nats://127.0.0.1:4222 [--events N] [--rounds R] [--links a,b,c]

#include <event_engine/event_engine.hpp>
#include <event_engine/nats/bridge.hpp>

#include <fmt/format.h>
#include <zmq.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace ee = event_engine;
using namespace std::chrono_literals;
using bench_clock = std::chrono::steady_clock;

namespace {

struct Ping {
    static constexpr std::string_view name = "Ping";
    using codec = ee::trivial_codec;
    std::int64_t seq = 0;
    std::int64_t sent_ns = 0;
    std::array<char, 84> pad{}; // 100-byte payload
};
struct Pong {
    static constexpr std::string_view name = "Pong";
    using codec = ee::trivial_codec;
    std::int64_t seq = 0;
    std::int64_t sent_ns = 0;
    std::array<char, 84> pad{};
};
using events = ee::event_list<Ping, Pong>;

std::int64_t now_ns()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(bench_clock::now().time_since_epoch()).count();
}

struct shared {
    std::int64_t rounds = 1000;
    std::int64_t events = 20000;
    std::atomic<std::int64_t> stream_received{0};
    std::atomic<std::int64_t> last_arrival_ns{0};
    std::vector<double> rtt_us;
    double throughput = 0;
    std::int64_t throughput_received = 0;
    bool done = false;
};

// App A: ping-pong rounds, then a stream of pings.
class Driver : public ee::plugin<Driver, ee::subscribes<Pong>, ee::publishes<Ping>> {
public:
    explicit Driver(shared& s) : s_{&s} {}
    void run()
    {
        // Warm up until the link answers (subscriptions travel asynchronously).
        for (bool ready = false; !ready && !stop_requested();) {
            publish(Ping{-1, now_ns(), {}});
            for (auto pong = receive(20ms); pong; pong = receive(1ms)) ready = true;
        }
        for (std::int64_t i = 0; i < s_->rounds && !stop_requested(); ++i) {
            const std::int64_t sent = now_ns();
            publish(Ping{i, sent, {}});
            for (;;) {
                auto pong = receive(5s);
                if (!pong) return;
                if (std::get<Pong>(*pong).seq == i) break;
            }
            s_->rtt_us.push_back(static_cast<double>(now_ns() - sent) / 1000.0);
        }
        const std::int64_t start = now_ns();
        for (std::int64_t i = 0; i < s_->events && !stop_requested(); ++i) publish(Ping{s_->rounds + i, now_ns(), {}});
        // Wait until all arrived, or nothing more arrives for a second (losses).
        std::int64_t seen = -1;
        auto quiet_since = bench_clock::now();
        while (!stop_requested() && s_->stream_received < s_->events) {
            if (s_->stream_received != seen) {
                seen = s_->stream_received;
                quiet_since = bench_clock::now();
            } else if (bench_clock::now() - quiet_since > 1s) {
                break;
            }
            std::this_thread::sleep_for(1ms);
        }
        s_->throughput_received = s_->stream_received;
        const double seconds = static_cast<double>(s_->last_arrival_ns - start) / 1e9;
        s_->throughput = seconds > 0 ? static_cast<double>(s_->throughput_received) / seconds : 0;
        s_->done = true;
    }

private:
    shared* s_;
};

// App B: answers the latency pings, counts the stream.
class Echo : public ee::plugin<Echo, ee::subscribes<Ping>, ee::publishes<Pong>> {
public:
    explicit Echo(shared& s) : s_{&s} {}
    void on(const Ping& ping)
    {
        if (ping.seq < s_->rounds) {
            publish(Pong{ping.seq, ping.sent_ns, {}});
        } else {
            s_->last_arrival_ns = now_ns();
            ++s_->stream_received;
        }
    }

private:
    shared* s_;
};

// The brokerless link: a SUB socket on the other app's TCP subscribe port, publishing what
// arrives into this app (what an external plugin written in C++ would do).
template <class E>
class TcpLink : public ee::plugin<TcpLink<E>, ee::subscribes<>, ee::publishes<E>> {
public:
    explicit TcpLink(std::uint16_t port) : port_{port} {}
    void run()
    {
        zmq::context_t context;
        zmq::socket_t socket{context, zmq::socket_type::sub};
        socket.set(zmq::sockopt::rcvhwm, 0);
        socket.set(zmq::sockopt::linger, 0);
        socket.connect(fmt::format("tcp://127.0.0.1:{}", port_));
        socket.set(zmq::sockopt::subscribe, ee::topic_of<E>);
        zmq::message_t frame;
        while (!this->stop_requested()) {
            zmq::pollitem_t items[] = {{socket.handle(), 0, ZMQ_POLLIN, 0}};
            zmq::poll(items, 1, 50ms);
            while (socket.recv(frame, zmq::recv_flags::dontwait)) {
                const auto* bytes = static_cast<const std::byte*>(frame.data()) + ee::topic_of<E>.size();
                this->publish(ee::codec<E>::decode({bytes, frame.size() - ee::topic_of<E>.size()}));
            }
        }
    }

private:
    std::uint16_t port_;
};

std::uint16_t free_port()
{
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    ::close(fd);
    return ntohs(address.sin_port);
}

double quantile(std::vector<double> values, double q)
{
    if (values.empty()) return 0;
    std::sort(values.begin(), values.end());
    return values[static_cast<std::size_t>(q * static_cast<double>(values.size() - 1))];
}

// Runs apps A and B (configured by @p set_up) until the driver is done; returns the result row.
template <class SetUp>
std::string measure(const std::string& link, shared& s, SetUp set_up)
{
    ee::app_config a_config, b_config;
    // Deep enough queues that the TCP subscribe port (best effort: ZeroMQ drops beyond its
    // high-water mark) holds the whole stream: every link is measured without loss.
    a_config.high_water_mark = b_config.high_water_mark = static_cast<int>(s.events + s.rounds + 1000);
    a_config.publish_port = free_port();
    a_config.subscribe_port = free_port();
    b_config.publish_port = free_port();
    b_config.subscribe_port = free_port();
    ee::app<events> a{a_config};
    ee::app<events> b{b_config};
    Driver driver{s};
    Echo echo{s};
    a.register_plugin(driver, "driver");
    b.register_plugin(echo, "echo");
    // clang-format off
    [[maybe_unused]] const auto keep = set_up(a, b, a_config, b_config); // the bridges, if any: alive until the apps ended
    // clang-format on
    std::thread b_thread{[&] { b.run(); }};
    std::thread a_thread{[&] { a.run(); }};
    while (!s.done) std::this_thread::sleep_for(5ms);
    a.stop();
    b.stop();
    a_thread.join();
    b_thread.join();
    return fmt::format(
        R"({{"link":"{}","rounds":{},"rtt_p50_us":{:.1f},"rtt_p99_us":{:.1f},"events":{},"received":{},"events_per_s":{:.0f}}})",
        link, s.rtt_us.size(), quantile(s.rtt_us, 0.5), quantile(s.rtt_us, 0.99), s.events, s.throughput_received,
        s.throughput);
}

} // namespace

int main(int argc, char** argv)
{
    std::string url = "nats://127.0.0.1:4222";
    std::string links = "zmq-tcp,nats-core,nats-jetstream";
    std::int64_t events_count = 20000, rounds = 1000;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        if (flag == "--url") url = argv[i + 1];
        else if (flag == "--events") events_count = std::stoll(argv[i + 1]);
        else if (flag == "--rounds") rounds = std::stoll(argv[i + 1]);
        else if (flag == "--links") links = argv[i + 1];
    }
    ee::set_log_level(ee::log_level::error);
    std::vector<std::string> rows;
    const auto wanted = [&](const std::string& link) { return links.find(link) != std::string::npos; };
    const auto nats_options = [&](ee::nats::delivery mode, const std::string& who) {
        ee::nats::bridge_options options;
        options.servers = {url};
        options.mode = mode;
        options.subject_prefix = fmt::format("bench{}", ::getpid());
        options.instance = fmt::format("bench-{}-{}", who, ::getpid());
        return options;
    };
    using a_bridge = ee::nats::bridge<ee::subscribes<Ping>, ee::publishes<Pong>>;
    using b_bridge = ee::nats::bridge<ee::subscribes<Pong>, ee::publishes<Ping>>;
    for (const std::string link : {"zmq-tcp", "nats-core", "nats-jetstream"}) {
        if (!wanted(link)) continue;
        shared s;
        s.rounds = rounds;
        s.events = events_count;
        if (link == "zmq-tcp") {
            rows.push_back(measure(link, s, [](auto& a, auto& b, const auto& a_config, const auto& b_config) {
                a.register_plugin(TcpLink<Pong>{b_config.subscribe_port}, "link");
                b.register_plugin(TcpLink<Ping>{a_config.subscribe_port}, "link");
                return 0;
            }));
        } else {
            const auto mode = link == "nats-core" ? ee::nats::delivery::core : ee::nats::delivery::jetstream;
            rows.push_back(measure(link, s, [&](auto& a, auto& b, const auto&, const auto&) {
                auto bridges = std::make_shared<std::pair<a_bridge, b_bridge>>(
                    std::piecewise_construct, std::forward_as_tuple(nats_options(mode, "a")),
                    std::forward_as_tuple(nats_options(mode, "b")));
                bridges->first.register_with(a);
                bridges->second.register_with(b);
                return bridges;
            }));
        }
    }
    std::string json = "{\"results\":[";
    for (std::size_t i = 0; i < rows.size(); ++i) json += (i ? "," : "") + rows[i];
    json += "]}\n";
    std::fputs(json.c_str(), stdout);
    return 0;
}
