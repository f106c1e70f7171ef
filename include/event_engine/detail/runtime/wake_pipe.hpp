#pragma once
// A self-pipe: writing one byte is async-signal-safe, and zmq_poll can wait on its
// read end next to ZeroMQ sockets. That is how stop() (from any thread or a signal
// handler) wakes every blocked plugin thread without polling on a timer.

#include "event_engine/errors.hpp"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <unistd.h>

namespace event_engine::detail {

class wake_pipe {
public:
    wake_pipe()
    {
        if (::pipe2(fds_, O_CLOEXEC | O_NONBLOCK) != 0) {
            throw error{std::string{"event_engine: cannot create a wake-up pipe: "} + std::strerror(errno)};
        }
    }
    ~wake_pipe()
    {
        ::close(fds_[0]);
        ::close(fds_[1]);
    }
    wake_pipe(const wake_pipe&) = delete;
    wake_pipe& operator=(const wake_pipe&) = delete;

    /// Makes the read end readable. Async-signal-safe.
    void signal() const noexcept
    {
        const char byte = 1;
        [[maybe_unused]] const auto written = ::write(fds_[1], &byte, 1);
    }
    /// Empties the pipe so it can signal again.
    void drain() const noexcept
    {
        char buffer[64];
        while (::read(fds_[0], buffer, sizeof buffer) > 0) {
        }
    }
    [[nodiscard]] int read_fd() const noexcept { return fds_[0]; }

private:
    int fds_[2]{-1, -1};
};

/// A one-way stop request: once requested, its pipe stays readable forever, so
/// every thread polling it wakes, now and later.
class stop_flag {
public:
    void request() noexcept
    {
        if (!requested_.exchange(true)) pipe_.signal();
    }
    [[nodiscard]] bool requested() const noexcept { return requested_.load(std::memory_order_relaxed); }
    [[nodiscard]] int fd() const noexcept { return pipe_.read_fd(); }

private:
    static_assert(std::atomic<bool>::is_always_lock_free, "stop() must be async-signal-safe");
    std::atomic<bool> requested_{false};
    wake_pipe pipe_;
};

} // namespace event_engine::detail
