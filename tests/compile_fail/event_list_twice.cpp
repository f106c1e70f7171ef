// Misuse: an event_list that lists the same event type twice.
#include <event_engine/event_engine.hpp>

#include <string>
#include <string_view>

// expect: event_list_must_list_each_event_once<(struct )?TypeA>
// expect-first-error: this event type is listed twice in the event_list

struct TypeA {
    static constexpr std::string_view name = "TypeA";
    using codec = event_engine::text_codec;
    std::string text;
};

struct TypeB {
    static constexpr std::string_view name = "TypeB";
    using codec = event_engine::text_codec;
    std::string text;
};

using events = event_engine::event_list<TypeA, TypeB, TypeA>;
static_assert(events::valid);

int main() {}
