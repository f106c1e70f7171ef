"""A graceful stop drains what is queued for `nats.out` (issue 21, item 7). The sender's
bridge is made slow on purpose (JetStream, max_unacknowledged 1: one stream round trip per
event) while the application publishes pings as fast as it can, so that a backlog waits for
`nats.out` when the application is stopped (SIGTERM) mid-stream. With room to drain
(drain_timeout 20 s) every ping the application published reaches the stream; with 50 ms,
what is left is counted (unsent_at_stop) and every ping is accounted for exactly."""

from natsfix import App, NatsServer, check_bridge_identities, plugin

PINGS = 100_000  # more than can be sent before the stop: the sender is stopped mid-stream


def stopped_mid_stream(tmp_path, drain_timeout_ms: int):
    server = NatsServer(tmp_path, jetstream=True).start()
    a = App(tmp_path, "a", [server.url], "jetstream", instance="drainer", pings=PINGS, max_unacknowledged=1,
            drain_timeout_ms=drain_timeout_ms)
    try:
        a.wait_subscribed()
        a.send("go")
        a.wait_for(lambda s: s["bridge"]["published"] >= 200 and s["sent"]["ping"] >= s["bridge"]["events_out"] + 500,
                   "pings sent to the stream, more waiting for nats.out")
        final = a.stop()
    finally:
        a.close()
        server.stop()
    check_bridge_identities(final)
    bridge, out, sender = final["bridge"], plugin(final, "nats.out"), plugin(final, "sender")
    # The engine's account: every ping the application published reached nats.out or is counted there.
    assert sender["published"] == final["sent"]["ping"] < PINGS
    assert sender["published"] == out["received"] + out["unread"] + out["after_end"], (sender, out)
    print(f"\ndrain_timeout {drain_timeout_ms} ms: {final['sent']['ping']} published by the application, "
          f"{bridge['published']} stored, {bridge['unsent_at_stop']} unsent, {out['unread']} unread")
    return final, bridge, out


def test_a_graceful_stop_sends_what_is_queued(tmp_path):
    final, bridge, out = stopped_mid_stream(tmp_path, 20_000)
    assert out["unread"] == 0 and out["after_end"] == 0, out
    assert bridge["unsent_at_stop"] == 0 and bridge["publish_failed"] == 0 and bridge["unconfirmed_at_stop"] == 0, bridge
    assert bridge["published"] == bridge["events_out"] == final["sent"]["ping"], bridge


def test_what_the_drain_cannot_send_in_time_is_counted(tmp_path):
    final, bridge, out = stopped_mid_stream(tmp_path, 50)
    assert bridge["unsent_at_stop"] > 0, bridge
    assert bridge["events_out"] == out["received"]
    assert (bridge["published"] + bridge["publish_failed"] + bridge["unconfirmed_at_stop"] + bridge["unsent_at_stop"]
            == bridge["events_out"] == final["sent"]["ping"] - out["unread"] - out["after_end"]), (bridge, out)
