#pragma once
// The engine's ZAP handler (ZeroMQ RFC 27): libzmq asks it, for every CURVE
// handshake on the application's TCP endpoints, whether the client's public key
// may connect. Each endpoint has its own ZAP domain ("publish", "subscribe",
// "plugin/<name>") and its own list of keys; the handler answers with a user id
// that later messages carry ("User-Id" metadata), which the proxy uses to limit
// a publisher to its events.
//
// It must be bound before any CURVE endpoint is: without a handler, libzmq lets
// every CURVE client in.

#include "event_engine/detail/config.hpp"
#include "event_engine/detail/endpoints/log_throttle.hpp"
#include "event_engine/detail/runtime/wake_pipe.hpp"

#include <zmq.hpp>

#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <thread>

namespace event_engine::detail {

class zap_handler {
public:
    /// Public key (Z85) -> user id, per ZAP domain.
    using key_table = std::map<std::string, std::map<std::string, std::string>>;

    zap_handler(zmq::context_t& context, key_table table);
    ~zap_handler();
    zap_handler(const zap_handler&) = delete;
    zap_handler& operator=(const zap_handler&) = delete;

    [[nodiscard]] std::uint64_t refused() const noexcept { return refused_.load(); }

private:
    void serve() noexcept;

    void answer_one();

    static std::string describe(const std::string& domain);

    // What a refusal summary counts, naming the endpoint: "connections to the publish port refused".
    static std::string refused_what(const std::string& domain);

    key_table table_;
    zmq::socket_t socket_;
    wake_pipe stop_;
    std::atomic<std::uint64_t> refused_{0};
    std::uint64_t publish_connections_ = 0; // the handler's thread only
    std::map<std::string, log_throttle> refusals_;
    std::thread thread_;
};

/// Makes @p socket a CURVE server in ZAP domain @p domain.
EVENT_ENGINE_DECL void make_curve_server(zmq::socket_t& socket, const std::string& secret_key_z85,
                                         const std::string& domain);

} // namespace event_engine::detail

#ifndef EVENT_ENGINE_SEPARATE_COMPILATION
#include "event_engine/detail/security/zap_handler.ipp"
#endif
