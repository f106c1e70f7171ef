"""CURVE on every TCP endpoint, and where the engine may bind, against the REAL engine.

Needs $EVENT_ENGINE_TEST_APP (see engine_fixture.py); fails without it.  Keys
are made with zmq.auth.create_certificates in the test's tmp_path.  The test
engine's flags (all optional): ``--server-cert PATH`` (a ``.key_secret``
file: CURVE on every TCP endpoint), ``--plugin-key KEY`` (the external
plugin's client public key: 40 Z85 characters or a ``.key`` path),
``--publisher-key KEY[=TypeA,TypeB]`` and ``--subscriber-key KEY``
(repeatable), ``--bind-address ADDR``, ``--allow-insecure``.

What docs/security.md promises with keys, checked here: only listed keys
connect at all (a refused client gets nothing, and RUN "connections_refused"
counts it); a plugin's port accepts that plugin's key only; a publisher listed
with event names may publish only those (RUN "tcp_publishes_refused"); a
stranger is not taken for the plugin; an unmodified legacy plugin is secured
by two environment variables; binding beyond loopback without keys refuses to
start unless explicitly allowed.  Traffic only ever goes to 127.0.0.1 / ::1.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest
import zmq

from engine_fixture import (  # noqa: F401  (fixtures are used by name)
    WAIT,
    Engine,
    a_event,
    b_event,
    plugin_env,
    start_engine,
)
from hostile import (
    LOG_LINES_LIMIT,
    assert_alive,
    field,
    Keys,
    RawPeer,
    Watched,
    connect_and_vanish,
    curve_client,
    endpoint,
    garbage_connections,
    make_keys,
    poll_until,
    wait_engine_subscribed,
    wait_port_open,
    xpub_publisher,
    zmq_socket,
)
from pyevents import PluginClient, protocol

from legacy_plugin_source import LEGACY_PLUGIN


@pytest.fixture
def keys(tmp_path: Path) -> Dict[str, Keys]:
    return make_keys(tmp_path / "keys", "engine", "plugin", "other_plugin", "publisher", "typea_publisher",
                     "subscriber", "stranger")


def secure_flags(keys: Dict[str, Keys], **more: Any) -> Dict[str, Any]:
    """An engine with CURVE: the plugin's key as a .key path, one unrestricted publisher, one
    subscriber, each as Z85 text.  Its ports are the ones it binds (engine.port, .publish_port,
    .subscribe_port)."""
    flags: Dict[str, Any] = dict(server_cert=keys["engine"].secret_file, plugin_key=keys["plugin"].public_file,
                                 publisher_key=[keys["publisher"].z85], subscriber_key=[keys["subscriber"].z85])
    flags.update(more)
    return flags


def client(keys: Dict[str, Keys], engine: Engine, name: str = "plugin", **kwargs: Any) -> PluginClient:
    return PluginClient(engine.port, timeout=WAIT, server_key=keys["engine"].public_file,
                        client_key=keys[name].secret_file, **kwargs)


class Peers:
    """ZeroMQ peers of one test, in one context, closed at the end."""

    def __init__(self) -> None:
        self.context = zmq.Context()
        self.watched: List[Watched] = []

    def make(self, kind: int, port: int, curve: Tuple[Keys, Keys] = None, host: str = "127.0.0.1") -> Watched:
        """A monitored socket of *kind* connecting to *port*, a CURVE client with *curve*
        (server keys, client keys), or plain without."""
        w = Watched(zmq_socket(self.context, kind, host))
        if kind == zmq.XPUB:
            w.socket.setsockopt(zmq.SNDHWM, 0)
        if curve is not None:
            curve_client(w.socket, *curve)
        w.socket.connect(endpoint(host, port))
        self.watched.append(w)
        return w

    def close(self) -> None:
        for w in self.watched:
            w.close()
        self.context.destroy(linger=0)


def assert_refused(peer: Watched, what: str, engine: Engine) -> None:
    outcome = peer.handshake_outcome(what, engine=engine)
    assert outcome == "refused", f"{what} was accepted\n{engine.describe()}"


# --------------------------------------------------------------------------- refused on every port


#: The refused clients of each port: (what, whose keys), None for a client without CURVE.
REFUSED = {
    "wrong-keys": {
        "plugin": [("an unlisted key", "stranger"), ("a subscriber's key", "subscriber")],
        "publish": [("an unlisted key", "stranger"), ("the plugin's key", "plugin")],
        "subscribe": [("an unlisted key", "stranger"), ("a publisher's key", "publisher")],
    },
    "no-curve": {port: [("no CURVE", None)] for port in ("plugin", "publish", "subscribe")},
}


@pytest.mark.parametrize("clients", list(REFUSED))
def test_refused_clients_get_nothing_on_every_port_and_are_counted(start_engine, keys: Dict[str, Keys],
                                                                  clients: str) -> None:
    """On each port, clients with an unlisted key or another endpoint's key ("wrong-keys"), or
    without CURVE at all ("no-curve"): the handshake fails, and they get nothing: a refused
    plugin-port client's ping is never answered, a refused publisher is never subscribed to
    (so its TypeC reaches no one: the collector gets only the listed publisher's), a refused
    subscriber (to everything) gets no event while a listed one gets the plugin's.  RUN
    "connections_refused" counts at least one refusal per client refused for its key (a
    client without CURVE fails at ZeroMQ's mechanism check, before the engine's ZAP handler
    is asked, so it is not counted: docs/security.md), and the log stays small."""
    flags = secure_flags(keys, collect=1)
    engine = start_engine(**flags)
    server = keys["engine"]
    ports = {"plugin": (engine.port, zmq.REQ), "publish": (engine.publish_port, zmq.XPUB),
             "subscribe": (engine.subscribe_port, zmq.SUB)}
    peers = Peers()
    refused: List[Tuple[str, Watched]] = []
    try:
        for port_name, (port, kind) in ports.items():
            for label, name in REFUSED[clients][port_name]:
                peer = peers.make(kind, port, None if name is None else (server, keys[name]))
                if kind == zmq.REQ:
                    peer.socket.send(protocol.PING)
                if kind == zmq.SUB:
                    peer.socket.setsockopt(zmq.SUBSCRIBE, b"")
                refused.append((f"a client of the {port_name} port with {label}", peer))
        for what, peer in refused:
            assert_refused(peer, what, engine)
        for what, peer in refused:
            if peer.socket.type == zmq.XPUB:
                assert not peer.socket.poll(0), f"the engine subscribed to {what}"
                peer.socket.send(b"TypeCevil")  # dropped at once: no subscriber

        # The listed ones work: a subscriber gets what the plugin publishes, a publisher reaches the collector.
        good_sub = peers.make(zmq.SUB, engine.subscribe_port, (server, keys["subscriber"]))
        good_sub.socket.setsockopt(zmq.SUBSCRIBE, b"TypeA")
        good_pub = peers.make(zmq.XPUB, engine.publish_port, (server, keys["publisher"]))
        wait_engine_subscribed(good_pub.socket, engine)
        with client(keys, engine) as plugin:
            sent = [0]

            def probe() -> bool:
                plugin.publish(b"TypeAprobe-%d" % sent[0])
                sent[0] += 1
                return bool(good_sub.socket.poll(20))

            poll_until(probe, "a listed subscriber to receive what the plugin publishes", engine=engine)
            good_pub.socket.send(b"TypeClegit")
            engine.wait_collected(1, "TypeC")
            for what, peer in refused:
                if peer.socket.type in (zmq.SUB, zmq.REQ):
                    assert not peer.socket.poll(0), f"{what} received something\n{engine.describe()}"
    finally:
        peers.close()

    assert engine.finish() == 0, engine.describe()
    assert engine.collected_texts() == ["legit"], engine.describe()
    report = engine.report()
    assert report["outcome"] == "finished" and report["rejected"] == 0, engine.describe()
    assert engine.stderr_line_count < LOG_LINES_LIMIT, engine.describe()
    counted = field(engine, engine.run_record(), "connections_refused")
    by_key = [what for what, _ in refused if "no CURVE" not in what]
    assert counted >= len(by_key), (
        f"{len(by_key)} clients were refused for their key ({', '.join(by_key)}), but RUN "
        f"connections_refused is {counted}\n{engine.describe()}")


# --------------------------------------------------------------------------- a plugin's key, where it works


def test_a_plugin_key_works_on_its_own_port_only(start_engine, keys: Dict[str, Keys]) -> None:
    """Two applications with the same server key: one registers the plugin's key, the other
    another plugin's.  The plugin's key is refused on the other plugin's port and on the
    subscribe port (which lists only a subscriber), and works on its own port."""
    own = start_engine(**secure_flags(keys, emit_a=2))
    other = start_engine(**secure_flags(keys, plugin_key=keys["other_plugin"].z85, connect_timeout_ms=600_000))
    own_subscribe = own.subscribe_port
    server, plugin_keys = keys["engine"], keys["plugin"]
    peers = Peers()
    try:
        wrong_port = peers.make(zmq.REQ, other.port, (server, plugin_keys))
        wrong_port.socket.send(protocol.PING)
        assert_refused(wrong_port, "the plugin's key on another plugin's port", other)
        as_subscriber = peers.make(zmq.SUB, own_subscribe, (server, plugin_keys))
        as_subscriber.socket.setsockopt(zmq.SUBSCRIBE, b"")
        assert_refused(as_subscriber, "the plugin's key on the subscribe port", own)
        with client(keys, own) as plugin:
            assert [plugin.next_event(timeout=WAIT) for _ in range(2)] == [a_event(0), a_event(1)]
        assert not wrong_port.socket.poll(0) and not as_subscriber.socket.poll(0)
    finally:
        peers.close()
    own.assert_clean_exit()
    assert field(own, own.run_record(), "connections_refused") >= 1, own.describe()
    other.process.send_signal(signal.SIGTERM)
    assert other.finish() == 0, other.describe()
    assert field(other, other.run_record(), "connections_refused") >= 1, other.describe()
    assert other.report()["received"] == 0


def test_a_publisher_limited_to_typea_cannot_inject_anything_else(start_engine, keys: Dict[str, Keys]) -> None:
    """--publisher-key KEY=TypeA: its TypeC, TypeB and Bulk are discarded (RUN
    "tcp_publishes_refused" counts exactly those 3), its TypeA arrives.  An unrestricted
    publisher's TypeC arrives.  And the plugin's key, listed as a subscriber too, works on the
    subscribe port ("unless listed")."""
    server = keys["engine"]
    flags = secure_flags(keys, collect=1)
    flags["publisher_key"] = [f"{keys['typea_publisher'].public_file}=TypeA", keys["publisher"].z85]
    flags["subscriber_key"] = [keys["subscriber"].z85, keys["plugin"].z85]
    engine = start_engine(**flags)
    publish_port = engine.publish_port
    peers = Peers()
    try:
        listed_sub = peers.make(zmq.SUB, engine.subscribe_port, (server, keys["plugin"]))
        listed_sub.socket.setsockopt(zmq.SUBSCRIBE, b"TypeA")
        assert listed_sub.handshake_outcome("the plugin's key, listed as a subscriber", engine=engine) \
            == "succeeded", engine.describe()
        limited = peers.make(zmq.XPUB, publish_port, (server, keys["typea_publisher"]))
        wait_engine_subscribed(limited.socket, engine)
        unrestricted = peers.make(zmq.XPUB, publish_port, (server, keys["publisher"]))
        wait_engine_subscribed(unrestricted.socket, engine)
        with client(keys, engine) as plugin:
            # The plugin subscribes to TypeA, TypeB and Bulk: it would see what slipped through.
            sent = [0]

            def probe() -> bool:
                unrestricted.socket.send(b"TypeAprobe-%d" % sent[0])
                sent[0] += 1
                return bool(listed_sub.socket.poll(20))

            poll_until(probe, "the subscriber with the plugin's key to receive a TypeA", engine=engine)
            got = []
            while len(got) < sent[0]:  # the probes, so that what follows is all there is
                batch = plugin.next_events(1000, timeout=WAIT)
                assert batch, engine.describe()
                got += batch
            for frame in (b"TypeCevil", b"TypeB666", b"Bulkevil", b"TypeAallowed"):
                limited.socket.send(frame)
            assert plugin.next_events(10, timeout=WAIT) == [b"TypeAallowed"], engine.describe()
            unrestricted.socket.send(b"TypeClegit")
            engine.wait_collected(1, "TypeC")
            assert plugin.next_events(10, timeout=0.2) == [], engine.describe()
    finally:
        peers.close()
    assert engine.finish() == 0, engine.describe()
    assert engine.collected_texts() == ["legit"]
    run = engine.run_record()
    assert field(engine, run, "tcp_publishes_refused") == 3, engine.describe()


# --------------------------------------------------------------------------- a stranger before the plugin


def test_a_stranger_with_a_wrong_key_before_the_plugin_does_not_close_its_port(start_engine,
                                                                               keys: Dict[str, Keys]) -> None:
    """Strangers (a wrong key, no CURVE, a bare TCP probe) come and go on the plugin port
    before the plugin; after more than --disconnect-grace-ms the engine is still waiting, and
    the real plugin gets its events and finishes."""
    engine = start_engine(**secure_flags(keys, emit_a=3, disconnect_grace_ms=200, connect_timeout_ms=600_000))
    peers = Peers()
    try:
        for curve in [(keys["engine"], keys["stranger"]), None]:
            stranger = peers.make(zmq.REQ, engine.port, curve)
            stranger.socket.send(protocol.PING)
            assert_refused(stranger, "a stranger", engine)
            stranger.close()
            peers.watched.remove(stranger)
        wait_port_open(engine.port, engine=engine)
    finally:
        peers.close()
    try:
        engine.process.wait(1.0)  # with the bug the engine declares the plugin gone and exits
    except subprocess.TimeoutExpired:
        pass
    assert_alive(engine, "after strangers came and went, before the real plugin connected")
    with client(keys, engine) as plugin:
        assert [plugin.next_event(timeout=WAIT) for _ in range(3)] == [a_event(i) for i in range(3)]
    engine.assert_clean_exit()
    assert engine.report()["received"] == 3


# --------------------------------------------------------------------------- an unmodified legacy plugin


def test_an_unmodified_legacy_plugin_is_secured_by_environment_variables(start_engine, keys: Dict[str, Keys],
                                                                        tmp_path: Path) -> None:
    """The seed README's plugin, unchanged, with EVENT_ENGINE_SERVER_KEY (the engine's .key)
    and EVENT_ENGINE_CLIENT_KEY (the plugin's .key_secret): reads 10 events, says goodbye,
    quits; the engine, with CURVE on and the plugin's key as Z85 text, finishes it."""
    port_line = "PYPLUGIN_TCP_PORT = 6000"
    assert port_line in LEGACY_PLUGIN
    engine = start_engine(**secure_flags(keys, plugin_key=keys["plugin"].z85, emit_a=5, emit_b=5, collect=1))
    script = tmp_path / "legacy_plugin.py"
    script.write_text(LEGACY_PLUGIN.replace(port_line, f"PYPLUGIN_TCP_PORT = {engine.port}"))
    env = plugin_env()
    env["EVENT_ENGINE_SERVER_KEY"] = str(keys["engine"].public_file)
    env["EVENT_ENGINE_CLIENT_KEY"] = str(keys["plugin"].secret_file)
    plugin = subprocess.Popen([sys.executable, str(script)], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        # The engine ends once the plugin has quit; an engine that failed at start-up ends first.
        poll_until(lambda: plugin.poll() is not None or not engine.alive(), "the legacy plugin to finish")
        if plugin.poll() is None and engine.finish() != 0:
            pytest.fail(f"the engine failed while the legacy plugin ran\n{engine.describe()}", pytrace=False)
        out, err = plugin.communicate(timeout=WAIT)
    finally:
        if plugin.poll() is None:
            plugin.kill()
            plugin.communicate()
    assert plugin.returncode == 0, f"{out}\n{err}\n{engine.describe()}"
    got = [line.split("contents: ", 1)[1] for line in out.splitlines() if line.startswith("just got")]
    assert got == [repr(e) for i in range(5) for e in (a_event(i), b_event(i))], out
    assert engine.finish() == 0, engine.describe()
    assert engine.collected_texts() == ["Goodbye from python"]
    report = engine.report()
    assert report["outcome"] == "finished" and (report["received"], report["published"]) == (10, 1), engine.describe()


# --------------------------------------------------------------------------- broken handshakes with CURVE


def test_curve_ports_survive_garbage_and_plain_handshakes(start_engine, keys: Dict[str, Keys]) -> None:
    """With CURVE on: raw peers sending NULL greetings and READYs, garbage HELLOs, random
    bytes, truncated greetings, and connect-and-vanish loops on every port; afterwards the
    listed clients work, and no counter moved but the refusals."""
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    flags = secure_flags(keys, emit_a=2, collect=1, disconnect_grace_ms=600_000)
    engine = start_engine(**flags)
    server = keys["engine"]
    ports = {"plugin": (engine.port, b"DEALER"), "publish": (engine.publish_port, b"PUB"),
             "subscribe": (engine.subscribe_port, b"XSUB")}
    for name, (port, socket_type) in ports.items():
        wait_port_open(port, engine=engine)
        done, _ = garbage_connections(port, rng, count=32, socket_type=socket_type, server_mechanism=b"CURVE")
        assert_alive(engine, f"after garbage on the {name} port (seed {seed}): {done}")
        connect_and_vanish(port, 30)
        assert_alive(engine, f"after connect-and-vanish on the {name} port")
    peers = Peers()
    try:
        sub = peers.make(zmq.SUB, engine.subscribe_port, (server, keys["subscriber"]))
        sub.socket.setsockopt(zmq.SUBSCRIBE, b"TypeA")
        pub = peers.make(zmq.XPUB, engine.publish_port, (server, keys["publisher"]))
        wait_engine_subscribed(pub.socket, engine)
        with client(keys, engine) as plugin:
            assert [plugin.next_event(timeout=WAIT) for _ in range(2)] == [a_event(0), a_event(1)]
            sent = [0]

            def probe() -> bool:
                pub.socket.send(b"TypeAprobe-%d" % sent[0])
                sent[0] += 1
                return bool(sub.socket.poll(20))

            poll_until(probe, "a listed subscriber to receive from a listed publisher", engine=engine)
            pub.socket.send(b"TypeCafter the garbage")
            engine.wait_collected(1, "TypeC")
    finally:
        peers.close()
    assert engine.finish() == 0, engine.describe()
    report = engine.report()
    assert report["outcome"] == "finished" and (report["rejected"], report["published"]) == (0, 0), engine.describe()
    run = engine.run_record()
    assert field(engine, run, "tcp_publishes_refused") == 0, engine.describe()
    assert field(engine, run, "connections_refused") >= 0
    assert engine.stderr_line_count < LOG_LINES_LIMIT, f"seed {seed}\n{engine.describe()}"


# --------------------------------------------------------------------------- where the engine binds


def test_binding_beyond_loopback_without_keys_refuses_to_start(start_engine) -> None:
    """--bind-address 0.0.0.0 without --server-cert: the engine exits with an error naming the
    way out: keys, or the explicit opt-out."""
    engine = start_engine(bind_address="0.0.0.0", emit_a=1)
    status = engine.finish()
    assert status not in (0, 64), f"the engine should refuse to start (64 would be a flag it does not know)\n" \
                                  f"{engine.describe()}"
    error = engine.error()
    what = error["what"].lower()
    assert "key" in what and "insecure" in what, f"the error should mention keys and the opt-out: {error!r}"
    assert not engine.records("REPORT") or all(r["received"] == 0 for r in engine.records("REPORT"))


@pytest.mark.parametrize("secured", [False, True], ids=["allow-insecure", "with-keys"])
def test_binding_beyond_loopback_with_the_opt_out_or_keys_runs(start_engine, keys: Dict[str, Keys],
                                                               secured: bool) -> None:
    """--bind-address 0.0.0.0 with --allow-insecure (or with keys) runs; the client talks to
    127.0.0.1 only."""
    if secured:
        engine = start_engine(**secure_flags(keys, bind_address="0.0.0.0", emit_a=2))
        plugin = client(keys, engine, host="127.0.0.1")
    else:
        engine = start_engine(bind_address="0.0.0.0", allow_insecure=True, emit_a=2)
        plugin = PluginClient(engine.port, "127.0.0.1", timeout=WAIT)
    wait_port_open(engine.port, engine=engine)
    with plugin:
        assert [plugin.next_event(timeout=WAIT) for _ in range(2)] == [a_event(0), a_event(1)], engine.describe()
    engine.assert_clean_exit()


@pytest.mark.parametrize("address", ["::1", "localhost"])
def test_binding_to_ipv6_loopback_or_localhost(start_engine, address: str) -> None:
    """--bind-address ::1 (clients on tcp://[::1]:port with IPV6 set) and localhost (clients on
    whichever loopback address it bound): the plugin port, the publish port and the subscribe
    port all work."""
    engine = start_engine(bind_address=address, emit_a=2, collect=1)
    publish_port, subscribe_port = engine.publish_port, engine.subscribe_port
    if address == "::1":
        host = "::1"
    else:
        found: List[str] = []

        def bound() -> bool:
            for candidate in ("127.0.0.1", "::1"):
                try:
                    RawPeer(engine.port, candidate, timeout=1.0).close()
                    found.append(candidate)
                    return True
                except OSError:
                    pass
            assert_alive(engine, "before binding")
            return False

        poll_until(bound, f"the plugin port to open on 127.0.0.1 or ::1 ({address})", engine=engine)
        host = found[0]
    context = zmq.Context()
    try:
        sub = zmq_socket(context, zmq.SUB, host)
        sub.setsockopt(zmq.SUBSCRIBE, b"TypeA")
        sub.connect(endpoint(host, subscribe_port))
        pub = xpub_publisher(context, publish_port, host)
        wait_engine_subscribed(pub, engine)
        with PluginClient(engine.port, host, timeout=WAIT) as plugin:
            assert [plugin.next_event(timeout=WAIT) for _ in range(2)] == [a_event(0), a_event(1)]
            sent = [0]

            def probe() -> bool:
                pub.send(b"TypeAprobe-%d" % sent[0])
                sent[0] += 1
                return bool(sub.poll(20))

            poll_until(probe, f"an event from the publish port to the subscribe port on {host}",
                       engine=engine)
            pub.send(b"TypeCover " + host.encode())
            engine.wait_collected(1, "TypeC")
        sub.close(linger=0)
        pub.close(linger=0)
    finally:
        context.destroy(linger=0)  # closes whatever an early failure left open
    assert engine.finish() == 0, engine.describe()
    assert engine.collected_texts() == ["over " + host]
