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

Speed: :class:`Layout` writes, once per description, a decoder and an encoder specialised
to it (one precompiled ``struct.Struct`` per run of fixed-size members, structs built
without their ``__init__``, vectors of numbers in one call, byte strings as one slice);
they handle the good payloads and values, and anything else goes to the reference codec,
which gives the error.  :meth:`Layout.decode` reads any buffer in place (a ``memoryview``,
a zmq frame); with ``byte_views=True``, ``bytes`` members are views of it, not copies.
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
    """One type of the description: its decoder, encoder, default and minimum size (the
    reference codec, which names the member on failure), and its shape, from which
    :func:`_generate` writes the fast codec."""

    __slots__ = ("decode", "encode", "default", "min_size", "scalar", "kind", "element", "extent", "members", "cls")

    def __init__(self, decode: Decoder, encode: Encoder, default: Callable[[], Any], min_size: int,
                 scalar: str | None = None, kind: str = "", element: "_Compiled | None" = None,
                 extent: int = 0) -> None:
        self.decode = decode
        self.encode = encode
        self.default = default
        self.min_size = min_size
        self.scalar = scalar  # the struct format letter of a scalar kind
        self.kind = kind  # the description's kind ("enum" compiles to its underlying integer's)
        self.element = element  # of a vector, optional or array
        self.extent = extent  # of an array
        self.members: list[tuple[str, str, _Compiled]] = []  # of a struct: (member name, field name, type)
        self.cls: type | None = None  # of a struct: its dataclass

    @property
    def item(self) -> "_Compiled":
        """The element type of a vector, optional or array (:attr:`element`, which they all have)."""
        assert self.element is not None, self.kind
        return self.element


class Layout:
    """A compiled layout description (the JSON shape of ``docs/layout.md``).

    :param description: the layout of one type, usually an event's (kind
        ``"struct"``), as a dict parsed from the manifest's JSON.
    :param byte_views: decode ``bytes`` members (``std::vector<std::uint8_t>``,
        ``std::vector<std::byte>``) to read-only ``memoryview`` slices of the payload
        instead of ``bytes`` copies: no copy, whatever their size (``numpy.frombuffer``
        takes them as they are); each keeps the payload's buffer alive.
    :raises LayoutError: the description is malformed.
    """

    def __init__(self, description: Mapping[str, Any], *, byte_views: bool = False) -> None:
        self.description = description
        self.byte_views = byte_views
        self._classes: dict[str, type] = {}
        self._root = self._compile(description, "(layout)")
        self.name: str = str(description.get("name", description.get("kind", "")))
        self._fast_decode: Callable[[Any, int], Any] | None = None
        self._fast_encode: Callable[[Any, bytes], bytes] | None = None
        try:
            self._fast_decode, self._fast_encode = _generate(self._root, byte_views)
        except (SyntaxError, RecursionError, MemoryError, struct.error):  # Python's limits: nesting, sizes
            pass  # the reference codec serves alone

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
        """The value in @payload (a whole payload: bytes left over are an error).  Any
        buffer of bytes will do (a ``memoryview``, a zmq frame): it is read in place, and
        only the strings and byte strings of the value are copied out of it."""
        return self.decode_at(payload if type(payload) is bytes else memoryview(payload).cast("B"), 0)

    def decode_at(self, buffer: bytes | memoryview, start: int) -> Any:
        """The value in @buffer from byte @start to its end (what :meth:`decode` does with
        ``buffer[start:]``, without the slice): for a frame whose topic comes first.

        :param buffer: ``bytes``, or a one-dimensional ``memoryview`` of bytes (format ``B``).
        """
        if self.byte_views and type(buffer) is bytes:
            buffer = memoryview(buffer)
        fast = self._fast_decode
        if fast is not None:
            try:
                return fast(buffer, start)
            except Exception:  # noqa: BLE001 - the reference codec decides, and says why
                pass
        view = memoryview(buffer)
        try:
            value, end = self._root.decode(view, start)
            if end != len(view):
                raise _Fault(f"{_count(len(view) - end)} left after the last member")
        except _Fault as fault:
            raise LayoutError(f"{self.name}{fault.path}: {fault.message}") from None
        return value

    def encode(self, value: Any) -> bytes:
        """The payload of @value: a dataclass from :attr:`type`, a dict by member
        name, or any object with the members as attributes."""
        return self.encode_with(value, b"")

    def encode_with(self, value: Any, head: bytes) -> bytes:
        """@head then the payload of @value, in one ``bytes`` (``head + encode(value)``
        without the second copy): for a frame, the topic then the payload."""
        fast = self._fast_encode
        if fast is not None:
            try:
                return fast(value, head)
            except Exception:  # noqa: BLE001 - the reference codec decides, and says why
                pass
        out = bytearray(head)
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
            return _Compiled(_decode_bool, _encode_bool, lambda: False, 1, kind="bool")
        if kind == "enum":
            underlying = self._compile(self._element(desc, where), where)
            if underlying.scalar is None or desc["element"][0]["kind"] not in _INTEGERS:
                raise LayoutError(f"{where}: an enum's element must be an integer kind")
            return underlying
        if kind == "string":
            return _Compiled(_decode_string, _encode_string, str, 4, kind="string")
        if kind == "bytes":
            return _Compiled(_decode_byte_view if self.byte_views else _decode_bytes, _encode_bytes, bytes, 4,
                             kind="bytes")
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

        return _Compiled(decode_scalar, encode_scalar, float if is_float else int, size, _SCALARS[kind], kind)

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

        return _Compiled(decode_vector, encode_vector, list, 4, kind="vector", element=element)

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

        return _Compiled(decode_optional, encode_optional, lambda: None, 1, kind="optional", element=element)

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

        return _Compiled(decode_array, encode_array, lambda: [default() for _ in range(extent)], size,
                         kind="array", element=element, extent=extent)

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
            spec: list[tuple[str, Any, Any]] = [
                (field, Any, dataclasses.field(default_factory=member_type.default)) for _, field, member_type in compiled]
            cls = dataclasses.make_dataclass(field_name(name) if name.isidentifier() else "Struct", spec)
            cls.__doc__ = f"The {name} struct of a reflective_codec layout (docs/layout.md)."
            setattr(cls, "__layout_members__", {field: member_name for member_name, field, _ in compiled})
            self._classes[key] = cls
        struct_class: type = cls
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
            return struct_class(**values), pos

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

        result = _Compiled(decode_struct, encode_struct, cls, min_size, kind="struct")
        result.members = compiled
        result.cls = cls
        return result


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


def _decode_byte_view(buf: memoryview, pos: int) -> tuple[memoryview, int]:
    size, pos = _length(buf, pos, 1)
    return buf[pos:pos + size].toreadonly(), pos + size


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


# -- the fast codec ------------------------------------------------------------------------
#
# _generate writes, once per layout, a Python decoder and encoder specialised to it: each
# run of consecutive fixed-size reads or writes (numbers, bools, enums, length prefixes,
# optional tags, small arrays, nested structs of those) is one precompiled struct.Struct
# call, structs are built without their __init__, vectors of numbers are one unpack, byte
# strings one slice. The generated code only tells whether a payload or value is good: on
# anything else it raises (_Miss, struct.error, ...) and Layout runs the reference codec
# above, which accepts exactly the same payloads and values and names the member in its
# error. tests/test_layout.py checks the two against each other on random layouts, values
# and damaged payloads.

class _Miss(Exception):
    """The fast codec cannot take this payload or value: the reference codec decides."""


_INLINE_READS = 32  # a fixed-size array or struct of at most this many numbers joins its run (unrolled)
_NUMBER_TYPES = {"f": frozenset({int, float}), "d": frozenset({int, float})}
_INT_TYPES = frozenset({int})
_BOOL_TYPES = frozenset({bool})


def _reads(node: _Compiled) -> int | None:
    """How many numbers a fixed-size type takes (None: its size depends on the value)."""
    if node.scalar is not None or node.kind == "bool":
        return 1
    if node.kind == "array":
        each = _reads(node.item)
        return None if each is None else each * node.extent
    if node.kind == "struct":
        total = 0
        for _, _, member in node.members:
            each = _reads(member)
            if each is None:
                return None
            total += each
        return total
    return None


def _attribute(field: str) -> str:
    """@field, checked to be written as an attribute name in generated source (the dataclass
    made from the description has checked it already; this keeps the source safe anyway)."""
    if not field.isidentifier() or keyword.iskeyword(field):
        raise SyntaxError(f"not a field name: {field!r}")
    return field


class _Writer:
    """Python source being written: lines, fresh names and the constants it uses."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.names: dict[str, Any] = {"_Miss": _Miss, "_new": object.__new__, "_str": str, "_bytes": bytes,
                                      "_list": list, "_set": set, "_map": map, "_type": type, "_len": len,
                                      "_unpack_from": struct.unpack_from, "_pack": struct.pack}
        self.depth = 1
        self.count = 0

    def fresh(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def constant(self, value: Any, prefix: str) -> str:
        name = self.fresh(prefix)
        self.names[name] = value
        return name

    def line(self, text: str) -> None:
        self.lines.append("    " * self.depth + text)

    def function(self, header: str, name: str) -> Callable[..., Any]:
        source = f"def {name}{header}:\n" + "\n".join(self.lines) + "\n"
        exec(compile(source, f"<pyevents.layout {name}>", "exec"), self.names)  # noqa: S102 - our own source
        function = self.names[name]
        function.source = source  # for reading and debugging
        return function


class _DecoderWriter(_Writer):
    """Writes ``decode(buf, pos) -> value`` (raises on a payload it does not take)."""

    def __init__(self, byte_views: bool) -> None:
        super().__init__()
        self.byte_views = byte_views
        self.format = ""  # the run of fixed-size reads not yet written
        self.targets: list[str] = []
        self.after: list[str] = []  # lines that need the run's values (checks, structs built)

    def read(self, letter: str) -> str:
        name = self.fresh("r")
        self.format += letter
        self.targets.append(name)
        return name

    def later(self, text: str) -> None:
        self.after.append(text)

    def flush(self) -> None:
        if self.format == "B":  # one byte (an optional's tag, say): indexing is quicker than unpacking
            self.line(f"{self.targets[0]} = buf[pos]")
            self.line("pos += 1")
        elif self.format:
            packer = struct.Struct("<" + self.format)
            unpack = self.constant(packer.unpack_from, "U")
            self.line(f"{', '.join(self.targets)}, = {unpack}(buf, pos)")
            self.line(f"pos += {packer.size}")
        for text in self.after:
            self.line(text)
        self.format, self.targets, self.after = "", [], []

    def value(self, node: _Compiled) -> str:
        """Reads one value of @node; gives the expression that holds it once the run is flushed."""
        kind = node.kind
        if node.scalar is not None:
            return self.read(node.scalar)
        if kind == "bool":
            byte = self.read("B")
            self.later(f"if {byte} > 1: raise _Miss")
            return f"({byte} == 1)"
        if kind in ("string", "bytes"):
            size = self.read("I")
            self.flush()
            name = self.fresh("s")
            self.line(f"if {size} > end - pos: raise _Miss")
            if kind == "string":
                self.line(f"{name} = _str(buf[pos:pos + {size}], 'utf-8', 'surrogateescape')")
            elif self.byte_views:
                self.line(f"{name} = buf[pos:pos + {size}].toreadonly()")
            else:
                self.line(f"{name} = _bytes(buf[pos:pos + {size}])")
            self.line(f"pos += {size}")
            return name
        if kind == "optional":
            tag = self.read("B")
            self.flush()
            name = self.fresh("o")
            self.line(f"if {tag}:")
            self.depth += 1
            self.line(f"if {tag} > 1: raise _Miss")
            item = self.value(node.item)
            self.later(f"{name} = {item}")
            self.flush()
            self.depth -= 1
            self.line("else:")
            self.line(f"    {name} = None")
            return name
        if kind == "array":
            return self.array(node)
        if kind == "vector":
            return self.vector(node)
        assert kind == "struct"
        values = [(_attribute(field), self.value(member)) for _, field, member in node.members]
        cls = self.constant(node.cls, "C")
        name = self.fresh("v")
        self.later(f"{name} = _new({cls})")
        for field, item in values:
            self.later(f"{name}.{field} = {item}")
        return name

    def array(self, node: _Compiled) -> str:
        element = node.item
        reads = _reads(node)
        if reads is not None and reads <= _INLINE_READS:
            return "[" + ", ".join(self.value(element) for _ in range(node.extent)) + "]"
        self.flush()
        name = self.fresh("a")
        if element.scalar is not None:
            packer = struct.Struct(f"<{node.extent}{element.scalar}")
            self.line(f"{name} = _list({self.constant(packer.unpack_from, 'U')}(buf, pos))")
            self.line(f"pos += {packer.size}")
            return name
        self.line(f"{name} = []")
        return self.loop(name, str(node.extent), element)

    def loop(self, name: str, count: str, element: _Compiled) -> str:
        """Appends @count elements to the list @name, one by one."""
        self.line(f"for _ in range({count}):")
        self.depth += 1
        self.later(f"{name}.append({self.value(element)})")
        self.flush()
        self.depth -= 1
        return name

    def vector(self, node: _Compiled) -> str:
        element = node.item
        count = self.read("I")
        self.flush()
        name = self.fresh("l")
        each = element.min_size
        self.line(f"if {count} > end - pos: raise _Miss" if each == 1
                  else f"if {count} > (end - pos) // {each}: raise _Miss")
        if element.scalar is not None:
            self.line(f"{name} = _list(_unpack_from('<%d{element.scalar}' % {count}, buf, pos))")
            self.line(f"pos += {count}" if each == 1 else f"pos += {count} * {each}")
            return name
        if element.kind == "bool":
            data = self.fresh("b")
            self.line(f"{data} = _bytes(buf[pos:pos + {count}])")
            self.line(f"if {data}.translate(None, b'\\x00\\x01'): raise _Miss")
            self.line(f"{name} = [byte == 1 for byte in {data}]")
            self.line(f"pos += {count}")
            return name
        self.line(f"{name} = []")
        reads = _reads(element)
        if reads is not None and reads <= _INLINE_READS:
            # Fixed-size elements: one iter_unpack over all of them.
            saved = self.format, self.targets, self.after
            self.format, self.targets, self.after = "", [], []
            item = self.value(element)
            packer = struct.Struct("<" + self.format)
            targets, after = self.targets, self.after
            self.format, self.targets, self.after = saved
            iterate = self.constant(packer.iter_unpack, "I")
            self.line(f"for {', '.join(targets)}, in {iterate}(buf[pos:pos + {count} * {packer.size}]):")
            self.depth += 1
            for text in after:
                self.line(text)
            self.line(f"{name}.append({item})")
            self.depth -= 1
            self.line(f"pos += {count} * {packer.size}")
            return name
        return self.loop(name, count, element)


class _EncoderWriter(_Writer):
    """Writes ``encode(value, head) -> bytes``: head then the value's payload (raises on a
    value it does not take)."""

    def __init__(self) -> None:
        super().__init__()
        self.format = ""  # the run of fixed-size writes not yet written
        self.arguments: list[str] = []
        self.line("parts = [head]")
        self.line("ap = parts.append")

    def put(self, letters: str, argument: str) -> None:
        self.format += letters
        self.arguments.append(argument)

    def flush(self) -> None:
        if self.format:
            pack = self.constant(struct.Struct("<" + self.format).pack, "P")
            self.line(f"ap({pack}({', '.join(self.arguments)}))")
        self.format, self.arguments = "", []

    def types(self, node: _Compiled) -> str:
        """The constant set of the Python types the fast path takes for a scalar or bool."""
        if node.kind == "bool":
            return self.constant(_BOOL_TYPES, "T")
        return self.constant(_NUMBER_TYPES.get(node.scalar or "", _INT_TYPES), "T")

    def value(self, node: _Compiled, value: str) -> None:
        """Writes @value (an expression naming it) as @node."""
        kind = node.kind
        if node.scalar is not None:
            if node.scalar in _NUMBER_TYPES:
                self.line(f"if _type({value}) is not float and _type({value}) is not int: raise _Miss")
            else:
                self.line(f"if _type({value}) is not int: raise _Miss")
            self.put(node.scalar, value)
        elif kind == "bool":
            self.line(f"if {value} is not True and {value} is not False: raise _Miss")
            self.put("?", value)
        elif kind in ("string", "bytes"):
            data = value
            if kind == "string":
                data = self.fresh("s")
                self.line(f"if _type({value}) is not str: raise _Miss")
                self.line(f"{data} = {value}.encode('utf-8', 'surrogateescape')")
            else:
                self.line(f"if _type({value}) is memoryview: {value} = {value}.cast('B')")
                self.line(f"elif _type({value}) is not bytes and _type({value}) is not bytearray: raise _Miss")
            self.put("I", f"_len({data})")
            self.flush()
            self.line(f"ap({data})")
        elif kind == "optional":
            self.flush()
            self.line(f"if {value} is None:")
            self.line("    ap(b'\\x00')")
            self.line("else:")
            self.depth += 1
            self.put("B", "1")
            self.value(node.item, value)
            self.flush()
            self.depth -= 1
        elif kind in ("array", "vector"):
            self.sequence(node, value)
        else:
            assert kind == "struct"
            self.struct(node, value)

    def sequence(self, node: _Compiled, value: str) -> None:
        element = node.item
        self.line(f"if _type({value}) is not list: raise _Miss")
        if node.kind == "array":
            self.line(f"if _len({value}) != {node.extent}: raise _Miss")
        else:
            self.put("I", f"_len({value})")
        if element.scalar is not None or element.kind == "bool":
            self.line(f"if not _set(_map(_type, {value})) <= {self.types(element)}: raise _Miss")
            letter = "?" if element.kind == "bool" else element.scalar
            if node.kind == "array":
                self.put(f"{node.extent}{letter}", f"*{value}")
            else:
                self.flush()
                self.line(f"ap(_pack('<%d{letter}' % _len({value}), *{value}))")
            return
        reads = _reads(node)
        if node.kind == "array" and reads is not None and reads <= _INLINE_READS:
            items = [self.fresh("e") for _ in range(node.extent)]
            if items:
                self.line(f"{', '.join(items)}, = {value}")
            for item in items:
                self.value(element, item)
            return
        self.flush()
        item = self.fresh("e")
        self.line(f"for {item} in {value}:")
        self.depth += 1
        self.value(element, item)
        self.flush()
        self.depth -= 1

    def struct(self, node: _Compiled, value: str) -> None:
        cls = self.constant(node.cls, "C")
        items = [self.fresh("m") for _ in node.members]
        targets = ", ".join(items)
        attributes = ", ".join(f"{value}.{_attribute(field)}" for _, field, _ in node.members)
        keys = ", ".join(f"{value}[{name!r}]" for name, _, _ in node.members)  # a dict by member name
        self.line(f"if _type({value}) is {cls}:")
        self.line(f"    {targets}, = {attributes}," if items else "    pass")
        self.line(f"elif _type({value}) is dict:")
        self.line(f"    {targets}, = {keys}," if items else "    pass")
        self.line("else:")
        self.line("    raise _Miss")
        for item, (_, _, member) in zip(items, node.members):
            self.value(member, item)


def _generate(root: _Compiled, byte_views: bool) -> tuple[Callable[[Any, int], Any],
                                                         Callable[[Any, bytes], bytes]]:
    """The fast decoder and encoder of a compiled layout."""
    decoder = _DecoderWriter(byte_views)
    decoder.line("end = len(buf)")
    result = decoder.value(root)
    decoder.flush()
    decoder.line("if pos != end: raise _Miss")
    decoder.line(f"return {result}")
    encoder = _EncoderWriter()
    encoder.value(root, "value")
    encoder.flush()
    encoder.line("return b''.join(parts)")
    return decoder.function("(buf, pos)", "decode"), encoder.function("(value, head)", "encode")


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
