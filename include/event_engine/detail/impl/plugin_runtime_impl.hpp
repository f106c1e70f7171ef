#pragma once
// The definitions of plugin_runtime (detail/plugin_runtime.hpp): included by that
// header in the header-only mode, compiled once into event_engine::compiled otherwise
// (src/event_engine.cpp; docs/design.md, "Separately compiled mode").

#include "event_engine/detail/plugin_runtime.hpp"

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
#include <cstddef>
#include <cstdint>
#include <cstring>
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

    EVENT_ENGINE_DECL plugin_runtime::plugin_runtime(zmq::context_t& context, std::string name, std::size_t index,
                   std::span<const std::string_view> topics, const runtime_settings& settings, stop_flag& stop,
                   const subscriber_demand* demand, delivery_links links)
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

    EVENT_ENGINE_DECL bool plugin_runtime::probe()
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

    EVENT_ENGINE_DECL bool plugin_runtime::publish(zmq::message_t& frame)
    {
        if (!send_waiting(frame, true)) return false;
        ++report_.events_published;
        return true;
    }

    [[gnu::noinline]] EVENT_ENGINE_DECL byte_buffer& plugin_runtime::start_event(std::string_view topic)
    {
        scratch_.clear();
        scratch_.append(std::as_bytes(std::span{topic.data(), topic.size()}));
        return scratch_;
    }

    [[gnu::noinline]] EVENT_ENGINE_DECL bool plugin_runtime::send_event(std::string_view event_name,
                                                                       std::size_t payload_size)
    {
        zmq::message_t frame = take_frame(scratch_);
        const bool sent = publish(frame);
        if (tracing_) [[unlikely]]
            trace_event(sent ? "publishes" : "abandons at stop", event_name, payload_size);
        return sent;
    }

    EVENT_ENGINE_DECL bool plugin_runtime::publish_mark()
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

    EVENT_ENGINE_DECL bool plugin_runtime::send_waiting(zmq::message_t& frame, bool event)
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

    EVENT_ENGINE_DECL std::optional<zmq::message_t> plugin_runtime::receive(std::optional<clock::time_point> deadline)
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

    EVENT_ENGINE_DECL std::optional<zmq::message_t> plugin_runtime::take_ready()
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

    EVENT_ENGINE_DECL void plugin_runtime::put_back(std::vector<zmq::message_t>& frames)
    {
        for (auto it = frames.rbegin(); it != frames.rend(); ++it) {
            spill_bytes_ += it->size();
            spill_.push_front(std::move(*it));
        }
        frames.clear();
    }

    EVENT_ENGINE_DECL void plugin_runtime::close_input()
    {
        // What is still queued, spilled or on its way is unread (final_report() adds the spill and
        // closed_unread_ alike); delivery marks are not noted: nothing after them was handled.
        close_input([this](const zmq::message_t&) { ++closed_unread_; }, [] { return false; });
    }

    EVENT_ENGINE_DECL void plugin_runtime::close_input(const std::function<void(const zmq::message_t&)>& take,
                                                       const std::function<bool()>& handling)
    {
        if (!probed_ || input_closed_) return;
        input_closed_ = true;
        while (!spill_.empty()) {
            zmq::message_t queued = std::move(spill_.front());
            spill_.pop_front();
            spill_bytes_ -= queued.size();
            if (is_control_frame(queued)) {
                --spilled_marks_;
                if (handling()) note_mark(queued);
                continue;
            }
            take(queued);
        }
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
                if (!is_control_frame(frame)) take(frame);
                else if (handling()) note_mark(frame);
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

    EVENT_ENGINE_DECL void plugin_runtime::set_outcome(plugin_outcome outcome, std::string why)
    {
        outcome_ = outcome;
        report_.error = std::move(why);
    }

    [[gnu::cold, gnu::noinline]] EVENT_ENGINE_DECL void plugin_runtime::report_decode_failure(std::string_view event_name, std::size_t payload_size, std::string_view reason)
    {
        ++report_.decode_failures;
        decode_log_.note(log_level::error, name_, "undecodable events", [&] {
            return fmt::format("plugin '{}': cannot decode a {} event ({} payload bytes): {}; event skipped", name_,
                               event_name, payload_size, reason);
        });
    }

    // Rethrows the codec's exception to read it: one function for every event type,
    // out of the inlined dispatch.
    [[gnu::cold, gnu::noinline]] EVENT_ENGINE_DECL void plugin_runtime::report_current_decode_failure(
        std::string_view event_name, std::size_t payload_size) noexcept
    {
        try {
            throw;
        } catch (const std::exception& failure) {
            try {
                report_decode_failure(event_name, payload_size, failure.what());
            } catch (...) {
            }
        } catch (...) {
            try {
                report_decode_failure(event_name, payload_size, "unknown exception");
            } catch (...) {
            }
        }
    }

    [[gnu::cold, gnu::noinline]] EVENT_ENGINE_DECL void plugin_runtime::trace_event(std::string_view what, std::string_view event,
                                                  std::size_t payload_size) const
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

    EVENT_ENGINE_DECL void plugin_runtime::drain_into_spill()
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

    EVENT_ENGINE_DECL void plugin_runtime::spill(zmq::message_t frame)
    {
        if (is_control_frame(frame)) ++spilled_marks_;
        spill_bytes_ += frame.size();
        spill_.push_back(std::move(frame));
    }

    EVENT_ENGINE_DECL void plugin_runtime::note_mark(const zmq::message_t& frame) noexcept
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

} // namespace event_engine::detail
