#pragma once
// The readable name of a type, computed at compile time, for logs and errors
// ("plugin Counter failed") without asking users to name everything twice.

#include <string_view>

namespace event_engine::detail {

template <class T>
constexpr std::string_view type_name() noexcept
{
    // g++:     "... type_name() [with T = ns::Counter; std::string_view = ...]"
    // clang++: "... type_name() [T = ns::Counter]"
    std::string_view signature = __PRETTY_FUNCTION__;
    constexpr std::string_view marker = "T = ";
    const auto start = signature.find(marker);
    if (start == std::string_view::npos) return "unknown";
    signature.remove_prefix(start + marker.size());
    const auto end = signature.find_first_of(";]");
    return signature.substr(0, end);
}

/// The type's name without its namespaces: "ns::Counter" -> "Counter".
template <class T>
constexpr std::string_view short_type_name() noexcept
{
    constexpr std::string_view full = type_name<T>();
    // Only strip namespaces outside template arguments: "ns::X<a::B>" -> "X<a::B>".
    const auto template_open = full.find('<');
    const auto head = full.substr(0, template_open);
    const auto colon = head.rfind("::");
    return colon == std::string_view::npos ? full : full.substr(colon + 2);
}

} // namespace event_engine::detail
