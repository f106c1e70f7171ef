#pragma once
// What the typed front of a NATS bridge (nats/bridge.hpp) calls in its untyped back end: one
// object per bridge, shared by its two plugin threads (out: sends; in: receives). It holds the
// back end itself (session.hpp: the connection, JetStream, the inbound checks, settlement,
// closing) behind a pointer, so that this header names no libnats type: in the compiled mode
// (nats/detail/config.hpp) a user's file that includes nats/bridge.hpp does not include
// <nats/nats.h>. Definitions in bridge_core.ipp; each forwards to the session.

#include "event_engine/nats/detail/config.hpp"
#include "event_engine/nats/detail/message.hpp"
#include "event_engine/nats/detail/subjects.hpp"
#include "event_engine/nats/options.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace event_engine::detail {
class plugin_runtime;
} // namespace event_engine::detail

namespace event_engine::nats::detail {

class session;

class bridge_core {
public:
    /// A message that passed every check, for imported event `index` (message.hpp).
    using incoming = detail::incoming;

    EVENT_ENGINE_NATS_DECL bridge_core(bridge_options options, std::string name, std::vector<event_info> exported,
                                       std::vector<event_info> imported);
    EVENT_ENGINE_NATS_DECL ~bridge_core();
    bridge_core(const bridge_core&) = delete;
    bridge_core& operator=(const bridge_core&) = delete;

    EVENT_ENGINE_NATS_DECL void rename(std::string name);
    [[nodiscard]] EVENT_ENGINE_NATS_DECL const bridge_options& options() const noexcept;

    /// Connects (and sets up JetStream) once, for whichever of the bridge's threads
    /// comes first; the other waits and sees the same result. Throws event_engine::error.
    EVENT_ENGINE_NATS_DECL void start();

    /// A bridge thread is done; the last one closes the connection.
    EVENT_ENGINE_NATS_DECL void leave();

    // ---- app -> NATS (the out thread) ----

    /// True if @p payload of exported event @p event_name is one this bridge brought in
    /// from NATS (then it is counted and must not be sent back).
    EVENT_ENGINE_NATS_DECL bool take_echo(std::string_view event_name, std::span<const std::byte> payload);

    /// Sends exported event @p index with @p payload (the codec's bytes). Under
    /// JetStream it waits while `max_unacknowledged` publishes are out (backpressure),
    /// until @p stopping says so.
    EVENT_ENGINE_NATS_DECL void send(std::size_t index, std::span<const std::byte> payload,
                                     const std::function<bool()>& stopping);

    /// Core NATS, between events: sends what waited for the first connection, and a periodic
    /// sequence marker when one is due.
    EVENT_ENGINE_NATS_DECL void tend();

    /// An event taken from the application at the stop after drain_timeout: not sent.
    EVENT_ENGINE_NATS_DECL void unsent_at_stop();

    /// JetStream: sends again what the stream did not acknowledge in time or refused.
    EVENT_ENGINE_NATS_DECL void maintain();

    /// The out thread ends: flush (core) or wait up to stop_timeout for the stream's acks (JetStream).
    EVENT_ENGINE_NATS_DECL void finish_outbound();

    // ---- NATS -> app (the in thread) ----

    /// JetStream: acknowledge a message only once the application's subscribers have handled
    /// it, learnt from the delivery marks that @p runtime, the in thread's, publishes.
    EVENT_ENGINE_NATS_DECL void track_delivery(event_engine::detail::plugin_runtime& runtime) noexcept;

    /// The next message to publish into the application, waiting at most @p wait; messages
    /// that fail a check are counted, logged and (JetStream) settled here.
    EVENT_ENGINE_NATS_DECL std::optional<incoming> next(std::chrono::milliseconds wait);

    /// The in thread is about to publish @p payload (encoded again) of @p event_name: the out
    /// thread must not send it back (take_echo()); forget_echo() if it was not published.
    EVENT_ENGINE_NATS_DECL void expect_echo(std::string_view event_name, std::span<const std::byte> payload);
    EVENT_ENGINE_NATS_DECL void forget_echo(std::string_view event_name, std::span<const std::byte> payload);

    /// Published into the application: count it and (JetStream) acknowledge it, at once or once handled.
    EVENT_ENGINE_NATS_DECL void delivered(incoming& message);

    /// Not decodable as @p event_name: counted, logged and (JetStream) terminated.
    EVENT_ENGINE_NATS_DECL void undecodable(incoming& message, std::string_view event_name, std::string_view reason);

    /// Not published because the application is stopping (JetStream: not acked, so delivered again).
    EVENT_ENGINE_NATS_DECL void abandoned(incoming& message);

    /// Logs (rate-limited) what the client dropped since the last look (a slow consumer).
    EVENT_ENGINE_NATS_DECL void note_drops();

    /// The in thread ends: what the client still holds for it is counted abandoned_at_stop.
    EVENT_ENGINE_NATS_DECL void finish_inbound();

    /// The counters now (any thread).
    [[nodiscard]] EVENT_ENGINE_NATS_DECL bridge_report report() const;

    /// The instance name this bridge sends as (any thread).
    [[nodiscard]] EVENT_ENGINE_NATS_DECL std::string instance() const;

    /// What this bridge sends to (@p outbound) or receives from NATS, as name/value pairs: logged
    /// at start and in the manifest.
    [[nodiscard]] EVENT_ENGINE_NATS_DECL std::vector<std::pair<std::string, std::string>> plan(bool outbound) const;

private:
    std::unique_ptr<session> session_;
};

} // namespace event_engine::nats::detail

#ifndef EVENT_ENGINE_NATS_SEPARATE_COMPILATION
#include "event_engine/nats/detail/bridge_core.ipp"
#endif
