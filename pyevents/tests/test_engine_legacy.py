"""Old plugins and odd clients against the REAL engine (ee_test_engine).

Needs $EVENT_ENGINE_TEST_APP (see engine_fixture.py); fails without it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import zmq

from engine_fixture import (  # noqa: F401  (fixtures are used by name)
    WAIT,
    RawClient,
    a_event,
    b_event,
    bulk_payload,
    free_port,
    plugin_env,
    run_python,
    start_engine,
)
from pyevents import protocol

from legacy_plugin_source import LEGACY_PLUGIN  # noqa: E402  (the seed README's plugin)


def test_unmodified_legacy_plugin_reads_ten_events_says_goodbye_and_quits(start_engine, tmp_path: Path) -> None:
    """The original helper API, unchanged, as a separate process: 5 TypeA + 5 TypeB, a TypeC back, quit."""
    port_line = "PYPLUGIN_TCP_PORT = 6000"
    assert port_line in LEGACY_PLUGIN
    # The plugin starts FIRST: it must not matter whether the engine is up yet (ZeroMQ reconnects).
    # So its port is fixed before any engine exists (free_port, not the engine's BOUND line),
    # and the engine is told to bind that one.
    port = free_port()
    script = tmp_path / "legacy_plugin.py"
    script.write_text(LEGACY_PLUGIN.replace(port_line, f"PYPLUGIN_TCP_PORT = {port}"))
    plugin = subprocess.Popen([sys.executable, str(script)], env=plugin_env(), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    engine = start_engine(plugin_port=port, emit_a=5, emit_b=5, collect=1)
    try:
        out, err = plugin.communicate(timeout=WAIT)
    except subprocess.TimeoutExpired:
        plugin.kill()
        out, err = plugin.communicate()
        pytest.fail(f"the legacy plugin did not finish\nstdout: {out}\nstderr: {err}\n{engine.describe()}")

    assert plugin.returncode == 0, f"stdout: {out}\nstderr: {err}\n{engine.describe()}"
    expected = [event for i in range(5) for event in (a_event(i), b_event(i))]
    got = [line.split("contents: ", 1)[1] for line in out.splitlines() if line.startswith("just got message")]
    assert got == [repr(event) for event in expected]
    assert "quit command sent; exiting." in out
    assert "did not acknowledge" not in err and "unexpected response" not in err, err

    assert engine.finish() == 0, engine.describe()
    assert engine.collected_texts() == ["Goodbye from python"]
    report = engine.report("pyplugin")
    assert report["outcome"] == "finished", engine.describe()
    assert (report["received"], report["published"], report["rejected"]) == (10, 1, 0)
    assert report["unread"] == 0 and report["dropped"] == 0


NEW_SOCKET_EVERY_TIME = textwrap.dedent('''\
    import json, os, sys
    import zmq

    port = int(sys.argv[1])
    kept = []  # every context and socket stays open: nothing is ever closed

    def request(frame):
        context = zmq.Context()
        socket = context.socket(zmq.REQ)
        socket.setsockopt(zmq.RCVTIMEO, 30000)
        socket.connect(f"tcp://127.0.0.1:{port}")
        kept.append((context, socket))
        socket.send(frame)
        return socket.recv()

    events = [request(b"plugin_command: next_msg").decode() for _ in range(10)]
    published = request(b"TypeCfrom ten sockets").decode()
    pong = request(b"plugin_command: ping").decode()
    quit = request(b"plugin_command: quit").decode()
    print(json.dumps({"events": events, "published": published, "pong": pong, "quit": quit}), flush=True)
    os._exit(0)  # leave without closing anything (a context with open sockets would block term())
''')


def test_a_new_context_and_socket_for_every_request(start_engine, tmp_path: Path) -> None:
    """Consecutive commands from different TCP peers, old ones never closed: each is answered."""
    engine = start_engine(emit_a=10, collect=1)
    result = run_python(NEW_SOCKET_EVERY_TIME, str(engine.port), tmp_path=tmp_path)
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}\n{engine.describe()}"
    answer = json.loads(result.stdout)
    assert answer["events"] == [a_event(i).decode() for i in range(10)]
    assert answer["published"] == protocol.REPLY_PUBLISHED.decode()
    assert answer["pong"] == protocol.REPLY_PONG.decode()
    assert answer["quit"] == protocol.REPLY_QUIT_ACK.decode()

    engine.assert_clean_exit()
    assert engine.collected_texts() == ["from ten sockets"]
    report = engine.report()
    assert (report["received"], report["published"], report["rejected"], report["unread"]) == (10, 1, 0, 0)


@pytest.mark.parametrize("after_a_request", [False, True], ids=["first-request", "after-a-request"])
def test_quit_then_close_without_reading_the_reply(start_engine, after_a_request: bool) -> None:
    """The quit counts although its reply is never read; the engine does not wait for a disconnect."""
    # A long disconnect grace: only the quit can end the plugin within the bounded wait.
    engine = start_engine(disconnect_grace_ms=600_000)
    context = zmq.Context()
    socket = context.socket(zmq.REQ)
    socket.setsockopt(zmq.RCVTIMEO, int(WAIT * 1000))
    socket.connect(f"tcp://127.0.0.1:{engine.port}")
    if after_a_request:
        socket.send(protocol.PING)
        assert socket.recv() == protocol.REPLY_PONG
    socket.send(protocol.QUIT)
    socket.close(linger=int(WAIT * 1000))  # lets the queued quit leave; the reply is never read
    context.term()

    engine.assert_clean_exit()
    assert engine.report()["rejected"] == 0


@pytest.mark.parametrize("event", [b"TypeClast words", b"Bulk" + bulk_payload(4 << 20, 3)], ids=["TypeC", "4MiB-Bulk"])
def test_publish_then_quit_at_once_still_delivers_the_event(start_engine, event: bytes) -> None:
    """An acknowledged publish reaches the collector although the plugin quits right after it."""
    engine = start_engine(collect=1)
    with RawClient(engine.port) as client:
        assert client.one(event) == protocol.REPLY_PUBLISHED
        client.socket.send(protocol.QUIT)  # at once; the reply is read only after
        assert client.socket.recv() == protocol.REPLY_QUIT_ACK

    engine.assert_clean_exit()
    collected = engine.collected()
    assert len(collected) == 1, engine.describe()
    if event.startswith(b"TypeC"):
        assert collected[0] == {"type": "TypeC", "text": "last words"}
    else:
        assert collected[0]["type"] == "Bulk"
        assert collected[0]["size"] == 4 << 20
        assert collected[0]["index"] == 3
        assert collected[0]["pattern"] == "ok"
    assert engine.report()["published"] == 1
