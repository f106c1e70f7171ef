// Misuse: a handler-style plugin (no run()) subscribes to TypeA and TypeB but
// has a handler for TypeA only.
#include <event_engine/event_engine.hpp>

#include <string>
#include <string_view>

// expect: handler_overloads_must_cover_each_subscription<(struct |class )?Handler, ?(struct )?TypeB>
// expect-first-error: the plugin subscribes to this event, but none of its public on\(\) members takes it

struct TypeA {
    static constexpr std::string_view name = "TypeA";
    using codec = event_engine::text_codec;
    std::string text;
};

struct TypeB {
    static constexpr std::string_view name = "TypeB";
    using codec = event_engine::text_codec;
    std::string text;
};

class Handler
    : public event_engine::plugin<Handler, event_engine::subscribes<TypeA, TypeB>, event_engine::publishes<>> {
public:
    void on(const TypeA&) { finish(); }
};

int main()
{
    Handler handler;
    event_engine::app<event_engine::event_list<TypeA, TypeB>> app{{.publish_port = 0, .subscribe_port = 0}};
    app.register_plugin(handler);
    return app.run().stopped ? 1 : 0;
}
