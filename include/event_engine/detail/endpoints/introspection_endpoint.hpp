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

#include "event_engine/detail/config.hpp"
#include "event_engine/detail/endpoints/log_throttle.hpp"

#include <zmq.hpp>

#include <cstdint>
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
                           const std::optional<std::string>& curve_secret_key);
    ~introspection_endpoint();
    introspection_endpoint(const introspection_endpoint&) = delete;
    introspection_endpoint& operator=(const introspection_endpoint&) = delete;

    [[nodiscard]] const std::string& endpoint() const noexcept { return endpoint_; }
    void set_manifest(std::shared_ptr<const std::string> manifest) { manifest_ = std::move(manifest); }

    [[nodiscard]] zmq::pollitem_t pollitem() noexcept { return {router_.handle(), 0, ZMQ_POLLIN, 0}; }

    /// Answers the requests that have arrived (at most requests_per_turn), never waiting.
    /// Nothing a peer does makes it throw: the application does not depend on this endpoint.
    void serve() noexcept;

    /// Replies that could not be queued (for the tests).
    [[nodiscard]] std::uint64_t replies_dropped() const noexcept { return dropped_.total(); }

private:
    void answer(std::vector<zmq::message_t>& parts);

    void send(std::vector<zmq::message_t>& frames);

    static constexpr std::string_view introspection_commands =
        "the introspection port answers 'plugin_command: manifest' and 'plugin_command: ping', one frame per request";

    zmq::socket_t router_;
    std::string endpoint_;
    std::shared_ptr<const std::string> manifest_;
    log_throttle refused_;
    log_throttle dropped_;
};

} // namespace event_engine::detail

#ifndef EVENT_ENGINE_SEPARATE_COMPILATION
#include "event_engine/detail/endpoints/introspection_endpoint.ipp"
#endif
