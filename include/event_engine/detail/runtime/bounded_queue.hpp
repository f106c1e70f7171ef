#pragma once
// A bounded multi-producer, single-consumer ring (D. Vyukov's bounded queue: one sequence
// number per cell). A plugin's inbox: every publisher of its events pushes, its own thread pops.
//
// Why not Debian's atomic_queue (libatomic-queue-dev), the first choice (docs/design.md,
// "In-process delivery"): its run-time sized queue holds at least 4,096 elements whatever
// size is asked for (one cache line of states per index shuffle), so a high-water mark of
// 4 would hold 4,096 events; and its pop, having claimed a cell whose producer was
// preempted between claiming and storing, spins until that producer runs again. Here a
// cell that is claimed but not yet stored reads as empty: the consumer sleeps and the
// producer, having stored, wakes it. Capacity is the asked size rounded up to a power of
// two, at least 2 (with one cell, a stored cell's sequence would read as free for the next
// lap: the algorithm needs two).

#include <atomic>
#include <bit>
#include <cstddef>
#include <memory>
#include <new>
#include <utility>

namespace event_engine::detail {

template <class T>
class bounded_queue {
    static_assert(std::is_nothrow_move_assignable_v<T> && std::is_nothrow_default_constructible_v<T>,
                  "bounded_queue moves its elements in and out of cells that always hold a T");

public:
    explicit bounded_queue(std::size_t capacity)
        : mask_{std::bit_ceil(capacity < 2 ? std::size_t{2} : capacity) - 1}, cells_{new cell[mask_ + 1]}
    {
        for (std::size_t i = 0; i <= mask_; ++i) cells_[i].sequence.store(i, std::memory_order_relaxed);
    }
    bounded_queue(const bounded_queue&) = delete;
    bounded_queue& operator=(const bounded_queue&) = delete;

    [[nodiscard]] std::size_t capacity() const noexcept { return mask_ + 1; }

    /// Moves @p value in, unless the queue is full (then @p value is left as it was). Any thread.
    template <class U>
    bool try_push(U&& value) noexcept
    {
        std::size_t position = head_.load(std::memory_order_relaxed);
        for (;;) {
            cell& c = cells_[position & mask_];
            const std::size_t sequence = c.sequence.load(std::memory_order_acquire);
            const auto lag = static_cast<std::ptrdiff_t>(sequence - position);
            if (lag == 0) {
                if (head_.compare_exchange_weak(position, position + 1, std::memory_order_relaxed)) {
                    c.value = std::forward<U>(value);
                    c.sequence.store(position + 1, std::memory_order_release);
                    return true;
                }
            } else if (lag < 0) {
                return false; // the cell a full turn ago has not been popped yet: full
            } else {
                position = head_.load(std::memory_order_relaxed);
            }
        }
    }

    /// Moves the oldest element into @p out, if one is stored. The consumer's thread only.
    bool try_pop(T& out) noexcept
    {
        const std::size_t position = tail_.load(std::memory_order_relaxed);
        cell& c = cells_[position & mask_];
        if (c.sequence.load(std::memory_order_acquire) != position + 1) return false;
        out = std::move(c.value); // (a moved-from element holds nothing: T's move says so)
        c.sequence.store(position + mask_ + 1, std::memory_order_release);
        tail_.store(position + 1, std::memory_order_relaxed);
        return true;
    }

    /// Whether the oldest element is stored (a pop would succeed). The consumer's thread only.
    [[nodiscard]] bool ready() const noexcept
    {
        const std::size_t position = tail_.load(std::memory_order_relaxed);
        return cells_[position & mask_].sequence.load(std::memory_order_acquire) == position + 1;
    }

    /// Elements pushed and not popped, as seen from any thread at some recent moment.
    [[nodiscard]] std::size_t size_approx() const noexcept
    {
        const std::size_t tail = tail_.load(std::memory_order_relaxed);
        const std::size_t head = head_.load(std::memory_order_relaxed);
        return head > tail ? head - tail : 0;
    }

private:
    struct cell {
        std::atomic<std::size_t> sequence{0};
        T value{};
    };

    alignas(64) std::atomic<std::size_t> head_{0}; // producers
    alignas(64) std::atomic<std::size_t> tail_{0}; // the consumer (read by others for size_approx)
    alignas(64) const std::size_t mask_;
    const std::unique_ptr<cell[]> cells_;
};

} // namespace event_engine::detail
