// Misuse: an event whose topic starts with byte 0xFF followed by "event_engine/",
// the prefix event_engine reserves for its own control frames.
#include <event_engine/event_engine.hpp>

#include <string>
#include <string_view>

// expect: event_topic_must_not_use_reserved_prefix<(struct )?Sneaky>
// expect-first-error: this event's topic overlaps event_engine's reserved control prefix

struct Plain {
    static constexpr std::string_view name = "Plain";
    using codec = event_engine::text_codec;
    std::string text;
};

struct Sneaky {
    static constexpr std::string_view name = "Sneaky";
    // clang-format off
    static constexpr std::string_view topic = "\xff" "event_engine/sneaky";
    // clang-format on
    using codec = event_engine::text_codec;
    std::string text;
};

using events = event_engine::event_list<Plain, Sneaky>;

class Talker : public event_engine::plugin<Talker, event_engine::subscribes<>, event_engine::publishes<Plain, Sneaky>> {
public:
    void run()
    {
        publish(Plain{"a"});
        publish(Sneaky{"b"});
    }
};

int main()
{
    Talker talker;
    event_engine::app<events> app{{.publish_port = 0, .subscribe_port = 0}};
    app.register_plugin(talker);
    return app.run().stopped ? 1 : 0;
}
