#pragma once
// The definitions of message.hpp: included by that header in the header-only mode, compiled
// once into event_engine::nats_compiled otherwise (src/event_engine_nats.cpp;
// nats/detail/config.hpp).

#include "event_engine/nats/detail/message.hpp"

#include <nats/nats.h>

namespace event_engine::nats::detail {

EVENT_ENGINE_NATS_DECL void received_release::operator()(received_message* message) const noexcept
{
    natsMsg_Destroy(reinterpret_cast<natsMsg*>(message));
}

} // namespace event_engine::nats::detail
