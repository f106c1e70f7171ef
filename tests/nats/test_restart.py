"""An application killed (SIGKILL) and started again resumes from its durable JetStream
consumer without loss: what the dead process had received but not published into its
application, and what was sent while it was down, arrives after the restart.

To make "nothing lost" exact, the process is frozen (SIGSTOP) at a moment when every event
published into it has been handled (its receiver recorded each in a file, which survives
the kill), then more events are sent to the frozen process (the server delivers them to its
socket, nobody acknowledges them), then it is killed, more are sent, and it is restarted.
(An application killed with events inside it, published but not handled, is
test_kill_in_flight.py.)"""

from natsfix import App, NatsServer, check_bridge_identities

BATCH = 1000


def recorded(path):
    return [int(line) for line in path.read_text().split()] if path.exists() else []


def test_killed_application_resumes_from_its_durable_consumer(tmp_path):
    server = NatsServer(tmp_path, jetstream=True).start()
    record = tmp_path / "received.txt"
    a = App(tmp_path, "a", [server.url], "jetstream", instance="sender")
    receiver = dict(instance="receiver", record=record, ack_wait_ms=1000)
    b1 = App(tmp_path, "b", [server.url], "jetstream", **receiver)
    b2 = None
    try:
        a.wait_subscribed()
        b1.wait_subscribed()
        a.send(f"ping {BATCH}")
        b1.wait_for(lambda s: s["received"]["ping_unique"] == BATCH, "the first batch, handled")
        b1.process.send_signal(19)  # SIGSTOP: frozen with nothing in flight inside it
        a.send(f"ping {BATCH}")  # delivered to the frozen process' socket, never acknowledged
        a.wait_for(lambda s: s["bridge"]["published"] == 2 * BATCH, "the second batch stored")
        b1.kill()
        a.send(f"ping {BATCH}")  # sent while the receiver is down
        a.wait_for(lambda s: s["bridge"]["published"] == 3 * BATCH, "the third batch stored")
        b2 = App(tmp_path, "b", [server.url], "jetstream", **receiver)
        b2.wait_for(lambda s: set(recorded(record)) >= set(range(1, 3 * BATCH + 1)), "every ping, across the restart")
        fa, fb = a.stop(), b2.stop()
    finally:
        a.close()
        b1.close()
        if b2 is not None:
            b2.close()
        server.stop()

    check_bridge_identities(fa)
    check_bridge_identities(fb)
    seen = recorded(record)
    assert set(seen) == set(range(1, 3 * BATCH + 1))  # nothing lost, nothing else
    assert fa["bridge"]["published"] == 3 * BATCH and fa["bridge"]["publish_failed"] == 0
    # The restarted receiver got the second and third batches (and, at least once, possibly
    # some of the first whose acks the frozen process never sent).
    assert fb["received"]["ping_unique"] >= 2 * BATCH
    assert fb["received"]["ping_total"] == fb["bridge"]["events_in"]
    print(f"\nrestart: {len(seen)} deliveries recorded for {3 * BATCH} pings; the restarted process received "
          f"{fb['received']['ping_total']}, skipped {fb['bridge']['duplicates_skipped']} duplicates")
