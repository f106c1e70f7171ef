#pragma once
/// @file
/// External plugins: separate processes, in any language, that talk to the engine
/// over TCP with the command protocol of docs/protocol.md. Their subscriptions and
/// publications are compile-time, like an internal plugin's; their name and port
/// are run-time values, e.g. from the application's configuration:
///
///     using py_plugin = event_engine::external_plugin<event_engine::subscribes<TypeA, TypeB>,
///                                                     event_engine::publishes<TypeC>>;
///     app.register_external_plugin(py_plugin{"pyplugin", config.pyplugin_port});

#include "event_engine/event.hpp"
#include "event_engine/plugin.hpp"
#include "event_engine/security.hpp"

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace event_engine {

/// What happens to events for an external plugin whose queue is full.
enum class full_policy {
    wait, ///< publishers of those events wait (backpressure: nothing is lost, a slow process slows them)
    drop, ///< new events for it are dropped and counted (events_dropped); nobody waits for it
};

/// How the engine treats an external plugin's process.
struct external_options {
    /// How long run() waits for the process to connect before failing; 0 (the default, as
    /// the original engine): as long as it takes, warning every connect_warning_interval.
    std::chrono::milliseconds connect_timeout{0};
    /// How long all its connections may stay dropped before it counts as gone.
    std::chrono::milliseconds disconnect_grace{3'000};
    /// After stop(), how long its port stays open so the process can still quit.
    std::chrono::milliseconds stop_grace{1'000};
    /// Most events the engine holds for the process (queued, and fetched but not acknowledged).
    int queue_limit = 10'000;
    /// Most bytes the engine holds for the process, likewise (one event may go past it).
    std::size_t queue_byte_limit = std::size_t{64} << 20;
    /// What happens to events for it past either limit.
    full_policy when_full = full_policy::wait;
    /// With app_config::security.server set: the only client key its port accepts (required then).
    std::optional<curve_key> client_key{};
    /// Interface its port binds to; empty: the application's bind_address.
    std::string bind_address{};
    /// How often a plugin whose process has not connected yet is warned about, by name
    /// and port (0: never). Last, so that older positional initializers keep their meaning.
    std::chrono::milliseconds connect_warning_interval{10'000};
};

namespace detail {
/// Whether external_plugin<Subscriptions, Publications> is declared right: subscribes<...>
/// then publishes<...>, of event types each listed once.
template <class Subscriptions, class Publications>
inline constexpr bool valid_external_plugin_v = false;
template <class... Subscribed, class... Published>
inline constexpr bool valid_external_plugin_v<subscribes<Subscribed...>, publishes<Published...>> =
    valid_declaration_v<type_list<Subscribed...>, type_list<Published...>>;
} // namespace detail

/// external_plugin<Subscriptions, Publications> with arguments that are not
/// subscribes<...> then publishes<...>: reported
/// (rule::external_plugin_takes_subscribes_then_publishes), and otherwise read as meant.
template <class Subscriptions, class Publications = publishes<>>
class external_plugin
    : public external_plugin<typename detail::declared_lists<Subscriptions, Publications>::subscriptions,
                             typename detail::declared_lists<Subscriptions, Publications>::publications> {
    static_assert(sizeof(rule::external_plugin_takes_subscribes_then_publishes<Subscriptions, Publications>) > 0);
    using declared = external_plugin<typename detail::declared_lists<Subscriptions, Publications>::subscriptions,
                                     typename detail::declared_lists<Subscriptions, Publications>::publications>;

public:
    using declared::declared;
};

/// An external plugin's declaration: what it subscribes to and may publish (compile
/// time), its name and TCP port (run time).
template <class... Subscribed, class... Published>
class external_plugin<subscribes<Subscribed...>, publishes<Published...>> {
    // Reported here, where it is declared: a type that is not an event type, an event listed twice.
    static_assert(
        sizeof(detail::event_pack_report<rule::subscribes_must_list_each_event_once, external_plugin, Subscribed...>) >
        0);
    static_assert(
        sizeof(detail::event_pack_report<rule::publishes_must_list_each_event_once, external_plugin, Published...>) >
        0);

public:
    using subscriptions = detail::type_list<Subscribed...>;
    using publications = detail::type_list<Published...>;

    external_plugin(std::string name, std::uint16_t port, external_options options = {})
        : name_{std::move(name)}, port_{port}, options_{std::move(options)}
    {}

    [[nodiscard]] const std::string& name() const noexcept { return name_; }
    [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
    [[nodiscard]] const external_options& options() const noexcept { return options_; }

    /// Topics the engine queues for the process.
    static constexpr std::array<std::string_view, sizeof...(Subscribed)> subscription_topics{topic_of<Subscribed>...};
    /// Topics the process may publish; anything else is refused with an error reply.
    static constexpr std::array<std::string_view, sizeof...(Published)> publication_topics{topic_of<Published>...};
    static constexpr std::array<std::string_view, sizeof...(Published)> publication_names{name_of<Published>...};

private:
    std::string name_;
    std::uint16_t port_;
    external_options options_;
};

} // namespace event_engine
