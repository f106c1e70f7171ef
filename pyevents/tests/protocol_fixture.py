"""PROTOCOL-CONFORMANCE FIXTURE -- this is NOT the event engine.

:class:`FakeEngine` is a tiny ZeroMQ REP server, run in a thread, that
answers the plugin wire protocol exactly as specified (see
``pyevents/protocol.py``).  It exists only to test the *client's* framing,
timeout, reset and error handling without building the C++ engine.  Tests
against the real engine live in ``tests/test_engine_*.py`` and use the
binary named by ``$EVENT_ENGINE_TEST_APP``.

Test hooks:

* :meth:`push` queues events for the plugin;
* ``declared_topics`` are the topics the plugin may publish;
* ``stall_next`` makes the server sit on the next request for that many
  seconds before answering (to provoke client timeouts);
* ``override`` is a callable ``request -> reply frames or None`` to send
  malformed replies;
* :meth:`stop` closes the REP socket, i.e. the engine goes away.
"""

from __future__ import annotations

import queue
import re
import threading
import time
from typing import Callable, Iterable, List, Optional

import zmq

from pyevents import protocol

_NEXT_MSG_WAIT = re.compile(rb"plugin_command: next_msg_wait (\d+)\Z")
_NEXT_MSGS = re.compile(rb"plugin_command: next_msgs (\d+) (\d+)\Z")
_POLL_MS = 20


class FakeEngine:
    """A protocol-conformance REP server for one plugin port (see module docstring)."""

    def __init__(self, declared_topics: Iterable[bytes] = (b"TypeC",), port: Optional[int] = None) -> None:
        self.declared_topics = tuple(declared_topics)
        self.requests: List[bytes] = []
        self.published: List[bytes] = []
        self.violations: List[str] = []
        self.stall_next = 0.0
        self.override: Optional[Callable[[bytes], Optional[List[bytes]]]] = None
        self._events: "queue.Queue[bytes]" = queue.Queue()
        self._stop = threading.Event()
        self._context = zmq.Context()
        self._socket = self._context.socket(zmq.REP)
        self._socket.setsockopt(zmq.LINGER, 0)
        if port is None:
            self.port = self._socket.bind_to_random_port("tcp://127.0.0.1")
        else:
            self._socket.bind(f"tcp://127.0.0.1:{port}")
            self.port = port
        self._thread = threading.Thread(target=self._serve, name=f"fake-engine-{self.port}", daemon=True)
        self._thread.start()

    def push(self, *events: bytes) -> None:
        """Queue events for the plugin."""
        for event in events:
            self._events.put(event)

    def push_later(self, delay: float, *events: bytes) -> threading.Timer:
        timer = threading.Timer(delay, self.push, events)
        timer.start()
        return timer

    def stop(self) -> None:
        """Stop answering and close the REP socket (the engine goes away). Idempotent."""
        if self._stop.is_set():
            return
        self._stop.set()
        self._thread.join(5)
        self._socket.close(linger=0)
        self._context.term()

    # ------------------------------------------------------------ server side

    def _serve(self) -> None:
        while not self._stop.is_set():
            if not self._socket.poll(_POLL_MS):
                continue
            frames = self._socket.recv_multipart()
            if len(frames) != 1:
                self.violations.append(f"request of {len(frames)} frames: {frames!r}")
            request = frames[0]
            self.requests.append(request)
            if self.stall_next:
                stall, self.stall_next = self.stall_next, 0.0
                if self._stop.wait(stall):
                    return
            reply = self._reply(request)
            if reply is None:  # stopped while waiting for an event
                return
            self._socket.send_multipart(reply)

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
        if request.startswith(protocol.COMMAND_PREFIX):
            return [protocol.REPLY_ERROR_PREFIX + b"unknown or malformed command: " + request]
        if not any(request.startswith(topic) for topic in self.declared_topics):
            return [protocol.REPLY_ERROR_PREFIX + b"plugin does not publish the topic of this event"]
        self.published.append(request)
        return [protocol.REPLY_PUBLISHED]
