// Misuse: reflective_codec on an event with a raw pointer member (what it points to
// cannot travel to another process).
#include <event_engine/event_engine.hpp>
#include <event_engine/reflective_codec.hpp>

#include <boost/hana/define_struct.hpp>

#include <cstdint>
#include <string_view>

// expect: reflective_codec_cannot_encode_member<(struct )?Reading, const char ?\*, event_engine::rule::member<'l', 'a', 'b', 'e', 'l'> ?>
// expect-first-error: reflective_codec: the portable layout has no encoding for this member's type

struct Reading {
    static constexpr std::string_view name = "Reading";
    using codec = event_engine::reflective_codec;
    BOOST_HANA_DEFINE_STRUCT(Reading, (std::uint32_t, sensor), (const char*, label));
};

class Writer : public event_engine::plugin<Writer, event_engine::subscribes<>, event_engine::publishes<Reading>> {
public:
    void run() { publish(Reading{1, "kitchen"}); }
};

int main()
{
    Writer writer;
    event_engine::app<event_engine::event_list<Reading>> app{{.publish_port = 0, .subscribe_port = 0}};
    app.register_plugin(writer);
    return app.run().stopped ? 1 : 0;
}
