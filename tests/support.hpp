#pragma once
// Events and helpers shared by the tests.

#include <event_engine/event_engine.hpp>

#include <zmq.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace test_events {

struct Note {
    static constexpr std::string_view name = "Note";
    using codec = event_engine::text_codec;
    std::string text;
};

struct Count {
    static constexpr std::string_view name = "Count";
    using codec = event_engine::trivial_codec;
    std::uint64_t value = 0;
};

struct Blob {
    static constexpr std::string_view name = "Blob";
    using codec = event_engine::bytes_codec;
    std::vector<std::byte> bytes;
};

// A binary two-byte topic, as a real application of the original uses before flatbuffers.
struct Reading {
    static constexpr std::string_view name = "Reading";
    static constexpr std::string_view topic{"\x01\x00", 2};
    using codec = event_engine::trivial_codec;
    double celsius = 0;
    std::uint32_t sensor = 0;
};

using events = event_engine::event_list<Note, Count, Blob, Reading>;

// Ports 0: let the OS choose, so tests never collide with each other or the example;
// a test that needs the port learns it with app::on_bound().
inline event_engine::app_config any_ports()
{
    event_engine::app_config config;
    config.publish_port = 0;
    config.subscribe_port = 0;
    return config;
}

} // namespace test_events
