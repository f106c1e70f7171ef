// The seed README's example application: MsgProducer publishes five TypeA
// messages; Counter answers each with a TypeB count; the Python plugin
// (pyplugin.py, an external process) reads the ten TypeA and TypeB events and
// says goodbye with a TypeC, which MsgProducer waits for before finishing.
//
// Usage: seed_app [--pyplugin-port N] [--publish-port N] [--subscribe-port N]
//                 [--manifest PATH] [--introspection-port N]
// --manifest writes the application's manifest (docs/protocol.md) to PATH once bound;
// --introspection-port serves it over the wire (scripts/render-graph.sh uses the file).

#include "events.hpp"

#include <event_engine/event_engine.hpp>
#include <event_engine/graph_check.hpp>
#include <event_engine/manifest.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace seed {

constexpr int message_count = 5;

// Loop style: runs once, pulls its events with receive().
class MsgProducer
    : public event_engine::plugin<MsgProducer, event_engine::subscribes<TypeB, TypeC>, event_engine::publishes<TypeA>> {
public:
    void run()
    {
        for (int i = 0; i < message_count; ++i) {
            publish(TypeA{fmt::format("This is message {}", i)});
            fmt::print("MsgProducer: sent TypeA \"This is message {}\"\n", i);
        }
        int counts = 0;
        bool goodbye = false;
        while (counts < message_count || !goodbye) {
            auto event = receive();
            if (!event) return; // the application is stopping
            if (const auto* b = std::get_if<TypeB>(&*event)) {
                fmt::print("MsgProducer: got TypeB count {}\n", b->count);
                ++counts;
            } else {
                fmt::print("MsgProducer: got TypeC \"{}\"\n", std::get<TypeC>(*event).message);
                goodbye = true;
            }
        }
        fmt::print("MsgProducer: all {} counts and the goodbye received\n", message_count);
    }
};

// Handler style: the engine calls on() for each TypeA.
class Counter : public event_engine::plugin<Counter, event_engine::subscribes<TypeA>, event_engine::publishes<TypeB>> {
public:
    void on(const TypeA& event)
    {
        publish(TypeB{event.message.size()});
        if (++handled_ == message_count) finish();
    }

private:
    int handled_ = 0;
};

// The Python plugin, declared here; its process connects to its port.
using PyPlugin = event_engine::external_plugin<event_engine::subscribes<TypeA, TypeB>, event_engine::publishes<TypeC>>;

// The whole graph, checked at compile time: every event someone subscribes to has a publisher.
static_assert(event_engine::graph_is_complete_v<events, event_engine::plugins_list<MsgProducer, Counter, PyPlugin>>);

} // namespace seed

namespace {

std::uint16_t port_argument(int argc, char** argv, std::string_view flag, std::uint16_t fallback)
{
    for (int i = 1; i + 1 < argc; ++i) {
        if (argv[i] == flag) return static_cast<std::uint16_t>(std::atoi(argv[i + 1]));
    }
    return fallback;
}

const char* text_argument(int argc, char** argv, std::string_view flag)
{
    for (int i = 1; i + 1 < argc; ++i) {
        if (argv[i] == flag) return argv[i + 1];
    }
    return nullptr;
}

} // namespace

int main(int argc, char** argv)
{
    std::setvbuf(stdout, nullptr, _IOLBF, 0); // line by line, interleaved with the Python plugin's log
    event_engine::app_config config;
    config.publish_port = port_argument(argc, argv, "--publish-port", 5559);
    config.subscribe_port = port_argument(argc, argv, "--subscribe-port", 5560);
    config.stop_on_signals = true;
    const auto pyplugin_port = port_argument(argc, argv, "--pyplugin-port", 6000);
    if (const char* path = text_argument(argc, argv, "--manifest")) config.manifest_path = path;
    if (text_argument(argc, argv, "--introspection-port") != nullptr) {
        config.introspection_port = port_argument(argc, argv, "--introspection-port", 0);
    }

    seed::MsgProducer producer;
    seed::Counter counter;
    event_engine::app<seed::events> app{config};
    event_engine::enable_manifest(app); // --manifest, --introspection-port and plugin_command: manifest
    try {
        const auto report = app.register_plugin(producer)
                                .register_plugin(counter)
                                .register_external_plugin(seed::PyPlugin{"pyplugin", pyplugin_port})
                                .run();
        fmt::print("{}\n", report);
        const bool all_finished = std::all_of(report.plugins.begin(), report.plugins.end(), [](const auto& plugin) {
            return plugin.outcome == event_engine::plugin_outcome::finished;
        });
        if (!all_finished) fmt::print(stderr, "seed_app: stopped before every plugin had finished\n");
        return all_finished ? EXIT_SUCCESS : EXIT_FAILURE;
    } catch (const event_engine::error& failure) {
        fmt::print(stderr, "seed_app: {}\n", failure.what());
        return EXIT_FAILURE;
    }
}
