#pragma once
// The introspection endpoint (app_config::introspection_port): a ROUTER socket on
// which any client (a REQ socket) asks for the application's manifest, in an
// application with or without external plugins (docs/protocol.md, "Manifest").
//
// Served by run()'s supervising thread, which otherwise only waits for plugins to
// end. What it promises against any peer (docs/security.md):
// - it never blocks: requests are read and replies sent without waiting; a reply
//   that cannot be queued at once (a peer that does not read its replies, or has
//   gone) is dropped and counted in the log, never waited for;
// - it holds little: at most `queued_requests` requests of at most
//   `largest_request` bytes per connection (a larger message drops the connection
//   before it is buffered), and `unread_replies` replies per connection;
// - with keys, it is a CURVE server in ZAP domain "introspection": only clients
//   whose keys the application lists somewhere (publishers, subscribers, external
//   plugins) may read the manifest.

#include "event_engine/detail/external_protocol.hpp"
#include "event_engine/detail/log_throttle.hpp"
#include "event_engine/detail/sockets.hpp"
#include "event_engine/detail/zap_handler.hpp"
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

class introspection_endpoint {
public:
    /// Requests one connection may have queued in the engine before it reads them.
    static constexpr int queued_requests = 8;
    /// Replies one connection may leave unread; past them, replies to it are dropped.
    static constexpr int unread_replies = 4;
    /// Longest request: commands are short; a longer message drops its connection. (Not
    /// smaller: ZeroMQ applies it to the CURVE handshake's messages too, of a few hundred bytes.)
    static constexpr std::int64_t largest_request = 4096;
    /// Requests read per call of serve(): the supervisor's other duties come in between.
    static constexpr int requests_per_turn = 64;

    introspection_endpoint(zmq::context_t& context, const std::string& endpoint, bool ipv6,
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
    ~introspection_endpoint()
    {
        refused_.flush(log_level::warn, "introspection port", "requests refused");
        dropped_.flush(log_level::info, "introspection port", "replies dropped");
    }
    introspection_endpoint(const introspection_endpoint&) = delete;
    introspection_endpoint& operator=(const introspection_endpoint&) = delete;

    [[nodiscard]] const std::string& endpoint() const noexcept { return endpoint_; }
    void set_manifest(std::shared_ptr<const std::string> manifest) { manifest_ = std::move(manifest); }

    [[nodiscard]] zmq::pollitem_t pollitem() noexcept { return {router_.handle(), 0, ZMQ_POLLIN, 0}; }

    /// Answers the requests that have arrived (at most requests_per_turn), never waiting.
    /// Nothing a peer does makes it throw: the application does not depend on this endpoint.
    void serve() noexcept
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

    /// Replies that could not be queued (for the tests).
    [[nodiscard]] std::uint64_t replies_dropped() const noexcept { return dropped_.total(); }

private:
    void answer(std::vector<zmq::message_t>& parts)
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

    void send(std::vector<zmq::message_t>& frames)
    {
        bool sent = false;
        try {
            // Never waits: a full queue (or a peer that has gone) fails at the first frame.
            sent = frames.size() >= 2 && static_cast<bool>(router_.send(frames[0], zmq::send_flags::sndmore |
                                                                                     zmq::send_flags::dontwait));
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

    static constexpr std::string_view introspection_commands =
        "the introspection port answers 'plugin_command: manifest' and 'plugin_command: ping', one frame per request";

    zmq::socket_t router_;
    std::string endpoint_;
    std::shared_ptr<const std::string> manifest_;
    log_throttle refused_;
    log_throttle dropped_;
};

} // namespace event_engine::detail
