#pragma once
// The seed example's events: TypeA carries a message, TypeB the character count
// of a TypeA message (as decimal text, as the original engine's TypeB does),
// TypeC a goodbye from the Python plugin.

#include <event_engine/event_engine.hpp>

#include <charconv>
#include <cstddef>
#include <string>
#include <string_view>

namespace seed {

struct TypeA {
    static constexpr std::string_view name = "TypeA";
    using codec = event_engine::text_codec;
    std::string message;
};

// A codec of our own: the count as decimal text, readable from Python as-is.
struct decimal_codec {
    template <class E>
    static void encode(const E& event, event_engine::payload_writer& out)
    {
        char digits[24];
        const auto end = std::to_chars(digits, digits + sizeof digits, event.count).ptr;
        out.append(std::string_view{digits, static_cast<std::size_t>(end - digits)});
    }
    template <class E>
    static E decode(std::span<const std::byte> payload)
    {
        const auto* first = reinterpret_cast<const char*>(payload.data());
        E event{};
        const auto [end, error] = std::from_chars(first, first + payload.size(), event.count);
        if (error != std::errc{} || end != first + payload.size()) {
            throw event_engine::decode_error{"not a decimal count: '" + std::string{first, payload.size()} + "'"};
        }
        return event;
    }
};

struct TypeB {
    static constexpr std::string_view name = "TypeB";
    using codec = decimal_codec;
    std::size_t count = 0;
};

struct TypeC {
    static constexpr std::string_view name = "TypeC";
    using codec = event_engine::text_codec;
    std::string message;
};

using events = event_engine::event_list<TypeA, TypeB, TypeC>;

} // namespace seed
