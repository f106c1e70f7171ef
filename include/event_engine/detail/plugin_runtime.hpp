#pragma once
// The untyped back end of one plugin: its sockets, start-up probe, publish with
// backpressure, receive with stop and timeout, and its counters. The typed front
// (plugin.hpp) encodes and dispatches; keeping this part non-template keeps the
// per-event-type code small (the fmt "vformat" split).

#include "event_engine/detail/byte_buffer.hpp"
#include "event_engine/detail/delivery_marks.hpp"
#include "event_engine/detail/config.hpp"
#include "event_engine/detail/log_throttle.hpp"
#include "event_engine/detail/sockets.hpp"
#include "event_engine/detail/wake_pipe.hpp"
#include "event_engine/log.hpp"
#include "event_engine/receive_result.hpp"
#include "event_engine/report.hpp"

#include <zmq.hpp>

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace event_engine::detail {

struct subscriber_demand; // proxy_demand.hpp: the back end's

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
                   const subscriber_demand* demand = nullptr, delivery_links links = {});

    plugin_runtime(const plugin_runtime&) = delete;
    plugin_runtime& operator=(const plugin_runtime&) = delete;

    /// Sends a probe through the engine until it comes back: then this plugin's
    /// subscriptions have reached the engine and its publisher is connected, so
    /// no event published after start-up can miss it. False if stopped meanwhile.
    bool probe();

    /// Publishes one frame, waiting while subscribers are full (backpressure).
    /// While it waits, it drains its own input only when the proxy is blocked on
    /// that input (see proxy_demand.hpp): that breaks the publish/subscribe cycle
    /// without absorbing what upstream sends, so producers are still held back.
    /// False if the application is stopping and the frame was not sent.
    bool publish(zmq::message_t& frame);

    /// The typed front's publish (dispatch.hpp's publish_event) is two untyped calls
    /// around the codec's encode: start_event() empties the scratch buffer and writes
    /// @p topic into it; send_event(), called after it, publishes what is there as one
    /// frame (as publish()) and traces it. Out of line: only the encode is per event type.
    byte_buffer& start_event(std::string_view topic);
    bool send_event(std::string_view event_name, std::size_t payload_size);

    /// Delivery tracking (delivery_marks.hpp): this plugin's tracker, null unless it asked for one.
    [[nodiscard]] const delivery_tracker* tracker() const noexcept { return marks_.tracker; }

    /// Publishes this plugin's next delivery mark after the events it published so far
    /// (waiting like publish(), not counted as an event; no frame while no subscriber
    /// counts). False if the application is stopping and it was not sent.
    bool publish_mark();

    /// The next frame for this plugin, or nullopt when the plugin finishes, the
    /// application stops, or @p deadline passes (which one: why_none()).
    std::optional<zmq::message_t> receive(std::optional<clock::time_point> deadline);

    /// The next queued frame, if one is there now (no waiting, no counting).
    /// Delivery marks are read here, in order with the events: when the plugin asks for
    /// the next event, everything before them was handled.
    std::optional<zmq::message_t> take_ready();

    /// Returns frames taken with take_ready() to the front of the queue, in order.
    void put_back(std::vector<zmq::message_t>& frames);

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
    void close_input();

    /// close_input() for a plugin that still handles what reaches it before its end (the NATS
    /// bridge's drain at a graceful stop): the same end marker, but each event frame that
    /// arrives before it comes back (the queued ones first) goes to @p take, which handles or
    /// counts it: none is counted unread. Delivery marks read meanwhile are noted while
    /// @p handling says so (what is only counted is not confirmed as handled).
    void close_input(const std::function<void(const zmq::message_t&)>& take, const std::function<bool()>& handling);

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
    void set_outcome(plugin_outcome outcome, std::string why);
    [[nodiscard]] const std::optional<plugin_outcome>& outcome() const noexcept { return outcome_; }

    // Cold and out of line: keeps the logging code out of the inlined dispatch (noinline
    // is on the definitions: g++ refuses an inline definition after a noinline declaration).
    [[gnu::cold]] void report_decode_failure(std::string_view event_name, std::size_t payload_size, std::string_view reason);
    /// report_decode_failure() for the exception being handled (called from a catch
    /// block around a codec's decode()), with its what() as the reason.
    [[gnu::cold]] void report_current_decode_failure(std::string_view event_name, std::size_t payload_size) noexcept;

    /// Whether this plugin logs each event: decided once, when it starts, so the
    /// per-event cost is one predictable branch on a member, not a look at the level.
    [[nodiscard]] bool tracing() const noexcept { return tracing_; }

    /// Logs one event at trace level (callers check tracing() first).
    [[gnu::cold]] void trace_event(std::string_view what, std::string_view event,
                                                  std::size_t payload_size) const;

    [[gnu::cold]] void report_unknown_topic(std::string_view frame);

    /// Ends the plugin's receive loop after the current event.
    void finish() noexcept { finishing_ = true; }
    /// Why the last receive() returned nullopt.
    [[nodiscard]] receive_status why_none() const noexcept { return why_none_; }
    [[nodiscard]] bool finishing() const noexcept { return finishing_; }
    [[nodiscard]] bool stop_requested() const noexcept { return stop_->requested(); }
    void request_application_stop() noexcept { stop_->request(); }
    [[nodiscard]] const std::string& name() const noexcept { return name_; }

    /// The counters so far, with what is still queued counted as unread.
    plugin_report final_report();

private:
    // Moves what is queued on the subscription into the spill queue: at most two
    // high-water marks' worth (one full inproc pipe), as the proxy is blocked meanwhile.
    void drain_into_spill();

    // Sends, waiting while subscribers are full; false when stopping (an event then counts as abandoned).
    bool send_waiting(zmq::message_t& frame, bool event);

    void spill(zmq::message_t frame);

    // A mark of a tracker this plugin receives events from: everything before it was handled.
    void note_mark(const zmq::message_t& frame) noexcept;

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

#ifndef EVENT_ENGINE_SEPARATE_COMPILATION
#include "event_engine/detail/impl/plugin_runtime_impl.hpp"
#endif
