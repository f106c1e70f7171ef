// Misuse: an event type without a name.
#include <event_engine/event_engine.hpp>

#include <string>
#include <string_view>

// expect: event_type_needs_a_static_name<(struct )?Anonymous>
// expect-first-error: this event type has no `name`

struct TypeA {
    static constexpr std::string_view name = "TypeA";
    using codec = event_engine::text_codec;
    std::string text;
};

struct Anonymous {
    using codec = event_engine::text_codec; // forgot `static constexpr std::string_view name = ...;`
    std::string text;
};

class Talker
    : public event_engine::plugin<Talker, event_engine::subscribes<>, event_engine::publishes<TypeA, Anonymous>> {
public:
    void run()
    {
        publish(TypeA{"a"});
        publish(Anonymous{"b"});
    }
};

int main()
{
    Talker talker;
    event_engine::app<event_engine::event_list<TypeA, Anonymous>> app{{.publish_port = 0, .subscribe_port = 0}};
    app.register_plugin(talker);
    return app.run().stopped ? 1 : 0;
}
