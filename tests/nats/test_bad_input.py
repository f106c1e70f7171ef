"""Bad input from NATS, sent by hand over a raw NATS connection: a payload that fails to
decode, a subject for an event the bridge does not bring in, missing, malformed or wrong
bridge headers, and the receiver's own origin. Each is counted and (where it is an error)
logged; only the two well-formed events reach the application."""

import struct

import pytest

from natsfix import App, NatsServer, check_bridge_identities, nats_publish, plugin

PING_TOPIC = b"\x01P\x00".hex()


def ping_payload(index):
    return struct.pack("<QQ", index, (index * 2654435761) & 0xFFFFFFFFFFFFFFFF ^ 0xABCDEF)


def headers(seq, topic=PING_TOPIC, origin="intruder"):
    return {"Event-Engine-Origin": origin, "Event-Engine-Run": "00000000000000f1", "Event-Engine-Seq": str(seq),
            "Event-Engine-Topic": topic}


@pytest.mark.parametrize("mode", ["core", "jetstream"])
def test_bad_messages_are_counted_and_never_forwarded(tmp_path, mode):
    server = NatsServer(tmp_path, jetstream=mode == "jetstream").start()
    b = App(tmp_path, "b", [server.url], mode, instance="receiver")
    try:
        b.wait_subscribed()
        # The intruder numbers what it sends 1 to 7, as a bridge would (one sequence over all its
        # subjects): a message the receiver does not import or rejects is no loss.
        no_topic = headers(4)
        del no_topic["Event-Engine-Topic"]
        nats_publish(server.port, [
            ("test.Ping", ping_payload(7), headers(1)),                  # good
            ("test.Ping", b"abc", headers(2)),                           # does not decode (16 bytes expected)
            ("test.Nope", ping_payload(9), headers(3)),                  # an event the bridge does not bring in
            ("test.Ping", ping_payload(9), no_topic),                    # no topic header
            ("test.Ping", ping_payload(9), headers(5, b"Pong".hex())),   # the topic of another event
            ("test.Ping", ping_payload(9), headers(6, "zz")),            # a topic that is not hex
            ("test.Ping", ping_payload(9), None),                        # no headers at all
            ("test.Ping", ping_payload(9), headers(100, origin="receiver")),  # its own origin
            ("test.Ping", ping_payload(8), headers(7)),                  # good
        ])
        # Under JetStream the bridge's consumers deliver only the events it brings in: not test.Nope.
        arriving = 9 if mode == "core" else 8
        b.wait_for(lambda s: s["bridge"]["messages_in"] == arriving, f"all {arriving} messages")
        b.wait_for(lambda s: s["received"]["ping_total"] == 2, "the two good pings")
        final = b.stop()
    finally:
        b.close()
        server.stop()

    check_bridge_identities(final)
    bridge = final["bridge"]
    assert bridge["events_in"] == 2
    assert bridge["decode_failures"] == 1
    assert bridge["not_imported"] == (1 if mode == "core" else 0)
    assert bridge["bad_messages"] == 4
    assert bridge["own_skipped"] == 1
    assert bridge["sequence_gaps"] == 0  # 1 to 7 (under JetStream 3, test.Nope, never comes: no gaps counted there)
    assert final["received"]["ping_unique"] == 2 and final["received"]["ping_bad"] == 0
    assert plugin(final, "receiver")["received"] == 2
    log = b.log()
    assert "cannot decode a Ping event from NATS (3 payload bytes)" in log
    assert "rejected a message on test.Ping" in log
    assert "has no Event-Engine-Topic header" in log
