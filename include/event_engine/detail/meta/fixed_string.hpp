#pragma once
// A string usable as a template argument, so that compile-time errors can name a
// struct member by its path ("samples[].celsius") in the instantiation they report.

#include <cstddef>
#include <string_view>

namespace event_engine::detail {

template <std::size_t N>
struct fixed_string {
    char chars[N + 1] = {}; // NOLINT: public and an array, as a structural type must be

    constexpr fixed_string() = default;
    constexpr fixed_string(const char (&text)[N + 1]) noexcept // NOLINT(google-explicit-constructor)
    {
        for (std::size_t i = 0; i != N; ++i) chars[i] = text[i];
    }
    [[nodiscard]] constexpr std::string_view view() const noexcept { return {chars, N}; }
};
template <std::size_t M>
fixed_string(const char (&)[M]) -> fixed_string<M - 1>;

template <std::size_t N, std::size_t M>
constexpr fixed_string<N + M> operator+(const fixed_string<N>& left, const fixed_string<M>& right) noexcept
{
    fixed_string<N + M> joined;
    for (std::size_t i = 0; i != N; ++i) joined.chars[i] = left.chars[i];
    for (std::size_t i = 0; i != M; ++i) joined.chars[N + i] = right.chars[i];
    return joined;
}

/// The decimal digits of @p Value as a fixed_string.
template <std::size_t Value>
constexpr auto decimal_string() noexcept
{
    constexpr std::size_t digits = [] {
        std::size_t count = 1;
        for (std::size_t rest = Value; rest >= 10; rest /= 10) ++count;
        return count;
    }();
    fixed_string<digits> text;
    std::size_t rest = Value;
    for (std::size_t i = digits; i-- != 0; rest /= 10) text.chars[i] = static_cast<char>('0' + rest % 10);
    return text;
}

} // namespace event_engine::detail
