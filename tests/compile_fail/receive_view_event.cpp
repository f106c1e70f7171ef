// Misuse: receive() of an event whose codec views the received frame. The frame
// is gone once receive() returns, so the event would dangle.
#include <event_engine/event_engine.hpp>

#include <string_view>

// expect: receive_cannot_return_events_that_view_their_frame<(struct )?Reader, ?(struct )?Line>
// expect-first-error: this event's codec views the received frame instead of copying it

struct Line {
    static constexpr std::string_view name = "Line";
    using codec = event_engine::text_view_codec;
    std::string_view text;
};

using events = event_engine::event_list<Line>;

class Reader : public event_engine::plugin<Reader, event_engine::subscribes<Line>, event_engine::publishes<>> {
public:
    void run() { (void)receive(); }
};

int main()
{
    Reader reader;
    event_engine::app<events> app{{.publish_port = 0, .subscribe_port = 0}};
    app.register_plugin(reader);
    return app.run().stopped ? 1 : 0;
}
