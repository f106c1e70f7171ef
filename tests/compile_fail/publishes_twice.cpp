// Misuse: a plugin lists TypeA twice in publishes<...>.
#include <event_engine/event_engine.hpp>

#include <string>
#include <string_view>

// expect: publishes_must_list_each_event_once<(struct |class )?Talker, ?(struct )?TypeA>
// expect-first-error: this event type is listed twice in the plugin's publishes<...>

struct TypeA {
    static constexpr std::string_view name = "TypeA";
    using codec = event_engine::text_codec;
    std::string text;
};

class Talker : public event_engine::plugin<Talker, event_engine::subscribes<>, event_engine::publishes<TypeA, TypeA>> {
public:
    void run() { publish(TypeA{"hello"}); }
};

int main()
{
    Talker talker;
    event_engine::app<event_engine::event_list<TypeA>> app{{.publish_port = 0, .subscribe_port = 0}};
    app.register_plugin(talker);
    return app.run().stopped ? 1 : 0;
}
