// Misuse (with the opt-in whole-graph check): Counter and the external plugin
// subscribe to Goodbye, but no plugin of the list publishes it.
#include <event_engine/event_engine.hpp>
#include <event_engine/graph_check.hpp>

#include <string>
#include <string_view>

// expect: subscribed_event_must_have_a_publisher<(struct )?Goodbye, ?(class )?Counter, ?(class )?event_engine::external_plugin<
// expect-first-error: these plugins subscribe to this event, but no plugin in the plugins_list publishes it

struct Hello {
    static constexpr std::string_view name = "Hello";
    using codec = event_engine::text_codec;
    std::string text;
};

struct Goodbye {
    static constexpr std::string_view name = "Goodbye";
    using codec = event_engine::text_codec;
    std::string text;
};

using events = event_engine::event_list<Hello, Goodbye>;

class Greeter : public event_engine::plugin<Greeter, event_engine::subscribes<>, event_engine::publishes<Hello>> {
public:
    void run() { publish(Hello{"hi"}); }
};

class Counter
    : public event_engine::plugin<Counter, event_engine::subscribes<Hello, Goodbye>, event_engine::publishes<>> {
public:
    void on(const Hello&) {}
    void on(const Goodbye&) { finish(); }
};

using PyPlugin = event_engine::external_plugin<event_engine::subscribes<Goodbye>, event_engine::publishes<>>;

int main() { event_engine::check_graph<events, event_engine::plugins_list<Greeter, Counter, PyPlugin>>(); }
