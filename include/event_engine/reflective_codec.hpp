#pragma once
/// @file
/// A portable codec for struct events, member by member (Boost.Hana reflection):
///
///     struct Reading {
///         static constexpr std::string_view name = "Reading";
///         using codec = event_engine::reflective_codec;
///         BOOST_HANA_DEFINE_STRUCT(Reading,
///             (std::uint32_t, sensor),
///             (double, celsius),
///             (std::vector<float>, samples));
///     };
///
/// The bytes are the same on every platform and from every language: fixed-width
/// little-endian integers and IEEE-754 floats, bool as one byte, enums as their
/// underlying integer, u32-length-prefixed strings, byte strings and vectors, a one-byte
/// tag before an optional's value, arrays without a length, nested structs inline.
/// docs/layout.md specifies it; layout.hpp describes a type's layout for other languages
/// (describe_layout<E>()). Decoding checks every length and tag, rejects trailing bytes
/// and throws decode_error naming the event and the member, e.g.
/// "Reading.samples[3]: needs 4 bytes, only 2 bytes left".
///
/// Structs it reflects: BOOST_HANA_DEFINE_STRUCT, BOOST_HANA_ADAPT_STRUCT (types you
/// cannot edit), a type's own hana::accessors_impl, and plain aggregates with no macro
/// (up to 32 members, no base classes; their members are named by position, "0", "1",
/// ..., in the layout description). A member type the layout cannot encode is a compile
/// error: rule::reflective_codec_cannot_encode_member<Event, MemberType, member<"path">>.
///
///     template <class E> inline constexpr bool is_reflective_v;  // E's codec is reflective_codec

#include "event_engine/codec.hpp"
#include "event_engine/detail/meta/type_name.hpp"
#include "event_engine/detail/reflect/portable_layout.hpp"
#include "event_engine/errors.hpp"
#include "event_engine/layout.hpp"

#include <cstddef>
#include <span>
#include <string>
#include <type_traits>

namespace event_engine {

namespace detail::layout {

[[noreturn, gnu::cold, gnu::noinline]] inline void throw_decode_error(std::string_view event, const layout_fault& fault)
{
    throw decode_error{std::string{event} + fault.path() + ": " + fault.message()};
}

[[noreturn, gnu::cold, gnu::noinline]] inline void fail_trailing(std::size_t left)
{
    throw layout_fault{count_of_bytes(left) + " left after the last member"};
}

} // namespace detail::layout

/// Encodes an event member by member in the portable layout (docs/layout.md).
struct reflective_codec {
    template <class E>
    static void encode(const E& event, payload_writer& out)
    {
        if constexpr (!detail::layout::encodable_v<E>) {
            static_cast<void>(sizeof(detail::layout::unencodable_rule<E>));
        } else {
            const std::size_t size = detail::layout::encoded_size(event);
            detail::layout::write(out.extend(size).data(), event);
        }
    }

    template <class E>
    static E decode(std::span<const std::byte> payload)
    {
        if constexpr (!detail::layout::encodable_v<E>) {
            static_cast<void>(sizeof(detail::layout::unencodable_rule<E>));
            throw decode_error{"not reached: the program does not compile"};
        } else {
            E event{};
            detail::layout::reader in{payload.data(), payload.data() + payload.size()};
            try {
                detail::layout::read<true>(in, event);
                if (in.next != in.end) detail::layout::fail_trailing(in.left());
            } catch (const detail::layout::layout_fault& fault) {
                detail::layout::throw_decode_error(detail::layout::struct_name<E>(), fault);
            }
            return event;
        }
    }
};

/// True when @p E is an event type whose codec is reflective_codec: its payload has
/// the portable layout that describe_layout<E>() describes.
template <class E>
inline constexpr bool is_reflective_v = [] {
    if constexpr (requires { typename E::codec; }) return std::is_same_v<typename E::codec, reflective_codec>;
    else return false;
}();

} // namespace event_engine
