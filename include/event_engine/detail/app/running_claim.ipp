#pragma once
// The definitions of running_claim (detail/app/running_claim.hpp): included by that header in the
// header-only mode, compiled once into event_engine::compiled otherwise
// (src/event_engine.cpp; docs/design.md, "Separately compiled mode").

#include "event_engine/detail/app/running_claim.hpp"

#include "event_engine/errors.hpp"

#include <mutex>
#include <set>
#include <string>
#include <string_view>

namespace event_engine::detail {

EVENT_ENGINE_DECL running_claim::running_claim(const void* object, std::string_view type) : object_{object}
{
    auto& claimed = registry();
    const std::scoped_lock lock{claimed.mutex};
    if (!claimed.objects.insert(object).second) {
        // No prefix and no name: plugin_error says "event_engine: plugin '<name>' failed: ".
        throw configuration_error{"this " + std::string{type} +
                                  " object is running already, in another application; one object runs on one "
                                  "thread at a time, so give each application its own object"};
    }
}

EVENT_ENGINE_DECL running_claim::~running_claim()
{
    auto& claimed = registry();
    const std::scoped_lock lock{claimed.mutex};
    claimed.objects.erase(object_);
}

EVENT_ENGINE_DECL running_claim::claims& running_claim::registry()
{
    static claims instance;
    return instance;
}

} // namespace event_engine::detail
