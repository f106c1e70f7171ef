"""PROTOCOL-CONFORMANCE FIXTURE -- this is NOT the event engine.

:class:`FakeEngine` is a tiny ZeroMQ REP server, run in a thread, that
answers the plugin wire protocol exactly as specified (see
``pyevents/protocol.py``).  It exists only to test the *client's* framing,
timeout, reset and error handling without building the C++ engine.  Tests
against the real engine live in ``tests/test_engine_*.py`` and use the
binary named by ``$EVENT_ENGINE_TEST_APP``.

It implements the at-least-once ``fetch``/``ack`` commands as
docs/protocol.md specifies them: events sent by ``fetch`` are numbered 1, 2,
3, ... under an ``epoch`` and kept until a ``fetch`` or ``ack`` carries a
number at or above theirs; every ``fetch`` first sends the kept ones again
(but those numbered up to its optional fourth number, which the client holds)
(with their numbers), then new ones.  Events sent by ``next_msg*`` are never
sent again.

Test hooks:

* :meth:`push` queues events for the plugin;
* ``declared_topics`` are the topics the plugin may publish;
* ``stall_next`` makes the server sit on the next request for that many
  seconds before answering (to provoke client timeouts); ``stalling`` is set
  while it does, :meth:`end_stall` makes it answer at once, and
  ``stall_answered`` is set once that answer was sent (a test waits for these
  instead of sleeping past the stall);
* ``override`` is a callable ``request -> reply frames or None`` to send
  malformed replies;
* ``lose_next_fetch_reply`` makes the server number and keep the events of the
  next ``fetch`` but drop the connection instead of replying (a reply lost on
  the way, as when the plugin or the network dies);
* :meth:`drop_connection` drops every connection between requests (clients
  reconnect to the same, still running, engine);
* :meth:`restart` simulates the application restarting: connections drop,
  queued and unacknowledged events are gone, the numbering starts again at 1
  under a new ``epoch``;
* ``unacknowledged`` (numbers kept for redelivery), ``acks`` (every
  acknowledgement number received) and ``received`` (events acknowledged);
* :meth:`stop` closes the REP socket, i.e. the engine goes away.

With ``server_keys=(public, secret)`` the REP socket is a CURVE server that
accepts only the client public keys in ``client_keys`` (checked by a ZAP
handler, as the engine does for a registered plugin's port).
"""

from __future__ import annotations

import collections
import queue
import re
import secrets
import threading
import time
from typing import Callable, Deque, Iterable, List, Optional, Tuple

import zmq
from zmq.auth.thread import ThreadAuthenticator

from pyevents import protocol

_NEXT_MSG_WAIT = re.compile(rb"plugin_command: next_msg_wait (\d+)\Z")
_NEXT_MSGS = re.compile(rb"plugin_command: next_msgs (\d+) (\d+)\Z")
_FETCH = re.compile(rb"plugin_command: fetch (\d+) (\d+) (\d+)(?: (\d+))?\Z")
_ACK = re.compile(rb"plugin_command: ack (\d+)\Z")
_POLL_MS = 20


class FakeEngine:
    """A protocol-conformance REP server for one plugin port (see module docstring)."""

    def __init__(
        self,
        declared_topics: Iterable[bytes] = (b"TypeC",),
        port: Optional[int] = None,
        *,
        server_keys: Optional[Tuple[bytes, bytes]] = None,
        client_keys: Iterable[bytes] = (),
    ) -> None:
        self.declared_topics = tuple(declared_topics)
        self.server_keys = server_keys
        self.client_keys = set(client_keys)
        self.refused_keys: List[bytes] = []
        self.requests: List[bytes] = []
        self.published: List[bytes] = []
        self.violations: List[str] = []
        self.stall_next = 0.0
        self.stalling = threading.Event()
        self.stall_answered = threading.Event()
        self._stall_over = threading.Event()
        self.override: Optional[Callable[[bytes], Optional[List[bytes]]]] = None
        self.lose_next_fetch_reply = False
        self.epoch = secrets.token_hex(8)
        self.acks: List[int] = []
        self.received = 0
        self._next_number = 1
        self._unacked: Deque[Tuple[int, bytes]] = collections.deque()
        self._events: "queue.Queue[bytes]" = queue.Queue()
        self._stop = threading.Event()
        self._rebind_requested = threading.Event()
        self._rebound = threading.Event()
        self._between_requests: Optional[Callable[[], None]] = None
        self._context = zmq.Context()
        self._authenticator: Optional[ThreadAuthenticator] = None
        if server_keys is not None:
            self._authenticator = ThreadAuthenticator(self._context)
            self._authenticator.start()
            self._authenticator.configure_curve_callback(domain="*", credentials_provider=self)
        self._socket = self._new_socket()
        if port is None:
            self.port = self._socket.bind_to_random_port("tcp://127.0.0.1")
        else:
            self._socket.bind(f"tcp://127.0.0.1:{port}")
            self.port = port
        self._thread = threading.Thread(target=self._serve, name=f"fake-engine-{self.port}", daemon=True)
        self._thread.start()

    def callback(self, domain: str, key: bytes) -> bool:
        """ZAP credentials check (called by pyzmq's authenticator thread with the client's Z85 key)."""
        allowed = key in self.client_keys
        if not allowed:
            self.refused_keys.append(key)
        return allowed

    def _new_socket(self) -> zmq.Socket:
        socket = self._context.socket(zmq.REP)
        socket.setsockopt(zmq.LINGER, 0)
        if self.server_keys is not None:
            socket.curve_server = True
            socket.curve_publickey, socket.curve_secretkey = self.server_keys
        return socket

    def end_stall(self) -> None:
        """Answer the request the server sits on (``stall_next``) now."""
        self._stall_over.set()

    def push(self, *events: bytes) -> None:
        """Queue events for the plugin."""
        for event in events:
            self._events.put(event)

    def push_later(self, delay: float, *events: bytes) -> threading.Timer:
        timer = threading.Timer(delay, self.push, events)
        timer.start()
        return timer

    @property
    def unacknowledged(self) -> List[int]:
        """Numbers of the events sent by ``fetch`` and not acknowledged yet (sent again by the next fetch)."""
        return [number for number, _ in list(self._unacked)]

    def drop_connection(self, then: Optional[Callable[[], None]] = None) -> None:
        """Drop every client connection between requests (and run *then* on the server thread);
        the engine keeps running, same epoch.  Returns once done."""
        self._between_requests = then
        self._rebound.clear()
        self._rebind_requested.set()
        assert self._rebound.wait(5), "the fixture did not drop its connections"

    def restart(self) -> str:
        """Simulate an application restart: connections drop, queued and unacknowledged events are
        lost, numbering starts again at 1 under a new epoch (returned)."""
        epoch = secrets.token_hex(8)

        def reset() -> None:
            while True:
                try:
                    self._events.get_nowait()
                except queue.Empty:
                    break
            self._unacked.clear()
            self._next_number = 1
            self.epoch = epoch

        self.drop_connection(then=reset)
        return epoch

    def stop(self) -> None:
        """Stop answering and close the REP socket (the engine goes away). Idempotent."""
        if self._stop.is_set():
            return
        self._stop.set()
        self._stall_over.set()
        self._thread.join(5)
        self._socket.close(linger=0)
        if self._authenticator is not None:
            self._authenticator.stop()
        self._context.term()

    # ------------------------------------------------------------ server side

    def _rebind(self) -> None:
        """Close the REP socket (dropping its connections and any reply owed) and bind a new one."""
        self._socket.close(linger=0)
        self._socket = self._new_socket()
        deadline = time.monotonic() + 5
        while True:
            try:
                self._socket.bind(f"tcp://127.0.0.1:{self.port}")
                return
            except zmq.ZMQError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    def _serve(self) -> None:
        while not self._stop.is_set():
            if self._rebind_requested.is_set():
                self._rebind_requested.clear()
                self._rebind()
                action, self._between_requests = self._between_requests, None
                if action is not None:
                    action()
                self._rebound.set()
            if not self._socket.poll(_POLL_MS):
                continue
            frames = self._socket.recv_multipart()
            if len(frames) != 1:
                self.violations.append(f"request of {len(frames)} frames: {frames!r}")
            request = frames[0]
            self.requests.append(request)
            stalled = bool(self.stall_next)
            if stalled:
                stall, self.stall_next = self.stall_next, 0.0
                self.stalling.set()
                self._stall_over.wait(stall)
                if self._stop.is_set():
                    return
                self._stall_over.clear()
            reply = self._reply(request)
            if reply is None:  # stopped while waiting for an event
                return
            if self.lose_next_fetch_reply and _FETCH.match(request):
                self.lose_next_fetch_reply = False
                self._rebind()  # the reply is lost with the connection; its events stay unacknowledged
            else:
                self._socket.send_multipart(reply)
            if stalled:
                self.stalling.clear()
                self.stall_answered.set()

    def _wait_event(self, seconds: Optional[float]) -> Optional[bytes]:
        """The next event, b"" if none came within *seconds*, None if stopped."""
        deadline = None if seconds is None else time.monotonic() + seconds
        while not self._stop.is_set():
            step = _POLL_MS / 1000
            if deadline is not None:
                step = min(step, deadline - time.monotonic())
                if step <= 0:
                    try:
                        return self._events.get_nowait()
                    except queue.Empty:
                        return b""
            try:
                return self._events.get(timeout=step)
            except queue.Empty:
                continue
        return None

    def _reply(self, request: bytes) -> Optional[List[bytes]]:
        if self.override is not None:
            reply = self.override(request)
            if reply is not None:
                return reply
        if not request:
            return [protocol.REPLY_ERROR_PREFIX + b"empty message"]
        if request == protocol.NEXT_MSG:
            event = self._wait_event(None)
            return None if event is None else [event]
        if request == protocol.QUIT:
            return [protocol.REPLY_QUIT_ACK]
        if request == protocol.PING:
            return [protocol.REPLY_PONG]
        match = _NEXT_MSG_WAIT.match(request)
        if match:
            event = self._wait_event(int(match.group(1)) / 1000)
            return None if event is None else [event]
        match = _NEXT_MSGS.match(request)
        if match:
            max_events, wait_ms = int(match.group(1)), int(match.group(2))
            if max_events < 1:
                return [protocol.REPLY_ERROR_PREFIX + b"max must be at least 1"]
            first = self._wait_event(wait_ms / 1000)
            if first is None:
                return None
            if not first:
                return [b""]
            events = [first]
            while len(events) < max_events:
                try:
                    events.append(self._events.get_nowait())
                except queue.Empty:
                    break
            return events
        match = _FETCH.match(request)
        if match:
            return self._fetch(int(match.group(1)), int(match.group(2)), int(match.group(3)),
                               int(match.group(4) or 0))
        match = _ACK.match(request)
        if match:
            self._acknowledge(int(match.group(1)))
            return [protocol.REPLY_ACKNOWLEDGED_PREFIX + match.group(1)]
        if request.startswith(protocol.COMMAND_PREFIX):
            return [protocol.REPLY_ERROR_PREFIX + b"unknown or malformed command: " + request]
        if not any(request.startswith(topic) for topic in self.declared_topics):
            return [protocol.REPLY_ERROR_PREFIX + b"plugin does not publish the topic of this event"]
        self.published.append(request)
        return [protocol.REPLY_PUBLISHED]

    def _acknowledge(self, number: int) -> None:
        """Forget every kept event numbered *number* or less (they now count as received)."""
        self.acks.append(number)
        while self._unacked and self._unacked[0][0] <= number:
            self._unacked.popleft()
            self.received += 1

    def _fetch(self, max_events: int, wait_ms: int, ack: int, have: int = 0) -> Optional[List[bytes]]:
        if not 1 <= max_events <= protocol.MAX_BATCH or wait_ms > protocol.MAX_WAIT_MS:
            return [protocol.REPLY_ERROR_PREFIX + b"fetch takes <max> 1 to 100000, <ms> 0 to 3600000 and <ack>"]
        self._acknowledge(ack)
        # First the kept ones, with their numbers, but for those the client holds (up to <have>).
        sent = [kept for kept in self._unacked if kept[0] > have][:max_events]
        if not sent:
            first = self._wait_event(wait_ms / 1000)
            if first is None:
                return None
            if first:
                sent.append(self._keep(first))
        while sent and len(sent) < max_events:
            try:
                sent.append(self._keep(self._events.get_nowait()))
            except queue.Empty:
                break
        first_number = sent[0][0] if sent else self._next_number
        header = b"event-engine: events %d %s" % (first_number, self.epoch.encode("ascii"))
        return [header] + [event for _, event in sent]

    def _keep(self, event: bytes) -> Tuple[int, bytes]:
        """Number a new event and keep it until acknowledged."""
        numbered = (self._next_number, event)
        self._next_number += 1
        self._unacked.append(numbered)
        return numbered
