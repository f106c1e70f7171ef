#pragma once
// The definitions of callbacks.hpp: included by that header in the header-only mode, compiled
// once into event_engine::nats_compiled otherwise (src/event_engine_nats.cpp).

#include "event_engine/nats/detail/callbacks.hpp"

#include "event_engine/log.hpp"

#include <nats/nats.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace event_engine::nats::detail {

using event_engine::detail::log;

extern "C" EVENT_ENGINE_NATS_DECL void bridge_on_disconnected(natsConnection*, void* closure) noexcept
{
    auto& state = **static_cast<state_holder*>(closure);
    state.connected = false;
    if (state.closing) return;
    ++state.disconnects;
    try {
        log(log_level::warn, "NATS bridge '{}': disconnected from the server; reconnecting", state.name);
    } catch (...) {
    }
}

extern "C" EVENT_ENGINE_NATS_DECL void bridge_on_reconnected(natsConnection* connection, void* closure) noexcept
{
    auto& state = **static_cast<state_holder*>(closure);
    ++state.reconnects;
    state.connected = true;
    state.ever_connected = true;
    try {
        char url[256] = {};
        natsConnection_GetConnectedUrl(connection, url, sizeof url);
        log(log_level::info, "NATS bridge '{}': reconnected to {}", state.name, url);
        const std::scoped_lock lock{state.mutex};
        // What waited for an ack may have been lost with the old connection: due now.
        const auto now = clock::now();
        for (auto& waiting : state.pending) waiting.second.deadline = std::min(waiting.second.deadline, now);
        state.retry_due = true;
    } catch (...) {
    }
}

extern "C" EVENT_ENGINE_NATS_DECL void bridge_on_connected(natsConnection* connection, void* closure) noexcept
{
    auto& state = **static_cast<state_holder*>(closure);
    state.connected = true;
    state.ever_connected = true;
    try {
        char url[256] = {};
        natsConnection_GetConnectedUrl(connection, url, sizeof url);
        log(log_level::info, "NATS bridge '{}': connected to {} (retry_initial_connect)", state.name, url);
    } catch (...) {
    }
}

extern "C" EVENT_ENGINE_NATS_DECL void bridge_on_closed(natsConnection*, void* closure) noexcept
{
    auto* holder = static_cast<state_holder*>(closure);
    (**holder).connected = false;
    delete holder;
}

extern "C" EVENT_ENGINE_NATS_DECL void bridge_on_async_error(natsConnection*, natsSubscription*, natsStatus status,
                                                             void* closure) noexcept
{
    try {
        (**static_cast<state_holder*>(closure)).note_error(status_text(status));
    } catch (...) {
    }
}

extern "C" EVENT_ENGINE_NATS_DECL void bridge_on_publish_ack(natsConnection*, natsSubscription*, natsMsg* raw,
                                                             void* closure) noexcept
{
    const message_ptr reply{raw};
    auto& state = **static_cast<state_holder*>(closure);
    try {
        const std::string_view subject = natsMsg_GetSubject(raw);
        const auto dot = subject.rfind('.');
        const auto token = parse_number(dot == std::string_view::npos ? subject : subject.substr(dot + 1));
        if (!token) return;
        const std::string_view body{natsMsg_GetData(raw), static_cast<std::size_t>(natsMsg_GetDataLength(raw))};
        const bool failed = natsMsg_IsNoResponders(raw) || body.find("\"error\"") != std::string_view::npos ||
                            body.find("\"seq\"") == std::string_view::npos;
        const std::scoped_lock lock{state.mutex};
        auto entry = state.pending.find(*token);
        bool late = false; // the ack of an earlier attempt, resent since
        if (entry == state.pending.end()) {
            const auto alias = state.aliases.find(*token);
            if (alias == state.aliases.end()) return; // answered after the stop, or after the publish was given up
            entry = state.pending.find(alias->second);
            if (entry == state.pending.end()) return;
            late = true;
        }
        if (failed && late) return; // the latest attempt is still awaited
        const bool other_stream = !failed && body.find("\"stream\":\"" + state.stream + "\"") == std::string_view::npos;
        if (other_stream) {
            state.last_error = "JetStream publish: acknowledged by another stream than '" + state.stream +
                               "': " + std::string{body.substr(0, 300)};
            entry->second.deadline = clock::now() + std::chrono::milliseconds{250}; // sent again by maintain()
            state.retry_due = true;
            return;
        }
        if (failed) {
            state.last_error = natsMsg_IsNoResponders(raw) ? std::string{"JetStream publish: no stream answered"}
                                                           : "JetStream publish: " + std::string{body.substr(0, 300)};
            entry->second.deadline = clock::now() + std::chrono::milliseconds{250}; // sent again by maintain()
            state.retry_due = true;
            return;
        }
        ++state.published;
        if (body.find("\"duplicate\":true") != std::string_view::npos) ++state.stored_duplicates;
        state.acknowledged.push_back(std::move(entry->second.message));
        state.forget(entry->second);
        state.pending.erase(entry);
        if (state.failing) { // the stream answers again: what was held back goes now
            state.failing = false;
            const auto now = clock::now();
            for (auto& waiting : state.pending) {
                if (!waiting.second.held) continue;
                waiting.second.held = false;
                waiting.second.deadline = now;
            }
            state.retry_due = true;
        }
        state.changed.notify_all();
    } catch (...) {
    }
}

extern "C" EVENT_ENGINE_NATS_DECL void bridge_on_ack_subscription_complete(void* closure) noexcept
{
    delete static_cast<state_holder*>(closure);
}

} // namespace event_engine::nats::detail
