#pragma once
// One plugin object runs on one thread, also across applications: an app refuses
// a second registration of an object itself, but two apps in one process do not see
// each other's registrations, so a plugin claims its object when it starts running.

#include "event_engine/detail/config.hpp"
#include "event_engine/errors.hpp"

#include <mutex>
#include <set>
#include <string>
#include <string_view>

namespace event_engine::detail {

class running_claim {
public:
    /// Claims @p object for the calling plugin thread.
    /// @throws configuration_error if it is running already, in another application.
    running_claim(const void* object, std::string_view type);
    ~running_claim();
    running_claim(const running_claim&) = delete;
    running_claim& operator=(const running_claim&) = delete;

private:
    struct claims {
        std::mutex mutex;
        std::set<const void*> objects;
    };
    static claims& registry();

    const void* object_;
};

} // namespace event_engine::detail

#ifndef EVENT_ENGINE_SEPARATE_COMPILATION
#include "event_engine/detail/app/running_claim.ipp"
#endif
