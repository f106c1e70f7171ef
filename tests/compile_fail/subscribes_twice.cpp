// Misuse: a loop-style plugin lists TypeA twice in subscribes<...>; receive() would
// return a std::variant<TypeA, TypeA>, whose alternatives cannot be told apart.
#include <event_engine/event_engine.hpp>

#include <string>
#include <string_view>
#include <variant>

// expect: subscribes_must_list_each_event_once<(struct |class )?Reader, ?(struct )?TypeA>
// expect-first-error: this event type is listed twice in the plugin's subscribes<...>

struct TypeA {
    static constexpr std::string_view name = "TypeA";
    using codec = event_engine::text_codec;
    std::string text;
};

class Reader : public event_engine::plugin<Reader, event_engine::subscribes<TypeA, TypeA>, event_engine::publishes<>> {
public:
    void run()
    {
        while (auto event = receive()) static_cast<void>(std::get<0>(*event).text);
    }
};

int main()
{
    Reader reader;
    event_engine::app<event_engine::event_list<TypeA>> app{{.publish_port = 0, .subscribe_port = 0}};
    app.register_plugin(reader);
    return app.run().stopped ? 1 : 0;
}
