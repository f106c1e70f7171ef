#pragma once
// The definitions of introspection_endpoint (detail/endpoints/introspection_endpoint.hpp): included by that header in the
// header-only mode, compiled once into event_engine::compiled otherwise
// (src/event_engine.cpp; docs/design.md, "Separately compiled mode").

#include "event_engine/detail/endpoints/introspection_endpoint.hpp"

#include "event_engine/detail/endpoints/log_throttle.hpp"
#include "event_engine/detail/endpoints/sockets.hpp"
#include "event_engine/detail/security/zap_handler.hpp"
#include "event_engine/detail/wire/external_protocol.hpp"
#include "event_engine/log.hpp"

#include <zmq.hpp>
#include <zmq_addon.hpp>

#include <algorithm>
#include <cstdint>
#include <exception>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace event_engine::detail {

EVENT_ENGINE_DECL introspection_endpoint::introspection_endpoint(zmq::context_t& context, const std::string& endpoint,
                                                                 bool ipv6,
                                                                 const std::optional<std::string>& curve_secret_key)
    : router_{context, zmq::socket_type::router}
{
    router_.set(zmq::sockopt::router_mandatory, 1);
    router_.set(zmq::sockopt::linger, 0);
    router_.set(zmq::sockopt::sndhwm, unread_replies);
    router_.set(zmq::sockopt::rcvhwm, queued_requests);
    router_.set(zmq::sockopt::maxmsgsize, largest_request);
    router_.set(zmq::sockopt::ipv6, ipv6 ? 1 : 0);
    if (curve_secret_key) make_curve_server(router_, *curve_secret_key, "introspection");
    bind_or_throw(router_, endpoint, "introspection port (app_config::introspection_port)");
    endpoint_ = router_.get(zmq::sockopt::last_endpoint);
}

EVENT_ENGINE_DECL introspection_endpoint::~introspection_endpoint()
{
    refused_.flush(log_level::warn, "introspection port", "requests refused");
    dropped_.flush(log_level::info, "introspection port", "replies dropped");
}

EVENT_ENGINE_DECL void introspection_endpoint::serve() noexcept
{
    try {
        for (int handled = 0; handled < requests_per_turn; ++handled) {
            std::vector<zmq::message_t> parts;
            if (!zmq::recv_multipart(router_, std::back_inserter(parts), zmq::recv_flags::dontwait)) return;
            answer(parts);
        }
    } catch (const std::exception& failure) {
        log(log_level::warn, "introspection port: {}", failure.what());
    }
}

EVENT_ENGINE_DECL void introspection_endpoint::answer(std::vector<zmq::message_t>& parts)
{
    // A REQ client's request arrives as [routing id, empty delimiter, body].
    const auto delimiter =
        std::find_if(parts.begin(), parts.end(), [](const zmq::message_t& m) { return m.size() == 0; });
    const auto body = delimiter != parts.end() ? delimiter + 1 : parts.begin() + 1;
    std::vector<zmq::message_t> reply;
    for (auto it = parts.begin(); it != body && it != parts.end(); ++it) reply.push_back(std::move(*it));
    std::string text;
    if (parts.end() - body == 1 && protocol::parse(frame_view(*body)).what == protocol::kind::manifest) {
        if (manifest_) text = *manifest_;
        else text = std::string{protocol::error_prefix} + std::string{protocol::manifest_unavailable};
    } else if (parts.end() - body == 1 && protocol::parse(frame_view(*body)).what == protocol::kind::ping) {
        text = protocol::pong_reply;
    } else {
        refused_.note(log_level::warn, "introspection port", "requests refused", [] {
            return std::string{"introspection port: refused a request that is not 'plugin_command: manifest' "
                               "or 'plugin_command: ping' (one frame)"};
        });
        text = std::string{protocol::error_prefix} + std::string{introspection_commands};
    }
    reply.emplace_back(text.data(), text.size());
    send(reply);
}

EVENT_ENGINE_DECL void introspection_endpoint::send(std::vector<zmq::message_t>& frames)
{
    bool sent = false;
    try {
        // Never waits: a full queue (or a peer that has gone) fails at the first frame.
        sent = frames.size() >= 2 &&
               static_cast<bool>(router_.send(frames[0], zmq::send_flags::sndmore | zmq::send_flags::dontwait));
        for (std::size_t i = 1; sent && i < frames.size(); ++i) {
            (void)router_.send(frames[i], i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
        }
    } catch (const zmq::error_t& failure) {
        sent = false; // EHOSTUNREACH: the requester has gone
    }
    if (sent) return;
    dropped_.note(log_level::info, "introspection port", "replies dropped", [] {
        return std::string{"introspection port: dropped a reply to a peer that does not read its replies or "
                           "has gone"};
    });
}

} // namespace event_engine::detail
