#pragma once
// What the proxy knows about each plugin's subscriptions.
//
// 1. How it tells a plugin "I am blocked on a message for you". A plugin waiting
// to publish cannot simply drain its own input while it waits: it would absorb
// everything upstream sends and the producer would never be held back. It must
// drain only when the proxy is stuck on *its* input, because then the proxy
// cannot read the plugin's pending publish either (a cycle: deadlock). The proxy
// bumps a generation number for each subscriber of the message it is blocked on;
// a waiting plugin drains its input once per generation.
//
// 2. What a plugin missed after it ended. A plugin that ends sends an end marker
// through the proxy and reads its input until the marker comes back, counting
// what it did not handle as unread. The proxy marks the plugin ended when it
// forwards the marker; every later event on the plugin's topics is counted
// against it (after_end), so each event is counted once, on one side or the other.

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace event_engine::detail {

struct subscriber_demand {
    std::span<const std::string_view> topics;
    std::vector<std::string> marks; // delivery marks it reads (delivery_marks.hpp): the proxy may wait on those too
    std::atomic<std::uint64_t> generation{0};
    // Proxy thread only (read by others after it has been joined).
    bool ended = false;
    std::uint64_t after_end = 0;

    [[nodiscard]] bool wants(std::string_view frame) const noexcept
    {
        for (const auto topic : topics) {
            if (frame.starts_with(topic)) return true;
        }
        for (const auto& mark : marks) {
            if (frame.starts_with(mark)) return true;
        }
        return false;
    }
};

class demand_board {
public:
    /// Adds a subscriber (before any thread starts); the returned entry lives as long as the board.
    subscriber_demand& add(std::span<const std::string_view> topics, std::vector<std::string> marks = {})
    {
        entries_.push_back(std::make_unique<subscriber_demand>());
        entries_.back()->topics = topics;
        entries_.back()->marks = std::move(marks);
        return *entries_.back();
    }

    /// Marks every subscriber of @p frame as the one the proxy waits for.
    void mark(std::string_view frame) noexcept
    {
        const auto generation = ++generation_;
        for (const auto& entry : entries_) {
            if (entry->wants(frame)) entry->generation.store(generation, std::memory_order_release);
        }
    }

    /// The proxy forwarded plugin @p index's end marker.
    void mark_ended(std::size_t index) noexcept
    {
        if (index >= entries_.size() || entries_[index]->ended) return;
        entries_[index]->ended = true;
        ++ended_;
    }

    /// Counts @p frame against every ended subscriber of it.
    void count_after_end(std::string_view frame) noexcept
    {
        if (ended_ == 0) return;
        for (const auto& entry : entries_) {
            if (entry->ended && entry->wants(frame)) ++entry->after_end;
        }
    }

    [[nodiscard]] const subscriber_demand& at(std::size_t index) const { return *entries_.at(index); }

private:
    std::vector<std::unique_ptr<subscriber_demand>> entries_;
    std::uint64_t generation_ = 0;
    std::size_t ended_ = 0;
};

} // namespace event_engine::detail
