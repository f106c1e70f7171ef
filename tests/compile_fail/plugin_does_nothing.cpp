// Misuse: a plugin with no subscriptions and no run(): it could never do anything.
#include <event_engine/event_engine.hpp>

#include <string>
#include <string_view>

// expect: plugin_needs_run_or_subscriptions<(struct |class )?Idle>
// expect-first-error: the plugin subscribes to nothing and has no `void run\(\)`

struct TypeA {
    static constexpr std::string_view name = "TypeA";
    using codec = event_engine::text_codec;
    std::string text;
};

class Idle : public event_engine::plugin<Idle, event_engine::subscribes<>, event_engine::publishes<TypeA>> {
public:
    void start() { publish(TypeA{"never called"}); } // not run(): the engine never calls it
};

int main()
{
    Idle idle;
    event_engine::app<event_engine::event_list<TypeA>> app{{.publish_port = 0, .subscribe_port = 0}};
    app.register_plugin(idle);
    return app.run().stopped ? 1 : 0;
}
