// Misuse: an event type whose `name` is static but not a compile-time constant
// (g++ used to accept it; clang++ printed 330 lines).
#include <event_engine/event_engine.hpp>

#include <string>
#include <string_view>

// expect: event_name_must_be_static_constexpr<(struct )?Note>
// expect-first-error: the event type's `name` must be declared `static constexpr std::string_view name = \\?"\.\.\.\\?"

struct Note {
    static inline const std::string name = "Note"; // static, but not constexpr
    using codec = event_engine::text_codec;
    std::string text;
};

class Writer : public event_engine::plugin<Writer, event_engine::subscribes<>, event_engine::publishes<Note>> {
public:
    void run() { publish(Note{"hello"}); }
};

int main()
{
    Writer writer;
    event_engine::app<event_engine::event_list<Note>> app{{.publish_port = 0, .subscribe_port = 0}};
    app.register_plugin(writer);
    return app.run().stopped ? 1 : 0;
}
