"""What the command-line tools do, as functions: describe a manifest, show an event,
parse ``field=value`` assignments, subscribe to and publish on an application's TCP ports.

:mod:`pyevents.cli` is the argument parsing around these; a test or a script can call
them directly.  Every wait here has a deadline; a refused connection raises
:class:`~pyevents.errors.HandshakeFailed` (see :mod:`pyevents.connection`).
"""

from __future__ import annotations

import json
import math
import os
import time
from typing import Any, Callable, Dict, Iterable, Mapping, Optional, Sequence

import zmq

from .connection import MonitoredSocket
from .contract import Contract, ContractError, EventType
from .errors import EngineTimeout, PublishNotConfirmed, PublishRefused
from .layout import field_name, to_plain
from .security import CurveConfig

__all__ = [
    "type_text",
    "describe",
    "event_text",
    "event_json",
    "finite_json",
    "parse_assignments",
    "subscribe",
    "publish",
]


# ----------------------------------------------------------------- describing

def type_text(desc: Mapping[str, Any]) -> str:
    """A layout type in one short line: ``u32``, ``string?`` (optional), ``[f64]`` (vector),
    ``u8[3]`` (array), ``Quantity(u8)`` (enum), ``Location{site: string, floor: i16}``."""
    kind = desc.get("kind")
    element = desc.get("element") or [{}]
    if kind == "enum":
        return f"{desc.get('name', 'enum')}({type_text(element[0])})"
    if kind == "vector":
        return f"[{type_text(element[0])}]"
    if kind == "optional":
        return f"{type_text(element[0])}?"
    if kind == "array":
        return f"{type_text(element[0])}[{desc.get('extent')}]"
    if kind == "struct":
        members = ", ".join(f"{m['name']}: {type_text(m['type'])}" for m in desc.get("members", []))
        return f"{desc.get('name', 'struct')}{{{members}}}"
    return str(kind)


def _codec_text(event: EventType) -> str:
    if event.codec == "trivial":
        return f"trivial ({event.size} bytes, raw)"
    return event.codec if event.typed else f"{event.codec} (raw bytes)"


def describe(contract: Contract) -> str:
    """The ``list`` command's text: events (codec, topic, who publishes and subscribes, a
    reflective event's members), plugins (with the details a plugin gives, e.g. a NATS
    bridge's servers and subjects), endpoints and CURVE."""
    manifest = contract.manifest
    plugins = contract.plugins
    lines = [f"events ({len(contract.names)}):"]
    width = max((len(name) for name in contract.names), default=0)
    codec_width = max((len(_codec_text(event)) for event in contract), default=0)
    for event in contract:
        publishers = [p["name"] for p in plugins if event.name in p.get("publishes", [])]
        subscribers = [p["name"] for p in plugins if event.name in p.get("subscribes", [])]
        topic = event.description.get("topic", {}).get("text", event.topic.hex())
        flow = f"{', '.join(publishers) or '(nobody)'} -> {', '.join(subscribers) or '(nobody)'}"
        lines.append(f"  {event.name:<{width}}  {_codec_text(event):<{codec_width}}  topic {json.dumps(topic)}  {flow}")
        if event.layout is not None:
            for member in event.layout.description.get("members", []):
                lines.append(f"  {'':<{width}}    {member['name']}: {type_text(member['type'])}")
    lines.append(f"plugins ({len(plugins)}):")
    width = max((len(str(p.get("name"))) for p in plugins), default=0)
    for plugin in plugins:
        where = "internal"
        if plugin.get("kind") == "external":
            where = f"external, port {plugin.get('port')}" + (", CURVE" if plugin.get("curve") else "")
        lines.append(f"  {plugin.get('name'):<{width}}  {where}; subscribes "
                     f"{', '.join(plugin.get('subscribes', [])) or '-'}; publishes "
                     f"{', '.join(plugin.get('publishes', [])) or '-'}")
        details = plugin.get("details")
        if isinstance(details, Mapping):  # what the plugin says about itself, e.g. a NATS bridge's subjects
            for key, value in details.items():
                lines.append(f"  {'':<{width}}    {key}: {value}")
    lines.append("endpoints:")
    endpoints = manifest.get("endpoints") or {}
    for which in ("publish", "subscribe", "introspection"):
        endpoint = endpoints.get(which)
        if isinstance(endpoint, Mapping):
            shown = endpoint.get("endpoint") or f"port {endpoint.get('port')} (not bound yet)"
            lines.append(f"  {which + ':':<15}{shown}")
    if contract.curve_required:
        lines.append(f"  {'CURVE:':<15}required, server key {contract.server_public_key}")
    else:
        lines.append(f"  {'CURVE:':<15}not required")
    return "\n".join(lines) + "\n"


#: How a float that is not finite is written in JSON (strict JSON has no NaN or Infinity):
#: as these strings, the form of protobuf's JSON mapping.  ``pub --json`` reads them back.
NON_FINITE_TEXT = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}


def finite_json(value: Any) -> Any:
    """*value* (plain: dicts, lists, numbers...) with each NaN, Infinity and -Infinity float
    replaced by the string ``"NaN"``, ``"Infinity"`` or ``"-Infinity"``, so that it is strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, Mapping):
        return {key: finite_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_json(item) for item in value]
    return value


def _json_default(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).hex()
    raise TypeError(f"{type(value).__name__} is not JSON")


def _decoded(contract: Contract, frame: bytes) -> Dict[str, Any]:
    """The frame as a dict: event, size, and value (typed) or hex (raw), or error."""
    event = contract.event_of_frame(frame)
    payload = frame[len(event.topic):]
    record: Dict[str, Any] = {"event": event.name, "size": len(frame)}
    if not event.typed or event.codec in ("bytes", "bytes_view"):
        record["hex"] = payload.hex()
        return record
    try:
        record["value"] = finite_json(to_plain(event.decode_payload(payload)))
    except ContractError as e:
        record["error"] = str(e)
        record["hex"] = payload.hex()
    return record


def event_text(contract: Contract, frame: bytes) -> str:
    """One line for a frame, as ``echo`` prints it: ``Reading {"sensor": 1, ...}`` for a
    reflective event (JSON by member name), ``TypeC "text"``, or the payload in hex with
    its size for raw codecs."""
    try:
        record = _decoded(contract, frame)
    except ContractError:
        return f"(unknown topic) {frame.hex()} ({len(frame)} bytes)"
    name = record["event"]
    if "error" in record:
        return f"{name} does not decode: {record['error']}; payload {record['hex']}"
    if "hex" in record:
        event = contract.event(name)
        what = "" if event.typed else f", {event.codec} codec"
        return f"{name} {record['hex'] or '(empty)'} ({len(record['hex']) // 2} bytes{what})"
    return f"{name} {json.dumps(record['value'], ensure_ascii=False, allow_nan=False, default=_json_default)}"


def event_json(contract: Contract, frame: bytes) -> str:
    """One JSON object for a frame (``echo --json``): ``{"event", "size", "value"}``, or
    ``"hex"`` instead of ``"value"`` for raw payloads (and ``"error"`` if it does not decode).
    Strict JSON: a float that is not finite is the string ``"NaN"``, ``"Infinity"`` or
    ``"-Infinity"`` (:func:`finite_json`)."""
    try:
        record = _decoded(contract, frame)
    except ContractError:
        record = {"event": None, "size": len(frame), "hex": frame.hex()}
    return json.dumps(record, ensure_ascii=False, allow_nan=False, default=_json_default)


# -------------------------------------------------------------------- parsing

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def _from_json(desc: Mapping[str, Any], value: Any, path: str) -> Any:
    """A JSON value made ready for the layout's encoder (bytes from hex strings, structs as dicts)."""
    kind = desc.get("kind")
    element = (desc.get("element") or [{}])[0]
    if kind in ("f32", "f64") and isinstance(value, str) and value in NON_FINITE_TEXT:
        return NON_FINITE_TEXT[value]
    if kind == "bytes" and isinstance(value, str):
        try:
            return bytes.fromhex(value)
        except ValueError:
            raise ValueError(f"{path}: bytes are given in hex, not {value!r}") from None
    if kind in ("vector", "array") and isinstance(value, list):
        return [_from_json(element, item, f"{path}[{i}]") for i, item in enumerate(value)]
    if kind == "optional":
        return None if value is None else _from_json(element, value, path)
    if kind == "struct" and isinstance(value, Mapping):
        members = {m["name"]: m["type"] for m in desc.get("members", [])}
        for key in value:
            if key not in members:
                raise ValueError(f"{path}: no member {key!r} (members: {', '.join(members)})")
        return {name: _from_json(members[name], value[name], f"{path}.{name}") if name in value
                else _defaults(members[name]) for name in members}
    return value


def _parse_text(desc: Mapping[str, Any], text: str, path: str) -> Any:
    """The value of *text* for a member of type *desc* (command-line form)."""
    kind = desc.get("kind")
    element = (desc.get("element") or [{}])[0]
    try:
        if kind in ("i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "enum"):
            return int(text, 0)
        if kind in ("f32", "f64"):
            return float(text)
        if kind == "bool":
            if text.lower() in _TRUE:
                return True
            if text.lower() in _FALSE:
                return False
            raise ValueError(f"{path}: a bool is true or false, not {text!r}")
        if kind == "string":
            return text
        if kind == "bytes":
            return bytes.fromhex(text[2:] if text.startswith("0x") else text)
        if kind == "optional":
            return None if text.lower() in ("null", "none", "") else _parse_text(element, text, path)
    except ValueError as e:
        if str(e).startswith(path):
            raise
        raise ValueError(f"{path}: {text!r} is not a {type_text(desc)} ({e})") from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        example = "[1, 2]" if kind in ("vector", "array") else '{"member": 1}'
        raise ValueError(f"{path}: a {type_text(desc)} is given as JSON, e.g. {example}; not {text!r}") from None
    return _from_json(desc, value, path)


def _defaults(desc: Mapping[str, Any]) -> Any:
    """The plain (JSON-like) default value of a layout type."""
    kind = desc.get("kind")
    element = (desc.get("element") or [{}])[0]
    if kind == "struct":
        return {m["name"]: _defaults(m["type"]) for m in desc.get("members", [])}
    if kind == "array":
        return [_defaults(element) for _ in range(int(desc.get("extent", 0)))]
    if kind == "vector":
        return []
    if kind == "optional":
        return None
    if kind == "bool":
        return False
    if kind in ("f32", "f64"):
        return 0.0
    if kind == "string":
        return ""
    if kind == "bytes":
        return b""
    return 0


def parse_assignments(event: EventType, assignments: Sequence[str]) -> Dict[str, Any]:
    """A reflective event's value, as a dict by member name, from ``member=value`` texts.

    Unnamed members keep their defaults; ``location.site=north`` sets a nested member;
    numbers, bools (``true``/``false``) and strings are written as they are, bytes in hex,
    optionals as ``null`` or their value, vectors, arrays and structs as JSON
    (``samples='[{"quantity": 0, "value": 21.5}]'``).
    :raises ValueError: an assignment names no member or its value does not fit.
    """
    if event.layout is None:
        raise ValueError(f"{event.name} has codec {event.codec!r}: it has no members; give its value")
    root = event.layout.description
    value = _defaults(root)
    for assignment in assignments:
        path, sep, text = assignment.partition("=")
        if not sep or not path:
            raise ValueError(f"{assignment!r} is not member=value")
        desc: Mapping[str, Any] = root
        target = value
        parts = path.split(".")
        for depth, part in enumerate(parts):
            members = {m["name"]: m["type"] for m in desc.get("members", [])} if desc.get("kind") == "struct" else {}
            name: Optional[str] = part
            if part not in members:
                name = next((m for m in members if field_name(m) == part), None)
            where = ".".join([event.name] + parts[:depth + 1])
            if name is None:
                raise ValueError(f"{where}: no such member" + (f" (members: {', '.join(members)})" if members
                                                              else f" ({type_text(desc)} has no members)"))
            if depth == len(parts) - 1:
                target[name] = _parse_text(members[name], text, where)
            else:
                desc = members[name]
                if desc.get("kind") != "struct":
                    raise ValueError(f"{where}: a {type_text(desc)} has no members")
                target = target[name]
    return value


# ------------------------------------------------------------------- the wire

def subscribe(context: zmq.Context, endpoint: str, topics: Iterable[bytes], curve: Optional[CurveConfig], *,
              timeout: float, on_frame: Callable[[bytes], bool], on_ready: Callable[[], None] = lambda: None,
              on_tick: Optional[Callable[[], None]] = None, tick: float = 1.0,
              duration: Optional[float] = None) -> str:
    """Subscribe to *topics* on an application's subscribe port and hand each frame to
    *on_frame* until it returns False, *duration* seconds pass, or the application goes away.

    Waits at most *timeout* seconds for the connection (then :class:`EngineTimeout`, or
    :class:`HandshakeFailed` if the application refused it), calls *on_ready* once
    connected, and *on_tick* every *tick* seconds.  Returns why it ended: ``"done"``,
    ``"duration"`` or ``"gone"``.
    """
    with MonitoredSocket(context, zmq.SUB, endpoint, curve, "the subscribe port") as connection:
        for topic in topics:
            connection.socket.setsockopt(zmq.SUBSCRIBE, topic)
        connection.socket.setsockopt(zmq.RCVHWM, 100_000)
        connection.connect()
        connection.wait_handshake(time.monotonic() + timeout)
        on_ready()
        end = None if duration is None else time.monotonic() + duration
        next_tick = time.monotonic() + tick
        poller = zmq.Poller()
        poller.register(connection.socket, zmq.POLLIN)
        poller.register(connection.monitor, zmq.POLLIN)
        while True:
            now = time.monotonic()
            if end is not None and now >= end:
                return "duration"
            if on_tick is not None and now >= next_tick:
                on_tick()
                next_tick = max(next_tick + tick, now)
            waits = [next_tick - now if on_tick is not None else 1.0]
            if end is not None:
                waits.append(end - now)
            ready = dict(poller.poll(max(1, int(min(waits) * 1000))))
            if connection.socket in ready:
                for _ in range(1000):  # a batch, then the clock and the monitor again
                    try:
                        frame = connection.socket.recv(zmq.NOBLOCK)
                    except zmq.Again:
                        break
                    if not on_frame(frame):
                        return "done"
            if connection.monitor in ready:
                connection.check()
                if not connection.connected and not connection.socket.poll(0):
                    return "gone"


#: The engine's control prefix and the publish port's confirmation messages (docs/protocol.md,
#: "Confirming a publish").
_CONTROL = b"\xffevent_engine/"
_CONFIRM, _CONFIRMED = _CONTROL + b"confirm/", _CONTROL + b"confirmed/"


def publish(context: zmq.Context, endpoint: str, frame: bytes, curve: Optional[CurveConfig], *,
            timeout: float, confirm: bool = True) -> None:
    """Publish one frame on an application's publish port, so that it is not dropped, and
    (*confirm*) wait for the application to confirm it.

    The socket is an XPUB: it sees the engine's subscription arrive (the engine's side
    subscribes to everything once connected) and sends only then, so the event is not
    lost to ZeroMQ's slow joiner.  With *confirm* it then sends a confirmation request and
    waits, at most *timeout* seconds in all, for the application's answer: the event was
    admitted (return), or refused (:class:`PublishRefused`, e.g. this client's key may
    publish other events only), or no answer came, or the application could not count
    (:class:`PublishNotConfirmed`: it may or may not have been published).  An application without confirmations (a manifest
    without ``endpoints.publish.confirms``) needs ``confirm=False``: the frame is then only
    given time to leave.  :class:`HandshakeFailed` if the application refused the
    connection, :class:`EngineTimeout` if it did not subscribe in time.
    """
    deadline = time.monotonic() + timeout
    with MonitoredSocket(context, zmq.XPUB, endpoint, curve, "the publish port") as connection:
        connection.connect()
        while connection.receive(deadline, "the application's subscription")[0][:1] != b"\x01":
            pass  # anything but a subscription: wait on
        connection.socket.send(frame)
        if confirm:
            # Every publisher gets every answer (docs/protocol.md, "Confirming a publish"):
            # ours is the one with our random token; the others' are skipped.
            token = os.urandom(16).hex().encode()
            mine = _CONFIRMED + token + b"/"
            connection.socket.send(_CONFIRM + token)
            while True:
                try:
                    message = connection.receive(deadline, "the application's confirmation")[0]
                except EngineTimeout:
                    raise PublishNotConfirmed(
                        f"sent the event ({len(frame)} bytes) to {endpoint}, but the application did not confirm "
                        f"it within {timeout:g} s: it may or may not have been published") from None
                if not message.startswith(mine):
                    continue
                refused, _, reason = message[len(mine):].partition(b"/")
                if refused == b"0":
                    break
                if refused == b"?":
                    raise PublishNotConfirmed(
                        f"sent the event ({len(frame)} bytes) to {endpoint}, but the application could not say "
                        "whether it took it (it had more publishers with refused events than it keeps count of): "
                        "it may or may not have been published")
                raise PublishRefused(reason.decode("utf-8", "replace"))
        # Closing with a linger lets the frame leave; bounded by what is left of the timeout.
        connection.socket.setsockopt(zmq.LINGER, max(100, int((deadline - time.monotonic()) * 1000)))
        connection.socket.disable_monitor()
        connection.socket.close()
