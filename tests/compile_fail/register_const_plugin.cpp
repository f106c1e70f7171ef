// Misuse: registering a const plugin object; the engine must call its non-const
// members (on(), run(), publish()).
#include <event_engine/event_engine.hpp>

#include <string>
#include <string_view>

// expect: register_plugin_needs_a_non_const_plugin<(struct |class )?Counter>
// expect-first-error: register_plugin was given a const plugin

struct TypeA {
    static constexpr std::string_view name = "TypeA";
    using codec = event_engine::text_codec;
    std::string text;
};

class Counter : public event_engine::plugin<Counter, event_engine::subscribes<TypeA>, event_engine::publishes<>> {
public:
    void on(const TypeA&) { finish(); }
};

int main()
{
    const Counter counter;
    event_engine::app<event_engine::event_list<TypeA>> app{{.publish_port = 0, .subscribe_port = 0}};
    app.register_plugin(counter);
    return app.run().stopped ? 1 : 0;
}
