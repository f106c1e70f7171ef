#pragma once
// The benchmark's 256 event types: realistic topics (5 to 40 bytes, many sharing
// long prefixes such as "sensor.camera.front." or "fleet.vehicle.0"), and `ev<I>`,
// one event type per topic, generated from the index (no hand-written structs). A
// plugin subscribed to k types subscribes to ev<0> ... ev<k-1>. The first 64 are
// the table of the earlier runs (so k <= 64 compares with them); the other 192
// (families of a robot, a fleet, a building, a plant) were added for k = 256.

#include <event_engine/event_engine.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>

namespace bench::dispatch {

inline constexpr std::size_t max_types = 256;

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
    // k = 65 ... 256
    "plant.line1.station1.count", "fleet.vehicle.011.health.v2",
    "irrigation.zone0.valve", "robot.arm0.joint0.state",
    "sensor.camera.left.depth.v1", "sensor.camera.right.stats.fps",
    "sensor.camera.front.exposure", "power.battery.cell03.voltage",
    "diag.host.cpu.temp", "drive.motor.rl.speed",
    "plant.line1.station3.count", "plant.line0.station1.count",
    "plant.line3.station1.count", "robot.arm2.joint0.state",
    "fleet.vehicle.002.health.v2", "robot.arm2.joint2.state",
    "sensor.radar.front.status", "diag.host.gpu.load",
    "robot.arm1.joint4.state", "power.battery.cell01.voltage",
    "building.warehouse.a.humidity", "building.floor2.north.co2",
    "rpc.route.request", "plant.line1.station0.count",
    "diag.host.mem.free", "building.lobby.temperature",
    "fleet.vehicle.015.position", "plant.line3.station3.count",
    "sensor.lidar.top.status", "sensor.camera.left.stats.fps",
    "robot.arm0.joint4.state", "rpc.auth.request",
    "rpc.auth.response", "fleet.vehicle.006.position",
    "security.door.open", "sensor.camera.rear.exposure",
    "plant.line2.station3.count", "robot.arm1.joint5.state",
    "robot.arm0.joint5.state", "fleet.vehicle.009.health.v2",
    "plant.line0.station0.count", "robot.arm1.joint1.state",
    "robot.arm1.joint0.state", "sensor.camera.rear.calib",
    "irrigation.zone2.valve", "weather.current.v2",
    "sensor.camera.left.calib", "building.floor2.east.occupancy",
    "robot.arm1.joint3.state", "fleet.vehicle.005.position",
    "drive.motor.fl.speed", "drive.motor.rr.temperature",
    "building.server.room.humidity", "sensor.radar.rear.status",
    "robot.arm0.joint3.state", "fleet.vehicle.010.position",
    "building.floor2.center.co2", "plant.line2.station2.count",
    "ui.menu.select", "building.office.north.humidity",
    "sensor.camera.left.exposure", "diag.host.gpu.temp",
    "fleet.vehicle.022.position", "drive.motor.rl.current",
    "fleet.vehicle.016.position", "fleet.vehicle.013.position",
    "robot.arm3.joint0.state", "drive.motor.fr.temperature",
    "plant.line0.station2.count", "robot.arm0.joint2.state",
    "drive.motor.fr.current", "rpc.map.error",
    "irrigation.zone7.valve", "fleet.vehicle.006.health.v2",
    "fleet.vehicle.001.position", "fleet.vehicle.003.position",
    "robot.arm3.joint3.state", "building.floor2.center.occupancy",
    "building.floor2.west.co2", "plant.line1.station2.count",
    "robot.arm1.joint2.state", "fleet.vehicle.000.position",
    "power.battery.cell06.voltage", "irrigation.zone4.valve",
    "fleet.vehicle.014.position", "fleet.vehicle.021.position",
    "irrigation.zone1.valve", "sensor.camera.rear.depth.v1",
    "sensor.camera.front.calib", "building.warehouse.a.temperature",
    "building.warehouse.b.humidity", "security.badge.scan",
    "robot.arm2.joint5.state", "drive.motor.fl.current",
    "security.door.close", "plant.line2.station1.count",
    "ui.screen.brightness", "fleet.vehicle.020.position",
    "fleet.vehicle.008.position", "robot.arm0.joint1.state",
    "rpc.auth.error", "robot.arm2.joint1.state",
    "fleet.vehicle.009.position", "building.garage.temperature",
    "fleet.vehicle.007.position", "power.battery.cell02.voltage",
    "irrigation.zone5.valve", "fleet.vehicle.000.health.v2",
    "robot.arm3.joint2.state", "rpc.auth.timeout",
    "building.floor2.east.co2", "sensor.camera.right.exposure",
    "building.floor2.south.occupancy", "drive.motor.fl.temperature",
    "drive.motor.fl.torque", "irrigation.zone3.valve",
    "sensor.radar.left.status", "robot.arm3.joint4.state",
    "robot.arm2.joint4.state", "diag.host.net.tx",
    "rpc.route.timeout", "sensor.camera.right.calib",
    "fleet.vehicle.023.position", "plant.line3.station0.count",
    "drive.motor.rr.speed", "fleet.vehicle.004.health.v2",
    "power.battery.cell05.voltage", "sensor.camera.right.depth.v1",
    "building.garage.humidity", "building.floor2.south.co2",
    "irrigation.zone8.valve", "power.battery.cell04.voltage",
    "irrigation.zone9.valve", "fleet.vehicle.004.position",
    "ui.alert.banner", "audio.chime",
    "drive.motor.rr.torque", "rpc.route.response",
    "building.office.south.humidity", "drive.motor.fr.torque",
    "plant.line0.station4.count", "building.kitchen.humidity",
    "plant.line2.station0.count", "power.battery.cell00.voltage",
    "fleet.vehicle.007.health.v2", "fleet.vehicle.008.health.v2",
    "sensor.camera.rear.stats.fps", "fleet.vehicle.017.position",
    "diag.host.net.rx", "building.warehouse.b.temperature",
    "plant.line3.station4.count", "weather.forecast",
    "fleet.vehicle.012.position", "drive.motor.rr.current",
    "building.floor2.north.occupancy", "building.kitchen.temperature",
    "fleet.vehicle.001.health.v2", "sensor.radar.right.status",
    "building.floor2.west.occupancy", "fleet.vehicle.010.health.v2",
    "fleet.vehicle.005.health.v2", "fleet.vehicle.003.health.v2",
    "fleet.vehicle.002.position", "plant.line0.station3.count",
    "robot.arm2.joint3.state", "fleet.vehicle.018.position",
    "irrigation.zone6.valve", "sensor.camera.front.stats.fps",
    "plant.line3.station2.count", "building.lobby.humidity",
    "fleet.vehicle.011.position", "building.office.south.temperature",
    "sensor.lidar.front.status", "rpc.route.error",
    "sensor.camera.front.depth.v1", "robot.arm3.joint5.state",
    "plant.line2.station4.count", "rpc.map.request",
    "power.battery.cell07.voltage", "drive.motor.rl.temperature",
    "diag.host.disk.io", "plant.line1.station4.count",
    "diag.host.cpu.load", "rpc.map.timeout",
    "rpc.map.response", "robot.arm3.joint1.state",
    "building.office.north.temperature", "audio.volume",
    "drive.motor.fr.speed", "drive.motor.rl.torque",
    "fleet.vehicle.019.position", "building.server.room.temperature",
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
