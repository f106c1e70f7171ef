// Misuse: the plugin declares and publishes Foreign, but the application's
// event_list does not contain Foreign.
#include <event_engine/event_engine.hpp>

#include <string>
#include <string_view>

// expect: published_event_must_be_in_event_list<(struct )?Publisher, ?(struct )?Foreign>
// expect-first-error: the plugin publishes an event type that is not in the application's event_list

struct TypeA {
    static constexpr std::string_view name = "TypeA";
    using codec = event_engine::text_codec;
    std::string text;
};

struct Foreign {
    static constexpr std::string_view name = "Foreign";
    using codec = event_engine::text_codec;
    std::string text;
};

class Publisher
    : public event_engine::plugin<Publisher, event_engine::subscribes<>, event_engine::publishes<TypeA, Foreign>> {
public:
    void run()
    {
        publish(TypeA{"fine"});
        publish(Foreign{"not in the application's list"});
    }
};

int main()
{
    Publisher publisher;
    event_engine::app<event_engine::event_list<TypeA>> app{{.publish_port = 0, .subscribe_port = 0}};
    app.register_plugin(publisher);
    return app.run().stopped ? 1 : 0;
}
