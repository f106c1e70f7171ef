// Misuse: a plugin with both run() and on(): the engine calls run() only, so on()
// would silently never be called.
#include <event_engine/event_engine.hpp>

#include <string>
#include <string_view>

// expect: plugin_must_not_have_both_run_and_on<(struct |class )?Mixed>
// expect-first-error: the plugin has both `void run\(\)` and on\(\) handlers

struct TypeA {
    static constexpr std::string_view name = "TypeA";
    using codec = event_engine::text_codec;
    std::string text;
};

class Mixed : public event_engine::plugin<Mixed, event_engine::subscribes<TypeA>, event_engine::publishes<TypeA>> {
public:
    void run() { publish(TypeA{"hello"}); }
    void on(const TypeA&) { finish(); }
};

int main()
{
    Mixed mixed;
    event_engine::app<event_engine::event_list<TypeA>> app{{.publish_port = 0, .subscribe_port = 0}};
    app.register_plugin(mixed);
    return app.run().stopped ? 1 : 0;
}
