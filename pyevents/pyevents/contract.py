"""An application's contract in Python: its events, typed, from its manifest.

An event_engine application describes itself in its **manifest**
(docs/protocol.md, "The manifest"): every event's name, topic bytes and codec,
and for events with ``reflective_codec`` the members and their types
(docs/layout.md).  A :class:`Contract` loads a manifest and turns it into
Python: topics by event name, and events decoded to and encoded from
dataclasses generated from the layouts, so a Python plugin never spells topic
bytes or payload layouts by hand::

    contract = Contract.load("pipeline.manifest.json")      # or "tcp://127.0.0.1:5561", or a dict
    name, reading = contract.decode(frame)                   # ("Reading", Reading(sensor=1, ...))
    frame = contract.encode("Report", readings=12, sites=["north"])
    frame = contract.encode(reading)                         # a dataclass instance: its event's frame

What each codec gives in Python:

===============================  ==========================================================
codec (manifest)                 value
===============================  ==========================================================
``reflective``                   a dataclass named after the struct (:mod:`pyevents.layout`)
``text``, ``text_view``          ``str`` (UTF-8; other bytes kept with ``surrogateescape``)
``bytes``, ``bytes_view``        ``bytes``
``trivial``                      ``bytes``, raw: the C++ struct's memory, whose layout is the
                                 C++ ABI's and is not in the manifest (only its size)
``custom`` (and any other)       ``bytes``, raw: the application's own codec, not described
===============================  ==========================================================

:attr:`EventType.note` says so for the two raw kinds.  :class:`~pyevents.PluginClient`
takes a contract (``contract=``, or :meth:`~pyevents.PluginClient.load_contract`
over its own connection) and then yields typed events from
:meth:`~pyevents.PluginClient.events` and publishes them with
:meth:`~pyevents.PluginClient.publish_typed` (docs/python.md).
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from typing import Any, Callable, Dict, Iterator, List, Mapping, NamedTuple, Optional, Tuple, Union

import zmq

from . import protocol
from .connection import MonitoredSocket, tcp_endpoint
from .errors import EngineTimeout, ProtocolError, PyEventsError
from .layout import Layout, LayoutError
from .security import KeySource, curve_config

__all__ = [
    "MANIFEST_COMMAND",
    "ContractError",
    "Decoded",
    "EventType",
    "UntypedEvent",
    "Contract",
    "fetch_manifest",
    "parse_endpoint",
    "MISSING",
    "require_contract",
]

#: The default of an optional argument that may be anything, None included (``encode``'s value).
MISSING: Any = object()

#: The request a plugin port and the introspection endpoint answer with the manifest
#: (:data:`pyevents.protocol.MANIFEST`).
MANIFEST_COMMAND = protocol.MANIFEST

_RAW_NOTES = {
    "trivial": "trivial_codec: the payload is the C++ struct's memory ({size} bytes), whose layout is the C++ "
               "ABI's and is not described in the manifest; given as raw bytes (use reflective_codec for a "
               "portable, described layout)",
    "custom": "a codec of the application's own: its layout is not described in the manifest; given as raw "
              "bytes",
}
_TEXT_CODECS = ("text", "text_view")
_BYTES_CODECS = ("bytes", "bytes_view")


class ContractError(PyEventsError, ValueError):
    """A manifest that is not one, an event the application does not have, or a value
    that does not fit its event.  The message names the event."""


class Decoded(NamedTuple):
    """A decoded event: its name and its value (see the module's table)."""

    name: str
    value: Any


@dataclasses.dataclass(frozen=True)
class UntypedEvent:
    """An event whose codec has no layout in the manifest, as
    :meth:`PluginClient.events() <pyevents.PluginClient.events>` yields it:
    ``value`` is ``str`` for text codecs, ``bytes`` otherwise (raw for
    ``trivial`` and ``custom`` codecs: see ``note``)."""

    name: str
    value: Union[str, bytes]
    codec: str
    note: Optional[str] = None


class EventType:
    """One event of the application: name, topic, codec and, for reflective events,
    its layout and dataclass."""

    def __init__(self, description: Mapping[str, Any], *, byte_views: bool = False) -> None:
        try:
            self.name: str = description["name"]
            self.topic: bytes = bytes.fromhex(description["topic"]["hex"])
            self.codec: str = description["codec"]
        except (KeyError, TypeError, ValueError) as e:
            raise ContractError(f"not an event of a manifest (name, topic.hex, codec): {description!r} ({e})") from None
        if not self.topic:
            raise ContractError(f"event {self.name!r} has an empty topic")
        self.description = description
        #: The payload's size, for ``trivial`` events (None otherwise).
        self.size: Optional[int] = description.get("size")
        #: The compiled layout of a ``reflective`` event (None otherwise).
        self.layout: Optional[Layout] = None
        if self.codec == "reflective":
            try:
                self.layout = Layout(description["layout"], byte_views=byte_views)
            except (KeyError, LayoutError) as e:
                raise ContractError(f"event {self.name!r}: its layout cannot be read: {e}") from None
        kind = self.codec if self.codec in ("reflective", "trivial") + _TEXT_CODECS + _BYTES_CODECS else "custom"
        #: Why the value is raw bytes (``trivial`` and ``custom`` codecs), else None.
        self.note: Optional[str] = _RAW_NOTES[kind].format(size=self.size) if kind in _RAW_NOTES else None
        # A reflective event's frame codec, each one function for the hot paths (typed(), encode(obj)).
        self._decode_frame: Optional[Callable[[Any], Any]] = None
        self._encode_frame: Optional[Callable[[Any], bytes]] = None
        if self.layout is not None:
            # decode_at makes a view of a bytes frame first for byte_views: no generated codec before it
            fast = None if self.layout.byte_views else self.layout._fast_decode
            self._decode_frame = _frame_codec(fast, self.layout.decode_at, len(self.topic))
            self._encode_frame = _frame_codec(self.layout._fast_encode, self.layout.encode_with, self.topic)

    @property
    def type(self) -> Optional[type]:
        """The dataclass of a reflective event (None for other codecs)."""
        return None if self.layout is None else self.layout.type

    @property
    def typed(self) -> bool:
        """Whether the payload decodes to more than raw bytes (reflective or text)."""
        return self.note is None

    def new(self, **fields: Any) -> Any:
        """A new instance of the event's dataclass, unnamed members at their defaults."""
        if self.layout is None:
            raise ContractError(f"{self.name} has codec {self.codec!r}: only reflective events have a dataclass")
        try:
            return self.layout.new(**fields)
        except TypeError as e:
            names = ", ".join(f.name for f in dataclasses.fields(self.layout.type))
            raise ContractError(f"{self.name}: {e} (its fields: {names})") from None

    def decode_payload(self, payload: Union[bytes, bytearray, memoryview]) -> Any:
        """The value of a payload (the frame after the topic)."""
        if self.layout is not None:
            try:
                return self.layout.decode(payload)
            except LayoutError as e:
                raise ContractError(str(e)) from None
        if self.codec in _TEXT_CODECS:
            return bytes(payload).decode("utf-8", "surrogateescape")
        return bytes(payload)

    def encode_frame(self, value: Any) -> bytes:
        """The frame of a value: the topic, then :meth:`encode_payload`'s bytes (for a
        reflective event, encoded after the topic in one buffer)."""
        if self._encode_frame is not None:
            return self._encode_frame(value)
        return self.topic + self.encode_payload(value)

    def encode_payload(self, value: Any) -> bytes:
        """The payload of a value (a dataclass or dict for reflective events, str or bytes otherwise)."""
        if self.layout is not None:
            try:
                return self.layout.encode(value)
            except LayoutError as e:
                raise ContractError(str(e)) from None
        if isinstance(value, str):
            if self.codec not in _TEXT_CODECS:
                raise ContractError(f"{self.name} has codec {self.codec!r}: give bytes, not str")
            return value.encode("utf-8", "surrogateescape")
        if isinstance(value, (bytes, bytearray, memoryview)):
            data = bytes(value)
            if self.codec == "trivial" and self.size is not None and len(data) != self.size:
                raise ContractError(f"{self.name}: a trivial_codec payload is {self.size} bytes, got {len(data)}")
            return data
        raise ContractError(f"{self.name} has codec {self.codec!r}: give "
                            f"{'str or bytes' if self.codec in _TEXT_CODECS else 'bytes'}, not {type(value).__name__}")

    def __repr__(self) -> str:
        return f"<EventType {self.name} topic={self.topic!r} codec={self.codec}>"


class Contract:
    """The events of one application, from its manifest (a ``dict`` as ``json.load`` gives it).

    Use :meth:`load` to read one from a file or fetch it from a running application.

    :param byte_views: reflective events decode their ``bytes`` members (``std::vector<std::uint8_t>``)
        to read-only ``memoryview`` slices of the frame, not ``bytes`` copies: an image of
        megabytes is not copied, and ``numpy.frombuffer(event.pixels, numpy.uint8)`` reads it in
        place.  Each view keeps the frame alive.
    :raises ContractError: it is not a manifest, or describes an event it cannot read.
    """

    def __init__(self, manifest: Mapping[str, Any], *, byte_views: bool = False) -> None:
        if not isinstance(manifest, Mapping) or not isinstance(manifest.get("events"), list):
            raise ContractError("not an event_engine manifest: it has no 'events' list (docs/protocol.md)")
        version = manifest.get("manifest_version")
        if version != 1:
            raise ContractError(f"manifest_version {version!r}: this pyevents reads version 1 (upgrade pyevents)")
        self.manifest = manifest
        self._events: Dict[str, EventType] = {}
        self.byte_views = byte_views
        for description in manifest["events"]:
            event = EventType(description, byte_views=byte_views)
            self._events[event.name] = event
        # Longest topic first: the first that starts a frame is its event (topics are prefix-free anyway).
        self._by_topic = sorted(self._events.values(), key=lambda e: len(e.topic), reverse=True)
        # The same, quicker: by the first bytes of the frame (as many as the shortest topic has),
        # the events whose topics start so (usually one), longest first, with their lengths.
        self._prefix = min((len(event.topic) for event in self._by_topic), default=0)
        self._by_prefix: Dict[bytes, List[Tuple[EventType, int]]] = {}
        for event in self._by_topic:
            self._by_prefix.setdefault(event.topic[:self._prefix], []).append((event, len(event.topic)))
        self._by_class = {event.type: event for event in self._events.values() if event.type is not None}

    # ------------------------------------------------------------------ loading

    @classmethod
    def load(cls, source: Union[str, "os.PathLike[str]", Mapping[str, Any]], *, timeout: float = 5.0,
             server_key: Optional[KeySource] = None, client_key: Optional[KeySource] = None,
             byte_views: bool = False) -> "Contract":
        """A contract from *source*: a manifest ``dict``, the path of a manifest file
        (``app_config::manifest_path``), or a running application's endpoint that answers
        ``plugin_command: manifest``: its introspection endpoint or a plugin port, as
        ``"tcp://HOST:PORT"`` (see :func:`fetch_manifest`, which takes the keys and *timeout*).
        *byte_views* as for :class:`Contract`.
        """
        if isinstance(source, Mapping):
            return cls(source, byte_views=byte_views)
        text = os.fspath(source)
        if isinstance(text, str) and text.startswith("tcp://"):
            return cls(fetch_manifest(text, timeout=timeout, server_key=server_key, client_key=client_key),
                       byte_views=byte_views)
        try:
            with open(text, encoding="utf-8") as file:
                manifest = json.load(file)
        except OSError as e:
            raise ContractError(f"cannot read the manifest {text!r}: {e.strerror or e}") from None
        except json.JSONDecodeError as e:
            raise ContractError(f"{text!r} is not JSON: {e}") from None
        return cls(manifest, byte_views=byte_views)

    # ------------------------------------------------------------------ events

    @property
    def events(self) -> Dict[str, EventType]:
        """Every event, by name, in the application's order."""
        return dict(self._events)

    @property
    def names(self) -> List[str]:
        """The events' names, in the application's order."""
        return list(self._events)

    @property
    def plugins(self) -> List[Mapping[str, Any]]:
        """The manifest's plugins (name, kind, subscribes, publishes; port for external ones)."""
        return list(self.manifest.get("plugins", []))

    def plugin(self, name: str) -> Mapping[str, Any]:
        """The manifest's entry of the plugin named *name*."""
        for plugin in self.plugins:
            if plugin.get("name") == name:
                return plugin
        raise ContractError(f"the application has no plugin named {name!r}; its plugins: "
                            + ", ".join(str(p.get("name")) for p in self.plugins))

    def event(self, name: str) -> EventType:
        """The event named *name*."""
        try:
            return self._events[name]
        except KeyError:
            raise ContractError(f"the application has no event named {name!r}; its events: "
                                + ", ".join(self._events)) from None

    def topic(self, name: str) -> bytes:
        """The topic bytes of the event named *name* (what a frame starts with, what to subscribe to)."""
        return self.event(name).topic

    def type(self, name: str) -> type:
        """The dataclass of the reflective event named *name*."""
        event = self.event(name)
        if event.type is None:
            raise ContractError(f"{name} has codec {event.codec!r}: only reflective events have a dataclass")
        return event.type

    def new(self, name: str, **fields: Any) -> Any:
        """A new instance of the reflective event *name*, unnamed members at their defaults."""
        return self.event(name).new(**fields)

    def name_of(self, value: Any) -> str:
        """The event name of a value :meth:`decode` or :meth:`typed` gave (a dataclass
        instance of a reflective event, or an :class:`UntypedEvent`)."""
        return self._event_of(value).name

    def _event_of(self, value: Any) -> EventType:
        event = self._by_class.get(type(value))
        if event is not None:
            return event
        if isinstance(value, UntypedEvent):
            return self.event(value.name)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            # A dataclass of another load of the same manifest: by its struct's name, if only one event has it.
            same = [e for e in self._events.values()
                    if e.layout is not None and e.layout.name == type(value).__name__]
            if len(same) == 1:
                return same[0]
        raise ContractError(f"{type(value).__name__} is not an event of this application; give an event's "
                            "dataclass instance, an UntypedEvent, or the event's name and its value")

    # --------------------------------------------------------------- the wire

    def decode(self, frame: Union[bytes, bytearray, memoryview]) -> Decoded:
        """``(event name, value)`` of a frame (topic then payload) as the engine delivers it.

        The frame may be any buffer of bytes (``bytes``, a ``memoryview``, a zmq frame
        received with ``copy=False``): it is read in place, not copied.

        :raises ContractError: the frame starts with no topic of the application, or its
            payload does not decode (the message names the member).
        """
        data = _buffer(frame)
        event = self._event_at(data)
        if event._decode_frame is not None:
            return Decoded(event.name, event._decode_frame(data))
        return Decoded(event.name, event.decode_payload(data[len(event.topic):]))

    def event_of_frame(self, frame: Union[bytes, bytearray, memoryview]) -> EventType:
        """The event a frame belongs to, by its topic."""
        return self._event_at(_buffer(frame))

    def _event_at(self, data: Union[bytes, memoryview]) -> EventType:
        prefix = self._prefix
        for event, length in self._by_prefix.get(data[:prefix] if type(data) is bytes else bytes(data[:prefix]), ()):
            if length == prefix or data[:length] == event.topic:
                return event
        raise ContractError(f"the frame {bytes(data[:40])!r}{'...' if len(data) > 40 else ''} starts with the "
                            "topic of no event of this application")

    def typed(self, frame: Union[bytes, bytearray, memoryview]) -> Any:
        """The event in a frame as one object: the dataclass instance of a reflective event,
        else an :class:`UntypedEvent` (what :meth:`PluginClient.events` yields).  The frame
        may be any buffer of bytes, as for :meth:`decode`."""
        data = frame if type(frame) is bytes else _buffer(frame)
        event = self._event_at(data)
        if event._decode_frame is not None:
            return event._decode_frame(data)
        return UntypedEvent(event.name, event.decode_payload(data[len(event.topic):]), event.codec, event.note)

    _MISSING: Any = MISSING

    def encode(self, event: Any, value: Any = MISSING, /, **fields: Any) -> bytes:
        """The frame (topic then payload) of an event, ready to publish:

        * ``encode(obj)``: a dataclass instance of a reflective event (from :meth:`decode`,
          :meth:`new` or :meth:`type`), or an :class:`UntypedEvent`;
        * ``encode("Name", value)``: a dataclass instance or dict by member name for a
          reflective event, ``str`` for text codecs, ``bytes`` for the others;
        * ``encode("Name", **fields)``: a reflective event from its fields, the others
          at their defaults.
        """
        if not isinstance(event, str):
            if value is not self._MISSING or fields:
                raise TypeError("encode(obj) takes the event object alone; encode(name, value) or "
                                "encode(name, **fields) take a name")
            kind = self._by_class.get(type(event))
            encode_frame = None if kind is None else kind._encode_frame
            if encode_frame is not None:  # a dataclass instance of one of the reflective events: the hot path
                return encode_frame(event)
            kind = self._event_of(event)
            return kind.encode_frame(event.value if isinstance(event, UntypedEvent) else event)
        kind = self.event(event)
        if value is not self._MISSING:
            if fields:
                raise TypeError(f"encode({event!r}, value) takes no fields besides the value")
            return kind.encode_frame(value)
        if kind.layout is not None:
            return kind.encode_frame(kind.new(**fields))
        if fields:
            raise ContractError(f"{event} has codec {kind.codec!r}: it has no fields; give its value, "
                                f"encode({event!r}, value)")
        return kind.topic + kind.encode_payload("" if kind.codec in _TEXT_CODECS else b"")

    # --------------------------------------------------------------- endpoints

    def endpoint_port(self, which: str) -> Optional[int]:
        """The bound port of ``"publish"``, ``"subscribe"`` or ``"introspection"`` (None: not known)."""
        endpoint = (self.manifest.get("endpoints") or {}).get(which)
        if not isinstance(endpoint, Mapping):
            return None
        port = endpoint.get("port")
        return port if isinstance(port, int) and port > 0 else None

    @property
    def curve_required(self) -> bool:
        """Whether the application's endpoints require CURVE."""
        return bool((self.manifest.get("curve") or {}).get("required"))

    @property
    def server_public_key(self) -> Optional[str]:
        """The application's public CURVE key (Z85), when it requires CURVE."""
        return (self.manifest.get("curve") or {}).get("server_public_key")

    def __iter__(self) -> Iterator[EventType]:
        return iter(self._events.values())

    def __repr__(self) -> str:
        return f"<Contract {', '.join(self._events)}>"


def _frame_codec(fast: Optional[Callable[[Any, Any], Any]], reference: Callable[[Any, Any], Any],
                 fixed: Any) -> Callable[[Any], Any]:
    """``reference(x, fixed)``, raising ContractError, in one function: the layout's generated
    codec first (``fast``, None: none), its reference codec where that refuses (to say why)."""

    def frame_codec(x: Any) -> Any:
        if fast is not None:
            try:
                return fast(x, fixed)
            except Exception:  # noqa: BLE001 - the reference codec decides, and says why
                pass
        try:
            return reference(x, fixed)
        except LayoutError as e:
            raise ContractError(str(e)) from None

    return frame_codec


#: Frames up to this size are copied to bytes before they are decoded: quicker than reading
#: their members through a memoryview (each slice of which is an object more).
_COPY_UP_TO = 4096


def _buffer(frame: Any) -> Union[bytes, memoryview]:
    """@frame as bytes (itself) or a one-dimensional memoryview of its bytes, not a copy
    (but a small frame's, which is quicker to read as bytes; a frame that is no contiguous
    buffer: as ``bytes(frame)`` gives it)."""
    if type(frame) is bytes:
        return frame
    try:
        view = memoryview(frame)
        return view.tobytes() if view.nbytes <= _COPY_UP_TO else view.cast("B")
    except TypeError:  # not a buffer, or not a contiguous one
        return bytes(frame)


def parse_endpoint(text: str, default_host: str = "127.0.0.1") -> Tuple[str, int]:
    """``(host, port)`` of ``"PORT"``, ``"HOST:PORT"``, ``"[IPV6]:PORT"`` or ``"tcp://HOST:PORT"``."""
    rest = text[len("tcp://"):] if text.startswith("tcp://") else text
    host, sep, port_text = rest.rpartition(":")
    if not sep:
        host, port_text = default_host, rest
    host = host.strip("[]") or default_host
    try:
        port = int(port_text)
    except ValueError:
        raise ValueError(f"not an endpoint: {text!r} (give PORT, HOST:PORT or tcp://HOST:PORT)") from None
    if not 0 < port < 65536:
        raise ValueError(f"not a port: {port} in {text!r}")
    return host, port


def require_contract(contract: Optional[Contract], what: str) -> Contract:
    """*contract*, or the ValueError saying that *what* (``"events()"``) needs one."""
    if contract is None:
        raise ValueError(f"{what} needs the application's contract: pass contract=... to PluginClient "
                         "or call client.load_contract() first")
    return contract


def fetch_manifest(endpoint: str, *, timeout: float = 5.0, server_key: Optional[KeySource] = None,
                   client_key: Optional[KeySource] = None, context: Optional[zmq.Context] = None) -> Dict[str, Any]:
    """Ask a running application for its manifest: ``plugin_command: manifest`` on its
    introspection endpoint or on an external plugin's port.

    :param endpoint: ``"tcp://HOST:PORT"`` (or ``"HOST:PORT"``, ``"PORT"``: host 127.0.0.1).
    :param timeout: the longest wait in seconds, in all.
    :param server_key: the application's public key; *client_key*: this client's secret key;
        default ``$EVENT_ENGINE_SERVER_KEY``/``$EVENT_ENGINE_CLIENT_KEY`` (:mod:`pyevents.security`).
    :raises HandshakeFailed: the application refused the connection (keys), saying what to change.
    :raises EngineTimeout: no answer within *timeout*.
    :raises ProtocolError: the answer is not a manifest.
    """
    host, port = parse_endpoint(endpoint)
    address = tcp_endpoint(host, port)
    curve = curve_config(server_key, client_key)
    own_context = context is None
    ctx = zmq.Context() if context is None else context
    deadline = time.monotonic() + timeout
    try:
        with MonitoredSocket(ctx, zmq.REQ, address, curve, "the application's endpoint") as connection:
            connection.connect()
            connection.wait_handshake(deadline)
            try:
                connection.socket.send(MANIFEST_COMMAND, zmq.NOBLOCK)
            except zmq.Again:
                raise EngineTimeout(f"could not send the request to {address} (the connection dropped)") from None
            reply = connection.receive(deadline, "the answer to 'plugin_command: manifest' (is this the "
                                                  "application's introspection port or a plugin port?)")
    finally:
        if own_context:
            ctx.term()
    if len(reply) != 1 or not reply[0].startswith(b"{"):
        raise ProtocolError(f"the application at {address} answered 'plugin_command: manifest' with "
                            f"{b''.join(reply)[:120]!r}, not a manifest (an application without "
                            "event_engine/manifest.hpp, or not an event_engine endpoint)")
    try:
        return json.loads(reply[0])
    except json.JSONDecodeError as e:
        raise ProtocolError(f"the manifest from {address} is not JSON: {e}") from None

