// Misuse: a base class handles Heartbeat, the plugin handles TypeA; the plugin's
// own on() hides the base's on() (C++ name hiding), so Heartbeat has no handler
// the engine can call unless the plugin says `using Base::on;`.
#include <event_engine/event_engine.hpp>

#include <string>
#include <string_view>

// expect: handler_overloads_must_cover_each_subscription<(struct |class )?Monitor, ?(struct )?Heartbeat>
// expect-first-error: the plugin subscribes to this event, but none of its public on\(\) members takes it
// expect: add `using Base::on.`

struct Heartbeat {
    static constexpr std::string_view name = "Heartbeat";
    using codec = event_engine::trivial_codec;
    int sequence = 0;
};

struct TypeA {
    static constexpr std::string_view name = "TypeA";
    using codec = event_engine::text_codec;
    std::string text;
};

template <class Self, class Subscriptions>
class with_heartbeat : public event_engine::plugin<Self, Subscriptions, event_engine::publishes<>> {
public:
    void on(const Heartbeat&) { ++beats; }
    int beats = 0;
};

class Monitor : public with_heartbeat<Monitor, event_engine::subscribes<Heartbeat, TypeA>> {
public:
    void on(const TypeA&) { finish(); } // hides with_heartbeat::on(const Heartbeat&)
};

int main()
{
    Monitor monitor;
    event_engine::app<event_engine::event_list<Heartbeat, TypeA>> app{{.publish_port = 0, .subscribe_port = 0}};
    app.register_plugin(monitor);
    return app.run().stopped ? 1 : 0;
}
