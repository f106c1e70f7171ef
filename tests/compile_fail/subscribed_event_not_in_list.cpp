// Misuse: the plugin subscribes to Foreign (and handles it), but the
// application's event_list does not contain Foreign.
#include <event_engine/event_engine.hpp>

#include <string>
#include <string_view>

// expect: subscribed_event_must_be_in_event_list<(struct )?Listener, ?(struct )?Foreign>
// expect-first-error: the plugin subscribes to an event type that is not in the application's event_list

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

class Listener
    : public event_engine::plugin<Listener, event_engine::subscribes<TypeA, Foreign>, event_engine::publishes<>> {
public:
    void on(const TypeA&) {}
    void on(const Foreign&) { finish(); }
};

int main()
{
    Listener listener;
    event_engine::app<event_engine::event_list<TypeA>> app{{.publish_port = 0, .subscribe_port = 0}};
    app.register_plugin(listener);
    return app.run().stopped ? 1 : 0;
}
