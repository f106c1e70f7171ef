#pragma once
// Events with the reflective codec, one per way of reflecting a struct, together
// covering every kind of the portable layout (docs/layout.md). Shared by
// reflective_codec_test.cpp, the cross-language samples (layout_samples.cpp, read by
// pyevents/tests/test_layout.py) and the reflective fuzz target.

#include <event_engine/reflective_codec.hpp>

#include <boost/hana/adapt_struct.hpp>
#include <boost/hana/define_struct.hpp>
#include <boost/hana/pair.hpp>
#include <boost/hana/string.hpp>
#include <boost/hana/tuple.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace layout_samples {

enum class Level : std::int16_t { debug = -1, info = 0, warning = 1, error = 2 };
enum Flags : std::uint32_t { none = 0, urgent = 1U << 31 }; // unscoped, unsigned underlying type

// Spelling 1: BOOST_HANA_DEFINE_STRUCT.
struct Point {
    BOOST_HANA_DEFINE_STRUCT(Point, (float, x), (float, y));
};

struct Sample {
    BOOST_HANA_DEFINE_STRUCT(Sample, (std::uint64_t, stamp_ns), (double, value), (bool, valid));
};

/// Every kind of the layout, nested.
struct Everything {
    static constexpr std::string_view name = "Everything";
    using codec = event_engine::reflective_codec;
    BOOST_HANA_DEFINE_STRUCT(Everything, (std::int8_t, i8), (std::int16_t, i16), (std::int32_t, i32),
                             (std::int64_t, i64), (std::uint8_t, u8), (std::uint16_t, u16), (std::uint32_t, u32),
                             (std::uint64_t, u64), (float, f32), (double, f64), (bool, flag), (Level, level),
                             (Flags, flags), (std::byte, octet), (std::string, text), (std::vector<std::byte>, blob),
                             (std::vector<std::uint8_t>, octets), (std::vector<std::int32_t>, numbers),
                             (std::vector<std::string>, words), (std::vector<bool>, bits),
                             (std::optional<std::int32_t>, maybe), (std::optional<Point>, where),
                             (std::array<std::uint16_t, 3>, triple), (std::array<Point, 2>, corners),
                             (std::vector<Sample>, samples), (Point, origin),
                             (std::vector<std::optional<std::string>>, notes),
                             (std::vector<std::vector<double>>, matrix));
};

// Spelling 2: BOOST_HANA_ADAPT_STRUCT, for a type whose header cannot change (below,
// at global scope, as the macro requires).
struct Telemetry {
    static constexpr std::string_view name = "Telemetry";
    using codec = event_engine::reflective_codec;
    std::uint32_t id = 0;
    std::vector<double> values;
    std::optional<Level> level;
};

// Spelling 3: a type modelling Hana's Struct by its own accessors (the specialization
// of boost::hana::accessors_impl below).
struct Person {
    static constexpr std::string_view name = "Person";
    using codec = event_engine::reflective_codec;
    std::string full_name;
    std::uint8_t age = 0;
};

// Spelling 4: a plain aggregate, no macro: members by position ("0", "1", ...).
struct Plain {
    static constexpr std::string_view name = "Plain";
    using codec = event_engine::reflective_codec;
    std::int32_t count = 0;
    std::string label;
    std::vector<Point> path;
    std::optional<Level> level;
    std::array<std::int64_t, 2> span{};
};

/// A fixed-size event (no strings, vectors or optionals): one bounds check decodes it.
struct Reading {
    static constexpr std::string_view name = "Reading";
    using codec = event_engine::reflective_codec;
    BOOST_HANA_DEFINE_STRUCT(Reading, (std::uint32_t, sensor), (double, celsius), (bool, valid));
};

/// No members: an empty payload.
struct Ping {
    static constexpr std::string_view name = "Ping";
    using codec = event_engine::reflective_codec;
};

inline Everything everything()
{
    Everything e;
    e.i8 = -128;
    e.i16 = -2;
    e.i32 = -100000;
    e.i64 = -(std::int64_t{1} << 40);
    e.u8 = 255;
    e.u16 = 0xBEEF;
    e.u32 = 0xDEADBEEF;
    e.u64 = 0x0102030405060708ULL;
    e.f32 = 1.5F;
    e.f64 = -0.25;
    e.flag = true;
    e.level = Level::debug;
    e.flags = urgent;
    e.octet = std::byte{0xA5};
    e.text = "h\xC3\xA9llo"; // "héllo" in UTF-8
    e.blob = {std::byte{0}, std::byte{0xFF}};
    e.octets = {1, 2, 3};
    e.numbers = {1, -1, 2147483647};
    e.words = {"a", "", "bc"};
    e.bits = {true, false, true};
    e.maybe = 7;
    e.where = std::nullopt;
    e.triple = {1, 2, 65535};
    e.corners = {Point{0.5F, -0.5F}, Point{2.0F, 4.0F}};
    e.samples = {Sample{1, 0.125, true}, Sample{2, -8.0, false}};
    e.origin = Point{-1.0F, 1.0F};
    e.notes = {std::nullopt, std::string{"note"}};
    e.matrix = {{1.0, 2.0}, {}, {3.0}};
    return e;
}

} // namespace layout_samples

BOOST_HANA_ADAPT_STRUCT(layout_samples::Telemetry, id, values, level);

template <>
struct boost::hana::accessors_impl<layout_samples::Person> {
    static constexpr auto apply()
    {
        return boost::hana::make_tuple(
            boost::hana::make_pair(BOOST_HANA_STRING("full_name"),
                                   [](auto&& person) -> decltype(auto) { return (person.full_name); }),
            boost::hana::make_pair(BOOST_HANA_STRING("age"),
                                   [](auto&& person) -> decltype(auto) { return (person.age); }));
    }
};
