// Misuse: a binary topic with an embedded zero byte, given as a `const char*`: it
// would stop at the zero byte (here: one byte, "\x01", instead of two).
#include <event_engine/event_engine.hpp>

#include <string_view>

// expect: binary_event_topic_needs_its_length<(struct )?Score>
// expect-first-error: this event's topic holds a zero byte
// expect: give its length: .static constexpr std::string_view topic.\\?"\\\\?x01\\\\?x00\\?", 2.

struct Score {
    static constexpr std::string_view name = "Score";
    static constexpr const char* topic = "\x01\x00"; // strlen() sees one byte
    using codec = event_engine::trivial_codec;
    double value = 0.0;
};

class Scorer : public event_engine::plugin<Scorer, event_engine::subscribes<>, event_engine::publishes<Score>> {
public:
    void run() { publish(Score{1.0}); }
};

int main()
{
    Scorer scorer;
    event_engine::app<event_engine::event_list<Score>> app{{.publish_port = 0, .subscribe_port = 0}};
    app.register_plugin(scorer);
    return app.run().stopped ? 1 : 0;
}
