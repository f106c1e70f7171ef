// Misuse: as topic_prefix, with the longer topic listed first; the rule still
// names the shorter topic's event first.
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

using events = event_engine::event_list<ImageScored, Image>;
static_assert(events::valid);

int main() {}
