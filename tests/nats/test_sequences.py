"""Core NATS sequence accounting (issue 21 review of items 2 and 7): a sender numbers every
event it sends, over all its subjects, in one sequence, so a receiver counts gaps exactly
whatever it imports and whatever it abandons at its stop; strangers' sequence markers are
checked and cannot falsify the count; an idle sender goes quiet; a stop does not wait for a
peer that keeps sending."""

import random
import socket
import threading
import time

from natsfix import App, NatsServer, RawNats, check_bridge_identities, wait_until


def stop_all(*apps: App) -> None:
    for app in apps:
        app.close()


def sent_to(server: NatsServer, name: str) -> int:
    connections = [c for c in server.monitoring("connz")["connections"] if c.get("name") == name]
    assert len(connections) == 1, connections
    return connections[0]["out_msgs"]


def test_events_a_receiver_does_not_import_are_not_counted_lost(tmp_path):
    """a sends Alerts, Pings, then Blobs (one sequence); c imports only Ping. The Alerts and
    Blobs it does not import, the Blobs last of all, are not losses (e54445f-d48bf51: the Blobs,
    after the last Ping, counted as lost once a's final marker came)."""
    server = NatsServer(tmp_path).start()
    a = App(tmp_path, "a", [server.url], pings=100, blobs=3, blob_bytes=10, alerts=5, marker_interval_ms=0)
    c = App(tmp_path, "c", [server.url])
    try:
        a.wait_subscribed()
        c.wait_subscribed()
        a.send("go")
        a.wait_for(lambda s: s["sent_done"] and s["bridge"]["published"] == 108, "everything published")
        c.wait_for(lambda s: s["bridge"]["messages_in"] == 108, "every message in")
        fa = a.stop()  # its final marker
        c.wait_for(lambda s: s["bridge"]["markers_in"] == 1, "a's final marker")
        c.wait_for(lambda s: s["received"]["ping_total"] == 100, "every ping handled")
        fc = c.stop()
    finally:
        stop_all(a, c)
        server.stop()
    for final in (fa, fc):
        check_bridge_identities(final)
    pa, pc = fa["bridge"], fc["bridge"]
    assert pc["events_in"] == 100 and pc["not_imported"] == 8, pc
    assert pc["sequence_gaps"] == 0, pc
    assert pa["published"] == pc["messages_in"] + pc["sequence_gaps"], (pa, pc)


def test_messages_abandoned_at_a_stop_are_not_counted_lost(tmp_path):
    """c's receiver holds on (paused), so what a sends waits in c's client queue, a's final
    marker behind it; c stops: the queued pings are abandoned_at_stop, not also sequence gaps
    (d48bf51 counted them twice: the marker behind them made them gaps)."""
    pings = 2000
    server = NatsServer(tmp_path, monitor=True).start()
    a = App(tmp_path, "a", [server.url], pings=pings, marker_interval_ms=0)
    c = App(tmp_path, "c", [server.url], high_water_mark=20, queue_limit=100_000)
    try:
        a.wait_subscribed()
        c.wait_subscribed()
        c.send("pause")
        a.send("go")
        a.wait_for(lambda s: s["sent_done"] and s["bridge"]["published"] == pings, "every ping published")
        fa = a.stop()
        wait_until(lambda: sent_to(server, c.name) == pings + 1, "every ping and a's final marker sent to c")
        fc = c.stop()
    finally:
        stop_all(a, c)
        server.stop()
    for final in (fa, fc):
        check_bridge_identities(final)
    pa, pc = fa["bridge"], fc["bridge"]
    assert pc["abandoned_at_stop"] > 0 and pc["slow_consumer_drops"] == 0, pc
    assert pc["markers_in"] == 1 and pc["sequence_gaps"] == 0, pc
    assert pa["published"] == pc["messages_in"] == pings, (pa, pc)
    print(f"\n{pings} published; c: {pc['events_in']} in, {pc['abandoned_at_stop']} abandoned at its stop, 0 gaps")


def read_headers(raw: RawNats) -> tuple[str, dict[str, str]]:
    """The next HMSG on `raw`'s subscriptions: its subject and headers."""
    while True:
        line = raw._line()
        parts = line.decode().split()
        if parts and parts[0] == "PING":
            raw.sock.sendall(b"PONG\r\n")
        if parts and parts[0] == "HMSG":
            body = raw._bytes(int(parts[-1]))
            head = body[:int(parts[-2])].decode().split("\r\n")[1:]
            return parts[1], dict(h.split(": ", 1) for h in head if ": " in h)


def hpub(raw: RawNats, subject: str, headers: dict[str, str]) -> None:
    head = b"NATS/1.0\r\n" + b"".join(f"{k}: {v}\r\n".encode() for k, v in headers.items()) + b"\r\n"
    raw.sock.sendall(b"HPUB %s %d %d\r\n%s\r\n" % (subject.encode(), len(head), len(head), head))


def test_forged_sequence_markers_are_refused_or_harmless(tmp_path):
    """A stranger on test._ee.marker: markers without or with malformed headers (a run not in
    the bridge's form, an instance of 200 bytes, a sequence number of 2^63 under a's real
    instance and run) are bad_messages and change no count; 5,000 well-formed markers of runs
    nobody sent are counted but remembered nowhere (they cannot push a's run out); a's gaps
    stay 0 (d48bf51: the 2^63 marker alone counted 2^63 - 11 lost events)."""
    server = NatsServer(tmp_path).start()
    a = App(tmp_path, "a", [server.url], pings=0, marker_interval_ms=0)
    c = App(tmp_path, "c", [server.url])
    raw = RawNats(server.port)
    try:
        a.wait_subscribed()
        c.wait_subscribed()
        raw.subscribe("test.Ping")
        raw.sock.sendall(b"PING\r\n")
        wait_until(lambda: sent_to_ok(raw), "the intruder's subscription confirmed")
        a.send("ping 10")
        _, headers = read_headers(raw)
        origin, run = headers["Event-Engine-Origin"], headers["Event-Engine-Run"]
        c.wait_for(lambda s: s["bridge"]["events_in"] == 10, "the first ten pings")
        marker = "test._ee.marker"
        bad = [
            {},
            {"Event-Engine-Origin": origin, "Event-Engine-Run": run, "Event-Engine-Seq": str(2 ** 63),
             "Event-Engine-Marker": "periodic"},
            {"Event-Engine-Origin": origin, "Event-Engine-Run": "not-a-run", "Event-Engine-Seq": "5",
             "Event-Engine-Marker": "final"},
            {"Event-Engine-Origin": "x" * 200, "Event-Engine-Run": run, "Event-Engine-Seq": "5",
             "Event-Engine-Marker": "periodic"},
            {"Event-Engine-Origin": origin, "Event-Engine-Run": run, "Event-Engine-Seq": "12",
             "Event-Engine-Marker": "sometimes"},
        ]
        for headers in bad:
            hpub(raw, marker, headers)
        strangers = 5000
        for _ in range(strangers):
            hpub(raw, marker, {"Event-Engine-Origin": "stranger", "Event-Engine-Run": f"{random.getrandbits(64):016x}",
                               "Event-Engine-Seq": str(random.randrange(1, 1000)), "Event-Engine-Marker": "periodic"})
        c.wait_for(lambda s: s["bridge"]["markers_in"] == strangers and s["bridge"]["bad_messages"] == len(bad),
                   "every forged marker")
        a.send("ping 10")
        c.wait_for(lambda s: s["bridge"]["events_in"] == 20, "ten more pings")
        fa = a.stop()
        c.wait_for(lambda s: s["bridge"]["markers_in"] == strangers + 1, "a's final marker")
        fc = c.stop()
    finally:
        raw.close()
        stop_all(a, c)
        server.stop()
    for final in (fa, fc):
        check_bridge_identities(final)
    pa, pc = fa["bridge"], fc["bridge"]
    assert pc["sequence_gaps"] == 0 and pc["bad_messages"] == len(bad), pc
    assert pa["published"] == 20 == pc["events_in"] == pc["messages_in"] - pc["bad_messages"], (pa, pc)
    assert "rejected a sequence marker" in c.log()


def sent_to_ok(raw: RawNats) -> bool:
    line = raw._line()
    return line == b"PONG"


def test_an_idle_sender_goes_quiet(tmp_path):
    """A core sender's periodic markers stop once its sequence stops moving (after six
    repeats, at 1, 2, 4, ... 32 intervals' spacing: 2.52 s here); d48bf51 sent one every
    marker_interval forever."""
    server = NatsServer(tmp_path).start()
    a = App(tmp_path, "a", [server.url], pings=10, marker_interval_ms=20)
    c = App(tmp_path, "c", [server.url])
    try:
        a.wait_subscribed()
        c.wait_subscribed()
        a.send("go")
        c.wait_for(lambda s: s["bridge"]["events_in"] == 10 and s["bridge"]["markers_in"] >= 3,
                   "the pings and a's first markers")
        time.sleep(3.0)  # 150 marker intervals: past the last repeat
        before = c.status["bridge"]["markers_in"]
        time.sleep(0.5)
        after = c.status["bridge"]["markers_in"]
        fa = a.stop()
        fc = c.stop()
    finally:
        stop_all(a, c)
        server.stop()
    assert after == before <= 8, (before, after)  # one, six repeats (and one more if the pings straddled a marker)
    assert fc["bridge"]["markers_in"] == after + 1 and fc["bridge"]["sequence_gaps"] == 0, fc["bridge"]
    assert fa["bridge"]["published"] == 10


def test_a_stop_does_not_wait_for_a_peer_that_keeps_sending(tmp_path):
    """While a stranger keeps sending on test.> (a message at least every millisecond), c stops
    anyway (d48bf51 read its queue until one millisecond passed without a message: never)."""
    server = NatsServer(tmp_path).start()
    c = App(tmp_path, "c", [server.url], queue_limit=5_000_000)
    flooding = threading.Event()
    flooding.set()

    def flood() -> None:
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as s:
            s.recv(65536)
            s.sendall(b'CONNECT {"verbose":false,"pedantic":false,"name":"flood"}\r\n')
            # Without pause: a message arrives every few microseconds; c's client queue is large
            # enough that it drops none (a drop would end d48bf51's loop too).
            batch = b"PUB test.Flood 1\r\nx\r\n" * 100
            while flooding.is_set():
                try:
                    s.sendall(batch)
                except OSError:
                    return

    flooder = threading.Thread(target=flood, daemon=True)
    try:
        c.wait_subscribed()
        flooder.start()
        c.wait_for(lambda s: s["bridge"]["messages_in"] > 20_000, "the flood")
        assert c.status["bridge"]["slow_consumer_drops"] == 0
        fc = c.stop()  # (a hang here is the failure)
    finally:
        flooding.clear()
        c.close()
        server.stop()
    check_bridge_identities(fc)
    assert fc["bridge"]["not_imported"] + fc["bridge"]["abandoned_at_stop"] == fc["bridge"]["messages_in"], fc["bridge"]


def test_jetstream_answers_only_its_consumers_deliveries(tmp_path):
    """A stranger publishes on c's deliver subject with a reply subject of its own: a bare
    message and a well-formed Ping with the bridge's headers. Neither is a delivery of c's
    consumer (the reply is not the server's $JS.ACK subject for it): both are bad_messages,
    neither reaches the application, and nothing is sent to the stranger's reply subject
    (d48bf51 answered +TERM to the first and delivered the second, answering +ACK)."""
    server = NatsServer(tmp_path, jetstream=True).start()
    c = App(tmp_path, "c", [server.url], "jetstream", instance="c")
    raw = RawNats(server.port)
    try:
        c.wait_subscribed()
        raw.subscribe("stranger.>")
        deliver = "_EE.deliver.test.c"
        raw.publish(deliver, b"garbage", "stranger.one")
        index = 1
        check = (index * 2654435761) ^ 0xABCDEF
        payload = index.to_bytes(8, "little") + check.to_bytes(8, "little")
        headers = {"Event-Engine-Origin": "a", "Event-Engine-Run": "0123456789abcdef", "Event-Engine-Seq": "1",
                   "Event-Engine-Topic": "015000"}
        head = b"NATS/1.0\r\n" + b"".join(f"{k}: {v}\r\n".encode() for k, v in headers.items()) + b"\r\n"
        raw.sock.sendall(b"HPUB %s stranger.two %d %d\r\n%s%s\r\n"
                         % (deliver.encode(), len(head), len(head) + len(payload), head, payload))
        c.wait_for(lambda s: s["bridge"]["messages_in"] == 2, "both messages")
        fc = c.stop()  # (its connection flushed and closed: any answer is at the server)
        raw.sock.sendall(b"PING\r\n")
        answers = []
        while True:
            line = raw._line()
            if line == b"PONG":
                break
            if line.startswith((b"MSG", b"HMSG")):
                answers.append(line)
                raw._bytes(int(line.split()[-1]))
        assert answers == [], answers
    finally:
        raw.close()
        c.close()
        server.stop()
    check_bridge_identities(fc)
    b = fc["bridge"]
    assert b["bad_messages"] == 2 and b["events_in"] == 0 and fc["received"]["ping_total"] == 0, b
    assert "not a delivery of one of its JetStream consumers" in c.log()
