#pragma once
// Start-up barrier: no plugin starts its work before every plugin has proven (by
// its probe) that it is connected and subscribed. abort() releases the waiters
// when the application stops or a plugin fails during start-up.

#include <condition_variable>
#include <cstddef>
#include <mutex>

namespace event_engine::detail {

class start_gate {
public:
    explicit start_gate(std::size_t expected) : expected_{expected} {}

    /// Waits for every plugin; false if the gate was aborted.
    bool arrive_and_wait()
    {
        std::unique_lock lock{mutex_};
        ++arrived_;
        if (arrived_ == expected_) changed_.notify_all();
        changed_.wait(lock, [this] { return aborted_ || arrived_ >= expected_; });
        return !aborted_;
    }

    void abort()
    {
        {
            const std::scoped_lock lock{mutex_};
            aborted_ = true;
        }
        changed_.notify_all();
    }

private:
    std::mutex mutex_;
    std::condition_variable changed_;
    std::size_t expected_;
    std::size_t arrived_ = 0;
    bool aborted_ = false;
};

} // namespace event_engine::detail
