#pragma once
// The benchmark's 64 event types: realistic topics (5 to 40 bytes, many sharing
// leading characters such as "sensor.camera."), and `ev<I>`, one event type per
// topic, generated from the index (no hand-written structs). A plugin subscribed
// to k types subscribes to ev<0> ... ev<k-1>.

#include <event_engine/event_engine.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>

namespace bench::dispatch {

inline constexpr std::size_t max_types = 64;

// Shuffled once (fixed seed) so every k-prefix mixes families and lengths.
inline constexpr std::array<std::string_view, max_types> topic_table{
    "sensor.camera.front.image.v1", "sensor.camera.rear.image.v1",
    "ctl.steer", "diag.heartbeat",
    "ctl.horn", "planner.trajectory.selected.v3",
    "ctl.gear", "log.warn",
    "sensor.lidar.rear.points.v2", "power.battery.state",
    "log.error", "ui.voice.command",
    "diag.disk", "fleet.mission.assignment.v2",
    "sensor.imu.gyro", "sensor.wheel.odometry",
    "fleet.vehicle.command.ack", "ctl.lights.head",
    "perception.signs", "sensor.gps.fix",
    "fleet.vehicle.status.summary.v1", "diag.net.latency",
    "sensor.gps.raw.v2", "v2x.message.cam",
    "ctl.brake", "ctl.lights.turn",
    "map.tile", "sensor.imu.mag",
    "diag.cpu", "perception.objects.tracked.v4",
    "alarm", "sensor.lidar.front.points.v2",
    "v2x.message.denm", "log.info",
    "sensor.camera.rear.info", "sensor.camera.left.info",
    "sensor.camera.right.image.v1", "sensor.camera.front.info",
    "sensor.radar.rear.tracks", "reset",
    "diag.mem", "sensor.camera.left.image.v1",
    "perception.objects.raw.v4", "sensor.camera.right.info",
    "sensor.radar.front.tracks", "ctl.throttle",
    "sensor.ultrasonic.front.range", "sensor.lidar.top.points.v2",
    "ota.update.progress", "map.update.delta",
    "clock", "planner.trajectory.candidate.scored.v3",
    "power.charger.status", "sensor.radar.left.tracks",
    "sensor.imu.accel", "perception.freespace.grid",
    "planner.goal", "planner.behavior.lane_change.request.v12",
    "planner.route", "ui.touch",
    "sensor.ultrasonic.rear.range", "perception.lanes",
    "sensor.thermal.cabin", "diag.net.loss",
};

/// Event type number I. Its payload is one 64-bit value, decoded by the library's
/// trivial_codec (a size check and a memcpy), so dispatch dominates the cost.
template <std::size_t I>
struct ev {
    static constexpr std::string_view name = topic_table[I];
    using codec = event_engine::trivial_codec;
    std::uint64_t value;
};

template <class Seq>
struct list_of;
template <std::size_t... Is>
struct list_of<std::index_sequence<Is...>> {
    using type = event_engine::event_list<ev<Is>...>;
};

// The library's own checks: names unique, topics unique and prefix-free.
static_assert(list_of<std::make_index_sequence<max_types>>::type::valid);

/// What every variant's handlers do with an event: a little arithmetic on the payload.
struct sink {
    std::uint64_t sum = 0;
    template <std::size_t I>
    void on(const ev<I>& event) noexcept
    {
        sum += event.value + I;
    }
};

} // namespace bench::dispatch
