// Misuse: a plugin subscribes to TypeA but has neither a handler nor a run().
#include <event_engine/event_engine.hpp>

#include <string>
#include <string_view>

// expect: handler_style_plugin_needs_a_handler_per_subscription<(struct |class )?Listener, ?(struct )?TypeA>
// expect-first-error: the plugin subscribes to this event but has no handler for it

struct TypeA {
    static constexpr std::string_view name = "TypeA";
    using codec = event_engine::text_codec;
    std::string text;
};

class Listener : public event_engine::plugin<Listener, event_engine::subscribes<TypeA>, event_engine::publishes<>> {
public:
    void handle(const TypeA&) { finish(); } // not named on(): the engine never calls it
};

int main()
{
    Listener listener;
    event_engine::app<event_engine::event_list<TypeA>> app{{.publish_port = 0, .subscribe_port = 0}};
    app.register_plugin(listener);
    return app.run().stopped ? 1 : 0;
}
