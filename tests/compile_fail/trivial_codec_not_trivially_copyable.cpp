// Misuse: trivial_codec (memcpy of the object) on an event holding a std::string.
#include <event_engine/event_engine.hpp>

#include <string>
#include <string_view>

// expect: trivial_codec_needs_a_trivially_copyable_event<(struct )?Note>
// expect-first-error: trivial_codec copies the event's bytes, so the event type must be trivially copyable

struct Note {
    static constexpr std::string_view name = "Note";
    using codec = event_engine::trivial_codec;
    int id = 0;
    std::string text;
};

class Writer : public event_engine::plugin<Writer, event_engine::subscribes<>, event_engine::publishes<Note>> {
public:
    void run() { publish(Note{1, "hello"}); }
};

class Reader : public event_engine::plugin<Reader, event_engine::subscribes<Note>, event_engine::publishes<>> {
public:
    void on(const Note&) { finish(); }
};

int main()
{
    Writer writer;
    Reader reader;
    event_engine::app<event_engine::event_list<Note>> app{{.publish_port = 0, .subscribe_port = 0}};
    app.register_plugin(writer).register_plugin(reader);
    return app.run().stopped ? 1 : 0;
}
