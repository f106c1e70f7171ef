#pragma once
// One registered plugin, type-erased, as run() sees it: an internal plugin's typed
// loop, or an external plugin's port and bridge.

#include "event_engine/app_config.hpp"
#include "event_engine/detail/app/app_description.hpp"
#include "event_engine/detail/app/running_claim.hpp"
#include "event_engine/detail/config.hpp"
#include "event_engine/detail/meta/type_name.hpp"
#include "event_engine/detail/runtime/plugin_runtime.hpp"
#include "event_engine/errors.hpp"
#include "event_engine/external_plugin.hpp"
#include "event_engine/plugin.hpp"
#include "event_engine/security.hpp"

#include <zmq.hpp>

#include <array>
#include <concepts>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace event_engine::detail {

struct bind_host;      // endpoint.hpp
class external_bridge; // external_bridge.hpp: the back end's, built and served out of line

/// Deletes a bridge where its class is complete (the back end), so that the typed front,
/// which only passes bridges on, need not see external_bridge.hpp.
struct external_bridge_deleter {
    EVENT_ENGINE_DECL void operator()(external_bridge* bridge) const noexcept;
};
using external_bridge_ptr = std::unique_ptr<external_bridge, external_bridge_deleter>;

/// An external plugin's bridge, bound to its port (before any thread starts).
EVENT_ENGINE_DECL external_bridge_ptr make_external_bridge(zmq::context_t& context, const app_config& config,
                                                           const bind_host& app_host, const std::string& name,
                                                           std::uint16_t port, const external_options& options,
                                                           std::span<const std::string_view> publication_topics,
                                                           std::span<const std::string_view> publication_names);

/// Runs an external plugin's bridge on the plugin's thread until the plugin has finished.
EVENT_ENGINE_DECL void serve_external_plugin(external_bridge& bridge, plugin_runtime& runtime);

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
    /// The topics of the events it may publish.
    [[nodiscard]] virtual std::span<const std::string_view> published_topics() const noexcept = 0;
    /// Whether it is an external plugin (its process receives frames: its events are encoded).
    [[nodiscard]] virtual bool external() const noexcept { return false; }
    /// Whether it asks to learn when its events were handled (delivery_marks.hpp): an
    /// internal plugin with a member `bool tracks_delivery() const` that says so.
    [[nodiscard]] virtual bool tracks_delivery() const { return false; }
    /// Who it is and what it subscribes to and publishes, for the manifest.
    [[nodiscard]] virtual plugin_description describe() const = 0;
    /// Binds what must be bound before any thread starts (an external plugin's port).
    virtual external_bridge_ptr prepare(zmq::context_t&, const app_config&, const bind_host&) { return nullptr; }
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
        : plugin_slot{std::move(name)}, plugin_{&plugin}, owned_{std::move(owned)}
    {}

    [[nodiscard]] std::span<const std::string_view> topics() const noexcept override { return topics_; }
    [[nodiscard]] std::span<const std::string_view> published_topics() const noexcept override
    {
        return published_topics_;
    }
    [[nodiscard]] bool tracks_delivery() const override
    {
        // clang-format off
        if constexpr (requires(const P& p) { { p.tracks_delivery() } -> std::convertible_to<bool>; }) {
            // clang-format on
            return plugin_->tracks_delivery();
        } else {
            return false;
        }
    }
    [[nodiscard]] plugin_description describe() const override
    {
        plugin_description described{
            name(), false, event_names(typename P::subscriptions{}), event_names(typename P::publications{}), 0, {}};
        // clang-format off
        if constexpr (requires(const P& p) {
                          { p.manifest_details() } -> std::convertible_to<std::vector<std::pair<std::string, std::string>>>;
                      }) {
            // clang-format on
            described.details = plugin_->manifest_details();
        }
        return described;
    }

    void run(plugin_runtime& runtime, external_bridge*) override
    {
        const running_claim claim{plugin_, short_type_name<P>()};
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
    static constexpr auto published_topics_ = topic_array(typename P::publications{});

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
    [[nodiscard]] std::span<const std::string_view> published_topics() const noexcept override
    {
        return declaration::publication_topics;
    }
    [[nodiscard]] bool external() const noexcept override { return true; }
    [[nodiscard]] plugin_description describe() const override
    {
        return {name(),
                true,
                event_names(typename declaration::subscriptions{}),
                event_names(typename declaration::publications{}),
                plugin_.port(),
                {}};
    }

    external_bridge_ptr prepare(zmq::context_t& context, const app_config& config, const bind_host& app_host) override
    {
        return make_external_bridge(context, config, app_host, name(), plugin_.port(), plugin_.options(),
                                    declaration::publication_topics, declaration::publication_names);
    }

    [[nodiscard]] const std::optional<curve_key>& client_key() const noexcept override
    {
        return plugin_.options().client_key;
    }

    void adjust(runtime_settings& settings) const override
    {
        // The bridge holds the plugin's queue itself (bounded exactly); its inbox carries
        // events across, high_water_mark of them, as ZeroMQ's pipes to it did.
        // While its process publishes into a blocked engine, what is drained for the
        // plugin (the deadlock breaker) is bounded in bytes like its queue.
        settings.spill_byte_limit = plugin_.options().queue_byte_limit;
    }

    void run(plugin_runtime& runtime, external_bridge* bridge) override { serve_external_plugin(*bridge, runtime); }

private:
    declaration plugin_;
};

} // namespace event_engine::detail

#ifndef EVENT_ENGINE_SEPARATE_COMPILATION
#include "event_engine/detail/runtime/plugin_slot.ipp"
#endif
