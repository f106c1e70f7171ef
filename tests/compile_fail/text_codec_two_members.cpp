// Misuse: text_codec on an event with two data members (it needs exactly one).
#include <event_engine/event_engine.hpp>

#include <string>
#include <string_view>

// expect: text_codec_needs_one_string_member<(struct )?Greeting>
// expect-first-error: text_codec needs an event that is an aggregate with exactly one data member

struct Greeting {
    static constexpr std::string_view name = "Greeting";
    using codec = event_engine::text_codec;
    std::string text;
    std::string language;
};

class Writer : public event_engine::plugin<Writer, event_engine::subscribes<>, event_engine::publishes<Greeting>> {
public:
    void run() { publish(Greeting{"hello", "en"}); }
};

class Reader : public event_engine::plugin<Reader, event_engine::subscribes<Greeting>, event_engine::publishes<>> {
public:
    void on(const Greeting&) { finish(); }
};

int main()
{
    Writer writer;
    Reader reader;
    event_engine::app<event_engine::event_list<Greeting>> app{{.publish_port = 0, .subscribe_port = 0}};
    app.register_plugin(writer).register_plugin(reader);
    return app.run().stopped ? 1 : 0;
}
