"""The legacy helper API and the top-level ``events`` compat module.

Runs against the protocol-conformance fixture (NOT the real engine).

The helpers must behave as the original event-engine's ``events.py`` (tapis-project,
pyevents/pyevents/events.py) does, timeouts included:

* ``get_plugin_socket(context, port, host="engine")``: a REQ socket connected to
  ``tcp://{host}:{port}``, with no timeout set;
* ``get_next_msg(socket, timeout=-1)``: sets the socket's RCVTIMEO to *timeout* (so the
  default waits forever, whatever the socket had), sends ``plugin_command: next_msg``
  and raises ``zmq.Again`` if no reply came within *timeout* ms;
* ``publish_msg(socket, data)``: a blocking send (the socket's SNDTIMEO applies), then
  waits for the reply for as long as it takes, whatever the socket's RCVTIMEO; returns
  the reply;
* ``send_quit_command(socket)``: sends ``plugin_command: quit`` and returns; the reply
  is neither read nor waited for.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import zmq

from engine_fixture import free_port
from protocol_fixture import FakeEngine
from pyevents import events as legacy
from pyevents import protocol

pytestmark = pytest.mark.usefixtures("clean_host_env")

DIST_ROOT = Path(__file__).resolve().parent.parent

from legacy_plugin_source import LEGACY_PLUGIN  # noqa: E402  (the seed README's plugin)


def test_compat_module_reexports_the_legacy_api() -> None:
    import events

    for name in ("get_plugin_socket", "get_next_msg", "publish_msg", "send_quit_command"):
        assert getattr(events, name) is getattr(legacy, name)


def test_default_host_is_engine(context: zmq.Context) -> None:
    sock = legacy.get_plugin_socket(context, 6000)
    assert sock.LAST_ENDPOINT == b"tcp://engine:6000"
    assert sock.type == zmq.REQ


def test_env_overrides_default_host(context: zmq.Context, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENT_ENGINE_HOST", "127.0.0.1")
    assert legacy.get_plugin_socket(context, 6000).LAST_ENDPOINT == b"tcp://127.0.0.1:6000"
    assert legacy.get_plugin_socket(context, 6001, "10.0.0.9").LAST_ENDPOINT == b"tcp://10.0.0.9:6001"
    assert legacy.get_plugin_socket(context, 6002, host="engine").LAST_ENDPOINT == b"tcp://engine:6002"


def test_legacy_exchange(context: zmq.Context, fake_engine: FakeEngine, caplog: pytest.LogCaptureFixture) -> None:
    sock = legacy.get_plugin_socket(context, fake_engine.port, "127.0.0.1")
    fake_engine.push(b"TypeAone")
    assert legacy.get_next_msg(sock) == b"TypeAone"
    assert legacy.publish_msg(sock, b"TypeCdata") == "event-engine: msg published"
    with caplog.at_level(logging.WARNING, logger="pyevents.events"):
        reply = legacy.publish_msg(sock, b"TypeAnot mine")
    assert reply.startswith("event-engine: error: ")
    assert "unexpected response" in caplog.text
    legacy.send_quit_command(sock)
    assert sock.recv() == protocol.REPLY_QUIT_ACK  # the ack is left for the caller
    assert fake_engine.requests == [protocol.NEXT_MSG, b"TypeCdata", b"TypeAnot mine", protocol.QUIT]
    assert fake_engine.published == [b"TypeCdata"]


def test_legacy_timeout_raises_again(context: zmq.Context, fake_engine: FakeEngine) -> None:
    sock = legacy.get_plugin_socket(context, fake_engine.port, "127.0.0.1")
    with pytest.raises(zmq.error.Again):
        legacy.get_next_msg(sock, timeout=100)
    assert sock.RCVTIMEO == 100


# A real plugin of the original sets a 100 ms receive timeout; an engine under load may
# take 300 ms to answer.
SHORT_TIMEOUT_MS = 100
SLOW_REPLY_S = 0.3


def slow_replies(fake_engine: FakeEngine, seconds: float) -> None:
    """Make the fixture answer every request after *seconds* (the answers themselves unchanged)."""
    fake_engine.override = lambda request: time.sleep(seconds)  # None: answer as usual


def test_get_plugin_socket_sets_no_timeout(context: zmq.Context) -> None:
    sock = legacy.get_plugin_socket(context, 6000)
    assert (sock.RCVTIMEO, sock.SNDTIMEO) == (-1, -1)


def test_get_next_msg_waits_forever_by_default_whatever_the_socket_timeout(
        context: zmq.Context, fake_engine: FakeEngine) -> None:
    sock = legacy.get_plugin_socket(context, fake_engine.port, "127.0.0.1")
    sock.RCVTIMEO = SHORT_TIMEOUT_MS
    slow_replies(fake_engine, SLOW_REPLY_S)
    fake_engine.push(b"TypeAslow")
    assert legacy.get_next_msg(sock) == b"TypeAslow"
    assert sock.RCVTIMEO == -1  # the original sets RCVTIMEO to its timeout argument


def test_get_next_msg_timeout_applies_to_a_slow_reply(context: zmq.Context, fake_engine: FakeEngine) -> None:
    sock = legacy.get_plugin_socket(context, fake_engine.port, "127.0.0.1")
    slow_replies(fake_engine, SLOW_REPLY_S)
    fake_engine.push(b"TypeAlate")
    with pytest.raises(zmq.error.Again):
        legacy.get_next_msg(sock, timeout=SHORT_TIMEOUT_MS)
    # As with the original, the REQ socket still owes a receive: the next request fails.
    with pytest.raises(zmq.ZMQError):
        legacy.publish_msg(sock, b"TypeCtoo soon")


def test_publish_msg_waits_for_a_slow_reply_whatever_the_receive_timeout(
        context: zmq.Context, fake_engine: FakeEngine) -> None:
    sock = legacy.get_plugin_socket(context, fake_engine.port, "127.0.0.1")
    fake_engine.push(b"TypeAready")
    assert legacy.get_next_msg(sock, timeout=SHORT_TIMEOUT_MS) == b"TypeAready"  # RCVTIMEO is now 100 ms
    slow_replies(fake_engine, SLOW_REPLY_S)
    start = time.monotonic()
    assert legacy.publish_msg(sock, b"TypeCone") == "event-engine: msg published"
    assert legacy.publish_msg(sock, b"TypeCtwo") == "event-engine: msg published"
    assert time.monotonic() - start >= 2 * SLOW_REPLY_S
    assert sock.RCVTIMEO == SHORT_TIMEOUT_MS  # left as it was
    assert fake_engine.published == [b"TypeCone", b"TypeCtwo"]


def test_publish_msg_send_obeys_the_send_timeout(context: zmq.Context) -> None:
    # With ZMQ_IMMEDIATE and no engine listening, a REQ send blocks: the original's
    # blocking send gives up after SNDTIMEO with zmq.Again.
    sock = context.socket(zmq.REQ)
    sock.IMMEDIATE = 1
    sock.SNDTIMEO = SHORT_TIMEOUT_MS
    # A port with nothing listening on it (deliberately no engine, nor fake one): that is what
    # makes the send block.
    sock.connect(f"tcp://127.0.0.1:{free_port()}")
    raised: list = []

    def publish() -> None:
        try:
            legacy.publish_msg(sock, b"TypeCnobody")
        except Exception as e:  # noqa: BLE001 (recorded for the assertion)
            raised.append(e)

    thread = threading.Thread(target=publish, daemon=True)
    thread.start()
    thread.join(5)
    assert not thread.is_alive(), "publish_msg ignored SNDTIMEO and kept retrying"
    assert len(raised) == 1 and isinstance(raised[0], zmq.error.Again)


def test_send_quit_command_neither_reads_nor_waits_for_the_reply(
        context: zmq.Context, fake_engine: FakeEngine) -> None:
    sock = legacy.get_plugin_socket(context, fake_engine.port, "127.0.0.1")
    sock.RCVTIMEO = SHORT_TIMEOUT_MS
    slow_replies(fake_engine, 1.2)  # the old helper waited up to 1 s for the reply
    start = time.monotonic()
    legacy.send_quit_command(sock)
    assert time.monotonic() - start < 0.5
    sock.RCVTIMEO = 5000
    assert sock.recv() == protocol.REPLY_QUIT_ACK  # the reply is still there for the caller
    assert fake_engine.requests == [protocol.QUIT]


def test_unmodified_legacy_plugin_runs_with_compat_module(tmp_path: Path, fake_engine: FakeEngine) -> None:
    script = tmp_path / "plugin.py"
    script.write_text(LEGACY_PLUGIN.replace("PYPLUGIN_TCP_PORT = 6000", f"PYPLUGIN_TCP_PORT = {fake_engine.port}"))
    fake_engine.push(*[b"TypeB%d" % i for i in range(10)])
    env = dict(os.environ, PYTHONPATH=str(DIST_ROOT), EVENT_ENGINE_HOST="127.0.0.1")
    done = subprocess.run([sys.executable, str(script)], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "quit command sent" in done.stdout
    assert fake_engine.requests == [protocol.NEXT_MSG] * 10 + [b"TypeCGoodbye from python", protocol.QUIT]
    assert fake_engine.published == [b"TypeCGoodbye from python"]
