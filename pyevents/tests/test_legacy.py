"""The legacy helper API and the top-level ``events`` compat module.

Runs against the protocol-conformance fixture (NOT the real engine).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
import zmq

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
