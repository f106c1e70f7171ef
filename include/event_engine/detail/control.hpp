#pragma once
// Topics the engine uses for itself (start-up probes). No application topic may
// start with this prefix or be a prefix of it; event_list checks that.

#include <string_view>

namespace event_engine::detail {

inline constexpr std::string_view control_prefix = "\xff" "event_engine/";

} // namespace event_engine::detail
