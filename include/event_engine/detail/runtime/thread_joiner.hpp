#pragma once

#include <functional>
#include <thread>
#include <utility>

namespace event_engine::detail {

// Wakes a thread (how is the caller's business) and joins it when leaving a scope,
// by return or by exception: a joinable std::thread must never be destroyed.
class thread_joiner {
public:
    template <class Wake>
    thread_joiner(std::thread& thread, Wake wake) : thread_{thread}, wake_{std::move(wake)}
    {}
    ~thread_joiner()
    {
        wake_();
        if (thread_.joinable()) thread_.join();
    }
    thread_joiner(const thread_joiner&) = delete;
    thread_joiner& operator=(const thread_joiner&) = delete;

private:
    std::thread& thread_;
    std::function<void()> wake_;
};

} // namespace event_engine::detail
