#pragma once
// The untyped back end of one plugin: its sockets, start-up probe, publish with
// backpressure, receive with stop and timeout, and its counters. The typed front
// (plugin.hpp) encodes and dispatches; keeping this part non-template keeps the
// per-event-type code small (the fmt "vformat" split).

#include "event_engine/detail/byte_buffer.hpp"
#include "event_engine/detail/delivery_marks.hpp"
#include "event_engine/detail/log_throttle.hpp"
#include "event_engine/detail/proxy_demand.hpp"
#include "event_engine/detail/sockets.hpp"
#include "event_engine/detail/wake_pipe.hpp"
#include "event_engine/log.hpp"
#include "event_engine/receive_result.hpp"
#include "event_engine/report.hpp"

#include <zmq.hpp>

#include <chrono>
#include <cstring>
#include <cstddef>
#include <deque>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace event_engine::detail {

using clock = std::chrono::steady_clock;

/// @p from + @p wait, saturated: a wait too long to represent (milliseconds::max(),
/// years) is "never", not an overflow into the past. A negative wait is "now".
template <class Rep, class Period>
constexpr clock::time_point deadline_after(clock::time_point from, std::chrono::duration<Rep, Period> wait) noexcept
{
    using std::chrono::duration;
    if (wait <= wait.zero()) return from;
    // Compared in floating point: no integer conversion of a huge wait can overflow here.
    const duration<double> left = clock::time_point::max() - from;
    if (duration<double>{wait} >= left) return clock::time_point::max();
    return from + std::chrono::duration_cast<clock::duration>(wait);
}

struct runtime_settings {
    int high_water_mark = 1000;
    int receive_high_water_mark = 0; // 0: high_water_mark
    std::size_t spill_limit = 100'000;
    std::size_t spill_byte_limit = static_cast<std::size_t>(-1); // external plugins: their queue_byte_limit
    std::chrono::milliseconds startup_timeout{10'000};
};

class plugin_runtime {
public:
    plugin_runtime(zmq::context_t& context, std::string name, std::size_t index,
                   std::span<const std::string_view> topics, const runtime_settings& settings, stop_flag& stop,
                   const subscriber_demand* demand = nullptr, delivery_links links = {})
        : name_{std::move(name)},
          probe_topic_{control_topic(probe_marker, index)},
          end_topic_{control_topic(end_marker, index)},
          settings_{settings},
          stop_{&stop},
          demand_{demand},
          marks_{std::move(links)},
          subscriber_{context, zmq::socket_type::sub},
          publisher_{context, zmq::socket_type::pub}
    {
        subscriber_.set(zmq::sockopt::rcvhwm, settings.receive_high_water_mark > 0 ? settings.receive_high_water_mark
                                                                                   : settings.high_water_mark);
        subscriber_.set(zmq::sockopt::linger, 0);
        subscriber_.connect(outgoing_inproc);
        for (const auto topic : topics) subscriber_.set(zmq::sockopt::subscribe, topic);
        subscriber_.set(zmq::sockopt::subscribe, end_topic_); // for close_input()
        for (const auto& watch : marks_.watches) subscriber_.set(zmq::sockopt::subscribe, watch.topic);
        // Subscribed last: once the probe comes back, every earlier subscription is in place.
        subscriber_.set(zmq::sockopt::subscribe, probe_topic_);

        publisher_.set(zmq::sockopt::sndhwm, settings.high_water_mark);
        publisher_.set(zmq::sockopt::xpub_nodrop, 1); // block at the high-water mark, never drop
        publisher_.set(zmq::sockopt::linger, 5000);   // deliver what is queued when the plugin ends
        // A plugin that subscribes may be part of a cycle (it answers events), so its
        // output is forwarded before new work from pure publishers (engine_proxy.hpp).
        publisher_.connect(topics.empty() ? incoming_inproc : incoming_priority_inproc);
        report_.name = name_;
    }

    plugin_runtime(const plugin_runtime&) = delete;
    plugin_runtime& operator=(const plugin_runtime&) = delete;

    /// Sends a probe through the engine until it comes back: then this plugin's
    /// subscriptions have reached the engine and its publisher is connected, so
    /// no event published after start-up can miss it. False if stopped meanwhile.
    bool probe()
    {
        const auto deadline = clock::now() + settings_.startup_timeout;
        zmq::message_t frame;
        for (;;) {
            zmq::message_t probe{probe_topic_.data(), probe_topic_.size()};
            (void)publisher_.send(probe, zmq::send_flags::dontwait);
            zmq::pollitem_t items[] = {{subscriber_.handle(), 0, ZMQ_POLLIN, 0}, {nullptr, stop_->fd(), ZMQ_POLLIN, 0}};
            detail::poll(items, 2, std::chrono::milliseconds{2});
            while (subscriber_.recv(frame, zmq::recv_flags::dontwait)) {
                if (frame_view(frame) == probe_topic_) {
                    subscriber_.set(zmq::sockopt::unsubscribe, probe_topic_);
                    probed_ = true;
                    return true;
                }
                if (is_control_frame(frame) && !is_mark_frame(frame_view(frame))) continue;
                spill(std::move(frame)); // an early TCP publisher (or, in order with it, a mark)
            }
            if (stop_->requested()) return false;
            if (clock::now() > deadline) {
                throw error{"event_engine: plugin '" + name_ + "' could not reach the engine within " +
                            std::to_string(settings_.startup_timeout.count()) + " ms"};
            }
        }
    }

    /// Publishes one frame, waiting while subscribers are full (backpressure).
    /// While it waits, it drains its own input only when the proxy is blocked on
    /// that input (see proxy_demand.hpp): that breaks the publish/subscribe cycle
    /// without absorbing what upstream sends, so producers are still held back.
    /// False if the application is stopping and the frame was not sent.
    bool publish(zmq::message_t& frame)
    {
        if (!send_waiting(frame, true)) return false;
        ++report_.events_published;
        return true;
    }

    /// Delivery tracking (delivery_marks.hpp): this plugin's tracker, null unless it asked for one.
    [[nodiscard]] const delivery_tracker* tracker() const noexcept { return marks_.tracker; }

    /// Publishes this plugin's next delivery mark after the events it published so far
    /// (waiting like publish(), not counted as an event; no frame while no subscriber
    /// counts). False if the application is stopping and it was not sent.
    bool publish_mark()
    {
        auto* tracker = marks_.tracker;
        if (tracker == nullptr) return false;
        if (tracker->has_live_subscribers()) {
            zmq::message_t frame = tracker->next_frame();
            if (!send_waiting(frame, false)) return false;
        }
        tracker->note_sent();
        return true;
    }

private:
    // Sends, waiting while subscribers are full; false when stopping (an event then counts as abandoned).
    bool send_waiting(zmq::message_t& frame, bool event)
    {
        for (int attempt = 0;; ++attempt) {
            if (publisher_.send(frame, zmq::send_flags::dontwait)) return true;
            if (attempt == 0 && event) ++report_.publish_waits;
            if (stop_->requested()) {
                if (!event) return false;
                ++report_.publishes_abandoned;
                abandoned_log_.note(log_level::warn, name_, "publishes abandoned at stop", [&] {
                    return fmt::format("plugin '{}': a publish was abandoned because the application is stopping",
                                       name_);
                });
                return false;
            }
            if (demand_ != nullptr) {
                const auto wanted = demand_->generation.load(std::memory_order_acquire);
                if (wanted != served_) {
                    served_ = wanted;
                    drain_into_spill();
                }
            }
            if (while_waiting_ && attempt % 64 == 63) while_waiting_();
            // PUB sockets report POLLOUT even when full, so there is nothing to poll on: back off.
            if (attempt < 64) std::this_thread::yield();
            else std::this_thread::sleep_for(std::chrono::microseconds{50});
            (void)publisher_.get(zmq::sockopt::events); // process ZeroMQ's pending "room again" commands now
        }
    }

public:
    /// The next frame for this plugin, or nullopt when the plugin finishes, the
    /// application stops, or @p deadline passes (which one: why_none()).
    std::optional<zmq::message_t> receive(std::optional<clock::time_point> deadline)
    {
        for (;;) {
            if (finishing_ || stop_->requested()) {
                why_none_ = finishing_ ? receive_status::finishing : receive_status::stopping;
                return std::nullopt;
            }
            if (auto frame = take_ready()) return frame;
            long timeout_ms = -1;
            if (deadline) {
                const auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline - clock::now());
                if (left.count() <= 0) {
                    why_none_ = receive_status::timed_out;
                    return std::nullopt;
                }
                timeout_ms = static_cast<long>(left.count());
            }
            zmq::pollitem_t items[] = {{subscriber_.handle(), 0, ZMQ_POLLIN, 0}, {nullptr, stop_->fd(), ZMQ_POLLIN, 0}};
            detail::poll(items, 2, std::chrono::milliseconds{timeout_ms});
        }
    }

    /// The next queued frame, if one is there now (no waiting, no counting).
    /// Delivery marks are read here, in order with the events: when the plugin asks for
    /// the next event, everything before them was handled.
    std::optional<zmq::message_t> take_ready()
    {
        zmq::message_t frame;
        while (!spill_.empty()) {
            frame = std::move(spill_.front());
            spill_.pop_front();
            spill_bytes_ -= frame.size();
            if (!is_control_frame(frame)) return frame;
            --spilled_marks_;
            note_mark(frame);
        }
        while (subscriber_.recv(frame, zmq::recv_flags::dontwait)) {
            if (!is_control_frame(frame)) return frame;
            note_mark(frame);
        }
        return std::nullopt;
    }

    /// Returns frames taken with take_ready() to the front of the queue, in order.
    void put_back(std::vector<zmq::message_t>& frames)
    {
        for (auto it = frames.rbegin(); it != frames.rend(); ++it) {
            spill_bytes_ += it->size();
            spill_.push_front(std::move(*it));
        }
        frames.clear();
    }

    /// This plugin finished (it takes no more events while the application runs on): the
    /// trackers whose events it receives stop waiting for it (delivery_marks.hpp). One
    /// that was stopped or failed is never released: what it had not handled stays
    /// unconfirmed, so a JetStream bridge leaves it unacknowledged for the next run.
    void end_watches() noexcept
    {
        for (auto& watch : marks_.watches) watch.slot->ended.store(true);
    }

    /// Ends this plugin's input so that every event is counted once: sends the
    /// plugin's end marker through the proxy and reads its input until the marker
    /// comes back, counting what arrives as unread. The proxy counts every later
    /// event on the plugin's topics as missed after its end (proxy_demand.hpp).
    /// It waits as long as that takes: the proxy forwards until every plugin has
    /// ended, and a plugin waiting here reads its input, so it never holds the proxy up.
    void close_input()
    {
        if (!probed_ || input_closed_) return;
        input_closed_ = true;
        bool sent = false;
        zmq::message_t frame;
        for (auto warned = clock::now();;) {
            if (!sent) {
                zmq::message_t marker{end_topic_.data(), end_topic_.size()};
                sent = publisher_.send(marker, zmq::send_flags::dontwait).has_value();
            }
            zmq::pollitem_t items[] = {{subscriber_.handle(), 0, ZMQ_POLLIN, 0}};
            detail::poll(items, 1, std::chrono::milliseconds{sent ? 100 : 1});
            while (subscriber_.recv(frame, zmq::recv_flags::dontwait)) {
                if (frame_view(frame) == end_topic_) return;
                if (!is_control_frame(frame)) ++closed_unread_;
            }
            if (clock::now() - warned > std::chrono::seconds{10}) {
                warned = clock::now();
                detail::log(log_level::warn,
                            "plugin '{}' has ended and waits for the engine to confirm it (another plugin that "
                            "subscribes is not reading its events, so the engine is held up)",
                            name_);
            }
        }
    }

    /// Work to do now and then while publish() waits (the bridge reads its monitor).
    void while_publish_waits(std::function<void()> work) { while_waiting_ = std::move(work); }

    [[nodiscard]] zmq::socket_ref subscriber() noexcept { return subscriber_; }
    [[nodiscard]] int stop_fd() const noexcept { return stop_->fd(); }

    void count_delivered(std::uint64_t events = 1) noexcept { report_.events_received += events; }
    void count_rejected() noexcept { ++report_.requests_rejected; }
    void count_ignored() noexcept { ++report_.requests_ignored; }
    void count_cut_off() noexcept { ++report_.peers_cut_off; }
    void count_dropped() noexcept
    {
        ++report_.events_dropped;
        for (auto& watch : marks_.watches) watch.dropped = true;
    }

    /// Overrides how the plugin's run is reported (e.g. an external process that vanished).
    void set_outcome(plugin_outcome outcome, std::string why)
    {
        outcome_ = outcome;
        report_.error = std::move(why);
    }
    [[nodiscard]] const std::optional<plugin_outcome>& outcome() const noexcept { return outcome_; }

    // Cold and out of line: keeps the logging code out of the inlined dispatch.
    [[gnu::cold, gnu::noinline]] void report_decode_failure(std::string_view event_name, std::size_t payload_size, std::string_view reason)
    {
        ++report_.decode_failures;
        decode_log_.note(log_level::error, name_, "undecodable events", [&] {
            return fmt::format("plugin '{}': cannot decode a {} event ({} payload bytes): {}; event skipped", name_,
                               event_name, payload_size, reason);
        });
    }

    /// Whether this plugin logs each event: decided once, when it starts, so the
    /// per-event cost is one predictable branch on a member, not a look at the level.
    [[nodiscard]] bool tracing() const noexcept { return tracing_; }

    /// Logs one event at trace level (callers check tracing() first).
    [[gnu::cold, gnu::noinline]] void trace_event(std::string_view what, std::string_view event,
                                                  std::size_t payload_size) const
    {
        detail::log(log_level::trace, "plugin '{}' {} {} ({} payload bytes)", name_, what, event, payload_size);
    }

    [[gnu::cold, gnu::noinline]] void report_unknown_topic(std::string_view frame)
    {
        ++report_.decode_failures;
        decode_log_.note(log_level::error, name_, "undecodable events", [&] {
            return fmt::format("plugin '{}': received a frame of {} bytes whose topic it does not subscribe to", name_,
                               frame.size());
        });
    }

    /// Ends the plugin's receive loop after the current event.
    void finish() noexcept { finishing_ = true; }
    /// Why the last receive() returned nullopt.
    [[nodiscard]] receive_status why_none() const noexcept { return why_none_; }
    [[nodiscard]] bool finishing() const noexcept { return finishing_; }
    [[nodiscard]] bool stop_requested() const noexcept { return stop_->requested(); }
    void request_application_stop() noexcept { stop_->request(); }
    [[nodiscard]] const std::string& name() const noexcept { return name_; }
    [[nodiscard]] byte_buffer& scratch() noexcept { return scratch_; }

    /// The counters so far, with what is still queued counted as unread.
    plugin_report final_report()
    {
        report_.events_unread = spill_.size() - spilled_marks_ + closed_unread_;
        zmq::message_t frame;
        while (!input_closed_ && subscriber_.recv(frame, zmq::recv_flags::dontwait)) {
            if (!is_control_frame(frame)) ++report_.events_unread;
        }
        spill_.clear();
        spill_bytes_ = 0;
        spilled_marks_ = 0;
        decode_log_.flush(log_level::error, name_, "undecodable events");
        abandoned_log_.flush(log_level::warn, name_, "publishes abandoned at stop");
        spill_log_.flush(log_level::warn, name_, "events dropped (spill queue full)");
        return report_;
    }

private:
    // Moves what is queued on the subscription into the spill queue: at most two
    // high-water marks' worth (one full inproc pipe), as the proxy is blocked meanwhile.
    void drain_into_spill()
    {
        zmq::message_t frame;
        const auto most = static_cast<std::size_t>(2 * settings_.high_water_mark);
        for (std::size_t taken = 0; taken < most && subscriber_.recv(frame, zmq::recv_flags::dontwait); ++taken) {
            if (is_control_frame(frame)) {
                if (is_mark_frame(frame_view(frame))) spill(std::move(frame)); // in order; never dropped
                continue;
            }
            const std::size_t events = spill_.size() - spilled_marks_;
            if (events >= settings_.spill_limit ||
                (events > 0 && spill_bytes_ + frame.size() > settings_.spill_byte_limit)) {
                // Keep draining even when full: the proxy is waiting for exactly this
                // room, and everyone else with it. Count what we drop.
                count_dropped();
                spill_log_.note(log_level::warn, name_, "events dropped (spill queue full)", [&] {
                    return fmt::format("plugin '{}': spill queue full ({} events or {} bytes) while blocked in "
                                       "publish; events are dropped and counted (see docs/design.md, loss policy)",
                                       name_, settings_.spill_limit, settings_.spill_byte_limit);
                });
                continue;
            }
            spill(std::move(frame));
            if (events + 1 > report_.max_spilled) report_.max_spilled = events + 1;
        }
    }

    void spill(zmq::message_t frame)
    {
        if (is_control_frame(frame)) ++spilled_marks_;
        spill_bytes_ += frame.size();
        spill_.push_back(std::move(frame));
    }

    // A mark of a tracker this plugin receives events from: everything before it was handled.
    void note_mark(const zmq::message_t& frame) noexcept
    {
        const std::string_view bytes = frame_view(frame);
        for (auto& watch : marks_.watches) {
            if (bytes.size() != watch.topic.size() + sizeof(std::uint64_t) || !bytes.starts_with(watch.topic)) continue;
            std::uint64_t mark = 0;
            std::memcpy(&mark, bytes.data() + watch.topic.size(), sizeof mark);
            if (watch.dropped) watch.slot->lossy.store(mark);
            watch.dropped = false;
            watch.slot->seen.store(mark, std::memory_order_release);
            return;
        }
    }


    std::string name_;
    std::string probe_topic_;
    std::string end_topic_;
    runtime_settings settings_;
    stop_flag* stop_;
    const subscriber_demand* demand_;
    delivery_links marks_;
    std::uint64_t served_ = 0;
    zmq::socket_t subscriber_;
    zmq::socket_t publisher_;
    std::deque<zmq::message_t> spill_;
    std::size_t spill_bytes_ = 0;
    std::size_t spilled_marks_ = 0; // control frames (marks) among spill_
    std::function<void()> while_waiting_;
    byte_buffer scratch_;
    plugin_report report_;
    std::optional<plugin_outcome> outcome_;
    log_throttle decode_log_;
    log_throttle abandoned_log_;
    log_throttle spill_log_;
    std::uint64_t closed_unread_ = 0;
    bool probed_ = false;
    bool input_closed_ = false;
    bool finishing_ = false;
    bool tracing_ = log_enabled(log_level::trace);
    receive_status why_none_ = receive_status::received;
};

} // namespace event_engine::detail
