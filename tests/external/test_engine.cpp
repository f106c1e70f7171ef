// ee_test_engine: a real engine process built from this repository, driven by
// command-line flags, for the pyevents tests against the engine
// (pyevents/tests/test_engine_*.py). Not an example: every knob is here so a test
// can set up one scenario.
//
// Plugins (each optional):
//   external  "pyplugin" (--plugin-name) on --plugin-port: subscribes TypeA, TypeB,
//             Bulk; publishes TypeA, TypeC, Bulk (TypeA and Bulk: self-receive).
//             Left out with --no-external.
//   emitter   publishes --emit-a TypeA "A-<i>", --emit-b TypeB <i>, --emit-c TypeC
//             "C-<i>" interleaved by round (A0 B0 C0 A1 ...), then --emit-bulk Bulk
//             events of --bulk-size bytes, as soon as the application starts
//             (so before an external process has connected), or, with --emit-on-go,
//             once it has received a TypeC "go" (from a TCP publisher or the
//             external plugin). --emit-jitter-ms
//             sleeps a random 0..J ms before each event (seeded by --seed).
// Security and bounds: --bind-address, --max-message-size, --queue-bytes,
// --when-full wait|drop, and CURVE: --server-cert PATH (.key_secret), --plugin-key
// KEY, --publisher-key KEY[=TypeA,TypeB] and --subscriber-key KEY (repeatable),
// --allow-insecure (KEY: 40 Z85 characters, the key whatever its characters, or a
// certificate file's path, or z85:/file: as curve_key::from_setting reads them).
//
//   collector (--collect N): subscribes TypeB, TypeC, Bulk; prints each; finishes
//             after N TypeC + Bulk events.
//   echo      (--echo): answers each TypeC with TypeA "echo:<text>"; finishes on
//             TypeC "stop".
//
// Output on stdout, one line each, JSON after a keyword:
//   BOUND     {"publish_port":N,"subscribe_port":N,"plugin_port":N}  once bound (ports 0 resolved;
//             plugin_port 0 without the external plugin), before any plugin starts
//   EMITTED   {"TypeA":N,...}            the emitter has published everything
//   COLLECTED {"type":"TypeC","text":...} / {"type":"TypeB","count":n} /
//             {"type":"Bulk","size":n,"index":k,"crc32":"xxxxxxxx","pattern":"ok|bad"}
//   ECHO      {"text":...}
//   REPORT    {"name":...,"outcome":...,"received":n,...}  one per plugin, at the end
//   RUN       {"stopped":false,"tcp_events_offered":0,"tcp_publishes_refused":0,"connections_refused":0}
//   ERROR     {"kind":"plugin_error|bind_error|...","plugin":...,"what":...}
// Exit: 0 run() returned, 2 plugin_error, 3 bind_error, 4 another error, 64 bad flags.
//
// Bulk payload k: byte i = (i + k) % 251 (so byte 0 is k % 251), a pattern in
// which a lost, doubled or shifted chunk of any power-of-two size shows.

#include "events.hpp" // the seed example's TypeA, TypeB, TypeC

#include <event_engine/event_engine.hpp>
#include <event_engine/manifest.hpp> // --manifest: the file pyevents' tools read

#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using seed::TypeA;
using seed::TypeB;
using seed::TypeC;

struct Bulk {
    static constexpr std::string_view name = "Bulk";
    using codec = event_engine::bytes_codec;
    std::vector<std::byte> bytes;
};

using events = event_engine::event_list<TypeA, TypeB, TypeC, Bulk>;

using ExternalPlugin = event_engine::external_plugin<event_engine::subscribes<TypeA, TypeB, Bulk>,
                                                     event_engine::publishes<TypeA, TypeC, Bulk>>;

// --- output -----------------------------------------------------------------

std::string json_string(std::string_view text)
{
    std::string out = "\"";
    for (const char c : text) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (static_cast<unsigned char>(c) < 0x20) out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
            else out += c; // other bytes as they are (the reader decodes leniently)
        }
    }
    return out + "\"";
}

// One whole line per call (stdout is line buffered; fmt::print writes it at once).
template <class... Args>
void say(fmt::format_string<Args...> format, Args&&... args)
{
    fmt::print("{}\n", fmt::format(format, std::forward<Args>(args)...));
    std::fflush(stdout);
}

std::uint32_t crc32(const std::byte* data, std::size_t size)
{
    static const auto table = [] {
        std::array<std::uint32_t, 256> t{};
        for (std::uint32_t n = 0; n < 256; ++n) {
            std::uint32_t c = n;
            for (int k = 0; k < 8; ++k) c = (c & 1U) != 0 ? 0xEDB88320U ^ (c >> 1) : c >> 1;
            t[n] = c;
        }
        return t;
    }();
    std::uint32_t c = 0xFFFFFFFFU;
    for (std::size_t i = 0; i < size; ++i) c = table[(c ^ std::to_integer<std::uint32_t>(data[i])) & 0xFFU] ^ (c >> 8);
    return c ^ 0xFFFFFFFFU;
}

std::vector<std::byte> bulk_pattern(std::size_t size, std::size_t index)
{
    std::vector<std::byte> bytes(size);
    for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<std::byte>((i + index) % 251);
    return bytes;
}

// --- flags --------------------------------------------------------------------

struct options {
    std::string plugin_name = "pyplugin";
    std::uint16_t plugin_port = 6000;
    bool external = true;
    std::uint16_t publish_port = 0;
    std::uint16_t subscribe_port = 0;
    int high_water_mark = 1000;
    event_engine::external_options external_options;
    long emit_a = 0;
    long emit_b = 0;
    long emit_c = 0;
    long emit_bulk = 0;
    std::size_t bulk_size = 1024;
    long jitter_ms = 0;
    unsigned seed = 1;
    long collect = 0;
    bool echo = false;
    bool emit_on_go = false;
    std::string bind_address = "127.0.0.1";
    std::int64_t max_message_size = std::int64_t{16} << 20;
    event_engine::security_config security;
    std::string manifest_path;
};

[[noreturn]] void usage(std::string_view problem)
{
    fmt::print(stderr,
               "ee_test_engine: {}\n"
               "usage: ee_test_engine [--plugin-name NAME] [--plugin-port N] [--no-external]\n"
               "         [--publish-port N] [--subscribe-port N] [--hwm N]\n"
               "         [--connect-timeout-ms N] [--disconnect-grace-ms N] [--stop-grace-ms N] [--queue-limit N]\n"
               "         [--emit-a N] [--emit-b N] [--emit-c N] [--emit-bulk N] [--bulk-size BYTES]\n"
               "         [--emit-jitter-ms N] [--seed N] [--collect N] [--echo] [--emit-on-go]\n"
               "         [--bind-address ADDR] [--max-message-size BYTES] [--queue-bytes N] [--when-full wait|drop]\n"
               "         [--server-cert PATH] [--plugin-key KEY] [--publisher-key KEY[=Event,...]]...\n"
               "         [--subscriber-key KEY]... [--allow-insecure] [--manifest PATH]\n",
               problem);
    std::exit(64);
}

long number(std::string_view flag, const char* text, long low, long high)
{
    char* end = nullptr;
    const long value = std::strtol(text, &end, 10);
    if (end == text || *end != '\0' || value < low || value > high) {
        usage(fmt::format("{} needs a whole number from {} to {}, not '{}'", flag, low, high, text));
    }
    return value;
}

// A KEY flag: the tests give keys as their bare Z85 text, which from_setting refuses for
// the third of keys that contain '/' (it could be a path): here 40 Z85 characters are a key.
event_engine::curve_key key_flag(std::string_view text)
{
    return event_engine::curve_key::is_z85_key(text) ? event_engine::curve_key::from_z85(text)
                                                     : event_engine::curve_key::from_setting(text);
}

options parse(int argc, char** argv)
{
    options o;
    for (int i = 1; i < argc; ++i) {
        const std::string_view flag = argv[i];
        if (flag == "--no-external") {
            o.external = false;
            continue;
        }
        if (flag == "--echo") {
            o.echo = true;
            continue;
        }
        if (flag == "--emit-on-go") {
            o.emit_on_go = true;
            continue;
        }
        if (flag == "--allow-insecure") {
            o.security.allow_insecure_non_loopback = true;
            continue;
        }
        if (i + 1 >= argc) usage(fmt::format("unknown flag or missing value: {}", flag));
        const char* value = argv[++i];
        const auto ms = [&] { return std::chrono::milliseconds{number(flag, value, 0, 3'600'000)}; };
        const auto port = [&] { return static_cast<std::uint16_t>(number(flag, value, 0, 65535)); };
        const auto count = [&] { return number(flag, value, 0, 10'000'000); };
        if (flag == "--plugin-name") o.plugin_name = value;
        else if (flag == "--plugin-port") o.plugin_port = port();
        else if (flag == "--publish-port") o.publish_port = port();
        else if (flag == "--subscribe-port") o.subscribe_port = port();
        else if (flag == "--hwm") o.high_water_mark = static_cast<int>(number(flag, value, 1, 1'000'000));
        else if (flag == "--connect-timeout-ms") o.external_options.connect_timeout = ms();
        else if (flag == "--disconnect-grace-ms") o.external_options.disconnect_grace = ms();
        else if (flag == "--stop-grace-ms") o.external_options.stop_grace = ms();
        else if (flag == "--queue-limit")
            o.external_options.queue_limit = static_cast<int>(number(flag, value, 1, 10'000'000));
        else if (flag == "--emit-a") o.emit_a = count();
        else if (flag == "--emit-b") o.emit_b = count();
        else if (flag == "--emit-c") o.emit_c = count();
        else if (flag == "--emit-bulk") o.emit_bulk = count();
        else if (flag == "--bulk-size") o.bulk_size = static_cast<std::size_t>(number(flag, value, 1, 256L << 20));
        else if (flag == "--emit-jitter-ms") o.jitter_ms = number(flag, value, 0, 10'000);
        else if (flag == "--seed") o.seed = static_cast<unsigned>(number(flag, value, 0, 1'000'000'000));
        else if (flag == "--collect") o.collect = count();
        else if (flag == "--bind-address") o.bind_address = value;
        else if (flag == "--manifest") o.manifest_path = value;
        else if (flag == "--max-message-size") o.max_message_size = number(flag, value, 1, 1L << 40);
        else if (flag == "--queue-bytes")
            o.external_options.queue_byte_limit = static_cast<std::size_t>(number(flag, value, 1, 1L << 40));
        else if (flag == "--when-full") {
            const std::string_view policy = value;
            if (policy != "wait" && policy != "drop") usage("--when-full takes wait or drop");
            o.external_options.when_full =
                policy == "drop" ? event_engine::full_policy::drop : event_engine::full_policy::wait;
        } else if (flag == "--server-cert") o.security.server = event_engine::curve_keypair::load(value);
        else if (flag == "--plugin-key") o.external_options.client_key = key_flag(value);
        else if (flag == "--subscriber-key") o.security.subscribers.push_back(key_flag(value));
        else if (flag == "--publisher-key") {
            // KEY or KEY=Event,...; '=' is also a Z85 character, so a whole key is taken first.
            const std::string_view text = value;
            const bool key_only = event_engine::curve_key::is_z85_key(text) ||
                                  std::filesystem::exists(std::string{text}) ||
                                  (text.starts_with("z85:") && event_engine::curve_key::is_z85_key(text.substr(4)));
            const auto equals = key_only ? std::string_view::npos : text.rfind('=');
            event_engine::authorized_publisher publisher{key_flag(text.substr(0, equals)), {}};
            for (std::string_view rest = equals == std::string_view::npos ? "" : text.substr(equals + 1);
                 !rest.empty();) {
                const auto comma = rest.find(',');
                publisher.events.emplace_back(rest.substr(0, comma));
                rest = comma == std::string_view::npos ? "" : rest.substr(comma + 1);
            }
            o.security.publishers.push_back(std::move(publisher));
        } else usage(fmt::format("unknown flag: {}", flag));
    }
    return o;
}

// --- internal plugins -----------------------------------------------------------

// --emit-on-go: opens when a TypeC "go" arrives, then finishes.
class GoGate : public event_engine::plugin<GoGate, event_engine::subscribes<TypeC>, event_engine::publishes<>> {
public:
    void on(const TypeC& event)
    {
        if (event.message != "go") return;
        open_.store(true);
        finish();
    }
    [[nodiscard]] bool open() const noexcept { return open_.load(); }

private:
    std::atomic<bool> open_{false};
};

class Emitter : public event_engine::plugin<Emitter, event_engine::subscribes<>,
                                            event_engine::publishes<TypeA, TypeB, TypeC, Bulk>> {
public:
    Emitter(const options& o, const GoGate& gate) : options_{&o}, gate_{&gate}, random_{o.seed} {}

    void run()
    {
        const auto& o = *options_;
        while (o.emit_on_go && !gate_->open()) {
            if (stop_requested()) return;
            std::this_thread::sleep_for(std::chrono::milliseconds{1});
        }
        const long rounds = std::max({o.emit_a, o.emit_b, o.emit_c});
        for (long i = 0; i < rounds; ++i) {
            if (i < o.emit_a && !emit(TypeA{fmt::format("A-{}", i)})) return;
            if (i < o.emit_b && !emit(TypeB{static_cast<std::size_t>(i)})) return;
            if (i < o.emit_c && !emit(TypeC{fmt::format("C-{}", i)})) return;
        }
        for (long k = 0; k < o.emit_bulk; ++k) {
            if (!emit(Bulk{bulk_pattern(o.bulk_size, static_cast<std::size_t>(k))})) return;
        }
        say("EMITTED {{\"TypeA\":{},\"TypeB\":{},\"TypeC\":{},\"Bulk\":{}}}", o.emit_a, o.emit_b, o.emit_c,
            o.emit_bulk);
    }

private:
    template <class E>
    bool emit(const E& event)
    {
        if (options_->jitter_ms > 0) {
            std::uniform_int_distribution<long> pause{0, options_->jitter_ms};
            std::this_thread::sleep_for(std::chrono::milliseconds{pause(random_)});
        }
        return publish(event);
    }

    const options* options_;
    const GoGate* gate_;
    std::mt19937 random_;
};

class Collector
    : public event_engine::plugin<Collector, event_engine::subscribes<TypeB, TypeC, Bulk>, event_engine::publishes<>> {
public:
    explicit Collector(long expected) : expected_{expected} {}

    void on(const TypeB& event) { say("COLLECTED {{\"type\":\"TypeB\",\"count\":{}}}", event.count); }

    void on(const TypeC& event)
    {
        say("COLLECTED {{\"type\":\"TypeC\",\"text\":{}}}", json_string(event.message));
        counted();
    }

    void on(const Bulk& event)
    {
        const auto& bytes = event.bytes;
        const std::size_t index = bytes.empty() ? 0 : std::to_integer<std::size_t>(bytes[0]);
        bool intact = true;
        for (std::size_t i = 0; i < bytes.size() && intact; ++i) {
            intact = bytes[i] == static_cast<std::byte>((i + index) % 251);
        }
        say("COLLECTED {{\"type\":\"Bulk\",\"size\":{},\"index\":{},\"crc32\":\"{:08x}\",\"pattern\":\"{}\"}}",
            bytes.size(), index, crc32(bytes.data(), bytes.size()), intact ? "ok" : "bad");
        counted();
    }

private:
    void counted()
    {
        if (++seen_ >= expected_) finish();
    }

    long expected_;
    long seen_ = 0;
};

class Echo : public event_engine::plugin<Echo, event_engine::subscribes<TypeC>, event_engine::publishes<TypeA>> {
public:
    void on(const TypeC& event)
    {
        say("ECHO {{\"text\":{}}}", json_string(event.message));
        if (event.message == "stop") {
            finish();
            return;
        }
        publish(TypeA{"echo:" + event.message});
    }
};

// --- report -----------------------------------------------------------------------

std::string_view outcome_name(event_engine::plugin_outcome outcome)
{
    switch (outcome) {
    case event_engine::plugin_outcome::finished: return "finished";
    case event_engine::plugin_outcome::stopped: return "stopped";
    case event_engine::plugin_outcome::failed: return "failed";
    case event_engine::plugin_outcome::disconnected: return "disconnected";
    }
    return "unknown";
}

void print_report(const event_engine::run_report& report)
{
    for (const auto& p : report.plugins) {
        say("REPORT {{\"name\":{},\"outcome\":\"{}\",\"received\":{},\"published\":{},\"rejected\":{},"
            "\"unread\":{},\"dropped\":{},\"decode_failures\":{},\"publish_waits\":{},\"requests_ignored\":{},"
            "\"peers_cut_off\":{},\"after_end\":{},\"publishes_abandoned\":{},\"events_refused\":{},"
            "\"batches_repeated\":{},\"error\":{}}}",
            json_string(p.name), outcome_name(p.outcome), p.events_received, p.events_published, p.requests_rejected,
            p.events_unread, p.events_dropped, p.decode_failures, p.publish_waits, p.requests_ignored, p.peers_cut_off,
            p.events_after_end, p.publishes_abandoned, p.events_refused, p.batches_repeated, json_string(p.error));
    }
    say("RUN {{\"stopped\":{},\"tcp_events_offered\":{},\"tcp_publishes_refused\":{},\"connections_refused\":{}}}",
        report.stopped, report.tcp_events_offered, report.tcp_publishes_refused, report.connections_refused);
}

} // namespace

int main(int argc, char** argv)
{
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    options o;
    try {
        o = parse(argc, argv);
    } catch (const event_engine::error& failure) { // a key that does not load
        say("ERROR {{\"kind\":\"configuration_error\",\"what\":{}}}", json_string(failure.what()));
        return 4;
    }

    event_engine::app_config config;
    config.publish_port = o.publish_port;
    config.subscribe_port = o.subscribe_port;
    config.high_water_mark = o.high_water_mark;
    config.stop_on_signals = true; // the tests end a stuck engine with SIGTERM
    config.bind_address = o.bind_address;
    config.max_message_size = o.max_message_size;
    config.security = o.security;
    config.manifest_path = o.manifest_path;

    GoGate gate;
    Emitter emitter{o, gate};
    Collector collector{o.collect};
    Echo echo;
    event_engine::app<events> app{config};
    event_engine::enable_manifest(app);
    try {
        if (o.external) app.register_external_plugin(ExternalPlugin{o.plugin_name, o.plugin_port, o.external_options});
        if (o.emit_a + o.emit_b + o.emit_c + o.emit_bulk > 0) app.register_plugin(emitter, "emitter");
        if (o.emit_on_go) app.register_plugin(gate, "gate");
        if (o.collect > 0) app.register_plugin(collector, "collector");
        if (o.echo) app.register_plugin(echo, "echo");
        app.on_bound([&](const event_engine::bound_endpoints& bound) {
            say("BOUND {{\"publish_port\":{},\"subscribe_port\":{},\"plugin_port\":{}}}", bound.publish_port,
                bound.subscribe_port, o.external ? bound.port_of(o.plugin_name) : 0);
        });
        print_report(app.run());
        return 0;
    } catch (const event_engine::plugin_error& failure) {
        say("ERROR {{\"kind\":\"plugin_error\",\"plugin\":{},\"what\":{}}}", json_string(failure.plugin()),
            json_string(failure.what()));
        print_report(failure.report());
        return 2;
    } catch (const event_engine::bind_error& failure) {
        say("ERROR {{\"kind\":\"bind_error\",\"endpoint\":{},\"what\":{}}}", json_string(failure.endpoint()),
            json_string(failure.what()));
        return 3;
    } catch (const event_engine::configuration_error& failure) {
        say("ERROR {{\"kind\":\"configuration_error\",\"what\":{}}}", json_string(failure.what()));
        return 4;
    } catch (const std::exception& failure) {
        say("ERROR {{\"kind\":\"error\",\"what\":{}}}", json_string(failure.what()));
        return 4;
    }
}
