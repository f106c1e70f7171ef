#pragma once
// The engine's proxy. Publishers connect to XSUB sockets: plugins in-process, and
// unregistered processes on the TCP publish port (a socket of its own, so what a
// stranger sends can be checked: size, topic, who may publish what). Frames go
// out through an XPUB for in-process subscribers and another for the TCP
// subscribe port.
//
// The in-process XPUB never drops (it waits: backpressure). The TCP XPUB is best
// effort: ZeroMQ drops what it cannot queue for one slow subscriber, so a stuck
// remote subscriber delays neither the application nor the other subscribers
// (docs/security.md says what this port promises).
//
// Plugins that also subscribe publish to a priority XSUB, drained before each
// small batch from the others: work in progress (answers to events) moves on
// before new work is admitted. Without it, a fast source and a relay's answers
// would be forwarded at equal rates, and the relay's backlog would drift upward
// for as long as the source runs (docs/design.md, loss policy).

#include "event_engine/detail/config.hpp"
#include "event_engine/detail/endpoint.hpp"
#include "event_engine/detail/log_throttle.hpp"
#include "event_engine/detail/proxy_demand.hpp"
#include "event_engine/detail/wake_pipe.hpp"

#include <zmq.hpp>

#include <atomic>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace event_engine::detail {

struct proxy_settings {
    bind_host host;
    std::uint16_t publish_port = 0;
    std::uint16_t subscribe_port = 0;
    int high_water_mark = 1000;
    std::int64_t max_message_size = -1;
    std::optional<std::string> curve_secret_key; // set: both TCP ports are CURVE servers
    std::span<const std::string_view> app_topics;   // what a TCP publisher may send
    // CURVE user id -> topics that publisher may send (absent: any of app_topics).
    std::map<std::string, std::vector<std::string_view>> publisher_topics;
    // CURVE user id -> that publisher's public key (Z85). Not sent to anyone (a confirmation
    // names no publisher); kept for the settings' users.
    std::map<std::string, std::string> publisher_keys;
};

class engine_proxy {
public:
    /// Longest subscription message (a topic, or a topic and the start of a payload) a
    /// TCP subscriber may send; a longer one drops its connection.
    static constexpr int max_subscription_size = 1024;
    /// Most publish-port connections whose refusals are counted at once (docs/protocol.md,
    /// "Confirming a publish"); beyond it a refusal is counted as untracked and confirmations
    /// from connections without a count answer "?".
    static constexpr std::size_t max_tracked_publishers = 4096;

    engine_proxy(zmq::context_t& context, proxy_settings settings, demand_board& demand);

    ~engine_proxy()
    {
        zmq_socket_monitor(outgoing_tcp_.handle(), nullptr, 0);
        zmq_socket_monitor(incoming_tcp_.handle(), nullptr, 0);
    }
    engine_proxy(const engine_proxy&) = delete;
    engine_proxy& operator=(const engine_proxy&) = delete;

    /// Forwards until finish() (then forwards what is left, counting it) or until
    /// the context shuts down.
    void run() noexcept;

    /// Every plugin has ended: forward what is still queued (so it is counted) and return.
    void finish() noexcept;

    [[nodiscard]] const std::string& publish_endpoint() const noexcept { return publish_tcp_; }
    [[nodiscard]] const std::string& subscribe_endpoint() const noexcept { return subscribe_tcp_; }
    /// Events forwarded to the subscribe port while a TCP peer was connected (after run() returned).
    [[nodiscard]] std::uint64_t tcp_events_offered() const noexcept { return tcp_offered_; }
    /// Frames from the publish port that were not forwarded (after run() returned).
    [[nodiscard]] std::uint64_t tcp_publishes_refused() const noexcept { return refused_log_.total(); }

private:
    void forward_until_finished();

    // Forwards until every input is empty (poll is the expensive part), the
    // priority input first, new work in small batches in between.
    void forward_all(zmq::message_t& frame, bool with_tcp);

    void read_monitor();

    // Forgets the refusal counts of publish-port connections that have closed (their file
    // descriptor may be reused by a new connection). Read before every use of the counts.
    void read_publish_monitor();

    // Counts a refusal against the connection that sent @p frame.
    void count_refusal(const zmq::message_t& frame, const char* why);

    // A frame from the TCP publish port: an event of the application's list, from a
    // publisher allowed to publish it, never one of the engine's control frames.
    bool admit_from_tcp(const zmq::message_t& frame);

    // A publisher's confirmation request ("<control>confirm/<token>"): answered upstream with
    // that connection's refusals since its previous one, neither forwarded nor counted as
    // refused. False if @p frame is not one.
    bool answer_confirm(const zmq::message_t& frame);

    // Sends @p notice upstream on the publish port: to every publisher connected there
    // (a PUB socket discards it; an XPUB reads it; one whose queue is full misses it). Never blocks.
    void tell_publishers(const std::string& notice);

    void forward(zmq::message_t& frame);

    void note_control(std::string_view control);

    proxy_settings settings_;
    demand_board* demand_;
    zmq::socket_t incoming_;
    zmq::socket_t incoming_priority_;
    zmq::socket_t incoming_tcp_;
    zmq::socket_t outgoing_;
    zmq::socket_t outgoing_tcp_;
    zmq::socket_t tcp_monitor_;
    zmq::socket_t publish_monitor_;
    wake_pipe finish_pipe_;
    std::atomic<bool> finishing_{false};
    std::string publish_tcp_;
    std::string subscribe_tcp_;
    long tcp_peers_ = 0;
    std::uint64_t tcp_offered_ = 0;
    log_throttle refused_log_;
    // The refusals of one publish-port connection since its last confirm.
    struct connection_refusals {
        std::string user_id; // its CURVE user id: a reused descriptor with another is a new connection
        std::uint64_t count = 0;
        const char* first_reason = "";
        bool uncertain = false; // made while refusals went untracked: its count may be short
    };
    // By the connection's file descriptor (libzmq's ZMQ_SRCFD: the only per-connection
    // identity a frame carries; "Peer-Address" is the IP address alone).
    std::unordered_map<int, connection_refusals> refusals_;
    // Refusals that had no room in refusals_ (or no descriptor) since the publish port last
    // had no connection: while non-zero, a connection without an exact count is answered "?".
    std::uint64_t untracked_refusals_ = 0;
    long publish_connections_ = 0;
};

} // namespace event_engine::detail

#ifndef EVENT_ENGINE_SEPARATE_COMPILATION
#include "event_engine/detail/impl/engine_proxy_impl.hpp"
#endif
