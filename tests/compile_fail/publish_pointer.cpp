// Misuse: publish(&event): a pointer instead of the event.
#include <event_engine/event_engine.hpp>

#include <string>
#include <string_view>

// expect: publish_takes_the_event_not_a_pointer<(struct |class )?Talker, ?(struct )?TypeA ?\*>
// expect-first-error: publish was given a pointer

struct TypeA {
    static constexpr std::string_view name = "TypeA";
    using codec = event_engine::text_codec;
    std::string text;
};

class Talker : public event_engine::plugin<Talker, event_engine::subscribes<>, event_engine::publishes<TypeA>> {
public:
    void run()
    {
        TypeA event{"hello"};
        publish(&event);
    }
};

int main()
{
    Talker talker;
    event_engine::app<event_engine::event_list<TypeA>> app{{.publish_port = 0, .subscribe_port = 0}};
    app.register_plugin(talker);
    return app.run().stopped ? 1 : 0;
}
