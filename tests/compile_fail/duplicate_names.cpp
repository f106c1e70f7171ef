// Misuse: two event types in one event_list have the same name.
#include <event_engine/event_engine.hpp>

#include <string>
#include <string_view>

// expect: event_names_must_be_unique<(struct )?Image, ?(struct )?Thumbnail>
// expect-first-error: these two event types have the same name

struct Image {
    static constexpr std::string_view name = "Image";
    using codec = event_engine::text_codec;
    std::string path;
};

struct Thumbnail {
    static constexpr std::string_view name = "Image"; // copy-pasted, not renamed
    using codec = event_engine::text_codec;
    std::string path;
};

using events = event_engine::event_list<Image, Thumbnail>;

class Viewer
    : public event_engine::plugin<Viewer, event_engine::subscribes<Image, Thumbnail>, event_engine::publishes<>> {
public:
    void on(const Image&) {}
    void on(const Thumbnail&) { finish(); }
};

int main()
{
    Viewer viewer;
    event_engine::app<events> app{{.publish_port = 0, .subscribe_port = 0}};
    app.register_plugin(viewer);
    return app.run().stopped ? 1 : 0;
}
