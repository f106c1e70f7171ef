#include "support.hpp"

#include <catch2/catch.hpp>

#include <event_engine/detail/sockets.hpp>

#include <cstring>
#include <string>

using namespace event_engine;
using namespace test_events;

namespace {

template <class E>
std::vector<std::byte> encode(const E& event)
{
    detail::byte_buffer buffer;
    payload_writer writer{buffer};
    codec<E>::encode(event, writer);
    return {buffer.data(), buffer.data() + buffer.size()};
}

template <class E>
E decode(const std::vector<std::byte>& bytes)
{
    return codec<E>::decode(std::span{bytes});
}

// An event type from a "third-party" header that cannot be edited: codec by specialization.
struct Legacy {
    static constexpr std::string_view name = "Legacy";
    int a = 0;
    int b = 0;
};

} // namespace

template <>
struct event_engine::codec<Legacy> {
    static void encode(const Legacy& event, payload_writer& out)
    {
        out.append(std::to_string(event.a) + "," + std::to_string(event.b));
    }
    static Legacy decode(std::span<const std::byte> payload)
    {
        const std::string text{reinterpret_cast<const char*>(payload.data()), payload.size()};
        const auto comma = text.find(',');
        if (comma == std::string::npos) throw decode_error{"Legacy needs 'a,b'"};
        return Legacy{std::stoi(text.substr(0, comma)), std::stoi(text.substr(comma + 1))};
    }
};

static_assert(is_event_v<Note> && is_event_v<Count> && is_event_v<Blob> && is_event_v<Legacy>);
static_assert(!is_event_v<int> && !is_event_v<std::string>);

TEST_CASE("text_codec writes the string's bytes and reads them back", "[codec]")
{
    const auto bytes = encode(Note{"hello"});
    CHECK(bytes.size() == 5);
    CHECK(std::memcmp(bytes.data(), "hello", 5) == 0);
    CHECK(decode<Note>(bytes).text == "hello");
    CHECK(decode<Note>({}).text.empty());
}

TEST_CASE("bytes_codec keeps arbitrary bytes - zeros included", "[codec]")
{
    const Blob blob{{std::byte{0}, std::byte{0xff}, std::byte{0}, std::byte{7}}};
    CHECK(decode<Blob>(encode(blob)).bytes == blob.bytes);
}

TEST_CASE("trivial_codec copies the object and rejects a payload of the wrong size", "[codec]")
{
    const Reading reading{21.5, 7};
    const auto bytes = encode(reading);
    CHECK(bytes.size() == sizeof(Reading));
    const auto back = decode<Reading>(bytes);
    CHECK(back.celsius == 21.5);
    CHECK(back.sensor == 7);

    auto short_bytes = bytes;
    short_bytes.pop_back();
    CHECK_THROWS_MATCHES(decode<Reading>(short_bytes), decode_error,
                         Catch::Matchers::Message("trivial_codec expected " + std::to_string(sizeof(Reading)) +
                                                  " payload bytes, got " + std::to_string(sizeof(Reading) - 1)));
}

TEST_CASE("a codec<E> specialization serves types that cannot be edited", "[codec]")
{
    const auto bytes = encode(Legacy{3, 4});
    const auto back = decode<Legacy>(bytes);
    CHECK(back.a == 3);
    CHECK(back.b == 4);
    CHECK_THROWS_AS(decode<Legacy>(encode(Note{"no comma"})), decode_error);
}

TEST_CASE("payload_writer appends after what is already in the frame", "[codec]")
{
    detail::byte_buffer frame;
    frame.append(std::as_bytes(std::span{"Topic", 5}));
    payload_writer writer{frame};
    writer.append(std::string_view{"abc"});
    auto room = writer.extend(2);
    room[0] = std::byte{'d'};
    room[1] = std::byte{'e'};
    CHECK(writer.size() == 5);
    CHECK(std::string_view{reinterpret_cast<const char*>(frame.data()), frame.size()} == "Topicabcde");
}

TEST_CASE("large frames hand their buffer to ZeroMQ instead of copying it", "[codec]")
{
    detail::byte_buffer frame;
    frame.extend(8 * 1024 * 1024);
    const std::byte* storage = frame.data();
    const zmq::message_t message = detail::take_frame(frame);
    CHECK(message.data() == storage);
    CHECK(message.size() == 8 * 1024 * 1024);
    CHECK(frame.size() == 0);

    detail::byte_buffer small;
    small.append(std::as_bytes(std::span{"tiny", 4}));
    const zmq::message_t copied = detail::take_frame(small);
    CHECK(copied.size() == 4);
    CHECK(copied.data() != static_cast<const void*>(small.data()));
}

namespace {
struct Frame {
    static constexpr std::string_view name = "Frame";
    using codec = event_engine::bytes_view_codec;
    std::span<const std::byte> bytes;
};
struct Line {
    static constexpr std::string_view name = "Line";
    using codec = event_engine::text_view_codec;
    std::string_view text;
};
} // namespace

static_assert(detail::borrows_frame_v<Frame> && detail::borrows_frame_v<Line>);
static_assert(name_of<Frame> == "Frame" && name_of<Line> == "Line");
static_assert(!detail::borrows_frame_v<Note> && !detail::borrows_frame_v<Legacy>);

TEST_CASE("view codecs decode without copying and encode the viewed bytes", "[codec]")
{
    const std::vector<std::byte> payload{std::byte{'a'}, std::byte{0}, std::byte{'c'}};
    const Frame frame = codec<Frame>::decode(std::span{payload});
    CHECK(frame.bytes.data() == payload.data()); // a view of the payload, not a copy
    CHECK(frame.bytes.size() == 3);
    CHECK(encode(frame) == payload);

    const Line line = codec<Line>::decode(std::span{payload});
    CHECK(static_cast<const void*>(line.text.data()) == static_cast<const void*>(payload.data()));
    CHECK(encode(Line{"hi"}).size() == 2);
}
