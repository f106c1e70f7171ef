#pragma once
// How the proxy tells a plugin "I am blocked on a message for you".
//
// A plugin waiting to publish cannot simply drain its own input while it waits:
// it would absorb everything upstream sends and the producer would never be held
// back. It must drain only when the proxy is stuck on *its* input, because then
// the proxy cannot read the plugin's pending publish either (a cycle: deadlock).
// The proxy bumps a generation number for each subscriber of the message it is
// blocked on; a waiting plugin drains its input once per generation.

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

namespace event_engine::detail {

struct subscriber_demand {
    std::span<const std::string_view> topics;
    std::atomic<std::uint64_t> generation{0};
};

class demand_board {
public:
    /// Adds a subscriber (before any thread starts); the returned entry lives as long as the board.
    subscriber_demand& add(std::span<const std::string_view> topics)
    {
        entries_.push_back(std::make_unique<subscriber_demand>());
        entries_.back()->topics = topics;
        return *entries_.back();
    }

    /// Marks every subscriber of @p frame as the one the proxy waits for.
    void mark(std::string_view frame) noexcept
    {
        const auto generation = ++generation_;
        for (const auto& entry : entries_) {
            for (const auto topic : entry->topics) {
                if (frame.starts_with(topic)) {
                    entry->generation.store(generation, std::memory_order_release);
                    break;
                }
            }
        }
    }

private:
    std::vector<std::unique_ptr<subscriber_demand>> entries_;
    std::uint64_t generation_ = 0;
};

} // namespace event_engine::detail
