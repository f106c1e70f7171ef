#pragma once
// stop_on_signals: SIGINT and SIGTERM request a stop while run() runs; the previous
// handlers are restored when it returns.

#include "event_engine/detail/runtime/wake_pipe.hpp"

#include <atomic>
#include <cerrno>
#include <csignal>

namespace event_engine::detail {

// Where SIGINT/SIGTERM land while an app with stop_on_signals runs.
inline std::atomic<stop_flag*> signal_target{nullptr};

extern "C" inline void stop_on_signal(int) noexcept
{
    const int saved_errno = errno; // the interrupted code may be about to read it
    if (auto* target = signal_target.load()) target->request();
    errno = saved_errno;
}

class signal_scope {
public:
    explicit signal_scope(stop_flag* target) : active_{target != nullptr}
    {
        if (!active_) return;
        previous_target_ = signal_target.exchange(target);
        struct sigaction action {};
        action.sa_handler = stop_on_signal;
        sigemptyset(&action.sa_mask);
        ::sigaction(SIGINT, &action, &previous_int_);
        ::sigaction(SIGTERM, &action, &previous_term_);
    }
    ~signal_scope()
    {
        if (!active_) return;
        ::sigaction(SIGINT, &previous_int_, nullptr);
        ::sigaction(SIGTERM, &previous_term_, nullptr);
        signal_target.store(previous_target_);
    }
    signal_scope(const signal_scope&) = delete;
    signal_scope& operator=(const signal_scope&) = delete;

private:
    bool active_;
    stop_flag* previous_target_ = nullptr;
    struct sigaction previous_int_ {};
    struct sigaction previous_term_ {};
};

} // namespace event_engine::detail
