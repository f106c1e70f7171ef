#pragma once
// Who receives one event of the application's list inside the process (event_bus.hpp
// decides it before any thread starts; a publisher reads it for every event).

#include <cstdint>
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
[[nodiscard]] inline bool has_subscribers(const event_route& route) noexcept
{
    return !route.targets.empty();
}

} // namespace event_engine::detail
