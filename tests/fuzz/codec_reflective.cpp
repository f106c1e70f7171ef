// Fuzz target: reflective_codec (docs/layout.md) decoding arbitrary bytes as nested
// events: Everything (every kind of the layout, vectors of structs, optionals of
// structs, vectors of vectors), Plain (a plain aggregate) and Reading (fixed size, one
// bounds check). Decoding either throws decode_error, naming the event ("Everything.",
// "Everything:"), or succeeds; then encoding the event gives back exactly the input
// (the layout has one encoding per value), after any topic, at any alignment.

#include "fuzz_support.hpp"

#include "../layout/sample_events.hpp"

#include <event_engine/errors.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace {

template <class E>
void check(std::span<const std::byte> payload, std::span<const std::byte> topic)
{
    E event;
    try {
        event = event_engine::codec<E>::decode(payload);
    } catch (const event_engine::decode_error& error) {
        const std::string_view what = error.what();
        FUZZ_CHECK(what.starts_with(E::name));
        FUZZ_CHECK(what.size() > E::name.size() && (what[E::name.size()] == '.' || what[E::name.size()] == ':'));
        return;
    }
    event_engine::byte_buffer frame;
    const auto encoded = fuzz_support::encode_after_topic(event, topic, payload.size(), frame);
    FUZZ_CHECK(fuzz_support::same_bytes(encoded, payload));
}

template <class E>
void check_at_offsets(std::span<const std::byte> input, std::span<const std::byte> topic)
{
    check<E>(input, topic);
    for (const std::size_t offset : {1U, 3U}) {
        const fuzz_support::exact_copy misaligned{input, offset}; // nothing readable after the end
        check<E>(misaligned.bytes(), topic);
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::span<const std::byte> input{reinterpret_cast<const std::byte*>(data), size};
    const std::span<const std::byte> topic = input.first(size % 6);
    check_at_offsets<layout_samples::Everything>(input, topic);
    check_at_offsets<layout_samples::Plain>(input, topic);
    check_at_offsets<layout_samples::Reading>(input, topic);
    return 0;
}
