// Fuzz target: text_view_codec and bytes_view_codec (docs/events.md). Decoding never
// fails and views the payload where it lies (no copy: same address, same length);
// encoding copies the viewed bytes after the topic; encode -> decode views exactly
// those bytes in the frame. Payloads are fed as libFuzzer hands them, at misaligned
// addresses, and empty (null data, and the end of a frame).

#include "fuzz_support.hpp"

#include <event_engine/codec.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <type_traits>

namespace {

struct TextView {
    using codec = event_engine::text_view_codec;
    std::string_view text;
};
struct BytesView {
    using codec = event_engine::bytes_view_codec;
    std::span<const std::byte> bytes;
};

template <class E>
std::span<const std::byte> viewed(const E& event)
{
    const auto& [view] = event;
    return std::as_bytes(std::span{view.data(), view.size()});
}

template <class E>
E event_of(std::span<const std::byte> bytes)
{
    if constexpr (std::is_same_v<E, TextView>) {
        return E{std::string_view{reinterpret_cast<const char*>(bytes.data()), bytes.size()}};
    } else {
        return E{bytes};
    }
}

template <class E>
void check_codec(std::span<const std::byte> payload, std::span<const std::byte> topic)
{
    using codec = event_engine::codec<E>;
    static_assert(event_engine::has_codec<E>);
    static_assert(codec::borrows_frame);

    const E decoded = codec::decode(payload);
    FUZZ_CHECK(viewed(decoded).data() == payload.data());
    FUZZ_CHECK(viewed(decoded).size() == payload.size());
    FUZZ_CHECK(fuzz_support::same_bytes(viewed(decoded), payload)); // reads every viewed byte

    event_engine::byte_buffer frame;
    const auto encoded = fuzz_support::encode_after_topic(event_of<E>(payload), topic, payload.size(), frame);
    FUZZ_CHECK(fuzz_support::same_bytes(encoded, payload));

    const E round_trip = codec::decode(encoded);
    FUZZ_CHECK(viewed(round_trip).data() == encoded.data());
    FUZZ_CHECK(fuzz_support::same_bytes(viewed(round_trip), payload));
}

void check_all(std::span<const std::byte> payload, std::span<const std::byte> topic)
{
    check_codec<TextView>(payload, topic);
    check_codec<BytesView>(payload, topic);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::span<const std::byte> input{reinterpret_cast<const std::byte*>(data), size};
    const std::span<const std::byte> topic = input.first(size % 6);

    check_all(input, topic);
    for (const std::size_t offset : {1U, 3U, 6U}) {
        const fuzz_support::exact_copy misaligned{input, offset};
        check_all(misaligned.bytes(), topic);
    }
    check_all(std::span<const std::byte>{}, topic);
    check_all(input.subspan(size), topic);
    return 0;
}
