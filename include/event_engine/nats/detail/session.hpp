#pragma once
// The untyped back end of a NATS bridge, declared: the connection, JetStream set-up, sending
// with sequence numbers and (JetStream) acknowledgements and retries, receiving and checking
// what arrives, settling it, and the counters. The typed front (nats/bridge.hpp) encodes,
// decodes and publishes into the application, through bridge_core.hpp, which holds one
// session; keeping this part non-template keeps each bridge's own code small.
//
// Its definitions are split by job, in files beside this one: session_connect.ipp (start-up:
// options, connection, the plan), session_jetstream.ipp (stream and consumers), session_send.ipp
// (app -> NATS: sequence numbers, markers, JetStream acks and retries), session_receive.ipp
// (NATS -> app: the inbound checks, sequence gaps, echoes), session_settle.ipp (JetStream acks
// of what the application handled) and session_close.ipp (stopping, the counters).
//
// Threads: the bridge's two plugin threads (out: sends; in: receives) and libnats'
// threads, which call back only for connection events and JetStream publish acks
// (callbacks.hpp). Those callbacks touch only `shared_state`, owned jointly with them,
// and never wait.

#include "event_engine/detail/endpoints/log_throttle.hpp"
#include "event_engine/detail/runtime/plugin_runtime.hpp"
#include "event_engine/errors.hpp"
#include "event_engine/log.hpp"
#include "event_engine/nats/detail/callbacks.hpp"
#include "event_engine/nats/detail/client.hpp"
#include "event_engine/nats/detail/config.hpp"
#include "event_engine/nats/detail/message.hpp"
#include "event_engine/nats/detail/subjects.hpp"
#include "event_engine/nats/options.hpp"

#include <nats/nats.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace event_engine::nats::detail {

using event_engine::detail::log;
using event_engine::detail::log_throttle;

class session {
public:
    session(bridge_options options, std::string name, std::vector<event_info> exported,
            std::vector<event_info> imported)
        : options_{std::move(options)}, exported_{std::move(exported)}, imported_{std::move(imported)},
          state_{std::make_shared<shared_state>()}
    {
        state_->name = std::move(name);
        participants_ = (exported_.empty() ? 0 : 1) + (imported_.empty() ? 0 : 1);
    }
    ~session() { close(); }
    session(const session&) = delete;
    session& operator=(const session&) = delete;

    [[nodiscard]] const std::string& name() const noexcept { return state_->name; }
    void rename(std::string name) { state_->name = std::move(name); }
    [[nodiscard]] const bridge_options& options() const noexcept { return options_; }

    /// Connects (and sets up JetStream) once, for whichever of the bridge's threads
    /// comes first; the other waits and sees the same result. Throws event_engine::error.
    void start();

    /// A bridge thread is done; the last one closes the connection.
    void leave();

    // ---- app -> NATS (the out thread) ----

    /// True if @p payload of exported event @p index is one this bridge brought in
    /// from NATS (then it is counted and must not be sent back).
    bool take_echo(std::string_view event_name, std::span<const std::byte> payload);

    /// Sends exported event @p index with @p payload (the codec's bytes). Under
    /// JetStream it waits while `max_unacknowledged` publishes are out (backpressure),
    /// until @p stopping says so.
    void send(std::size_t index, std::span<const std::byte> payload, const std::function<bool()>& stopping);

    /// Core NATS, called by the out thread between events: sends what waited for the first
    /// connection once there is one, and a periodic sequence marker when one is due.
    void tend();

    /// An event taken from the application at the stop after drain_timeout: not sent.
    void unsent_at_stop();

    /// JetStream: sends again what the stream did not acknowledge in time or refused.
    void maintain();

    /// The out thread ends: flush (core) or wait up to stop_timeout for the stream's
    /// acks (JetStream); what is still unacknowledged is counted unconfirmed_at_stop.
    void finish_outbound();

    // ---- NATS -> app (the in thread) ----

    /// A message that passed every check (message.hpp).
    using incoming = detail::incoming;

    /// JetStream: acknowledge a message only once the application's subscribers have
    /// handled it, learnt from delivery marks (event_engine/detail/runtime/delivery_marks.hpp)
    /// that @p runtime, the in thread's, publishes. Called by the in thread as it starts.
    void track_delivery(event_engine::detail::plugin_runtime& runtime) noexcept;

    /// The next message to publish into the application, waiting at most @p wait.
    /// Messages that fail a check are counted, logged and (JetStream) settled here.
    /// Under JetStream it first acknowledges what the application has handled, and
    /// takes nothing while max_unacknowledged published messages wait for that.
    std::optional<incoming> next(std::chrono::milliseconds wait);

    /// Records that @p message's payload, encoded again, is what the in thread is about to
    /// publish into the application, so that the out thread does not send it back.
    void expect_echo(std::string_view event_name, std::span<const std::byte> payload);
    void forget_echo(std::string_view event_name, std::span<const std::byte> payload);

    /// Published into the application: count it and (JetStream) acknowledge it, at once
    /// when nothing tracks its delivery or nobody receives it, else once a delivery mark
    /// after it has been read by every plugin that receives it (settle_handled()).
    void delivered(incoming& message);

    void undecodable(incoming& message, std::string_view event_name, std::string_view reason);

    /// Not published because the application is stopping (JetStream: not acked, so delivered again).
    void abandoned(incoming&) { ++abandoned_at_stop_; }

    /// The in thread: logs (rate-limited) what the client dropped since the last look (a slow consumer).
    void note_drops();

    /// The in thread ends: what the client still holds for it is counted abandoned_at_stop;
    /// what the application has not confirmed handling stays unacknowledged (unacknowledged_at_stop).
    void finish_inbound();

    /// The counters now.
    [[nodiscard]] bridge_report report() const;

    /// From the options only (what validate() makes instance_ of), so that any thread may ask
    /// while the bridge's own threads start (instance_ is theirs).
    [[nodiscard]] std::string instance() const
    {
        return !options_.instance.empty() ? options_.instance : default_instance();
    }

    /// What this bridge sends to and receives from NATS, as name/value pairs: logged at start
    /// and in the manifest (plugins[].details of `<name>.out`, @p outbound, and `<name>.in`).
    /// Computed from the options, so it is there before the bridge starts too.
    [[nodiscard]] std::vector<std::pair<std::string, std::string>> plan(bool outbound) const;

private:
    // ---- start-up ----

    void validate();

    // Core NATS without bridge_options::instance: "<host>-<pid>", as a subject token.
    static std::string default_instance();

    [[nodiscard]] std::string server_list() const;

    void check_option(natsStatus status, std::string_view what);

    void connect();

    // At start: where the bridge connected, what it sends and what it receives, so that a
    // misconfiguration (another prefix, another stream) shows in the log of both applications.
    void log_plan() const;

    void subscribe_core();

    void subscribe_acks();

    // Retries a JetStream management call that fails while the cluster is not ready yet.
    // All of them share one deadline, setup_timeout after the set-up began (set_up_jetstream()).
    template <class Call>
    void with_setup_retries(std::string_view what, Call&& call)
    {
        const auto deadline = setup_deadline_;
        for (;;) {
            std::string why;
            if (call(why)) return;
            if (clock::now() >= deadline) {
                throw error{"event_engine::nats: bridge '" + name() + "': " + std::string{what} +
                            " failed: the JetStream set-up " + "has taken setup_timeout (" +
                            std::to_string(options_.setup_timeout.count()) + " ms) at " + server_list() + ": " + why};
            }
            std::this_thread::sleep_for(std::chrono::milliseconds{250});
        }
    }

    void set_up_jetstream();

    // An existing stream is used as it is: say so when it is not what the options ask, since
    // the bridge never changes it (an operator's limits stay).
    void warn_if_stream_differs(const jsStreamInfo& info, const std::string& wildcard, const std::string& in_domain);

    /// Whether NATS subject @p subject (no wildcards) matches @p pattern ('*' one token, '>' the rest).
    static bool subject_matches(std::string_view pattern, std::string_view subject);

    // JetStream: one durable push consumer per imported event, `<durable>_<EventName>`, each
    // filtered on that event's subject (nats-server 2.9 allows one filter per consumer), so the
    // server delivers only what this bridge brings in: never its own events, never other
    // applications' events it does not import. All deliver to one subject,
    // `_EE.deliver.<stream>.<durable>`, which one plain subscription reads: one client queue, one
    // drop count, one wait for the in thread. (A wildcard subscription on per-consumer subjects
    // would not do: tried with nats-server 2.9.10, consumers made before the subscription never
    // delivered to it; it sees new interest only on a consumer's literal deliver subject.) Acks go to each message's reply subject
    // (reply_ack()): libnats' natsMsg_Ack() needs a JetStream subscription.
    void set_up_consumers(const std::string& in_domain);

    // A consumer that delivers to this bridge's subject but is not one of its consumers (the
    // application no longer imports that event) keeps delivering into the bridge's subscription
    // (counted not_imported, acknowledged) and holds the stream's messages for nobody: warned
    // about at start, not deleted (the operator decides: nats consumer rm).
    void warn_of_unused_consumers(const std::string& deliver, const std::string& in_domain);

    void update_max_ack_pending(const std::string& consumer, jsConsumerConfig& config);

    static std::string joined(const std::vector<std::string>& items);

    // ---- sending ----

    void stamp(natsMsg* message, std::size_t index, std::uint64_t sequence);

    void send_jetstream(std::size_t index, std::span<const std::byte> payload, const std::function<bool()>& stopping);

    void register_and_publish(std::uint64_t token, message_ptr message, int attempts,
                              std::vector<std::uint64_t> earlier = {});

    // Core NATS: publishes @p message of exported event @p index (@p bytes of payload) with the next sequence number.
    void publish_core(std::size_t index, natsMsg* message, std::size_t bytes);

    // Core NATS before the first connection (retry_initial_connect): the message waits in the
    // bridge, up to reconnect_buffer_bytes (its payload plus held_overhead bytes a message, so
    // that empty events are bounded too); beyond that it counts as publish_failed.
    static constexpr std::size_t held_overhead = 128;
    void hold(std::size_t index, message_ptr message, std::size_t bytes);

    // Sends, in order, what waited for the first connection.
    void flush_held();

    // Core NATS: tells receivers this run's last sequence number, so that they count the
    // events they lost after the last one they received (docs/nats.md, "On the wire").
    void send_marker(bool final);

    void fail_publish(std::size_t index, std::size_t bytes, const std::string& why);

    [[nodiscard]] std::string last_error() const;

    // ---- receiving ----

    std::optional<incoming> check(message_ptr message);

    // Core NATS: a sequence number beyond the next expected one means events were lost
    // on the way (a server died, the client dropped them as a slow consumer). A sequence
    // marker carries the sender's last sequence number: what is beyond the last one seen
    // was lost after it (a final marker also ends the run's record). The first message or
    // marker of a run seen sets where counting starts.
    //
    // At most max_runs runs are remembered; the least recently heard of is forgotten first (a
    // forgotten run just restarts its count). Only a message starts a run's record, never a
    // marker, so markers with made-up runs cannot push real runs out.
    void count_gaps(std::string_view origin, std::string_view run, std::uint64_t sequence, bool marker = false,
                    bool final = false);

    /// The sender's instance, run and sequence number from @p raw's headers, if all are there
    /// and exactly in the form a bridge writes them: the instance one subject token of at most
    /// 128 bytes, the run 16 lower-case hex digits, the number 1 to 2^53 - 1.
    struct sequence_headers {
        std::string_view origin;
        std::string_view run;
        std::uint64_t number = 0;
    };
    static std::optional<sequence_headers> sequence_of(natsMsg* raw);

    // Core NATS: a message of another instance with valid sequence headers counts for its gaps.
    void note_sequence(natsMsg* raw);

    // A sequence marker (<prefix>._ee.marker): not an event, counted in markers_in.
    void take_marker(natsMsg* raw);

    void remember_delivered(std::uint64_t stream_sequence);

    // A delivery mark after each batch of at most this many published messages.
    static constexpr std::size_t mark_every = 64;

    // JetStream: a message published into the application and not acknowledged yet.
    struct awaiting_ack {
        message_ptr message;
        std::uint64_t stream_sequence = 0;
        std::uint64_t mark = 0; // the first delivery mark published after it
    };

    void acknowledge(natsMsg* message, std::uint64_t stream_sequence);

    // JetStream: whether @p raw is a delivery of one of this bridge's consumers: its reply
    // subject is the server's ack subject ($JS.ACK.<stream>.<consumer>.... or, with a domain,
    // $JS.ACK.<domain>.<account hash>.<stream>.<consumer>....), naming this stream and consumer.
    [[nodiscard]] bool from_own_consumer(natsMsg* raw) const;

    // A JetStream ack of @p kind ("+ACK", "-NAK", "+WPI" in progress, "+TERM") on @p message's
    // reply subject. The bridge reads its consumers through a plain subscription (see
    // set_up_consumers()), so it answers the server itself rather than through natsMsg_Ack().
    natsStatus reply_ack(natsMsg* message, const char* kind);

    // A delivery mark after what was published since the last one.
    void mark_published();

    // Acknowledges what every receiving plugin has handled (read a mark published after
    // it); a batch in which a plugin dropped an event is handed back (nak: delivered again
    // at once). What still waits is kept from being delivered again meanwhile (in progress).
    void settle_handled();

    // JetStream: a message that needs no delivery is acked; one that can never be delivered
    // is terminated (never sent again). Core NATS: nothing to do.
    void settle(natsMsg* message, bool done);

    void remember_dropped();

    static std::uint64_t echo_key(std::string_view event_name, std::span<const std::byte> payload);

    // ---- closing ----

    void close_connection();

    void close();

    bridge_options options_;
    std::vector<event_info> exported_;
    std::vector<event_info> imported_;
    std::shared_ptr<shared_state> state_;
    std::string instance_;
    std::string run_;
    std::string stream_;
    std::string durable_;
    std::vector<std::string> subjects_;
    std::vector<std::string> topics_hex_;
    std::string marker_subject_;         // <prefix>._ee.marker
    std::vector<std::string> consumers_; // JetStream: the durable consumers, one per imported event
    std::string reply_prefix_;
    clock::time_point setup_deadline_{}; // JetStream set-up: setup_timeout from its start, for all its steps

    std::mutex start_mutex_;
    bool started_ = false;
    std::optional<std::string> start_failure_;
    int participants_ = 0;
    int left_ = 0;

    natsConnection* connection_ = nullptr;
    natsSubscription* subscription_ = nullptr;
    natsSubscription* ack_subscription_ = nullptr;
    jsCtx* jetstream_ = nullptr;
    std::atomic<bool> subscribed_{false};

    // out thread
    std::uint64_t sequence_ = 0;
    std::uint64_t next_token_ = 0;
    clock::time_point next_due_ = clock::time_point::max();
    // JetStream retries while the stream fails: the wait between probes, from first_probe_wait
    // doubling up to max_probe_wait (so delivery resumes at most that long after the stream
    // answers again); when the failing began (logged once per outage).
    static constexpr std::chrono::milliseconds first_probe_wait{100};
    static constexpr std::chrono::milliseconds max_probe_wait{500};
    std::chrono::milliseconds probe_wait_{first_probe_wait};
    clock::time_point next_probe_{};
    std::optional<clock::time_point> outage_start_;
    log_throttle out_failures_;
    struct held_message { // core NATS, waiting for the first connection
        std::size_t index = 0;
        message_ptr message;
        std::size_t bytes = 0;
    };
    std::deque<held_message> held_;
    std::size_t held_bytes_ = 0;
    clock::time_point next_marker_{};
    static constexpr int marker_repeats = 6; // periodic markers sent again after the sequence last moved
    std::uint64_t marked_sequence_ = 0;      // the sequence number the last periodic marker carried
    int marker_repeats_left_ = 0;
    // in thread
    static constexpr std::size_t max_runs = 4096;
    struct run_record {
        std::uint64_t last = 0;               // the highest sequence number seen
        std::list<std::string>::iterator use; // in runs_by_use_
    };
    std::unordered_map<std::string, run_record> last_sequence_;
    std::list<std::string> runs_by_use_; // most recently heard of first
    std::unordered_set<std::uint64_t> delivered_set_;
    std::deque<std::uint64_t> delivered_order_;
    event_engine::detail::plugin_runtime* marks_ = nullptr; // JetStream with delivery tracking
    std::deque<awaiting_ack> awaiting_;
    std::unordered_set<std::uint64_t> awaiting_set_;
    std::size_t unmarked_ = 0;
    clock::time_point next_progress_{};
    bool subscription_broken_ = false;
    log_throttle undecodable_log_;
    std::array<log_throttle, 4> rejected_log_;
    log_throttle drop_log_;
    log_throttle gap_log_;
    log_throttle tail_log_;
    std::uint64_t handed_over_ = 0;

    std::mutex echo_mutex_;
    std::unordered_multiset<std::uint64_t> echoes_;

    // Counters: written by one thread each, read by report() from any.
    std::atomic<std::uint64_t> events_out_{0};
    std::atomic<std::uint64_t> echoes_skipped_{0};
    std::atomic<std::uint64_t> publish_failed_{0};
    std::atomic<std::uint64_t> unconfirmed_at_stop_{0};
    std::atomic<std::uint64_t> unsent_at_stop_{0};
    std::atomic<std::uint64_t> publish_retries_{0};
    std::atomic<std::uint64_t> messages_in_{0};
    std::atomic<std::uint64_t> events_in_{0};
    std::atomic<std::uint64_t> own_skipped_{0};
    std::atomic<std::uint64_t> not_imported_{0};
    std::atomic<std::uint64_t> bad_messages_{0};
    std::atomic<std::uint64_t> decode_failures_{0};
    std::atomic<std::uint64_t> duplicates_skipped_{0};
    std::atomic<std::uint64_t> abandoned_at_stop_{0};
    std::atomic<std::uint64_t> unacknowledged_at_stop_{0};
    std::atomic<std::uint64_t> sequence_gaps_{0};
    std::atomic<std::uint64_t> slow_consumer_drops_{0};
    std::atomic<std::uint64_t> markers_in_{0};
};

} // namespace event_engine::nats::detail

#ifndef EVENT_ENGINE_NATS_SEPARATE_COMPILATION
#include "event_engine/nats/detail/session_close.ipp"
#include "event_engine/nats/detail/session_connect.ipp"
#include "event_engine/nats/detail/session_jetstream.ipp"
#include "event_engine/nats/detail/session_receive.ipp"
#include "event_engine/nats/detail/session_send.ipp"
#include "event_engine/nats/detail/session_settle.ipp"
#endif
