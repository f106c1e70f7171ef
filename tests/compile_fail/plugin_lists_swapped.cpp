// Misuse: plugin<Self, publishes<...>, subscribes<...>>: the two lists swapped.
#include <event_engine/event_engine.hpp>

#include <string>
#include <string_view>

// expect: plugin_takes_subscribes_then_publishes<(struct |class )?Relay, ?event_engine::publishes<(struct )?TypeB>, ?event_engine::subscribes<(struct )?TypeA> ?>
// expect-first-error: the second argument must be event_engine::subscribes<\.\.\.> and the third event_engine::publishes<\.\.\.>

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

class Relay : public event_engine::plugin<Relay, event_engine::publishes<TypeB>, event_engine::subscribes<TypeA>> {
public:
    void on(const TypeA& a) { publish(TypeB{a.text}); }
};

int main()
{
    Relay relay;
    event_engine::app<event_engine::event_list<TypeA, TypeB>> app{{.publish_port = 0, .subscribe_port = 0}};
    app.register_plugin(relay);
    return app.run().stopped ? 1 : 0;
}
