#pragma once
// The engine's TCP ports. Events between the application's own plugins do not pass
// here (event_bus.hpp); this thread serves the two ports of processes outside:
//   - the publish port (an XSUB): what a stranger sends is checked (size, topic, who may
//     publish what), decoded once and handed to the subscribers like any event, waiting
//     while one is full (backpressure onto the port);
//   - the subscribe port (an XPUB): the frames of the events its peers' subscriptions
//     match, from the bus's TCP outbox (each encoded once by its publisher). Best effort:
//     ZeroMQ drops what it cannot queue for one slow subscriber, so a stuck remote
//     subscriber delays neither the application nor the other subscribers
//     (docs/security.md says what this port promises).

#include "event_engine/detail/config.hpp"
#include "event_engine/detail/endpoints/endpoint.hpp"
#include "event_engine/detail/endpoints/log_throttle.hpp"
#include "event_engine/detail/runtime/wake_pipe.hpp"

#include <zmq.hpp>

#include <atomic>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace event_engine::detail {

class event_bus; // event_bus.hpp

struct proxy_settings {
    bind_host host;
    std::uint16_t publish_port = 0;
    std::uint16_t subscribe_port = 0;
    int high_water_mark = 1000;
    std::int64_t max_message_size = -1;
    std::optional<std::string> curve_secret_key;  // set: both TCP ports are CURVE servers
    std::span<const std::string_view> app_topics; // what a TCP publisher may send
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
    /// How long the subscribe port may go on sending, when the application ends, what it was
    /// given before (milliseconds): bounded, so a peer that never reads cannot hold run() up.
    static constexpr int subscribe_port_linger_ms = 200;

    engine_proxy(zmq::context_t& context, proxy_settings settings, event_bus& bus);

    ~engine_proxy()
    {
        zmq_socket_monitor(outgoing_tcp_.handle(), nullptr, 0);
        zmq_socket_monitor(incoming_tcp_.handle(), nullptr, 0);
    }
    engine_proxy(const engine_proxy&) = delete;
    engine_proxy& operator=(const engine_proxy&) = delete;

    /// Serves the ports until finish() (then sends what the outbox holds) or until the
    /// context shuts down.
    void run() noexcept;

    /// Every plugin has ended: send what is still in the TCP outbox and return.
    void finish() noexcept;

    [[nodiscard]] const std::string& publish_endpoint() const noexcept { return publish_tcp_; }
    [[nodiscard]] const std::string& subscribe_endpoint() const noexcept { return subscribe_tcp_; }
    /// Events forwarded to the subscribe port while a TCP peer was connected (after run() returned).
    [[nodiscard]] std::uint64_t tcp_events_offered() const noexcept { return tcp_offered_; }
    /// Frames from the publish port that were not forwarded (after run() returned).
    [[nodiscard]] std::uint64_t tcp_publishes_refused() const noexcept { return refused_log_.total(); }

private:
    void forward_until_finished();

    // Sends what the TCP outbox holds to the subscribe port.
    void send_outbox();

    // Reads the subscribe port's (un)subscriptions: which events its peers want (event_bus::want_tcp).
    void read_subscriptions();

    // Hands an admitted frame from the publish port to its subscribers, decoded once.
    void deliver(zmq::message_t& frame);

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

    proxy_settings settings_;
    event_bus* bus_;
    zmq::socket_t incoming_tcp_;
    zmq::socket_t outgoing_tcp_;
    zmq::socket_t tcp_monitor_;
    zmq::socket_t publish_monitor_;
    wake_pipe finish_pipe_;
    std::atomic<bool> finishing_{false};
    std::string publish_tcp_;
    std::string subscribe_tcp_;
    long tcp_peers_ = 0;
    std::map<std::string, int> tcp_subscriptions_; // prefix -> how often subscribed
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
#include "event_engine/detail/endpoints/engine_proxy.ipp"
#endif
