// The seed README's example application: MsgProducer publishes five TypeA
// messages and waits for the five TypeB counts that Counter answers with.

#include "events.hpp"

#include <event_engine/event_engine.hpp>

#include <fmt/core.h>

#include <cstdlib>

namespace seed {

constexpr int message_count = 5;

// Loop style: runs once, pulls its events with receive().
class MsgProducer : public event_engine::plugin<MsgProducer, event_engine::subscribes<TypeB>,
                                                event_engine::publishes<TypeA>> {
public:
    void run()
    {
        for (int i = 0; i < message_count; ++i) {
            publish(TypeA{fmt::format("This is message {}", i)});
            fmt::print("MsgProducer: sent TypeA \"This is message {}\"\n", i);
        }
        for (int received = 0; received < message_count;) {
            auto event = receive();
            if (!event) return; // the application is stopping
            fmt::print("MsgProducer: got TypeB count {}\n", std::get<TypeB>(*event).count);
            ++received;
        }
        fmt::print("MsgProducer: all {} counts received\n", message_count);
    }
};

// Handler style: the engine calls on() for each TypeA.
class Counter : public event_engine::plugin<Counter, event_engine::subscribes<TypeA>,
                                            event_engine::publishes<TypeB>> {
public:
    void on(const TypeA& event)
    {
        publish(TypeB{event.message.size()});
        if (++handled_ == message_count) finish();
    }

private:
    int handled_ = 0;
};

} // namespace seed

int main()
{
    seed::MsgProducer producer;
    seed::Counter counter;
    event_engine::app<seed::events> app{{.publish_port = 5559, .subscribe_port = 5560, .stop_on_signals = true}};
    try {
        const auto report = app.register_plugin(producer).register_plugin(counter).run();
        for (const auto& plugin : report.plugins) {
            fmt::print("{}: received {}, published {}\n", plugin.name, plugin.events_received, plugin.events_published);
        }
        return report.stopped ? EXIT_FAILURE : EXIT_SUCCESS;
    } catch (const event_engine::error& failure) {
        fmt::print(stderr, "seed_app: {}\n", failure.what());
        return EXIT_FAILURE;
    }
}
