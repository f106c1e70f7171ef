// Misuse: a loop-style plugin that subscribes to nothing calls receive().
#include <event_engine/event_engine.hpp>

#include <string>
#include <string_view>

// expect: plugin_without_subscriptions_cannot_receive<(struct |class )?Waiter>
// expect-first-error: the plugin subscribes to no event type, so receive\(\) could never return an event

struct TypeA {
    static constexpr std::string_view name = "TypeA";
    using codec = event_engine::text_codec;
    std::string text;
};

class Waiter : public event_engine::plugin<Waiter, event_engine::subscribes<>, event_engine::publishes<TypeA>> {
public:
    void run()
    {
        publish(TypeA{"hello"});
        while (auto event = receive()) {
        }
    }
};

int main()
{
    Waiter waiter;
    event_engine::app<event_engine::event_list<TypeA>> app{{.publish_port = 0, .subscribe_port = 0}};
    app.register_plugin(waiter);
    return app.run().stopped ? 1 : 0;
}
