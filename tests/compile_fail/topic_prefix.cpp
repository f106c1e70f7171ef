// Misuse: the topic of one event ("Image") is a prefix of another's ("ImageScored"),
// so ZeroMQ's prefix matching would hand ImageScored to Image's subscribers.
#include <event_engine/event_engine.hpp>

#include <string>
#include <string_view>

// expect: event_topics_must_be_prefix_free<(struct )?Image, ?(struct )?ImageScored>
// expect-first-error: the topic of the first event is a prefix of the topic of the second

struct Image {
    static constexpr std::string_view name = "Image";
    using codec = event_engine::text_codec;
    std::string path;
};

struct ImageScored {
    static constexpr std::string_view name = "ImageScored";
    using codec = event_engine::text_codec;
    std::string path;
};

using events = event_engine::event_list<Image, ImageScored>;

class Viewer
    : public event_engine::plugin<Viewer, event_engine::subscribes<Image, ImageScored>, event_engine::publishes<>> {
public:
    void on(const Image&) {}
    void on(const ImageScored&) { finish(); }
};

int main()
{
    Viewer viewer;
    event_engine::app<events> app{{.publish_port = 0, .subscribe_port = 0}};
    app.register_plugin(viewer);
    return app.run().stopped ? 1 : 0;
}
