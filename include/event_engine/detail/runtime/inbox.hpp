#pragma once
// One plugin's input: a bounded queue of envelopes that every publisher of its events
// pushes into and its own thread pops from, with the two ways to wait that need no
// spinning (idle is idle):
//   - the consumer, finding it empty, says it sleeps and polls a wake-up pipe (beside its
//     stop pipe, and, for an external plugin, its TCP port); a publisher that pushes
//     while it sleeps writes one byte. Under load the consumer never sleeps and nobody
//     makes a system call;
//   - a publisher finding it full waits on a condition variable until the consumer has
//     emptied it to half (one wake-up per half a queue, not per event), or it closes.
// Closing (the plugin has ended) makes every later push fail as `closed`: the publisher
// counts that event as the subscriber's events_after_end (docs/design.md, accounting).

#include "event_engine/detail/runtime/bounded_queue.hpp"
#include "event_engine/detail/runtime/envelope.hpp"
#include "event_engine/detail/runtime/wake_pipe.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>

namespace event_engine::detail {

class inbox {
public:
    enum class push_result { pushed, full, closed };

    explicit inbox(std::size_t capacity) : queue_{capacity} {}
    inbox(const inbox&) = delete;
    inbox& operator=(const inbox&) = delete;

    [[nodiscard]] std::size_t capacity() const noexcept { return queue_.capacity(); }

    /// Pushes @p item (moved only when pushed) and wakes a sleeping consumer. Any thread.
    push_result try_push(envelope& item) noexcept
    {
        if (closed_.load(std::memory_order_acquire)) return push_result::closed;
        if (!queue_.try_push(std::move(item))) {
            return closed_.load(std::memory_order_acquire) ? push_result::closed : push_result::full;
        }
        // Pairs with the fence in sleep(): either the consumer sees the element, or we see it asleep.
        std::atomic_thread_fence(std::memory_order_seq_cst);
        if (sleeping_.load(std::memory_order_relaxed) && sleeping_.exchange(false, std::memory_order_acq_rel)) {
            wake_.signal();
        }
        return push_result::pushed;
    }

    /// The consumer's pop. Wakes publishers waiting for room once half the queue is free.
    bool try_pop(envelope& out) noexcept
    {
        if (!queue_.try_pop(out)) return false;
        std::atomic_thread_fence(std::memory_order_seq_cst); // pairs with wait_for_room()
        if (room_waiters_.load(std::memory_order_relaxed) > 0 && queue_.size_approx() <= capacity() / 2) {
            notify_room();
        }
        return true;
    }

    [[nodiscard]] bool ready() const noexcept { return queue_.ready(); }
    [[nodiscard]] std::size_t size_approx() const noexcept { return queue_.size_approx(); }

    /// The consumer is about to poll wake_fd(): false (and not asleep) if an element is
    /// already there. Every true is followed by woken().
    bool sleep() noexcept
    {
        sleeping_.store(true, std::memory_order_relaxed);
        std::atomic_thread_fence(std::memory_order_seq_cst);
        if (queue_.ready()) {
            sleeping_.store(false, std::memory_order_relaxed);
            return false;
        }
        return true;
    }
    /// The consumer's poll returned.
    void woken() noexcept
    {
        sleeping_.store(false, std::memory_order_relaxed);
        wake_.drain();
    }
    [[nodiscard]] int wake_fd() const noexcept { return wake_.read_fd(); }

    /// A publisher waits (at most @p longest) for room, for the close, or for wake_publishers().
    void wait_for_room(std::chrono::microseconds longest)
    {
        room_waiters_.fetch_add(1, std::memory_order_seq_cst);
        std::atomic_thread_fence(std::memory_order_seq_cst); // pairs with try_pop()'s
        {
            std::unique_lock lock{room_mutex_};
            if (queue_.size_approx() >= capacity() && !closed_.load(std::memory_order_acquire)) {
                room_.wait_for(lock, longest);
            }
        }
        room_waiters_.fetch_sub(1, std::memory_order_relaxed);
    }

    /// Wakes every publisher waiting for room (a stop: they look at the stop flag).
    void wake_publishers() noexcept
    {
        if (room_waiters_.load(std::memory_order_seq_cst) > 0) notify_room();
    }
    /// Whether some publisher waits for room here (it may be part of a cycle: plugin_runtime).
    [[nodiscard]] bool has_waiting_publishers() const noexcept
    {
        return room_waiters_.load(std::memory_order_relaxed) > 0;
    }

    /// The consumer has ended: from now on pushes fail as closed. What is queued stays for
    /// the consumer to take (and count) with try_pop().
    void close() noexcept
    {
        closed_.store(true, std::memory_order_seq_cst);
        notify_room();
    }
    [[nodiscard]] bool closed() const noexcept { return closed_.load(std::memory_order_acquire); }

    /// Events published for the consumer after it closed (counted by their publishers).
    void count_after_end() noexcept { after_end_.fetch_add(1, std::memory_order_relaxed); }
    [[nodiscard]] std::uint64_t after_end() const noexcept { return after_end_.load(std::memory_order_relaxed); }

private:
    void notify_room() noexcept
    {
        const std::lock_guard lock{room_mutex_};
        room_.notify_all();
    }

    bounded_queue<envelope> queue_;
    alignas(64) std::atomic<bool> sleeping_{false};
    std::atomic<int> room_waiters_{0};
    std::atomic<bool> closed_{false};
    std::atomic<std::uint64_t> after_end_{0};
    wake_pipe wake_;
    std::mutex room_mutex_;
    std::condition_variable room_;
};

} // namespace event_engine::detail
