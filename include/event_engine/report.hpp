#pragma once
/// @file
/// What `run()` tells you about a run: per plugin, how it ended and what it
/// moved. Drops are counted here, never hidden (docs/design.md, "Loss policy").

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace event_engine {

/// How a plugin's run ended.
enum class plugin_outcome {
    finished, ///< returned from run() or called finish() on its own
    stopped,  ///< ended because the application was stopping
    failed,   ///< threw, or could not start
    disconnected, ///< an external plugin's process went away without sending quit
};

/// One plugin's account of the run.
struct plugin_report {
    std::string name;
    plugin_outcome outcome = plugin_outcome::finished;
    std::string error;                 ///< why it failed or disconnected (empty otherwise)
    std::uint64_t events_received = 0; ///< events handed to the plugin, decoded
    std::uint64_t events_published = 0;
    std::uint64_t decode_failures = 0;  ///< events whose payload its codec rejected (logged)
    std::uint64_t events_dropped = 0;   ///< events discarded: spill limit reached, or a publish abandoned at stop
    std::uint64_t events_unread = 0;    ///< events still queued for the plugin when it ended
    std::uint64_t publish_waits = 0;    ///< publishes that had to wait for a subscriber (backpressure)
    std::uint64_t requests_rejected = 0; ///< external plugins: malformed or refused requests (answered with an error)
    std::size_t max_spilled = 0;        ///< most events buffered while blocked in publish
};

/// The whole run's account.
struct run_report {
    std::vector<plugin_report> plugins;
    bool stopped = false;                    ///< ended by stop(), a signal or a failure
    std::uint64_t tcp_subscriber_drops = 0;  ///< events not delivered to unregistered TCP subscribers (full)

    /// The report of the plugin named @p name, or nullptr.
    [[nodiscard]] const plugin_report* find(std::string_view name) const noexcept
    {
        for (const auto& plugin : plugins) {
            if (plugin.name == name) return &plugin;
        }
        return nullptr;
    }

    /// Every event dropped anywhere in the run.
    [[nodiscard]] std::uint64_t total_dropped() const noexcept
    {
        std::uint64_t total = tcp_subscriber_drops;
        for (const auto& plugin : plugins) total += plugin.events_dropped;
        return total;
    }
};

} // namespace event_engine
