#pragma once
/// @file
/// Run-time settings of a NATS bridge and what it reports. See docs/nats.md.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace event_engine::nats {

/// How events travel through NATS.
enum class delivery {
    core,      ///< core NATS: at most once; losses are counted (sequence gaps, slow-consumer drops)
    jetstream, ///< JetStream: at least once; a stream per prefix, a durable consumer per application
};

/// Where and how a bridge connects, and how it names and delivers events.
/// Every field has a default except what a JetStream bridge must name (`instance`).
struct bridge_options {
    /// NATS server URLs, e.g. "nats://10.0.0.5:4222" or "tls://hub.example.org:4222".
    /// The client picks one and fails over to the others (and to servers the cluster announces).
    /// Give every node of a cluster: at start the client knows only these.
    std::vector<std::string> servers{"nats://127.0.0.1:4222"};
    /// Events travel on subjects `<subject_prefix>.<EventName>`; the bridge receives `<subject_prefix>.>`.
    std::string subject_prefix = "event_engine";
    /// This application's name in the NATS world: the origin of what it sends (so that it never
    /// receives its own events back) and, under JetStream, its durable consumer. Empty: under core
    /// NATS "<host>-<pid>"; JetStream needs a name that stays the same across restarts.
    std::string instance;
    delivery mode = delivery::core;

    /// JetStream: the stream holding `<subject_prefix>.>`; empty: the prefix with '.' as '_'. Created
    /// (file storage, no limits, `stream_replicas` copies) if it does not exist; an existing one is used as it is
    /// (a warning when its replicas or subjects differ; an error when it lacks an imported event's subject).
    std::string stream;
    /// JetStream: copies of each stored event in a cluster (1, or 3 to survive a node).
    int stream_replicas = 1;
    /// JetStream: the domain whose stream and consumer this bridge uses (the `jetstream { domain }` of
    /// the servers that hold them), e.g. "hub" for a bridge on a leaf node whose stream is at the hub;
    /// empty: the JetStream of the servers this bridge connects to. One subject token.
    std::string jetstream_domain;
    /// JetStream: the stem of the durable consumers' names, `<durable>_<EventName>` (one per imported
    /// event, filtered on its subject); empty: `instance`.
    std::string durable;
    /// JetStream: how long the server waits for this application's ack before delivering an event again.
    std::chrono::milliseconds ack_wait{30'000};
    /// JetStream: how long a publish waits for the stream's ack before it is sent again (same message id,
    /// so the stream stores it once).
    std::chrono::milliseconds publish_ack_timeout{2'000};
    /// JetStream: attempts per event before it counts as publish_failed; 0: keep trying while the bridge runs.
    int publish_attempts = 0;
    /// JetStream, both ways, at most this many unacknowledged: events sent and not yet acknowledged by
    /// the stream (then the bridge waits: backpressure into the application), and messages received,
    /// published into the application and not yet handled by its plugins (each consumer's MaxAckPending;
    /// then the bridge takes no more until they are handled).
    int max_unacknowledged = 1024;
    /// JetStream: how long creating or finding the stream and consumer may keep failing at start-up
    /// (a new cluster elects its JetStream leader first).
    std::chrono::milliseconds setup_timeout{30'000};

    /// Credentials (any that are set are used): user and password, a token, a `.creds` file (JWT + NKey).
    std::string user;
    std::string password;
    std::string token;
    std::string credentials_file;
    /// TLS: on when any of these is set or a URL starts with tls://. `ca_file` verifies the server,
    /// `cert_file` + `key_file` identify this client (mutual TLS).
    bool tls = false;
    std::string ca_file;
    std::string cert_file;
    std::string key_file;

    /// How long connecting to one server may take.
    std::chrono::milliseconds connect_timeout{2'000};
    /// false: run() fails with an error naming the URLs when no server answers at start.
    /// true: the bridge starts anyway and keeps trying, as after a lost connection; what it is to send
    /// meanwhile waits (core NATS: in the bridge, up to `reconnect_buffer_bytes` counting each event's
    /// payload plus 128 bytes, beyond that
    /// counted in publish_failed; JetStream: in the application, while the bridge's set-up waits for the
    /// stream, up to `setup_timeout`) and goes out in order once connected.
    bool retry_initial_connect = false;
    /// Reconnection attempts per server after a lost connection; -1: forever.
    int max_reconnect_attempts = -1;
    std::chrono::milliseconds reconnect_wait{250};
    /// Bytes the client buffers while reconnecting (and, with `retry_initial_connect`, the bytes the bridge
    /// holds until its first connection: payloads plus 128 a message); a publish beyond it fails and is counted.
    int reconnect_buffer_bytes = 64 << 20;
    /// true: each message is written to the server at once (lowest latency: about 0.2 ms a round trip
    /// between two applications on one machine). false: the client batches writes in the background
    /// (more latency, more throughput; docs/benchmarks.md (e)).
    bool send_asap = true;
    /// Longest a bridge thread may block writing to a server's socket (then the connection is treated as lost).
    std::chrono::milliseconds write_deadline{2'000};
    /// Messages and bytes the client queues for the bridge before it drops. Under JetStream the
    /// server sends at most `max_unacknowledged` per imported event at once, and `queue_limit` must
    /// hold that many (else configuration_error at start), so the client drops nothing for lack of
    /// message slots; `queue_byte_limit` is not checked against it (large messages can still reach it).
    int queue_limit = 65'536;
    int queue_byte_limit = 256 << 20;
    /// At a stop: how long the bridge waits for what it sent to be flushed (core) or acknowledged (JetStream),
    /// and the longest the receiving plugin reads what the client still holds for it (abandoned_at_stop).
    std::chrono::milliseconds stop_timeout{2'000};
    /// At a stop: how long the sending plugin keeps sending what is still queued for it in the
    /// application (then what is left is counted in unsent_at_stop); 0: it sends nothing more. It ends
    /// once the engine has handed it everything queued for it (its end marker came back); what it takes
    /// after drain_timeout is counted, not sent.
    std::chrono::milliseconds drain_timeout{2'000};
    /// Core NATS: how often the sending bridge publishes a sequence marker (its last sequence number, on
    /// `<subject_prefix>._ee.marker`: it needs permission to publish there) so that receivers count events
    /// lost after the last one they got: after its sequence moved and twice more, then none while it is
    /// idle; it also sends one when it stops. 0: only the one at the stop.
    std::chrono::milliseconds marker_interval{1'000};
};

/// What a bridge did, exactly. Snapshot at any time with `bridge::report()`; final once run() returned.
///
/// Leaving the application (its `<name>.out` plugin): every event it received is in exactly one of
/// published, echoes_skipped, publish_failed, unconfirmed_at_stop and unsent_at_stop.
/// Entering the application (its `<name>.in` plugin): every message the subscription handed over
/// (messages_in; sequence markers are counted apart, in markers_in) is in exactly one of events_in,
/// own_skipped, not_imported, bad_messages, decode_failures, duplicates_skipped and abandoned_at_stop.
/// Between two applications under core NATS: what the sender published is what the receiver received
/// (messages_in) plus its sequence_gaps, once the receiver has the sender's final marker (or a periodic
/// one sent after the sender's last event) and had received at least one message or marker of that run
/// before the losses.
struct bridge_report {
    // app -> NATS
    // clang-format off
    std::uint64_t events_out = 0;          ///< events taken from the application to send
    std::uint64_t published = 0;           ///< core: handed to the connection; JetStream: stored, acknowledged by the stream
    std::uint64_t echoes_skipped = 0;      ///< events this bridge had itself brought in from NATS (never sent back)
    std::uint64_t publish_failed = 0;      ///< not sent: too large for the server, connection closed, reconnect buffer full (or, before the first connection, the bridge's own: retry_initial_connect), attempts exhausted
    std::uint64_t unconfirmed_at_stop = 0; ///< JetStream: sent, not acknowledged when the bridge stopped (stored or not)
    std::uint64_t unsent_at_stop = 0;      ///< taken at the stop but never handed to NATS: drain_timeout ran out, or (retry_initial_connect) never connected
    std::uint64_t publish_retries = 0;     ///< JetStream: publishes sent again after an error or a missing ack (while the stream keeps failing, one at a time)
    std::uint64_t stored_duplicates = 0;   ///< JetStream: retries the stream recognised as already stored (its ack said duplicate)
    // NATS -> app
    std::uint64_t messages_in = 0;        ///< messages the subscription handed to the bridge
    std::uint64_t events_in = 0;          ///< published into the application (JetStream: acknowledged once its plugins handled it)
    std::uint64_t own_skipped = 0;        ///< sent by this same instance (origin header), not brought back
    std::uint64_t not_imported = 0;       ///< subjects under the prefix for events this bridge does not bring in (core NATS; JetStream consumers deliver only imported events)
    std::uint64_t bad_messages = 0;       ///< missing or malformed bridge headers, or a topic that differs from this application's (logged)
    std::uint64_t decode_failures = 0;    ///< payloads the event's codec rejected (logged)
    std::uint64_t duplicates_skipped = 0; ///< JetStream: deliveries of an event already published into the application
    std::uint64_t abandoned_at_stop = 0;  ///< received, not published into the application when it stopped (JetStream: delivered again later)
    std::uint64_t unacknowledged_at_stop = 0; ///< JetStream: published into the application (in events_in), not confirmed handled by its plugins when the bridge stopped; not acknowledged, so delivered again later
    std::uint64_t sequence_gaps = 0;      ///< core: events of another instance that never arrived (gaps in its sequence numbers, up to its latest message or sequence marker)
    std::uint64_t slow_consumer_drops = 0; ///< messages the client dropped because the bridge's queue was full (core: also in sequence_gaps; logged)
    std::uint64_t markers_in = 0;         ///< core: sequence markers received from other instances (not in messages_in; a malformed one is in messages_in and bad_messages)
    // clang-format on
    // connection
    std::uint64_t disconnects = 0;
    std::uint64_t reconnects = 0;
    bool connected = false;  ///< connected now (after run(): when the bridge ended)
    bool subscribed = false; ///< receiving: the subscription (and JetStream consumer) is in place
    std::string last_error;  ///< the last connection or publish error, if any
};

} // namespace event_engine::nats
