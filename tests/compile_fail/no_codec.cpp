// Misuse: an event_list entry whose type has a name but no codec.
#include <event_engine/event_engine.hpp>

#include <string>
#include <string_view>

// expect: event_type_needs_a_codec<(struct )?Raw>
// expect-first-error: this event type has no codec

struct TypeA {
    static constexpr std::string_view name = "TypeA";
    using codec = event_engine::text_codec;
    std::string text;
};

struct Raw {
    static constexpr std::string_view name = "Raw"; // forgot `using codec = ...;`
    std::string text;
};

using events = event_engine::event_list<TypeA, Raw>;

class Talker : public event_engine::plugin<Talker, event_engine::subscribes<>, event_engine::publishes<TypeA>> {
public:
    void run() { publish(TypeA{"hello"}); }
};

int main()
{
    Talker talker;
    event_engine::app<events> app{{.publish_port = 0, .subscribe_port = 0}};
    app.register_plugin(talker);
    return app.run().stopped ? 1 : 0;
}
