// The application the NATS tests run as separate processes (tests/nats/test_nats.py).
//
// Role a sends Ping, Blob, Mark and Alert to NATS and brings in Pong and Alert; role b the
// other way round; role c brings in only Ping (and sends Pong): a receiver of part of a's events. Each has a Sender plugin (starts when "go" arrives on stdin), a Receiver
// plugin that checks and counts what arrives, and the bridge. Every 100 ms it prints
// "STATUS <json>" with its counts and the bridge's report; at the end (SIGTERM, or "quit"
// on stdin) "FINAL <json>" with the run report too. Exit status 0 unless run() failed.
//
// stdin commands: go (send what the flags say), ping N (N more pings), stop-tail, quit,
// pause / resume (the receiver holds on to a Ping until resumed: the bridge's queue fills).
//
//   ee_nats_test_app --role a --servers nats://127.0.0.1:4222[,...] [--mode core|jetstream]
//       [--prefix P] [--instance NAME] [--jetstream-domain D] [--setup-timeout-ms MS]
//       [--pings N] [--pongs N] [--blobs N] [--blob-bytes B]
//       [--alerts N] [--rate EVENTS_PER_S] [--tail] [--record FILE] [--ack-wait-ms MS]
//       [--user U --password P] [--token T] [--credentials-file F] [--tls 1] [--ca-file F]
//       [--cert-file F --key-file F]        (bridge_options of the same names: test_tls.py, test_auth.py)
//       [--handle-us US] (the receiver spends that long on each Ping: a slow subscriber)
//       [--queue-limit N] [--max-unacknowledged N] [--publish-attempts N] [--publish-ack-timeout-ms MS]
//       [--manifest FILE] (run() writes the application's manifest there)
//       [--retry-initial-connect 1] [--reconnect-buffer-bytes B] [--drain-timeout-ms MS] [--marker-interval-ms MS]
//       [--high-water-mark N] (app_config::high_water_mark: the queues between plugins)

#include <event_engine/event_engine.hpp>
#include <event_engine/manifest.hpp>
#include <event_engine/nats/bridge.hpp>

#if defined(EVENT_ENGINE_NATS_SEPARATE_COMPILATION) && defined(NATS_H_)
#error "in the compiled mode (event_engine::nats_compiled) nats/bridge.hpp must not include <nats/nats.h>"
#endif

#include "app_harness.hpp"

#include <fmt/format.h>

#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace ee = event_engine;
using namespace std::chrono_literals;

namespace {

// Binary topics: a zero byte inside (Ping), bytes above 0x7f (Pong).
struct Ping {
    static constexpr std::string_view name = "Ping";
    static constexpr std::string_view topic{"\x01P\x00", 3};
    using codec = ee::trivial_codec;
    std::uint64_t index = 0;
    std::uint64_t check = 0;
};
struct Pong {
    static constexpr std::string_view name = "Pong";
    static constexpr std::string_view topic{"\xfe\x80Pong", 6};
    using codec = ee::text_codec;
    std::string text;
};
struct Blob {
    static constexpr std::string_view name = "Blob";
    // clang-format off
    static constexpr std::string_view topic{"\x02" "B", 2};
    // clang-format on
    using codec = ee::bytes_codec;
    std::vector<std::uint8_t> bytes;
};
struct Mark { // the tail markers after the pings: a later message closes any gap in the sequence
    static constexpr std::string_view name = "Mark";
    using codec = ee::text_codec;
    std::string text;
};
struct Alert { // travels both ways: the bridge must neither bring back its own nor send back the peer's
    static constexpr std::string_view name = "Alert";
    using codec = ee::text_codec;
    std::string text;
};
using events = ee::event_list<Ping, Pong, Blob, Mark, Alert>;

std::uint64_t ping_check(std::uint64_t index) { return (index * 2654435761ULL) ^ 0xabcdefULL; }
std::uint8_t blob_byte(std::size_t at, std::uint64_t blob)
{
    return static_cast<std::uint8_t>((at * 31 + blob * 7) & 0xff);
}

struct settings {
    std::string role = "a";
    ee::nats::bridge_options bridge;
    std::uint64_t pings = 0, pongs = 0, blobs = 0, alerts = 0;
    std::size_t blob_bytes = 5 << 20;
    double rate = 0;
    bool tail = false;
    std::string record;
    std::chrono::microseconds handle_time{0};
    int high_water_mark = 0; // app_config::high_water_mark, if set
    std::string manifest;    // where run() writes the application's manifest
};

struct tallies {
    std::atomic<bool> go{false}, sent_done{false}, stop_tail{false}, tail_stopped{false}, paused{false};
    std::atomic<std::uint64_t> ping_allowance{0};
    std::atomic<std::uint64_t> sent_ping{0}, sent_pong{0}, sent_blob{0}, sent_mark{0}, sent_alert{0};
    std::mutex mutex; // the sets
    std::set<std::uint64_t> pings, pongs, peer_alerts;
    std::uint64_t ping_total = 0, pong_total = 0, blob_ok = 0, blob_bad = 0, ping_bad = 0, pong_bad = 0, marks = 0,
                  own_alerts = 0, peer_alert_total = 0, alert_bad = 0;
};

settings config;
tallies counts;

template <class... Sent>
class Sender : public ee::plugin<Sender<Sent...>, ee::subscribes<>, ee::publishes<Sent...>> {
public:
    // Sends the alerts, then pings as "go" and "ping N" allow (then the blobs), and pongs; with
    // --tail 1, Mark events every 20 ms once all that is sent, until "stop-tail". Runs until the stop.
    void run()
    {
        while (!counts.go && !this->stop_requested()) std::this_thread::sleep_for(2ms);
        const auto start = std::chrono::steady_clock::now();
        std::uint64_t paced = 0;
        const auto pace = [&] {
            ++paced;
            if (config.rate > 0) {
                std::this_thread::sleep_until(
                    start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                std::chrono::duration<double>(static_cast<double>(paced) / config.rate)));
            }
        };
        if constexpr (has<Alert>) {
            for (std::uint64_t i = 1; i <= config.alerts && !this->stop_requested(); ++i) {
                if (this->publish(Alert{fmt::format("{}:{}", config.bridge.instance, i)})) ++counts.sent_alert;
            }
        }
        std::uint64_t next_ping = 1, next_pong = 1, next_blob = 1;
        while (!this->stop_requested()) {
            bool busy = false;
            if constexpr (has<Ping>) {
                for (; next_ping <= counts.ping_allowance && !this->stop_requested(); ++next_ping, busy = true) {
                    if (this->publish(Ping{next_ping, ping_check(next_ping)})) ++counts.sent_ping;
                    pace();
                }
                for (; next_ping > counts.ping_allowance && next_blob <= config.blobs && !this->stop_requested();
                     ++next_blob) {
                    Blob blob;
                    blob.bytes.resize(config.blob_bytes);
                    for (std::size_t at = 0; at < blob.bytes.size(); ++at) blob.bytes[at] = blob_byte(at, next_blob);
                    if (this->publish(blob)) ++counts.sent_blob;
                }
            }
            if constexpr (has<Pong>) {
                for (; next_pong <= config.pongs && !this->stop_requested(); ++next_pong, busy = true) {
                    if (this->publish(Pong{fmt::format("pong {}", next_pong)})) ++counts.sent_pong;
                    pace();
                }
            }
            if (next_ping > counts.ping_allowance && next_blob > config.blobs && next_pong > config.pongs)
                counts.sent_done = true;
            if constexpr (has<Mark>) {
                if (config.tail && counts.sent_done && !counts.tail_stopped) {
                    if (counts.stop_tail) { // seen here, after the last Mark: nothing more follows
                        counts.tail_stopped = true;
                        continue;
                    }
                    if (this->publish(Mark{"tail"})) ++counts.sent_mark;
                    std::this_thread::sleep_for(20ms);
                    continue;
                }
            }
            if (!busy) std::this_thread::sleep_for(2ms);
        }
    }

private:
    template <class E>
    static constexpr bool has = (std::is_same_v<E, Sent> || ...);
};

template <class... Received>
class Receiver : public ee::plugin<Receiver<Received...>, ee::subscribes<Received...>, ee::publishes<>> {
public:
    void on(const Ping& ping)
    {
        if (config.handle_time.count() > 0) std::this_thread::sleep_for(config.handle_time);
        while (counts.paused && !this->stop_requested()) std::this_thread::sleep_for(1ms);
        const std::scoped_lock lock{counts.mutex};
        ++counts.ping_total;
        if (ping.check != ping_check(ping.index)) ++counts.ping_bad;
        counts.pings.insert(ping.index);
        if (record_ != nullptr) {
            std::fprintf(record_, "%llu\n", static_cast<unsigned long long>(ping.index));
            std::fflush(record_); // in the kernel: survives a SIGKILL of this process
        }
    }
    void on(const Pong& pong)
    {
        const std::scoped_lock lock{counts.mutex};
        ++counts.pong_total;
        unsigned long long index = 0;
        if (std::sscanf(pong.text.c_str(), "pong %llu", &index) != 1) ++counts.pong_bad;
        else counts.pongs.insert(index);
    }
    void on(const Blob& blob)
    {
        bool good = blob.bytes.size() == config.blob_bytes;
        const std::uint64_t which = counts.blob_ok + counts.blob_bad + 1;
        for (std::size_t at = 0; good && at < blob.bytes.size(); ++at) good = blob.bytes[at] == blob_byte(at, which);
        const std::scoped_lock lock{counts.mutex};
        ++(good ? counts.blob_ok : counts.blob_bad);
    }
    void on(const Mark&)
    {
        const std::scoped_lock lock{counts.mutex};
        ++counts.marks;
    }
    void on(const Alert& alert)
    {
        const std::scoped_lock lock{counts.mutex};
        const auto colon = alert.text.rfind(':');
        if (colon == std::string::npos) {
            ++counts.alert_bad;
            return;
        }
        if (alert.text.substr(0, colon) == config.bridge.instance) {
            ++counts.own_alerts;
            return;
        }
        ++counts.peer_alert_total;
        counts.peer_alerts.insert(std::stoull(alert.text.substr(colon + 1)));
    }
    void on_start()
    {
        if (!config.record.empty()) record_ = std::fopen(config.record.c_str(), "a");
    }
    void on_stop()
    {
        if (record_ != nullptr) std::fclose(record_);
        record_ = nullptr;
    }

private:
    std::FILE* record_ = nullptr;
};

std::string counts_json()
{
    const std::scoped_lock lock{counts.mutex};
    return fmt::format(
        R"("sent":{{"ping":{},"pong":{},"blob":{},"mark":{},"alert":{}}},"sent_done":{},"tail_stopped":{},)"
        R"("received":{{"ping_unique":{},"ping_total":{},"ping_bad":{},"pong_unique":{},"pong_total":{},"pong_bad":{},)"
        R"("blob_ok":{},"blob_bad":{},"mark":{},"own_alerts":{},"peer_alert_unique":{},"peer_alert_total":{},"alert_bad":{}}})",
        counts.sent_ping.load(), counts.sent_pong.load(), counts.sent_blob.load(), counts.sent_mark.load(),
        counts.sent_alert.load(), counts.sent_done.load(), counts.tail_stopped.load(), counts.pings.size(),
        counts.ping_total, counts.ping_bad, counts.pongs.size(), counts.pong_total, counts.pong_bad, counts.blob_ok,
        counts.blob_bad, counts.marks, counts.own_alerts, counts.peer_alerts.size(), counts.peer_alert_total,
        counts.alert_bad);
}

std::string plugins_json(const ee::run_report& report)
{
    std::string text = "[";
    for (const auto& p : report.plugins) {
        if (text.size() > 1) text += ",";
        text += fmt::format(
            R"({{"name":"{}","received":{},"published":{},"decode_failures":{},"dropped":{},"unread":{},"after_end":{},"abandoned":{}}})",
            p.name, p.events_received, p.events_published, p.decode_failures, p.events_dropped, p.events_unread,
            p.events_after_end, p.publishes_abandoned);
    }
    return text + "]";
}

template <class Bridge, class SenderPlugin, class ReceiverPlugin>
int run_role()
{
    Bridge bridge{config.bridge};
    ee::app_config app_config;
    app_config.publish_port = 0;
    app_config.subscribe_port = 0;
    app_config.stop_on_signals = true;
    if (config.high_water_mark > 0) app_config.high_water_mark = config.high_water_mark;
    app_config.manifest_path = config.manifest;
    ee::app<events> app{app_config};
    ee::enable_manifest(app);
    bridge.register_with(app);
    app.register_plugin(SenderPlugin{}, "sender").register_plugin(ReceiverPlugin{}, "receiver");

    ee_test::runner_link link{
        100ms,
        [&] {
            // The option, not bridge.instance(): the bridge's thread sets that at start, unsynchronised
            // with this (main) thread (a ThreadSanitizer report); FINAL prints it once run() returned.
            return fmt::format("STATUS {{\"instance\":\"{}\",{},\"bridge\":{}}}\n", config.bridge.instance,
                               counts_json(), ee_test::bridge_json(bridge.report()));
        },
        [&](const std::string& command) { // go, ping N, stop-tail, pause, resume, quit
            if (command == "go") {
                if (!counts.go) counts.ping_allowance += config.pings;
                counts.go = true;
            } else if (command.rfind("ping ", 0) == 0) {
                counts.ping_allowance += std::stoull(command.substr(5));
                counts.go = true;
            } else if (command == "stop-tail") counts.stop_tail = true;
            else if (command == "pause") counts.paused = true;
            else if (command == "resume") counts.paused = false;
            else if (command == "quit") app.stop();
        },
        [] {}};
    int status_code = 0;
    std::string plugins = "[]";
    std::string failure;
    try {
        const auto report = app.run();
        plugins = plugins_json(report);
    } catch (const ee::plugin_error& error) {
        failure = error.what();
        plugins = plugins_json(error.report());
        status_code = 1;
    } catch (const std::exception& error) {
        failure = error.what();
        status_code = 1;
    }
    link.stop();
    std::string escaped;
    for (const char c : failure) escaped += (c == '"' || c == '\\') ? std::string{'\\', c} : std::string{c};
    const auto line =
        fmt::format("FINAL {{\"instance\":\"{}\",{},\"bridge\":{},\"plugins\":{},\"error\":\"{}\"}}\n",
                    bridge.instance(), counts_json(), ee_test::bridge_json(bridge.report()), plugins, escaped);
    std::fputs(line.c_str(), stdout);
    std::fflush(stdout);
    return status_code;
}

} // namespace

int main(int argc, char** argv)
{
    config.bridge.subject_prefix = "test";
    config.bridge.reconnect_wait = 100ms;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string_view flag = argv[i];
        const std::string value = argv[i + 1];
        if (flag == "--role") config.role = value;
        else if (flag == "--servers") config.bridge.servers = ee_test::split_commas(value);
        else if (flag == "--mode")
            config.bridge.mode = value == "jetstream" ? ee::nats::delivery::jetstream : ee::nats::delivery::core;
        else if (flag == "--prefix") config.bridge.subject_prefix = value;
        else if (flag == "--instance") config.bridge.instance = value;
        else if (flag == "--replicas") config.bridge.stream_replicas = std::stoi(value);
        else if (flag == "--jetstream-domain") config.bridge.jetstream_domain = value;
        else if (flag == "--setup-timeout-ms")
            config.bridge.setup_timeout = std::chrono::milliseconds{std::stoll(value)};
        else if (flag == "--pings") config.pings = std::stoull(value);
        else if (flag == "--pongs") config.pongs = std::stoull(value);
        else if (flag == "--blobs") config.blobs = std::stoull(value);
        else if (flag == "--blob-bytes") config.blob_bytes = std::stoull(value);
        else if (flag == "--alerts") config.alerts = std::stoull(value);
        else if (flag == "--rate") config.rate = std::stod(value);
        else if (flag == "--tail") config.tail = value == "1";
        else if (flag == "--record") config.record = value;
        else if (flag == "--ack-wait-ms") config.bridge.ack_wait = std::chrono::milliseconds{std::stoll(value)};
        else if (flag == "--user") config.bridge.user = value;
        else if (flag == "--password") config.bridge.password = value;
        else if (flag == "--token") config.bridge.token = value;
        else if (flag == "--credentials-file") config.bridge.credentials_file = value;
        else if (flag == "--tls") config.bridge.tls = value == "1";
        else if (flag == "--ca-file") config.bridge.ca_file = value;
        else if (flag == "--cert-file") config.bridge.cert_file = value;
        else if (flag == "--key-file") config.bridge.key_file = value;
        else if (flag == "--handle-us") config.handle_time = std::chrono::microseconds{std::stoll(value)};
        else if (flag == "--high-water-mark") config.high_water_mark = std::stoi(value);
        else if (flag == "--queue-limit") config.bridge.queue_limit = std::stoi(value);
        else if (flag == "--manifest") config.manifest = value;
        else if (flag == "--retry-initial-connect") config.bridge.retry_initial_connect = value == "1";
        else if (flag == "--reconnect-buffer-bytes") config.bridge.reconnect_buffer_bytes = std::stoi(value);
        else if (flag == "--drain-timeout-ms")
            config.bridge.drain_timeout = std::chrono::milliseconds{std::stoll(value)};
        else if (flag == "--marker-interval-ms")
            config.bridge.marker_interval = std::chrono::milliseconds{std::stoll(value)};
        else if (flag == "--max-unacknowledged") config.bridge.max_unacknowledged = std::stoi(value);
        else if (flag == "--publish-attempts") config.bridge.publish_attempts = std::stoi(value);
        else if (flag == "--publish-ack-timeout-ms")
            config.bridge.publish_ack_timeout = std::chrono::milliseconds{std::stoll(value)};
        else {
            std::fprintf(stderr, "unknown flag %s\n", argv[i]);
            return 2;
        }
    }
    if (config.bridge.instance.empty()) config.bridge.instance = "app-" + config.role;
    if (config.role == "a") {
        using bridge = ee::nats::bridge<ee::subscribes<Ping, Blob, Mark, Alert>, ee::publishes<Pong, Alert>>;
        return run_role<bridge, Sender<Ping, Blob, Mark, Alert>, Receiver<Pong, Alert>>();
    }
    if (config.role == "c") { // imports only a part of what "a" sends (Ping; not Blob, Mark, Alert)
        using bridge = ee::nats::bridge<ee::subscribes<Pong>, ee::publishes<Ping>>;
        return run_role<bridge, Sender<Pong>, Receiver<Ping>>();
    }
    using bridge = ee::nats::bridge<ee::subscribes<Pong, Alert>, ee::publishes<Ping, Blob, Mark, Alert>>;
    return run_role<bridge, Sender<Pong, Alert>, Receiver<Ping, Blob, Mark, Alert>>();
}
