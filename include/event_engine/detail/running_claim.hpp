#pragma once
// One plugin object runs on one thread, also across applications: an app refuses
// a second registration of an object itself, but two apps in one process do not see
// each other's registrations, so a plugin claims its object when it starts running.

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
    running_claim(const void* object, std::string_view type) : object_{object}
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
    ~running_claim()
    {
        auto& claimed = registry();
        const std::scoped_lock lock{claimed.mutex};
        claimed.objects.erase(object_);
    }
    running_claim(const running_claim&) = delete;
    running_claim& operator=(const running_claim&) = delete;

private:
    struct claims {
        std::mutex mutex;
        std::set<const void*> objects;
    };
    static claims& registry()
    {
        static claims instance;
        return instance;
    }

    const void* object_;
};

} // namespace event_engine::detail
