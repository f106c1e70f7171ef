// Misuse: reflective_codec on an event whose nested struct, inside a vector, holds a
// std::string_view (it views memory the receiver does not have); the error gives the
// member's path from the event.
#include <event_engine/event_engine.hpp>
#include <event_engine/reflective_codec.hpp>

#include <boost/hana/define_struct.hpp>

#include <string_view>
#include <vector>

// expect: reflective_codec_cannot_encode_member<(struct )?Order, std::(__1::)?(basic_)?string_view
// expect: event_engine::rule::member<'l', 'i', 'n', 'e', 's', '\[', '\]', '\.', 'n', 'a', 'm', 'e'> ?>
// expect-first-error: reflective_codec: the portable layout has no encoding for this member's type

struct Line {
    BOOST_HANA_DEFINE_STRUCT(Line, (std::string_view, name), (int, quantity));
};

struct Order {
    static constexpr std::string_view name = "Order";
    using codec = event_engine::reflective_codec;
    BOOST_HANA_DEFINE_STRUCT(Order, (std::vector<Line>, lines));
};

class Writer : public event_engine::plugin<Writer, event_engine::subscribes<>, event_engine::publishes<Order>> {
public:
    void run() { publish(Order{{Line{"tea", 2}}}); }
};

int main()
{
    Writer writer;
    event_engine::app<event_engine::event_list<Order>> app{{.publish_port = 0, .subscribe_port = 0}};
    app.register_plugin(writer);
    return app.run().stopped ? 1 : 0;
}
