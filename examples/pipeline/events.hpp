#pragma once
// The pipeline example's events: struct events with the reflective codec (docs/layout.md),
// so that the manifest describes them member by member and a Python plugin decodes them
// into dataclasses (docs/python.md). Every kind a real payload needs is here: integers,
// floats, an enum, strings, a nested struct, a vector of structs, optionals, an array.

#include <event_engine/event_engine.hpp>
#include <event_engine/reflective_codec.hpp>

#include <boost/hana/define_struct.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pipeline {

// clang-format off
enum class Quantity : std::uint8_t { celsius = 0, humidity = 1, pressure = 2 };
enum class Severity : std::int8_t { info = 0, warning = 1, critical = 2 };

struct Location {
    BOOST_HANA_DEFINE_STRUCT(Location, (std::string, site), (std::int16_t, floor));
};

struct Sample {
    BOOST_HANA_DEFINE_STRUCT(Sample, (Quantity, quantity), (double, value));
};

// One sensor's measurements, published by Sensors.
struct Reading {
    static constexpr std::string_view name = "Reading";
    using codec = event_engine::reflective_codec;
    BOOST_HANA_DEFINE_STRUCT(Reading,
        (std::uint32_t, sensor),
        (std::uint64_t, sequence),
        (Location, location),
        (std::vector<Sample>, samples),
        (std::optional<std::string>, note),
        (std::array<std::uint8_t, 3>, firmware));
};
// clang-format on

// A sensor's window of readings, published by Aggregator.
struct Summary {
    static constexpr std::string_view name = "Summary";
    using codec = event_engine::reflective_codec;
    BOOST_HANA_DEFINE_STRUCT(Summary, (std::uint32_t, sensor), (std::uint32_t, readings), (double, mean_celsius),
                             (double, max_celsius), (std::optional<double>, mean_humidity),
                             (std::vector<std::uint64_t>, sequences));
};

// A reading out of bounds, published by Aggregator.
struct Alert {
    static constexpr std::string_view name = "Alert";
    using codec = event_engine::reflective_codec;
    BOOST_HANA_DEFINE_STRUCT(Alert, (std::uint32_t, sensor), (std::uint64_t, sequence), (Severity, severity),
                             (std::string, text));
};

// What the Python analyst saw, published once at its end; Sensors waits for it.
struct Report {
    static constexpr std::string_view name = "Report";
    using codec = event_engine::reflective_codec;
    BOOST_HANA_DEFINE_STRUCT(Report, (std::uint32_t, readings), (std::uint32_t, summaries), (std::uint32_t, alerts),
                             (std::vector<std::string>, sites), (bool, summaries_match));
};

using events = event_engine::event_list<Reading, Summary, Alert, Report>;

// The readings Sensors publishes are a function of their number, so that every process can
// check them field for field (the Python analyst recomputes the Summaries and Alerts).
inline constexpr std::uint32_t sensor_count = 3;
inline constexpr std::uint32_t window = 2;    // a Summary per sensor every `window` readings
inline constexpr double alert_celsius = 30.0; // an Alert for a temperature above this

inline Reading make_reading(std::uint64_t sequence)
{
    static constexpr std::array<std::string_view, sensor_count> sites{"north", "south", "roof"};
    Reading reading;
    reading.sensor = static_cast<std::uint32_t>(sequence % sensor_count);
    reading.sequence = sequence;
    reading.location =
        Location{std::string{sites[reading.sensor]}, static_cast<std::int16_t>(static_cast<int>(reading.sensor) - 1)};
    reading.samples.push_back(Sample{Quantity::celsius, 18.5 + static_cast<double>((sequence * 7) % 16)});
    if (reading.sensor != 2)
        reading.samples.push_back(Sample{Quantity::humidity, 40.0 + static_cast<double>(sequence % 5)});
    if (sequence % 4 == 0) reading.note = "calibrated";
    reading.firmware = {1, 4, static_cast<std::uint8_t>(reading.sensor)};
    return reading;
}

} // namespace pipeline
