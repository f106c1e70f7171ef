"""The plugin client: a Pythonic connection from a plugin to the engine.

Example::

    from pyevents import PluginClient

    with PluginClient(6000, event_names=["TypeA", "TypeB"]) as client:
        for raw in client:                      # waits for events forever
            event = client.decode(raw)          # Event(topic="TypeA", payload=b"...")
            if event.topic == "TypeB":
                client.publish_event("TypeC", b"seen a B")
    # leaving the block acknowledges what was handed out, sends quit and closes the connection

Events are fetched *at least once* (the engine's ``fetch``/``ack`` commands,
docs/protocol.md): the engine keeps every event it sent until the client
acknowledges it, so an event whose reply was lost (a timeout, a dead
connection, a crashed plugin) is sent again, and the client skips the ones it
has already handed out.  An event counts as processed once the client has
handed it to the caller; the acknowledgement goes with the next fetch, or with
:meth:`PluginClient.quit`/:meth:`PluginClient.close`.

With ``EVENT_ENGINE_SERVER_KEY`` and ``EVENT_ENGINE_CLIENT_KEY`` set (or the
``server_key``/``client_key`` arguments) every socket the client makes is a
CURVE client (docs/security.md, :mod:`pyevents.security`).

A :class:`PluginClient` owns one ZeroMQ REQ socket and is not thread-safe:
use it from one thread only (or give each thread its own client).
"""

from __future__ import annotations

import json
import logging
import math
import numbers
import operator
import os
import secrets
import time
from types import TracebackType
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Iterable,
    Iterator,
    List,
    Mapping,
    Optional,
    Tuple,
    Type,
    Union,
)

import zmq

from . import protocol
from .connection import tcp_endpoint
from .contract import MISSING, Contract, require_contract
from .cursor import Cursor, Payload, parse_fetch_reply
from .errors import (
    BatchRefused,
    ClientClosed,
    EngineGone,
    EngineTimeout,
    HandshakeFailed,
    ProtocolError,
    PublishRejected,
    PyEventsError,
)
from .protocol import BytesLike, checked_event, error_reason
from .security import KeySource, curve_config
from .topics import Event, Topic, decode, encode_topic
from .transport import Request, Transport, as_payloads, to_ms

if TYPE_CHECKING:
    from .publisher import BufferedPublisher

__all__ = ["PluginClient", "DEFAULT_HOST"]

logger = logging.getLogger(__name__)

#: Default engine host of the new API (overridden by ``$EVENT_ENGINE_HOST``).
DEFAULT_HOST = "127.0.0.1"

#: What ``PluginClient(contract=...)`` takes: a Contract, a manifest dict, or a manifest file's path.
ContractSource = Union[Contract, Mapping[str, Any], str, "os.PathLike[str]"]


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
    :param server_key: the application's public CURVE key: its ``NAME.key``
        file as a :class:`pathlib.Path` (or ``"file:PATH"``), or its 40 Z85
        characters (``str``/``bytes``, or ``"z85:KEY"``); never guessed between
        (:mod:`pyevents.security`); overrides ``$EVENT_ENGINE_SERVER_KEY``.
    :param client_key: this plugin's secret CURVE key: its ``NAME.key_secret``
        file as a :class:`pathlib.Path` (or ``"file:PATH"``), or the secret
        key's 40 Z85 characters; overrides ``$EVENT_ENGINE_CLIENT_KEY``.  With both keys (from the
        arguments or the environment) every socket is a CURVE client; with
        neither, a plain one; with only one, or a key that cannot be loaded,
        :class:`~pyevents.errors.SecurityConfigError` is raised here.
    :param at_least_once: fetch with the engine's ``fetch``/``ack`` commands
        (default), so no event is lost when a reply is; ``False`` uses
        ``next_msg_wait``/``next_msgs`` (at most once), for engines that do
        not have ``fetch``.
    :param contract: the application's :class:`~pyevents.Contract` (or what
        :meth:`Contract.load <pyevents.Contract.load>` takes: a manifest dict or
        file); then :meth:`events` yields typed events and :meth:`publish_typed`
        publishes them.  :meth:`load_contract` fetches it over this connection
        instead (docs/python.md).
    :param copy: ``True`` (default): events are handed out as ``bytes``.
        ``False``: as read-only :class:`memoryview` objects over the frames
        ZeroMQ received, without copying them: hand one to
        ``numpy.frombuffer`` or slice it without a copy; each keeps its frame's
        memory alive as long as it (or a slice or array made from it) exists
        (docs/python.md, "Large payloads without copies").

    The connection is made lazily and re-made after a timeout or after the
    engine went away, so the engine may be started after the plugin.

    **At least once.**  :meth:`next_event`, :meth:`next_events` and iteration
    fetch events in batches, numbered by the engine, into a local buffer and
    hand them out from it.  Each fetch acknowledges every event handed out
    so far; :meth:`quit` and :meth:`close` acknowledge the rest.  Events the
    engine sends again (after a lost reply or a reconnection) that were
    already handed out are skipped and counted in :attr:`duplicates_skipped`.
    When the application restarts (a new :attr:`epoch`), the numbering starts
    over.  Events fetched but not yet handed out are not acknowledged: if the
    plugin dies, the engine sends them to its next client.

    Used as a context manager, the client acknowledges the events it handed
    out, sends ``quit`` to the engine and closes itself when the block ends,
    also when it ends with an exception.
    """

    #: Longest wait, in seconds, asked of the engine in one request.  Longer
    #: or unlimited waits are split into requests of at most this length, so
    #: the client notices an engine that stopped answering (with ``timeout``)
    #: and an interrupted wait never leaves the socket mid-request for long.
    #: Must be > 0; may be changed per instance.
    wait_chunk: float = 1.0

    #: Most events :meth:`next_event` (and iteration) fetch in one request;
    #: the rest of a batch is handed out from a local buffer.  1 fetches one
    #: event per request.  May be changed per instance.
    fetch_batch: int = 100

    #: Most events one ``publish_batch`` request carries; :meth:`publish_many` splits
    #: longer runs (1 to 100,000).  May be changed per instance.
    publish_batch_events: int = 10_000

    #: Most bytes of events one ``publish_batch`` request carries (an event larger than
    #: this goes alone).  The engine refuses a batch over the application's
    #: ``max_message_size`` (16 MiB by default).  May be changed per instance.
    publish_batch_bytes: int = 8 << 20

    #: How many times a batch whose reply was lost (a timeout, a dropped connection) is
    #: sent again before the error is raised.  The engine publishes a batch sent again at
    #: most once (docs/protocol.md).  May be changed per instance.
    publish_retries: int = 3

    #: About how many bytes of events one fetch asks for: after a reply, the next fetch asks
    #: for at most ``fetch_bytes`` divided by the mean size of that reply's events (at least
    #: one event, at most what the call wants).  Replies of up to the engine's limit (16 MiB)
    #: cost more than the round trips they save: their memory is new to the process each
    #: time (page faults on every 4 KiB), which halved the rate of 1-4 MiB events
    #: (docs/benchmarks.md).  ``None``: no bound but the count.  May be changed per instance.
    fetch_bytes: Optional[int] = 8 << 20

    #: Fetch ahead: right after a fetch brought events, ask for the next ones without waiting
    #: for them (``fetch`` with the number of the last event held, docs/protocol.md), so they
    #: travel while the plugin works on these; the reply is read when the plugin wants more
    #: (or before any other request).  At least once as before: what was fetched ahead and
    #: not handed out is not acknowledged.  Off by default: a plugin that takes events one at
    #: a time and quits holds up to a reply more than it handed out (sent again to its next
    #: process).  Turned off by itself against an engine that does not know it.  May be
    #: changed per instance.
    fetch_ahead: bool = False

    def __init__(
        self,
        port: int,
        host: Optional[str] = None,
        *,
        context: Optional[zmq.Context] = None,
        timeout: Optional[float] = None,
        event_names: Optional[Iterable[Topic]] = None,
        server_key: Optional[KeySource] = None,
        client_key: Optional[KeySource] = None,
        at_least_once: bool = True,
        contract: Optional[ContractSource] = None,
        copy: bool = True,
    ) -> None:
        self._port = _check_port(port)
        host = protocol.resolve_host(host, DEFAULT_HOST)
        if not isinstance(host, str):
            raise TypeError(f"host must be a str, not {type(host).__name__}")
        if not host:
            raise ValueError("host must not be empty")
        self._host = host
        self._endpoint = tcp_endpoint(host, self._port)
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
        if not isinstance(at_least_once, bool):
            raise TypeError(f"at_least_once must be True or False, not {type(at_least_once).__name__}")
        if not isinstance(copy, bool):
            raise TypeError(f"copy must be True or False, not {type(copy).__name__}")
        self._copy = copy
        curve = curve_config(server_key, client_key)
        self._at_least_once = at_least_once
        self._contract: Optional[Contract] = None
        if contract is not None:
            self._set_contract(contract)
        #: The at-least-once bookkeeping: numbering, buffer, what was handed out and acknowledged.
        self._cursor = Cursor()
        self._own_context = context is None
        self._context: zmq.Context = zmq.Context() if context is None else context
        # A fetch ahead sent and not answered yet: (its request, what it acknowledged, its most).
        self._ahead: Optional[Tuple[bytes, int, int]] = None
        self._transport = Transport(self._context, self._endpoint, curve, on_reset=self._connection_reset)
        self._closed = False
        # Publish batches: this client's session name and the number of its last batch; the
        # buffered publishers flushed before the client waits for events.
        self._session = secrets.token_hex(8)
        self._batch_sequence = 0
        # The batch sent last and not answered yet (its number, its frames), if any.
        self._unanswered: Optional[Tuple[int, List[BytesLike]]] = None
        self._publishers: List[Any] = []

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
    def contract(self) -> Optional[Contract]:
        """The application's contract (``contract=`` or :meth:`load_contract`), or None."""
        return self._contract

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` (or :meth:`quit`) was called."""
        return self._closed

    @property
    def secure(self) -> bool:
        """Whether the client's sockets use CURVE (keys from the arguments or the environment)."""
        return self._transport.curve is not None

    @property
    def client_public_key(self) -> Optional[str]:
        """This client's public CURVE key (40 Z85 characters), the one the application must list; or None."""
        return self._transport.client_public_key

    @property
    def at_least_once(self) -> bool:
        """Whether events are fetched at least once (``fetch``/``ack``) rather than at most once."""
        return self._at_least_once

    @property
    def copy(self) -> bool:
        """Whether events are handed out as ``bytes`` (``True``) or as read-only ``memoryview`` objects
        over the received frames, without a copy (``False``)."""
        return self._copy

    @property
    def epoch(self) -> Optional[str]:
        """The engine's numbering of this plugin's events (16 hex digits; new per application run), or None
        before the first fetch."""
        return self._cursor.epoch

    @property
    def last_event_number(self) -> int:
        """The engine's number of the last event handed out in the current :attr:`epoch` (0: none)."""
        return self._cursor.last_handed

    @property
    def buffered(self) -> int:
        """How many fetched events wait in the local buffer (not handed out, not acknowledged)."""
        return len(self._cursor.buffer)

    @property
    def duplicates_skipped(self) -> int:
        """Events the engine sent again that this client had already handed out (skipped)."""
        return self._cursor.duplicates_skipped

    @duplicates_skipped.setter
    def duplicates_skipped(self, value: int) -> None:
        self._cursor.duplicates_skipped = value

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<{type(self).__name__} {self._endpoint} {state}>"

    # ------------------------------------------------------------- receiving

    def next_event(self, timeout: Optional[float] = None) -> Optional[Payload]:
        """Return the next event (topic followed by payload) for this plugin.

        Waits at most *timeout* seconds and returns ``None`` if no event
        arrived; ``timeout=None`` waits until there is one, ``0`` only checks.
        Long waits are made of several short requests, so the connection is
        never left in a broken state and no event is lost by giving up.

        Events are fetched up to :attr:`fetch_batch` at a time and handed out
        one per call; an event counts as processed (and is acknowledged by the
        next request) once returned.

        Raises :class:`~pyevents.errors.EngineTimeout` or
        :class:`~pyevents.errors.EngineGone` if the engine stops answering or
        goes away.
        """
        deadline = self._deadline(_check_seconds(timeout, "timeout", allow_zero=True))
        if not self._cursor.buffer:
            self._flush_publishers()  # what was buffered goes out before the client waits
        if not self._at_least_once:
            return self._next_event_at_most_once(deadline)
        self._ensure_open()
        batch = self.fetch_batch
        if isinstance(batch, bool) or not isinstance(batch, int) or not 1 <= batch <= protocol.MAX_BATCH:
            raise ValueError(f"fetch_batch must be an int from 1 to {protocol.MAX_BATCH}, got {batch!r}")
        while True:
            if self._cursor.buffer:
                return self._cursor.hand_out(1)[0]
            if self._fetch(batch, self._next_wait_ms(deadline)):
                continue  # events, or duplicates only (the next fetch acknowledges them): no waiting
            if deadline is not None and time.monotonic() >= deadline:
                return None

    def next_events(self, max_events: int, timeout: Optional[float] = 0) -> List[Payload]:
        """Return up to *max_events* events that are ready, as a list.

        Waits at most *timeout* seconds for the first event (default ``0``:
        do not wait; ``None``: wait until there is at least one) and returns
        an empty list if none arrived.  Events already in the local buffer
        (fetched by :meth:`next_event`) are returned first, without a request.
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
        if not self._cursor.buffer:
            self._flush_publishers()  # what was buffered goes out before the client waits
        if not self._at_least_once:
            return self._next_events_at_most_once(max_events, deadline)
        self._ensure_open()
        while True:
            if self._cursor.buffer:
                return self._cursor.hand_out(max_events)
            # "Up to max_events": ask for no more than the engine serves in one reply.
            if self._fetch(min(max_events, protocol.MAX_BATCH), self._next_wait_ms(deadline)):
                continue
            if deadline is not None and time.monotonic() >= deadline:
                return []

    def __iter__(self) -> Iterator[Payload]:
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

    def decode(self, data: BytesLike) -> Event:
        """Split *data* into an :class:`~pyevents.Event` using this client's ``event_names``.

        Raises :class:`~pyevents.errors.UnknownTopic` if it starts with none of them.
        """
        if not self._event_names:
            raise ValueError("decode() needs the client's event_names; pass event_names=[...] to PluginClient")
        return decode(data, self._event_names)

    # ---------------------------------------------------------- typed events

    def manifest(self) -> dict:
        """Ask the engine for the application's manifest (``plugin_command: manifest`` on this
        plugin's port; docs/protocol.md) and return it, parsed.

        Raises :class:`~pyevents.errors.ProtocolError` if the engine answers something else
        (an engine without the manifest command), and what :meth:`ping` raises.
        """
        reply = self._request(protocol.MANIFEST, self._timeout)
        if len(reply) == 1 and reply[0].startswith(b"{"):
            try:
                return json.loads(reply[0])
            except json.JSONDecodeError as e:
                raise ProtocolError(f"the manifest from {self._endpoint} is not JSON: {e}") from None
        reason = error_reason(reply[0]) if len(reply) == 1 else None
        raise ProtocolError(f"the engine did not answer {protocol.MANIFEST!r} with a manifest: "
                            + (reason if reason is not None else repr(reply)[:120]))

    def load_contract(self, *, byte_views: bool = False) -> Contract:
        """Fetch the application's manifest over this connection (:meth:`manifest`), keep it as
        this client's :attr:`contract` and return it.  With *byte_views*, ``bytes`` members of
        reflective events decode to read-only memoryviews of the frame (with ``copy=False``:
        no copy at all; docs/python.md)."""
        return self._set_contract(Contract(self.manifest(), byte_views=byte_views))

    def _set_contract(self, contract: ContractSource) -> Contract:
        if not isinstance(contract, Contract):
            if not isinstance(contract, (Mapping, str, os.PathLike)):
                raise TypeError("contract must be a Contract, a manifest dict or a manifest file's path, "
                                f"not {type(contract).__name__}")
            contract = Contract.load(contract)
        self._contract = contract
        if not self._event_names:
            self._event_names = tuple(event.topic for event in contract)
        return contract

    def events(self, timeout: Optional[float] = None) -> Iterator[Any]:
        """Yield the events as typed objects, until the engine goes away or the client is closed.

        A reflective event is an instance of its dataclass (``contract.type(name)``); an event
        of another codec an :class:`~pyevents.contract.UntypedEvent` (``str`` for text codecs,
        raw ``bytes`` otherwise).  With *timeout*, the iteration also ends after *timeout*
        seconds without an event.  Events are fetched and acknowledged as by iterating the
        client; a frame that does not decode raises :class:`~pyevents.contract.ContractError`
        (it counts as handed out).
        """
        contract = require_contract(self._contract, "events()")
        while not self._closed:
            try:
                frame = self.next_event(timeout)
            except EngineGone as e:
                logger.info("stopping iteration: %s", e)
                return
            if frame is None:
                return
            yield contract.typed(frame)

    def publish_typed(self, event: Any, value: Any = MISSING, /, **fields: Any) -> None:
        """Publish a typed event: as :meth:`Contract.encode <pyevents.Contract.encode>` takes it
        (a dataclass instance; or an event name with its value or fields).  See :meth:`publish`."""
        self.publish(require_contract(self._contract, "publish_typed()").encode(event, value, **fields))

    # ------------------------------------------------------------ publishing

    def publish(self, data: BytesLike) -> None:
        """Publish the raw event *data* (topic followed by payload).

        Raises :class:`~pyevents.errors.PublishRejected` if the engine refuses
        it, e.g. because the plugin is not configured to publish its topic.
        """
        data = bytes(checked_event(data))
        reply = self._request(data, self._timeout)
        if reply == [protocol.REPLY_PUBLISHED]:
            return
        if len(reply) == 1:
            reason = error_reason(reply[0])
            if reason is not None:
                raise PublishRejected(reason)
        raise ProtocolError(f"unexpected reply to a publish: {reply!r}")

    def publish_event(self, name_or_topic: Topic, payload: Union[BytesLike, str] = b"") -> None:
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

    def publish_many(self, events: Iterable[BytesLike]) -> int:
        """Publish *events* (each topic followed by payload) with as few requests as the
        limits allow: ``publish_batch`` requests of at most :attr:`publish_batch_events`
        events and :attr:`publish_batch_bytes` bytes (docs/protocol.md).  Returns how many
        were published, in order.

        Payloads are sent without copies (``bytes``, ``bytearray`` or ``memoryview``, e.g.
        a NumPy array's ``memoryview``); do not change a buffer until the call returns.
        A batch whose reply is lost on a live connection (an ``EngineTimeout``) is sent
        again, up to :attr:`publish_retries` times; the engine publishes it at most once
        (while it remembers it: docs/protocol.md).  A batch the engine refuses whole for
        its size is split in two and sent again.

        Raises :class:`~pyevents.errors.BatchRefused` if the engine refused some events
        (it published the others: the exception lists which and why); once the
        application is stopping, the events not yet sent are listed as refused too.
        Raises what :meth:`publish` raises for a connection that fails
        (``EngineGone`` at once, ``EngineTimeout`` after the retries); the exception's
        ``handled`` attribute then says how many of the events, from the first, the engine
        answered for (published or refused), and ``published`` how many of those it
        published.  The batch after them may have been published or not: call again with
        the same frame objects from there (as :class:`BufferedPublisher` does) and that
        batch goes under its old number, so the engine does not publish it twice.
        """
        frames = [checked_event(event) for event in events]
        return self._publish_frames(frames, self._timeout, self._publish_retries())

    def _publish_frames(self, frames: List[BytesLike], reply_timeout: Optional[float], retries: int) -> int:
        """publish_many() of checked frames, with its reply timeout and retries."""
        published = 0
        refused: List[Tuple[int, str]] = []
        start = 0
        try:
            while start < len(frames):
                end, sequence = self._next_batch(frames, start)
                accepted, batch_refused, stopping = self._publish_batch(frames[start:end], start, sequence,
                                                                       reply_timeout, retries)
                published += accepted
                refused.extend(batch_refused)
                start = end
                if stopping:
                    refused.extend((index, protocol.REASON_NOT_SENT_STOPPING) for index in range(start, len(frames)))
                    break
        except (EngineGone, EngineTimeout, HandshakeFailed, ProtocolError) as e:
            # Documented: what the engine answered for before the failure (published or refused
            # from the first event on: *handled*), and how many of those it published.
            setattr(e, "handled", start)
            setattr(e, "published", published)
            raise
        if refused:
            raise BatchRefused(published, refused)
        return published

    def _engine_gone(self) -> bool:
        """Whether the client's last request found the application gone."""
        return self._transport.peer_state == "gone"

    def _publish_retries(self) -> int:
        retries = self.publish_retries
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise ValueError(f"publish_retries must be an int >= 0, got {retries!r}")
        return retries

    def _next_batch(self, frames: List[BytesLike], start: int) -> Tuple[int, Optional[int]]:
        """Where the batch from *start* ends, and its number if it is the unanswered batch sent
        again (the very same frame objects): then it goes whole, under its old number."""
        if self._unanswered is not None:
            sequence, sent = self._unanswered
            again = frames[start:start + len(sent)]
            if len(again) == len(sent) and all(a is b for a, b in zip(again, sent)):
                return start + len(sent), sequence
        return self._batch_end(frames, start), None

    def publisher(self, *, max_events: int = 1000, max_bytes: int = 8 << 20,
                  max_delay: float = 0.05) -> "BufferedPublisher":
        """A :class:`~pyevents.BufferedPublisher` for this client: it buffers events and
        publishes them with :meth:`publish_many` once *max_events* or *max_bytes* are
        buffered, once the oldest is *max_delay* seconds old (checked as events are added),
        before this client waits for events, and on :meth:`~pyevents.BufferedPublisher.flush`
        or close."""
        from .publisher import BufferedPublisher

        return BufferedPublisher(self, max_events=max_events, max_bytes=max_bytes, max_delay=max_delay)

    def _batch_end(self, frames: List[BytesLike], start: int) -> int:
        """Where the batch starting at *start* ends, by :attr:`publish_batch_events` and
        :attr:`publish_batch_bytes` (one event always goes)."""
        most = self.publish_batch_events
        if isinstance(most, bool) or not isinstance(most, int) or not 1 <= most <= protocol.MAX_BATCH:
            raise ValueError(f"publish_batch_events must be an int from 1 to {protocol.MAX_BATCH}, got {most!r}")
        most_bytes = self.publish_batch_bytes
        if isinstance(most_bytes, bool) or not isinstance(most_bytes, int) or most_bytes < 1:
            raise ValueError(f"publish_batch_bytes must be a positive int, got {most_bytes!r}")
        end = start + 1
        size = memoryview(frames[start]).nbytes
        while end < len(frames) and end - start < most:
            size += memoryview(frames[end]).nbytes
            if size > self.publish_batch_bytes:
                break
            end += 1
        return end

    def _publish_batch(self, frames: List[BytesLike], offset: int, sequence: Optional[int],
                       reply_timeout: Optional[float], retries: int) -> Tuple[int, List[Tuple[int, str]], bool]:
        """Send one ``publish_batch`` (numbered *sequence*, else the next number); return
        (accepted, refused as (index + offset, reason), whether the application is stopping)."""
        self._ensure_open()
        if sequence is None:
            self._batch_sequence += 1
            sequence = self._batch_sequence
        # Until it is answered, this batch is the one to send again under this number.
        self._unanswered = (sequence, frames)
        request: List[Any] = [protocol.publish_batch(self._session, sequence), *frames]
        attempt = 0
        while True:
            try:
                reply = self._request(request, reply_timeout)
                break
            except EngineTimeout as e:  # the reply may be lost on a live connection: ask again
                attempt += 1
                if attempt > retries:
                    raise
                logger.info("sending batch %d again (%s); the engine publishes it at most once", sequence, e)
        self._unanswered = None
        parsed = protocol.parse_batch_reply(reply)
        if parsed is None:
            reason = error_reason(reply[0]) if len(reply) == 1 else None
            if reason is None:
                raise ProtocolError(f"unexpected reply to a publish batch: {reply[:2]!r}")
            if reason.startswith((protocol.REASON_NOT_ONE_FRAME, protocol.REASON_UNKNOWN_COMMAND)):
                raise ProtocolError(f"the engine at {self._endpoint} does not know publish_batch (an older "
                                    f"engine): publish one event per request with publish() ({reason})")
            if protocol.REASON_STALE_BATCH in reason:
                # Someone else numbered batches in this session: go on in a new one.
                logger.warning("the engine refused a batch as older than its session's last (%s); "
                               "going on in a new session", reason)
                self._session, self._batch_sequence = secrets.token_hex(8), 0
                return self._publish_batch(frames, offset, None, reply_timeout, retries)
            if protocol.REASON_BATCH_TOO_LARGE in reason and len(frames) > 1:
                half = len(frames) // 2
                first = self._publish_batch(frames[:half], offset, None, reply_timeout, retries)
                if first[2]:  # stopping: the rest is not sent
                    rest = [(offset + index, protocol.REASON_NOT_SENT_STOPPING) for index in range(half, len(frames))]
                    return first[0], first[1] + rest, True
                second = self._publish_batch(frames[half:], offset + half, None, reply_timeout, retries)
                return first[0] + second[0], first[1] + second[1], second[2]
            return 0, [(offset + index, reason) for index in range(len(frames))], False
        answered, accepted, runs = parsed
        if answered != sequence or accepted + sum(last - first + 1 for first, last, _ in runs) != len(frames):
            raise ProtocolError(f"the engine answered batch {sequence} of {len(frames)} events with {reply[0]!r}")
        refused = [(offset + index, reason) for first, last, reason in runs for index in range(first, last + 1)]
        stopping = any(reason.startswith(protocol.REASON_STOPPING) for _, _, reason in runs)
        return accepted, refused, stopping

    def _flush_publishers(self) -> None:
        """Publish what this client's buffered publishers hold, before it waits for events.

        What went wrong with earlier answers is not raised here, in a call about events to
        come, but by the publisher's next call; only ``EngineGone`` goes on (the client's
        loop ends on it)."""
        for publisher in list(self._publishers):
            publisher._flush_before_wait()

    def _flush_publishers_quietly(self, deadline: Optional[float]) -> None:
        """_flush_publishers() while quitting or closing, until *deadline*, without retries:
        failures are logged, not raised."""
        for publisher in list(self._publishers):
            pending = publisher.pending
            try:
                publisher._flush_within(self._remaining(deadline))
            except BatchRefused as e:
                logger.warning("while closing, %s", e)
            except Exception as e:  # closing must not raise; say what was lost
                logger.warning("while closing, %d buffered events could not be published: %s", pending, e)

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
            reason = error_reason(reply[0]) if len(reply) == 1 else None
            if reason is not None:
                raise ProtocolError(f"the engine refused ping: {reason}")
            raise ProtocolError(f"unexpected reply to ping: {reply!r}")
        return elapsed

    def quit(self, timeout: Optional[float] = 2.0) -> bool:
        """Tell the engine this plugin is leaving, then :meth:`close` the client.

        First acknowledges the events handed out since the last fetch (the
        ``ack`` command), then sends ``quit``; events fetched but not handed
        out stay unacknowledged.  Waits at most *timeout* seconds in all
        (``None``: forever).  Returns whether the engine acknowledged the
        quit; nothing is raised, so this is safe in cleanup code.  A missing
        or unexpected answer is logged as a warning when it means something
        (no answer from an application that did not close the connection, or
        from nothing at all; a handshake refused now), at debug level when it
        does not: the application had ended first (it closed the connection,
        before or during the quit: a normal shutdown), or the client had
        already raised :class:`~pyevents.errors.HandshakeFailed`.
        """
        wait = _check_seconds(timeout, "timeout", allow_zero=True)
        self._ensure_open()
        deadline = self._deadline(wait)
        acknowledged = False
        known = self._transport.peer_state
        try:
            if known == "refused":  # the caller was told (HandshakeFailed): nobody to say goodbye to
                raise HandshakeFailed("the application refused this client's handshake before")
            self._flush_publishers_quietly(deadline)
            self._acknowledge(deadline)
            reply = self._request(protocol.QUIT, self._remaining(deadline))
        except EngineGone as e:  # the application ended first (a normal shutdown): nothing to say
            logger.debug("quit not acknowledged: %s", e)
        except HandshakeFailed as e:
            if known == "refused":
                logger.debug("quit not sent: %s", e)
            else:  # news: the first request of this connection was refused
                logger.warning("quit was not acknowledged: %s", e)
        except EngineTimeout as e:
            if known == "gone":  # it had closed the connection before: it ended first
                logger.debug("quit not acknowledged: the application had ended (%s)", e)
            else:  # no answer from an application that did not go away, or from nothing at all
                logger.warning("quit was not acknowledged: %s", e)
        else:
            acknowledged = reply == [protocol.REPLY_QUIT_ACK]
            if not acknowledged:
                logger.warning("unexpected reply to quit: %r", reply)
        finally:
            self._close()
        return acknowledged

    def close(self, timeout: Optional[float] = 2.0) -> None:
        """Close the connection without telling the engine the plugin is leaving (see :meth:`quit`).

        If events were handed out since the last fetch and the connection is
        up, they are acknowledged first (the ``ack`` command), waiting at most
        *timeout* seconds (``0``: do not acknowledge; the engine then sends
        them again to the plugin's next client).  Otherwise this never blocks:
        unsent data is dropped.  The ZeroMQ context is terminated if the
        client created it.  Calling it again does nothing.
        """
        if self._closed:
            return
        wait = _check_seconds(timeout, "timeout", allow_zero=True)
        try:
            if wait != 0:
                self._flush_publishers_quietly(self._deadline(wait))
            else:
                for publisher in self._publishers:
                    if publisher.pending:
                        logger.warning("closing without waiting: %d buffered events were not published",
                                       publisher.pending)
            if wait != 0 and self._transport.is_open and self._cursor.epoch_confirmed:
                self._acknowledge(self._deadline(wait))
        finally:
            self._close()

    def _close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._teardown()
        self._cursor.buffer.clear()
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
            self._close()

    # -------------------------------------------------------------- internals

    def _next_event_at_most_once(self, deadline: Optional[float]) -> Optional[Payload]:
        """next_event() with ``next_msg_wait`` (``at_least_once=False``)."""
        while True:
            wait_ms = self._next_wait_ms(deadline)
            request = protocol.next_msg_wait(wait_ms)
            reply = self._receive_events(request, self._reply_timeout(wait_ms))
            if len(reply) != 1:
                raise ProtocolError(f"the engine answered {request!r} with {len(reply)} frames instead of one")
            event = reply[0]
            reason = error_reason(event)
            if reason is not None:
                raise ProtocolError(
                    f"the engine refused {request!r}: {reason} "
                    "(an engine without next_msg_wait support needs the legacy get_next_msg())"
                )
            if event:
                return event
            if deadline is not None and time.monotonic() >= deadline:
                return None

    def _next_events_at_most_once(self, max_events: int, deadline: Optional[float]) -> List[Payload]:
        """next_events() with ``next_msgs`` (``at_least_once=False``)."""
        while True:
            wait_ms = self._next_wait_ms(deadline)
            request = protocol.next_msgs(min(max_events, protocol.MAX_BATCH), wait_ms)
            reply = self._receive_events(request, self._reply_timeout(wait_ms))
            if len(reply) == 1:
                reason = error_reason(reply[0])
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

    def _fetch(self, max_events: int, wait_ms: int) -> int:
        """Send one ``fetch`` (acknowledging what was handed out), buffer the new events.

        Only called with an empty buffer.  Returns how many events the reply
        held, duplicates included.  A fetch ahead in flight is read first; if it brought
        none, a fetch that waits follows.  A reply with events is followed by a fetch ahead.
        """
        if self._ahead is not None:
            got = self._take_ahead()
            if got:
                self._fetch_next_ahead(max_events)
                return got
        cursor = self._cursor
        max_events = cursor.fetch_size(max_events, self.fetch_bytes)
        sent: List[int] = []

        def build() -> bytes:
            sent.append(cursor.ack_number())
            return protocol.fetch(max_events, wait_ms, sent[-1])

        reply = self._receive_events(build, self._reply_timeout(wait_ms), header=True)
        request = protocol.fetch(max_events, wait_ms, sent[-1])
        parsed = parse_fetch_reply(request, reply, max_events)
        previous, duplicates = cursor.received(parsed, sent[-1])
        self._log_restart(previous, parsed.epoch, sent[-1])
        if duplicates:
            logger.debug("skipped %d events the engine sent again (numbers up to %d were handed out already)",
                         duplicates, cursor.last_handed)
        if parsed.events:
            self._fetch_next_ahead(max_events)
        return len(parsed.events)

    def _fetch_next_ahead(self, max_events: int) -> None:
        """Ask for the events after those held, without waiting for them (:attr:`fetch_ahead`)."""
        cursor = self._cursor
        if not self.fetch_ahead or self._ahead is not None or not cursor.epoch_confirmed or self._closed:
            return
        most = cursor.fetch_size(max_events, self.fetch_bytes)
        acked = cursor.ack_number()
        request = protocol.fetch(most, 0, acked, cursor.highest_held())
        try:
            self._transport.send(request, self._deadline(self._timeout))
        except PyEventsError as e:  # the connection was reset: the next request says what is wrong
            logger.debug("no fetch ahead: %s", e)
            return
        self._ahead = (request, acked, most)

    def _take_ahead(self) -> int:
        """Read the reply to the fetch ahead in flight and buffer its events after those held;
        return how many it held."""
        assert self._ahead is not None
        request, acked, most = self._ahead
        self._ahead = None
        if self._copy:
            reply = self._transport.receive(self._reply_timeout(0))
        else:
            reply = as_payloads(self._transport.receive(self._reply_timeout(0), copy=False), True)
        reason = protocol.error_reason(reply[0]) if len(reply) == 1 else None
        if reason is not None:  # an engine that does not know fetch ahead (an older one) refuses it
            logger.info("the engine at %s refused a fetch ahead (%s): fetching one reply at a time",
                        self._endpoint, reason)
            self.fetch_ahead = False
            return 0
        parsed = parse_fetch_reply(request, reply, most)
        previous, duplicates = self._cursor.received(parsed, acked)
        self._log_restart(previous, parsed.epoch, acked)
        return len(parsed.events) - duplicates

    def _connection_reset(self) -> None:
        """The connection was dropped or re-made: the next may reach a restarted application,
        and a fetch ahead in flight is lost with it (the engine sends its events again)."""
        self._ahead = None
        self._cursor.connection_lost()

    def _receive_events(self, request: Union[bytes, Callable[[], bytes]], reply_timeout: Optional[float],
                        header: bool = False) -> List[Payload]:
        """:meth:`_request` for a request answered with events: with ``copy=False`` the frames are
        read-only memoryviews of what ZeroMQ received (:func:`~pyevents.transport.as_payloads`)."""
        if self._copy:
            return self._request(request, reply_timeout)
        return as_payloads(self._request(request, reply_timeout, copy=False), header)

    def _log_restart(self, previous: Optional[str], epoch: str, sent_ack: int) -> None:
        """Warn that the application restarted (what :meth:`Cursor.note_epoch
        <pyevents.cursor.Cursor.note_epoch>` returned *previous*, now *epoch*)."""
        if previous:
            logger.warning(
                "the application at %s restarted (its event numbering changed from epoch %s to %s); "
                "numbering starts over%s", self._endpoint, previous, epoch,
                "" if sent_ack == 0 else
                f"; an acknowledgement up to {sent_ack} from the old numbering reached it, events may be lost",
            )

    def _acknowledge(self, deadline: Optional[float]) -> bool:
        """Acknowledge the events handed out since the last acknowledgement; return whether that worked.

        Waits until *deadline* (``time.monotonic()`` value; None: forever).
        Failures are logged, not raised (this runs while quitting or closing).
        A connection found dropped is re-made once.
        """
        if not self._cursor.unacknowledged:
            return True
        for attempt in (1, 2):
            try:
                return self._send_ack(deadline)
            except EngineGone as e:
                problem = str(e)
                if attempt == 2:
                    break
            except (EngineTimeout, HandshakeFailed, ProtocolError) as e:
                problem = str(e)
                break
        logger.warning(
            "could not acknowledge the events handed out up to number %d (%s); the engine will send them "
            "again to this plugin's next client", self._cursor.last_handed, problem,
        )
        return False

    def _send_ack(self, deadline: Optional[float]) -> bool:
        """The requests of :meth:`_acknowledge`; raises what :meth:`_request` raises."""
        cursor = self._cursor
        if not cursor.epoch_confirmed:
            # Learn which run of the application answers before acknowledging our numbers.
            # Acknowledging 0 forgets nothing; events in the reply stay unacknowledged.
            request = protocol.fetch(1, 0, 0)
            reply = self._request(request, self._remaining(deadline))
            epoch = parse_fetch_reply(request, reply, 1).epoch
            previous = cursor.note_epoch(epoch)
            if previous is not None:
                self._log_restart(previous, epoch, 0)
                return True  # a new run: it never sent the events we handed out
        number = cursor.last_handed
        reply = self._request(lambda: protocol.ack(cursor.ack_number()), self._remaining(deadline))
        if len(reply) == 1 and protocol.parse_acknowledged(reply[0]) == number:
            cursor.acknowledged(number)
            return True
        reason = error_reason(reply[0]) if len(reply) == 1 else None
        raise ProtocolError(f"the engine refused it: {reason}" if reason is not None
                            else f"unexpected reply to ack: {reply!r}")

    @staticmethod
    def _remaining(deadline: Optional[float]) -> Optional[float]:
        return None if deadline is None else max(0.0, deadline - time.monotonic())

    def _ensure_open(self) -> None:
        if self._closed:
            raise ClientClosed(f"this client for {self._endpoint} is closed; create a new PluginClient")

    @staticmethod
    def _deadline(timeout: Optional[float]) -> Optional[float]:
        return None if timeout is None else time.monotonic() + timeout

    def _next_wait_ms(self, deadline: Optional[float]) -> int:
        """How long the next fetch request should ask the engine to wait."""
        if deadline is None:
            return min(to_ms(self.wait_chunk), protocol.MAX_WAIT_MS)
        return min(to_ms(min(self.wait_chunk, max(0.0, deadline - time.monotonic()))), protocol.MAX_WAIT_MS)

    def _reply_timeout(self, wait_ms: int) -> Optional[float]:
        """How long to wait for the reply to a request that lets the engine wait *wait_ms*."""
        return None if self._timeout is None else wait_ms / 1000 + self._timeout


    def _request(self, request: Request, reply_timeout: Optional[float], copy: bool = True) -> List[Any]:
        """Send one request (one frame; a publish batch: a list of frames) and return the reply
        frames (``bytes``; with *copy* False, :class:`zmq.Frame` objects): :meth:`Transport.request
        <pyevents.transport.Transport.request>` on an open client."""
        self._ensure_open()
        if self._ahead is not None:  # a REQ socket alternates: read the fetch ahead's reply first
            self._take_ahead()
        return self._transport.request(request, reply_timeout, copy)

    def _teardown(self) -> None:
        """Close the socket (dropping anything unsent) and its monitor."""
        self._transport.teardown()
