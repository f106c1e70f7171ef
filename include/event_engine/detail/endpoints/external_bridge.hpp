#pragma once
// The engine side of one registered external plugin: a ROUTER socket on the
// plugin's TCP port speaking the REQ/REP command protocol (external_protocol.hpp),
// in front of the plugin's ordinary runtime (its inbox on the event bus, which holds
// the plugin's events as frames, encoded once by their publishers).
//
// What it promises against any peer (docs/security.md):
// - it never blocks on the port: replies are sent without waiting. A peer whose
//   reply queue is full is not a REQ client (those have one request out at a
//   time); it is cut off: later requests from it are counted and ignored;
// - ROUTER rather than the original's REP, still wire-compatible with REQ
//   clients: a reply to a client that has gone fails (ROUTER_MANDATORY) instead of
//   being dropped, so the events it carried are kept, and waiting fetches are
//   parked, so other requests are answered meanwhile;
// - it holds the plugin's events in its own queue, bounded in events and bytes
//   (external_options), so the bound is exact and known before the process connects;
// - a connection counts as the plugin's process only once it made a request only
//   the plugin makes (with CURVE, any request: only the plugin's key gets through): a socket
//   monitor plus each request's source descriptor (ZMQ_SRCFD) tell when the
//   plugin's connections are all gone, whatever strangers do on the same port.

#include "event_engine/detail/config.hpp"
#include "event_engine/detail/endpoints/log_throttle.hpp"
#include "event_engine/detail/runtime/plugin_runtime.hpp"
#include "event_engine/external_plugin.hpp"

#include <zmq.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace event_engine::detail {

struct external_timing {
    std::chrono::milliseconds connect_timeout;
    std::chrono::milliseconds connect_warning_interval;
    std::chrono::milliseconds disconnect_grace;
    std::chrono::milliseconds stop_grace;
};

struct bridge_settings {
    std::string name;
    std::string endpoint;
    bool ipv6 = false;
    std::span<const std::string_view> publish_topics;
    std::span<const std::string_view> publish_names;
    external_timing timing{};
    std::size_t queue_limit = 10'000;
    std::size_t queue_byte_limit = std::size_t{64} << 20;
    full_policy when_full = full_policy::wait;
    std::int64_t max_message_size = -1;
    std::optional<std::string> curve_secret_key; // set: CURVE server in ZAP domain "plugin/<name>"
};

class external_bridge {
public:
    /// Replies a peer may leave unread before it is cut off. A REQ client has at most
    /// one, but ZeroMQ learns that a reply was taken only every (hwm + 1) / 2 replies,
    /// so the limit leaves room for that lag: 16 can never cut off a REQ client.
    static constexpr int unread_replies = 16;
    /// Requests of one peer the engine takes in before it reads them.
    static constexpr int queued_requests = 8;
    /// Fetches that may wait at once (one per connection is all a REQ client needs).
    static constexpr std::size_t most_waiting = 1024;
    /// Publish-batch sessions whose last batch is remembered (the least recently used is
    /// forgotten): a client retrying after a lost reply gets its answer, not a second publish.
    static constexpr std::size_t remembered_sessions = 1024;
    /// Bytes of remembered replies, all sessions together (least recently used forgotten
    /// first), and of one reply: a batch whose refusals alternate can have a reply of a
    /// frame per event, and a peer must not make the engine hold that for 1,024 sessions.
    static constexpr std::size_t remembered_bytes = std::size_t{16} << 20;
    static constexpr std::size_t remembered_reply_bytes = std::size_t{1} << 20;
    /// Most runs of refused events one batch may have (each is a frame of its reply).
    static constexpr std::size_t most_refusal_runs = 1000;
    /// Kernel socket buffer per connection, each way (Linux doubles it). Left to the
    /// system, a connection's send buffer grows to tcp_wmem's maximum (4 MiB by
    /// default): a peer that never reads would hold that much of the engine host's
    /// memory and leave a quarter of a million small replies unread before the
    /// engine could notice. Bounded, the cut-off comes within a known number of
    /// replies on every host; 256 KiB cost nothing measurable in benchmark (c).
    static constexpr int socket_buffer_bytes = 256 * 1024;

    /// Binds the plugin's port; called before any thread starts, so a port in use
    /// fails run() at once with a bind_error naming the plugin.
    external_bridge(zmq::context_t& context, bridge_settings settings);

    ~external_bridge() { close_port(); }
    external_bridge(const external_bridge&) = delete;
    external_bridge& operator=(const external_bridge&) = delete;

    [[nodiscard]] const std::string& endpoint() const noexcept { return endpoint_; }

    /// The application's manifest, the reply to `plugin_command: manifest`; set before
    /// the plugin's thread starts (null: the program has no manifest writer).
    void set_manifest(std::shared_ptr<const std::string> manifest) { manifest_ = std::move(manifest); }

    /// Serves the process until it quits, vanishes, never comes, or the app stops, on
    /// @p runtime (the plugin's, kept for the whole call). Whatever it still holds for the
    /// plugin is counted unread there.
    void serve(plugin_runtime& runtime);

private:
    enum class verdict { carry_on, quit };
    enum class sent { ok, gone, full };
    enum class fetch_style { single, batch, acknowledged };

    struct waiter {
        std::string peer;                     // routing id
        int fd = -1;                          // its connection (ZMQ_SRCFD)
        std::vector<zmq::message_t> envelope; // routing id(s) and the REQ delimiter
        fetch_style style = fetch_style::single;
        std::size_t most = 1;
        std::optional<clock::time_point> deadline;
        std::uint64_t have = 0; // fetch: unacknowledged events numbered up to this are not sent again
    };

    // The unacknowledged events a fetch holding events up to @p have gets again: from this index.
    [[nodiscard]] std::size_t first_not_held(std::uint64_t have) const noexcept
    {
        return have < first_unacked_ ? 0 : std::min<std::size_t>(unacked_.size(), have - first_unacked_ + 1);
    }

    static std::uint64_t random_epoch();

    void finish() noexcept;

    void close_port() noexcept;

    [[nodiscard]] std::size_t held_events() const noexcept { return held_.size() + unacked_.size(); }
    [[nodiscard]] bool has_room() const noexcept;

    // Moves the plugin's events from its subscription into the bridge's own queue.
    void fill();

    std::chrono::milliseconds poll_timeout(clock::time_point started, clock::time_point now) const;

    void read_monitor();

    // Waiting for a process is normal (deployments start plugins minutes apart), so it
    // is said, by name and port, at warn level, not failed.
    void warn_not_connected(clock::time_point started, clock::time_point now);

    void start_gone_clock() { gone_deadline_ = deadline_after(clock::now(), settings_.timing.disconnect_grace); }

    // The connection @p fd made a request only the plugin's process makes. Its
    // connect and disconnect were read from the monitor before the request, so a
    // connection that is already gone is known as such and does not count as alive.
    void count_as_plugin(int fd);

    verdict handle(std::vector<zmq::message_t>& parts);

    void park(waiter w);

    // Whether a reply that already holds @p count events of @p bytes may take one of
    // @p next bytes more: the first always, then up to max_message_size in all, so a
    // reply a client leaves unread holds at most that much.
    [[nodiscard]] bool reply_has_room(std::size_t count, std::size_t bytes, std::size_t next) const noexcept;

    void publish(const std::string& peer, std::vector<zmq::message_t>& envelope, zmq::message_t& event, int fd);

    // `publish_batch <session> <sequence>` and its events (docs/protocol.md): each event checked
    // and published in order; the reply says how many were accepted and why any was refused.
    void publish_batch(const std::string& peer, std::vector<zmq::message_t>& envelope,
                       std::span<zmq::message_t> frames);

    [[nodiscard]] bool may_publish(std::string_view event) const noexcept;
    [[nodiscard]] std::string undeclared_topic_reason() const;

    // Forgets (counts as received) the fetched events numbered up to @p last.
    void acknowledge(std::uint64_t last);

    void expire_waiters(clock::time_point now);

    // Hands held events to waiting clients, oldest request first.
    void serve_waiters();

    void serve_at_most_once(waiter& w);

    // At least once: what was sent before and not acknowledged goes first, with its
    // old numbers; new events get the next numbers and stay until acknowledged.
    void serve_fetch(waiter& w);

    zmq::message_t fetch_header(std::uint64_t first) const;

    sent send(const std::string& peer, std::vector<zmq::message_t>& envelope, std::vector<zmq::message_t>& frames);

    sent cut_off(const std::string& peer);

    void reply(const std::string& peer, std::vector<zmq::message_t>& envelope, std::string_view text);

    void reject(std::vector<zmq::message_t>& envelope, const std::string& reason, const std::string& why);

    template <class MakeLine>
    void note(const std::string& reason, MakeLine&& make_line)
    {
        logs_[reason].note(log_level::warn, "external plugin '" + name_ + "'", reason,
                           std::forward<MakeLine>(make_line));
    }

    bridge_settings settings_;
    const std::string& name_;
    plugin_runtime* runtime_ = nullptr; // while serve() runs
    zmq::socket_t router_;
    zmq::socket_t monitor_;
    std::string endpoint_;
    std::deque<waiter> waiters_;
    // Events held for the plugin: fetched but unacknowledged (numbered from
    // first_unacked_), then not yet sent. held_bytes_ counts both.
    std::deque<zmq::message_t> unacked_;
    std::deque<zmq::message_t> held_;
    std::size_t held_bytes_ = 0;
    std::uint64_t first_unacked_ = 1;
    std::uint64_t epoch_;
    std::set<std::string> cut_off_;
    std::deque<std::string> cut_off_order_;
    std::set<int> live_connections_;   // from the monitor
    std::set<int> plugin_connections_; // live ones that made a plugin's request
    bool ever_connected_ = false;
    std::optional<clock::time_point> next_connect_warning_;
    std::optional<clock::time_point> gone_deadline_;
    std::optional<clock::time_point> stop_deadline_;
    std::map<std::string, log_throttle> logs_;
    std::shared_ptr<const std::string> manifest_;

    // The last batch of each publish-batch session and its reply, for a retry.
    struct remembered_batch {
        std::uint64_t sequence = 0;
        std::vector<std::string> reply;
        bool accepted_any = false;
        std::uint64_t last_used = 0;
    };
    std::map<std::string, remembered_batch, std::less<>> batches_;
    std::uint64_t batch_clock_ = 0;
    std::size_t batches_bytes_ = 0; // of the remembered replies

    void remember_batch(std::string_view session, std::uint64_t sequence, const std::vector<std::string>& reply,
                        bool accepted_any);
};

} // namespace event_engine::detail

#ifndef EVENT_ENGINE_SEPARATE_COMPILATION
#include "event_engine/detail/endpoints/external_bridge.ipp"
#endif
