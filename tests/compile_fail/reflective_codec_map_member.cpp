// Misuse: reflective_codec on a plain aggregate (no macro: members by position) with a
// std::map member, which the portable layout has no encoding for.
#include <event_engine/event_engine.hpp>
#include <event_engine/reflective_codec.hpp>

#include <map>
#include <string>
#include <string_view>

// expect: reflective_codec_cannot_encode_member<(struct )?Inventory, std::(__1::)?map<
// expect: event_engine::rule::member<'1'> ?>
// expect-first-error: reflective_codec: the portable layout has no encoding for this member's type

struct Inventory {
    static constexpr std::string_view name = "Inventory";
    using codec = event_engine::reflective_codec;
    std::string shop;
    std::map<std::string, int> stock;
};

class Writer : public event_engine::plugin<Writer, event_engine::subscribes<>, event_engine::publishes<Inventory>> {
public:
    void run() { publish(Inventory{"corner", {{"tea", 2}}}); }
};

int main()
{
    Writer writer;
    event_engine::app<event_engine::event_list<Inventory>> app{{.publish_port = 0, .subscribe_port = 0}};
    app.register_plugin(writer);
    return app.run().stopped ? 1 : 0;
}
