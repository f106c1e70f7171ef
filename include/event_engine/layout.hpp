#pragma once
/// @file
/// The portable layout's description of a type, for other languages: what
/// reflective_codec writes for it, as a tree of kinds (docs/layout.md).
///
/// The API, exactly:
///
///     struct layout_type {
///         std::string kind;     // "bool", "i8" "i16" "i32" "i64", "u8" "u16" "u32" "u64",
///                               // "f32" "f64", "enum", "string", "bytes",
///                               // "vector", "optional", "array", "struct"
///         std::string name;     // struct: its name (an event's name_of<E>), enum: its type's name
///         std::size_t extent;   // array: the number of elements (0 otherwise)
///         std::vector<layout_type> element;    // vector, optional, array: the element type;
///                                              // enum: the underlying integer type; else empty
///         std::vector<layout_member> members;  // struct: the members in layout order
///     };
///     struct layout_member { std::string name; layout_type type; };
///
///     template <class T> layout_type describe_layout();
///         // T: a type reflective_codec can encode, usually an event (then kind
///         // "struct", name = the event's name); a member it cannot encode is the
///         // compile error rule::reflective_codec_cannot_encode_member<T, Member, Path>.
///
///     template <class Json> void to_json(Json&, const layout_type&);   // nlohmann::json,
///     template <class Json> void from_json(const Json&, layout_type&); // found by ADL
///
/// In JSON (`nlohmann::json j = describe_layout<Reading>();`) a layout_type is an object
/// with "kind" always, "name" for struct and enum, "extent" for array, "element" (a
/// one-element array) for vector, optional, array and enum, and "members" (an array of
/// {"name", "type"}) for struct; docs/layout.md specifies the shape.
///
/// Member names: the identifiers of structs reflected by Boost.Hana
/// (BOOST_HANA_DEFINE_STRUCT, BOOST_HANA_ADAPT_STRUCT, own hana::accessors_impl);
/// positions "0", "1", ... for plain aggregates reflected without a macro.

#include "event_engine/detail/meta/type_name.hpp"
#include "event_engine/detail/reflect/portable_layout.hpp"
#include "event_engine/rules.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace event_engine {

struct layout_member;

/// One type of the portable layout (see the file comment for each field).
struct layout_type {
    std::string kind;
    std::string name;
    std::size_t extent = 0;
    std::vector<layout_type> element;
    std::vector<layout_member> members;

    friend bool operator==(const layout_type&, const layout_type&) = default;
};

/// A struct's member: its name (or position, "0", "1", ...) and its type.
struct layout_member {
    std::string name;
    layout_type type;

    friend bool operator==(const layout_member&, const layout_member&) = default;
};

namespace detail::layout {

template <class T>
constexpr std::string_view struct_name() noexcept
{
    // clang-format off
    if constexpr (requires { { T::name } -> std::convertible_to<std::string_view>; }) return T::name;
    else return short_type_name<T>();
    // clang-format on
}

template <class T>
std::string integer_kind()
{
    return (std::is_signed_v<T> ? "i" : "u") + std::to_string(sizeof(T) * 8);
}

template <class T>
layout_type describe()
{
    constexpr kind k = kind_v<T>;
    layout_type type;
    if constexpr (k == kind::boolean) {
        type.kind = "bool";
    } else if constexpr (k == kind::integer) {
        type.kind = integer_kind<T>();
    } else if constexpr (k == kind::floating) {
        type.kind = sizeof(T) == 4 ? "f32" : "f64";
    } else if constexpr (k == kind::byte) {
        type.kind = "u8";
    } else if constexpr (k == kind::enumeration) {
        type.kind = "enum";
        type.name = short_type_name<T>();
        type.element.push_back(describe<std::underlying_type_t<T>>());
    } else if constexpr (k == kind::string) {
        type.kind = "string";
    } else if constexpr (k == kind::bytes) {
        type.kind = "bytes";
    } else if constexpr (k == kind::vector) {
        type.kind = "vector";
        type.element.push_back(describe<typename vector_of<T>::element>());
    } else if constexpr (k == kind::optional) {
        type.kind = "optional";
        type.element.push_back(describe<typename optional_of<T>::element>());
    } else if constexpr (k == kind::array) {
        type.kind = "array";
        type.extent = array_of<T>::extent;
        type.element.push_back(describe<typename array_of<T>::element>());
    } else {
        static_assert(k == kind::structure);
        type.kind = "struct";
        type.name = struct_name<T>();
        // clang-format off
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            (type.members.push_back(layout_member{std::string{member_name_v<T, I>.view()}, describe<member_t<T, I>>()}),
             ...);
        }(std::make_index_sequence<member_count_v<T>>{});
        // clang-format on
    }
    return type;
}

template <auto Path, std::size_t... I>
auto spelt_out(std::index_sequence<I...>) -> rule::member<Path.chars[I]...>; // declared only

template <class Event>
constexpr auto unencodable_rule_of() noexcept
{
    using found = decltype(first_unencodable<Event, fixed_string{""}>());
    if constexpr (kind_v<Event> != kind::structure && found::path.view().empty()) {
        return std::type_identity<rule::reflective_codec_needs_a_reflected_struct<Event>>{};
    } else {
        using path = decltype(spelt_out<found::path>(std::make_index_sequence<found::path.view().size()>{}));
        return std::type_identity<rule::reflective_codec_cannot_encode_member<Event, typename found::type, path>>{};
    }
}

/// The rule Event breaks when !encodable_v<Event>: naming Event, the first member
/// (depth first) the layout cannot encode, its type and its path. Report it with
/// `static_cast<void>(sizeof(unencodable_rule<Event>))`.
template <class Event>
using unencodable_rule = typename decltype(unencodable_rule_of<Event>())::type;

} // namespace detail::layout

/// The layout of @p T as reflective_codec encodes it: for an event, kind "struct"
/// named by its name, with its members in order. See docs/layout.md.
template <class T>
[[nodiscard]] layout_type describe_layout()
{
    if constexpr (!detail::layout::encodable_v<T>) {
        static_cast<void>(sizeof(detail::layout::unencodable_rule<T>));
        return {};
    } else {
        return detail::layout::describe<T>();
    }
}

/// nlohmann::json (or any type with its interface) from a layout_type; found by ADL,
/// so `nlohmann::json j = describe_layout<E>();` works with this header alone.
template <class Json>
void to_json(Json& json, const layout_type& type)
{
    json = Json::object();
    json["kind"] = type.kind;
    if (!type.name.empty()) json["name"] = type.name;
    if (type.kind == "array") json["extent"] = type.extent;
    if (!type.element.empty()) json["element"] = type.element;
    if (type.kind == "struct") json["members"] = type.members;
}

template <class Json>
void to_json(Json& json, const layout_member& member)
{
    json = Json::object();
    json["name"] = member.name;
    json["type"] = member.type;
}

/// The reverse of to_json; missing keys keep their defaults.
template <class Json>
void from_json(const Json& json, layout_type& type)
{
    type = layout_type{};
    json.at("kind").get_to(type.kind);
    if (json.contains("name")) json.at("name").get_to(type.name);
    if (json.contains("extent")) json.at("extent").get_to(type.extent);
    if (json.contains("element")) json.at("element").get_to(type.element);
    if (json.contains("members")) json.at("members").get_to(type.members);
}

template <class Json>
void from_json(const Json& json, layout_member& member)
{
    json.at("name").get_to(member.name);
    json.at("type").get_to(member.type);
}

} // namespace event_engine
