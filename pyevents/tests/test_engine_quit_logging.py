"""PluginClient.quit() warns only when a missing answer means something, against the REAL engine.

Needs $EVENT_ENGINE_TEST_APP (see engine_fixture.py).  A normal shutdown in which the
application ends first (SIGTERM, as stop_on_signals does) and the plugin then leaves its
``with`` block, and a client whose handshake was refused (it got HandshakeFailed), log no
warning about quit; a quit nobody answers (no engine on the port) still does.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from engine_fixture import WAIT, a_event, free_port, start_engine  # noqa: F401  (fixtures are used by name)
from hostile import make_keys
from pyevents import EngineGone, EngineTimeout, HandshakeFailed, PluginClient


def quit_warnings(caplog: pytest.LogCaptureFixture):  # type: ignore[no-untyped-def]
    return [r.getMessage() for r in caplog.records
            if r.name.startswith("pyevents") and r.levelno >= logging.WARNING and "quit" in r.getMessage()]


def test_the_application_ending_first_is_not_warned_about(start_engine, caplog: pytest.LogCaptureFixture) -> None:
    engine = start_engine(emit_a=3)
    caplog.set_level(logging.DEBUG, logger="pyevents")
    with pytest.raises(EngineGone):
        with PluginClient(engine.port, timeout=WAIT) as client:
            assert [client.next_event(timeout=WAIT) for _ in range(3)] == [a_event(i) for i in range(3)]
            engine.stop()  # the application ends first
            while True:
                client.next_event(timeout=WAIT)  # until EngineGone: the plugin's normal way out
    assert quit_warnings(caplog) == []
    assert any("quit not acknowledged" in r.getMessage() for r in caplog.records)  # said, at debug level


def test_no_quit_warning_after_handshake_failed(start_engine, tmp_path: Path,
                                                caplog: pytest.LogCaptureFixture) -> None:
    keys = make_keys(tmp_path / "keys", "engine", "plugin", "stranger")
    engine = start_engine(server_cert=keys["engine"].secret_file, plugin_key=keys["plugin"].public_file)
    caplog.set_level(logging.DEBUG, logger="pyevents")
    with pytest.raises(HandshakeFailed):
        with PluginClient(engine.port, timeout=WAIT, server_key=keys["engine"].public_file,
                          client_key=keys["stranger"].secret_file) as client:
            client.next_event(timeout=WAIT)
    assert quit_warnings(caplog) == []


def test_a_quit_nobody_answers_is_still_warned_about(caplog: pytest.LogCaptureFixture) -> None:
    port = free_port()  # nothing listens there
    caplog.set_level(logging.WARNING, logger="pyevents")
    client = PluginClient(port, timeout=WAIT)
    assert client.quit(timeout=0.5) is False
    warnings = quit_warnings(caplog)
    assert len(warnings) == 1 and "quit was not acknowledged" in warnings[0], warnings


def test_after_a_reconnect_a_quit_nobody_answers_is_warned_about_again(start_engine,
                                                                       caplog: pytest.LogCaptureFixture) -> None:
    """The application ended (EngineGone: its silence at quit would be expected), then the
    client connected again to something on the port that does not answer: that silence means
    something, so quit warns. "gone" lasts until the next connection, not until a reply."""
    import zmq
    port = free_port()
    engine = start_engine(emit_a=1, plugin_port=port)
    caplog.set_level(logging.DEBUG, logger="pyevents")
    client = PluginClient(port, timeout=1.0)
    assert client.next_event(timeout=WAIT) == a_event(0)
    engine.stop()  # the application ends first
    with pytest.raises(EngineGone):
        while True:
            client.next_event(timeout=WAIT)
    with zmq.Context() as context:
        silent = context.socket(zmq.ROUTER)  # accepts the connection, never answers
        silent.linger = 0
        silent.bind(f"tcp://127.0.0.1:{port}")
        with pytest.raises(EngineTimeout):
            client.ping()  # connected again: nothing answers
        assert silent.poll(0)  # the request did reach it
        assert client.quit(timeout=0.5) is False
        silent.close()
    warnings = quit_warnings(caplog)
    assert len(warnings) == 1 and "quit was not acknowledged" in warnings[0], warnings
