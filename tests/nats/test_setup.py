"""What a JetStream bridge sets up on the server, and what it says about it (issue 21):
one durable consumer per imported event, filtered on its subject, so that the server sends a
bridge only what it brings in; the single consumer an earlier version made for all of
`<prefix>.>` replaced without losing what it had not acknowledged; a stream that differs from
the options reported."""

import json
import os
import subprocess
import sys
from pathlib import Path

from natsfix import App, NatsServer, RawNats, check_bridge_identities, failed_start, wait_until

PINGS, ACKED = 100, 40
PYEVENTS = Path(__file__).resolve().parents[2] / "pyevents"


def consumers(server: NatsServer) -> dict[str, dict]:
    details = server.monitoring("jsz?consumers=1&config=1")["account_details"][0]["stream_detail"][0]
    return {c["name"]: c for c in details.get("consumer_detail", [])}


def test_an_earlier_single_consumer_is_replaced_after_what_it_acknowledged(tmp_path):
    server = NatsServer(tmp_path, jetstream=True, monitor=True).start()
    a = App(tmp_path, "a", [server.url], "jetstream", instance="a", pings=PINGS)
    raw = RawNats(server.port)
    try:
        a.wait_subscribed()
        a.send("go")
        a.wait_for(lambda s: s["bridge"]["published"] == PINGS, "every ping stored")
        a.stop()
        # The consumer an earlier version of the bridge made for instance b: all of test.>.
        reply = raw.request("$JS.API.CONSUMER.DURABLE.CREATE.test.b", {"stream_name": "test", "config": {
            "durable_name": "b", "deliver_subject": "_EE.deliver.test.b", "deliver_policy": "all",
            "ack_policy": "explicit", "ack_wait": 60_000_000_000, "filter_subject": "test.>", "max_ack_pending": 1024}})
        assert "error" not in reply, reply
        # That earlier b handled and acknowledged the first 40 pings, then stopped.
        raw.subscribe("_EE.deliver.test.b")
        for _ in range(ACKED):
            subject, ack_to, _ = raw.next_message()
            assert subject == "test.Ping" and ack_to.startswith("$JS.ACK."), (subject, ack_to)
            raw.publish(ack_to, b"+ACK")
        wait_until(lambda: consumers(server)["b"]["ack_floor"]["stream_seq"] == ACKED, "the 40 acks taken")
        raw.close()

        b = App(tmp_path, "b", [server.url], "jetstream", instance="b")
        try:
            b.wait_for(lambda s: s["received"]["ping_unique"] == PINGS - ACKED, "the pings b had not acknowledged")
            b.wait_for(lambda s: s["bridge"]["events_in"] == PINGS - ACKED and s["bridge"]["unacknowledged_at_stop"] == 0,
                       "all of them in")
            final = b.stop()
        finally:
            b.close()
        after = consumers(server)
    finally:
        a.close()
        server.stop()

    check_bridge_identities(final)
    # Only the pings after the acknowledged ones came, each once; nothing that is not a Ping.
    assert final["received"]["ping_total"] == PINGS - ACKED, final["received"]
    assert final["bridge"]["messages_in"] == PINGS - ACKED and final["bridge"]["not_imported"] == 0, final["bridge"]
    assert "b" not in after, sorted(after)
    assert {"b_Ping", "b_Blob", "b_Mark", "b_Alert"} <= set(after), sorted(after)
    ping = after["b_Ping"]
    assert ping["config"]["filter_subject"] == "test.Ping" and ping["config"]["opt_start_seq"] == ACKED + 1, ping
    assert ping["ack_floor"]["stream_seq"] == PINGS, ping
    assert "replaced the consumer 'b' of stream 'test'" in b.log(), b.log()[-3000:]


def test_a_stream_that_differs_from_the_options_is_reported(tmp_path):
    server = NatsServer(tmp_path, jetstream=True, monitor=True).start()
    raw = RawNats(server.port)
    try:
        # Made beforehand by an operator: one replica, and the subjects b brings in, not test.Pong, which it sends.
        reply = raw.request("$JS.API.STREAM.CREATE.test", {"name": "test", "subjects": ["test.Ping", "test.Blob",
                                                                                       "test.Mark", "test.Alert"],
                                                            "storage": "file", "num_replicas": 1})
        assert "error" not in reply, reply
        b = App(tmp_path, "b", [server.url], "jetstream", instance="b", replicas=3)
        try:
            b.wait_subscribed()
            final = b.stop()
        finally:
            b.close()
        # a brings in Pong, which the stream does not hold: refused at once, saying what to do.
        error = failed_start([server.url], mode="jetstream", instance="a")
    finally:
        raw.close()
        server.stop()
    assert final["error"] == "", final  # it ran, with the stream as it is
    log = b.log()
    assert "the JetStream stream 'test' exists with 1 replicas, not stream_replicas = 3" in log, log
    assert ("holds subjects [test.Ping, test.Blob, test.Mark, test.Alert], not test.Pong, which this bridge sends"
            in log), log
    assert ("the JetStream stream 'test' holds subjects [test.Ping, test.Blob, test.Mark, test.Alert], not test.Pong, "
            "which this bridge brings in: add them to the stream") in error, error


def test_a_small_client_queue_never_drops_under_jetstream(tmp_path):
    """queue_limit must hold max_unacknowledged per imported event (else configuration_error,
    test_errors.py); a consumer made earlier with a larger max_unacknowledged is lowered to the
    bridge's, so the server never sends more than the client's queue holds: no drop, nothing
    waits for ack_wait."""
    pings = 2000
    server = NatsServer(tmp_path, jetstream=True, monitor=True).start()
    a = App(tmp_path, "a", [server.url], "jetstream", instance="a", pings=pings)
    try:
        first = App(tmp_path, "b", [server.url], "jetstream", instance="b")  # max_unacknowledged 1024
        try:
            first.wait_subscribed()
            first.stop()
        finally:
            first.close()
        # b again, slow (300 us a ping), with a client queue of 64 = 16 x its four imported events.
        b = App(tmp_path, "b", [server.url], "jetstream", instance="b", queue_limit=64, max_unacknowledged=16,
                handle_us=300)
        try:
            b.wait_subscribed()
            a.wait_subscribed()
            a.send("go")
            b.wait_for(lambda s: s["received"]["ping_unique"] == pings, "every ping")
            final = b.stop()
        finally:
            b.close()
        a.stop()
        after = consumers(server)
    finally:
        a.close()
        server.stop()
    check_bridge_identities(final)
    bridge = final["bridge"]
    assert bridge["slow_consumer_drops"] == 0 and bridge["duplicates_skipped"] == 0, bridge
    assert final["received"]["ping_total"] == pings, final["received"]
    assert after["b_Ping"]["config"]["max_ack_pending"] == 16, after["b_Ping"]
    assert "lowered MaxAckPending of the consumer 'b_Ping' from 1024 to max_unacknowledged (16)" in b.log()


def test_what_a_bridge_sends_and_receives_is_logged_and_in_the_manifest(tmp_path):
    """Two applications with different subject prefixes exchange nothing: each says at start
    where it sends and what it listens to, and its manifest (so `pyevents list`) says it too."""
    server = NatsServer(tmp_path, jetstream=True).start()
    manifest = tmp_path / "b.manifest.json"
    b = App(tmp_path, "b", [server.url], "jetstream", instance="b", prefix="plant", replicas=1, manifest=manifest)
    try:
        b.wait_subscribed()
        final = b.stop()
    finally:
        b.close()
        server.stop()
    assert final["error"] == "", final
    log = b.log()
    assert (f"NATS bridge 'nats' (JetStream as 'b') connected to {server.url}; sends plant.Pong, plant.Alert; "
            "stream plant (1 replicas asked); receives plant.Ping, plant.Blob, plant.Mark, plant.Alert; "
            "consumers b_Ping, b_Blob, b_Mark, b_Alert (delivering to _EE.deliver.plant.b)") in log, log
    plugins = {p["name"]: p for p in json.loads(manifest.read_text())["plugins"]}
    assert plugins["nats.out"]["details"] == {"servers": server.url, "mode": "jetstream", "instance": "b",
                                              "sends": "plant.Pong, plant.Alert", "stream": "plant (1 replicas asked)"}
    assert plugins["nats.in"]["details"] == {
        "servers": server.url, "mode": "jetstream", "instance": "b",
        "receives": "plant.Ping, plant.Blob, plant.Mark, plant.Alert", "stream": "plant (1 replicas asked)",
        "consumers": "b_Ping, b_Blob, b_Mark, b_Alert (delivering to _EE.deliver.plant.b)"}
    assert "details" not in plugins["sender"]
    listed = subprocess.run([sys.executable, "-m", "pyevents", "list", "--manifest", str(manifest)], capture_output=True,
                            text=True, timeout=60, env=dict(os.environ, PYTHONPATH=str(PYEVENTS)))
    assert listed.returncode == 0, listed
    assert "    sends: plant.Pong, plant.Alert\n" in listed.stdout, listed.stdout
    assert "    receives: plant.Ping, plant.Blob, plant.Mark, plant.Alert\n" in listed.stdout, listed.stdout


def test_consumers_of_events_no_longer_imported_are_warned_about(tmp_path):
    """An application imported Ping, Blob, Mark and Alert (role b as 'x'), then only Ping (role c
    as 'x'): its consumers x_Blob, x_Mark, x_Alert still deliver to its subject. The bridge
    warns at start, naming them, and deletes none (d48bf51 said nothing)."""
    server = NatsServer(tmp_path, jetstream=True, monitor=True).start()
    try:
        before = App(tmp_path, "b", [server.url], "jetstream", instance="x")
        try:
            before.wait_subscribed()
            before.stop()
        finally:
            before.close()
        after = App(tmp_path, "c", [server.url], "jetstream", instance="x")
        try:
            after.wait_subscribed()
            after.stop()
        finally:
            after.close()
        left = consumers(server)
    finally:
        server.stop()
    assert set(left) == {"x_Ping", "x_Blob", "x_Mark", "x_Alert"}, set(left)
    warnings = [line for line in after.log().splitlines()
                if "deliver to this bridge (_EE.deliver.test.x) but are not among the events it brings in" in line]
    assert len(warnings) == 1, after.log()[-3000:]
    named = warnings[0].split("the consumers ")[1].split(" of stream")[0].split(", ")
    assert sorted(named) == ["x_Alert", "x_Blob", "x_Mark"], warnings[0]
