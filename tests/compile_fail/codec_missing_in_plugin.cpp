// Misuse: a plugin publishes and another subscribes to an event type without a
// codec; the rule is reported once, where the first plugin declares it.
#include <event_engine/event_engine.hpp>

#include <string>
#include <string_view>

// expect: event_type_needs_a_codec<(struct )?Raw>
// expect-first-error: this event type has no codec

struct Raw {
    static constexpr std::string_view name = "Raw"; // forgot `using codec = ...;`
    std::string text;
};

class Writer : public event_engine::plugin<Writer, event_engine::subscribes<>, event_engine::publishes<Raw>> {
public:
    void run() { publish(Raw{"hello"}); }
};

class Reader : public event_engine::plugin<Reader, event_engine::subscribes<Raw>, event_engine::publishes<>> {
public:
    void on(const Raw&) { finish(); }
};

int main()
{
    Writer writer;
    Reader reader;
    event_engine::app<event_engine::event_list<Raw>> app{{.publish_port = 0, .subscribe_port = 0}};
    app.register_plugin(writer).register_plugin(reader);
    return app.run().stopped ? 1 : 0;
}
