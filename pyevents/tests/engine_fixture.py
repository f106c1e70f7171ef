"""Running the REAL engine for the ``test_engine_*.py`` tests.

The engine is ``ee_test_engine`` (tests/external/test_engine.cpp in the
repository), an application built from this repository and driven by flags;
its path is taken from ``$EVENT_ENGINE_TEST_APP``.  Without it, every test
that uses the engine FAILS (it does not skip) with a message saying how to
build and name it; the protocol-fixture tests do not need it::

    cd pyevents && /usr/bin/python3 -m pytest -k "not test_engine"

:class:`Engine` starts the application as a subprocess, reads its stdout on a
thread (one ``KEYWORD {json}`` line per thing it has to say, see
test_engine.cpp) and lets a test wait, with a bound, for a condition on what it
printed.  Nothing here sleeps hoping something happened: every wait polls a
condition and fails the test with the engine's output when it is not met.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence

import pytest
import zmq

from pyevents import protocol

ENV_VAR = "EVENT_ENGINE_TEST_APP"
TESTS_DIR = Path(__file__).resolve().parent
PYEVENTS_DIR = TESTS_DIR.parent
REPO_DIR = PYEVENTS_DIR.parent

#: Generous bound for anything the engine should do "soon" (sanitizer builds are slow).
WAIT = 30.0

#: The events the test engine's emitter publishes (see test_engine.cpp).
def a_event(i: int) -> bytes:
    return b"TypeAA-%d" % i


def b_event(i: int) -> bytes:
    return b"TypeB%d" % i


def bulk_payload(size: int, index: int) -> bytes:
    """The Bulk pattern: byte i is (i + index) % 251."""
    cycle = bytes(range(251))
    start = index % 251
    rotated = cycle[start:] + cycle[:start]
    return (rotated * (size // 251 + 1))[:size]


def engine_app_path() -> str:
    """The test engine's path from $EVENT_ENGINE_TEST_APP; fails the test if it is missing."""
    path = os.environ.get(ENV_VAR)
    if not path:
        pytest.fail(
            f"${ENV_VAR} is not set, so the tests against the real engine cannot run. Build the test engine "
            "and name it, e.g.\n"
            "    cmake -S . -B build -G Ninja && cmake --build build --target ee_test_engine\n"
            f"    {ENV_VAR}=$PWD/build/tests/external/ee_test_engine /usr/bin/python3 -m pytest pyevents/tests\n"
            "or run `ctest --test-dir build -L python` (one test per file, e.g. pyevents.test_engine_delivery), "
            "which sets it. "
            "To run only the protocol-fixture tests: pytest -k 'not test_engine'.",
            pytrace=False,
        )
    if not os.path.isfile(path) or not os.access(path, os.X_OK):
        pytest.fail(f"${ENV_VAR}={path!r} is not an executable file (build the ee_test_engine target)", pytrace=False)
    return path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago.

    Racy (another process may take it before it is used): only for the few tests that need a
    port before any engine exists (a plugin started first) or one that nothing listens on.
    An engine's own ports come from its BOUND line (start it with port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def plugin_env() -> Dict[str, str]:
    """The environment of a separate Python plugin process: pyevents importable, engine on localhost."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PYEVENTS_DIR), env.get("PYTHONPATH")]))
    env["EVENT_ENGINE_HOST"] = "127.0.0.1"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


class Engine:
    """One ee_test_engine process.  Use :func:`start_engine` (fixture) to make one."""

    def __init__(self, app: str, flags: Dict[str, Any]) -> None:
        # Port 0 unless a test chooses: the engine binds a free port and says which
        # (its BOUND line), so two tests never race for one port.  (0 is the test engine's
        # default for the publish and subscribe ports; the plugin port's is not, so it is passed.)
        self._fixed_ports: Dict[str, Optional[int]] = {
            key: flags.get(key) or None for key in ("plugin_port", "publish_port", "subscribe_port")}
        flags = dict(flags, plugin_port=self._fixed_ports["plugin_port"] or 0)
        self.name: str = flags.get("plugin_name", "pyplugin")
        args = [app]
        for key, value in flags.items():
            flag = "--" + key.replace("_", "-")
            if key == "external":
                if not value:
                    args.append("--no-external")
            elif isinstance(value, (list, tuple)):
                for item in value:  # a repeatable flag: --publisher-key K1 --publisher-key K2
                    args += [flag, str(item)]
            elif value is True:
                args.append(flag)
            elif value is not False and value is not None:
                args += [flag, str(value)]
        self.args = args
        self._lines: List[str] = []
        self._stderr: List[str] = []
        self._changed = threading.Condition()
        env = dict(os.environ)
        env.setdefault("EVENT_ENGINE_LOG", "warn")
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        self._readers = [
            threading.Thread(target=self._read, args=(self.process.stdout, self._lines), daemon=True),
            threading.Thread(target=self._read, args=(self.process.stderr, self._stderr), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read(self, stream, into: List[str]) -> None:
        for raw in iter(stream.readline, b""):
            with self._changed:
                into.append(raw.decode("utf-8", "surrogateescape").rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    # ----------------------------------------------------------- what it said

    def bound(self) -> Dict[str, Any]:
        """The engine's BOUND line (its ports, 0s resolved); waits for it."""
        self.wait_for(lambda: bool(self.records("BOUND")), "the engine to bind its endpoints")
        return self.records("BOUND")[0]

    def _port(self, key: str) -> int:
        """The port *key* names: the one the test chose, or the one the engine bound (waits for BOUND)."""
        return self._fixed_ports[key] or self.bound()[key]

    @property
    def port(self) -> int:
        """The external plugin's port: the one the test chose, or the one the engine bound."""
        return self._port("plugin_port")

    @property
    def publish_port(self) -> int:
        """The publish port (external processes publish to it): chosen by the test, or bound."""
        return self._port("publish_port")

    @property
    def subscribe_port(self) -> int:
        """The subscribe port (external processes subscribe on it): chosen by the test, or bound."""
        return self._port("subscribe_port")

    def records(self, keyword: str) -> List[Dict[str, Any]]:
        """The JSON objects of the stdout lines ``KEYWORD {...}`` so far."""
        prefix = keyword + " "
        with self._changed:
            lines = list(self._lines)
        return [json.loads(line[len(prefix):]) for line in lines if line.startswith(prefix)]

    def collected(self, event_type: Optional[str] = None) -> List[Dict[str, Any]]:
        return [r for r in self.records("COLLECTED") if event_type is None or r["type"] == event_type]

    def collected_texts(self) -> List[str]:
        return [r["text"] for r in self.collected("TypeC")]

    def report(self, name: Optional[str] = None) -> Dict[str, Any]:
        """The REPORT of plugin *name* (default: the external plugin); fails if there is none."""
        name = self.name if name is None else name
        for record in self.records("REPORT"):
            if record["name"] == name:
                return record
        pytest.fail(f"the engine printed no report for plugin {name!r}\n{self.describe()}", pytrace=False)

    def error(self) -> Dict[str, Any]:
        errors = self.records("ERROR")
        assert len(errors) == 1, f"expected one ERROR line\n{self.describe()}"
        return errors[0]

    @property
    def stderr(self) -> str:
        with self._changed:
            return "\n".join(self._stderr)

    @property
    def stderr_line_count(self) -> int:
        """How many lines the engine has written to stderr so far (its log)."""
        with self._changed:
            return len(self._stderr)

    def count_lines(self, prefix: str) -> int:
        """How many stdout lines so far start with *prefix* (cheap: no JSON parsing)."""
        with self._changed:
            return sum(1 for line in self._lines if line.startswith(prefix))

    def run_record(self) -> Dict[str, Any]:
        """The RUN line's JSON object; fails if the engine printed none or several."""
        runs = self.records("RUN")
        if len(runs) != 1:
            pytest.fail(f"expected one RUN line, got {len(runs)}\n{self.describe()}", pytrace=False)
        return runs[0]

    def alive(self) -> bool:
        return self.process.poll() is None

    def memory(self) -> Optional[Dict[str, int]]:
        """The engine's memory from /proc/<pid>/status while it runs, in bytes:
        ``{"VmHWM": peak resident set, "VmRSS": resident set now}``; None once it has exited."""
        try:
            with open(f"/proc/{self.process.pid}/status") as status:
                text = status.read()
        except OSError:
            return None
        if self.process.poll() is not None:
            return None  # a zombie's numbers are gone (or belong to no one)
        found: Dict[str, int] = {}
        for line in text.splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmHWM", "VmRSS"):
                number, _, unit = rest.strip().partition(" ")
                found[key] = int(number) * (1024 if unit.strip() == "kB" else 1)
        return found or None

    @staticmethod
    def _clip(lines: List[str], head: int = 150, tail: int = 100) -> str:
        # A flood test can make the engine print 100,000 lines; a failure message shows both ends.
        if len(lines) <= head + tail + 50:
            return "\n".join(lines)
        return "\n".join(lines[:head] + [f"[... {len(lines) - head - tail} lines not shown ...]"] + lines[-tail:])

    def describe(self) -> str:
        with self._changed:
            out, err = self._clip(self._lines), self._clip(self._stderr)
        return (
            f"engine: {' '.join(self.args)}\nexit status: {self.process.poll()}\n"
            f"--- stdout ---\n{out}\n--- stderr ---\n{err}\n---"
        )

    # ---------------------------------------------------------------- waiting

    def wait_for(self, condition: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
        """Wait until *condition* holds (checked whenever the engine prints); fail after *timeout*."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                # The condition reads the lines itself (re-entrant: Condition wraps an RLock).
                if condition():
                    return
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                if self.process.poll() is not None and not any(r.is_alive() for r in self._readers):
                    if condition():
                        return
                    pytest.fail(f"the engine exited before {what}\n{self.describe()}", pytrace=False)
                self._changed.wait(min(left, 0.5))
        pytest.fail(f"timed out after {timeout:g} s waiting for {what}\n{self.describe()}", pytrace=False)

    def wait_collected(self, count: int, event_type: Optional[str] = None, timeout: float = WAIT) -> None:
        self.wait_for(lambda: len(self.collected(event_type)) >= count,
                      f"the collector to have {count} {event_type or 'event'}(s)", timeout)

    def wait_emitted(self, timeout: float = WAIT) -> None:
        self.wait_for(lambda: bool(self.records("EMITTED")), "the emitter to finish", timeout)

    def finish(self, timeout: float = WAIT) -> int:
        """Wait for the engine to exit on its own; return its status (fail after *timeout*)."""
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            pytest.fail(f"the engine did not exit within {timeout:g} s\n{self.describe()}", pytrace=False)
        for reader in self._readers:
            reader.join(WAIT)
        return self.process.returncode

    def stop(self) -> None:
        """End the engine if it still runs: SIGTERM (it stops cleanly), then SIGKILL."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        for reader in self._readers:
            reader.join(10)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()

    def assert_clean_exit(self, timeout: float = WAIT) -> None:
        """The engine exits 0 and the external plugin finished (sent quit)."""
        status = self.finish(timeout)
        assert status == 0, self.describe()
        report = self.report()
        assert report["outcome"] == "finished", self.describe()
        assert report["dropped"] == 0, self.describe()


@pytest.fixture
def start_engine() -> Iterator[Callable[..., Engine]]:
    """``start_engine(emit_a=5, collect=1, ...)`` starts an engine with those flags.

    Flags are test_engine.cpp's, with dashes as underscores (``True`` for a
    switch, ``external=False`` for ``--no-external``); ``plugin_port``,
    ``publish_port`` and ``subscribe_port`` default to 0, a port the engine
    picks and reports (``engine.port``, ``engine.publish_port``,
    ``engine.subscribe_port``).  Every engine is ended when the test ends.
    """
    engines: List[Engine] = []

    def start(**flags: Any) -> Engine:
        # Checked here, in the test's body, so a missing engine FAILS the test (not a setup error).
        engine = Engine(engine_app_path(), flags)
        engines.append(engine)
        return engine

    yield start
    for engine in engines:
        engine.stop()


class RawClient:
    """A bare REQ socket on a plugin port, for byte-exact requests (bounded waits)."""

    def __init__(self, port: int, timeout: float = WAIT) -> None:
        self.context = zmq.Context()
        self.socket = self.context.socket(zmq.REQ)
        self.socket.setsockopt(zmq.LINGER, 5000)
        self.socket.setsockopt(zmq.RCVTIMEO, int(timeout * 1000))
        self.socket.setsockopt(zmq.SNDTIMEO, int(timeout * 1000))
        self.socket.connect(f"tcp://127.0.0.1:{port}")

    def request(self, frames: "bytes | Sequence[bytes]") -> List[bytes]:
        """Send one request (one frame, or several) and return the reply's frames."""
        if isinstance(frames, (bytes, bytearray)):
            self.socket.send(bytes(frames))
        else:
            self.socket.send_multipart(list(frames))
        try:
            return self.socket.recv_multipart()
        except zmq.Again:
            pytest.fail(f"no reply to {bytes(frames)[:60]!r} within the client's timeout", pytrace=False)

    def one(self, frame: bytes) -> bytes:
        reply = self.request(frame)
        assert len(reply) == 1, f"expected one frame in the reply to {frame[:60]!r}, got {len(reply)}"
        return reply[0]

    def quit(self) -> None:
        assert self.one(protocol.QUIT) == protocol.REPLY_QUIT_ACK

    def close(self) -> None:
        self.socket.close()
        self.context.term()

    def __enter__(self) -> "RawClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def run_python(script: str, *args: str, timeout: float = WAIT, tmp_path: Path) -> subprocess.CompletedProcess:
    """Run *script* as a separate Python process, as a plugin would be run; bounded by *timeout*."""
    path = tmp_path / "plugin.py"
    path.write_text(script)
    try:
        return subprocess.run([sys.executable, str(path), *args], env=plugin_env(), capture_output=True,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"the plugin process did not exit within {timeout:g} s\nstdout: {e.stdout}\nstderr: {e.stderr}",
                    pytrace=False)


def read_until(process: subprocess.Popen, last: str, timeout: float = WAIT) -> List[str]:
    """Lines of *process*'s (text) stdout up to and including *last*; fails after *timeout*."""
    lines: List[str] = []
    done = threading.Event()

    def read() -> None:
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            if lines[-1] == last:
                break
        done.set()

    threading.Thread(target=read, daemon=True).start()
    if not done.wait(timeout) or not lines or lines[-1] != last:
        process.kill()
        pytest.fail(f"no {last!r} line from the process within {timeout:g} s; got {lines!r}", pytrace=False)
    return lines
