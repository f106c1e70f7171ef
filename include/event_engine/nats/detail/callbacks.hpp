#pragma once
// What libnats' threads share with the bridge, and the callbacks they run: connection events
// (disconnected, reconnected, connected, closed, asynchronous errors) and JetStream publish
// acks. The callbacks touch only shared_state and never wait. Part of the NATS bridge's
// untyped back end (session.hpp); definitions in callbacks.ipp.

#include "event_engine/nats/detail/client.hpp"
#include "event_engine/nats/detail/config.hpp"

#include <nats/nats.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace event_engine::nats::detail {

using clock = std::chrono::steady_clock;

// What libnats' callback threads share with the bridge. They hold it through a
// heap-allocated shared_ptr that the last callback of its source releases (the
// connection's closed callback, the ack subscription's completion callback), so
// it outlives every callback whatever the order of destruction.
struct shared_state {
    std::string name;
    std::atomic<std::uint64_t> disconnects{0};
    std::atomic<std::uint64_t> reconnects{0};
    std::atomic<bool> connected{false};
    std::atomic<bool> ever_connected{false}; // connected at least once (libnats takes headers only then)
    std::atomic<bool> closing{false};        // the bridge closes the connection: not a disconnect
    std::atomic<std::uint64_t> published{0};
    std::atomic<std::uint64_t> stored_duplicates{0};

    std::mutex mutex;
    std::condition_variable changed; // an ack arrived
    std::string last_error;

    // JetStream publishes waiting for the stream's ack, by reply token.
    struct pending_publish {
        message_ptr message;
        clock::time_point deadline;
        int attempts = 1;
        bool held = false;                  // held back while the stream fails (one probe at a time is resent)
        std::vector<std::uint64_t> earlier; // the reply tokens of its earlier attempts
    };
    std::map<std::uint64_t, pending_publish> pending;
    // An earlier attempt's token -> the token it is pending under now: a late ack of any
    // attempt completes the publish (the stream stored it; a resend is a duplicate).
    std::unordered_map<std::uint64_t, std::uint64_t> aliases;
    std::string stream; // the stream that must answer ("stream" in the ack)

    void forget(const pending_publish& entry)
    {
        for (const auto token : entry.earlier) aliases.erase(token);
    }
    // Acknowledged messages, destroyed by the out thread (which may still be inside the
    // publish call that sent one when its ack comes back).
    std::vector<message_ptr> acknowledged;
    std::atomic<bool> retry_due{false};
    // The stream failed to acknowledge (an error reply, or none in time) and no ack has come
    // since: maintain() resends one publish at a time, backing off, until one is acknowledged.
    bool failing = false;

    void note_error(std::string text)
    {
        const std::scoped_lock lock{mutex};
        last_error = std::move(text);
    }
};

using state_holder = std::shared_ptr<shared_state>;

extern "C" EVENT_ENGINE_NATS_DECL void bridge_on_disconnected(natsConnection*, void* closure) noexcept;

extern "C" EVENT_ENGINE_NATS_DECL void bridge_on_reconnected(natsConnection* connection, void* closure) noexcept;

extern "C" EVENT_ENGINE_NATS_DECL void bridge_on_connected(natsConnection* connection, void* closure) noexcept;

// The last callback of a connection: releases the callbacks' share of the state.
extern "C" EVENT_ENGINE_NATS_DECL void bridge_on_closed(natsConnection*, void* closure) noexcept;

extern "C" EVENT_ENGINE_NATS_DECL void bridge_on_async_error(natsConnection*, natsSubscription*, natsStatus status,
                                                             void* closure) noexcept;

// A JetStream publish ack (or error, or "no responders") arrived on the bridge's inbox.
extern "C" EVENT_ENGINE_NATS_DECL void bridge_on_publish_ack(natsConnection*, natsSubscription*, natsMsg* raw,
                                                             void* closure) noexcept;

// The last callback of the ack subscription: releases its share of the state.
extern "C" EVENT_ENGINE_NATS_DECL void bridge_on_ack_subscription_complete(void* closure) noexcept;

} // namespace event_engine::nats::detail

#ifndef EVENT_ENGINE_NATS_SEPARATE_COMPILATION
#include "event_engine/nats/detail/callbacks.ipp"
#endif
