// Misuse: an event type whose `name` is a non-static data member.
#include <event_engine/event_engine.hpp>

#include <string>
#include <string_view>

// expect: event_name_must_be_static_constexpr<(struct )?Reading>
// expect-first-error: the event type's `name` must be declared `static constexpr std::string_view name = \\?"\.\.\.\\?"

struct Reading {
    std::string_view name = "Reading"; // forgot `static constexpr`
    using codec = event_engine::trivial_codec;
    double celsius = 0.0;
};

class Reader : public event_engine::plugin<Reader, event_engine::subscribes<Reading>, event_engine::publishes<>> {
public:
    void on(const Reading&) { finish(); }
};

int main()
{
    Reader reader;
    event_engine::app<event_engine::event_list<Reading>> app{{.publish_port = 0, .subscribe_port = 0}};
    app.register_plugin(reader);
    return app.run().stopped ? 1 : 0;
}
