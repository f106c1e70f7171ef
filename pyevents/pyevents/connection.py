"""Sockets to an application's TCP endpoints that say why a connection failed.

The tools (:mod:`pyevents.cli`) and :func:`pyevents.contract.fetch_manifest`
connect to an application's publish, subscribe and introspection endpoints,
possibly with CURVE keys (:mod:`pyevents.security`).  ZeroMQ itself never says
that a connection was refused: a refused client just waits.  A
:class:`MonitoredSocket` watches its own handshakes (a ZeroMQ socket monitor)
and raises :class:`~pyevents.errors.HandshakeFailed` naming the endpoint, the
key and what to change, and every wait it offers has a deadline, after which
:class:`~pyevents.errors.EngineTimeout` says what did not happen.
"""

from __future__ import annotations

import itertools
import logging
import sys
import time
from typing import Callable, List, Optional, Sequence, Tuple

import zmq

from .errors import EngineTimeout, HandshakeFailed
from .security import CLIENT_KEY_ENV_VAR, SERVER_KEY_ENV_VAR, CurveConfig

__all__ = ["MonitoredSocket", "tcp_endpoint", "is_security_failure", "HANDSHAKE_FAILED_AUTH",
           "HANDSHAKE_FAILED_NO_DETAIL", "HANDSHAKE_FAILED_PROTOCOL", "HANDSHAKE_SUCCEEDED", "MECHANISM_MISMATCH"]

logger = logging.getLogger(__name__)

_ids = itertools.count()

# Handshake outcomes reported by the socket monitor (libzmq >= 4.3).
HANDSHAKE_SUCCEEDED = getattr(zmq, "EVENT_HANDSHAKE_SUCCEEDED", 0)
HANDSHAKE_FAILED_NO_DETAIL = getattr(zmq, "EVENT_HANDSHAKE_FAILED_NO_DETAIL", 0)
HANDSHAKE_FAILED_PROTOCOL = getattr(zmq, "EVENT_HANDSHAKE_FAILED_PROTOCOL", 0)
HANDSHAKE_FAILED_AUTH = getattr(zmq, "EVENT_HANDSHAKE_FAILED_AUTH", 0)
MECHANISM_MISMATCH = int(getattr(zmq, "PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH", -1))
# Protocol errors that mean "the two sides disagree about security", not "this is not an engine".
_SECURITY_PROTOCOL_ERRORS = {
    int(getattr(zmq, name))
    for name in ("PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH", "PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC",
                 "PROTOCOL_ERROR_ZMTP_KEY_EXCHANGE")
    if hasattr(zmq, name)
}
# What a MonitoredSocket's monitor reports.
_MONITORED_EVENTS = (zmq.EVENT_CONNECTED | zmq.EVENT_DISCONNECTED | HANDSHAKE_SUCCEEDED | HANDSHAKE_FAILED_NO_DETAIL
                     | HANDSHAKE_FAILED_PROTOCOL | HANDSHAKE_FAILED_AUTH)


def is_security_failure(event: int, value: int) -> bool:
    """Whether the monitor's *event* (with its *value*) is a failed handshake that means the two
    sides disagree about keys (not a stray peer)."""
    if not event or event not in (HANDSHAKE_FAILED_NO_DETAIL, HANDSHAKE_FAILED_PROTOCOL, HANDSHAKE_FAILED_AUTH):
        return False
    if event == HANDSHAKE_FAILED_PROTOCOL:
        return value in _SECURITY_PROTOCOL_ERRORS
    # Refused (AUTH), or no detail: the peer closed the connection mid-handshake. With CURVE,
    # typically a wrong server key; without, typically a peer that requires CURVE (a race
    # decides whether the client sees this or the mechanism mismatch).
    return True


def tcp_endpoint(host: str, port: int) -> str:
    """``tcp://host:port``, with an IPv6 literal in brackets."""
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"tcp://{host}:{port}"


class MonitoredSocket:
    """A ZeroMQ socket connected to one endpoint, with a monitor on its handshakes.

    :param context: the context to make the socket (and its monitor) in.
    :param kind: ``zmq.REQ``, ``zmq.SUB``, ``zmq.XPUB``, ...
    :param endpoint: e.g. ``"tcp://127.0.0.1:5560"``.
    :param curve: the CURVE keys (:func:`pyevents.security.curve_config`), or None.
    :param what: what the endpoint is, for messages (``"the subscribe port"``).
    :param options: socket options to set before connecting, as (option, value) pairs.
    :param describe_failure: makes the :class:`HandshakeFailed` for a failed handshake
        (event, value) instead of the tools' messages (the plugin client has its own).

    Use it as a context manager, or call :meth:`close`.
    """

    def __init__(self, context: zmq.Context, kind: int, endpoint: str, curve: Optional[CurveConfig],
                 what: str = "the endpoint", *, options: Sequence[Tuple[int, int]] = (),
                 describe_failure: Optional[Callable[[int, int], HandshakeFailed]] = None) -> None:
        self.endpoint = endpoint
        self.what = what
        self.curve = curve
        self.connected = False
        #: Whether a connection was made and then lost (and not made again since).
        self.disconnected = False
        self.connects = 0
        self.handshakes = 0
        #: The last failed handshake (event, value) not followed by a successful one.
        self.failure: Optional[Tuple[int, int]] = None
        self._describe_failure = describe_failure or self._failure
        self.socket = context.socket(kind)
        self._monitor: Optional[zmq.Socket] = None
        try:
            self.socket.setsockopt(zmq.LINGER, 0)
            if ":" in endpoint.split("//", 1)[-1].rsplit(":", 1)[0]:
                self.socket.setsockopt(zmq.IPV6, 1)
            for option, value in options:
                self.socket.setsockopt(option, value)
            if curve is not None:
                curve.apply(self.socket)
            address = f"inproc://pyevents-connection-{id(self):x}-{next(_ids)}"
            self.socket.monitor(address, _MONITORED_EVENTS)
            self._monitor = context.socket(zmq.PAIR)
            self._monitor.setsockopt(zmq.LINGER, 0)
            self._monitor.connect(address)
        except BaseException:
            self.close()
            raise

    def connect(self) -> "MonitoredSocket":
        """Connect to :attr:`endpoint` (returns immediately; see :meth:`wait_handshake`)."""
        self.socket.connect(self.endpoint)
        logger.debug("connecting to %s at %s%s", self.what, self.endpoint, " (CURVE)" if self.curve else "")
        return self

    @property
    def monitor(self) -> zmq.Socket:
        assert self._monitor is not None
        return self._monitor

    def check(self) -> bool:
        """Read the monitor's news; raise :class:`HandshakeFailed` if the application refused us
        (and did not accept a later attempt).  Returns whether a disconnection was among the news."""
        disconnected = False
        while True:
            try:
                frames = self.monitor.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                break
            event = int.from_bytes(frames[0][:2], sys.byteorder)  # uint16, native order
            value = int.from_bytes(frames[0][2:6], sys.byteorder)  # uint32, native order
            if event == zmq.EVENT_CONNECTED:
                self.connected = True
                self.connects += 1
            elif event == zmq.EVENT_DISCONNECTED:
                self.connected = False
                self.disconnected = disconnected = True
            elif event == HANDSHAKE_SUCCEEDED:
                self.handshakes += 1
                self.failure = None
            elif is_security_failure(event, value):
                self.failure = (event, value)
        if self.failure is not None:
            raise self._describe_failure(*self.failure)
        return disconnected

    def wait_handshake(self, deadline: float) -> None:
        """Wait until the connection is up (its handshake succeeded), at most until *deadline*
        (a :func:`time.monotonic` value); raises :class:`HandshakeFailed` or :class:`EngineTimeout`."""
        while True:
            self.check()
            if self.handshakes:
                return
            left = deadline - time.monotonic()
            if left <= 0:
                raise EngineTimeout(
                    f"no connection to {self.what} at {self.endpoint} within the timeout"
                    + (" (TCP connected, but the handshake did not finish)" if self.connected else
                       " (is the application running, and is this its port?)"))
            self.monitor.poll(min(100, max(1, int(left * 1000))))

    def receive(self, deadline: float, waiting_for: str) -> List[bytes]:
        """The next message on the socket, waiting at most until *deadline* (a
        :func:`time.monotonic` value) while watching the handshakes; raises
        :class:`HandshakeFailed`, or :class:`EngineTimeout` saying it was *waiting_for* it."""
        poller = zmq.Poller()
        poller.register(self.socket, zmq.POLLIN)
        poller.register(self.monitor, zmq.POLLIN)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise EngineTimeout(f"{waiting_for} from {self.what} at {self.endpoint} did not come in time")
            ready = dict(poller.poll(max(1, int(left * 1000))))
            if self.monitor in ready:
                self.check()
            if self.socket in ready:
                return self.socket.recv_multipart()

    def _failure(self, event: int, value: int) -> HandshakeFailed:
        where = f"{self.what} at {self.endpoint}"
        if self.curve is None:
            return HandshakeFailed(
                f"{where} requires CURVE keys: give the application's public key and this client's secret key "
                f"(--server-key/--client-key, or {SERVER_KEY_ENV_VAR}/{CLIENT_KEY_ENV_VAR}; docs/security.md)")
        if event == HANDSHAKE_FAILED_AUTH:
            return HandshakeFailed(
                f"{where} refused this client's key {self.curve.client_public_key.decode('ascii')} (ZAP status "
                f"{value}): the application must list it (security.subscribers for the subscribe port, "
                "security.publishers for the publish port, any of them for the introspection endpoint, an external "
                "plugin's client_key for its port; docs/security.md)")
        if event == HANDSHAKE_FAILED_PROTOCOL and value == MECHANISM_MISMATCH:
            return HandshakeFailed(
                f"{where} does not use CURVE, but this client does: unset {SERVER_KEY_ENV_VAR} and "
                f"{CLIENT_KEY_ENV_VAR} (or drop --server-key/--client-key)")
        return HandshakeFailed(
            f"the CURVE handshake with {where} failed: check that the server key ({SERVER_KEY_ENV_VAR} or "
            "--server-key) is the application's PUBLIC key (its NAME.key file) and that the application uses keys")

    def close(self) -> None:
        """Close the socket and its monitor (nothing lingers)."""
        try:
            self.socket.disable_monitor()
        except zmq.ZMQError:
            pass
        if self._monitor is not None:
            self._monitor.close(linger=0)
            self._monitor = None
        self.socket.close(linger=0)

    def __enter__(self) -> "MonitoredSocket":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
