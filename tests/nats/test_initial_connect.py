"""retry_initial_connect under core NATS (issue 21, item 1): an application that starts before
any NATS server exists sends events at once; they wait in the bridge (up to
reconnect_buffer_bytes of payload, beyond that counted in publish_failed with a true
message) and go out, in order, when the server appears.

The server is started after the applications, and a receiver is subscribed on it before the
senders can reach it: the senders' only URL is a loopback relay to that server, opened once
the receiver is subscribed (core NATS delivers only to who listens at that moment)."""

import socket
import threading

from natsfix import App, NatsServer, check_bridge_identities, free_port

PINGS = 500
PING_BYTES = 16  # Ping's payload: two 64-bit integers (trivial_codec)
HELD_OVERHEAD = 128  # what the bridge counts for each held message besides its payload


class Relay:
    """Listens on `port` (once `open()` is called) and relays each connection to `target`."""

    def __init__(self, port: int, target: int) -> None:
        self.port, self.target = port, target
        self.listener: socket.socket | None = None
        self.sockets: list[socket.socket] = []

    def open(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        assert self.listener is not None
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.target))
            self.sockets += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        for s in [self.listener, *self.sockets]:
            if s is not None:
                s.close()


def test_events_sent_before_the_first_connection_wait_for_it(tmp_path):
    relay_port = free_port()
    url = [f"nats://127.0.0.1:{relay_port}"]  # nothing listens there yet
    # a: room for every ping; a2: room for 125 pings (payload plus the bridge's 128 bytes a message), the rest is refused.
    a = App(tmp_path, "a", url, pings=PINGS, retry_initial_connect=1, instance="early-a")
    a2 = App(tmp_path, "a", url, pings=PINGS, retry_initial_connect=1, instance="early-a2",
             reconnect_buffer_bytes=125 * (PING_BYTES + HELD_OVERHEAD))
    server = relay = b = None
    try:
        for app in (a, a2):
            app.send("go")
            app.wait_for(lambda s: s["sent_done"] and s["bridge"]["events_out"] == PINGS, "every ping taken, unconnected")
        assert not a.status["bridge"]["connected"] and not a2.status["bridge"]["connected"]
        assert a.status["bridge"]["publish_failed"] == 0 and a.status["bridge"]["published"] == 0, a.status
        assert a2.status["bridge"]["publish_failed"] == PINGS - 125 and a2.status["bridge"]["published"] == 0, a2.status
        assert ("not connected to NATS yet (retry_initial_connect) and 18000 bytes (payloads plus 128 a message) "
                "already wait" in a2.log())
        assert "max_payload" not in a2.log()

        server = NatsServer(tmp_path).start()  # after the applications
        b = App(tmp_path, "b", [server.url])
        b.wait_subscribed()
        relay = Relay(relay_port, server.port)
        relay.open()
        b.wait_for(lambda s: s["bridge"]["events_in"] == PINGS + 125, "every ping that waited, from both")
        fa, fa2 = a.stop(), a2.stop()
        b.wait_for(lambda s: s["bridge"]["markers_in"] >= 2, "both final markers")
        fb = b.stop()
    finally:
        for app in (a, a2, b):
            if app is not None:
                app.close()
        if relay is not None:
            relay.close()
        if server is not None:
            server.stop()

    for final in (fa, fa2, fb):
        check_bridge_identities(final)
    assert fa["bridge"]["published"] == PINGS and fa["bridge"]["publish_failed"] == 0
    assert fa2["bridge"]["published"] == 125 and fa2["bridge"]["publish_failed"] == PINGS - 125
    assert fa["bridge"]["unsent_at_stop"] == 0 and fa2["bridge"]["unsent_at_stop"] == 0
    # Nothing lost, in order: both runs' sequences arrived without a gap.
    assert fb["bridge"]["messages_in"] == fb["bridge"]["events_in"] == PINGS + 125
    assert fb["bridge"]["sequence_gaps"] == 0
    assert fb["received"]["ping_total"] == PINGS + 125 and fb["received"]["ping_unique"] == PINGS


def test_a_stop_before_any_connection_counts_what_waited(tmp_path):
    a = App(tmp_path, "a", [f"nats://127.0.0.1:{free_port()}"], pings=100, retry_initial_connect=1)
    try:
        a.send("go")
        a.wait_for(lambda s: s["bridge"]["events_out"] == 100, "every ping taken, unconnected")
        final = a.stop()
    finally:
        a.close()
    check_bridge_identities(final)
    assert final["bridge"]["unsent_at_stop"] == 100 and final["bridge"]["published"] == 0, final["bridge"]
    assert "stopped before it ever connected to NATS" in a.log()
