#pragma once
/// @file
/// The application: configuration, plugin registration and `run()`.
///
///     event_engine::app<events> app{{.publish_port = 5559, .subscribe_port = 5560}};
///     app.register_plugin(producer).register_plugin(counter);
///     event_engine::run_report report = app.run();

#include "event_engine/detail/endpoint.hpp"
#include "event_engine/detail/engine_proxy.hpp"
#include "event_engine/detail/external_bridge.hpp"
#include "event_engine/detail/plugin_runtime.hpp"
#include "event_engine/detail/rules.hpp"
#include "event_engine/detail/start_gate.hpp"
#include "event_engine/detail/type_name.hpp"
#include "event_engine/detail/wake_pipe.hpp"
#include "event_engine/detail/zap_handler.hpp"
#include "event_engine/errors.hpp"
#include "event_engine/event_list.hpp"
#include "event_engine/external_plugin.hpp"
#include "event_engine/log.hpp"
#include "event_engine/plugin.hpp"
#include "event_engine/report.hpp"
#include "event_engine/security.hpp"

#include <zmq.hpp>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <set>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace event_engine {

/// How an application binds and buffers. Every field has a sensible default.
struct app_config {
    /// TCP port where publishers connect (the engine's incoming socket); 0 picks a free port.
    std::uint16_t publish_port = 5559;
    /// TCP port where subscribers connect (the engine's outgoing socket); 0 picks a free port.
    std::uint16_t subscribe_port = 5560;
    /// Interface the TCP ports bind to: an IPv4 or IPv6 literal ("::1"), a host name, or "*"
    /// (all interfaces). Loopback by default; beyond loopback needs `security` (docs/security.md).
    std::string bind_address = "127.0.0.1";
    /// Largest message a peer may send on any TCP endpoint; a larger one drops its connection.
    std::int64_t max_message_size = std::int64_t{16} << 20;
    /// Who may connect to the TCP endpoints (CURVE keys); empty: every local process (loopback only).
    security_config security{};
    /// ZeroMQ high-water mark (messages) of every socket: the bound on queued events per link.
    int high_water_mark = 1000;
    /// Events a plugin may buffer while it waits to publish (see docs/design.md, loss policy).
    std::size_t spill_limit = 100'000;
    /// How long a plugin may take to connect and subscribe before run() fails.
    std::chrono::milliseconds startup_timeout{10'000};
    /// Stop on SIGINT and SIGTERM while run() is running (previous handlers are restored after).
    bool stop_on_signals = false;
};

namespace detail {

/// Refuses to bind beyond loopback without keys, unless explicitly allowed (docs/security.md).
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

// One registered plugin, type-erased: run() needs a list, the plugin's own loop stays typed.
class plugin_slot {
public:
    explicit plugin_slot(std::string name) : name_{std::move(name)} {}
    virtual ~plugin_slot() = default;
    plugin_slot(const plugin_slot&) = delete;
    plugin_slot& operator=(const plugin_slot&) = delete;

    [[nodiscard]] const std::string& name() const noexcept { return name_; }
    void rename(std::string name) { name_ = std::move(name); }
    [[nodiscard]] virtual std::span<const std::string_view> topics() const noexcept = 0;
    /// Binds what must be bound before any thread starts (an external plugin's port).
    virtual std::unique_ptr<external_bridge> prepare(zmq::context_t&, const app_config&, const bind_host&)
    {
        return nullptr;
    }
    virtual void adjust(runtime_settings&) const {}
    /// An external plugin's CURVE client key, if any.
    [[nodiscard]] virtual const std::optional<curve_key>& client_key() const noexcept
    {
        static const std::optional<curve_key> none;
        return none;
    }
    virtual void run(plugin_runtime& runtime, external_bridge* bridge) = 0;

private:
    std::string name_;
};

template <class P>
class typed_plugin_slot final : public plugin_slot {
public:
    typed_plugin_slot(std::string name, P& plugin, std::unique_ptr<P> owned)
        : plugin_slot{std::move(name)}, plugin_{&plugin}, owned_{std::move(owned)} {}

    [[nodiscard]] std::span<const std::string_view> topics() const noexcept override { return topics_; }

    void run(plugin_runtime& runtime, external_bridge*) override
    {
        plugin_access::attach(*plugin_, &runtime);
        struct detach {
            P* plugin;
            ~detach() { plugin_access::attach(*plugin, nullptr); }
        } detach_on_exit{plugin_};
        if constexpr (loop_style<P>) {
            plugin_->run();
        } else {
            run_handler_loop(*plugin_, runtime, typename P::subscriptions{});
        }
    }

private:
    template <class... Es>
    static constexpr auto topic_array(type_list<Es...>) noexcept
    {
        return std::array<std::string_view, sizeof...(Es)>{topic_of<Es>...};
    }
    static constexpr auto topics_ = topic_array(typename P::subscriptions{});

    P* plugin_;
    std::unique_ptr<P> owned_;
};

template <class Subscriptions, class Publications>
class external_plugin_slot final : public plugin_slot {
public:
    using declaration = external_plugin<Subscriptions, Publications>;
    explicit external_plugin_slot(declaration plugin) : plugin_slot{plugin.name()}, plugin_{std::move(plugin)} {}

    [[nodiscard]] std::span<const std::string_view> topics() const noexcept override
    {
        return declaration::subscription_topics;
    }

    std::unique_ptr<external_bridge> prepare(zmq::context_t& context, const app_config& config,
                                             const bind_host& app_host) override
    {
        const auto& options = plugin_.options();
        const bind_host host = options.bind_address.empty() ? app_host : resolve_bind_host(options.bind_address);
        bridge_settings settings;
        settings.name = name();
        settings.endpoint = tcp_endpoint(host, plugin_.port());
        require_keys_beyond_loopback(config, host, "port of external plugin '" + name() + "'", settings.endpoint);
        settings.ipv6 = host.ipv6;
        settings.publish_topics = declaration::publication_topics;
        settings.publish_names = declaration::publication_names;
        settings.timing = {options.connect_timeout, options.disconnect_grace, options.stop_grace};
        if (options.queue_limit < 1) {
            throw configuration_error{"event_engine: external plugin '" + name() + "': queue_limit must be at least 1"};
        }
        settings.queue_limit = static_cast<std::size_t>(options.queue_limit);
        settings.queue_byte_limit = options.queue_byte_limit;
        settings.when_full = options.when_full;
        settings.max_message_size = config.max_message_size;
        if (config.security.server) {
            if (!options.client_key) {
                throw configuration_error{
                    "event_engine: external plugin '" + name() +
                    "' has no client_key, but the application uses CURVE (security.server is set): give it "
                    "external_options::client_key, the public key of its process (docs/security.md)"};
            }
            settings.curve_secret_key = config.security.server->secret_key.z85();
        }
        return std::make_unique<external_bridge>(context, std::move(settings));
    }

    [[nodiscard]] const std::optional<curve_key>& client_key() const noexcept override
    {
        return plugin_.options().client_key;
    }

    void adjust(runtime_settings& settings) const override
    {
        // The bridge holds the plugin's queue itself (bounded exactly); its input only
        // needs to carry events across.
        settings.receive_high_water_mark = 1;
        // While its process publishes into a blocked engine, what is drained for the
        // plugin (the deadlock breaker) is bounded in bytes like its queue.
        settings.spill_byte_limit = plugin_.options().queue_byte_limit;
    }

    void run(plugin_runtime& runtime, external_bridge* bridge) override { bridge->serve(runtime); }

private:
    declaration plugin_;
};

// Wakes a thread (how is the caller's business) and joins it when leaving a scope,
// by return or by exception: a joinable std::thread must never be destroyed.
class thread_joiner {
public:
    template <class Wake>
    thread_joiner(std::thread& thread, Wake wake) : thread_{thread}, wake_{std::move(wake)} {}
    ~thread_joiner()
    {
        wake_();
        if (thread_.joinable()) thread_.join();
    }
    thread_joiner(const thread_joiner&) = delete;
    thread_joiner& operator=(const thread_joiner&) = delete;

private:
    std::thread& thread_;
    std::function<void()> wake_;
};

// Where SIGINT/SIGTERM land while an app with stop_on_signals runs.
inline std::atomic<stop_flag*> signal_target{nullptr};

extern "C" inline void stop_on_signal(int) noexcept
{
    const int saved_errno = errno; // the interrupted code may be about to read it
    if (auto* target = signal_target.load()) target->request();
    errno = saved_errno;
}

class signal_scope {
public:
    explicit signal_scope(stop_flag* target) : active_{target != nullptr}
    {
        if (!active_) return;
        previous_target_ = signal_target.exchange(target);
        struct sigaction action {};
        action.sa_handler = stop_on_signal;
        sigemptyset(&action.sa_mask);
        ::sigaction(SIGINT, &action, &previous_int_);
        ::sigaction(SIGTERM, &action, &previous_term_);
    }
    ~signal_scope()
    {
        if (!active_) return;
        ::sigaction(SIGINT, &previous_int_, nullptr);
        ::sigaction(SIGTERM, &previous_term_, nullptr);
        signal_target.store(previous_target_);
    }
    signal_scope(const signal_scope&) = delete;
    signal_scope& operator=(const signal_scope&) = delete;

private:
    bool active_;
    stop_flag* previous_target_ = nullptr;
    struct sigaction previous_int_ {};
    struct sigaction previous_term_ {};
};

// The compile-time rules a plugin must follow to be registered with an app whose
// events are Events. holds() is the verdict, computed from traits alone; report()
// instantiates the rule:: template of every broken rule, whose static_assert says
// which rule and which types. The two are kept apart (see rules.hpp) so that a
// broken rule is one error on every compiler.

// What any plugin, internal or external, declares must be in the application's list.
template <class Owner, class Subscriptions, class Publications, class Events>
struct declared_events_rules;

template <class Owner, class... Subscribed, class... Published, class... Es>
struct declared_events_rules<Owner, type_list<Subscribed...>, type_list<Published...>, event_list<Es...>> {
    static constexpr bool holds = (contains_v<Subscribed, Es...> && ... && true) &&
                                  (contains_v<Published, Es...> && ... && true);
    static void report() noexcept
    {
        (report_if<!contains_v<Subscribed, Es...>, rule::subscribed_event_must_be_in_event_list<Owner, Subscribed>>(),
         ...);
        (report_if<!contains_v<Published, Es...>, rule::published_event_must_be_in_event_list<Owner, Published>>(),
         ...);
    }
};

template <class P, class Events>
using plugin_events_rules =
    declared_events_rules<P, typename P::subscriptions, typename P::publications, Events>;

// An internal plugin's rules: its events, plus a handler per subscription (or a run()).
template <class P, class Events>
struct plugin_rules {
    template <class E>
    static constexpr bool handled = loop_style<P> || handles<P, E>;

    template <class... Subscribed>
    static constexpr bool has_work(type_list<Subscribed...>)
    {
        return (handled<Subscribed> && ... && true) && (sizeof...(Subscribed) > 0 || loop_style<P>);
    }
    static constexpr bool holds()
    {
        if constexpr (!derives_from_plugin<P>) return false;
        else return plugin_events_rules<P, Events>::holds && has_work(typename P::subscriptions{});
    }

    template <class... Subscribed>
    static void report_work(type_list<Subscribed...>) noexcept
    {
        (report_if<!handled<Subscribed>, rule::handler_style_plugin_needs_a_handler_per_subscription<P, Subscribed>>(),
         ...);
        report_if<sizeof...(Subscribed) == 0 && !loop_style<P>, rule::plugin_needs_run_or_subscriptions<P>>();
    }
    static void report() noexcept
    {
        if constexpr (!derives_from_plugin<P>) {
            report_if<true, rule::plugin_must_derive_from_event_engine_plugin<P>>();
        } else {
            plugin_events_rules<P, Events>::report();
            report_work(typename P::subscriptions{});
        }
    }
};

} // namespace detail

template <class Events>
class app {
    static_assert(detail::always_false<Events>,
                  "event_engine::app<Events>: Events must be an event_engine::event_list<...>");
};

/// An event-based application: the engine plus its plugins.
template <event_type... Es>
class app<event_list<Es...>> {
public:
    using events = event_list<Es...>;
    static_assert(((void)events::valid, true));

    explicit app(app_config config = {}) : config_{std::move(config)} {}
    app(const app&) = delete;
    app& operator=(const app&) = delete;

    /// Registers @p plugin, which the caller keeps alive until run() returns.
    /// @p name (default: the class name) labels its thread, logs and report.
    template <class P>
    app& register_plugin(P& plugin, std::string name = {})
    {
        detail::plugin_rules<P, events>::report();
        if constexpr (detail::plugin_rules<P, events>::holds()) {
            add_slot(std::make_unique<detail::typed_plugin_slot<P>>(default_name<P>(std::move(name)), plugin, nullptr));
        }
        return *this;
    }

    /// Registers @p plugin, which the application owns.
    template <class P>
    app& register_plugin(std::unique_ptr<P> plugin, std::string name = {})
    {
        detail::plugin_rules<P, events>::report();
        if constexpr (detail::plugin_rules<P, events>::holds()) {
            if (!plugin) throw configuration_error{"event_engine: register_plugin() was given a null plugin"};
            P& ref = *plugin;
            add_slot(std::make_unique<detail::typed_plugin_slot<P>>(default_name<P>(std::move(name)), ref,
                                                                    std::move(plugin)));
        }
        return *this;
    }

    /// Registers a temporary plugin, moved into the application.
    template <class P>
        requires(!std::is_lvalue_reference_v<P>)
    app& register_plugin(P&& plugin, std::string name = {})
    {
        return register_plugin(std::make_unique<std::remove_cvref_t<P>>(std::move(plugin)), std::move(name));
    }

    /// Registers an external plugin: its process connects to its port and speaks the
    /// command protocol (docs/protocol.md). It has finished when it sent quit, or when its
    /// process has gone (reported as plugin_outcome::disconnected).
    template <class Subscriptions, class Publications>
    app& register_external_plugin(external_plugin<Subscriptions, Publications> plugin)
    {
        using rules = detail::plugin_events_rules<external_plugin<Subscriptions, Publications>, events>;
        rules::report();
        if constexpr (rules::holds) {
            if (plugin.name().empty()) throw configuration_error{"event_engine: an external plugin needs a name"};
            add_slot(std::make_unique<detail::external_plugin_slot<Subscriptions, Publications>>(std::move(plugin)));
        }
        return *this;
    }

    /// Binds the engine's sockets, starts the proxy and one thread per plugin,
    /// waits until every plugin has finished, then shuts everything down.
    /// @throws bind_error if a port or endpoint cannot be bound;
    /// @throws plugin_error if a plugin threw (after the others were stopped and joined).
    run_report run()
    {
        if (ran_.exchange(true)) throw configuration_error{"event_engine: app::run() can only be called once"};
        if (slots_.empty()) throw configuration_error{"event_engine: run() needs at least one registered plugin"};
        const detail::signal_scope signals{config_.stop_on_signals ? &stop_ : nullptr};

        const detail::bind_host host = detail::resolve_bind_host(config_.bind_address);
        zmq::context_t context;
        run_report report;
        {
            // Authentication first: without a ZAP handler, libzmq lets every CURVE client in.
            std::optional<detail::zap_handler> zap;
            if (config_.security.server) zap.emplace(context, key_table());
            detail::demand_board demand;
            std::vector<const detail::subscriber_demand*> demands;
            for (const auto& slot : slots_) demands.push_back(&demand.add(slot->topics()));
            detail::engine_proxy proxy{context, proxy_settings(host), demand};
            detail::log(log_level::info, "engine listening: publish port {}, subscribe port {}",
                        proxy.publish_endpoint(), proxy.subscribe_endpoint());
            // External plugins' ports, bound before any thread starts (a port in use fails here).
            std::vector<std::unique_ptr<detail::external_bridge>> bridges;
            for (const auto& slot : slots_) {
                bridges.push_back(slot->prepare(context, config_, host));
                if (bridges.back()) {
                    detail::log(log_level::info, "external plugin '{}' listening on {}", slot->name(),
                                bridges.back()->endpoint());
                }
            }
            std::thread proxy_thread{[&proxy] {
                detail::set_thread_name("ee-proxy");
                proxy.run();
            }};
            {
                // However run_plugins() ends (every plugin thread joined), the proxy then
                // forwards what is still queued, counting it, and is joined.
                const detail::thread_joiner join_proxy{proxy_thread, [&proxy] { proxy.finish(); }};
                run_plugins(context, demands, bridges, report);
            }
            for (std::size_t i = 0; i < report.plugins.size(); ++i) {
                report.plugins[i].events_after_end = demand.at(i).after_end;
            }
            report.tcp_events_offered = proxy.tcp_events_offered();
            report.tcp_publishes_refused = proxy.tcp_publishes_refused();
            if (zap) report.connections_refused = zap->refused();
        }
        report.stopped = stop_.requested();
        context.close();
        return finish_report(std::move(report));
    }

    /// Stops a running application: plugins see stop_requested(), blocked receives
    /// and publishes return, and run() returns once all have ended. Thread-safe and
    /// async-signal-safe; a stop before run() makes run() stop right after start-up.
    void stop() noexcept { stop_.request(); }

    [[nodiscard]] const app_config& config() const noexcept { return config_; }

private:
    static constexpr std::array<std::string_view, sizeof...(Es)> app_topics_{topic_of<Es>...};
    static constexpr std::array<std::string_view, sizeof...(Es)> app_names_{name_of<Es>...};

    detail::proxy_settings proxy_settings(const detail::bind_host& host) const
    {
        detail::proxy_settings settings;
        settings.host = host;
        settings.publish_port = config_.publish_port;
        settings.subscribe_port = config_.subscribe_port;
        settings.high_water_mark = config_.high_water_mark;
        settings.max_message_size = config_.max_message_size;
        settings.app_topics = app_topics_;
        const std::string endpoint = detail::tcp_endpoint(host, config_.publish_port);
        detail::require_keys_beyond_loopback(config_, host, "publish and subscribe ports", endpoint);
        if (!config_.security.server) return settings;
        settings.curve_secret_key = config_.security.server->secret_key.z85();
        const auto& publishers = config_.security.publishers;
        for (std::size_t i = 0; i < publishers.size(); ++i) {
            if (publishers[i].events.empty()) continue;
            auto& topics = settings.publisher_topics["publisher/" + std::to_string(i)];
            for (const auto& event : publishers[i].events) topics.push_back(topic_named(event));
        }
        return settings;
    }

    static std::string_view topic_named(std::string_view event)
    {
        for (std::size_t i = 0; i < app_names_.size(); ++i) {
            if (app_names_[i] == event) return app_topics_[i];
        }
        throw configuration_error{"event_engine: security.publishers names the event '" + std::string{event} +
                                  "', which is not in the application's event list"};
    }

    // Who may connect where, for the ZAP handler: one domain per TCP endpoint.
    detail::zap_handler::key_table key_table() const
    {
        detail::zap_handler::key_table table;
        const auto& security = config_.security;
        std::set<std::string> publisher_keys;
        for (const auto& publisher : security.publishers) {
            if (!publisher_keys.insert(publisher.key.z85()).second) {
                throw configuration_error{"event_engine: security.publishers lists the key " + publisher.key.z85() +
                                          " twice; list each publisher once, with all the events it may publish"};
            }
        }
        for (std::size_t i = 0; i < security.publishers.size(); ++i) {
            table["publish"][security.publishers[i].key.z85()] = "publisher/" + std::to_string(i);
        }
        for (std::size_t i = 0; i < security.subscribers.size(); ++i) {
            table["subscribe"][security.subscribers[i].z85()] = "subscriber/" + std::to_string(i);
        }
        for (const auto& slot : slots_) {
            if (const auto& key = slot->client_key()) table["plugin/" + slot->name()][key->z85()] = slot->name();
        }
        return table;
    }

    struct plugin_state {
        std::thread thread;
        plugin_report report;
        std::exception_ptr failure;
    };

    template <class P>
    static std::string default_name(std::string name)
    {
        return name.empty() ? std::string{detail::short_type_name<P>()} : std::move(name);
    }

    void add_slot(std::unique_ptr<detail::plugin_slot> slot)
    {
        // Names label threads, logs and reports, so keep them unique: "Counter", "Counter#2".
        const std::string base = slot->name();
        for (int n = 2; name_taken(slot->name()); ++n) slot->rename(base + "#" + std::to_string(n));
        slots_.push_back(std::move(slot));
    }

    bool name_taken(const std::string& name) const
    {
        for (const auto& slot : slots_) {
            if (slot->name() == name) return true;
        }
        return false;
    }

    void run_plugins(zmq::context_t& context, const std::vector<const detail::subscriber_demand*>& demands,
                     const std::vector<std::unique_ptr<detail::external_bridge>>& bridges, run_report& report)
    {
        detail::runtime_settings settings;
        settings.high_water_mark = config_.high_water_mark;
        settings.spill_limit = config_.spill_limit;
        settings.startup_timeout = config_.startup_timeout;
        detail::start_gate gate{slots_.size()};
        detail::wake_pipe ended;
        std::vector<plugin_state> states(slots_.size());
        std::atomic<std::size_t> running{slots_.size()};

        try {
            for (std::size_t i = 0; i < slots_.size(); ++i) {
                states[i].thread = std::thread{[&, i] {
                    run_one(context, *slots_[i], i, settings, *demands[i], bridges[i].get(), gate, states[i]);
                    running.fetch_sub(1);
                    ended.signal();
                }};
            }
        } catch (...) { // could not start a thread: stop and join the ones that did start
            stop_.request();
            gate.abort();
            for (auto& state : states) {
                if (state.thread.joinable()) state.thread.join();
            }
            throw;
        }

        // Supervise: release the start gate on a stop, return when every plugin has ended.
        // (Once requested, the stop pipe stays readable, so it is watched only until then.)
        while (running.load() > 0) {
            std::vector<zmq::pollitem_t> items{{nullptr, ended.read_fd(), ZMQ_POLLIN, 0}};
            if (!stop_.requested()) items.push_back({nullptr, stop_.fd(), ZMQ_POLLIN, 0});
            detail::poll(items.data(), items.size(), std::chrono::milliseconds{-1});
            ended.drain();
            if (stop_.requested()) gate.abort();
        }
        for (auto& state : states) state.thread.join();

        for (auto& state : states) {
            report.plugins.push_back(std::move(state.report));
            if (state.failure && !first_failure_) first_failure_ = state.failure;
        }
    }

    void run_one(zmq::context_t& context, detail::plugin_slot& slot, std::size_t index,
                 detail::runtime_settings settings, const detail::subscriber_demand& demand,
                 detail::external_bridge* bridge, detail::start_gate& gate, plugin_state& state) noexcept
    {
        detail::set_thread_name(slot.name());
        std::unique_ptr<detail::plugin_runtime> runtime;
        try {
            slot.adjust(settings);
            runtime = std::make_unique<detail::plugin_runtime>(context, slot.name(), index, slot.topics(), settings,
                                                               stop_, &demand);
            if (runtime->probe() && gate.arrive_and_wait()) {
                detail::log(log_level::debug, "plugin '{}' started", slot.name());
                slot.run(*runtime, bridge);
            }
            runtime->close_input();
            state.report = runtime->final_report();
            if (runtime->outcome()) state.report.outcome = *runtime->outcome();
            else if (runtime->finishing() || !stop_.requested()) state.report.outcome = plugin_outcome::finished;
            else state.report.outcome = plugin_outcome::stopped;
        } catch (const std::exception& failure) {
            record_failure(slot, state, runtime.get(), failure.what(), gate);
        } catch (...) {
            record_failure(slot, state, runtime.get(), "a non-standard exception", gate);
        }
        detail::log(log_level::debug, "plugin '{}' ended", slot.name());
    }

    void record_failure(detail::plugin_slot& slot, plugin_state& state, detail::plugin_runtime* runtime,
                        std::string_view what, detail::start_gate& gate) noexcept
    {
        try {
            state.failure = std::current_exception();
            if (runtime != nullptr) {
                runtime->close_input();
                state.report = runtime->final_report();
            }
            state.report.name = slot.name();
            state.report.outcome = plugin_outcome::failed;
            state.report.error = std::string{what};
            detail::log(log_level::error, "plugin '{}' failed: {}; stopping the application", slot.name(), what);
        } catch (...) {
        }
        gate.abort();
        stop_.request();
    }

    run_report finish_report(run_report report)
    {
        if (!first_failure_) return report;
        for (const auto& plugin : report.plugins) {
            if (plugin.outcome == plugin_outcome::failed) {
                throw plugin_error{plugin.name, "event_engine: plugin '" + plugin.name + "' failed: " + plugin.error,
                                   first_failure_, std::move(report)};
            }
        }
        return report;
    }

    app_config config_;
    std::vector<std::unique_ptr<detail::plugin_slot>> slots_;
    detail::stop_flag stop_;
    std::atomic<bool> ran_{false};
    std::exception_ptr first_failure_;
};

} // namespace event_engine
