// Fuzz target: text_codec and bytes_codec (docs/events.md), on every member type they
// document. Decoding never fails and copies the payload exactly into the event's own
// storage; encoding writes the member's bytes after the topic; encode -> decode and
// decode -> encode give back what went in. Payloads are fed as libFuzzer hands them,
// at misaligned addresses, and empty (null data, and the end of a frame).

#include "fuzz_support.hpp"

#include <event_engine/codec.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace {

struct TextString {
    using codec = event_engine::text_codec;
    std::string text;
};
struct TextChars { // "or another contiguous container of chars with assign"
    using codec = event_engine::text_codec;
    std::vector<char> text;
};
struct BytesVector {
    using codec = event_engine::bytes_codec;
    std::vector<std::byte> bytes;
};
struct BytesUint8 {
    using codec = event_engine::bytes_codec;
    std::vector<std::uint8_t> bytes;
};
struct BytesString {
    using codec = event_engine::bytes_codec;
    std::string bytes;
};

template <class E>
const auto& member_of(const E& event)
{
    const auto& [member] = event;
    return member;
}

template <class E>
std::span<const std::byte> member_bytes(const E& event)
{
    const auto& member = member_of(event);
    return std::as_bytes(std::span{std::data(member), std::size(member)});
}

// The event an application would publish with these bytes, built without the codec.
template <class E>
E event_of(std::span<const std::byte> bytes)
{
    using member = std::remove_cvref_t<decltype(member_of(std::declval<const E&>()))>;
    using value_type = typename member::value_type;
    const auto* first = reinterpret_cast<const value_type*>(bytes.data());
    return E{member(first, first + bytes.size())};
}

template <class E>
void check_codec(std::span<const std::byte> payload, std::span<const std::byte> topic)
{
    using codec = event_engine::codec<E>;
    static_assert(event_engine::has_codec<E>);
    static_assert(!codec::borrows_frame);

    // Decode never fails (an exception would end the run as a crash) and copies.
    const E decoded = codec::decode(payload);
    FUZZ_CHECK(fuzz_support::same_bytes(member_bytes(decoded), payload));
    if (!payload.empty()) FUZZ_CHECK(member_bytes(decoded).data() != payload.data());

    // Encode into a frame after its topic, as publishing does.
    const E original = event_of<E>(payload);
    event_engine::byte_buffer frame;
    const auto encoded = fuzz_support::encode_after_topic(original, topic, payload.size(), frame);
    FUZZ_CHECK(fuzz_support::same_bytes(encoded, payload));

    // ... and back, from inside the frame (the payload starts wherever the topic ends).
    const E round_trip = codec::decode(encoded);
    FUZZ_CHECK(fuzz_support::same_bytes(member_bytes(round_trip), member_bytes(original)));
}

void check_all(std::span<const std::byte> payload, std::span<const std::byte> topic)
{
    check_codec<TextString>(payload, topic);
    check_codec<TextChars>(payload, topic);
    check_codec<BytesVector>(payload, topic);
    check_codec<BytesUint8>(payload, topic);
    check_codec<BytesString>(payload, topic);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::span<const std::byte> input{reinterpret_cast<const std::byte*>(data), size};
    const std::span<const std::byte> topic = input.first(size % 6); // any length, binary too

    check_all(input, topic); // libFuzzer's buffer: exactly the input, ASan after its end
    for (const std::size_t offset : {1U, 3U, 6U}) {
        const fuzz_support::exact_copy misaligned{input, offset};
        check_all(misaligned.bytes(), topic);
    }
    check_all(std::span<const std::byte>{}, topic); // empty, null data
    check_all(input.subspan(size), topic);          // empty, at the end of a frame
    return 0;
}
