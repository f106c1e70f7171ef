// Misuse: a binary topic with an embedded zero byte, given as a string_view made
// from the literal alone: the string_view stops at the zero byte ("\x01" only).
#include <event_engine/event_engine.hpp>

#include <string_view>

// expect: binary_event_topic_needs_its_length<(struct )?Score>
// expect-first-error: this event's topic holds a zero byte

struct Score {
    static constexpr std::string_view name = "Score";
    static constexpr std::string_view topic = "\x01\x00"; // one byte: should be topic{"\x01\x00", 2}
    using codec = event_engine::trivial_codec;
    double value = 0.0;
};

struct Tally {
    static constexpr std::string_view name = "Tally";
    static constexpr std::string_view topic = "\x01\x01";
    using codec = event_engine::trivial_codec;
    int count = 0;
};

using events = event_engine::event_list<Score, Tally>;
static_assert(events::valid);

int main() {}
