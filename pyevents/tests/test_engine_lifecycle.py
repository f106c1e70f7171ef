"""How a plugin process comes and goes, with the REAL engine (ee_test_engine).

Needs $EVENT_ENGINE_TEST_APP (see engine_fixture.py); fails without it.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import zmq

from engine_fixture import (  # noqa: F401  (fixtures are used by name)
    WAIT,
    RawClient,
    a_event,
    free_port,
    plugin_env,
    read_until,
    start_engine,
)
from pyevents import EngineGone, PluginClient, protocol

# Reads the three events, says READY, then either waits for a fourth that never
# comes (a fetch is pending in the engine when it dies) or idles.
DOOMED_PLUGIN = textwrap.dedent('''\
    import sys, time
    import zmq
    from events import get_plugin_socket, get_next_msg

    port, mode = int(sys.argv[1]), sys.argv[2]
    socket = get_plugin_socket(zmq.Context(), port)
    for _ in range(3):
        print(get_next_msg(socket), flush=True)
    print("READY", flush=True)
    if mode == "waiting":
        get_next_msg(socket)   # never answered: no fourth event
    else:
        time.sleep(3600)
''')


@pytest.mark.parametrize("mode", ["waiting", "idle"])
def test_a_killed_plugin_process_is_reported_disconnected_by_name(start_engine, tmp_path: Path, mode: str) -> None:
    engine = start_engine(plugin_name="doomed-plugin", emit_a=3, disconnect_grace_ms=500)
    script = tmp_path / "doomed.py"
    script.write_text(DOOMED_PLUGIN)
    plugin = subprocess.Popen([sys.executable, str(script), str(engine.port), mode], env=plugin_env(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = read_until(plugin, "READY")
        assert lines == [repr(a_event(i)) for i in range(3)] + ["READY"]
        plugin.send_signal(signal.SIGKILL)
        plugin.wait(WAIT)
    finally:
        if plugin.poll() is None:
            plugin.kill()
            plugin.wait()
        plugin.stdout.close()
        plugin.stderr.close()

    status = engine.finish()  # run() returns: a vanished process does not fail the application
    assert status == 0, engine.describe()
    report = engine.report("doomed-plugin")
    assert report["outcome"] == "disconnected", engine.describe()
    assert "'doomed-plugin'" in report["error"] and "without sending quit" in report["error"]
    assert report["received"] == 3
    assert "'doomed-plugin' disconnected" in engine.stderr  # and it is logged by name
    assert engine.report("emitter")["outcome"] == "finished"


def test_a_plugin_that_never_connects_fails_run_naming_it(start_engine) -> None:
    engine = start_engine(plugin_name="ghost-plugin", connect_timeout_ms=300, emit_a=1)
    assert engine.finish() == 2, engine.describe()
    error = engine.error()
    assert error["kind"] == "plugin_error"
    assert error["plugin"] == "ghost-plugin"
    assert "'ghost-plugin'" in error["what"] and "never connected" in error["what"]
    assert str(engine.port) in error["what"]
    assert engine.report("ghost-plugin")["outcome"] == "failed"


def test_a_plugin_port_in_use_fails_run_with_a_bind_error(start_engine) -> None:
    squatter = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        engine = start_engine(plugin_name="squeezed-plugin", plugin_port=port)
        assert engine.finish() == 3, engine.describe()
    finally:
        squatter.close()
    error = engine.error()
    assert error["kind"] == "bind_error"
    assert "'squeezed-plugin'" in error["what"] and f":{port}" in error["what"]
    assert error["endpoint"].endswith(f":{port}")


def test_the_client_as_a_context_manager_sends_quit(start_engine) -> None:
    # A long disconnect grace: only a quit can end the plugin within the bounded wait.
    engine = start_engine(disconnect_grace_ms=600_000)
    with PluginClient(engine.port, timeout=WAIT) as client:
        client.ping()
    assert client.closed
    engine.assert_clean_exit()


@pytest.mark.parametrize("first_request", [True, False], ids=["raises-before-any-request", "raises-after-a-ping"])
def test_the_client_as_a_context_manager_sends_quit_when_the_body_raises(start_engine, first_request: bool) -> None:
    engine = start_engine(disconnect_grace_ms=600_000)
    with pytest.raises(RuntimeError, match="plugin bug"):
        with PluginClient(engine.port, timeout=WAIT) as client:
            if not first_request:
                client.ping()
            raise RuntimeError("plugin bug")
    assert client.closed
    engine.assert_clean_exit()
    assert engine.report()["rejected"] == 0


def test_a_plugin_that_starts_before_the_engine_is_served(start_engine) -> None:
    """Start-up order does not matter: a request queued before the engine exists is answered."""
    # The request is queued before the engine exists, so its port is fixed beforehand
    # (free_port, not the engine's BOUND line) and the engine is told to bind that one.
    port = free_port()
    context = zmq.Context()
    try:
        early = context.socket(zmq.REQ)
        early.setsockopt(zmq.RCVTIMEO, int(WAIT * 1000))
        early.setsockopt(zmq.LINGER, 0)
        early.connect(f"tcp://127.0.0.1:{port}")
        early.send(protocol.PING)  # queued: nothing listens on the port yet
        engine = start_engine(plugin_port=port, emit_a=2)
        assert early.recv() == protocol.REPLY_PONG
        early.send(protocol.NEXT_MSG)
        assert early.recv() == a_event(0)
        early.send(protocol.NEXT_MSG)
        assert early.recv() == a_event(1)
        early.send(protocol.QUIT)
        assert early.recv() == protocol.REPLY_QUIT_ACK
        early.close()
    finally:
        context.term()
    engine.assert_clean_exit()


def test_a_plugin_process_restarted_within_the_grace_carries_on(start_engine, tmp_path: Path) -> None:
    """Killed while idle and started again before disconnect_grace ends: no event lost, none twice."""
    engine = start_engine(emit_a=6, disconnect_grace_ms=600_000)
    script = tmp_path / "doomed.py"
    script.write_text(DOOMED_PLUGIN)
    first = subprocess.Popen([sys.executable, str(script), str(engine.port), "idle"], env=plugin_env(),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert read_until(first, "READY") == [repr(a_event(i)) for i in range(3)] + ["READY"]
    finally:
        first.kill()
        first.wait(WAIT)
        first.stdout.close()
        first.stderr.close()
    with PluginClient(engine.port, timeout=WAIT) as second:
        assert [second.next_event(timeout=WAIT) for _ in range(3)] == [a_event(i) for i in range(3, 6)]
        assert second.next_event(timeout=0) is None
    engine.assert_clean_exit()
    assert engine.report()["received"] == 6


def test_a_bare_tcp_connection_is_not_the_plugin(start_engine) -> None:
    """A port probe (e.g. a wait-for-port script before starting the plugin) must not count as the plugin."""
    engine = start_engine(emit_a=3, connect_timeout_ms=600_000, disconnect_grace_ms=100)
    deadline = time.monotonic() + WAIT
    while True:  # the engine binds its port shortly after it starts
        try:
            socket.create_connection(("127.0.0.1", engine.port), timeout=WAIT).close()
            break
        except ConnectionRefusedError:
            assert time.monotonic() < deadline, f"the plugin port never opened\n{engine.describe()}"
            time.sleep(0.01)
    # With the bug the engine declares the plugin gone 100 ms after the probe and exits;
    # without it, it keeps waiting (connect_timeout), and this wait simply runs out.
    with pytest.raises(subprocess.TimeoutExpired):
        engine.process.wait(1.0)
    with PluginClient(engine.port, timeout=WAIT) as client:
        assert [client.next_event(timeout=WAIT) for _ in range(3)] == [a_event(i) for i in range(3)]
    engine.assert_clean_exit()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_the_engine_cleanly(start_engine, sig: signal.Signals) -> None:
    """stop_on_signals: run() returns, every plugin reported stopped, exit 0."""
    engine = start_engine(collect=1)
    client = PluginClient(engine.port, timeout=WAIT)
    try:
        client.ping()  # run() is running: the external plugin answers
        engine.process.send_signal(sig)
        status = engine.finish()
    finally:
        client.close()
    assert status == 0, engine.describe()
    assert engine.report()["outcome"] == "stopped"
    assert engine.report("collector")["outcome"] == "stopped"
    assert engine.records("RUN") == [
            {"stopped": True, "tcp_events_offered": 0, "tcp_publishes_refused": 0, "connections_refused": 0}
        ]


def test_after_quit_the_port_closes(start_engine) -> None:
    """A second connection of the plugin sees the port close after quit (EngineGone), not silence."""
    engine = start_engine(collect=1)  # the collector keeps the application running after the quit
    other = PluginClient(engine.port, timeout=5)
    try:
        other.ping()
        with RawClient(engine.port) as quitting:
            quitting.quit()
        with pytest.raises(EngineGone):
            other.ping()
    finally:
        other.close()
