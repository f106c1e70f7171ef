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
    finished,     ///< returned from run() or called finish() on its own
    stopped,      ///< ended because the application was stopping
    failed,       ///< threw, or could not start
    disconnected, ///< an external plugin's process went away without sending quit
};

/// One plugin's account of the run. For a plugin that subscribes, every event
/// published on its topics while it was subscribed is in exactly one of
/// events_received, decode_failures, events_dropped, events_unread and
/// events_after_end (docs/design.md, "Every event accounted for").
struct plugin_report {
    std::string name;
    plugin_outcome outcome = plugin_outcome::finished;
    // clang-format off
    std::string error;                 ///< why it failed or disconnected (empty otherwise)
    std::uint64_t events_received = 0; ///< events handed to the plugin, decoded (external: sent, or acknowledged with fetch)
    std::uint64_t events_published = 0;
    std::uint64_t decode_failures = 0;  ///< events whose payload its codec rejected (logged)
    std::uint64_t events_dropped = 0;   ///< events for it discarded: spill limit reached, or its queue full under full_policy::drop
    std::uint64_t events_unread = 0;    ///< events queued for it when it ended (external: also fetched but never acknowledged)
    std::uint64_t events_after_end = 0; ///< events published on its topics after it had ended (never delivered)
    std::uint64_t publishes_abandoned = 0; ///< its publishes not sent because the application was stopping (publish() returned false)
    std::uint64_t publish_waits = 0;    ///< publishes that had to wait for a subscriber (backpressure)
    std::uint64_t requests_rejected = 0; ///< external plugins: malformed or refused requests (answered with an error)
    std::uint64_t requests_ignored = 0;  ///< external plugins: requests from cut-off peers (not answered)
    std::uint64_t peers_cut_off = 0;     ///< external plugins: connections cut off for not reading their replies
    std::uint64_t events_refused = 0;    ///< external plugins: events of publish batches refused one by one (undeclared topic, empty, stopping), each said in its batch's reply
    std::uint64_t batches_repeated = 0;  ///< external plugins: publish batches sent again after a lost reply: answered as before, not published again
    std::size_t max_spilled = 0;        ///< most events buffered while blocked in publish
    // clang-format on
};

// run_report keeps a deprecated member (below). Its implicit constructors and assignments
// copy that member too, and g++ and clang++ warn about that in every program that copies a
// report unless the warning is off where the struct is defined; a program that names the
// member itself is still warned, at that line.
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif

/// The whole run's account.
struct run_report {
    std::vector<plugin_report> plugins;
    // clang-format off
    bool stopped = false;                   ///< ended by stop(), a signal or a failure
    std::uint64_t tcp_events_offered = 0;   ///< events sent to the subscribe port, each matched by a subscription of a TCP peer there (best effort: see docs/security.md)
    std::uint64_t tcp_events_dropped = 0;   ///< events a subscription of the subscribe port matched that were not sent: the engine's queue to the port was full
    std::uint64_t tcp_publishes_refused = 0; ///< frames from the publish port not forwarded (unknown topic, control topic, publisher not allowed)
    std::uint64_t connections_refused = 0;  ///< CURVE clients refused for their key by the engine's ZAP handler (clients without CURVE fail earlier, uncounted)
    // clang-format on

    /// Deprecated: kept for one minor version after 0.1.0, then removed (CHANGELOG.md,
    /// "Deprecated"; the policy is in docs/testing.md). Until 2026-11-27 the subscribe
    /// port blocked every TCP subscriber when one was full, and this counted the events it
    /// therefore sent to none of them. Since then the port is best effort: it never holds an
    /// event back (ZeroMQ drops, for the full subscriber only, what does not fit, and does not
    /// say which), so what this counted is always 0, and losses at one subscriber cannot be
    /// counted at all. It stays 0. What the port was given is `tcp_events_offered`.
    // clang-format off
    [[deprecated("run_report::tcp_subscriber_drops is always 0 since the subscribe port became best effort: "
                 "events the port was given are counted in run_report::tcp_events_offered, and what one TCP "
                 "subscriber missed cannot be counted (docs/protocol.md, CHANGELOG.md)")]]
    std::uint64_t tcp_subscriber_drops = 0;
    // clang-format on

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
        std::uint64_t total = 0;
        for (const auto& plugin : plugins) total += plugin.events_dropped;
        return total;
    }
};

#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

} // namespace event_engine
