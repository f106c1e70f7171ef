// Misuse: external_plugin<publishes<...>, subscribes<...>>: the two lists swapped.
#include <event_engine/event_engine.hpp>

#include <string>
#include <string_view>

// expect: external_plugin_takes_subscribes_then_publishes<event_engine::publishes<(struct )?TypeB>, ?event_engine::subscribes<(struct )?TypeA> ?>
// expect-first-error: the first argument must be event_engine::subscribes<\.\.\.> and the second event_engine::publishes<\.\.\.>

struct TypeA {
    static constexpr std::string_view name = "TypeA";
    using codec = event_engine::text_codec;
    std::string text;
};

struct TypeB {
    static constexpr std::string_view name = "TypeB";
    using codec = event_engine::text_codec;
    std::string text;
};

using py_plugin = event_engine::external_plugin<event_engine::publishes<TypeB>, event_engine::subscribes<TypeA>>;

int main()
{
    event_engine::app<event_engine::event_list<TypeA, TypeB>> app{{.publish_port = 0, .subscribe_port = 0}};
    app.register_external_plugin(py_plugin{"pyplugin", 5561});
    return app.run().stopped ? 1 : 0;
}
