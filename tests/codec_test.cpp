#include "support.hpp"

#include <catch2/catch.hpp>

#include <event_engine/detail/endpoints/sockets.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

using namespace event_engine;
using namespace test_events;

namespace {

template <class E>
std::vector<std::byte> encode(const E& event)
{
    byte_buffer buffer;
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
    byte_buffer frame;
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
    byte_buffer frame;
    frame.extend(8 * 1024 * 1024);
    const std::byte* storage = frame.data();
    const zmq::message_t message = detail::take_frame(frame);
    CHECK(message.data() == storage);
    CHECK(message.size() == 8 * 1024 * 1024);
    CHECK(frame.size() == 0);

    byte_buffer small;
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

// --- Alignment ------------------------------------------------------------------

namespace {

// Reads its fields where they lie in the payload, as flatbuffers reads a table: a
// std::uint64_t and a double, 16 bytes. Behind a two-byte topic the payload is
// misaligned, and without aligned_payload UBSan reports the loads.
struct in_place_codec {
    template <class E>
    static void encode(const E& event, event_engine::payload_writer& out)
    {
        out.append(std::as_bytes(std::span{&event.count, 1}));
        out.append(std::as_bytes(std::span{&event.mean, 1}));
    }
    template <class E>
    static E decode(std::span<const std::byte> payload)
    {
        if (payload.size() != 16) throw event_engine::decode_error{"a Tally is 16 bytes"};
        const event_engine::aligned_payload<alignof(std::uint64_t)> aligned{payload}; // copies only if misaligned
        const auto* count = reinterpret_cast<const std::uint64_t*>(aligned.data());
        const auto* mean = reinterpret_cast<const double*>(aligned.data() + 8);
        return E{*count, *mean};
    }
};

struct Tally {
    static constexpr std::string_view name = "Tally";
    static constexpr std::string_view topic{"\x02\x00", 2};
    using codec = in_place_codec;
    std::uint64_t count = 0;
    double mean = 0;
};

// Room for a payload of @p size bytes at every offset below 64 from a 64-aligned start.
struct offset_buffer {
    explicit offset_buffer(std::size_t size) : storage(size + 128) {}
    std::span<std::byte> at(std::size_t offset, std::size_t size)
    {
        auto* base =
            reinterpret_cast<std::byte*>((reinterpret_cast<std::uintptr_t>(storage.data()) + 63) & ~std::uintptr_t{63});
        return {base + offset, size};
    }
    std::vector<std::byte> storage;
};

bool aligned_to(const void* address, std::size_t alignment)
{
    return reinterpret_cast<std::uintptr_t>(address) % alignment == 0;
}

template <std::size_t Align, std::size_t InlineBytes = 256>
void check_every_offset(std::size_t size)
{
    offset_buffer buffer{size};
    for (std::size_t offset = 0; offset < Align; ++offset) {
        CAPTURE(Align, InlineBytes, size, offset);
        const auto payload = buffer.at(offset, size);
        for (std::size_t i = 0; i < size; ++i) payload[i] = static_cast<std::byte>((i * 7 + offset) & 0xff);

        const aligned_payload<Align, InlineBytes> aligned{payload};
        CHECK(aligned_to(aligned.data(), Align));
        CHECK(aligned.size() == size);
        CHECK(aligned.bytes().data() == aligned.data());
        CHECK(aligned.bytes().size() == size);
        CHECK(std::equal(payload.begin(), payload.end(), aligned.bytes().begin(), aligned.bytes().end()));
        // Zero-copy when aligned; a copy only of a misaligned, non-empty payload
        // (an empty one becomes an empty view without storage).
        const bool misaligned = offset % Align != 0;
        CHECK(aligned.copied() == (misaligned && size != 0));
        if (!misaligned) CHECK(aligned.data() == payload.data());
        if (misaligned) CHECK(aligned.data() != payload.data());
    }
}

} // namespace

static_assert(!std::is_copy_constructible_v<aligned_payload<8>> && !std::is_move_constructible_v<aligned_payload<8>>,
              "aligned_payload may view its own storage: it must not be copied or moved");
static_assert(is_event_v<Tally> && topic_of<Tally>.size() == 2);

TEST_CASE("aligned_payload is the payload itself when aligned, an aligned copy when not", "[codec][alignment]")
{
    for (const std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{7}, std::size_t{16}, std::size_t{255},
                                   std::size_t{256}, std::size_t{257}, std::size_t{3000}}) {
        check_every_offset<1>(size);
        check_every_offset<2>(size);
        check_every_offset<4>(size);
        check_every_offset<8>(size);
        check_every_offset<16>(size);
        check_every_offset<64>(size);
        check_every_offset<8, 0>(size); // nothing inline: every copy on the heap
    }
    SECTION("large payloads, copied on the heap")
    {
        check_every_offset<8>(std::size_t{4} << 20);
        check_every_offset<32>(std::size_t{1} << 20);
    }
    SECTION("an empty span without storage stays as it is")
    {
        const aligned_payload<8> aligned{std::span<const std::byte>{}};
        CHECK(aligned.data() == nullptr);
        CHECK(aligned.size() == 0);
        CHECK_FALSE(aligned.copied());
    }
}

TEST_CASE("a codec that reads a uint64_t and a double in place decodes at every offset", "[codec][alignment]")
{
    const Tally tally{42, 2.5};
    const auto bytes = encode(tally);
    REQUIRE(bytes.size() == 16);
    offset_buffer buffer{bytes.size()};
    for (std::size_t offset = 0; offset < 16; ++offset) {
        CAPTURE(offset);
        const auto payload = buffer.at(offset, bytes.size());
        std::copy(bytes.begin(), bytes.end(), payload.begin());
        const Tally back = codec<Tally>::decode(payload);
        CHECK(back.count == 42);
        CHECK(back.mean == 2.5);
    }
    CHECK_THROWS_AS(codec<Tally>::decode(std::span{bytes}.first(15)), decode_error);
}

TEST_CASE("frames that come over TCP can start at any address", "[codec][alignment]")
{
    // What docs/events.md says about TCP frames (external plugins, the publish port):
    // ZeroMQ receives a message longer than 33 bytes in place, in its receive buffer,
    // right after the previous message and the frame header. Nothing aligns it.
    zmq::context_t context;
    zmq::socket_t pull{context, zmq::socket_type::pull};
    pull.set(zmq::sockopt::linger, 0);
    pull.bind("tcp://127.0.0.1:*");
    zmq::socket_t push{context, zmq::socket_type::push};
    push.set(zmq::sockopt::linger, 0);
    push.connect(pull.get(zmq::sockopt::last_endpoint));
    const std::string frame(35, 'x');
    bool misaligned = false;
    for (int i = 0; i < 8; ++i) REQUIRE(push.send(zmq::buffer(frame)));
    for (int i = 0; i < 8; ++i) {
        zmq::message_t received;
        REQUIRE(pull.recv(received));
        misaligned = misaligned || !aligned_to(received.data(), 8);
    }
    CHECK(misaligned);
}

namespace {

// Records where each payload starts, modulo 8, to pin what docs/events.md says
// about frames built in the process. A codec that views its frame: since typed delivery,
// the only kind whose events are encoded and decoded between two plugins of the process.
struct alignment_probe_codec {
    static constexpr bool borrows_frame = true;
    static inline std::mutex mutex;
    static inline std::vector<std::uintptr_t> offsets;

    template <class E>
    static void encode(const E& event, event_engine::payload_writer& out)
    {
        std::fill_n(out.extend(event.size).data(), event.size, std::byte{0});
    }
    template <class E>
    static E decode(std::span<const std::byte> payload)
    {
        const std::scoped_lock lock{mutex};
        offsets.push_back(reinterpret_cast<std::uintptr_t>(payload.data()) % 8);
        return E{payload.size()};
    }
};

struct Probe {
    static constexpr std::string_view name = "Probe"; // 5 bytes
    using codec = alignment_probe_codec;
    std::size_t size = 0;
};

class Prober : public plugin<Prober, subscribes<>, publishes<Probe>> {
public:
    void run()
    {
        // ZeroMQ's inline storage, its own allocation, and a buffer handed over (> 4 KiB).
        for (const std::size_t size : {10, 100, 4000, 5000, 100000}) publish(Probe{size});
    }
};

class ProbeReader : public plugin<ProbeReader, subscribes<Probe>, publishes<>> {
public:
    void on(const Probe&)
    {
        if (++seen_ == 5) finish();
    }

private:
    int seen_ = 0;
};

} // namespace

TEST_CASE("frames built in the process start 8-aligned: the payload sits at 8k + the topic's size",
          "[codec][alignment][app]")
{
    alignment_probe_codec::offsets.clear();
    app<event_list<Probe>> application{any_ports()};
    const auto report = application.register_plugin(Prober{}).register_plugin(ProbeReader{}).run();
    REQUIRE(report.find("ProbeReader")->events_received == 5);
    CHECK(alignment_probe_codec::offsets == std::vector<std::uintptr_t>(5, topic_of<Probe>.size() % 8));
}
