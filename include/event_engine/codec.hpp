#pragma once
/// @file
/// How an event becomes bytes and back. Every event type names its codec with a
/// member alias (`using codec = event_engine::text_codec;`), the one documented way
/// in; types you cannot edit get a specialization of `event_engine::codec<E>`.
/// See docs/events.md.

#include "event_engine/byte_buffer.hpp"
#include "event_engine/detail/config.hpp"
#include "event_engine/errors.hpp"
#include "event_engine/rules.hpp"

#include <array>
#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>

namespace event_engine {

/// Appends an event's payload to the frame being built, right after its topic,
/// so encoding writes straight into the buffer that ZeroMQ will send.
class payload_writer {
public:
    explicit payload_writer(byte_buffer& frame) noexcept : frame_{&frame}, start_{frame.size()} {}

    void append(std::span<const std::byte> bytes) { frame_->append(bytes); }
    void append(std::string_view text) { frame_->append(std::as_bytes(std::span{text.data(), text.size()})); }
    /// Makes room for @p count more bytes and returns them, uninitialised, for codecs
    /// that write in place (e.g. a flatbuffer copied out of its builder).
    std::span<std::byte> extend(std::size_t count) { return frame_->extend(count); }
    void reserve(std::size_t additional) { frame_->reserve(frame_->size() + additional); }
    /// Payload bytes written so far (the topic is not counted).
    [[nodiscard]] std::size_t size() const noexcept { return frame_->size() - start_; }

private:
    byte_buffer* frame_;
    std::size_t start_;
};

/// The codec of event type @p E. The primary template forwards to `E::codec`;
/// specialize it for an event type you cannot edit. A codec provides
///   static void encode(const E&, payload_writer&);
///   static E decode(std::span<const std::byte> payload);  // throws decode_error
/// and may provide, for a codec whose refusals are cheap to detect (trivial_codec's
/// payload size),
///   static bool try_decode(std::span<const std::byte> payload, std::optional<E>& event) noexcept;
/// which fills @p event or returns false: the dispatch of g++ builds then has no
/// exception handling on its path (less code per handler, faster compiles), and calls
/// decode() only to report why a payload was refused.
///
/// Alignment: the payload handed to decode() starts right after the topic in the
/// received frame, and is guaranteed no alignment at all (alignment 1). Frames
/// built in this process start 8-aligned (libzmq 4.3, 64-bit), so the payload sits
/// at 8k + the topic's size; frames that came over TCP (external plugins, the
/// publish port) and events from the NATS bridge can start at any address. Read
/// wider types with std::memcpy, or take an aligned_payload<Align> first
/// (docs/events.md, "Alignment").
template <class E>
struct codec {};

/// An aligned view of a payload, for codecs that read it in place (flatbuffers,
/// a fixed layout of `std::uint64_t`s and `double`s): `data()` is a multiple of
/// @p Align. When the payload already is, this is the payload itself, no copy;
/// otherwise it is a copy, inside this object for up to @p InlineBytes bytes, on
/// the heap beyond. Either way it is valid while this object and the payload
/// live: make it a local of decode(), never keep a pointer into it.
///
///     const event_engine::aligned_payload<alignof(std::uint64_t)> aligned{payload};
///     const auto* words = reinterpret_cast<const std::uint64_t*>(aligned.data());
template <std::size_t Align, std::size_t InlineBytes = 256>
class aligned_payload {
    static_assert(std::has_single_bit(Align), "event_engine::aligned_payload<Align>: Align must be a power of two");

public:
    explicit aligned_payload(std::span<const std::byte> payload) : bytes_{payload}
    {
        if (reinterpret_cast<std::uintptr_t>(payload.data()) % Align == 0) return;
        if (payload.empty()) {
            bytes_ = {}; // nothing to read: a null view, aligned by definition
            return;
        }
        copied_ = true;
        std::byte* copy = inline_.data();
        if (payload.size() > InlineBytes) {
            heap_.reset(static_cast<std::byte*>(::operator new[](payload.size(), std::align_val_t{Align})));
            copy = heap_.get();
        }
        std::memcpy(copy, payload.data(), payload.size());
        bytes_ = {copy, payload.size()};
    }
    // The view may point into this object: it stays where it was made.
    aligned_payload(const aligned_payload&) = delete;
    aligned_payload& operator=(const aligned_payload&) = delete;
    ~aligned_payload() = default;

    /// The payload's bytes, starting at a multiple of Align.
    [[nodiscard]] std::span<const std::byte> bytes() const noexcept { return bytes_; }
    [[nodiscard]] const std::byte* data() const noexcept { return bytes_.data(); }
    [[nodiscard]] std::size_t size() const noexcept { return bytes_.size(); }
    /// Whether the payload was misaligned and had to be copied.
    [[nodiscard]] bool copied() const noexcept { return copied_; }

private:
    struct aligned_delete {
        void operator()(std::byte* block) const noexcept { ::operator delete[](block, std::align_val_t{Align}); }
    };

    std::span<const std::byte> bytes_;
    bool copied_ = false;
    std::unique_ptr<std::byte[], aligned_delete> heap_;
    alignas(Align) std::array<std::byte, InlineBytes> inline_;
};

namespace detail {

// Out of line and cold: the codec's fast path stays small enough to inline, and
// the message is built once in the program, not once per event type (in the
// compiled mode, in the library; codec.ipp).
[[noreturn, gnu::cold]] void throw_payload_size_mismatch(std::size_t expected, std::size_t got);
// clang-format off
template <class E>
concept has_member_codec = requires { typename E::codec; };
// clang-format on
} // namespace detail

namespace detail {
// clang-format off
template <class C>
concept borrowing_codec = requires {
    { C::borrows_frame } -> std::convertible_to<bool>;
} && C::borrows_frame;
// clang-format on
} // namespace detail

template <detail::has_member_codec E>
struct codec<E> {
    /// True when decoded events point into the received frame (view codecs).
    static constexpr bool borrows_frame = detail::borrowing_codec<typename E::codec>;
    static void encode(const E& event, payload_writer& out) { E::codec::encode(event, out); }
    static E decode(std::span<const std::byte> payload) { return E::codec::template decode<E>(payload); }
    // clang-format off
    static bool try_decode(std::span<const std::byte> payload, std::optional<E>& event) noexcept
        requires requires { E::codec::template try_decode<E>(payload, event); }
    // clang-format on
    {
        return E::codec::template try_decode<E>(payload, event);
    }
};

/// True when `codec<E>` can encode and decode @p E.
// clang-format off
template <class E>
concept has_codec = requires(const E& event, payload_writer& out, std::span<const std::byte> payload) {
    codec<E>::encode(event, out);
    { codec<E>::decode(payload) } -> std::same_as<E>;
};
// clang-format on

namespace detail {

// Converts to anything: counts an aggregate's members by trying to brace-initialise it.
struct any_initializer {
    template <class T>
    operator T() const; // NOLINT(google-explicit-constructor): declared only, never called
};

// clang-format off
template <class E>
concept single_member_aggregate = std::is_aggregate_v<E> && requires { E{any_initializer{}}; } &&
                                  !requires { E{any_initializer{}, any_initializer{}}; };

template <class C>
concept byte_container = requires(C& c, const typename C::value_type* p) {
    { std::data(c) } -> std::convertible_to<const typename C::value_type*>;
    c.assign(p, p);
} && sizeof(typename C::value_type) == 1 && std::is_trivially_copyable_v<typename C::value_type>;
// clang-format on

template <class E>
const auto& only_member(const E& event)
{
    const auto& [only] = event;
    return only;
}

template <class E>
constexpr bool is_single_byte_container_event()
{
    if constexpr (single_member_aggregate<E> && std::is_default_constructible_v<E>) {
        return byte_container<std::remove_cvref_t<decltype(only_member(std::declval<const E&>()))>>;
    } else {
        return false;
    }
}

template <class E>
void encode_single_member(const E& event, payload_writer& out)
{
    const auto& [bytes] = event;
    out.append(std::as_bytes(std::span{std::data(bytes), std::size(bytes)}));
}

template <class E>
E decode_single_member(std::span<const std::byte> payload)
{
    E event{};
    auto& [bytes] = event;
    using value_type = typename std::remove_cvref_t<decltype(bytes)>::value_type;
    const auto* first = reinterpret_cast<const value_type*>(payload.data());
    bytes.assign(first, first + payload.size());
    return event;
}

} // namespace detail

namespace detail {

// Both single-member codecs: the payload is the bytes of the event's one member.
// Rule names the rule a wrong event type breaks (reported, never read: rules.hpp).
template <template <class> class Rule>
struct single_member_codec {
    template <class E>
    static void encode(const E& event, payload_writer& out)
    {
        if constexpr (!is_single_byte_container_event<E>()) static_cast<void>(sizeof(Rule<E>));
        else encode_single_member(event, out);
    }
    template <class E>
    static E decode(std::span<const std::byte> payload)
    {
        if constexpr (!is_single_byte_container_event<E>()) {
            static_cast<void>(sizeof(Rule<E>));
            throw decode_error{"not reached: the program does not compile"};
        } else {
            return decode_single_member<E>(payload);
        }
    }
};

} // namespace detail

/// Payload = the bytes of the event's single member, a `std::string` (or any
/// contiguous container of chars with `assign`). Decoding never fails.
struct text_codec : detail::single_member_codec<rule::text_codec_needs_one_string_member> {};

/// Payload = the bytes of the event's single member, a `std::vector<std::byte>`,
/// `std::vector<std::uint8_t>` or `std::string`. Decoding never fails.
struct bytes_codec : detail::single_member_codec<rule::bytes_codec_needs_one_byte_container_member> {};

namespace detail {

template <class E, class View>
constexpr bool is_single_view_event()
{
    if constexpr (single_member_aggregate<E>) {
        return std::is_same_v<std::remove_cvref_t<decltype(only_member(std::declval<const E&>()))>, View>;
    } else {
        return false;
    }
}

// Both view codecs: the event's one member views the payload where it lies, in
// the received frame, so decoding copies nothing. The event is valid only while
// the frame lives: during the on() call that receives it.
template <class View>
struct single_view_codec {
    static constexpr bool borrows_frame = true;

    template <class E>
    static void encode(const E& event, payload_writer& out)
    {
        if constexpr (!is_single_view_event<E, View>()) {
            static_cast<void>(sizeof(rule::view_codec_needs_one_view_member<E>));
        } else {
            const auto& [view] = event;
            out.append(std::as_bytes(std::span{view.data(), view.size()}));
        }
    }
    template <class E>
    static E decode(std::span<const std::byte> payload)
    {
        if constexpr (!is_single_view_event<E, View>()) {
            static_cast<void>(sizeof(rule::view_codec_needs_one_view_member<E>));
            throw decode_error{"not reached: the program does not compile"};
        } else {
            using element = typename View::value_type;
            return E{View{reinterpret_cast<const element*>(payload.data()), payload.size()}};
        }
    }
};

} // namespace detail

/// Zero-copy text: the event's single member is a `std::string_view` of the
/// received frame, valid during the handler call only (handler-style plugins;
/// `receive()` refuses such events at compile time). Publishing copies the text
/// once, into the frame. For large payloads where a copy on receipt matters.
struct text_view_codec : detail::single_view_codec<std::string_view> {};

/// Zero-copy bytes: as text_view_codec, with a `std::span<const std::byte>` member.
struct bytes_view_codec : detail::single_view_codec<std::span<const std::byte>> {};

/// Payload = the object representation of a trivially copyable event (memcpy).
/// Both ends must agree on layout, padding and byte order: use it between
/// processes built for the same ABI, not as a portable format (docs/events.md).
struct trivial_codec {
    template <class E>
    static void encode(const E& event, payload_writer& out)
    {
        if constexpr (!std::is_trivially_copyable_v<E>) {
            static_cast<void>(sizeof(rule::trivial_codec_needs_a_trivially_copyable_event<E>));
        } else {
            out.append(std::as_bytes(std::span{&event, 1}));
        }
    }
    template <class E>
    static E decode(std::span<const std::byte> payload)
    {
        if constexpr (!std::is_trivially_copyable_v<E>) {
            static_cast<void>(sizeof(rule::trivial_codec_needs_a_trivially_copyable_event<E>));
            throw decode_error{"trivial_codec needs a trivially copyable event type"}; // not reached: no build
        } else {
            if (payload.size() != sizeof(E)) detail::throw_payload_size_mismatch(sizeof(E), payload.size());
            return from_bytes<E>(payload);
        }
    }
    // clang-format off
    template <class E>
        requires std::is_trivially_copyable_v<E>
    static bool try_decode(std::span<const std::byte> payload, std::optional<E>& event) noexcept
    // clang-format on
    {
        if (payload.size() != sizeof(E)) return false;
        event.emplace(from_bytes<E>(payload));
        return true;
    }

private:
    template <class E>
    static E from_bytes(std::span<const std::byte> payload) noexcept
    {
        std::array<std::byte, sizeof(E)> raw;
        std::memcpy(raw.data(), payload.data(), sizeof(E));
        return std::bit_cast<E>(raw);
    }
};

} // namespace event_engine

#ifndef EVENT_ENGINE_SEPARATE_COMPILATION
#include "event_engine/codec.ipp"
#endif
