"""What the NATS tests share: real nats-server processes (one, or a cluster with routes) on
free loopback ports in a temporary directory, the test application as a process, and a
minimal NATS protocol client for sending hand-made messages.

Every wait is for a condition, bounded only so that a broken build fails instead of
hanging; nothing asserts how long anything took.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any, Callable

APP = os.environ.get("EE_NATS_TEST_APP", "ee_nats_test_app")
SERVER = os.environ.get("EE_NATS_SERVER", "nats-server")
HANG_GUARD = 90.0  # seconds before a wait gives up: a hang, not a slow run


def _prctl() -> Callable[..., int] | None:
    try:
        import ctypes
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # not Linux: no parent-death signal
        return None


_PRCTL = _prctl()  # resolved here, not in the forked child


def die_with_parent() -> Callable[[], None] | None:
    """A preexec_fn for subprocess.Popen: the child gets SIGKILL when the thread that started it
    ends (prctl PR_SET_PDEATHSIG), so a runner killed or stopped by a signal leaves no process
    behind; if that parent is already gone when the child starts, the child exits at once.
    Start such children from the main thread (the signal follows the forking thread's end)."""
    if _PRCTL is None:
        return None
    parent = os.getpid()
    prctl = _PRCTL

    def preexec() -> None:
        prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG = 1
        if os.getppid() != parent:
            os._exit(1)
    return preexec


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
                 cluster_port: int | None = None, routes: list[int] | None = None,
                 config: list[str] | None = None, scheme: str = "nats", monitor: bool = False,
                 die_with_parent: bool = False) -> None:
        """`config`: more lines for the server's configuration file (tls {...}, authorization {...},
        accounts {...}, leafnodes {...}); `scheme`: of `url` ("tls" for a TLS server); `monitor`:
        an HTTP monitoring port on loopback (`monitoring()`); `die_with_parent`: the server is
        SIGKILLed when the thread that started it ends (die_with_parent(); the soak runner's)."""
        self.die_with_parent = die_with_parent
        self.directory = directory / name
        self.directory.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.port = free_port()
        self.url = f"{scheme}://127.0.0.1:{self.port}"
        lines = [f'server_name: "{name}"', f"listen: 127.0.0.1:{self.port}", "max_payload: 8MB"]
        self.monitor_port = free_port() if monitor else None
        if self.monitor_port is not None:
            lines.append(f'http: "127.0.0.1:{self.monitor_port}"')
        lines += config or []
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
            self.process = subprocess.Popen([SERVER, "-c", str(self.config)], stdout=log, stderr=subprocess.STDOUT,
                                            preexec_fn=die_with_parent() if self.die_with_parent else None)
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

    def monitoring(self, path: str) -> dict[str, Any]:
        """GET http://127.0.0.1:<monitor port>/<path> (e.g. "leafz?subs=1") as JSON."""
        assert self.monitor_port is not None, f"nats-server {self.name} was started without monitor=True"
        with urllib.request.urlopen(f"http://127.0.0.1:{self.monitor_port}/{path}", timeout=10) as reply:
            return json.loads(reply.read())

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


def openssl(*args: str | Path, cwd: Path) -> None:
    """Runs the openssl command line tool (Debian package openssl), failing with its output."""
    if shutil.which("openssl") is None:
        raise AssertionError("the TLS tests need the openssl command (Debian: apt-get install openssl)")
    done = subprocess.run(["openssl", *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise AssertionError(f"openssl {' '.join(map(str, args))} failed:\n{done.stdout}{done.stderr}")


class Pki:
    """A throwaway certificate authority in `directory`, made with openssl, that issues
    certificates (P-256 keys): `issue("server", server=True)` is valid for 127.0.0.1 and
    localhost; `issue("client")` is a client certificate. Paths: `ca`, and `cert(name)`/`key(name)`."""

    def __init__(self, directory: Path, name: str = "ca") -> None:
        self.directory = directory / name
        self.directory.mkdir(parents=True, exist_ok=True)
        self.ca = self.directory / "ca.pem"
        self._ca_key = self.directory / "ca-key.pem"
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", self._ca_key, "-out", self.ca, "-days", "2", "-subj", f"/CN=event_engine test {name}",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                cwd=self.directory)

    def cert(self, name: str) -> Path:
        return self.directory / f"{name}.pem"

    def key(self, name: str) -> Path:
        return self.directory / f"{name}-key.pem"

    def issue(self, name: str, server: bool = False) -> "Pki":
        request = self.directory / f"{name}.csr"
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", self.key(name), "-out", request, "-subj", f"/CN={name}", cwd=self.directory)
        extensions = self.directory / f"{name}.ext"
        extensions.write_text("basicConstraints=CA:FALSE\n" + (
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n" if server
            else "extendedKeyUsage=clientAuth\n"))
        openssl("x509", "-req", "-in", request, "-CA", self.ca, "-CAkey", self._ca_key, "-CAcreateserial",
                "-out", self.cert(name), "-days", "2", "-extfile", extensions, cwd=self.directory)
        return self


def _crc16(data: bytes) -> int:  # CRC-16/XMODEM, as the NKey encoding uses
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021 if crc & 0x8000 else crc << 1) & 0xFFFF
    return crc


def _base32(raw: bytes) -> str:
    return base64.b32encode(raw + _crc16(raw).to_bytes(2, "little")).decode().rstrip("=")


def _base64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


class NKey:
    """An Ed25519 key pair in NATS' NKey encoding (`kind`: "O" operator, "A" account, "U" user),
    made and used for signing with openssl: `public` ("O...", "A...", "U..."), `seed` ("SO...", ...)."""

    _PREFIX = {"O": 14 << 3, "A": 0, "U": 20 << 3}
    _PKCS8_ED25519 = bytes.fromhex("302e020100300506032b657004220420")  # + the 32-byte seed

    def __init__(self, directory: Path, kind: str) -> None:
        self._file = directory / f"{kind}-{os.urandom(6).hex()}.der"
        seed = os.urandom(32)
        self._file.write_bytes(self._PKCS8_ED25519 + seed)
        public_der = self._file.with_suffix(".pub")
        openssl("pkey", "-inform", "DER", "-in", self._file, "-pubout", "-outform", "DER", "-out", public_der, cwd=directory)
        prefix = self._PREFIX[kind]
        self.public = _base32(bytes([prefix]) + public_der.read_bytes()[-32:])
        self.seed = _base32(bytes([(18 << 3) | (prefix >> 5), (prefix & 31) << 3]) + seed)

    def sign(self, data: bytes) -> bytes:
        message, signature = self._file.with_suffix(".msg"), self._file.with_suffix(".sig")
        message.write_bytes(data)
        openssl("pkeyutl", "-sign", "-inkey", self._file, "-keyform", "DER", "-rawin", "-in", message, "-out", signature,
                cwd=self._file.parent)
        return signature.read_bytes()

    def jwt(self, subject: str, name: str, nats: dict[str, Any]) -> str:
        """A NATS JWT (v2) about `subject`, issued and signed by this key."""
        header = _base64url(json.dumps({"typ": "JWT", "alg": "ed25519-nkey"}).encode())
        claims = {"jti": "", "iat": int(time.time()), "iss": self.public, "name": name, "sub": subject,
                  "nats": dict(nats, version=2)}
        claims["jti"] = base64.b32encode(hashlib.sha256(json.dumps(claims).encode()).digest()).decode().rstrip("=")
        payload = _base64url(json.dumps(claims).encode())
        return f"{header}.{payload}." + _base64url(self.sign(f"{header}.{payload}".encode()))


class Operator:
    """Decentralized NATS auth made by hand (what `nsc` would make): an operator, its accounts
    (`account(name)`), users with `.creds` files (`creds(name, account)`); `config` is the
    server's part: the operator's JWT and the accounts' JWTs preloaded (resolver: MEMORY)."""

    _UNLIMITED = {"subs": -1, "data": -1, "payload": -1, "imports": -1, "exports": -1, "wildcards": True,
                  "conn": -1, "leaf": -1}

    def __init__(self, directory: Path) -> None:
        self.directory = directory / "operator"
        self.directory.mkdir(parents=True, exist_ok=True)
        self.key = NKey(self.directory, "O")
        self._jwt_file = self.directory / "operator.jwt"
        self._jwt_file.write_text(self.key.jwt(self.key.public, "event_engine test", {"type": "operator"}))
        self._accounts: dict[str, str] = {}  # public key -> JWT

    def account(self, name: str, known: bool = True) -> NKey:
        """A new account; `known=False`: signed by this operator but not preloaded into the server."""
        key = NKey(self.directory, "A")
        claims = {"type": "account", "limits": self._UNLIMITED, "default_permissions": {"pub": {}, "sub": {}}}
        if known:
            self._accounts[key.public] = self.key.jwt(key.public, name, claims)
        return key

    def creds(self, name: str, account: NKey, seed_of: NKey | None = None) -> Path:
        """A `.creds` file for a new user of `account`: its JWT and its seed (or `seed_of`'s: a mismatch)."""
        user = NKey(self.directory, "U")
        token = account.jwt(user.public, name, {"type": "user", "pub": {}, "sub": {}, "subs": -1, "data": -1, "payload": -1})
        path = self.directory / f"{name}.creds"
        path.write_text(f"-----BEGIN NATS USER JWT-----\n{token}\n------END NATS USER JWT------\n\n"
                        f"-----BEGIN USER NKEY SEED-----\n{(seed_of or user).seed}\n------END USER NKEY SEED------\n")
        return path

    @property
    def config(self) -> list[str]:
        preload = ", ".join(f'{public}: "{token}"' for public, token in self._accounts.items())
        return [f'operator: "{self._jwt_file}"', "resolver: MEMORY", f"resolver_preload: {{ {preload} }}"]


def start_cluster(directory: Path, nodes: int = 3, jetstream: bool = True, monitor: bool = False) -> list[NatsServer]:
    route_ports = [free_port() for _ in range(nodes)]
    servers = [NatsServer(directory, f"n{i + 1}", jetstream, route_ports[i], route_ports, monitor=monitor)
               for i in range(nodes)]
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
            if self.process.poll() is not None:
                # Exited: its last words (FINAL) decide; nothing will change any more.
                self._reader.join(timeout=10)
                last = self.final or self.status
                if last and condition(last):
                    return True
                error = self.final.get("error") if self.final else "no FINAL report"
                raise AssertionError(f"{self.name} exited ({self.process.returncode}) while waiting for {what}: {error}\n"
                                     f"{self.log()[-4000:]}")
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
    assert b["events_out"] == (b["published"] + b["echoes_skipped"] + b["publish_failed"] + b["unconfirmed_at_stop"]
                               + b["unsent_at_stop"]), b
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


def exchange(directory: Path, a_servers: list[str], b_servers: list[str], a_flags: dict[str, Any] | None = None,
             b_flags: dict[str, Any] | None = None, pings: int = 1000, pongs: int = 500, alerts: int = 20,
             ready: Callable[[], None] | None = None, mode: str = "core",
             blobs: int = 0) -> tuple[dict[str, Any], dict[str, Any]]:
    """Applications a (sends Ping, `blobs` 5 MiB Blobs and Alert, on `a_servers`) and b (sends
    Pong and Alert, on `b_servers`) exchange events under `mode` ("core" NATS or "jetstream");
    `ready`, if given, is waited for once both bridges are subscribed and before anything is sent
    (e.g. interest crossing a leaf node). Checks exact counts both ways, no loss, no echo, the
    bridge identities; returns the FINAL reports."""
    a = App(directory, "a", a_servers, mode, pings=pings, blobs=blobs, alerts=alerts, **(a_flags or {}))
    b = App(directory, "b", b_servers, mode, pongs=pongs, alerts=alerts, **(b_flags or {}))
    try:
        a.wait_subscribed()
        b.wait_subscribed()
        if ready is not None:
            ready()
        a.send("go")
        b.send("go")
        b.wait_for(lambda s: s["received"]["ping_unique"] == pings and s["received"]["blob_ok"] == blobs
                   and s["received"]["peer_alert_unique"] == alerts, "every ping, the blobs and a's alerts")
        a.wait_for(lambda s: s["received"]["pong_unique"] == pongs and s["received"]["peer_alert_unique"] == alerts,
                   "every pong and b's alerts")
        fa, fb = a.stop(), b.stop()
    finally:
        a.close()
        b.close()
    for final in (fa, fb):
        check_bridge_identities(final)
        bridge, received = final["bridge"], final["received"]
        assert bridge["publish_failed"] == 0 and bridge["sequence_gaps"] == 0 and bridge["bad_messages"] == 0, bridge
        assert received["ping_total"] == received["ping_unique"] and received["pong_total"] == received["pong_unique"]
        assert received["peer_alert_total"] == alerts and received["own_alerts"] == alerts, received
    assert fa["sent"]["ping"] == pings and fb["received"]["ping_unique"] == pings
    assert fa["sent"]["blob"] == blobs and fb["received"]["blob_ok"] == blobs
    assert fb["sent"]["pong"] == pongs and fa["received"]["pong_unique"] == pongs
    assert fa["bridge"]["published"] == pings + blobs + alerts and fb["bridge"]["published"] == pongs + alerts
    assert fb["bridge"]["events_in"] == pings + blobs + alerts and fa["bridge"]["events_in"] == pongs + alerts
    return fa, fb


def failed_start(servers: list[str], **flags: Any) -> str:
    """Runs application a against `servers`, which must fail at start (exit 1, the bridge's
    plugins failed); returns the error of its FINAL report."""
    args = [APP, "--role", "a", "--servers", ",".join(servers)]
    for key, value in flags.items():
        args += ["--" + key.replace("_", "-"), str(value)]
    done = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=HANG_GUARD)
    final = [json.loads(line[6:]) for line in done.stdout.splitlines() if line.startswith("FINAL ")]
    assert done.returncode == 1 and final, f"expected a failed start, got {done.returncode}:\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
    error = final[0]["error"]
    assert "plugin 'nats.out' failed" in error or "plugin 'nats.in' failed" in error, error
    assert not final[0]["bridge"]["connected"], final[0]["bridge"]
    return error


class RawNats:
    """A minimal NATS protocol client over a socket (no libnats): requests (JetStream's API is
    request/reply JSON) and reading a subscription's messages, for tests that act as an
    operator or an older program would."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=HANG_GUARD)
        self.buffer = b""
        self._line()  # INFO
        self.sock.sendall(b'CONNECT {"verbose":false,"pedantic":false,"headers":true,"protocol":1,"name":"raw"}\r\n')
        self._sid = 0

    def close(self) -> None:
        self.sock.close()

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise AssertionError("the server closed the connection")
        self.buffer += chunk

    def _line(self) -> bytes:
        while b"\r\n" not in self.buffer:
            self._fill()
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line

    def _bytes(self, count: int) -> bytes:
        while len(self.buffer) < count + 2:
            self._fill()
        data, self.buffer = self.buffer[:count], self.buffer[count + 2:]
        return data

    def subscribe(self, subject: str) -> int:
        self._sid += 1
        self.sock.sendall(f"SUB {subject} {self._sid}\r\n".encode())
        return self._sid

    def publish(self, subject: str, payload: bytes, reply: str = "") -> None:
        self.sock.sendall(f"PUB {subject} {reply} {len(payload)}\r\n".encode().replace(b"  ", b" ") + payload + b"\r\n")

    def next_message(self) -> tuple[str, str, bytes]:
        """The next message on any subscription: (subject, reply, payload without headers)."""
        while True:
            line = self._line()
            if line == b"PING":
                self.sock.sendall(b"PONG\r\n")
                continue
            parts = line.decode().split()
            if not parts or parts[0] in ("PONG", "+OK"):
                continue
            if parts[0] == "-ERR":
                raise AssertionError(f"the server said {line!r}")
            if parts[0] == "MSG":
                reply = parts[3] if len(parts) == 5 else ""
                return parts[1], reply, self._bytes(int(parts[-1]))
            if parts[0] == "HMSG":
                reply = parts[3] if len(parts) == 6 else ""
                body = self._bytes(int(parts[-1]))
                return parts[1], reply, body[int(parts[-2]):]

    def request(self, subject: str, payload: dict[str, Any]) -> dict[str, Any]:
        """A JSON request, e.g. to the JetStream API ($JS.API....); the JSON reply."""
        inbox = f"_INBOX.raw{os.getpid()}.{self._sid + 1}"
        self.subscribe(inbox)
        self.publish(subject, json.dumps(payload).encode(), inbox)
        while True:
            got_subject, _, body = self.next_message()
            if got_subject == inbox:
                return json.loads(body)
