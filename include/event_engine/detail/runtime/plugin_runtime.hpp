#pragma once
// The untyped back end of one plugin: its inbox on the event bus, publish with
// backpressure, receive with stop and timeout, and its counters. The typed front
// (plugin.hpp, dispatch.hpp) builds envelopes and reads the events out of them, and
// tells it what each received event was (dispatch's result), which it counts and traces;
// keeping this part non-template keeps the per-event-type code small (the fmt
// "vformat" split).

#include "event_engine/byte_buffer.hpp"
#include "event_engine/detail/config.hpp"
#include "event_engine/detail/endpoints/log_throttle.hpp"
#include "event_engine/detail/endpoints/sockets.hpp"
#include "event_engine/detail/runtime/delivery_marks.hpp"
#include "event_engine/detail/runtime/envelope.hpp"
#include "event_engine/detail/runtime/event_route.hpp"
#include "event_engine/detail/runtime/wake_pipe.hpp"
#include "event_engine/log.hpp"
#include "event_engine/receive_result.hpp"
#include "event_engine/report.hpp"

#include <zmq.hpp>

#include <algorithm>
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

class event_bus; // event_bus.hpp: the back end's

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

    /// Most events an inbox holds, whatever the high-water mark: its cells are allocated when
    /// the application starts (ZeroMQ's 0, "no limit", means this too).
    static constexpr std::size_t largest_inbox = std::size_t{1} << 16;

    /// How many events the plugin's inbox holds (rounded up to a power of two, at least 2,
    /// at most largest_inbox).
    [[nodiscard]] std::size_t inbox_capacity() const noexcept
    {
        const int events = receive_high_water_mark > 0 ? receive_high_water_mark : high_water_mark;
        if (events <= 0) return largest_inbox;
        return std::min(static_cast<std::size_t>(events), largest_inbox);
    }
};

class plugin_runtime {
public:
    /// A plugin of a running application: its inbox is station @p index of @p bus.
    plugin_runtime(event_bus& bus, std::string name, std::size_t index, const runtime_settings& settings,
                   stop_flag& stop, delivery_links links = {});

    /// A runtime on no bus: only its counters work (dispatch's tests and benchmarks decode
    /// frames with it). The context and topics are not used.
    plugin_runtime(zmq::context_t& context, std::string name, std::size_t index,
                   std::span<const std::string_view> topics, const runtime_settings& settings, stop_flag& stop);

    plugin_runtime(const plugin_runtime&) = delete;
    plugin_runtime& operator=(const plugin_runtime&) = delete;

    /// Ready to run: false if the application is already stopping. (The bus's inboxes
    /// exist before any plugin starts, so no plugin can miss the first events.)
    bool probe();

    /// The typed front's publish (plugin.hpp's publish_event): the route of the plugin's
    /// @p k-th publication, whether it needs the event encoded (someone outside the process
    /// receives it), and the send of the envelope built for it.
    [[nodiscard]] const event_route& publication(std::size_t k) const noexcept;
    [[nodiscard]] bool needs_frame(const event_route& route) const noexcept;
    /// Empties the scratch buffer and writes @p topic into it; finish_frame() makes a frame of it.
    byte_buffer& start_event(std::string_view topic);
    shared_frame finish_frame();
    /// Hands @p item to every subscriber of @p route, waiting while one is full (backpressure).
    /// False if the application is stopping and it reached none (then counted as abandoned).
    bool send_event(const event_route& route, envelope& item, std::string_view event_name, std::size_t payload_size);

    /// Publishes one frame that came from outside the process (an external plugin's): decoded
    /// once here, delivered to every subscriber as send_event() does. False if stopping.
    bool publish(zmq::message_t& frame);

    /// Delivery tracking (delivery_marks.hpp): this plugin's tracker, null unless it asked for one.
    [[nodiscard]] const delivery_tracker* tracker() const noexcept { return marks_.tracker; }

    /// Publishes this plugin's next delivery mark after the events it published so far
    /// (waiting like publish(), not counted as an event; none while no subscriber counts).
    /// False if the application is stopping and it was not sent.
    bool publish_mark();

    /// The next event for this plugin, or nullopt when the plugin finishes, the application
    /// stops, or @p deadline passes (which one: why_none()).
    std::optional<envelope> receive(std::optional<clock::time_point> deadline);

    /// The next queued event, if one is there now (no waiting, no counting). Delivery marks
    /// are read here, in order with the events: when the plugin asks for the next event,
    /// everything before them was handled.
    std::optional<envelope> take_ready();

    /// take_ready() as a frame for a socket (an external plugin's bridge): its events always
    /// carry their frame (the bus has them encoded for it).
    std::optional<zmq::message_t> take_ready_frame();

    /// Waiting for input beside other things (an external plugin's port): false if input is
    /// there now; else the caller polls input_fd() and then calls input_woken().
    bool input_sleep() noexcept;
    void input_woken() noexcept;
    [[nodiscard]] int input_fd() const noexcept;

    /// Events taken with take_ready_frame() that the plugin will never get: counted unread.
    void count_unread(std::uint64_t events) noexcept { closed_unread_ += events; }

    /// This plugin finished (it takes no more events while the application runs on): the
    /// trackers whose events it receives stop waiting for it (delivery_marks.hpp). One
    /// that was stopped or failed is never released: what it had not handled stays
    /// unconfirmed, so a JetStream bridge leaves it unacknowledged for the next run.
    void end_watches() noexcept
    {
        for (auto& watch : marks_.watches) watch.slot->ended.store(true);
    }

    /// Ends this plugin's input so that every event is counted once: closes its inbox (every
    /// later event for it is counted as its events_after_end by its publisher) and counts
    /// what is queued or spilled as unread.
    void close_input();

    /// close_input() for a plugin that still handles what reaches it before its end (the NATS
    /// bridge's drain at a graceful stop): each queued event goes to @p take, which handles or
    /// counts it: none is counted unread. Delivery marks read meanwhile are noted while
    /// @p handling says so (what is only counted is not confirmed as handled).
    void close_input(const std::function<void(const envelope&)>& take, const std::function<bool()>& handling);

    /// Work to do now and then while publish() waits (the bridge reads its monitor).
    void while_publish_waits(std::function<void()> work) { while_waiting_ = std::move(work); }

    [[nodiscard]] int stop_fd() const noexcept { return stop_->fd(); }

    void count_delivered(std::uint64_t events = 1) noexcept { report_.events_received += events; }
    void count_rejected() noexcept { ++report_.requests_rejected; }
    void count_ignored() noexcept { ++report_.requests_ignored; }
    void count_cut_off() noexcept { ++report_.peers_cut_off; }
    void count_refused() noexcept { ++report_.events_refused; }
    void count_repeated() noexcept { ++report_.batches_repeated; }
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
    [[gnu::cold]] void report_decode_failure(std::string_view event_name, std::size_t payload_size,
                                             std::string_view reason);
    /// An event from outside the process that did not decode where it entered (a `bad` envelope).
    [[gnu::cold]] void report_bad_event(std::string_view event_name, const envelope& item);

    /// Whether this plugin logs each event: decided once, when it starts, so the
    /// per-event cost is one predictable branch on a member, not a look at the level.
    [[nodiscard]] bool tracing() const noexcept { return tracing_; }

    /// Logs one event at trace level (callers check tracing() first).
    [[gnu::cold]] void trace_event(std::string_view what, std::string_view event, std::size_t payload_size) const;

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
    // Moves what is queued in this plugin's inbox into the spill queue (at most two
    // inboxes' worth): a publisher waits on it while it waits on them (a cycle).
    void drain_into_spill();

    // Pushes @p item to one subscriber, waiting while it is full. @p first: nothing of this
    // event was delivered yet, so a stop may still abandon it.
    enum class pushed { ok, after_end, abandoned };
    pushed push_to(std::uint32_t station, envelope& item, bool first, bool event);

    void spill(envelope item);

    // Counts (and logs, rate-limited) a publish a stop kept out.
    void abandon(std::string_view event_name, std::size_t payload_size);

    // A mark of a tracker this plugin receives events from: everything before it was handled.
    void note_mark(const envelope& item) noexcept;

    // The next envelope of the inbox (after the spill), marks included.
    bool pop(envelope& item);

    std::string name_;
    std::size_t index_;
    runtime_settings settings_;
    stop_flag* stop_;
    event_bus* bus_ = nullptr;
    delivery_links marks_;
    std::deque<envelope> spill_;
    std::size_t spill_bytes_ = 0;
    std::size_t spilled_marks_ = 0; // delivery marks among spill_
    std::function<void()> while_waiting_;
    byte_buffer scratch_;
    plugin_report report_;
    std::optional<plugin_outcome> outcome_;
    log_throttle decode_log_;
    log_throttle abandoned_log_;
    log_throttle spill_log_;
    std::uint64_t closed_unread_ = 0;
    bool input_closed_ = false;
    bool event_waited_ = false; // the event being sent has waited (counted in publish_waits)
    bool finishing_ = false;
    bool tracing_ = log_enabled(log_level::trace);
    receive_status why_none_ = receive_status::received;
};

} // namespace event_engine::detail

#ifndef EVENT_ENGINE_SEPARATE_COMPILATION
#include "event_engine/detail/runtime/plugin_runtime.ipp"
#endif
