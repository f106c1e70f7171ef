// Writes, as JSON on stdout, fixed sample events encoded by reflective_codec: for
// each, the event's name, its layout description (describe_layout, the shape the
// manifest carries), the payload in hex, and the value member by member. The
// cross-language test (pyevents/tests/test_layout.py) decodes each payload with
// pyevents.layout from the description alone, compares it with the value field for
// field and encodes it back to the same bytes.

#include "sample_events.hpp"

#include <event_engine/byte_buffer.hpp>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>
#include <limits>
#include <string>

namespace {

namespace layout = event_engine::detail::layout;
using nlohmann::json;

std::string hex(const std::byte* data, std::size_t size)
{
    std::string text;
    for (std::size_t i = 0; i != size; ++i) {
        char pair[3];
        std::snprintf(pair, sizeof pair, "%02x", std::to_integer<unsigned>(data[i]));
        text += pair;
    }
    return text;
}

/// The value as JSON: numbers, bool, strings; bytes as hex; null for an empty optional;
/// lists for vectors and arrays; objects by member name for structs.
template <class T>
json value_of(const T& value)
{
    constexpr layout::kind k = layout::kind_v<T>;
    if constexpr (k == layout::kind::enumeration) return static_cast<std::underlying_type_t<T>>(value);
    else if constexpr (k == layout::kind::byte) return std::to_integer<unsigned>(value);
    else if constexpr (k == layout::kind::bytes)
        return hex(reinterpret_cast<const std::byte*>(value.data()), value.size());
    else if constexpr (k == layout::kind::optional) return value ? value_of(*value) : json(nullptr);
    else if constexpr (k == layout::kind::vector || k == layout::kind::array) {
        json items = json::array();
        for (const auto& item : value) items.push_back(value_of(static_cast<typename T::value_type>(item)));
        return items;
    } else if constexpr (k == layout::kind::structure) {
        json members = json::object();
        event_engine::detail::for_each_member(value, [&](auto index, const auto& member) {
            members[std::string{event_engine::detail::member_name_v<T, decltype(index)::value>.view()}] =
                value_of(member);
        });
        return members;
    } else {
        return value;
    }
}

template <class E>
json sample(const E& event)
{
    event_engine::byte_buffer frame;
    event_engine::payload_writer out{frame};
    event_engine::codec<E>::encode(event, out);
    return {{"event", std::string{E::name}},
            {"layout", event_engine::describe_layout<E>()},
            {"payload", hex(frame.data(), frame.size())},
            {"value", value_of(event)}};
}

} // namespace

int main()
{
    using namespace layout_samples;
    Everything extremes = everything();
    extremes.i64 = std::numeric_limits<std::int64_t>::min();
    extremes.u64 = std::numeric_limits<std::uint64_t>::max();
    extremes.f64 = std::numeric_limits<double>::max();
    extremes.f32 = -std::numeric_limits<float>::denorm_min();
    extremes.flag = false;
    extremes.text.clear();
    extremes.blob.clear();
    extremes.numbers.clear();
    extremes.maybe.reset();
    extremes.where = Point{3.0F, -3.0F};
    extremes.level = Level::error;
    extremes.flags = none;

    const json samples = json::array({
        sample(everything()),
        sample(extremes),
        sample(Telemetry{42, {0.5, -1e300}, Level::warning}),
        sample(Telemetry{}),
        sample(Person{"Ada Lovelace", 36}),
        sample(Plain{-3, "plain", {Point{1, 2}, Point{3, 4}}, Level::info, {-1, 1}}),
        sample(Reading{7, 21.5, true}),
        sample(Ping{}),
    });
    std::cout << json{{"samples", samples}}.dump(1) << '\n';
    return 0;
}
