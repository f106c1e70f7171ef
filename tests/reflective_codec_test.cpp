// reflective_codec and describe_layout (reflective_codec.hpp, layout.hpp, docs/layout.md).
#include "layout/sample_events.hpp"
#include "support.hpp"

#include <catch2/catch.hpp>

#include <event_engine/layout.hpp>
#include <event_engine/reflective_codec.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <string>
#include <vector>

using namespace event_engine;
using namespace layout_samples;

namespace {

using bytes = std::vector<std::byte>;

template <class E>
bytes encode(const E& event)
{
    byte_buffer frame;
    payload_writer writer{frame};
    codec<E>::encode(event, writer);
    return {frame.data(), frame.data() + frame.size()};
}

template <class E>
E decode(const bytes& payload)
{
    return codec<E>::decode(std::span{payload});
}

bytes b(std::initializer_list<unsigned> values)
{
    bytes out;
    for (const unsigned value : values) out.push_back(static_cast<std::byte>(value));
    return out;
}

bytes operator+(bytes left, const bytes& right)
{
    left.insert(left.end(), right.begin(), right.end());
    return left;
}

/// The message decode_error carries for @p payload.
template <class E>
std::string rejection(const bytes& payload)
{
    try {
        static_cast<void>(decode<E>(payload));
    } catch (const decode_error& error) {
        return error.what();
    }
    return "(decoded)";
}

template <class E>
void check_round_trip(const E& event)
{
    const bytes encoded = encode(event);
    // At every alignment: the payload follows a topic of any length.
    for (std::size_t offset = 0; offset != 8; ++offset) {
        bytes shifted(offset);
        shifted.insert(shifted.end(), encoded.begin(), encoded.end());
        const E back = codec<E>::decode(std::span{shifted}.subspan(offset));
        CHECK(encode(back) == encoded);
    }
}

layout_type kind_of(std::string kind, std::vector<layout_type> element = {}, std::string name = "",
                    std::size_t extent = 0)
{
    layout_type type;
    type.kind = std::move(kind);
    type.name = std::move(name);
    type.extent = extent;
    type.element = std::move(element);
    return type;
}

// Every scalar kind, a plain aggregate, for golden bytes.
struct Scalars {
    static constexpr std::string_view name = "Scalars";
    using codec = reflective_codec;
    std::int8_t i8;
    std::int16_t i16;
    std::int32_t i32;
    std::int64_t i64;
    std::uint8_t u8;
    std::uint16_t u16;
    std::uint32_t u32;
    std::uint64_t u64;
    float f32;
    double f64;
    bool flag;
    Level level;
    std::byte octet;
};

} // namespace

static_assert(is_event_v<Everything> && is_event_v<Telemetry> && is_event_v<Person> && is_event_v<Plain>);
static_assert(is_reflective_v<Everything> && is_reflective_v<Plain> && is_reflective_v<Ping>);
static_assert(!is_reflective_v<test_events::Note> && !is_reflective_v<test_events::Count> && !is_reflective_v<int>);

TEST_CASE("reflective_codec writes fixed-width little-endian scalars", "[reflective_codec]")
{
    const Scalars scalars{-2,
                          -3,
                          -4,
                          -5,
                          0xFE,
                          0x1234,
                          0x12345678,
                          0x0102030405060708ULL,
                          1.0F,
                          -2.0,
                          true,
                          Level::warning,
                          std::byte{0xA5}};
    const bytes expected = b({0xFE}) + b({0xFD, 0xFF}) + b({0xFC, 0xFF, 0xFF, 0xFF}) +
                           b({0xFB, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}) + b({0xFE}) + b({0x34, 0x12}) +
                           b({0x78, 0x56, 0x34, 0x12}) + b({0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01}) +
                           b({0x00, 0x00, 0x80, 0x3F}) + b({0, 0, 0, 0, 0, 0, 0x00, 0xC0}) + b({0x01}) +
                           b({0x01, 0x00}) + b({0xA5});
    CHECK(encode(scalars) == expected);
    const Scalars back = decode<Scalars>(expected);
    CHECK(back.i8 == -2);
    CHECK(back.i64 == -5);
    CHECK(back.u64 == 0x0102030405060708ULL);
    CHECK(back.f32 == 1.0F);
    CHECK(back.f64 == -2.0);
    CHECK(back.flag);
    CHECK(back.level == Level::warning);
    CHECK(back.octet == std::byte{0xA5});
}

TEST_CASE("reflective_codec prefixes strings, bytes and vectors with a u32 length", "[reflective_codec]")
{
    SECTION("strings and byte strings")
    {
        CHECK(encode(Person{"Ada", 36}) == b({3, 0, 0, 0, 'A', 'd', 'a', 36}));
        CHECK(encode(Person{"", 0}) == b({0, 0, 0, 0, 0}));
    }
    SECTION("a vector: the count, then each element; an optional: a tag, then the value")
    {
        const Telemetry telemetry{0x01020304, {1.0}, Level::error};
        CHECK(encode(telemetry) ==
              b({4, 3, 2, 1}) + b({1, 0, 0, 0}) + b({0, 0, 0, 0, 0, 0, 0xF0, 0x3F}) + b({1, 2, 0}));
        CHECK(encode(Telemetry{}) == b({0, 0, 0, 0, 0, 0, 0, 0, 0}));
    }
    SECTION("an array: the elements only; a nested struct: its members in place")
    {
        const Plain plain{1, "", {Point{1.0F, 2.0F}}, std::nullopt, {-1, 2}};
        CHECK(encode(plain) == b({1, 0, 0, 0}) + b({0, 0, 0, 0}) + b({1, 0, 0, 0}) + b({0, 0, 0x80, 0x3F}) +
                                   b({0, 0, 0, 0x40}) + b({0}) + b({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}) +
                                   b({2, 0, 0, 0, 0, 0, 0, 0}));
    }
    SECTION("an event without members has an empty payload")
    {
        CHECK(encode(Ping{}).empty());
        CHECK_NOTHROW(decode<Ping>({}));
    }
}

TEST_CASE("reflective_codec round-trips every kind, nested, at any alignment", "[reflective_codec]")
{
    const Everything sample = everything();
    const Everything back = decode<Everything>(encode(sample));
    CHECK(back.i8 == sample.i8);
    CHECK(back.i64 == sample.i64);
    CHECK(back.u64 == sample.u64);
    CHECK(back.f32 == sample.f32);
    CHECK(back.level == Level::debug);
    CHECK(back.flags == urgent);
    CHECK(back.text == sample.text);
    CHECK(back.blob == sample.blob);
    CHECK(back.octets == sample.octets);
    CHECK(back.numbers == sample.numbers);
    CHECK(back.words == sample.words);
    CHECK(back.bits == sample.bits);
    CHECK(back.maybe == 7);
    CHECK_FALSE(back.where.has_value());
    CHECK(back.triple == sample.triple);
    CHECK(back.corners[1].y == 4.0F);
    REQUIRE(back.samples.size() == 2);
    CHECK(back.samples[1].value == -8.0);
    CHECK_FALSE(back.samples[1].valid);
    CHECK(back.origin.x == -1.0F);
    CHECK(back.notes == sample.notes);
    CHECK(back.matrix == sample.matrix);

    check_round_trip(sample);
    check_round_trip(Telemetry{9, {1.0, 2.0, -0.0}, std::nullopt});
    check_round_trip(Person{"Grace Hopper", 85});
    check_round_trip(Plain{-1, "x", {}, Level::info, {}});
    check_round_trip(Reading{1, -273.15, true});

    SECTION("NaN keeps its bits")
    {
        Reading nan{1, std::numeric_limits<double>::quiet_NaN(), false};
        const bytes encoded = encode(nan);
        CHECK(encode(decode<Reading>(encoded)) == encoded);
    }
}

TEST_CASE("reflective_codec rejects malformed payloads, naming the event and the member", "[reflective_codec]")
{
    const bytes reading = encode(Reading{7, 21.5, true});
    REQUIRE(reading.size() == 13);

    SECTION("too short, at the member that does not fit")
    {
        CHECK(rejection<Reading>(bytes(reading.begin(), reading.end() - 1)) ==
              "Reading.valid: needs 1 byte, only 0 bytes left");
        CHECK(rejection<Reading>(b({7, 0})) == "Reading.sensor: needs 4 bytes, only 2 bytes left");
        CHECK(rejection<Person>({}) == "Person.full_name: needs 4 bytes, only 0 bytes left");
    }
    SECTION("trailing bytes")
    {
        CHECK(rejection<Reading>(reading + b({0})) == "Reading: 1 byte left after the last member");
        CHECK(rejection<Ping>(b({1, 2})) == "Ping: 2 bytes left after the last member");
    }
    SECTION("a bool that is not 0 or 1")
    {
        bytes bad = reading;
        bad.back() = std::byte{2};
        CHECK(rejection<Reading>(bad) == "Reading.valid: a bool must be byte 0 or 1, got 2");
    }
    SECTION("an optional's tag that is not 0 or 1")
    {
        CHECK(rejection<Telemetry>(b({0, 0, 0, 0, 0, 0, 0, 0, 7})) ==
              "Telemetry.level: an optional's tag must be byte 0 or 1, got 7");
        CHECK(rejection<Telemetry>(b({0, 0, 0, 0, 0, 0, 0, 0, 1, 0})) ==
              "Telemetry.level: needs 2 bytes, only 1 byte left");
    }
    SECTION("a length beyond the payload")
    {
        CHECK(rejection<Person>(b({4, 0, 0, 0, 'A', 'd', 'a'})) == "Person.full_name: length 4, only 3 bytes left");
        CHECK(rejection<Person>(b({0xFF, 0xFF, 0xFF, 0xFF, 'A'})) ==
              "Person.full_name: length 4294967295, only 1 byte left");
        CHECK(rejection<Telemetry>(b({0, 0, 0, 0, 5, 0, 0, 0}) + bytes(8)) ==
              "Telemetry.values: length 5 needs at least 40 bytes, only 8 bytes left");
    }
    SECTION("deep inside: element indices and member names on the path")
    {
        Everything sample = everything();
        sample.samples[1].valid = true;
        bytes encoded = encode(sample);
        Everything marker = sample;
        marker.samples[1].valid = false;
        const bytes other = encode(marker);
        REQUIRE(other.size() == encoded.size());
        std::size_t at = 0;
        while (encoded[at] == other[at]) ++at; // the one byte that differs
        encoded[at] = std::byte{9};
        CHECK(rejection<Everything>(encoded) == "Everything.samples[1].valid: a bool must be byte 0 or 1, got 9");

        Everything bits = everything();
        const bytes with_true = encode(bits);
        bits.bits[2] = false;
        bytes with_false = encode(bits);
        at = 0;
        while (with_true[at] == with_false[at]) ++at;
        with_false[at] = std::byte{3};
        CHECK(rejection<Everything>(with_false) == "Everything.bits[2]: a bool must be byte 0 or 1, got 3");

        const bytes plain = encode(Plain{1, "", {Point{1, 2}, Point{3, 4}}, std::nullopt, {}});
        // Cut inside path[1].y: the count of path already asks for more than is left.
        CHECK(rejection<Plain>(bytes(plain.begin(), plain.begin() + 26)) ==
              "Plain.2: length 2 needs at least 16 bytes, only 14 bytes left");
        Everything words = everything();
        words.matrix.clear();
        words.notes = {std::string{"abc"}};
        const bytes encoded_words = encode(words);
        // Cut the last string short: notes[0] is the last element before matrix's count.
        CHECK(rejection<Everything>(bytes(encoded_words.begin(), encoded_words.end() - 5)) ==
              "Everything.notes[0]: length 3, only 2 bytes left");
    }
}

TEST_CASE("describe_layout names members for Hana structs and positions for plain aggregates", "[reflective_codec]")
{
    SECTION("BOOST_HANA_DEFINE_STRUCT")
    {
        const layout_type reading = describe_layout<Reading>();
        CHECK(reading.kind == "struct");
        CHECK(reading.name == "Reading");
        REQUIRE(reading.members.size() == 3);
        CHECK(reading.members[0] == layout_member{"sensor", kind_of("u32")});
        CHECK(reading.members[1] == layout_member{"celsius", kind_of("f64")});
        CHECK(reading.members[2] == layout_member{"valid", kind_of("bool")});
    }
    SECTION("BOOST_HANA_ADAPT_STRUCT, with an optional enum")
    {
        const layout_type telemetry = describe_layout<Telemetry>();
        REQUIRE(telemetry.members.size() == 3);
        CHECK(telemetry.members[1].type == kind_of("vector", {kind_of("f64")}));
        const layout_type level = kind_of("enum", {kind_of("i16")}, "Level");
        CHECK(telemetry.members[2] == layout_member{"level", kind_of("optional", {level})});
    }
    SECTION("the type's own hana::accessors_impl")
    {
        const layout_type person = describe_layout<Person>();
        REQUIRE(person.members.size() == 2);
        CHECK(person.members[0].name == "full_name");
        CHECK(person.members[1].name == "age");
    }
    SECTION("a plain aggregate: positions, nested structs keep their names")
    {
        const layout_type plain = describe_layout<Plain>();
        REQUIRE(plain.members.size() == 5);
        CHECK(plain.members[0].name == "0");
        CHECK(plain.members[4] == layout_member{"4", kind_of("array", {kind_of("i64")}, "", 2)});
        const layout_type& point = plain.members[2].type.element.at(0);
        CHECK(point.name == "Point");
        CHECK(point.members.at(1).name == "y");
    }
    SECTION("every kind")
    {
        const layout_type all = describe_layout<Everything>();
        std::vector<std::string> kinds;
        for (const layout_member& member : all.members) kinds.push_back(member.type.kind);
        CHECK(kinds == std::vector<std::string>{"i8",       "i16",   "i32",   "i64",    "u8",     "u16",    "u32",
                                                "u64",      "f32",   "f64",   "bool",   "enum",   "enum",   "u8",
                                                "string",   "bytes", "bytes", "vector", "vector", "vector", "optional",
                                                "optional", "array", "array", "vector", "struct", "vector", "vector"});
        CHECK(all.members[12].type.element.at(0).kind == "u32"); // Flags: unsigned underlying type
    }
    SECTION("as JSON (nlohmann, by ADL) and back")
    {
        const nlohmann::json json = describe_layout<Telemetry>();
        CHECK(json == nlohmann::json::parse(R"({"kind": "struct", "name": "Telemetry", "members": [
            {"name": "id", "type": {"kind": "u32"}},
            {"name": "values", "type": {"kind": "vector", "element": [{"kind": "f64"}]}},
            {"name": "level", "type": {"kind": "optional", "element": [
                {"kind": "enum", "name": "Level", "element": [{"kind": "i16"}]}]}}]})"));
        CHECK(json.get<layout_type>() == describe_layout<Telemetry>());
        const nlohmann::json all = describe_layout<Everything>();
        CHECK(all.get<layout_type>() == describe_layout<Everything>());
    }
}

TEST_CASE("a reflective event travels between plugins", "[reflective_codec][app]")
{
    struct Sender : plugin<Sender, subscribes<>, publishes<Telemetry>> {
        void run() { publish(Telemetry{5, {1.5, 2.5}, Level::warning}); }
    };
    struct Receiver : plugin<Receiver, subscribes<Telemetry>, publishes<>> {
        Telemetry got;
        void on(const Telemetry& telemetry)
        {
            got = telemetry;
            finish();
        }
    };
    Sender sender;
    Receiver receiver;
    app<event_list<Telemetry>> application{test_events::any_ports()};
    application.register_plugin(receiver).register_plugin(sender);
    static_cast<void>(application.run());
    CHECK(receiver.got.id == 5);
    CHECK(receiver.got.values == std::vector<double>{1.5, 2.5});
    CHECK(receiver.got.level == Level::warning);
}
