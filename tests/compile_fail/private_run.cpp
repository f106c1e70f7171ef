// Misuse: a loop-style plugin whose run() is private.
#include <event_engine/event_engine.hpp>

#include <string>
#include <string_view>

// expect: run_must_be_public<(struct |class )?Talker>
// expect-first-error: the plugin declares run\(\), but the engine cannot call it

struct TypeA {
    static constexpr std::string_view name = "TypeA";
    using codec = event_engine::text_codec;
    std::string text;
};

class Talker : public event_engine::plugin<Talker, event_engine::subscribes<TypeA>, event_engine::publishes<TypeA>> {
    void run() // private: a class starts private
    {
        publish(TypeA{"hello"});
        static_cast<void>(receive());
    }
};

int main()
{
    Talker talker;
    event_engine::app<event_engine::event_list<TypeA>> app{{.publish_port = 0, .subscribe_port = 0}};
    app.register_plugin(talker);
    return app.run().stopped ? 1 : 0;
}
