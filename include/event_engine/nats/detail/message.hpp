#pragma once
// A message from NATS that passed the bridge's checks, as the typed front (nats/bridge.hpp)
// holds it while it decodes and publishes the event: without libnats' types, so that in the
// compiled mode the front compiles without <nats/nats.h>. The message itself (a natsMsg) is
// opaque here; the back end's *.ipp files reach it through client.hpp's raw_of().

#include "event_engine/nats/detail/config.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace event_engine::nats::detail {

/// A natsMsg, never complete: only a pointer to it is passed around.
struct received_message;

/// Destroys a received message (natsMsg_Destroy).
struct received_release {
    EVENT_ENGINE_NATS_DECL void operator()(received_message* message) const noexcept;
};
using received_ptr = std::unique_ptr<received_message, received_release>;

/// A message that passed every check, for imported event @p index.
struct incoming {
    std::size_t index = 0;
    received_ptr message;
    std::uint64_t stream_sequence = 0; // JetStream: its sequence number in the stream; 0 under core NATS
    std::span<const std::byte> bytes;  // its payload, inside message
    [[nodiscard]] std::span<const std::byte> payload() const noexcept { return bytes; }
};

} // namespace event_engine::nats::detail

#ifndef EVENT_ENGINE_NATS_SEPARATE_COMPILATION
#include "event_engine/nats/detail/message.ipp"
#endif
