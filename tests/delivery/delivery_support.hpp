#pragma once
// Shared by the delivery tests (issue 22): exact accounting checks against run_report, and
// a background run of an application. Public API only, so that these tests run on any
// transport behind app<> and plugin<>.

#include <event_engine/event_engine.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

namespace delivery_tests {

// Every event published on a subscriber's topics while it was subscribed ends in exactly one
// counter of its report (docs/design.md, "Every event accounted for"); @p published is the
// number of events published on the topics @p name subscribes to, counted by the publishers
// themselves (publish() returned true).
inline void check_accounted(const event_engine::run_report& report, std::string_view name, std::uint64_t published)
{
    const auto* plugin = report.find(name);
    INFO("subscriber '" << name << "'");
    REQUIRE(plugin != nullptr);
    INFO("received " << plugin->events_received << ", decode failures " << plugin->decode_failures << ", dropped "
                     << plugin->events_dropped << ", unread " << plugin->events_unread << ", after end "
                     << plugin->events_after_end << ", published on its topics " << published);
    CHECK(plugin->events_received + plugin->decode_failures + plugin->events_dropped + plugin->events_unread +
              plugin->events_after_end ==
          published);
    CHECK(plugin->decode_failures == 0);
}

// As check_accounted, and nothing lost or left behind: every one was handed to the plugin.
inline void check_all_received(const event_engine::run_report& report, std::string_view name, std::uint64_t published)
{
    check_accounted(report, name, published);
    const auto* plugin = report.find(name);
    REQUIRE(plugin != nullptr);
    INFO("subscriber '" << name << "'");
    CHECK(plugin->events_received == published);
    CHECK(plugin->events_dropped == 0);
    CHECK(plugin->events_unread == 0);
    CHECK(plugin->events_after_end == 0);
}

// What the engine counted as published by @p name equals what the plugin counted itself.
inline void check_published(const event_engine::run_report& report, std::string_view name, std::uint64_t published,
                            std::uint64_t abandoned = 0)
{
    const auto* plugin = report.find(name);
    INFO("publisher '" << name << "'");
    REQUIRE(plugin != nullptr);
    CHECK(plugin->events_published == published);
    CHECK(plugin->publishes_abandoned == abandoned);
}

// Runs app.run() on a thread: the report, or the exception run() threw (a plugin_error
// carries the report too).
class background_run {
public:
    template <class App>
    explicit background_run(App& application)
        : thread_{[this, &application] {
              try {
                  report_ = application.run();
              } catch (...) {
                  failure_ = std::current_exception();
              }
              done_ = true;
          }}
    {}
    background_run(const background_run&) = delete;
    background_run& operator=(const background_run&) = delete;
    ~background_run()
    {
        if (thread_.joinable()) thread_.join();
    }

    [[nodiscard]] bool done() const noexcept { return done_; }

    // Joins; the report, from run() or from the plugin_error it threw; rethrows anything else.
    event_engine::run_report join(std::optional<std::string>* failed_plugin = nullptr)
    {
        thread_.join();
        if (!failure_) return report_;
        try {
            std::rethrow_exception(failure_);
        } catch (const event_engine::plugin_error& failure) {
            if (failed_plugin != nullptr) *failed_plugin = failure.plugin();
            return failure.report();
        }
    }

private:
    event_engine::run_report report_;
    std::exception_ptr failure_;
    std::atomic<bool> done_{false};
    std::thread thread_;
};

} // namespace delivery_tests
