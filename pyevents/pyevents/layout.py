"""The portable layout of ``reflective_codec`` events, in Python.

An event whose C++ type uses ``event_engine::reflective_codec`` carries its
members in a documented byte layout (``docs/layout.md``): fixed-width
little-endian integers and IEEE-754 floats, ``bool`` as one byte, enums as their
underlying integer, strings, byte strings and vectors behind a u32 length,
optionals behind a one-byte tag, arrays without a length, nested structs in
place.  The application describes each such event's layout (C++
``event_engine::describe_layout<E>()``, carried by the manifest) as JSON::

    {"kind": "struct", "name": "Reading", "members": [
        {"name": "sensor", "type": {"kind": "u32"}},
        {"name": "samples", "type": {"kind": "vector", "element": [{"kind": "f32"}]}}]}

:class:`Layout` compiles such a description once and then decodes payloads to
Python objects and encodes them back, byte for byte as the C++ codec does::

    reading = Layout(description)
    event = reading.decode(payload)           # a dataclass named Reading
    event.samples.append(1.5)
    payload = reading.encode(event)           # or a dict, or any object with the attributes
    fresh = reading.new(sensor=3)             # the other members take their defaults

Python values per kind: ``int`` for the integers and enums (the enumerators' names
are not in the description), ``float``, ``bool``, ``str`` for strings (UTF-8; bytes
that are not valid UTF-8 decode with ``surrogateescape`` and encode back unchanged),
``bytes`` for byte strings, ``list`` for vectors and arrays, ``None`` or the value
for optionals, and for structs a dataclass generated from the description, named
after the struct, with its members as fields.  A member whose name is not a Python
identifier (plain C++ aggregates have positional names ``"0"``, ``"1"``, ...) or is a
keyword becomes the field ``_0``, ``_class`` and so on; dicts given to
:meth:`Layout.encode` use the members' own names.

Decoding checks what the C++ codec checks (lengths against the bytes left, bool and
optional bytes 0 or 1, no trailing bytes) and raises :class:`LayoutError` with the
same message, naming the member, e.g. ``"Reading.samples[3]: needs 4 bytes, only
2 bytes left"``.  Encoding raises it for a value that does not fit its member's kind.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import keyword
import struct
from typing import Any, Callable, Mapping, Sequence

from .errors import PyEventsError

__all__ = ["LayoutError", "Layout", "decode", "encode", "to_plain", "field_name"]


class LayoutError(PyEventsError, ValueError):
    """A payload does not match its layout, a value does not fit it, or a
    layout description is malformed.  The message names the member."""


_SCALARS = {
    "i8": "b", "i16": "h", "i32": "i", "i64": "q",
    "u8": "B", "u16": "H", "u32": "I", "u64": "Q",
    "f32": "f", "f64": "d",
}
_INTEGERS = {kind for kind in _SCALARS if kind[0] in "iu"}
_U32 = struct.Struct("<I")
_MAX_LENGTH = 0xFFFFFFFF

Decoder = Callable[[memoryview, int], "tuple[Any, int]"]
Encoder = Callable[[Any, bytearray], None]


class _Fault(Exception):
    """A failure on its way out; each enclosing member or element prefixes the path."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.path = ""


def _count(n: int) -> str:
    return f"{n} byte" if n == 1 else f"{n} bytes"


def _short(needed: int, left: int) -> _Fault:
    return _Fault(f"needs {_count(needed)}, only {_count(left)} left")


def field_name(member: str) -> str:
    """The dataclass field for a member name: the name itself when it is a Python
    identifier and not a keyword, else the name behind an underscore (``"0"`` ->
    ``"_0"``)."""
    if member.isidentifier() and not keyword.iskeyword(member):
        return member
    return "_" + member


class _Compiled:
    """One type of the description: its decoder, encoder, default and minimum size."""

    __slots__ = ("decode", "encode", "default", "min_size", "scalar")

    def __init__(self, decode: Decoder, encode: Encoder, default: Callable[[], Any], min_size: int,
                 scalar: str | None = None) -> None:
        self.decode = decode
        self.encode = encode
        self.default = default
        self.min_size = min_size
        self.scalar = scalar  # the struct format letter of a scalar kind


class Layout:
    """A compiled layout description (the JSON shape of ``docs/layout.md``).

    :param description: the layout of one type, usually an event's (kind
        ``"struct"``), as a dict parsed from the manifest's JSON.
    :raises LayoutError: the description is malformed.
    """

    def __init__(self, description: Mapping[str, Any]) -> None:
        self.description = description
        self._classes: dict[str, type] = {}
        self._root = self._compile(description, "(layout)")
        self.name: str = str(description.get("name", description.get("kind", "")))

    @property
    def type(self) -> type | None:
        """The dataclass of a struct layout (None for other kinds)."""
        if self.description.get("kind") != "struct":
            return None
        return self._classes[self._class_key(self.description)]

    def new(self, **fields: Any) -> Any:
        """An instance of the struct's dataclass, unnamed members at their defaults."""
        cls = self.type
        if cls is None:
            raise LayoutError(f"{self.name}: new() needs a struct layout")
        return cls(**fields)

    def decode(self, payload: bytes | bytearray | memoryview) -> Any:
        """The value in @payload (a whole payload: bytes left over are an error)."""
        view = memoryview(payload).cast("B") if not isinstance(payload, memoryview) else payload.cast("B")
        try:
            value, end = self._root.decode(view, 0)
            if end != len(view):
                raise _Fault(f"{_count(len(view) - end)} left after the last member")
        except _Fault as fault:
            raise LayoutError(f"{self.name}{fault.path}: {fault.message}") from None
        return value

    def encode(self, value: Any) -> bytes:
        """The payload of @value: a dataclass from :attr:`type`, a dict by member
        name, or any object with the members as attributes."""
        out = bytearray()
        try:
            self._root.encode(value, out)
        except _Fault as fault:
            raise LayoutError(f"{self.name}{fault.path}: {fault.message}") from None
        return bytes(out)

    # -- compiling -------------------------------------------------------------------

    def _compile(self, desc: Mapping[str, Any], where: str) -> _Compiled:
        if not isinstance(desc, Mapping) or "kind" not in desc:
            raise LayoutError(f"{where}: a layout type is an object with a 'kind', not {desc!r}")
        kind = desc["kind"]
        if kind in _SCALARS:
            return self._scalar(kind)
        if kind == "bool":
            return _Compiled(_decode_bool, _encode_bool, lambda: False, 1)
        if kind == "enum":
            underlying = self._compile(self._element(desc, where), where)
            if underlying.scalar is None or desc["element"][0]["kind"] not in _INTEGERS:
                raise LayoutError(f"{where}: an enum's element must be an integer kind")
            return underlying
        if kind == "string":
            return _Compiled(_decode_string, _encode_string, str, 4)
        if kind == "bytes":
            return _Compiled(_decode_bytes, _encode_bytes, bytes, 4)
        if kind == "vector":
            return self._vector(self._compile(self._element(desc, where), where + "[]"), where)
        if kind == "optional":
            return self._optional(self._compile(self._element(desc, where), where))
        if kind == "array":
            extent = desc.get("extent")
            if not isinstance(extent, int) or extent < 0:
                raise LayoutError(f"{where}: an array needs a non-negative integer 'extent'")
            return self._array(self._compile(self._element(desc, where), where + "[]"), extent)
        if kind == "struct":
            return self._struct(desc, where)
        raise LayoutError(f"{where}: unknown kind {kind!r}")

    @staticmethod
    def _element(desc: Mapping[str, Any], where: str) -> Mapping[str, Any]:
        element = desc.get("element")
        if not isinstance(element, Sequence) or len(element) != 1:
            raise LayoutError(f"{where}: kind {desc['kind']!r} needs 'element', a list of one type")
        return element[0]

    @staticmethod
    def _scalar(kind: str) -> _Compiled:
        packer = struct.Struct("<" + _SCALARS[kind])
        size = packer.size
        unpack_from = packer.unpack_from
        pack = packer.pack
        is_float = kind[0] == "f"

        def decode_scalar(buf: memoryview, pos: int) -> tuple[Any, int]:
            if len(buf) - pos < size:
                raise _short(size, len(buf) - pos)
            return unpack_from(buf, pos)[0], pos + size

        def encode_scalar(value: Any, out: bytearray) -> None:
            if isinstance(value, bool) or not isinstance(value, (float, int) if is_float else int):
                raise _Fault(f"{kind} needs {'a number' if is_float else 'an int'}, not {value!r}")
            try:
                out += pack(value)
            except (struct.error, OverflowError):
                raise _Fault(f"{value!r} does not fit {kind}") from None

        return _Compiled(decode_scalar, encode_scalar, float if is_float else int, size, _SCALARS[kind])

    @staticmethod
    def _vector(element: _Compiled, where: str) -> _Compiled:
        if element.min_size == 0:
            raise LayoutError(f"{where}: a vector's element must take at least one byte")
        each = element.min_size
        decode_element, encode_element = element.decode, element.encode
        bulk = element.scalar

        def decode_vector(buf: memoryview, pos: int) -> tuple[Any, int]:
            count, pos = _length(buf, pos, each)
            if bulk is not None:
                end = pos + count * each
                return list(struct.unpack_from(f"<{count}{bulk}", buf, pos)), end
            return _decode_items(buf, pos, count, decode_element)

        def encode_vector(value: Any, out: bytearray) -> None:
            if isinstance(value, (str, bytes, bytearray, Mapping)) or not isinstance(value, Sequence):
                raise _Fault(f"a vector needs a list, not {type(value).__name__}")
            if len(value) > _MAX_LENGTH:
                raise _Fault(f"{len(value)} elements do not fit the u32 length")
            out += _U32.pack(len(value))
            _encode_items(value, out, encode_element)

        return _Compiled(decode_vector, encode_vector, list, 4)

    @staticmethod
    def _optional(element: _Compiled) -> _Compiled:
        decode_element, encode_element = element.decode, element.encode

        def decode_optional(buf: memoryview, pos: int) -> tuple[Any, int]:
            if pos >= len(buf):
                raise _short(1, 0)
            tag = buf[pos]
            if tag > 1:
                raise _Fault(f"an optional's tag must be byte 0 or 1, got {tag}")
            return decode_element(buf, pos + 1) if tag else (None, pos + 1)

        def encode_optional(value: Any, out: bytearray) -> None:
            if value is None:
                out.append(0)
            else:
                out.append(1)
                encode_element(value, out)

        return _Compiled(decode_optional, encode_optional, lambda: None, 1)

    @staticmethod
    def _array(element: _Compiled, extent: int) -> _Compiled:
        decode_element, encode_element, default = element.decode, element.encode, element.default
        bulk = element.scalar
        size = extent * element.min_size

        def decode_array(buf: memoryview, pos: int) -> tuple[Any, int]:
            if bulk is not None:
                if len(buf) - pos < size:
                    raise _short(size, len(buf) - pos)
                return list(struct.unpack_from(f"<{extent}{bulk}", buf, pos)), pos + size
            return _decode_items(buf, pos, extent, decode_element)

        def encode_array(value: Any, out: bytearray) -> None:
            if isinstance(value, (str, bytes, bytearray, Mapping)) or not isinstance(value, Sequence):
                raise _Fault(f"an array needs a list, not {type(value).__name__}")
            if len(value) != extent:
                raise _Fault(f"an array of {extent} elements, got {len(value)}")
            _encode_items(value, out, encode_element)

        return _Compiled(decode_array, encode_array, lambda: [default() for _ in range(extent)], size)

    @staticmethod
    def _class_key(desc: Mapping[str, Any]) -> str:
        return json.dumps(desc, sort_keys=True)

    def _struct(self, desc: Mapping[str, Any], where: str) -> _Compiled:
        name = str(desc.get("name") or "Struct")
        members = desc.get("members")
        if not isinstance(members, Sequence):
            raise LayoutError(f"{where}: a struct needs 'members', a list")
        compiled: list[tuple[str, str, _Compiled]] = []  # (member name, field name, type)
        for member in members:
            if not isinstance(member, Mapping) or not isinstance(member.get("name"), str) or "type" not in member:
                raise LayoutError(f"{where}: a member is an object with 'name' and 'type', not {member!r}")
            compiled.append((member["name"], field_name(member["name"]),
                             self._compile(member["type"], f"{name}.{member['name']}")))
        key = self._class_key(desc)
        cls = self._classes.get(key)
        if cls is None:
            cls = dataclasses.make_dataclass(
                field_name(name) if name.isidentifier() else "Struct",
                [(field, Any, dataclasses.field(default_factory=member_type.default))
                 for _, field, member_type in compiled])
            cls.__doc__ = f"The {name} struct of a reflective_codec layout (docs/layout.md)."
            cls.__layout_members__ = {field: member_name for member_name, field, _ in compiled}  # type: ignore[attr-defined]
            self._classes[key] = cls
        fields = [(member_name, field, member_type.decode, member_type.encode)
                  for member_name, field, member_type in compiled]
        min_size = sum(member_type.min_size for _, _, member_type in compiled)

        def decode_struct(buf: memoryview, pos: int) -> tuple[Any, int]:
            values = {}
            for member_name, field, decode_member, _ in fields:
                try:
                    values[field], pos = decode_member(buf, pos)
                except _Fault as fault:
                    fault.path = f".{member_name}{fault.path}"
                    raise
            return cls(**values), pos

        def encode_struct(value: Any, out: bytearray) -> None:
            for member_name, field, _, encode_member in fields:
                try:
                    if isinstance(value, Mapping):
                        if member_name not in value:
                            raise _Fault("missing from the dict")
                        item = value[member_name]
                    else:
                        try:
                            item = getattr(value, field)
                        except AttributeError:
                            raise _Fault(f"{type(value).__name__} has no attribute {field!r}") from None
                    encode_member(item, out)
                except _Fault as fault:
                    fault.path = f".{member_name}{fault.path}"
                    raise

        return _Compiled(decode_struct, encode_struct, cls, min_size)


def _decode_items(buf: memoryview, pos: int, count: int, decode_element: Decoder) -> tuple[list[Any], int]:
    items = []
    for index in range(count):
        try:
            item, pos = decode_element(buf, pos)
        except _Fault as fault:
            fault.path = f"[{index}]{fault.path}"
            raise
        items.append(item)
    return items, pos


def _encode_items(items: Sequence[Any], out: bytearray, encode_element: Encoder) -> None:
    for index, item in enumerate(items):
        try:
            encode_element(item, out)
        except _Fault as fault:
            fault.path = f"[{index}]{fault.path}"
            raise


def _length(buf: memoryview, pos: int, each: int) -> tuple[int, int]:
    left = len(buf) - pos
    if left < 4:
        raise _short(4, left)
    count = _U32.unpack_from(buf, pos)[0]
    left -= 4
    if count > left // each:
        needs = f" needs at least {_count(count * each)}" if each > 1 else ""
        raise _Fault(f"length {count}{needs}, only {_count(left)} left")
    return count, pos + 4


def _decode_bool(buf: memoryview, pos: int) -> tuple[bool, int]:
    if pos >= len(buf):
        raise _short(1, 0)
    byte = buf[pos]
    if byte > 1:
        raise _Fault(f"a bool must be byte 0 or 1, got {byte}")
    return byte == 1, pos + 1


def _encode_bool(value: Any, out: bytearray) -> None:
    if value is True or value is False or (type(value) is int and value in (0, 1)):
        out.append(1 if value else 0)
    else:
        raise _Fault(f"a bool needs True or False, not {value!r}")


def _decode_bytes(buf: memoryview, pos: int) -> tuple[bytes, int]:
    size, pos = _length(buf, pos, 1)
    return bytes(buf[pos:pos + size]), pos + size


def _decode_string(buf: memoryview, pos: int) -> tuple[str, int]:
    size, pos = _length(buf, pos, 1)
    return str(buf[pos:pos + size], "utf-8", "surrogateescape"), pos + size


def _encode_bytes(value: Any, out: bytearray) -> None:
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise _Fault(f"bytes needs bytes, not {type(value).__name__}")
    data = memoryview(value).cast("B")
    if len(data) > _MAX_LENGTH:
        raise _Fault(f"{len(data)} bytes do not fit the u32 length")
    out += _U32.pack(len(data))
    out += data


def _encode_string(value: Any, out: bytearray) -> None:
    if not isinstance(value, str):
        raise _Fault(f"a string needs a str, not {type(value).__name__}")
    _encode_bytes(value.encode("utf-8", "surrogateescape"), out)


@functools.lru_cache(maxsize=256)
def _cached(description_json: str) -> Layout:
    return Layout(json.loads(description_json))


def decode(description: Mapping[str, Any], payload: bytes | bytearray | memoryview) -> Any:
    """Decodes @payload with the layout @description (compiled once, then cached)."""
    return _cached(json.dumps(description, sort_keys=True)).decode(payload)


def encode(description: Mapping[str, Any], value: Any) -> bytes:
    """Encodes @value with the layout @description (compiled once, then cached)."""
    return _cached(json.dumps(description, sort_keys=True)).encode(value)


def to_plain(value: Any) -> Any:
    """@value with every struct as a dict by member name (the C++ names: ``"0"``,
    not ``"_0"``), lists and scalars as they are: for JSON, printing, comparing."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        names = getattr(value, "__layout_members__", {})
        return {names.get(field.name, field.name): to_plain(getattr(value, field.name))
                for field in dataclasses.fields(value)}
    if isinstance(value, list):
        return [to_plain(item) for item in value]
    return value
