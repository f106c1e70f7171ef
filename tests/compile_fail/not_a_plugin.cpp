// Misuse: registering a class that does not derive from event_engine::plugin.
#include <event_engine/event_engine.hpp>

#include <string>
#include <string_view>

// expect: plugin_must_derive_from_event_engine_plugin<(struct |class )?Freelancer>
// expect-first-error: a plugin must derive from event_engine::plugin<Self, subscribes<...>, publishes<...>>

struct TypeA {
    static constexpr std::string_view name = "TypeA";
    using codec = event_engine::text_codec;
    std::string text;
};

class Freelancer {
public:
    void run() {}
    void on(const TypeA&) {}
};

int main()
{
    Freelancer freelancer;
    event_engine::app<event_engine::event_list<TypeA>> app{{.publish_port = 0, .subscribe_port = 0}};
    app.register_plugin(freelancer);
    return app.run().stopped ? 1 : 0;
}
