#pragma once
// What the NATS test application (tests/nats/test_app.cpp) and the soak application
// (tests/soak/soak_app.cpp) share: a bridge report as JSON, comma lists, the STATUS line a
// runner reads each period, and the commands it writes to stdin, a line each.

#include <event_engine/nats/options.hpp>

#include <fmt/format.h>

#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace ee_test {

/// Every counter of @p r, as the runners (natsfix.py, soak.py) read them.
inline std::string bridge_json(const event_engine::nats::bridge_report& r)
{
    return fmt::format(
        R"({{"events_out":{},"published":{},"echoes_skipped":{},"publish_failed":{},"unconfirmed_at_stop":{},"unsent_at_stop":{},)"
        R"("publish_retries":{},"stored_duplicates":{},"messages_in":{},"events_in":{},"own_skipped":{},)"
        R"("not_imported":{},"bad_messages":{},"decode_failures":{},"duplicates_skipped":{},"abandoned_at_stop":{},)"
        R"("unacknowledged_at_stop":{},)"
        R"("sequence_gaps":{},"slow_consumer_drops":{},"markers_in":{},"disconnects":{},"reconnects":{},"connected":{},"subscribed":{}}})",
        r.events_out, r.published, r.echoes_skipped, r.publish_failed, r.unconfirmed_at_stop, r.unsent_at_stop,
        r.publish_retries, r.stored_duplicates, r.messages_in, r.events_in, r.own_skipped, r.not_imported,
        r.bad_messages, r.decode_failures, r.duplicates_skipped, r.abandoned_at_stop, r.unacknowledged_at_stop,
        r.sequence_gaps, r.slow_consumer_drops, r.markers_in, r.disconnects, r.reconnects, r.connected, r.subscribed);
}

/// "a,b,c" -> {"a", "b", "c"} (an empty text is one empty part).
inline std::vector<std::string> split_commas(const std::string& text)
{
    std::vector<std::string> parts;
    for (std::size_t start = 0;;) {
        const auto comma = text.find(',', start);
        parts.push_back(text.substr(start, comma == std::string::npos ? comma : comma - start));
        if (comma == std::string::npos) return parts;
        start = comma + 1;
    }
}

/// While the application runs: a thread writing line() to stdout every @p period, and one
/// handing each line of stdin to on_command (and calling on_end_of_input when stdin ends).
/// Both end, and are joined, when this is destroyed or stop() is called.
class runner_link {
public:
    runner_link(std::chrono::milliseconds period, std::function<std::string()> line,
                std::function<void(const std::string&)> on_command, std::function<void()> on_end_of_input)
        : status_{[this, period, line = std::move(line)] { print_status(period, line); }},
          commands_{[this, on_command = std::move(on_command), on_end = std::move(on_end_of_input)] {
              read_commands(on_command, on_end);
          }}
    {}
    runner_link(const runner_link&) = delete;
    runner_link& operator=(const runner_link&) = delete;
    ~runner_link() { stop(); }

    void stop()
    {
        done_ = true;
        if (status_.joinable()) status_.join();
        if (commands_.joinable()) commands_.join();
    }

private:
    void print_status(std::chrono::milliseconds period, const std::function<std::string()>& line)
    {
        const auto step = period / 10; // how soon stop() is seen
        while (!done_) {
            const std::string text = line();
            std::fputs(text.c_str(), stdout);
            std::fflush(stdout);
            for (int i = 0; i < 10 && !done_; ++i) std::this_thread::sleep_for(step);
        }
    }

    void read_commands(const std::function<void(const std::string&)>& on_command, const std::function<void()>& on_end)
    {
        std::string buffer;
        while (!done_) {
            pollfd in{STDIN_FILENO, POLLIN, 0};
            if (::poll(&in, 1, 50) <= 0) continue;
            char chunk[256];
            const auto got = ::read(STDIN_FILENO, chunk, sizeof chunk);
            if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN)) {
                on_end();
                return;
            }
            if (got < 0) continue;
            buffer.append(chunk, static_cast<std::size_t>(got));
            for (auto newline = buffer.find('\n'); newline != std::string::npos; newline = buffer.find('\n')) {
                const std::string command = buffer.substr(0, newline);
                buffer.erase(0, newline + 1);
                on_command(command);
            }
        }
    }

    std::atomic<bool> done_{false};
    // Started last (they read done_).
    std::thread status_;
    std::thread commands_;
};

} // namespace ee_test
