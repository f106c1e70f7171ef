#include "support.hpp"

#include <catch2/catch.hpp>

using namespace event_engine;
using namespace test_events;

namespace {
struct Image {
    static constexpr std::string_view name = "Image";
    using codec = text_codec;
    std::string path;
};
struct ImageScored {
    static constexpr std::string_view name = "ImageScored";
    using codec = text_codec;
    std::string path;
};
struct ScoredWithTopic {
    static constexpr std::string_view name = "ImageScored";
    static constexpr std::string_view topic{"\x02\x00", 2};
    using codec = text_codec;
    std::string path;
};
} // namespace

// Topics: the name by default, arbitrary bytes when given.
static_assert(topic_of<Note> == "Note");
static_assert(topic_of<Reading> == std::string_view{"\x01\x00", 2});
static_assert(topic_of<Reading>.size() == 2);
static_assert(name_of<Reading> == "Reading");

// The list knows its members.
static_assert(events::size == 4);
static_assert(events::contains<Note> && !events::contains<Image>);
static_assert(events::valid);

TEST_CASE("event list validation finds the first broken rule", "[event_list]")
{
    using detail::find_list_problem;
    using detail::list_problem;

    STATIC_REQUIRE(find_list_problem<Note, Count, Blob, Reading>().problem == list_problem::none);
    STATIC_REQUIRE(find_list_problem<Note, Note>().problem == list_problem::duplicate_name);

    constexpr auto prefix = find_list_problem<ImageScored, Image>();
    STATIC_REQUIRE(prefix.problem == list_problem::topic_prefix);
    // Reported as (shorter, longer) whatever the order in the list.
    STATIC_REQUIRE(prefix.first == 1);
    STATIC_REQUIRE(prefix.second == 0);

    // An explicit topic resolves the prefix clash; names stay unique.
    STATIC_REQUIRE(find_list_problem<Image, ScoredWithTopic>().problem == list_problem::none);
    STATIC_REQUIRE(find_list_problem<ImageScored, ScoredWithTopic>().problem == list_problem::duplicate_name);
}

TEST_CASE("topics may not overlap the engine's control prefix", "[event_list]")
{
    STATIC_REQUIRE(detail::overlaps_control_prefix("\xff"));
    // clang-format off
    STATIC_REQUIRE(detail::overlaps_control_prefix("\xff" "event_engine/x"));
    STATIC_REQUIRE(detail::overlaps_control_prefix("\xff" "Image"));
    // clang-format on
    STATIC_REQUIRE_FALSE(detail::overlaps_control_prefix("\xfe"));
    STATIC_REQUIRE_FALSE(detail::overlaps_control_prefix("event_engine"));
}

TEST_CASE("type names are readable", "[event_list]")
{
    STATIC_REQUIRE(detail::short_type_name<Note>() == "Note");
    CHECK(std::string{detail::type_name<Note>()} == "test_events::Note");
}
