// Misuse: reflective_codec on an event it cannot reflect: a class with a constructor
// is not an aggregate, and nothing adapts it to Boost.Hana.
#include <event_engine/event_engine.hpp>
#include <event_engine/reflective_codec.hpp>

#include <string_view>

// expect: reflective_codec_needs_a_reflected_struct<(struct )?Sealed>
// expect-first-error: reflective_codec: the event must be a struct it can reflect

class Sealed {
public:
    static constexpr std::string_view name = "Sealed";
    using codec = event_engine::reflective_codec;
    Sealed() = default;
    explicit Sealed(int value) : value_{value} {}

private:
    int value_ = 0;
};

class Writer : public event_engine::plugin<Writer, event_engine::subscribes<>, event_engine::publishes<Sealed>> {
public:
    void run() { publish(Sealed{1}); }
};

int main()
{
    Writer writer;
    event_engine::app<event_engine::event_list<Sealed>> app{{.publish_port = 0, .subscribe_port = 0}};
    app.register_plugin(writer);
    return app.run().stopped ? 1 : 0;
}
