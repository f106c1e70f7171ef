// Misuse: handlers declared in a `class` before any `public:`, so they are private
// and the engine cannot call them.
#include <event_engine/event_engine.hpp>

#include <string>
#include <string_view>

// expect: handlers_must_be_public<(struct |class )?Counter, ?(struct )?TypeA>
// expect-first-error: the plugin's on\(\) handlers are not accessible

struct TypeA {
    static constexpr std::string_view name = "TypeA";
    using codec = event_engine::text_codec;
    std::string text;
};

class Counter : public event_engine::plugin<Counter, event_engine::subscribes<TypeA>, event_engine::publishes<>> {
    void on(const TypeA&) { finish(); } // private: a class starts private
};

int main()
{
    Counter counter;
    event_engine::app<event_engine::event_list<TypeA>> app{{.publish_port = 0, .subscribe_port = 0}};
    app.register_plugin(counter);
    return app.run().stopped ? 1 : 0;
}
