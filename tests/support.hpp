#pragma once
// Events and helpers shared by the tests.

#include <event_engine/event_engine.hpp>

#include <zmq.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
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

// Waits until @p runtime's first delivery mark is confirmed, or @p give_up() holds, or a
// minute passed (a hang guard: the test's checks then say what is missing); whether it was.
template <class GiveUp>
bool wait_for_first_mark(const event_engine::detail::plugin_runtime& runtime, GiveUp give_up)
{
    const auto hang_guard = std::chrono::steady_clock::now() + std::chrono::seconds{60};
    while (runtime.tracker()->confirmed() < 1 && !give_up() && std::chrono::steady_clock::now() < hang_guard) {
        std::this_thread::sleep_for(std::chrono::microseconds{100});
    }
    return runtime.tracker()->confirmed() >= 1;
}
inline bool wait_for_first_mark(const event_engine::detail::plugin_runtime& runtime)
{
    return wait_for_first_mark(runtime, [] { return false; });
}

// Captures the library's log lines at @p level and above that contain @p needle (every
// line by default) while alive, then restores the sink and the level.
class log_capture {
public:
    explicit log_capture(event_engine::log_level level, std::string needle = {})
        : previous_{event_engine::current_log_level()}, needle_{std::move(needle)}
    {
        event_engine::set_log_level(level);
        event_engine::set_log_sink([this](event_engine::log_level, std::string_view line) {
            if (line.find(needle_) == std::string_view::npos) return;
            const std::scoped_lock lock{mutex_};
            lines_.emplace_back(line);
        });
    }
    ~log_capture()
    {
        event_engine::set_log_sink({});
        event_engine::set_log_level(previous_);
    }
    log_capture(const log_capture&) = delete;
    log_capture& operator=(const log_capture&) = delete;

    [[nodiscard]] std::vector<std::string> lines() const
    {
        const std::scoped_lock lock{mutex_};
        return lines_;
    }
    /// How many captured lines contain @p part.
    [[nodiscard]] std::size_t count(std::string_view part) const
    {
        std::size_t n = 0;
        for (const auto& line : lines()) n += line.find(part) != std::string::npos ? 1 : 0;
        return n;
    }
    /// Waits until at least @p count lines came, up to 30 s (then the test's checks fail).
    void wait_for(std::size_t count) const
    {
        for (int i = 0; i < 6000 && lines().size() < count; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds{5});
        }
    }

private:
    event_engine::log_level previous_;
    std::string needle_;
    mutable std::mutex mutex_;
    std::vector<std::string> lines_;
};

} // namespace test_events
