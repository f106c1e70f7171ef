#pragma once
/// @file
/// What can go wrong, as exception types. `run()` throws these after it has
/// stopped every plugin, joined every thread and closed every socket.

#include "event_engine/report.hpp"

#include <exception>
#include <stdexcept>
#include <string>
#include <utility>

namespace event_engine {

/// Base of every error the library throws.
class error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// A payload could not be turned back into its event type. Codecs throw it; the
/// engine catches it, reports the event type and plugin, and carries on.
class decode_error : public error {
public:
    using error::error;
};

/// The engine could not bind one of its endpoints (port in use, bad address).
class bind_error : public error {
public:
    bind_error(std::string endpoint, const std::string& what) : error{what}, endpoint_{std::move(endpoint)} {}
    /// The endpoint that failed, e.g. "tcp://127.0.0.1:5559".
    [[nodiscard]] const std::string& endpoint() const noexcept { return endpoint_; }

private:
    std::string endpoint_;
};

/// The application's configuration or plugin set cannot run (e.g. an empty name).
class configuration_error : public error {
public:
    using error::error;
};

/// A plugin failed: it threw, or could not start. `run()` stopped the others,
/// joined every thread and closed every socket before throwing this.
class plugin_error : public error {
public:
    plugin_error(std::string plugin, const std::string& what, std::exception_ptr cause, run_report report)
        : error{what}, plugin_{std::move(plugin)}, cause_{std::move(cause)}, report_{std::move(report)}
    {}
    /// The failing plugin's name (the first to fail, if several did).
    [[nodiscard]] const std::string& plugin() const noexcept { return plugin_; }
    /// What the plugin threw, for `std::rethrow_exception`; null when it did not throw.
    [[nodiscard]] const std::exception_ptr& cause() const noexcept { return cause_; }
    /// The account of the whole run, every plugin included.
    [[nodiscard]] const run_report& report() const noexcept { return report_; }

private:
    std::string plugin_;
    std::exception_ptr cause_;
    run_report report_;
};

} // namespace event_engine
