// The NATS bridge's compiled-mode library (CMake target event_engine::nats_compiled): the
// bridge's untyped back end (include/event_engine/nats/detail/*.ipp), compiled once. Programs
// built against it define EVENT_ENGINE_NATS_SEPARATE_COMPILATION (and, through
// event_engine::compiled, EVENT_ENGINE_SEPARATE_COMPILATION) too, so their headers declare
// these functions, never define them again, and never include <nats/nats.h>.
// See docs/nats.md, "Separately compiled mode".

#ifndef EVENT_ENGINE_NATS_SEPARATE_COMPILATION
#define EVENT_ENGINE_NATS_SEPARATE_COMPILATION
#endif

#include "event_engine/nats/detail/bridge_core.ipp"
#include "event_engine/nats/detail/callbacks.ipp"
#include "event_engine/nats/detail/config.hpp"
#include "event_engine/nats/detail/message.ipp"
#include "event_engine/nats/detail/session_close.ipp"
#include "event_engine/nats/detail/session_connect.ipp"
#include "event_engine/nats/detail/session_jetstream.ipp"
#include "event_engine/nats/detail/session_receive.ipp"
#include "event_engine/nats/detail/session_send.ipp"
#include "event_engine/nats/detail/session_settle.ipp"
