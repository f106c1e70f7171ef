#pragma once
// The definitions of log_throttle (detail/endpoints/log_throttle.hpp): included by that header in
// the header-only mode, compiled once into event_engine::compiled otherwise
// (src/event_engine.cpp; docs/design.md, "Separately compiled mode").

#include "event_engine/detail/endpoints/log_throttle.hpp"
#include "event_engine/log.hpp"

#include <string_view>

namespace event_engine::detail {

EVENT_ENGINE_DECL void log_throttle::summarize(log_level level, std::string_view who, std::string_view what,
                                               clock::time_point now)
{
    log(level, "{}: {} more {} (not logged one by one; {} in all so far)", who, suppressed_, what, total_);
    suppressed_ = 0;
    last_summary_ = now;
}

} // namespace event_engine::detail
