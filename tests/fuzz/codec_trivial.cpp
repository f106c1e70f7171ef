// Fuzz target: trivial_codec (docs/events.md) on a few struct shapes: one byte,
// tail padding, interior padding with an array member, over-alignment, no members.
// Decoding succeeds exactly when the payload has sizeof(E) bytes, and then every
// member holds the payload's bytes at its offset, whatever the payload's alignment;
// any other size throws decode_error naming both sizes. Encoding writes sizeof(E)
// bytes after the topic with every member's bytes at its offset, and decoding them
// gives the members back (padding bytes are not compared: they carry no value).
// Only types every byte pattern is a valid value of: a bool or enum member would
// make arbitrary payloads undefined behaviour (see docs/testing.md).

#include "fuzz_support.hpp"

#include <event_engine/codec.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

namespace {

struct field {
    std::size_t offset;
    std::size_t size;
};

struct OneByte {
    using codec = event_engine::trivial_codec;
    std::uint8_t value;
    static constexpr std::array<field, 1> fields() { return {{{offsetof(OneByte, value), sizeof(value)}}}; }
};

struct TailPadded { // like a sensor reading: 12 bytes of members, 16 with padding
    using codec = event_engine::trivial_codec;
    double celsius;
    std::uint32_t sensor;
    static constexpr std::array<field, 2> fields()
    {
        return {{{offsetof(TailPadded, celsius), sizeof(celsius)}, {offsetof(TailPadded, sensor), sizeof(sensor)}}};
    }
};

struct InteriorPadded {
    using codec = event_engine::trivial_codec;
    std::uint16_t id;
    std::int64_t stamp;
    char tag[5];
    float ratio;
    static constexpr std::array<field, 4> fields()
    {
        return {{{offsetof(InteriorPadded, id), sizeof(id)},
                 {offsetof(InteriorPadded, stamp), sizeof(stamp)},
                 {offsetof(InteriorPadded, tag), sizeof(tag)},
                 {offsetof(InteriorPadded, ratio), sizeof(ratio)}}};
    }
};

struct alignas(32) OverAligned {
    using codec = event_engine::trivial_codec;
    std::uint64_t words[3];
    static constexpr std::array<field, 1> fields() { return {{{offsetof(OverAligned, words), sizeof(words)}}}; }
};

struct NoMembers {
    using codec = event_engine::trivial_codec;
    static constexpr std::array<field, 0> fields() { return {}; }
};

static_assert(sizeof(OneByte) == 1 && sizeof(TailPadded) == 16 && sizeof(InteriorPadded) == 32 &&
              sizeof(OverAligned) == 32 && sizeof(NoMembers) == 1);

template <class E>
std::span<const std::byte> object_bytes(const E& event)
{
    return std::as_bytes(std::span{&event, 1});
}

// Every member of @p event holds the bytes of @p expected at the member's offset.
template <class E>
bool members_match(const E& event, std::span<const std::byte> expected)
{
    if (expected.size() != sizeof(E)) return false;
    const std::span<const std::byte> actual = object_bytes(event);
    for (const field f : E::fields()) {
        if (std::memcmp(actual.data() + f.offset, expected.data() + f.offset, f.size) != 0) return false;
    }
    return true;
}

template <class E>
void check_round_trip(const E& event, std::span<const std::byte> topic)
{
    event_engine::byte_buffer frame;
    const auto encoded = fuzz_support::encode_after_topic(event, topic, sizeof(E), frame); // at any alignment
    FUZZ_CHECK(members_match(event, encoded));
    const E back = event_engine::codec<E>::decode(encoded);
    FUZZ_CHECK(members_match(back, object_bytes(event)));
}

template <class E>
void check_decode(std::span<const std::byte> payload, std::span<const std::byte> topic)
{
    using codec = event_engine::codec<E>;
    static_assert(event_engine::has_codec<E>);
    static_assert(!codec::borrows_frame);

    if (payload.size() == sizeof(E)) {
        const E decoded = codec::decode(payload); // must not throw
        FUZZ_CHECK(members_match(decoded, payload));
        check_round_trip(decoded, topic);
        return;
    }
    bool refused = false;
    try {
        static_cast<void>(codec::decode(payload));
    } catch (const event_engine::decode_error& error) {
        refused = true;
        const std::string_view what = error.what();
        FUZZ_CHECK(what.find(" " + std::to_string(sizeof(E)) + " ") != std::string_view::npos);
        FUZZ_CHECK(what.ends_with(" " + std::to_string(payload.size())));
    }
    FUZZ_CHECK(refused);
}

// An event as an application builds it (value-initialised, members assigned), its
// member bytes taken from the input in turn.
template <class E>
E event_from(std::span<const std::byte> input)
{
    E event{};
    if (input.empty()) return event;
    auto* raw = reinterpret_cast<std::byte*>(&event);
    std::size_t next = 0;
    for (const field f : E::fields()) {
        for (std::size_t i = 0; i < f.size; ++i) raw[f.offset + i] = input[next++ % input.size()];
    }
    return event;
}

template <class E>
void check_shape(std::span<const std::byte> input, std::span<const std::byte> topic)
{
    check_decode<E>(input, topic);                        // the whole input, libFuzzer's exact buffer
    check_decode<E>(std::span<const std::byte>{}, topic); // empty, null data
    check_decode<E>(input.subspan(input.size()), topic);  // empty, at the end of a frame
    if (input.size() >= sizeof(E)) {
        const std::span<const std::byte> exact = input.last(sizeof(E));
        for (const std::size_t offset : {0U, 1U, 3U, 7U, 13U}) {
            const fuzz_support::exact_copy misaligned{exact, offset};
            check_decode<E>(misaligned.bytes(), topic);
        }
        if (input.size() > sizeof(E)) check_decode<E>(input.first(sizeof(E) + 1), topic); // one too many
        check_decode<E>(input.first(sizeof(E) - 1), topic);                               // one too few
    }
    check_round_trip(event_from<E>(input), topic);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::span<const std::byte> input{reinterpret_cast<const std::byte*>(data), size};
    const std::span<const std::byte> topic = input.first(size % 6);
    check_shape<OneByte>(input, topic);
    check_shape<TailPadded>(input, topic);
    check_shape<InteriorPadded>(input, topic);
    check_shape<OverAligned>(input, topic);
    check_shape<NoMembers>(input, topic);
    return 0;
}
