"""Hostile peers for the adversarial tests against the REAL engine.

Used by test_engine_adversarial.py and test_engine_hostile_*.py.  Each helper
plays one kind of misbehaving peer, bounded in count, bytes and time, and only
ever talks to 127.0.0.1 / ::1:

* :class:`RawPeer`: a bare TCP connection that speaks exactly as much ZMTP 3.0
  as a test wants (random bytes, a truncated greeting, the wrong mechanism, a
  NULL handshake followed by a frame header announcing 1 GiB and part of its
  body, ...).  :func:`greeting`, :func:`ready`, :func:`frame_header` build the
  bytes (ZMTP 3.0, https://rfc.zeromq.org/spec/23/).
* :class:`Flooder`: a DEALER that sends REQ-framed requests as fast as it can
  and never reads a reply.
* :func:`concurrent_requests`: many requests over several connections, each
  with one request outstanding (as a REQ socket), for the log-volume test.
* :class:`Watched`: a ZeroMQ socket with a monitor, to wait for (not guess)
  its handshake outcome and disconnects.
* :func:`make_keys`, :func:`curve_client`: CURVE key pairs in a tmp directory
  (``zmq.auth.create_certificates``) and client sockets using them.
* :func:`engine_rx_queue`: the bytes the kernel holds for the engine, unread,
  on one loopback connection (``/proc/net/tcp``), so a memory test can wait
  until the engine has really read what a peer sent.

Nothing here sleeps hoping that something happened: :func:`poll_until` polls a
condition with a bound and fails the test with a description when it is not
met.
"""

from __future__ import annotations

import fcntl
import random
import socket
import struct
import termios
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

import pytest
import zmq
import zmq.auth

from engine_fixture import WAIT, Engine


#: Most lines an engine may log while it is attacked (logs about peers are rate-limited).
LOG_LINES_LIMIT = 200


def field(engine: Engine, record: Dict[str, object], name: str) -> object:
    """*record*[name], failing with the engine's output if the engine does not print that field."""
    if name not in record:
        pytest.fail(f"the engine's line {record!r} has no {name!r} field (an engine from before the hardening?)\n"
                    f"{engine.describe()}", pytrace=False)
    return record[name]


def assert_alive(engine: Engine, when: str) -> None:
    """Fails the test, with the engine's output, if the engine process has exited."""
    if not engine.alive():
        engine.finish()
        pytest.fail(f"the engine exited {when} (status {engine.process.returncode}; -6 or 134 is an abort)\n"
                    f"{engine.describe()}", pytrace=False)

MiB = 1 << 20
GiB = 1 << 30

#: The handshake-failure events a client's monitor reports when a server refuses it.
HANDSHAKE_FAILED = (
    zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL,
    zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL,
    zmq.EVENT_HANDSHAKE_FAILED_AUTH,
)


def poll_until(condition: Callable[[], bool], what: str, *, timeout: float = WAIT, interval: float = 0.01,
               context: Optional[Callable[[], str]] = None, engine: Optional[Engine] = None) -> None:
    """Return once *condition* holds; fail the test after *timeout* seconds, or as soon as
    *engine* (if given) has exited, with *context()* (default: the engine's output)."""
    describe = context or (engine.describe if engine is not None else (lambda: ""))
    deadline = time.monotonic() + timeout
    while not condition():
        if engine is not None and not engine.alive():
            if condition():
                return
            engine.finish()  # collects the rest of its output
            pytest.fail(f"the engine exited (status {engine.process.returncode}; -6 or 134 is an abort) before "
                        f"{what}\n{describe()}", pytrace=False)
        if time.monotonic() >= deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}\n{describe()}", pytrace=False)
        time.sleep(interval)


def endpoint(host: str, port: int) -> str:
    return f"tcp://[{host}]:{port}" if ":" in host else f"tcp://{host}:{port}"


def zmq_socket(context: zmq.Context, kind: int, host: str = "127.0.0.1") -> zmq.Socket:
    """A socket that never blocks its test at close, with IPv6 on for an IPv6 host."""
    s = context.socket(kind)
    s.setsockopt(zmq.LINGER, 0)
    if ":" in host:
        s.setsockopt(zmq.IPV6, 1)
    return s


# --------------------------------------------------------------------------- ZMTP 3.0 bytes


def greeting(mechanism: bytes = b"NULL", *, as_server: bool = False, major: int = 3, minor: int = 0) -> bytes:
    """The 64-byte ZMTP 3.x greeting: signature, version, mechanism, as-server, filler."""
    return (b"\xff" + b"\x00" * 8 + b"\x7f" + bytes([major, minor]) + mechanism.ljust(20, b"\x00")[:20]
            + bytes([1 if as_server else 0]) + b"\x00" * 31)


def command(name: bytes, body: bytes = b"") -> bytes:
    """A ZMTP command frame (flag 0x04, long form 0x06 when over 255 bytes)."""
    payload = bytes([len(name)]) + name + body
    if len(payload) <= 255:
        return bytes([0x04, len(payload)]) + payload
    return b"\x06" + struct.pack(">Q", len(payload)) + payload


def ready(socket_type: bytes, properties: Sequence[Tuple[bytes, bytes]] = ()) -> bytes:
    """The NULL mechanism's READY command with a Socket-Type (and any other) property."""
    body = b""
    for name, value in [(b"Socket-Type", socket_type), *properties]:
        body += bytes([len(name)]) + name + struct.pack(">I", len(value)) + value
    return command(b"READY", body)


def frame_header(size: int, *, more: bool = False) -> bytes:
    """The header of a message frame of *size* bytes (short form up to 255, else long)."""
    flags = 0x01 if more else 0x00
    if size <= 255:
        return bytes([flags, size])
    return bytes([flags | 0x02]) + struct.pack(">Q", size)


def message_frame(body: bytes, *, more: bool = False) -> bytes:
    return frame_header(len(body), more=more) + body


_ZEROS = bytes(MiB)


class RawPeer:
    """A bare TCP connection to an engine port (no ZeroMQ on this side)."""

    def __init__(self, port: int, host: str = "127.0.0.1", *, timeout: float = WAIT) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.port = port
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect((host, port))
        self.local_port: int = self.sock.getsockname()[1]
        self.sent = 0  # bytes the kernel accepted from us
        self.closed_by_engine = False

    def send(self, data: bytes) -> bool:
        """Send all of *data*; False (not an error) if the engine closed or reset the connection."""
        view = memoryview(data)
        try:
            while view:
                n = self.sock.send(view)
                self.sent += n
                view = view[n:]
            return True
        except (BrokenPipeError, ConnectionResetError):
            self.closed_by_engine = True
            return False

    def send_zeros(self, count: int) -> int:
        """Send *count* zero bytes (a body), in 1 MiB pieces; return how many the kernel took
        before the engine closed the connection (or the socket's timeout passed: the engine
        stopped reading, which holds no memory on its side either)."""
        before = self.sent
        try:
            while self.sent - before < count:
                piece = min(len(_ZEROS), count - (self.sent - before))
                if not self.send(_ZEROS[:piece]):
                    break
        except socket.timeout:
            pass
        return self.sent - before

    def read_exactly(self, count: int) -> Optional[bytes]:
        """*count* bytes from the engine, or None if it closed the connection first."""
        data = b""
        try:
            while len(data) < count:
                piece = self.sock.recv(count - len(data))
                if not piece:
                    self.closed_by_engine = True
                    return None
                data += piece
        except ConnectionResetError:
            self.closed_by_engine = True
            return None
        return data

    def read_command(self) -> Optional[bytes]:
        """One ZMTP command frame's body, or None if the engine closed the connection."""
        flags = self.read_exactly(1)
        if flags is None:
            return None
        if flags[0] & 0x02:
            raw = self.read_exactly(8)
            size = None if raw is None else struct.unpack(">Q", raw)[0]
        else:
            raw = self.read_exactly(1)
            size = None if raw is None else raw[0]
        if size is None:
            return None
        return self.read_exactly(size)

    def null_handshake(self, socket_type: bytes) -> None:
        """Greeting and READY as a NULL-mechanism ZeroMQ peer of *socket_type*; fails the test
        if the engine does not complete it (the engine must accept a well-formed peer)."""
        assert self.send(greeting(b"NULL")), "the engine closed the connection before the greeting"
        theirs = self.read_exactly(64)
        assert theirs is not None and theirs[0] == 0xFF and theirs[9] == 0x7F, f"not a ZMTP greeting: {theirs!r}"
        assert theirs[12:32].rstrip(b"\x00") == b"NULL", f"the engine's mechanism: {theirs[12:32]!r}"
        assert self.send(ready(socket_type)), "the engine closed the connection before READY"
        reply = self.read_command()
        assert reply is not None and reply.startswith(b"\x05READY"), f"the engine's answer to READY: {reply!r}"

    def engine_closed(self) -> bool:
        """Whether the engine has closed or reset this connection (does not block, reads nothing
        that matters: a hostile peer ignores whatever the engine says)."""
        if self.closed_by_engine:
            return True
        timeout = self.sock.gettimeout()
        self.sock.settimeout(0.0)  # with a timeout, Python would wait for data first
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    self.closed_by_engine = True
                    return True
        except BlockingIOError:
            return False
        except (ConnectionResetError, BrokenPipeError):
            self.closed_by_engine = True
            return True
        finally:
            self.sock.settimeout(timeout)

    def unacknowledged(self) -> int:
        """Bytes sent that the engine's kernel has not acknowledged yet (SIOCOUTQ)."""
        raw = fcntl.ioctl(self.sock.fileno(), termios.TIOCOUTQ, b"\x00" * 4)
        return struct.unpack("i", raw)[0]

    def settled(self) -> bool:
        """The engine has read everything this peer sent, or dropped the connection."""
        if self.engine_closed():
            return True
        queued = engine_rx_queue(self.port, self.local_port)
        return self.unacknowledged() == 0 and queued == 0

    def close(self, *, abort: bool = False) -> None:
        """Close; with *abort*, with a TCP RST instead of a FIN (SO_LINGER 0)."""
        if abort:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()


def _tcp_table() -> Iterator[List[str]]:
    """The fields of every row of /proc/net/tcp and /proc/net/tcp6 (the kernel's sockets)."""
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(path) as table:
                rows = table.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if len(fields) >= 5:
                yield fields


def _port(address: str) -> int:
    return int(address.rsplit(":", 1)[1], 16)


def engine_rx_queue(engine_port: int, peer_port: int) -> Optional[int]:
    """Bytes the kernel holds unread for the engine on the loopback connection between
    *engine_port* (the engine's side) and *peer_port* (ours), from /proc/net/tcp{,6}; None if
    there is no such connection (any more)."""
    for fields in _tcp_table():
        if _port(fields[1]) == engine_port and _port(fields[2]) == peer_port:
            return int(fields[4].split(":")[1], 16)
    return None


def engine_tx_queues(engine_port: int) -> List[int]:
    """For every loopback connection whose engine side is *engine_port*: the bytes the kernel
    holds that the engine sent and the peer has not taken (/proc/net/tcp{,6})."""
    return [int(fields[4].split(":")[0], 16) for fields in _tcp_table()
            if fields[3] == "01" and _port(fields[1]) == engine_port]  # state 01: ESTABLISHED


def wait_port_open(port: int, host: str = "127.0.0.1", engine: Optional[Engine] = None) -> None:
    """Wait until something accepts TCP connections on *port* (the engine binds shortly after start)."""
    def accepting() -> bool:
        try:
            RawPeer(port, host, timeout=1.0).close()
            return True
        except (ConnectionRefusedError, socket.timeout):
            return False
    poll_until(accepting, f"port {port} on {host} to open", engine=engine)


def connect_and_vanish(port: int, count: int, host: str = "127.0.0.1") -> None:
    """*count* TCP connections that close at once, half with a FIN, half with a RST."""
    for i in range(count):
        peer = RawPeer(port, host)
        peer.close(abort=bool(i % 2))


def garbage_connections(port: int, rng: random.Random, *, count: int, socket_type: bytes,
                        server_mechanism: bytes = b"NULL", host: str = "127.0.0.1") -> Tuple[List[str], int]:
    """*count* connections, each misbehaving in one way, chosen in turn (some randomly):
    random bytes, a truncated greeting, a greeting with the wrong mechanism or version, a
    malformed READY, a READY with the wrong socket type, a bad frame after a good handshake.
    Returns what each did (for failure messages) and how many of the bytes sent a NULL-mechanism
    engine could take as message frames: those after a good ZMTP 3 handshake, and those of
    peers that look like ZMTP 1.0/2.0 peers (random bytes not starting with 0xFF, a greeting of
    version 0 to 2), which have no handshake to fail.  At 2 bytes or more a frame, half of it
    is an upper bound for any counter they can move."""
    wrong_mechanisms = [m for m in (b"CURVE", b"NULL", b"PLAIN", b"GSSAPI", b"BOGUS") if m != server_mechanism]
    done: List[str] = []
    framable = 0
    null = server_mechanism == b"NULL"
    for i in range(count):
        kind = i % 8
        peer = RawPeer(port, host)
        try:
            if kind == 0:
                noise = rng.randbytes(rng.randint(1, 8192))
                peer.send(noise)
                framable += len(noise) if null else 0
                done.append("random bytes")
            elif kind == 1:
                cut = rng.choice([1, 9, 10, 11, 12, 20, 33, 63])
                peer.send(greeting(server_mechanism)[:cut])
                done.append(f"greeting cut at {cut}")
            elif kind == 2:
                mechanism = wrong_mechanisms[(i // 8) % len(wrong_mechanisms)]
                peer.send(greeting(mechanism) + command(b"HELLO", rng.randbytes(rng.randint(0, 300))))
                done.append(f"greeting with mechanism {mechanism!r}, then a garbage HELLO")
            elif kind == 3:
                major = rng.choice([0, 1, 2, 4, 255])
                data = greeting(server_mechanism, major=major) + rng.randbytes(64)
                peer.send(data)
                framable += len(data) - 10 if null and major < 3 else 0
                done.append(f"greeting with version {major}")
            elif kind == 4:
                # READY whose property claims more bytes than the command holds.
                peer.send(greeting(server_mechanism)
                          + command(b"READY", b"\x0bSocket-Type" + struct.pack(">I", 0xFFFFFFF0) + b"DEALER"))
                done.append("READY with a property length beyond the command")
            elif kind == 5:
                wrong = {b"DEALER": b"PUB", b"PUB": b"SUB", b"XSUB": b"REP", b"SUB": b"PULL"}.get(socket_type, b"PAIR")
                peer.send(greeting(server_mechanism) + ready(wrong))
                done.append(f"READY as a {wrong.decode()} socket")
            elif kind == 6:
                garbage = bytes([0xF8 | rng.randrange(8)]) + rng.randbytes(rng.randint(1, 100))
                peer.send(greeting(server_mechanism) + ready(socket_type) + garbage)
                framable += len(garbage) if null else 0
                done.append("a frame with reserved flag bits after a good handshake")
            else:
                peer.send(greeting(server_mechanism) + command(b"PING", b"\xff\xff") + command(b"\x00", b"")
                          + rng.randbytes(rng.randint(1, 500)))
                done.append("malformed commands")
        finally:
            peer.close(abort=bool(i % 3 == 0))
    return done, framable


# --------------------------------------------------------------------------- ZeroMQ peers


class Watched:
    """A ZeroMQ socket with a monitor that records its connection events."""

    def __init__(self, sock: zmq.Socket) -> None:
        self.socket = sock
        self.monitor = sock.get_monitor_socket()
        self.events: List[int] = []

    def pump(self) -> List[int]:
        while True:
            try:
                frames = self.monitor.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return self.events
            self.events.append(int.from_bytes(frames[0][:2], "little"))

    def count(self, *events: int) -> int:
        self.pump()
        return sum(1 for e in self.events if e in events)

    def wait_for(self, events: Iterable[int], what: str, *, at_least: int = 1, timeout: float = WAIT,
                 engine: Optional[Engine] = None) -> None:
        wanted = tuple(events)
        poll_until(lambda: self.count(*wanted) >= at_least, what, timeout=timeout, engine=engine)

    def handshake_outcome(self, what: str, *, timeout: float = WAIT, engine: Optional[Engine] = None) -> str:
        """Wait until the handshake succeeded or failed; return "succeeded" or "refused"."""
        self.wait_for((zmq.EVENT_HANDSHAKE_SUCCEEDED,) + HANDSHAKE_FAILED, f"the handshake of {what} to end",
                      timeout=timeout, engine=engine)
        return "succeeded" if self.count(zmq.EVENT_HANDSHAKE_SUCCEEDED) else "refused"

    def close(self) -> None:
        try:
            self.socket.disable_monitor()
        except zmq.ZMQError:
            pass
        self.monitor.close(linger=0)
        self.socket.close(linger=0)


class Flooder:
    """A DEALER on a plugin port that sends REQ-framed requests ([b"", body]) as fast as it
    can and never reads a reply (the replies pile up in the engine)."""

    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        self.context = zmq.Context()
        self.watched = Watched(zmq_socket(self.context, zmq.DEALER, host))
        # Replies back up in the engine, not in this process or its kernel buffer (which
        # would otherwise absorb a hundred thousand small replies before the engine sees
        # anything unread); and requests wait here only briefly, so what the flooder sent is
        # close to what the engine took.
        self.watched.socket.setsockopt(zmq.RCVHWM, 1)
        self.watched.socket.setsockopt(zmq.RCVBUF, 4096)
        self.watched.socket.setsockopt(zmq.SNDHWM, 16)
        self.watched.socket.setsockopt(zmq.SNDBUF, 4096)
        self.watched.socket.connect(endpoint(host, port))
        self.sent = 0
        self.blocked = False

    def wait_connected(self, engine: Optional[Engine] = None) -> None:
        self.watched.wait_for([zmq.EVENT_HANDSHAKE_SUCCEEDED], "the flooder to connect", engine=engine)

    def flood(self, bodies: Iterable[bytes], stall_ms: int = 500) -> int:
        """Send each body until the socket stays unwritable for *stall_ms* (the engine takes no
        more: its send would block); return how many went out.  A momentary EAGAIN (ZeroMQ's
        own queue full until its I/O thread catches up) only pauses the flood."""
        sock = self.watched.socket
        for body in bodies:
            while True:
                try:
                    sock.send_multipart([b"", body], zmq.NOBLOCK)
                    break
                except zmq.Again:
                    if not sock.poll(stall_ms, zmq.POLLOUT):
                        self.blocked = True
                        return self.sent
            self.sent += 1
        return self.sent

    def close(self) -> None:
        self.watched.close()
        self.context.destroy(linger=0)


def concurrent_requests(port: int, requests: Sequence[Sequence[bytes]], *, peers: int = 16,
                        engine: Optional[Engine] = None) -> List[List[bytes]]:
    """Send *requests* (each a list of body frames) REQ-framed over *peers* DEALER connections
    at once, each with one request outstanding at a time, as REQ sockets would (a peer that
    pipelines is cut off, docs/security.md); return the replies' body frames in request order."""
    ctx = zmq.Context()
    dealers = []
    for _ in range(peers):
        dealer = zmq_socket(ctx, zmq.DEALER)
        dealer.setsockopt(zmq.RCVTIMEO, int(WAIT * 1000))
        dealer.connect(endpoint("127.0.0.1", port))
        dealers.append(dealer)
    replies: List[List[bytes]] = []
    try:
        for start in range(0, len(requests), peers):
            chunk = requests[start:start + peers]
            for dealer, frames in zip(dealers, chunk):
                dealer.send_multipart([b"", *frames])
            for number, dealer in enumerate(dealers[:len(chunk)]):
                try:
                    reply = dealer.recv_multipart()
                except zmq.Again:
                    pytest.fail(f"no reply to request {start + number} (of {len(requests)}) within {WAIT:g} s\n"
                                f"{engine.describe() if engine else ''}", pytrace=False)
                assert reply[:1] == [b""], f"a reply without the REQ delimiter: {reply[:3]!r}"
                replies.append(reply[1:])
    finally:
        ctx.destroy(linger=0)
    return replies


def xpub_publisher(context: zmq.Context, port: int, host: str = "127.0.0.1",
                   curve: Optional[Tuple["Keys", "Keys"]] = None) -> zmq.Socket:
    """An XPUB connected to the engine's publish port (an XSUB); unlike a PUB, it sees the
    engine's subscription arrive, so a test knows when its sends will be forwarded."""
    pub = zmq_socket(context, zmq.XPUB, host)
    pub.setsockopt(zmq.SNDHWM, 0)  # queue everything: the count a test sends is the count that leaves
    if curve is not None:
        curve_client(pub, *curve)
    pub.connect(endpoint(host, port))
    return pub


def wait_engine_subscribed(pub: zmq.Socket, engine: Optional[Engine] = None) -> None:
    """Wait until the engine's XSUB has subscribed *pub* (an XPUB) to everything."""
    poll_until(lambda: bool(pub.poll(10)), "the engine to subscribe to the publisher", engine=engine)
    frame = pub.recv()
    assert frame[:1] == b"\x01", f"not a subscription: {frame!r}"


# --------------------------------------------------------------------------- CURVE


@dataclass
class Keys:
    name: str
    public: bytes  # 40 Z85 characters
    secret: bytes
    public_file: Path  # NAME.key
    secret_file: Path  # NAME.key_secret

    @property
    def z85(self) -> str:
        return self.public.decode("ascii")


def make_keys(directory: Path, *names: str) -> Dict[str, Keys]:
    """A CURVE key pair per name, as certificate files in *directory* (zmq.auth).

    Keys whose Z85 text contains "=" are made again, so "KEY=TypeA" on the engine's
    command line is never ambiguous (Z85 has "=" among its characters)."""
    directory.mkdir(parents=True, exist_ok=True)
    made: Dict[str, Keys] = {}
    for name in names:
        for _ in range(100):
            public_file, secret_file = zmq.auth.create_certificates(str(directory), name)
            public, secret = zmq.auth.load_certificate(secret_file)
            if b"=" not in public:
                break
        made[name] = Keys(name, public, secret, Path(public_file), Path(secret_file))
    return made


def curve_client(sock: zmq.Socket, server: Keys, client: Keys) -> None:
    sock.curve_serverkey = server.public
    sock.curve_publickey = client.public
    sock.curve_secretkey = client.secret

