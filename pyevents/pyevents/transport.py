"""One REQ connection from a plugin to the engine, made lazily and re-made after a failure.

A :class:`Transport` sends one request (one frame, or a publish batch's frames)
and returns the reply, waiting at most a given time; it watches the
connection's handshakes and disconnections (a
:class:`~pyevents.connection.MonitoredSocket`) and says what went wrong with
:class:`~pyevents.errors.HandshakeFailed`, :class:`~pyevents.errors.EngineGone`
or :class:`~pyevents.errors.EngineTimeout`.  After any failure the socket is
torn down, so the next request starts from a fresh, usable REQ socket: a REQ
socket left waiting for a reply cannot send again.  It knows nothing of what
the requests mean (:class:`pyevents.PluginClient` does).
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any, Callable, List, Optional, Sequence, Union

import zmq

from . import protocol
from .connection import HANDSHAKE_FAILED_AUTH, HANDSHAKE_FAILED_NO_DETAIL, HANDSHAKE_FAILED_PROTOCOL, \
    MECHANISM_MISMATCH, MonitoredSocket
from .cursor import Payload
from .errors import EngineGone, EngineTimeout, HandshakeFailed
from .security import CLIENT_KEY_ENV_VAR, SERVER_KEY_ENV_VAR, CurveConfig

__all__ = ["Transport", "Request", "as_payloads", "to_ms"]

logger = logging.getLogger(__name__)

# ZMTP heartbeats let the client notice an engine whose host or network
# vanished without closing the TCP connection.
_HEARTBEAT_IVL_MS = 10_000
_HEARTBEAT_TIMEOUT_MS = 30_000

#: A request: one frame; a publish batch (the command, then the events); or a callable
#: building the frame once the connection's state is up to date, right before sending.
Request = Union[bytes, List[Any], Callable[[], bytes]]


def to_ms(seconds: float) -> int:
    """*seconds* in whole milliseconds, rounded up."""
    return math.ceil(seconds * 1000)


def as_payloads(frames: Sequence[zmq.Frame], header: bool) -> List[Payload]:
    """Reply frames received without a copy, as the client hands events out: read-only
    memoryviews of what ZeroMQ received; the first frame, with *header*, as ``bytes``.  A
    one-frame reply that is an error (or, with *header*, any one-frame reply) is ``bytes``
    too, so it can be parsed."""
    if len(frames) == 1 and (header or frames[0].buffer[:len(protocol.REPLY_ERROR_PREFIX)]
                             == protocol.REPLY_ERROR_PREFIX):
        return [frames[0].bytes]
    first = 1 if header else 0
    return [frame.bytes for frame in frames[:first]] + [frame.buffer.toreadonly() for frame in frames[first:]]


class Transport:
    """The REQ connection to the engine at *endpoint*.

    :param context: the context to make sockets in.
    :param endpoint: e.g. ``"tcp://127.0.0.1:6000"``.
    :param curve: the CURVE keys, or None.
    :param on_reset: called when the connection is dropped or torn down (the next one may
        reach a restarted application).
    """

    def __init__(self, context: zmq.Context, endpoint: str, curve: Optional[CurveConfig],
                 on_reset: Callable[[], None]) -> None:
        self.context = context
        self.endpoint = endpoint
        self.curve = curve
        self._on_reset = on_reset
        self._connection: Optional[MonitoredSocket] = None
        self._poller: Optional[zmq.Poller] = None
        self._connects_seen = 0
        #: What the last request learnt of the application, for a quit to know whether a
        #: missing answer means anything: "gone" (it closed the connection: it ended first),
        #: "refused" (the handshake failed: the caller was told), or None.
        self.peer_state: Optional[str] = None

    @property
    def is_open(self) -> bool:
        """Whether a socket exists (a request was made since the last teardown)."""
        return self._connection is not None

    @property
    def client_public_key(self) -> Optional[str]:
        """This client's public CURVE key (40 Z85 characters), or None."""
        return None if self.curve is None else self.curve.client_public_key.decode("ascii")

    def connect(self) -> None:
        """Make the socket and its monitor and start connecting (returns at once)."""
        options = []
        if hasattr(zmq, "HEARTBEAT_IVL"):
            options = [(zmq.HEARTBEAT_IVL, _HEARTBEAT_IVL_MS), (zmq.HEARTBEAT_TIMEOUT, _HEARTBEAT_TIMEOUT_MS)]
        connection = MonitoredSocket(self.context, zmq.REQ, self.endpoint, self.curve, "the engine",
                                     options=options, describe_failure=self._handshake_error)
        try:
            connection.socket.connect(self.endpoint)
        except BaseException:
            connection.close()
            raise
        poller = zmq.Poller()
        poller.register(connection.socket, zmq.POLLIN)
        poller.register(connection.monitor, zmq.POLLIN)
        self._connection, self._poller, self._connects_seen = connection, poller, 0
        logger.debug("connecting to the engine at %s%s", self.endpoint, " (CURVE)" if self.curve else "")

    def teardown(self) -> None:
        """Close the socket (dropping anything unsent) and its monitor."""
        connection = self._connection
        self._connection = self._poller = None
        self._on_reset()  # the next connection may reach a restarted application
        if connection is not None:
            connection.close()

    def read_monitor(self) -> bool:
        """Process pending connection events; return whether a disconnect was among them.

        Raises :class:`~pyevents.errors.HandshakeFailed` if the security handshake failed
        (and did not succeed on a later attempt).
        """
        assert self._connection is not None
        connection = self._connection
        try:
            disconnected = connection.check()
        finally:
            if connection.connects != self._connects_seen:
                self._connects_seen = connection.connects
                if self.peer_state == "gone":  # something listens there again: no answer means something
                    self.peer_state = None
        if disconnected:
            self._on_reset()  # reconnected, it may be a restarted application
        return disconnected

    def _handshake_error(self, event: int, value: int) -> HandshakeFailed:
        where = f"the engine at {self.endpoint}"
        if self.curve is None:
            if event == HANDSHAKE_FAILED_NO_DETAIL:
                what = f"{where} closed the connection during the handshake; it probably requires"
            else:
                what = f"{where} requires"
            return HandshakeFailed(
                f"{what} CURVE keys: set {SERVER_KEY_ENV_VAR} to the application's public key and "
                f"{CLIENT_KEY_ENV_VAR} to this plugin's secret key (docs/security.md)"
                + ("; or the port is not this plugin's" if event == HANDSHAKE_FAILED_NO_DETAIL else "")
            )
        if event == HANDSHAKE_FAILED_AUTH:
            return HandshakeFailed(
                f"{where} refused this plugin's key (status {value}): check that {CLIENT_KEY_ENV_VAR} (or "
                "client_key=) is this plugin's secret key and that the application lists its public key "
                f"{self.client_public_key} as this plugin's client_key (docs/security.md)"
            )
        if event == HANDSHAKE_FAILED_PROTOCOL and value == MECHANISM_MISMATCH:
            return HandshakeFailed(
                f"{where} does not use CURVE, but this client does ({SERVER_KEY_ENV_VAR}/{CLIENT_KEY_ENV_VAR} "
                "or server_key=/client_key= are set): unset them, or give the application its keys"
            )
        return HandshakeFailed(
            f"the CURVE handshake with {where} failed: check that {SERVER_KEY_ENV_VAR} (or server_key=) is "
            "the application's PUBLIC key (its NAME.key file), that the application uses keys at all "
            f"(if not, unset {SERVER_KEY_ENV_VAR} and {CLIENT_KEY_ENV_VAR}), and that the port is this plugin's"
        )

    def _send_when_connected(self, request: Union[bytes, List[Any]], deadline: Optional[float]) -> None:
        """Send *request* once the connection is up (the socket has no pipe before).

        While it waits, the monitor is read, so a handshake the engine refused raises
        :class:`~pyevents.errors.HandshakeFailed` instead of a timeout.
        """
        assert self._connection is not None
        socket = self._connection.socket
        poller = zmq.Poller()
        poller.register(socket, zmq.POLLOUT)
        poller.register(self._connection.monitor, zmq.POLLIN)
        while True:
            try:
                if isinstance(request, list):  # a publish batch: the command, then the events, without copies
                    socket.send_multipart(request, zmq.NOBLOCK, copy=False)
                else:
                    socket.send(request, zmq.NOBLOCK)
                return
            except zmq.Again:
                pass
            self.read_monitor()  # raises HandshakeFailed if the engine refused us
            if self._connection.disconnected and not self._connection.connected:
                # It was connected and has gone since (its disconnect read only now): as at the start.
                raise EngineGone(
                    f"the engine at {self.endpoint} closed the connection (it stopped, crashed or restarted); "
                    "retry to wait for it to come back, or exit"
                )
            if deadline is not None and time.monotonic() >= deadline:
                raise EngineTimeout(f"could not queue a request for the engine at {self.endpoint}: no connection "
                                    "(is the engine running, on this port?)")
            wait_ms = 50 if deadline is None else max(0, min(50, to_ms(deadline - time.monotonic())))
            poller.poll(wait_ms)

    def request(self, request: Request, reply_timeout: Optional[float], copy: bool = True) -> List[Any]:
        """Send one request and return the reply frames (``bytes``; with *copy* False,
        :class:`zmq.Frame` objects), waiting at most *reply_timeout* seconds (None: forever).

        On any failure (including KeyboardInterrupt) the socket is torn down, so the next
        request starts from a fresh, usable REQ socket.
        """
        deadline = None if reply_timeout is None else time.monotonic() + reply_timeout
        self.send(request, deadline)
        return self.receive(reply_timeout, copy, deadline)

    def send(self, request: Request, deadline: Optional[float]) -> None:
        """The first half of :meth:`request`: send *request*, waiting until *deadline* (a
        ``time.monotonic()`` value; None: forever) for a connection.  :meth:`receive` must
        follow before the next send (a REQ socket alternates)."""
        if self._connection is None:
            self.connect()
        assert self._connection is not None
        try:
            self.read_monitor()
            if self._connection.disconnected and not self._connection.connected:
                raise EngineGone(
                    f"the engine at {self.endpoint} closed the connection (it stopped, crashed or restarted); "
                    "retry to wait for it to come back, or exit"
                )
            if callable(request):
                request = request()
            self._send_when_connected(request, deadline)
        except BaseException as e:
            self._failed(e)
            raise

    def receive(self, reply_timeout: Optional[float], copy: bool = True,
                deadline: Optional[float] = None) -> List[Any]:
        """The second half of :meth:`request`: the reply to what :meth:`send` sent, waiting
        until *deadline* (default: *reply_timeout* seconds from now; None: forever)."""
        assert self._connection is not None and self._poller is not None
        socket, monitor, poller = self._connection.socket, self._connection.monitor, self._poller
        if deadline is None and reply_timeout is not None:
            deadline = time.monotonic() + reply_timeout
        try:
            while True:
                wait_ms = -1 if deadline is None else max(0, to_ms(deadline - time.monotonic()))
                ready = dict(poller.poll(wait_ms))
                if socket in ready:
                    reply: List[Any] = socket.recv_multipart(zmq.NOBLOCK, copy=copy)
                    self.peer_state = None
                    return reply
                if monitor in ready and self.read_monitor():
                    raise EngineGone(
                        f"the engine at {self.endpoint} closed the connection while a request was pending "
                        "(it stopped, crashed or restarted, or the port is not this plugin's engine port); "
                        "the request is lost; retry to wait for the engine to come back, or exit"
                    )
                if deadline is not None and time.monotonic() >= deadline:
                    raise EngineTimeout(
                        f"the engine at {self.endpoint} did not answer within {reply_timeout:g} s; "
                        "the connection was reset and the client can be used again "
                        "(is the engine running and is this the plugin's port?)"
                    )
        except BaseException as e:
            self._failed(e)
            raise

    def _failed(self, e: BaseException) -> None:
        """After any failure (including KeyboardInterrupt): note what it says of the peer and
        tear the socket down, so the next request starts from a fresh, usable REQ socket."""
        logger.debug("resetting the connection to %s after %s", self.endpoint, type(e).__name__)
        if isinstance(e, EngineGone):
            self.peer_state = "gone"
        elif isinstance(e, HandshakeFailed):
            self.peer_state = "refused"
        self.teardown()
