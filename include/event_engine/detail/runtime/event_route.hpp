#pragma once
// Who receives one event of the application's list inside the process (event_bus.hpp
// decides it before any thread starts; a publisher reads it for every event).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace event_engine::detail {

/// One subscriber of an event: its station (plugin index), and the event's place among its subscriptions.
struct bus_target {
    std::uint32_t station = 0;
    std::uint16_t local = 0;
};

struct event_route {
    std::uint32_t event = 0; // its index in the application's list
    std::vector<bus_target> targets;
    bool external = false; // an external plugin subscribes: the publisher encodes it (once)
};

/// Whether any plugin of the process subscribes (else the event need not be built at all).
[[nodiscard]] inline bool has_subscribers(const event_route& route) noexcept { return !route.targets.empty(); }

/// The index of the topic among @p topics that starts @p frame, if one does (the first:
/// the application's topics are prefix-free). The lookup for topics known at run time
/// only (the event bus, the ports); a plugin's dispatch plans its own at compile time
/// (topic_match.hpp).
[[nodiscard]] inline std::optional<std::size_t> topic_starting(std::span<const std::string_view> topics,
                                                               std::string_view frame) noexcept
{
    for (std::size_t t = 0; t < topics.size(); ++t) {
        if (frame.starts_with(topics[t])) return t;
    }
    return std::nullopt;
}

} // namespace event_engine::detail
