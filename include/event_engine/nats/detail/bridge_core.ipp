#pragma once
// The definitions of bridge_core.hpp: included by that header in the header-only mode,
// compiled once into event_engine::nats_compiled otherwise (src/event_engine_nats.cpp;
// nats/detail/config.hpp). Each forwards to the session (session.hpp).

#include "event_engine/nats/detail/bridge_core.hpp"

#include "event_engine/nats/detail/session.hpp"

#include <memory>
#include <utility>

namespace event_engine::nats::detail {

EVENT_ENGINE_NATS_DECL bridge_core::bridge_core(bridge_options options, std::string name,
                                                std::vector<event_info> exported, std::vector<event_info> imported)
    : session_{std::make_unique<session>(std::move(options), std::move(name), std::move(exported), std::move(imported))}
{}

EVENT_ENGINE_NATS_DECL bridge_core::~bridge_core() = default;

EVENT_ENGINE_NATS_DECL void bridge_core::rename(std::string name) { session_->rename(std::move(name)); }

EVENT_ENGINE_NATS_DECL const bridge_options& bridge_core::options() const noexcept { return session_->options(); }

EVENT_ENGINE_NATS_DECL void bridge_core::start() { session_->start(); }

EVENT_ENGINE_NATS_DECL void bridge_core::leave() { session_->leave(); }

EVENT_ENGINE_NATS_DECL bool bridge_core::take_echo(std::string_view event_name, std::span<const std::byte> payload)
{
    return session_->take_echo(event_name, payload);
}

EVENT_ENGINE_NATS_DECL void bridge_core::send(std::size_t index, std::span<const std::byte> payload,
                                              const std::function<bool()>& stopping)
{
    session_->send(index, payload, stopping);
}

EVENT_ENGINE_NATS_DECL void bridge_core::tend() { session_->tend(); }

EVENT_ENGINE_NATS_DECL void bridge_core::unsent_at_stop() { session_->unsent_at_stop(); }

EVENT_ENGINE_NATS_DECL void bridge_core::maintain() { session_->maintain(); }

EVENT_ENGINE_NATS_DECL void bridge_core::finish_outbound() { session_->finish_outbound(); }

EVENT_ENGINE_NATS_DECL void bridge_core::track_delivery(event_engine::detail::plugin_runtime& runtime) noexcept
{
    session_->track_delivery(runtime);
}

EVENT_ENGINE_NATS_DECL std::optional<bridge_core::incoming> bridge_core::next(std::chrono::milliseconds wait)
{
    return session_->next(wait);
}

EVENT_ENGINE_NATS_DECL void bridge_core::expect_echo(std::string_view event_name, std::span<const std::byte> payload)
{
    session_->expect_echo(event_name, payload);
}

EVENT_ENGINE_NATS_DECL void bridge_core::forget_echo(std::string_view event_name, std::span<const std::byte> payload)
{
    session_->forget_echo(event_name, payload);
}

EVENT_ENGINE_NATS_DECL void bridge_core::delivered(incoming& message) { session_->delivered(message); }

EVENT_ENGINE_NATS_DECL void bridge_core::undecodable(incoming& message, std::string_view event_name,
                                                     std::string_view reason)
{
    session_->undecodable(message, event_name, reason);
}

EVENT_ENGINE_NATS_DECL void bridge_core::abandoned(incoming& message) { session_->abandoned(message); }

EVENT_ENGINE_NATS_DECL void bridge_core::note_drops() { session_->note_drops(); }

EVENT_ENGINE_NATS_DECL void bridge_core::finish_inbound() { session_->finish_inbound(); }

EVENT_ENGINE_NATS_DECL bridge_report bridge_core::report() const { return session_->report(); }

EVENT_ENGINE_NATS_DECL std::string bridge_core::instance() const { return session_->instance(); }

EVENT_ENGINE_NATS_DECL std::vector<std::pair<std::string, std::string>> bridge_core::plan(bool outbound) const
{
    return session_->plan(outbound);
}

} // namespace event_engine::nats::detail
