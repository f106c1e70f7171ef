// Misuse: the plugin publishes TypeB, which is in the application's event_list
// but not in the plugin's own publishes<...> list.
#include <event_engine/event_engine.hpp>

#include <string>
#include <string_view>

// expect: plugin_must_declare_what_it_publishes<(struct )?Talker, ?(struct )?TypeB>
// expect-first-error: the plugin publishes an event type it did not declare

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

class Talker : public event_engine::plugin<Talker, event_engine::subscribes<>, event_engine::publishes<TypeA>> {
public:
    void run()
    {
        publish(TypeA{"declared"});
        publish(TypeB{"not declared"});
    }
};

int main()
{
    Talker talker;
    event_engine::app<event_engine::event_list<TypeA, TypeB>> app{{.publish_port = 0, .subscribe_port = 0}};
    app.register_plugin(talker);
    return app.run().stopped ? 1 : 0;
}
