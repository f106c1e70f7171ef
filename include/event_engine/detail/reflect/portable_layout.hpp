#pragma once
// The portable layout of reflective_codec (docs/layout.md), type by type:
//   * layout_kind_of<T>: which kind of the layout a C++ type is (or unsupported);
//   * first_unencodable<T, Path>: the first member, depth first, the layout cannot
//     encode, for the compile-time rule;
//   * encoded_size / write: exact size first, then one pass of stores into the frame;
//   * read: bounds-checked, validating loads that throw layout_fault, whose path the
//     enclosing structs and containers complete on the way out.

#include "event_engine/detail/meta/fixed_string.hpp"
#include "event_engine/detail/reflect/reflect.hpp"

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace event_engine::detail::layout {

enum class kind {
    unsupported,
    boolean,
    integer,
    floating,
    enumeration,
    byte,
    string,
    bytes,
    vector,
    optional,
    array,
    structure
};

template <class T>
struct vector_of : std::false_type {};
template <class T>
struct vector_of<std::vector<T>> : std::true_type {
    using element = T;
};
template <class T>
struct optional_of : std::false_type {};
template <class T>
struct optional_of<std::optional<T>> : std::true_type {
    using element = T;
};
template <class T>
struct array_of : std::false_type {};
template <class T, std::size_t N>
struct array_of<std::array<T, N>> : std::true_type {
    using element = T;
    static constexpr std::size_t extent = N;
};

// clang-format off
template <class T>
concept character = std::is_same_v<T, char> || std::is_same_v<T, wchar_t> || std::is_same_v<T, char8_t> ||
                    std::is_same_v<T, char16_t> || std::is_same_v<T, char32_t>;
// clang-format on

/// Fixed-width integers of 1, 2, 4 or 8 bytes (not bool, not the character types).
// clang-format off
template <class T>
concept fixed_integer = std::is_integral_v<T> && !std::is_same_v<T, bool> && !character<T> &&
                        (sizeof(T) == 1 || sizeof(T) == 2 || sizeof(T) == 4 || sizeof(T) == 8);

template <class T>
concept ieee_float = (std::is_same_v<T, float> || std::is_same_v<T, double>) && std::numeric_limits<T>::is_iec559;
// clang-format on

template <class T>
consteval kind kind_of()
{
    if constexpr (std::is_same_v<T, bool>) return kind::boolean;
    else if constexpr (fixed_integer<T>) return kind::integer;
    else if constexpr (ieee_float<T>) return kind::floating;
    else if constexpr (std::is_enum_v<T> && !std::is_same_v<T, std::byte>) {
        return fixed_integer<std::underlying_type_t<T>> ? kind::enumeration : kind::unsupported;
    } else if constexpr (std::is_same_v<T, std::byte>) return kind::byte;
    else if constexpr (std::is_same_v<T, std::string>) return kind::string;
    else if constexpr (std::is_same_v<T, std::vector<std::byte>> || std::is_same_v<T, std::vector<std::uint8_t>>) {
        return kind::bytes;
    } else if constexpr (vector_of<T>::value) return kind::vector;
    else if constexpr (optional_of<T>::value) return kind::optional;
    else if constexpr (array_of<T>::value) return kind::array;
    else if constexpr (reflected_struct<T>) return kind::structure;
    else return kind::unsupported;
}

template <class T>
inline constexpr kind kind_v = kind_of<std::remove_cv_t<T>>();

/// Types whose layout is the little-endian bytes of the value itself.
// clang-format off
template <class T>
concept scalar = kind_v<T> == kind::integer || kind_v<T> == kind::floating || kind_v<T> == kind::enumeration ||
                 kind_v<T> == kind::byte;
// clang-format on

// ---------------------------------------------------------------- compile-time check

struct all_encodable {};
template <class T, fixed_string Path>
struct unencodable {
    using type = T;
    static constexpr auto path = Path;
};

template <class T>
consteval std::size_t min_size();

template <class T, fixed_string Path>
consteval auto first_unencodable();

template <class T, fixed_string Path, std::size_t I>
consteval auto first_unencodable_member()
{
    if constexpr (I == member_count_v<T>) {
        return all_encodable{};
    } else {
        constexpr auto name = member_name_v<T, I>;
        constexpr auto path = [&] {
            if constexpr (Path.view().empty()) return name;
            else return Path + fixed_string{"."} + name;
        }();
        using found = decltype(first_unencodable<member_t<T, I>, path>());
        if constexpr (!std::is_same_v<found, all_encodable>) return found{};
        else return first_unencodable_member<T, Path, I + 1>();
    }
}

/// all_encodable, or unencodable<MemberType, "path.to[].member"> for the first member
/// (depth first) the layout has no encoding for.
template <class T, fixed_string Path>
consteval auto first_unencodable()
{
    constexpr kind k = kind_v<T>;
    if constexpr (k == kind::vector) {
        using element = typename vector_of<T>::element;
        using found = decltype(first_unencodable<element, Path + fixed_string{"[]"}>());
        // Every element must take at least one byte, or a short count could claim
        // billions of elements in an empty payload.
        if constexpr (std::is_same_v<found, all_encodable> && min_size<element>() == 0) return unencodable<T, Path>{};
        else return found{};
    } else if constexpr (k == kind::optional) {
        return first_unencodable<typename optional_of<T>::element, Path>();
    } else if constexpr (k == kind::array) {
        return first_unencodable<typename array_of<T>::element, Path + fixed_string{"[]"}>();
    } else if constexpr (k == kind::structure) {
        return first_unencodable_member<T, Path, 0>();
    } else if constexpr (k == kind::unsupported) {
        return unencodable<T, Path>{};
    } else {
        return all_encodable{};
    }
}

template <class T>
inline constexpr bool encodable_v = std::is_same_v<decltype(first_unencodable<T, fixed_string{""}>()), all_encodable>;

// ---------------------------------------------------------------- sizes

/// Length prefix of strings, byte strings and vectors: a u32.
using length_prefix = std::uint32_t;

template <class T>
consteval std::size_t min_size()
{
    constexpr kind k = kind_v<T>;
    if constexpr (k == kind::boolean) return 1;
    else if constexpr (scalar<T>) return sizeof(T);
    else if constexpr (k == kind::string || k == kind::bytes || k == kind::vector) return sizeof(length_prefix);
    else if constexpr (k == kind::optional) return 1;
    else if constexpr (k == kind::array) return array_of<T>::extent * min_size<typename array_of<T>::element>();
    else if constexpr (k == kind::structure) {
        // clang-format off
        return []<std::size_t... I>(std::index_sequence<I...>) {
            return (std::size_t{0} + ... + min_size<member_t<T, I>>());
        }(std::make_index_sequence<member_count_v<T>>{});
        // clang-format on
    } else return 0;
}

/// Whether every value of T encodes to exactly min_size<T>() bytes.
template <class T>
consteval bool fixed_size()
{
    constexpr kind k = kind_v<T>;
    if constexpr (k == kind::boolean || scalar<T>) return true;
    else if constexpr (k == kind::array) return fixed_size<typename array_of<T>::element>();
    else if constexpr (k == kind::structure) {
        // clang-format off
        return []<std::size_t... I>(std::index_sequence<I...>) {
            return (true && ... && fixed_size<member_t<T, I>>());
        }(std::make_index_sequence<member_count_v<T>>{});
        // clang-format on
    } else return false;
}

template <class T>
constexpr std::size_t encoded_size(const T& value) noexcept
{
    constexpr kind k = kind_v<T>;
    if constexpr (fixed_size<T>()) {
        return min_size<T>();
    } else if constexpr (k == kind::string || k == kind::bytes) {
        return sizeof(length_prefix) + value.size();
    } else if constexpr (k == kind::vector) {
        using element = typename vector_of<T>::element;
        if constexpr (fixed_size<element>()) return sizeof(length_prefix) + value.size() * min_size<element>();
        else {
            std::size_t size = sizeof(length_prefix);
            for (const auto& item : value) size += encoded_size(item);
            return size;
        }
    } else if constexpr (k == kind::optional) {
        return 1 + (value ? encoded_size(*value) : 0);
    } else if constexpr (k == kind::array) {
        std::size_t size = 0;
        for (const auto& item : value) size += encoded_size(item);
        return size;
    } else {
        static_assert(k == kind::structure);
        std::size_t size = 0;
        for_each_member(value, [&](auto, const auto& member) { size += encoded_size(member); });
        return size;
    }
}

// ---------------------------------------------------------------- encoding

template <class T>
using unsigned_of =
    std::conditional_t<sizeof(T) == 1, std::uint8_t,
                       std::conditional_t<sizeof(T) == 2, std::uint16_t,
                                          std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>>>;

template <class U>
constexpr U reverse_bytes(U value) noexcept
{
    U reversed = 0;
    for (std::size_t i = 0; i != sizeof(U); ++i) {
        reversed = static_cast<U>((reversed << 8) | (value & 0xFFU));
        value = static_cast<U>(value >> 8);
    }
    return reversed;
}

/// Stores a scalar's little-endian bytes at @p out (no alignment needed).
template <class T>
inline std::byte* store(std::byte* out, T value) noexcept
{
    if constexpr (std::endian::native == std::endian::little || sizeof(T) == 1) {
        std::memcpy(out, &value, sizeof(T));
    } else {
        const auto swapped = reverse_bytes(std::bit_cast<unsigned_of<T>>(value));
        std::memcpy(out, &swapped, sizeof(T));
    }
    return out + sizeof(T);
}

template <class T>
inline T load(const std::byte* in) noexcept
{
    T value;
    std::memcpy(&value, in, sizeof(T));
    if constexpr (std::endian::native != std::endian::little && sizeof(T) > 1) {
        value = std::bit_cast<T>(reverse_bytes(std::bit_cast<unsigned_of<T>>(value)));
    }
    return value;
}

[[noreturn, gnu::cold, gnu::noinline]] inline void throw_too_long(std::size_t size)
{
    throw std::length_error{"reflective_codec: " + std::to_string(size) +
                            " elements do not fit the layout's u32 length prefix"};
}

inline std::byte* store_length(std::byte* out, std::size_t size)
{
    if (size > std::numeric_limits<length_prefix>::max()) [[unlikely]]
        throw_too_long(size);
    return store(out, static_cast<length_prefix>(size));
}

// Elements stored as they are in memory: bulk copies on a little-endian machine.
// clang-format off
template <class T>
inline constexpr bool memory_is_layout = std::endian::native == std::endian::little && scalar<T>;
// clang-format on

/// Writes @p value at @p out, which has room for encoded_size(value) bytes; returns the end.
template <class T>
std::byte* write(std::byte* out, const T& value)
{
    constexpr kind k = kind_v<T>;
    if constexpr (k == kind::boolean) {
        *out = std::byte{value ? std::uint8_t{1} : std::uint8_t{0}};
        return out + 1;
    } else if constexpr (k == kind::enumeration) {
        return store(out, static_cast<std::underlying_type_t<T>>(value));
    } else if constexpr (scalar<T>) {
        return store(out, value);
    } else if constexpr (k == kind::string || k == kind::bytes) {
        out = store_length(out, value.size());
        if (!value.empty()) std::memcpy(out, value.data(), value.size());
        return out + value.size();
    } else if constexpr (k == kind::vector) {
        using element = typename vector_of<T>::element;
        out = store_length(out, value.size());
        if constexpr (memory_is_layout<element>) {
            if (!value.empty()) std::memcpy(out, value.data(), value.size() * sizeof(element));
            return out + value.size() * sizeof(element);
        } else {
            for (const auto& item : value) out = write(out, static_cast<const element&>(item));
            return out;
        }
    } else if constexpr (k == kind::optional) {
        *out = std::byte{value ? std::uint8_t{1} : std::uint8_t{0}};
        return value ? write(out + 1, *value) : out + 1;
    } else if constexpr (k == kind::array) {
        using element = typename array_of<T>::element;
        if constexpr (memory_is_layout<element>) {
            std::memcpy(out, value.data(), sizeof(T));
            return out + sizeof(T);
        } else {
            for (const auto& item : value) out = write(out, item);
            return out;
        }
    } else {
        static_assert(k == kind::structure);
        for_each_member(value, [&](auto, const auto& member) { out = write(out, member); });
        return out;
    }
}

// ---------------------------------------------------------------- decoding

/// A decoding failure on its way out: the innermost reader throws it with a message,
/// each enclosing member and element puts its name or index in front of the path.
class layout_fault {
public:
    explicit layout_fault(std::string message) : message_{std::move(message)} {}
    void enter(std::string_view member) { path_.insert(0, std::string{"."}.append(member)); }
    void enter_element(std::size_t index)
    {
        std::string element{"["}; // appended, not "[" + ...: g++ 12 -O2 warns -Wrestrict wrongly (GCC bug 105329)
        element.append(std::to_string(index)).append("]");
        path_.insert(0, element);
    }
    [[nodiscard]] const std::string& path() const noexcept { return path_; }
    [[nodiscard]] const std::string& message() const noexcept { return message_; }

private:
    std::string message_;
    std::string path_;
};

inline std::string count_of_bytes(std::size_t count)
{
    return std::to_string(count) + (count == 1 ? " byte" : " bytes");
}

[[noreturn, gnu::cold, gnu::noinline]] inline void fail_short(std::size_t needed, std::size_t left)
{
    throw layout_fault{"needs " + count_of_bytes(needed) + ", only " + count_of_bytes(left) + " left"};
}
[[noreturn, gnu::cold, gnu::noinline]] inline void fail_tag(const char* what, std::byte tag)
{
    throw layout_fault{std::string{what} + " must be byte 0 or 1, got " +
                       std::to_string(std::to_integer<unsigned>(tag))};
}
[[noreturn, gnu::cold, gnu::noinline]] inline void fail_length(std::size_t count, std::size_t each, std::size_t left)
{
    std::string text = "length " + std::to_string(count);
    if (each > 1) text += " needs at least " + count_of_bytes(count * each);
    throw layout_fault{text + ", only " + count_of_bytes(left) + " left"};
}

/// The payload not yet read.
struct reader {
    const std::byte* next;
    const std::byte* end;

    [[nodiscard]] std::size_t left() const noexcept { return static_cast<std::size_t>(end - next); }
    void need(std::size_t count) const
    {
        if (left() < count) [[unlikely]]
            fail_short(count, left());
    }
    /// A length prefix whose @p each -byte elements fit in what is left.
    std::size_t length(std::size_t each)
    {
        need(sizeof(length_prefix));
        const std::size_t count = load<length_prefix>(next);
        next += sizeof(length_prefix);
        if (count > left() / each) [[unlikely]]
            fail_length(count, each, left());
        return count;
    }
    bool flag(const char* what)
    {
        const std::byte tag = *next++;
        if (tag > std::byte{1}) [[unlikely]]
            fail_tag(what, tag);
        return tag == std::byte{1};
    }
};

/// Reads into @p value. Checked: bounds are checked here; unchecked: the caller
/// checked that min_size<T>() bytes (T has a fixed size) are left.
template <bool Checked, class T>
void read(reader& in, T& value)
{
    constexpr kind k = kind_v<T>;
    if constexpr (k == kind::boolean) {
        if constexpr (Checked) in.need(1);
        value = in.flag("a bool");
    } else if constexpr (scalar<T>) {
        if constexpr (Checked) in.need(sizeof(T));
        if constexpr (k == kind::enumeration) value = static_cast<T>(load<std::underlying_type_t<T>>(in.next));
        else value = load<T>(in.next);
        in.next += sizeof(T);
    } else if constexpr (k == kind::string || k == kind::bytes) {
        const std::size_t size = in.length(1);
        using element = typename T::value_type;
        const auto* first = reinterpret_cast<const element*>(in.next);
        value.assign(first, first + size);
        in.next += size;
    } else if constexpr (k == kind::vector) {
        using element = typename vector_of<T>::element;
        const std::size_t count = in.length(min_size<element>());
        value.clear();
        value.resize(count);
        if constexpr (memory_is_layout<element>) {
            if (count != 0) std::memcpy(value.data(), in.next, count * sizeof(element));
            in.next += count * sizeof(element);
        } else {
            for (std::size_t i = 0; i != count; ++i) {
                try {
                    if constexpr (std::is_same_v<element, bool>) {
                        in.need(1);
                        value[i] = in.flag("a bool");
                    } else {
                        read<true>(in, value[i]); // the length check bounds the minimum only
                    }
                } catch (layout_fault& fault) {
                    fault.enter_element(i);
                    throw;
                }
            }
        }
    } else if constexpr (k == kind::optional) {
        if constexpr (Checked) in.need(1);
        if (in.flag("an optional's tag")) read<true>(in, value.emplace());
        else value.reset();
    } else if constexpr (k == kind::array) {
        using element = typename array_of<T>::element;
        if constexpr (memory_is_layout<element>) {
            if constexpr (Checked) in.need(sizeof(T));
            std::memcpy(value.data(), in.next, sizeof(T));
            in.next += sizeof(T);
        } else {
            for (std::size_t i = 0; i != value.size(); ++i) {
                try {
                    read<Checked>(in, value[i]);
                } catch (layout_fault& fault) {
                    fault.enter_element(i);
                    throw;
                }
            }
        }
    } else {
        static_assert(k == kind::structure);
        // A struct of fixed size: one bounds check, then unchecked reads. Too short:
        // the checked reads find the member that does not fit, for the message.
        const auto members = [&]<bool CheckMembers>() {
            for_each_member(value, [&](auto index, auto& member) {
                try {
                    read<CheckMembers>(in, member);
                } catch (layout_fault& fault) {
                    fault.enter(member_name_v<T, decltype(index)::value>.view());
                    throw;
                }
            });
        };
        if constexpr (!fixed_size<T>()) {
            members.template operator()<true>();
        } else if constexpr (!Checked) { // inside a fixed-size struct being read unchecked
            for_each_member(value, [&](auto, auto& member) { read<false>(in, member); });
        } else if (in.left() < min_size<T>()) {
            members.template operator()<true>(); // throws, naming the member that does not fit
        } else {
            // The fast path: no bounds checks and no path bookkeeping. Only a bool can
            // fail here; then read again, checked, to name it.
            const std::byte* const start = in.next;
            try {
                for_each_member(value, [&](auto, auto& member) { read<false>(in, member); });
            } catch (const layout_fault&) {
                in.next = start;
                members.template operator()<true>();
                throw;
            }
        }
    }
}

} // namespace event_engine::detail::layout
