"""Core NATS losses at the end of a stream (issue 21, item 2): a receiver that is a slow
consumer (its handler holds on to a ping until told to go on, the queues between its plugins
and the client's queue for the bridge small) loses most of a burst of 5,000 pings, the last
one included. Every loss is
logged and counted: the sender's bridge publishes sequence markers with its last sequence
number (periodically, and once when it stops), so the receiver counts the lost tail too, and
what the sender published is exactly what the receiver brought in plus its sequence gaps."""

from pathlib import Path

from natsfix import App, NatsServer, check_bridge_identities

PINGS = 5000
QUEUE = 100
# The application's queues between plugins hold a few dozen events (high_water_mark 20), so
# nats.in is held up (backpressure) long before the burst ends, and the client's queue with it.
SLOW = {"queue_limit": QUEUE, "high_water_mark": 20}


def burst_into_a_paused_receiver(server: NatsServer, a: App, b: App) -> None:
    """b's receiver holds on (its bridge's queue fills and the client drops); a sends every
    ping; returns once b's client has had every message the server sent it (the server's
    count): taken by the bridge (which is held up), dropped, or among the QUEUE it holds. So the
    last ping was dropped (the queue was full since long before it), and b is let go on."""
    a.wait_subscribed()
    b.wait_subscribed()
    b.send("pause")
    a.send("go")
    a.wait_for(lambda s: s["sent_done"] and s["bridge"]["published"] == PINGS, "every ping published")

    def sent_to_b() -> int:
        connections = [c for c in server.monitoring("connz")["connections"] if c.get("name") == b.name]
        assert len(connections) == 1, connections
        return connections[0]["out_msgs"]

    b.wait_for(lambda s: sent_to_b() >= PINGS and s["bridge"]["messages_in"] + s["bridge"]["markers_in"]
               + s["bridge"]["slow_consumer_drops"] + QUEUE == sent_to_b(),
               "every message the server sent b taken, dropped or queued")
    b.send("resume")


def check_losses(fa, fb, record: Path, b_log: str) -> None:
    for final in (fa, fb):
        check_bridge_identities(final)
    a, b = fa["bridge"], fb["bridge"]
    assert fa["sent"]["ping"] == PINGS and a["published"] == PINGS and a["publish_failed"] == 0, a
    # The identity, exactly, the lost tail included.
    assert a["published"] == b["events_in"] + b["sequence_gaps"], (a, b)
    assert b["messages_in"] == b["events_in"] and b["abandoned_at_stop"] == 0, b
    assert fb["received"]["ping_total"] == fb["received"]["ping_unique"] == b["events_in"]
    received = {int(line) for line in record.read_text().split()}
    assert len(received) == b["events_in"], (len(received), b)
    assert PINGS not in received, "the last ping arrived: no tail was lost, the test proves nothing"
    assert b["slow_consumer_drops"] > 0 and b["sequence_gaps"] <= b["slow_consumer_drops"], b  # (drops include markers)
    assert "the NATS client dropped" in b_log and "counted in slow_consumer_drops" in b_log, b_log[-3000:]
    assert "learnt from its sequence marker" in b_log, b_log[-3000:]  # the tail, logged too
    print(f"\n{PINGS} published, {b['events_in']} received, {b['sequence_gaps']} gaps, "
          f"{b['slow_consumer_drops']} slow-consumer drops, {b['markers_in']} markers")


def test_a_lost_tail_is_counted_once_the_sender_goes_quiet(tmp_path):
    server = NatsServer(tmp_path, monitor=True).start()
    record = tmp_path / "received"
    a = App(tmp_path, "a", [server.url], pings=PINGS, marker_interval_ms=200)
    b = App(tmp_path, "b", [server.url], record=record, **SLOW)
    try:
        burst_into_a_paused_receiver(server, a, b)
        # a runs on, quiet: its periodic markers tell b where its sequence ended.
        b.wait_for(lambda s: s["bridge"]["events_in"] + s["bridge"]["sequence_gaps"] == PINGS,
                   "every ping received or counted lost")
        b.wait_for(lambda s: s["received"]["ping_total"] == s["bridge"]["events_in"], "every ping brought in, handled")
        fb = b.stop()
        fa = a.stop()
    finally:
        a.close()
        b.close()
        server.stop()
    check_losses(fa, fb, record, b.log())


def test_a_lost_tail_is_counted_when_the_sender_stops(tmp_path):
    server = NatsServer(tmp_path, monitor=True).start()
    record = tmp_path / "received"
    a = App(tmp_path, "a", [server.url], pings=PINGS, marker_interval_ms=0)  # only the final marker
    b = App(tmp_path, "b", [server.url], record=record, **SLOW)
    try:
        burst_into_a_paused_receiver(server, a, b)
        # Everything reached b's client: taken by its bridge or dropped (its queue is empty again).
        b.wait_for(lambda s: s["bridge"]["messages_in"] + s["bridge"]["slow_consumer_drops"] == PINGS,
                   "every ping taken or dropped by b's client")
        gaps_before = b.status["bridge"]["sequence_gaps"]
        assert gaps_before < PINGS - b.status["bridge"]["events_in"], "the tail is not counted before a stops"
        fa = a.stop()  # its final marker
        b.wait_for(lambda s: s["bridge"]["markers_in"] == 1, "a's final marker")
        b.wait_for(lambda s: s["received"]["ping_total"] == s["bridge"]["events_in"], "every ping brought in, handled")
        fb = b.stop()
    finally:
        a.close()
        b.close()
        server.stop()
    check_losses(fa, fb, record, b.log())
    assert fb["bridge"]["markers_in"] == 1
