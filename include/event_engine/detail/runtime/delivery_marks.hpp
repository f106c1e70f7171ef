#pragma once
// Delivery marks: how a plugin learns that the events it published have been
// handled by every plugin that receives them (the NATS bridge acknowledges a
// JetStream message only then, so a process killed meanwhile loses nothing).
//
// A plugin's inbox keeps the order of each publisher's pushes (event_bus.hpp), and a
// plugin handles its events one at a time. So a tracker (a plugin that asks for it,
// plugin_slot::tracks_delivery()) pushes, after a batch of events, a mark (an envelope
// with its index and a sequence number) into the inbox of every plugin that can receive
// an event it publishes (delivery_board.hpp, decided before any thread starts); that
// plugin's runtime, on reading mark N (in receive order, spill queue included), stores N
// in a slot of its own. A mark is read when the plugin asks for its next event, so once every
// live subscriber's slot holds N, everything published before mark N was handled
// (an external plugin's: handed over to its queue in the engine).
//
// Nothing here runs per event: a mark is read where the runtime takes its next event, and an application without a tracker has no
// marks and no slots. Marks are never dropped; an event that a subscriber drops
// (a full spill queue, when_full = drop) taints the next mark it reads from each
// tracker, and the tracker must not count that batch as handled.

#include "event_engine/detail/wire/control.hpp"

#include <zmq.hpp>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace event_engine::detail {

inline constexpr std::string_view mark_marker = "mark/";

/// What one subscriber has read of one tracker's marks (written by the subscriber's
/// thread, read by the tracker's).
struct mark_slot {
    std::atomic<std::uint64_t> seen{0};  // the last mark read
    std::atomic<std::uint64_t> lossy{0}; // the last mark read after an event was dropped
    std::atomic<bool> ended{false};      // the subscriber finished (not stopped, not failed): it no longer counts
};

/// The marks of one tracking plugin and the slots of its subscribers.
class delivery_tracker {
public:
    explicit delivery_tracker(std::size_t index) : topic_{control_topic(mark_marker, index)} {}
    delivery_tracker(const delivery_tracker&) = delete;
    delivery_tracker& operator=(const delivery_tracker&) = delete;

    /// Adds a subscriber (before any thread starts).
    mark_slot& add_subscriber()
    {
        slots_.push_back(std::make_unique<mark_slot>());
        return *slots_.back();
    }

    [[nodiscard]] const std::string& topic() const noexcept { return topic_; }

    /// Whether some subscriber still counts (if none does, a mark need not be sent).
    [[nodiscard]] bool has_live_subscribers() const noexcept
    {
        return std::any_of(slots_.begin(), slots_.end(), [](const auto& s) { return !s->ended.load(); });
    }

    /// The frame of the next mark; issued() counts it once it was sent (note_sent()).
    [[nodiscard]] zmq::message_t next_frame() const
    {
        const std::uint64_t next = issued_ + 1;
        zmq::message_t frame{topic_.size() + sizeof next};
        std::memcpy(frame.data(), topic_.data(), topic_.size());
        std::memcpy(static_cast<char*>(frame.data()) + topic_.size(), &next, sizeof next);
        return frame;
    }
    /// The next mark was sent, or needed no frame (no live subscriber).
    void note_sent() noexcept { ++issued_; }

    /// Marks issued so far (tracker thread).
    [[nodiscard]] std::uint64_t issued() const noexcept { return issued_; }

    /// The last mark every live subscriber has read: everything published before it was
    /// handled. issued() when no subscriber counts any more.
    [[nodiscard]] std::uint64_t confirmed() const noexcept
    {
        std::uint64_t least = issued_;
        for (const auto& slot : slots_) {
            if (slot->ended.load()) continue;
            least = std::min(least, slot->seen.load(std::memory_order_acquire));
        }
        return least;
    }

    /// Whether a subscriber may have dropped an event published before mark @p mark and
    /// after the one before it (conservative: true for any batch up to the last tainted one).
    [[nodiscard]] bool lossy(std::uint64_t mark) const noexcept
    {
        return std::any_of(slots_.begin(), slots_.end(), [&](const auto& s) { return s->lossy.load() >= mark; });
    }

private:
    std::string topic_;
    std::vector<std::unique_ptr<mark_slot>> slots_;
    std::uint64_t issued_ = 0; // tracker thread only
};

/// A tracker whose marks a subscriber reads, and its slot there.
struct mark_watch {
    std::string_view topic;
    mark_slot* slot = nullptr;
    bool dropped = false;    // subscriber thread: an event was dropped since its last mark
    std::size_t tracker = 0; // the tracker's plugin index (a mark envelope's index)
};

/// What a plugin's runtime needs of delivery marks.
struct delivery_links {
    delivery_tracker* tracker = nullptr; // its own marks, if it tracks delivery
    std::vector<mark_watch> watches;     // the trackers whose events it receives
};

/// Whether a subscriber to @p subscribed can receive an event published on one of
/// @p published: ZeroMQ's prefix match, either way round (a shorter published topic
/// may be followed by payload bytes that match a longer subscription).
inline bool receives_from(std::span<const std::string_view> subscribed,
                          std::span<const std::string_view> published) noexcept
{
    for (const auto s : subscribed) {
        for (const auto p : published) {
            if (p.starts_with(s) || s.starts_with(p)) return true;
        }
    }
    return false;
}

/// Whether @p frame is a delivery mark (of any tracker).
inline bool is_mark_frame(std::string_view frame) noexcept
{
    return frame.starts_with(control_prefix) && frame.substr(control_prefix.size()).starts_with(mark_marker);
}

} // namespace event_engine::detail
