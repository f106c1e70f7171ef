"""What the NATS tests share: real nats-server processes (one, or a cluster with routes) on
free loopback ports in a temporary directory, the test application as a process, and a
minimal NATS protocol client for sending hand-made messages.

Every wait is for a condition, bounded only so that a broken build fails instead of
hanging; nothing asserts how long anything took.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Callable

APP = os.environ.get("EE_NATS_TEST_APP", "ee_nats_test_app")
SERVER = os.environ.get("EE_NATS_SERVER", "nats-server")
HANG_GUARD = 90.0  # seconds before a wait gives up: a hang, not a slow run


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(condition: Callable[[], bool], what: str, guard: float = HANG_GUARD) -> None:
    end = time.monotonic() + guard
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"still waiting for: {what}")
        time.sleep(0.02)


class NatsServer:
    """One nats-server process; `cluster` lists the route ports of all nodes (this one included)."""

    def __init__(self, directory: Path, name: str = "n1", jetstream: bool = False,
                 cluster_port: int | None = None, routes: list[int] | None = None) -> None:
        self.directory = directory / name
        self.directory.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.port = free_port()
        self.url = f"nats://127.0.0.1:{self.port}"
        lines = [f'server_name: "{name}"', f"listen: 127.0.0.1:{self.port}", "max_payload: 8MB"]
        if jetstream:
            lines.append(f'jetstream {{ store_dir: "{self.directory / "js"}" }}')
        if cluster_port is not None:
            route_list = ", ".join(f"nats-route://127.0.0.1:{p}" for p in routes or [] if p != cluster_port)
            lines.append(f'cluster {{ name: "ee", listen: 127.0.0.1:{cluster_port}, routes: [{route_list}] }}')
        self.config = self.directory / "server.conf"
        self.config.write_text("\n".join(lines) + "\n")
        self.log = self.directory / "server.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> "NatsServer":
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen([SERVER, "-c", str(self.config)], stdout=log, stderr=subprocess.STDOUT)
        wait_until(self._accepts, f"nats-server {self.name} listening on {self.port}")
        return self

    def _accepts(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"nats-server {self.name} exited: {self.log.read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                return s.recv(4).startswith(b"INFO")
        except OSError:
            return False

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


def start_cluster(directory: Path, nodes: int = 3, jetstream: bool = True) -> list[NatsServer]:
    route_ports = [free_port() for _ in range(nodes)]
    servers = [NatsServer(directory, f"n{i + 1}", jetstream, route_ports[i], route_ports) for i in range(nodes)]
    for server in servers:
        server.start()
    return servers


class App:
    """The test application (tests/nats/test_app.cpp) as a process: its latest STATUS and its FINAL report."""

    def __init__(self, directory: Path, role: str, servers: list[str], mode: str = "core", **flags: Any) -> None:
        self.name = flags.get("instance", f"app-{role}")
        self.stderr_path = directory / f"{self.name}-{os.getpid()}-{time.monotonic_ns()}.stderr"
        args = [APP, "--role", role, "--servers", ",".join(servers), "--mode", mode]
        for key, value in flags.items():
            args += ["--" + key.replace("_", "-"), str(value)]
        self.stderr = open(self.stderr_path, "wb")
        env = dict(os.environ, EVENT_ENGINE_LOG=os.environ.get("EVENT_ENGINE_LOG", "info"))
        self.process = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr,
                                        text=True, env=env)
        self.status: dict[str, Any] = {}
        self.final: dict[str, Any] | None = None
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith("STATUS "):
                self.status = json.loads(line[7:])
            elif line.startswith("FINAL "):
                self.final = json.loads(line[6:])

    def log(self) -> str:
        if not self.stderr.closed:
            self.stderr.flush()
        return self.stderr_path.read_text(errors="replace")

    def send(self, command: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()

    def wait_for(self, condition: Callable[[dict[str, Any]], bool], what: str) -> None:
        def ready() -> bool:
            if self.process.poll() is not None and self.final is None:
                raise AssertionError(f"{self.name} exited ({self.process.returncode}) while waiting for {what}:\n{self.log()[-4000:]}")
            return bool(self.status) and condition(self.status)
        try:
            wait_until(ready, f"{self.name}: {what}")
        except AssertionError as failure:
            raise AssertionError(f"{failure}\nlast status: {json.dumps(self.status)}\nlog:\n{self.log()[-4000:]}") from None

    def wait_subscribed(self) -> None:
        self.wait_for(lambda s: s["bridge"]["subscribed"], "bridge subscribed")

    def stop(self) -> dict[str, Any]:
        """SIGTERM (the application stops, as with app.stop()); returns the FINAL report."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=HANG_GUARD)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise AssertionError(f"{self.name} did not stop on SIGTERM:\n{self.log()[-4000:]}")
        self._reader.join(timeout=10)
        assert self.final is not None, f"{self.name} printed no FINAL report:\n{self.log()[-4000:]}"
        assert self.process.returncode == 0, f"{self.name} failed: {self.final.get('error')}\n{self.log()[-4000:]}"
        return self.final

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def close(self) -> None:
        self.kill()
        self.stderr.close()


def plugin(final: dict[str, Any], name: str) -> dict[str, Any]:
    for entry in final["plugins"]:
        if entry["name"] == name:
            return entry
    raise AssertionError(f"no plugin {name} in {final['plugins']}")


def check_bridge_identities(final: dict[str, Any]) -> None:
    """The bridge's own accounts (options.hpp) and how they meet the engine's plugin reports."""
    b = final["bridge"]
    assert b["events_out"] == b["published"] + b["echoes_skipped"] + b["publish_failed"] + b["unconfirmed_at_stop"], b
    assert b["messages_in"] == (b["events_in"] + b["own_skipped"] + b["not_imported"] + b["bad_messages"]
                                + b["decode_failures"] + b["duplicates_skipped"] + b["abandoned_at_stop"]), b
    names = {p["name"] for p in final["plugins"]}
    if "nats.out" in names:
        out = plugin(final, "nats.out")
        assert out["received"] == b["events_out"], (out, b)
        assert out["dropped"] == 0 and out["decode_failures"] == 0, out
    if "nats.in" in names:
        inbound = plugin(final, "nats.in")
        assert inbound["published"] == b["events_in"], (inbound, b)


def nats_publish(port: int, messages: list[tuple[str, bytes, dict[str, str] | None]]) -> None:
    """Publishes hand-made messages over a raw NATS connection (the text protocol, HPUB for headers)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.recv(65536)  # INFO
        s.sendall(b'CONNECT {"verbose":false,"pedantic":false,"headers":true,"protocol":1,"name":"intruder"}\r\n')
        for subject, payload, headers in messages:
            if headers is None:
                s.sendall(b"PUB %s %d\r\n%s\r\n" % (subject.encode(), len(payload), payload))
            else:
                head = b"NATS/1.0\r\n" + b"".join(f"{k}: {v}\r\n".encode() for k, v in headers.items()) + b"\r\n"
                s.sendall(b"HPUB %s %d %d\r\n%s%s\r\n" % (subject.encode(), len(head), len(head) + len(payload), head, payload))
        s.sendall(b"PING\r\n")
        reply = b""
        while b"PONG" not in reply:
            chunk = s.recv(65536)
            if not chunk:
                raise AssertionError(f"the server closed the connection: {reply!r}")
            reply += chunk
        if b"-ERR" in reply:
            raise AssertionError(f"the server refused a message: {reply!r}")
