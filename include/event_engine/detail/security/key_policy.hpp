#pragma once
// The rule that keys are needed beyond loopback (docs/security.md): every port the engine binds
// (publish and subscribe, each external plugin's, introspection) is checked by it before binding.

#include "event_engine/app_config.hpp"
#include "event_engine/detail/endpoints/endpoint.hpp"
#include "event_engine/errors.hpp"

#include <string>
#include <string_view>

namespace event_engine::detail {

/// Refuses to bind beyond loopback without keys, unless explicitly allowed.
inline void require_keys_beyond_loopback(const app_config& config, const bind_host& host, std::string_view role,
                                         const std::string& endpoint)
{
    if (host.loopback || config.security.server || config.security.allow_insecure_non_loopback) return;
    throw configuration_error{
        "event_engine: refusing to bind the " + std::string{role} + " to " + endpoint +
        ", beyond loopback, without keys: anyone who can reach it could read, inject or stop events. Set "
        "app_config::security.server (and the client keys each endpoint accepts; docs/security.md), or set "
        "app_config::security.allow_insecure_non_loopback = true to trust every peer that can reach it"};
}

} // namespace event_engine::detail
