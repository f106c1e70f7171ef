// Misuse: a plugin that passes another class as plugin<Self, ...>'s Self
// (copy-pasted from its neighbour), so it does not derive from plugin<itself, ...>.
#include <event_engine/event_engine.hpp>

#include <string>
#include <string_view>

// expect: plugin_must_derive_from_event_engine_plugin<(struct |class )?Copycat>
// expect-first-error: with itself as Self

struct TypeA {
    static constexpr std::string_view name = "TypeA";
    using codec = event_engine::text_codec;
    std::string text;
};

class Original : public event_engine::plugin<Original, event_engine::subscribes<>, event_engine::publishes<TypeA>> {
public:
    void run() { publish(TypeA{"original"}); }
};

class Copycat : public event_engine::plugin<Original, event_engine::subscribes<>, event_engine::publishes<TypeA>> {
public:
    void run() {}
};

int main()
{
    Original original;
    Copycat copycat;
    event_engine::app<event_engine::event_list<TypeA>> app{{.publish_port = 0, .subscribe_port = 0}};
    app.register_plugin(original).register_plugin(copycat);
    return app.run().stopped ? 1 : 0;
}
