"""The plugin client: a Pythonic connection from a plugin to the engine.

Example::

    from pyevents import PluginClient

    with PluginClient(6000, event_names=["TypeA", "TypeB"]) as client:
        for raw in client:                      # waits for events forever
            event = client.decode(raw)          # Event(topic="TypeA", payload=b"...")
            if event.topic == "TypeB":
                client.publish_event("TypeC", b"seen a B")
    # leaving the block sends quit and closes the connection

A :class:`PluginClient` owns one ZeroMQ REQ socket and is not thread-safe:
use it from one thread only (or give each thread its own client).
"""

from __future__ import annotations

import itertools
import logging
import math
import numbers
import operator
import sys
import time
from types import TracebackType
from typing import Iterable, Iterator, List, Optional, Tuple, Type, Union

import zmq

from . import protocol
from .errors import ClientClosed, EngineGone, EngineTimeout, ProtocolError, PublishRejected
from .topics import Event, Topic, decode, encode_topic

__all__ = ["PluginClient", "DEFAULT_HOST"]

logger = logging.getLogger(__name__)

#: Default engine host of the new API (overridden by ``$EVENT_ENGINE_HOST``).
DEFAULT_HOST = "127.0.0.1"

# ZMTP heartbeats let the client notice an engine whose host or network
# vanished without closing the TCP connection.
_HEARTBEAT_IVL_MS = 10_000
_HEARTBEAT_TIMEOUT_MS = 30_000

_monitor_ids = itertools.count()

_BytesLike = Union[bytes, bytearray, memoryview]


def _check_seconds(value: Optional[float], name: str, *, allow_zero: bool) -> Optional[float]:
    """Validate a duration in seconds; ``None`` and ``math.inf`` mean "no limit"."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number of seconds or None, not {type(value).__name__}")
    seconds = float(value)
    if math.isnan(seconds) or seconds < 0 or (seconds == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be {bound} seconds or None, got {value!r}")
    return None if math.isinf(seconds) else seconds


def _check_port(port: int) -> int:
    if isinstance(port, bool):
        raise TypeError("port must be an int, not bool")
    try:
        number = operator.index(port)
    except TypeError:
        raise TypeError(f"port must be an int, not {type(port).__name__}") from None
    if not 0 < number < 65536:
        raise ValueError(f"port must be between 1 and 65535, got {number}")
    return number


def _to_ms(seconds: float) -> int:
    return math.ceil(seconds * 1000)


def _error_reason(frame: bytes) -> Optional[str]:
    """The reason of an ``event-engine: error: ...`` reply, or None for any other reply."""
    if frame.startswith(protocol.REPLY_ERROR_PREFIX):
        return frame[len(protocol.REPLY_ERROR_PREFIX):].decode("utf-8", "replace")
    return None


class PluginClient:
    """A connection from an external plugin to the engine.

    :param port: the TCP port the engine listens on for this plugin.
    :param host: the engine's host; defaults to ``$EVENT_ENGINE_HOST`` if
        set, else ``"127.0.0.1"``.
    :param context: a :class:`zmq.Context` to create the socket in; by
        default the client creates (and on close terminates) its own.
    :param timeout: the longest time in seconds to wait for the engine to
        answer one request, on top of any wait the request itself asks the
        engine for; ``None`` (default) waits forever.  When it expires,
        :class:`~pyevents.errors.EngineTimeout` is raised and the client
        resets its connection so it stays usable.
    :param event_names: the topics (event names) this plugin expects to
        receive; used by :meth:`decode`.

    The connection is made lazily and re-made after a timeout or after the
    engine went away, so the engine may be started after the plugin.

    Used as a context manager, the client sends ``quit`` to the engine and
    closes itself when the block ends, also when it ends with an exception.
    """

    #: Longest wait, in seconds, asked of the engine in one request.  Longer
    #: or unlimited waits are split into requests of at most this length, so
    #: the client notices an engine that stopped answering (with ``timeout``)
    #: and an interrupted wait never leaves the socket mid-request for long.
    #: Must be > 0; may be changed per instance.
    wait_chunk: float = 1.0

    def __init__(
        self,
        port: int,
        host: Optional[str] = None,
        *,
        context: Optional[zmq.Context] = None,
        timeout: Optional[float] = None,
        event_names: Optional[Iterable[Topic]] = None,
    ) -> None:
        self._port = _check_port(port)
        host = protocol.resolve_host(host, DEFAULT_HOST)
        if not isinstance(host, str):
            raise TypeError(f"host must be a str, not {type(host).__name__}")
        if not host:
            raise ValueError("host must not be empty")
        self._host = host
        self._ipv6 = ":" in host
        bracketed = f"[{host}]" if self._ipv6 and not host.startswith("[") else host
        self._endpoint = f"tcp://{bracketed}:{self._port}"
        self._timeout = _check_seconds(timeout, "timeout", allow_zero=False)
        if event_names is None:
            self._event_names: Tuple[Topic, ...] = ()
        else:
            if isinstance(event_names, (str, bytes, bytearray, memoryview)):
                raise TypeError("event_names must be an iterable of names such as ['TypeA'], not a single name")
            self._event_names = tuple(event_names)
            for name in self._event_names:
                encode_topic(name)  # validates
        if context is not None and not isinstance(context, zmq.Context):
            raise TypeError(f"context must be a zmq.Context, not {type(context).__name__}")
        self._own_context = context is None
        self._context: zmq.Context = zmq.Context() if context is None else context
        self._socket: Optional[zmq.Socket] = None
        self._monitor: Optional[zmq.Socket] = None
        self._poller: Optional[zmq.Poller] = None
        self._connected = False
        self._disconnected = False
        self._closed = False

    # ------------------------------------------------------------------ info

    @property
    def endpoint(self) -> str:
        """The ZeroMQ endpoint of the engine, e.g. ``"tcp://127.0.0.1:6000"``."""
        return self._endpoint

    @property
    def timeout(self) -> Optional[float]:
        """The per-request timeout in seconds (``None``: wait forever)."""
        return self._timeout

    @property
    def event_names(self) -> Tuple[Topic, ...]:
        """The topics given as ``event_names`` (used by :meth:`decode`)."""
        return self._event_names

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` (or :meth:`quit`) was called."""
        return self._closed

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<{type(self).__name__} {self._endpoint} {state}>"

    # ------------------------------------------------------------- receiving

    def next_event(self, timeout: Optional[float] = None) -> Optional[bytes]:
        """Return the next event (topic followed by payload) for this plugin.

        Waits at most *timeout* seconds and returns ``None`` if no event
        arrived; ``timeout=None`` waits until there is one, ``0`` only checks.
        Long waits are made of several short requests, so the connection is
        never left in a broken state and no event is lost by giving up.

        Raises :class:`~pyevents.errors.EngineTimeout` or
        :class:`~pyevents.errors.EngineGone` if the engine stops answering or
        goes away.
        """
        deadline = self._deadline(_check_seconds(timeout, "timeout", allow_zero=True))
        while True:
            wait_ms = self._next_wait_ms(deadline)
            request = protocol.next_msg_wait(wait_ms)
            reply = self._request(request, self._reply_timeout(wait_ms))
            if len(reply) != 1:
                raise ProtocolError(f"the engine answered {request!r} with {len(reply)} frames instead of one")
            event = reply[0]
            reason = _error_reason(event)
            if reason is not None:
                raise ProtocolError(
                    f"the engine refused {request!r}: {reason} "
                    "(an engine without next_msg_wait support needs the legacy get_next_msg())"
                )
            if event:
                return event
            if deadline is not None and time.monotonic() >= deadline:
                return None

    def next_events(self, max_events: int, timeout: Optional[float] = 0) -> List[bytes]:
        """Return up to *max_events* events that are ready, as a list.

        Waits at most *timeout* seconds for the first event (default ``0``:
        do not wait; ``None``: wait until there is at least one) and returns
        an empty list if none arrived.
        """
        if isinstance(max_events, bool):
            raise TypeError("max_events must be an int, not bool")
        try:
            max_events = operator.index(max_events)
        except TypeError:
            raise TypeError(f"max_events must be an int, not {type(max_events).__name__}") from None
        if max_events < 1:
            raise ValueError(f"max_events must be at least 1, got {max_events}")
        deadline = self._deadline(_check_seconds(timeout, "timeout", allow_zero=True))
        while True:
            wait_ms = self._next_wait_ms(deadline)
            # "Up to max_events": ask for no more than the engine serves in one reply.
            request = protocol.next_msgs(min(max_events, protocol.MAX_BATCH), wait_ms)
            reply = self._request(request, self._reply_timeout(wait_ms))
            if len(reply) == 1:
                reason = _error_reason(reply[0])
                if reason is not None:
                    raise ProtocolError(
                        f"the engine refused {request!r}: {reason} "
                        "(an engine without next_msgs support needs the legacy get_next_msg())"
                    )
                if not reply[0]:
                    reply = []
            if len(reply) > max_events:
                raise ProtocolError(f"the engine answered {request!r} with {len(reply)} events")
            if not all(reply):
                raise ProtocolError(f"the engine answered {request!r} with an empty frame among events")
            if reply or (deadline is not None and time.monotonic() >= deadline):
                return reply

    def __iter__(self) -> Iterator[bytes]:
        """Yield events as they arrive, until the engine goes away or the client is closed.

        The loop ends quietly on :class:`~pyevents.errors.EngineGone` or after
        :meth:`quit`/:meth:`close`; :class:`~pyevents.errors.EngineTimeout`
        (only with a client ``timeout``) propagates.
        """
        while not self._closed:
            try:
                event = self.next_event()
            except EngineGone as e:
                logger.info("stopping iteration: %s", e)
                return
            if event is not None:
                yield event

    def decode(self, data: _BytesLike) -> Event:
        """Split *data* into an :class:`~pyevents.Event` using this client's ``event_names``.

        Raises :class:`~pyevents.errors.UnknownTopic` if it starts with none of them.
        """
        if not self._event_names:
            raise ValueError("decode() needs the client's event_names; pass event_names=[...] to PluginClient")
        return decode(data, self._event_names)

    # ------------------------------------------------------------ publishing

    def publish(self, data: _BytesLike) -> None:
        """Publish the raw event *data* (topic followed by payload).

        Raises :class:`~pyevents.errors.PublishRejected` if the engine refuses
        it, e.g. because the plugin is not configured to publish its topic.
        """
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"an event must be bytes, not {type(data).__name__}")
        data = bytes(data)
        if not data:
            raise ValueError("cannot publish an empty event")
        if data.startswith(protocol.COMMAND_PREFIX):
            raise ValueError(f"an event must not start with {protocol.COMMAND_PREFIX!r} (reserved for commands)")
        reply = self._request(data, self._timeout)
        if reply == [protocol.REPLY_PUBLISHED]:
            return
        if len(reply) == 1:
            reason = _error_reason(reply[0])
            if reason is not None:
                raise PublishRejected(reason)
        raise ProtocolError(f"unexpected reply to a publish: {reply!r}")

    def publish_event(self, name_or_topic: Topic, payload: Union[_BytesLike, str] = b"") -> None:
        """Publish an event made of a topic (an event name) and a payload.

        A ``str`` topic or payload is encoded as UTF-8.  See :meth:`publish`.
        """
        topic = encode_topic(name_or_topic)
        if isinstance(payload, str):
            body = payload.encode("utf-8")
        elif isinstance(payload, (bytes, bytearray, memoryview)):
            body = bytes(payload)
        else:
            raise TypeError(f"payload must be bytes or str, not {type(payload).__name__}")
        self.publish(topic + body)

    # --------------------------------------------------------------- control

    def ping(self) -> float:
        """Check that the engine answers; return the round-trip time in seconds.

        Raises :class:`~pyevents.errors.EngineTimeout` (only with a client
        ``timeout``) or :class:`~pyevents.errors.EngineGone` if it does not.
        """
        start = time.monotonic()
        reply = self._request(protocol.PING, self._timeout)
        elapsed = time.monotonic() - start
        if reply != [protocol.REPLY_PONG]:
            reason = _error_reason(reply[0]) if len(reply) == 1 else None
            if reason is not None:
                raise ProtocolError(f"the engine refused ping: {reason}")
            raise ProtocolError(f"unexpected reply to ping: {reply!r}")
        return elapsed

    def quit(self, timeout: float = 2.0) -> bool:
        """Tell the engine this plugin is leaving, then :meth:`close` the client.

        Waits at most *timeout* seconds for the acknowledgement.  Returns
        whether the engine acknowledged; a missing or unexpected answer is
        logged as a warning, not raised, so this is safe in cleanup code.
        """
        wait = _check_seconds(timeout, "timeout", allow_zero=True)
        self._ensure_open()
        acknowledged = False
        try:
            reply = self._request(protocol.QUIT, wait)
        except (EngineTimeout, EngineGone) as e:
            logger.warning("quit was not acknowledged: %s", e)
        else:
            acknowledged = reply == [protocol.REPLY_QUIT_ACK]
            if not acknowledged:
                logger.warning("unexpected reply to quit: %r", reply)
        finally:
            self.close()
        return acknowledged

    def close(self) -> None:
        """Close the connection without telling the engine (see :meth:`quit`).

        Unsent data is dropped, so this never blocks.  The ZeroMQ context is
        terminated if the client created it.  Calling it again does nothing.
        """
        if self._closed:
            return
        self._closed = True
        self._teardown()
        if self._own_context:
            self._context.term()
        logger.debug("closed client for %s", self._endpoint)

    def __enter__(self) -> "PluginClient":
        self._ensure_open()
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        if self._closed:
            return
        try:
            self.quit()
        except Exception:  # never mask the body's exception; quit() already closed
            logger.exception("error while sending quit to the engine")
        finally:
            self.close()

    # -------------------------------------------------------------- internals

    def _ensure_open(self) -> None:
        if self._closed:
            raise ClientClosed(f"this client for {self._endpoint} is closed; create a new PluginClient")

    @staticmethod
    def _deadline(timeout: Optional[float]) -> Optional[float]:
        return None if timeout is None else time.monotonic() + timeout

    def _next_wait_ms(self, deadline: Optional[float]) -> int:
        """How long the next fetch request should ask the engine to wait."""
        if deadline is None:
            return _to_ms(self.wait_chunk)
        return _to_ms(min(self.wait_chunk, max(0.0, deadline - time.monotonic())))

    def _reply_timeout(self, wait_ms: int) -> Optional[float]:
        """How long to wait for the reply to a request that lets the engine wait *wait_ms*."""
        return None if self._timeout is None else wait_ms / 1000 + self._timeout

    def _connect(self) -> None:
        socket = self._context.socket(zmq.REQ)
        monitor = None
        try:
            if self._ipv6:
                socket.setsockopt(zmq.IPV6, 1)
            if hasattr(zmq, "HEARTBEAT_IVL"):
                socket.setsockopt(zmq.HEARTBEAT_IVL, _HEARTBEAT_IVL_MS)
                socket.setsockopt(zmq.HEARTBEAT_TIMEOUT, _HEARTBEAT_TIMEOUT_MS)
            address = f"inproc://pyevents-monitor-{id(self):x}-{next(_monitor_ids)}"
            socket.monitor(address, zmq.EVENT_CONNECTED | zmq.EVENT_DISCONNECTED)
            monitor = self._context.socket(zmq.PAIR)
            monitor.connect(address)
            socket.connect(self._endpoint)
        except BaseException:
            if monitor is not None:
                monitor.close(linger=0)
            socket.close(linger=0)
            raise
        poller = zmq.Poller()
        poller.register(socket, zmq.POLLIN)
        poller.register(monitor, zmq.POLLIN)
        self._socket, self._monitor, self._poller = socket, monitor, poller
        self._connected = self._disconnected = False
        logger.debug("connecting to the engine at %s", self._endpoint)

    def _teardown(self) -> None:
        """Close the socket (dropping anything unsent) and its monitor."""
        socket, monitor = self._socket, self._monitor
        self._socket = self._monitor = self._poller = None
        if socket is None:
            return
        try:
            socket.disable_monitor()
        except zmq.ZMQError:
            pass
        if monitor is not None:
            monitor.close(linger=0)
        socket.close(linger=0)

    def _read_monitor(self) -> bool:
        """Process pending connection events; return whether a disconnect was among them."""
        assert self._monitor is not None
        disconnected = False
        while True:
            try:
                frames = self._monitor.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return disconnected
            event = int.from_bytes(frames[0][:2], sys.byteorder)  # uint16, native order
            if event == zmq.EVENT_CONNECTED:
                self._connected = True
            elif event == zmq.EVENT_DISCONNECTED:
                self._connected = False
                self._disconnected = disconnected = True

    def _request(self, request: bytes, reply_timeout: Optional[float]) -> List[bytes]:
        """Send one request frame and return the reply frames.

        On any failure (including KeyboardInterrupt) the socket is torn down,
        so the next request starts from a fresh, usable REQ socket.
        """
        self._ensure_open()
        if self._socket is None:
            self._connect()
        assert self._socket is not None and self._poller is not None
        socket = self._socket
        try:
            self._read_monitor()
            if self._disconnected and not self._connected:
                raise EngineGone(
                    f"the engine at {self._endpoint} closed the connection (it stopped, crashed or restarted); "
                    "retry to wait for it to come back, or exit"
                )
            try:
                socket.send(request, zmq.NOBLOCK)
            except zmq.Again:
                raise EngineTimeout(f"could not queue a request for the engine at {self._endpoint}") from None
            deadline = self._deadline(reply_timeout)
            while True:
                wait_ms = -1 if deadline is None else max(0, _to_ms(deadline - time.monotonic()))
                ready = dict(self._poller.poll(wait_ms))
                if socket in ready:
                    return socket.recv_multipart(zmq.NOBLOCK)
                if self._monitor in ready and self._read_monitor():
                    raise EngineGone(
                        f"the engine at {self._endpoint} closed the connection while a request was pending "
                        "(it stopped, crashed or restarted, or the port is not this plugin's engine port); "
                        "the request is lost; retry to wait for the engine to come back, or exit"
                    )
                if deadline is not None and time.monotonic() >= deadline:
                    raise EngineTimeout(
                        f"the engine at {self._endpoint} did not answer within {reply_timeout:g} s; "
                        "the connection was reset and the client can be used again "
                        "(is the engine running and is this the plugin's port?)"
                    )
        except BaseException as e:
            logger.debug("resetting the connection to %s after %s", self._endpoint, type(e).__name__)
            self._teardown()
            raise
