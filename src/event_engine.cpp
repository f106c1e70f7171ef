// The compiled mode's library (CMake target event_engine::compiled): the untyped
// back end, compiled once. Programs built against it define
// EVENT_ENGINE_SEPARATE_COMPILATION too (the target's interface does that), so
// their headers declare these functions and never define them again.
// See docs/design.md, "Separately compiled mode".

#ifndef EVENT_ENGINE_SEPARATE_COMPILATION
#define EVENT_ENGINE_SEPARATE_COMPILATION
#endif

#include "event_engine/detail/config.hpp"
#include "event_engine/detail/impl/app_core_impl.hpp"
#include "event_engine/detail/impl/codec_impl.hpp"
#include "event_engine/detail/impl/app_runner_impl.hpp"
#include "event_engine/detail/impl/plugin_runtime_impl.hpp"
#include "event_engine/detail/impl/plugin_slot_impl.hpp"
#include "event_engine/detail/impl/zap_handler_impl.hpp"
#include "event_engine/detail/impl/engine_proxy_impl.hpp"
#include "event_engine/detail/impl/introspection_endpoint_impl.hpp"
#include "event_engine/detail/impl/external_bridge_impl.hpp"
#include "event_engine/detail/impl/log_impl.hpp"
#include "event_engine/detail/impl/log_throttle_impl.hpp"
#include "event_engine/detail/impl/format_impl.hpp"
#include "event_engine/detail/impl/running_claim_impl.hpp"
