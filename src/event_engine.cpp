// The compiled mode's library (CMake target event_engine::compiled): the untyped
// back end, compiled once. Programs built against it define
// EVENT_ENGINE_SEPARATE_COMPILATION too (the target's interface does that), so
// their headers declare these functions and never define them again.
// See docs/design.md, "Separately compiled mode".

#ifndef EVENT_ENGINE_SEPARATE_COMPILATION
#define EVENT_ENGINE_SEPARATE_COMPILATION
#endif

#include "event_engine/codec.ipp"
#include "event_engine/detail/app/app_core.ipp"
#include "event_engine/detail/app/app_runner.ipp"
#include "event_engine/detail/app/running_claim.ipp"
#include "event_engine/detail/config.hpp"
#include "event_engine/detail/endpoints/engine_proxy.ipp"
#include "event_engine/detail/endpoints/external_bridge.ipp"
#include "event_engine/detail/endpoints/introspection_endpoint.ipp"
#include "event_engine/detail/endpoints/log_throttle.ipp"
#include "event_engine/detail/runtime/plugin_runtime.ipp"
#include "event_engine/detail/runtime/plugin_slot.ipp"
#include "event_engine/detail/security/zap_handler.ipp"
#include "event_engine/format.ipp"
#include "event_engine/log.ipp"
