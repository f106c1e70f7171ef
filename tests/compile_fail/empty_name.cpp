// Misuse: an event type whose name is empty (an empty topic would match every event).
#include <event_engine/event_engine.hpp>

#include <string>
#include <string_view>

// expect: event_name_must_not_be_empty<(struct )?Nameless>
// expect-first-error: this event type has an empty name

struct Named {
    static constexpr std::string_view name = "Named";
    using codec = event_engine::text_codec;
    std::string text;
};

struct Nameless {
    static constexpr std::string_view name = "";
    using codec = event_engine::text_codec;
    std::string text;
};

using events = event_engine::event_list<Named, Nameless>;

class Talker
    : public event_engine::plugin<Talker, event_engine::subscribes<>, event_engine::publishes<Named, Nameless>> {
public:
    void run()
    {
        publish(Named{"a"});
        publish(Nameless{"b"});
    }
};

int main()
{
    Talker talker;
    event_engine::app<events> app{{.publish_port = 0, .subscribe_port = 0}};
    app.register_plugin(talker);
    return app.run().stopped ? 1 : 0;
}
