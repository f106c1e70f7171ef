#pragma once
/// @file
/// A bridge between an application and NATS, declared like a plugin:
///
///     event_engine::nats::bridge<event_engine::subscribes<Reading>,   // leave the app for NATS
///                                event_engine::publishes<Alert>>      // enter the app from NATS
///         bridge{{.servers = {"nats://hub:4222"}, .subject_prefix = "fleet"}};
///     bridge.register_with(app);              // before app.run()
///     ...
///     event_engine::nats::bridge_report counts = bridge.report();
///
/// Events travel on subjects `<prefix>.<EventName>` with the codec's bytes as payload and
/// the topic, origin and a sequence number in headers; see docs/nats.md. Needs libnats and
/// the CMake target event_engine::nats.

#include "event_engine/byte_buffer.hpp"
#include "event_engine/codec.hpp"
#include "event_engine/detail/dispatch/dispatch.hpp"
#include "event_engine/detail/endpoints/sockets.hpp"
#include "event_engine/detail/meta/type_list.hpp"
#include "event_engine/detail/runtime/plugin_runtime.hpp"
#include "event_engine/event.hpp"
#include "event_engine/nats/detail/bridge_core.hpp"
#include "event_engine/nats/options.hpp"
#include "event_engine/plugin.hpp"
#include "event_engine/rules.hpp"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <exception>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace event_engine::nats {

namespace rule {

/// An event that crosses NATS travels on the subject `<prefix>.<name>`, so its name must be one subject token.
template <class Event>
struct event_name_must_be_a_nats_subject_token {
    static_assert(event_engine::detail::always_false<Event>,
                  "event_engine::nats::bridge: this event's name is not a NATS subject token (printable ASCII "
                  "without '.', '*', '>' or spaces), so it cannot name the subject it travels on; rename the event");
};

} // namespace rule

template <class Exported, class Imported>
class bridge {
    static_assert(event_engine::detail::always_false<Exported, Imported>,
                  "event_engine::nats::bridge<Exported, Imported>: the first argument must be "
                  "event_engine::subscribes<...> (events sent to NATS) and the second event_engine::publishes<...> "
                  "(events brought in from NATS)");
};

/// Sends the events in `subscribes<Out...>` from the application to NATS and publishes the
/// events in `publishes<In...>` that arrive from NATS into the application. It runs as two
/// plugins, `<name>.out` and `<name>.in` (one thread each; only those it needs), so that
/// neither direction waits for the other. The typed rules apply to both: it cannot send or
/// bring in an event the application does not have.
template <event_type... Out, event_type... In>
class bridge<subscribes<Out...>, publishes<In...>> {
public:
    /// The plugin that sends: receives the exported events from the application.
    class outbound : public plugin<outbound, subscribes<Out...>, publishes<>> {
    public:
        explicit outbound(detail::bridge_core& core) noexcept : core_{&core} {}

        /// In the manifest (plugins[].details): the servers, the subjects it sends to, the stream.
        [[nodiscard]] std::vector<std::pair<std::string, std::string>> manifest_details() const
        {
            return core_->plan(true);
        }

        void run()
        {
            const leave_on_exit leave{*core_};
            drain_until_.reset();
            core_->start();
            // An event in hand when the application stops may wait (JetStream: for room among
            // max_unacknowledged) as long as the drain does.
            const std::function<bool()> stopping = [this] { return this->stop_requested() && drain_over(); };
            for (;;) {
                auto event = this->receive(std::chrono::milliseconds{50});
                if (event) {
                    std::visit([&](const auto& e) { forward(e, stopping); }, *event);
                } else if (this->stop_requested()) {
                    break;
                }
                core_->maintain();
                core_->tend();
            }
            if (this->stop_requested()) drain();
            core_->finish_outbound();
        }

    private:
        // A graceful stop: sends what is still queued for this plugin in the application, for at
        // most drain_timeout; what is left then is taken and counted as unsent_at_stop. First
        // while events come (the application's plugins stop publishing: until none came for
        // quiet_after_stop), then the plugin's input is ended as the engine ends it
        // (plugin_runtime::close_input(): its inbox closes), taking every event queued for it: so
        // none is left unread however busy the machine, and what is published for the plugin after that the engine counts as its
        // events_after_end. Once out of time each event only costs a count.
        void drain()
        {
            auto* runtime = event_engine::detail::plugin_access::runtime_of(*this);
            if (runtime == nullptr) return;
            using event_engine::detail::clock;
            const std::function<bool()> late = [this] { return drain_over(); };
            const std::function<bool()> handling = [this] { return !drain_over(); };
            const auto take = [&](const event_engine::detail::envelope& item) {
                if (!late()) {
                    event_engine::detail::deliver_envelope<Out...>(*runtime, item,
                                                                   [&](const auto& e) { forward(e, late); });
                    core_->maintain();
                    core_->tend();
                    return;
                }
                runtime->count_delivered();
                core_->unsent_at_stop();
            };
            while (!late()) {
                auto item = runtime->take_ready();
                if (!item) {
                    const auto left = std::chrono::ceil<std::chrono::milliseconds>(*drain_until_ - clock::now());
                    if (!runtime->input_sleep()) continue;
                    zmq::pollitem_t input{nullptr, runtime->input_fd(), ZMQ_POLLIN, 0};
                    const int ready = event_engine::detail::poll(&input, 1, std::min(left, quiet_after_stop));
                    runtime->input_woken();
                    if (ready <= 0) break;
                    continue;
                }
                take(*item);
            }
            runtime->close_input(take, handling);
        }

        static constexpr std::chrono::milliseconds quiet_after_stop{50};

        // True once drain_timeout has passed since the first call (made once the application stops).
        bool drain_over()
        {
            using event_engine::detail::clock;
            if (!drain_until_)
                drain_until_ = event_engine::detail::deadline_after(clock::now(), core_->options().drain_timeout);
            return clock::now() >= *drain_until_;
        }

        template <class E>
        void forward(const E& event, const std::function<bool()>& stopping)
        {
            buffer_.clear();
            payload_writer writer{buffer_};
            codec<E>::encode(event, writer);
            const std::span<const std::byte> payload{buffer_.data(), buffer_.size()};
            if constexpr (event_engine::detail::contains_v<E, In...>) {
                if (core_->take_echo(name_of<E>, payload)) return;
            }
            core_->send(index_of<E, Out...>(), payload, stopping);
        }

        detail::bridge_core* core_;
        event_engine::byte_buffer buffer_;
        std::optional<event_engine::detail::clock::time_point> drain_until_; // set when the application stops
    };

    /// The plugin that receives: publishes the imported events that arrive from NATS.
    class inbound : public plugin<inbound, subscribes<>, publishes<In...>> {
    public:
        explicit inbound(detail::bridge_core& core) noexcept : core_{&core} {}

        /// In the manifest (plugins[].details): the servers, the subjects it receives, the stream and consumers.
        [[nodiscard]] std::vector<std::pair<std::string, std::string>> manifest_details() const
        {
            return core_->plan(false);
        }

        /// JetStream: the engine tells it when its events were handled (delivery marks),
        /// so it acknowledges a message only then.
        [[nodiscard]] bool tracks_delivery() const noexcept { return core_->options().mode == delivery::jetstream; }

        void run()
        {
            const leave_on_exit leave{*core_};
            core_->start();
            if (auto* runtime = event_engine::detail::plugin_access::runtime_of(*this)) {
                core_->track_delivery(*runtime);
                // While the application holds nats.in up (backpressure) is when the client drops:
                // count and log that then too.
                runtime->while_publish_waits([this] { core_->note_drops(); });
            }
            while (!this->stop_requested()) {
                auto message = core_->next(std::chrono::milliseconds{50});
                if (!message) continue;
                if (!deliver(*message, std::index_sequence_for<In...>{})) break;
            }
            core_->finish_inbound();
        }

    private:
        template <std::size_t... I>
        bool deliver(detail::bridge_core::incoming& message, std::index_sequence<I...>)
        {
            bool delivered = true;
            static_cast<void>(((message.index == I ? (delivered = deliver_one<In>(message), true) : false) || ...));
            return delivered;
        }

        // False when the application is stopping and the event could not be published.
        template <class E>
        bool deliver_one(detail::bridge_core::incoming& message)
        {
            std::optional<E> event;
            try {
                event.emplace(codec<E>::decode(message.payload()));
            } catch (...) {
                std::string why;
                event_engine::detail::describe_current_exception(why);
                core_->undecodable(message, name_of<E>, why);
                return true;
            }
            if constexpr (event_engine::detail::contains_v<E, Out...>) {
                // The out plugin will receive this event too: remember it so it is not sent back.
                buffer_.clear();
                payload_writer writer{buffer_};
                codec<E>::encode(*event, writer);
                const std::span<const std::byte> payload{buffer_.data(), buffer_.size()};
                core_->expect_echo(name_of<E>, payload);
                if (!this->publish(*event)) {
                    core_->forget_echo(name_of<E>, payload);
                    core_->abandoned(message);
                    return false;
                }
            } else {
                if (!this->publish(*event)) {
                    core_->abandoned(message);
                    return false;
                }
            }
            core_->delivered(message);
            return true;
        }

        detail::bridge_core* core_;
        event_engine::byte_buffer buffer_;
    };

    explicit bridge(bridge_options options = {})
        : core_{std::move(options),
                "nats",
                {detail::event_info{name_of<Out>, topic_of<Out>}...},
                {detail::event_info{name_of<In>, topic_of<In>}...}},
          outbound_{core_}, inbound_{core_}
    {
        (event_engine::detail::report_if<!detail::is_subject_token(name_of<Out>),
                                         rule::event_name_must_be_a_nats_subject_token<Out>>(),
         ...);
        (event_engine::detail::report_if<!detail::is_subject_token(name_of<In>),
                                         rule::event_name_must_be_a_nats_subject_token<In>>(),
         ...);
    }
    bridge(const bridge&) = delete;
    bridge& operator=(const bridge&) = delete;

    /// Registers the bridge's plugins with @p app as `<name>.out` (if it sends) and
    /// `<name>.in` (if it receives). The bridge must outlive app.run(). Returns @p app.
    template <class App>
    App& register_with(App& app, std::string name = "nats")
    {
        core_.rename(name);
        if constexpr (sizeof...(Out) > 0) app.register_plugin(outbound_, name + ".out");
        if constexpr (sizeof...(In) > 0) app.register_plugin(inbound_, name + ".in");
        return app;
    }

    /// The counters so far (thread-safe); final once app.run() has returned.
    [[nodiscard]] bridge_report report() const { return core_.report(); }

    /// The instance name this bridge sends as (bridge_options::instance, or the one it made up).
    /// Any thread, any time (it returned a reference that the bridge's thread wrote at start).
    [[nodiscard]] std::string instance() const { return core_.instance(); }

    [[nodiscard]] const bridge_options& options() const noexcept { return core_.options(); }

private:
    struct leave_on_exit {
        detail::bridge_core& core;
        ~leave_on_exit() { core.leave(); }
    };

    template <class E, class First, class... Rest>
    static constexpr std::size_t index_of()
    {
        if constexpr (std::is_same_v<E, First>) return 0;
        else return 1 + index_of<E, Rest...>();
    }

    detail::bridge_core core_;
    outbound outbound_;
    inbound inbound_;
};

} // namespace event_engine::nats
