#pragma once
// The definitions of plugin_runtime (detail/runtime/plugin_runtime.hpp): included by that
// header in the header-only mode, compiled once into event_engine::compiled otherwise
// (src/event_engine.cpp; docs/design.md, "Separately compiled mode").

#include "event_engine/detail/runtime/plugin_runtime.hpp"

#include "event_engine/byte_buffer.hpp"
#include "event_engine/detail/endpoints/log_throttle.hpp"
#include "event_engine/detail/endpoints/sockets.hpp"
#include "event_engine/detail/runtime/delivery_marks.hpp"
#include "event_engine/detail/runtime/envelope.hpp"
#include "event_engine/detail/runtime/event_bus.hpp"
#include "event_engine/detail/runtime/inbox.hpp"
#include "event_engine/detail/runtime/wake_pipe.hpp"
#include "event_engine/log.hpp"
#include "event_engine/receive_result.hpp"
#include "event_engine/report.hpp"

#include <zmq.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace event_engine::detail {

// A few hundred pauses (microseconds) before a consumer sleeps: under load the next event
// is usually that close, and a sleep costs two system calls. Never longer: idle is idle.
inline void pause_briefly() noexcept
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
}
inline constexpr int spins_before_sleep = 64;
// Then a few yields: on a machine with more busy threads than cores the publisher may be
// the one waiting for this core. A few microseconds in all, then the consumer sleeps.
inline constexpr int yields_before_sleep = 16;

EVENT_ENGINE_DECL plugin_runtime::plugin_runtime(event_bus& bus, std::string name, std::size_t index,
                                                 const runtime_settings& settings, stop_flag& stop,
                                                 delivery_links links)
    : name_{std::move(name)}, index_{index}, settings_{settings}, stop_{&stop}, bus_{&bus}, marks_{std::move(links)}
{
    report_.name = name_;
}

EVENT_ENGINE_DECL plugin_runtime::plugin_runtime(zmq::context_t&, std::string name, std::size_t index,
                                                 std::span<const std::string_view>, const runtime_settings& settings,
                                                 stop_flag& stop)
    : name_{std::move(name)}, index_{index}, settings_{settings}, stop_{&stop}
{
    report_.name = name_;
}

EVENT_ENGINE_DECL bool plugin_runtime::probe() { return !stop_->requested(); }

EVENT_ENGINE_DECL const event_route& plugin_runtime::publication(std::size_t k) const noexcept
{
    return bus_->publication(index_, k);
}

EVENT_ENGINE_DECL bool plugin_runtime::needs_frame(const event_route& route) const noexcept
{
    return route.external || bus_->tcp_wanted(route.event);
}

[[gnu::noinline]] EVENT_ENGINE_DECL byte_buffer& plugin_runtime::start_event(std::string_view topic)
{
    scratch_.clear();
    scratch_.append(std::as_bytes(std::span{topic.data(), topic.size()}));
    return scratch_;
}

[[gnu::noinline]] EVENT_ENGINE_DECL shared_frame plugin_runtime::finish_frame()
{
    return share_frame(take_frame(scratch_));
}

EVENT_ENGINE_DECL plugin_runtime::pushed plugin_runtime::push_to(std::uint32_t station, envelope& item, bool first,
                                                                 bool event)
{
    inbox& to = bus_->input(station);
    bool waited = false;
    const auto result = push_waiting(to, item, [&](unsigned round) {
        if (round == 0) {
            if (event && !event_waited_) {
                ++report_.publish_waits; // once per event, whichever subscriber it waited for
                event_waited_ = true;
            }
            bus_->set_waiting(index_, static_cast<int>(station));
            waited = true;
        }
        // Before anything of it was delivered, a stop abandons the event (or mark); after,
        // the rest of its subscribers are waited for: each either reads or closes at a stop.
        if (stop_->requested() && (first || !event)) return wait_verdict::give_up;
        // Waiting for itself (it subscribes to what it publishes), or the chain of waits from
        // the subscriber leads back here: take in our own input (into the spill queue), or
        // nobody on the cycle ever moves again.
        // Looked at again within a millisecond: what it takes in moves the cycle on, which
        // soon fills its input again.
        bool cycle = false;
        if (station == index_ ||
            (bus_->input(index_).has_waiting_publishers() && bus_->breaks_cycle(station, index_))) {
            drain_into_spill();
            cycle = true;
        }
        if (while_waiting_ && round % 64 == 63) while_waiting_();
        return cycle ? wait_verdict::wait_briefly : wait_verdict::wait;
    });
    if (waited) bus_->set_waiting(index_, event_bus::not_waiting);
    switch (result) {
    case inbox::push_result::pushed: return pushed::ok;
    case inbox::push_result::closed:
        if (event) to.count_after_end();
        return pushed::after_end;
    case inbox::push_result::full: break;
    }
    return pushed::abandoned;
}

EVENT_ENGINE_DECL bool plugin_runtime::send_event(const event_route& route, envelope& item, std::string_view event_name,
                                                  std::size_t payload_size)
{
    // A stop abandons what is published from then on: nothing of it was delivered yet (and a
    // publish loop learns of the stop even when no subscriber is left to wait for).
    if (stop_->requested()) {
        abandon(event_name, payload_size);
        return false;
    }
    // Offered to the TCP subscribe port once delivered here (item itself goes to the last subscriber).
    shared_frame to_tcp = item.frame && bus_->tcp_wanted(route.event) ? item.frame : shared_frame{};
    event_waited_ = false;
    const bool reached_all = fan_out(route, item, [this](std::uint32_t station, envelope& sent, bool first) {
        return push_to(station, sent, first, true) != pushed::abandoned;
    });
    if (!reached_all) {
        abandon(event_name, payload_size);
        return false;
    }
    if (to_tcp) bus_->offer_tcp(route.event, std::move(to_tcp));
    ++report_.events_published;
    if (tracing_) [[unlikely]]
        trace_event("publishes", event_name, payload_size);
    return true;
}

EVENT_ENGINE_DECL void plugin_runtime::abandon(std::string_view event_name, std::size_t payload_size)
{
    ++report_.publishes_abandoned;
    abandoned_log_.note(log_level::warn, name_, "publishes abandoned at stop", [&] {
        return fmt::format("plugin '{}': a publish was abandoned because the application is stopping", name_);
    });
    if (tracing_) [[unlikely]]
        trace_event("abandons at stop", event_name, payload_size);
}

EVENT_ENGINE_DECL bool plugin_runtime::publish(zmq::message_t& frame)
{
    const std::string_view bytes = frame_view(frame);
    const auto event = bus_->event_of(bytes);
    if (!event) {
        report_unknown_topic(bytes);
        return false;
    }
    const std::size_t payload = bytes.size() - bus_->events().topics[*event].size();
    envelope item = bus_->admit(*event, share_frame(std::move(frame)));
    return send_event(bus_->route(*event), item, bus_->events().names[*event], payload);
}

EVENT_ENGINE_DECL bool plugin_runtime::publish_mark()
{
    auto* tracker = marks_.tracker;
    if (tracker == nullptr) return false;
    if (tracker->has_live_subscribers()) {
        const auto readers = bus_->mark_readers(index_);
        for (std::size_t r = 0; r < readers.size(); ++r) {
            envelope mark;
            mark.what = envelope::kind::mark;
            mark.index = static_cast<std::uint32_t>(index_);
            mark.mark = tracker->issued() + 1;
            if (push_to(readers[r], mark, r == 0, false) == pushed::abandoned) return false;
        }
    }
    tracker->note_sent();
    return true;
}

EVENT_ENGINE_DECL bool plugin_runtime::pop(envelope& item)
{
    if (!spill_.empty()) {
        item = std::move(spill_.front());
        spill_.pop_front();
        spill_bytes_ -= item.bytes();
        if (!item.is_event()) --spilled_marks_;
        return true;
    }
    return bus_ != nullptr && bus_->input(index_).try_pop(item);
}

EVENT_ENGINE_DECL std::optional<envelope> plugin_runtime::take_ready()
{
    envelope item;
    while (pop(item)) {
        if (item.is_event()) return item;
        note_mark(item);
    }
    return std::nullopt;
}

EVENT_ENGINE_DECL std::optional<zmq::message_t> plugin_runtime::take_ready_frame()
{
    auto item = take_ready();
    if (!item) return std::nullopt;
    if (!item->frame) return zmq::message_t{}; // never: the bus encodes every event an external plugin receives
    return message_of(item->frame);
}

EVENT_ENGINE_DECL std::optional<envelope> plugin_runtime::receive(std::optional<clock::time_point> deadline)
{
    inbox* input = bus_ != nullptr ? &bus_->input(index_) : nullptr;
    for (;;) {
        if (finishing_ || stop_->requested()) {
            why_none_ = finishing_ ? receive_status::finishing : receive_status::stopping;
            return std::nullopt;
        }
        if (auto item = take_ready()) return item;
        if (input != nullptr) {
            for (int spin = 0; spin < spins_before_sleep && !input->ready(); ++spin) pause_briefly();
            for (int spin = 0; spin < yields_before_sleep && !input->ready(); ++spin) std::this_thread::yield();
            if (input->ready()) continue;
        }
        long timeout_ms = -1;
        if (deadline) {
            const auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline - clock::now());
            if (left.count() <= 0) {
                why_none_ = receive_status::timed_out;
                return std::nullopt;
            }
            timeout_ms = static_cast<long>(left.count());
        }
        if (input == nullptr) {
            zmq::pollitem_t items[] = {{nullptr, stop_->fd(), ZMQ_POLLIN, 0}};
            detail::poll(items, 1, std::chrono::milliseconds{timeout_ms});
            continue;
        }
        if (!input->sleep()) continue;
        zmq::pollitem_t items[] = {{nullptr, input->wake_fd(), ZMQ_POLLIN, 0}, {nullptr, stop_->fd(), ZMQ_POLLIN, 0}};
        detail::poll(items, 2, std::chrono::milliseconds{timeout_ms});
        input->woken();
    }
}

EVENT_ENGINE_DECL bool plugin_runtime::input_sleep() noexcept
{
    if (!spill_.empty()) return false;
    return bus_ != nullptr && bus_->input(index_).sleep();
}

EVENT_ENGINE_DECL void plugin_runtime::input_woken() noexcept
{
    if (bus_ != nullptr) bus_->input(index_).woken();
}

EVENT_ENGINE_DECL int plugin_runtime::input_fd() const noexcept
{
    return bus_ != nullptr ? bus_->input(index_).wake_fd() : stop_->fd();
}

EVENT_ENGINE_DECL void plugin_runtime::close_input()
{
    // What is still queued or spilled is unread; delivery marks are not noted: nothing
    // after them was handled.
    close_input([this](const envelope&) { ++closed_unread_; }, [] { return false; });
}

EVENT_ENGINE_DECL void plugin_runtime::close_input(const std::function<void(const envelope&)>& take,
                                                   const std::function<bool()>& handling)
{
    if (input_closed_) return;
    input_closed_ = true;
    if (bus_ != nullptr) bus_->input(index_).close();
    // After the close no event can be pushed any more but ones whose push had begun, which
    // app_runner counts as after_end once every thread has ended.
    envelope item;
    while (pop(item)) {
        if (item.is_event()) take(item);
        else if (handling()) note_mark(item);
    }
}

EVENT_ENGINE_DECL void plugin_runtime::set_outcome(plugin_outcome outcome, std::string why)
{
    outcome_ = outcome;
    report_.error = std::move(why);
}

[[gnu::cold, gnu::noinline]] EVENT_ENGINE_DECL void
plugin_runtime::report_decode_failure(std::string_view event_name, std::size_t payload_size, std::string_view reason)
{
    ++report_.decode_failures;
    decode_log_.note(log_level::error, name_, "undecodable events", [&] {
        return fmt::format("plugin '{}': cannot decode a {} event ({} payload bytes): {}; event skipped", name_,
                           event_name, payload_size, reason);
    });
}

[[gnu::cold, gnu::noinline]] EVENT_ENGINE_DECL void plugin_runtime::report_bad_event(std::string_view event_name,
                                                                                     const envelope& item)
{
    const auto* why = item.object ? &item.object.as<std::string>() : nullptr;
    const std::size_t topic = bus_ != nullptr ? bus_->events().topics[item.index].size() : 0;
    report_decode_failure(event_name, item.bytes() - topic, why != nullptr ? std::string_view{*why} : "");
}

[[gnu::cold, gnu::noinline]] EVENT_ENGINE_DECL void
plugin_runtime::trace_event(std::string_view what, std::string_view event, std::size_t payload_size) const
{
    detail::log(log_level::trace, "plugin '{}' {} {} ({} payload bytes)", name_, what, event, payload_size);
}

[[gnu::cold, gnu::noinline]] EVENT_ENGINE_DECL void plugin_runtime::report_unknown_topic(std::string_view frame)
{
    ++report_.decode_failures;
    decode_log_.note(log_level::error, name_, "undecodable events", [&] {
        return fmt::format("plugin '{}': received a frame of {} bytes whose topic it does not subscribe to", name_,
                           frame.size());
    });
}

EVENT_ENGINE_DECL plugin_report plugin_runtime::final_report()
{
    if (bus_ != nullptr && !input_closed_) close_input();
    report_.events_unread = spill_.size() - spilled_marks_ + closed_unread_;
    spill_.clear();
    spill_bytes_ = 0;
    spilled_marks_ = 0;
    decode_log_.flush(log_level::error, name_, "undecodable events");
    abandoned_log_.flush(log_level::warn, name_, "publishes abandoned at stop");
    spill_log_.flush(log_level::warn, name_, "events dropped (spill queue full)");
    return report_;
}

EVENT_ENGINE_DECL void plugin_runtime::drain_into_spill()
{
    inbox& input = bus_->input(index_);
    const std::size_t most = 2 * input.capacity();
    envelope item;
    for (std::size_t taken = 0; taken < most && input.try_pop(item); ++taken) {
        if (!item.is_event()) {
            spill(std::move(item)); // in order; never dropped
            continue;
        }
        const std::size_t events = spill_.size() - spilled_marks_;
        if (events >= settings_.spill_limit ||
            (events > 0 && spill_bytes_ + item.bytes() > settings_.spill_byte_limit)) {
            // Keep draining even when full: the publisher waiting on this inbox is waiting
            // for exactly this room. Count what we drop.
            count_dropped();
            spill_log_.note(log_level::warn, name_, "events dropped (spill queue full)", [&] {
                return fmt::format("plugin '{}': spill queue full ({} events or {} bytes) while blocked in "
                                   "publish; events are dropped and counted (see docs/design.md, loss policy)",
                                   name_, settings_.spill_limit, settings_.spill_byte_limit);
            });
            continue;
        }
        spill(std::move(item));
        if (events + 1 > report_.max_spilled) report_.max_spilled = events + 1;
    }
}

EVENT_ENGINE_DECL void plugin_runtime::spill(envelope item)
{
    if (!item.is_event()) ++spilled_marks_;
    spill_bytes_ += item.bytes();
    spill_.push_back(std::move(item));
}

EVENT_ENGINE_DECL void plugin_runtime::note_mark(const envelope& item) noexcept
{
    for (auto& watch : marks_.watches) {
        if (watch.tracker != item.index) continue;
        if (watch.dropped) watch.slot->lossy.store(item.mark);
        watch.dropped = false;
        watch.slot->seen.store(item.mark, std::memory_order_release);
        return;
    }
}

} // namespace event_engine::detail
