#pragma once
// In-process delivery (docs/design.md, "In-process delivery"): one inbox per plugin (its
// station, by the plugin's index) and, for each event of the application's list, the
// stations that subscribe to it, decided once before any thread starts. A publisher
// pushes one envelope per subscriber straight into its inbox: no proxy, no topic
// matching, no bytes unless someone outside the process receives the event.
//
// Outside the process are: external plugins (their stations hold frames), and TCP
// subscribers of the subscribe port, which the proxy thread serves from the TCP outbox
// while one of their subscriptions matches the event (tcp_wanted()).
//
// Cycles: a publisher waits while a subscriber's inbox is full (backpressure). Plugins
// that publish to each other could each wait for the other for ever; so each station
// says whom it waits for (waiting_on), and a publisher that finds the chain of waits
// from its target leading back to itself, if it is the cycle's first plugin, empties its
// own inbox into its spill queue (plugin_runtime) while it waits. Without such a cycle it
// only waits: upstream is held back.

#include "event_engine/detail/app/app_description.hpp"
#include "event_engine/detail/runtime/delivery_board.hpp"
#include "event_engine/detail/runtime/envelope.hpp"
#include "event_engine/detail/runtime/event_route.hpp"
#include "event_engine/detail/runtime/inbox.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace event_engine::detail {

/// One plugin as the bus sees it (before any thread starts).
struct station_plan {
    std::span<const std::string_view> subscribed; // topics
    std::span<const std::string_view> published;  // topics
    bool external = false;
    std::size_t capacity = 1000;
};

class event_bus {
public:
    static constexpr int not_waiting = -1;

    event_bus(event_table events, std::span<const station_plan> plans, const delivery_board& marks,
              std::size_t tcp_capacity)
        : events_{events}, marks_{&marks}, tcp_outbox_{tcp_capacity}, tcp_wanted_(events.topics.size())
    {
        for (std::size_t e = 0; e < events.topics.size(); ++e)
            routes_.push_back({static_cast<std::uint32_t>(e), {}, false});
        for (std::size_t s = 0; s < plans.size(); ++s) {
            stations_.push_back(std::make_unique<station>(plans[s].capacity));
            for (std::size_t local = 0; local < plans[s].subscribed.size(); ++local) {
                const auto event = index_of_topic(plans[s].subscribed[local]);
                if (!event) continue;
                routes_[*event].targets.push_back({static_cast<std::uint32_t>(s), static_cast<std::uint16_t>(local)});
                if (plans[s].external) routes_[*event].external = true;
            }
            auto& published = publications_.emplace_back();
            for (const auto topic : plans[s].published) {
                published.push_back(static_cast<std::uint32_t>(index_of_topic(topic).value_or(0)));
            }
        }
    }
    event_bus(const event_bus&) = delete;
    event_bus& operator=(const event_bus&) = delete;

    [[nodiscard]] inbox& input(std::size_t station) noexcept { return stations_[station]->input; }

    /// The route of the application's event @p event.
    [[nodiscard]] const event_route& route(std::size_t event) const noexcept { return routes_[event]; }
    /// The route of the @p k-th event that station @p station may publish.
    [[nodiscard]] const event_route& publication(std::size_t station, std::size_t k) const noexcept
    {
        return routes_[publications_[station][k]];
    }
    /// The stations that read the delivery marks of tracker @p station.
    [[nodiscard]] std::span<const std::uint32_t> mark_readers(std::size_t station) const noexcept
    {
        return marks_->readers(station);
    }

    /// The application's event whose topic starts @p frame, if any (topics are prefix-free).
    [[nodiscard]] std::optional<std::size_t> event_of(std::string_view frame) const noexcept
    {
        return topic_starting(events_.topics, frame);
    }

    /// Makes the envelope of a frame that came from outside the process: the event decoded
    /// once (or, if it does not decode, a `bad` envelope with the reason), the frame kept
    /// for subscribers outside. @p event is event_of(frame).
    [[nodiscard]] envelope admit(std::size_t event, shared_frame frame) const
    {
        envelope item;
        item.index = static_cast<std::uint32_t>(event);
        const std::size_t topic = events_.topics[event].size();
        const zmq::message_t& message = message_in(frame);
        const std::span<const std::byte> payload{static_cast<const std::byte*>(message.data()) + topic,
                                                 message.size() - topic};
        std::string why = "the application has no decoder for it";
        if (event >= events_.decoders.size() || !events_.decoders[event](payload, item, why)) {
            item.what = envelope::kind::bad;
            item.object = shared_value::make<std::string>(std::move(why));
        }
        item.frame = std::move(frame);
        return item;
    }

    [[nodiscard]] const event_table& events() const noexcept { return events_; }

    // The TCP subscribe port (engine_proxy): events reach it only while a subscription of a
    // TCP peer matches them. Best effort, as the port has always been: never waited for.
    [[nodiscard]] bool tcp_wanted(std::size_t event) const noexcept
    {
        return tcp_wanted_[event].load(std::memory_order_relaxed);
    }
    void want_tcp(std::size_t event, bool wanted) noexcept
    {
        tcp_wanted_[event].store(wanted, std::memory_order_relaxed);
    }
    [[nodiscard]] inbox& tcp_outbox() noexcept { return tcp_outbox_; }

    /// Offers the frame of event @p event to the TCP subscribe port (never waits).
    void offer_tcp(std::size_t event, shared_frame frame) noexcept
    {
        envelope item;
        item.index = static_cast<std::uint32_t>(event);
        item.frame = std::move(frame);
        if (tcp_outbox_.try_push(item) != inbox::push_result::pushed)
            tcp_dropped_.fetch_add(1, std::memory_order_relaxed);
    }
    /// Events the TCP subscribe port wanted but had no room for (its outbox was full).
    [[nodiscard]] std::uint64_t tcp_dropped() const noexcept { return tcp_dropped_.load(std::memory_order_relaxed); }

    /// Whom station @p station waits for (not_waiting, or a station index).
    void set_waiting(std::size_t station, int target) noexcept
    {
        stations_[station]->waiting_on.store(target, std::memory_order_relaxed);
    }
    /// Whether station @p me, waiting on station @p target, must take in its own input to
    /// break a cycle: the chain of waits from @p target leads back to it, and it is the
    /// cycle's first plugin (by registration), so that one plugin of a cycle breaks it, not
    /// each of them (each would take in, and perhaps drop, what one needs to).
    [[nodiscard]] bool breaks_cycle(std::size_t target, std::size_t me) const noexcept
    {
        auto at = static_cast<int>(target);
        std::size_t first = me;
        for (std::size_t step = 0; step <= stations_.size() && at != not_waiting; ++step) {
            if (static_cast<std::size_t>(at) == me) return first == me;
            first = std::min(first, static_cast<std::size_t>(at));
            at = stations_[static_cast<std::size_t>(at)]->waiting_on.load(std::memory_order_relaxed);
        }
        return false;
    }

    /// A stop: every publisher waiting for room looks at the stop flag now.
    void wake_publishers() noexcept
    {
        for (auto& s : stations_) s->input.wake_publishers();
    }

private:
    struct station {
        explicit station(std::size_t capacity) : input{capacity} {}
        inbox input;
        std::atomic<int> waiting_on{not_waiting};
    };

    [[nodiscard]] std::optional<std::size_t> index_of_topic(std::string_view topic) const noexcept
    {
        for (std::size_t e = 0; e < events_.topics.size(); ++e) {
            if (events_.topics[e] == topic) return e;
        }
        return std::nullopt;
    }

    event_table events_;
    const delivery_board* marks_;
    std::vector<std::unique_ptr<station>> stations_;
    std::vector<event_route> routes_;
    std::vector<std::vector<std::uint32_t>> publications_;
    inbox tcp_outbox_;
    std::vector<std::atomic<bool>> tcp_wanted_;
    std::atomic<std::uint64_t> tcp_dropped_{0};
};

/// What a publisher waiting for room does next (push_waiting).
enum class wait_verdict {
    give_up,     // stop waiting (the push ends as `full`)
    wait,        // wait on, each time longer (up to 64 ms)
    wait_briefly // wait on, a millisecond at most: it is part of a cycle it keeps moving
};

/// Pushes @p item into @p to, waiting while it is full: first by yielding, then on the
/// inbox's condition variable for a growing while (a millisecond up to 64), so a blocked
/// publisher costs nothing. @p waiting(round) runs each round and says what next.
template <class Waiting>
inbox::push_result push_waiting(inbox& to, envelope& item, Waiting&& waiting)
{
    unsigned sleeps = 0; // waits on the condition variable since the last brief one
    for (unsigned round = 0;; ++round) {
        const auto result = to.try_push(item);
        if (result != inbox::push_result::full) return result;
        const wait_verdict next = waiting(round);
        if (next == wait_verdict::give_up) return result;
        if (round < 16) {
            std::this_thread::yield();
            continue;
        }
        if (next == wait_verdict::wait_briefly) sleeps = 0;
        const unsigned doublings = std::min(sleeps++ / 4, 6u);
        to.wait_for_room(std::chrono::microseconds{1000u << doublings});
    }
}

/// Hands @p item to every subscriber of @p route, in order: a copy to each but the last,
/// which takes @p item itself, with the subscriber's own position (local) set.
/// @p push(station, envelope&, first) pushes one (first: nothing of the event was
/// delivered yet) and says whether to go on; false if one said not to.
template <class Push>
bool fan_out(const event_route& route, envelope& item, Push&& push)
{
    const std::size_t count = route.targets.size();
    for (std::size_t t = 0; t < count; ++t) {
        const bus_target target = route.targets[t];
        envelope copy;
        if (t + 1 < count) copy = item;
        envelope& sent = t + 1 < count ? copy : item;
        sent.local = target.local;
        if (!push(target.station, sent, t == 0)) return false;
    }
    return true;
}

} // namespace event_engine::detail
