// Misuse (with the whole-graph check, strict): Greeter publishes Goodbye, but no
// plugin of the list subscribes to it. (graph_rules::complete allows this.)
#include <event_engine/event_engine.hpp>
#include <event_engine/graph_check.hpp>

#include <string>
#include <string_view>

// expect: published_event_must_have_a_subscriber<(struct )?Goodbye, ?(class )?Greeter>
// expect-first-error: these plugins publish this event, but no plugin in the plugins_list subscribes to it

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

class Greeter
    : public event_engine::plugin<Greeter, event_engine::subscribes<>, event_engine::publishes<Hello, Goodbye>> {
public:
    void run() { publish(Hello{"hi"}); }
};

class Listener : public event_engine::plugin<Listener, event_engine::subscribes<Hello>, event_engine::publishes<>> {
public:
    void on(const Hello&) { finish(); }
};

using plugins = event_engine::plugins_list<Greeter, Listener>;
static_assert(event_engine::graph_is_complete_v<events, plugins>);
static_assert(!event_engine::every_published_event_is_subscribed_v<events, plugins>);

int main()
{
    event_engine::check_graph<events, plugins>(); // complete: compiles
    event_engine::check_graph<events, plugins, event_engine::graph_rules::strict>();
}
