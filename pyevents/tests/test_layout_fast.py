"""pyevents.layout's generated codec against its reference codec, and frames read in place.

Layout compiles each description twice: a reference codec that walks the layout value by
value and names the member in every error (the one test_layout.py checks against the C++
codec), and a generated one, specialised to the layout, that only tells good from bad and
leaves the bad to the reference codec. The generated codec must accept exactly what the
reference accepts, giving the same values and bytes; these tests drive the two side by side
over random layouts, random values, damaged payloads and values of the wrong types.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import random
import tracemalloc
from typing import Any, Callable

import pytest
import zmq

from pyevents import Contract, ContractError
from pyevents.layout import Layout, LayoutError, _Fault, to_plain
from test_layout import EVERY_KIND, PLAIN, READING, TELEMETRY, WORDS, random_layout, random_value

PIPELINE_READING = {"kind": "struct", "name": "Reading", "members": [
    {"name": "sensor", "type": {"kind": "u32"}},
    {"name": "sequence", "type": {"kind": "u64"}},
    {"name": "location", "type": {"kind": "struct", "name": "Location", "members": [
        {"name": "site", "type": {"kind": "string"}}, {"name": "floor", "type": {"kind": "i16"}}]}},
    {"name": "samples", "type": {"kind": "vector", "element": [{"kind": "struct", "name": "Sample", "members": [
        {"name": "quantity", "type": {"kind": "enum", "name": "Quantity", "element": [{"kind": "u8"}]}},
        {"name": "value", "type": {"kind": "f64"}}]}]}},
    {"name": "note", "type": {"kind": "optional", "element": [{"kind": "string"}]}},
    {"name": "firmware", "type": {"kind": "array", "extent": 3, "element": [{"kind": "u8"}]}}]}
IMAGE = {"kind": "struct", "name": "Image", "members": [
    {"name": "camera", "type": {"kind": "u32"}}, {"name": "pixels", "type": {"kind": "bytes"}}]}
# Arrays past the size the generated code writes out member by member, and nested containers.
BIG = {"kind": "struct", "name": "Big", "members": [
    {"name": "grid", "type": {"kind": "array", "extent": 40, "element": [{"kind": "i16"}]}},
    {"name": "flags", "type": {"kind": "array", "extent": 40, "element": [{"kind": "bool"}]}},
    {"name": "points", "type": {"kind": "array", "extent": 20, "element": [
        {"kind": "struct", "name": "P", "members": [{"name": "x", "type": {"kind": "f32"}},
                                                    {"name": "ok", "type": {"kind": "bool"}}]}]}},
    {"name": "names", "type": {"kind": "array", "extent": 2, "element": [{"kind": "string"}]}},
    {"name": "nested", "type": {"kind": "vector", "element": [
        {"kind": "optional", "element": [{"kind": "vector", "element": [{"kind": "bool"}]}]}]}},
    {"name": "empty", "type": {"kind": "struct", "name": "Empty", "members": []}},
    {"name": "none", "type": {"kind": "array", "extent": 0, "element": [{"kind": "u8"}]}}]}
FIXED_LAYOUTS = [EVERY_KIND, PLAIN, READING, TELEMETRY, WORDS, PIPELINE_READING, IMAGE, BIG,
                 {"kind": "string"}, {"kind": "vector", "element": [{"kind": "u16"}]}]


def reference_decode(layout: Layout, payload: bytes) -> Any:
    """The reference codec alone: the value, or the LayoutError's message."""
    view = memoryview(payload)
    try:
        value, end = layout._root.decode(view, 0)
    except _Fault:
        return LayoutError
    return LayoutError if end != len(view) else value


def reference_encode(layout: Layout, value: Any) -> Any:
    out = bytearray()
    try:
        layout._root.encode(value, out)
    except _Fault:
        return LayoutError
    except Exception as error:  # noqa: BLE001 - the same exception must come from the fast path's fallback
        return type(error)
    return bytes(out)


def outcome(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except Exception:  # noqa: BLE001
        return LayoutError


def same(a: Any, b: Any) -> bool:
    """Equal values of equal types, NaN equal to NaN, dataclasses by their fields."""
    if type(a) is not type(b):
        return False
    if dataclasses.is_dataclass(a):
        return all(same(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a))
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return a == b


def random_layouts(seed: int, count: int, byte_views: bool = False) -> list[Layout]:
    rng = random.Random(seed)
    layouts = [Layout(description, byte_views=byte_views) for description in FIXED_LAYOUTS]
    while len(layouts) < count:
        description = {"kind": "struct", "name": "Top", "members": [
            {"name": f"m{i}", "type": random_layout(rng)} for i in range(rng.randrange(1, 6))]}
        try:
            layouts.append(Layout(description, byte_views=byte_views))
        except LayoutError:  # a vector of zero-size elements
            continue
    return layouts


def test_every_layout_gets_a_generated_codec() -> None:
    for layout in random_layouts(1, 200):
        assert layout._fast_decode is not None and layout._fast_encode is not None, layout.description


@pytest.mark.parametrize("byte_views", [False, True])
def test_good_values_take_the_generated_path_with_the_same_bytes_and_values(byte_views: bool) -> None:
    rng = random.Random(2)
    for layout in random_layouts(2, 250, byte_views):
        for _ in range(6):
            plain = random_value(rng, layout.description)
            payload = reference_encode(layout, plain)
            assert isinstance(payload, bytes)
            decoded = reference_decode(layout, payload)
            # Dicts and the dataclasses both encode without the reference codec, to the same bytes.
            assert layout._fast_encode(plain, b"") == payload
            assert layout._fast_encode(decoded, b"head") == b"head" + payload
            fast = layout._fast_decode(memoryview(payload) if byte_views else payload, 0)
            assert same(fast, decoded), layout.description
            view = memoryview(b"xy" + payload)
            assert same(layout._fast_decode(view, 2), decoded)
            assert same(layout.decode_at(view, 2), decoded) and same(layout.decode(bytearray(payload)), decoded)


def test_damaged_payloads_are_refused_exactly_when_the_reference_refuses_them() -> None:
    rng = random.Random(3)
    refused = accepted = 0
    for layout in random_layouts(3, 150):
        seed = layout.encode(random_value(rng, layout.description))
        for _ in range(60):
            payload = bytearray(seed)
            for _ in range(rng.randrange(1, 4)):
                action = rng.randrange(4)
                if action == 0 and payload:
                    payload[rng.randrange(len(payload))] = rng.choice([0, 1, 2, 255, rng.randrange(256)])
                elif action == 1 and payload:
                    del payload[rng.randrange(len(payload)):]
                elif action == 2 and payload:
                    del payload[rng.randrange(len(payload))]
                else:
                    payload += rng.randbytes(rng.randrange(1, 4))
            data = bytes(payload)
            expected = reference_decode(layout, data)
            got = outcome(lambda: layout._fast_decode(data, 0))
            if expected is LayoutError:
                refused += 1
                assert got is LayoutError, (layout.description, data.hex())
                with pytest.raises(LayoutError):
                    layout.decode(memoryview(data))
            else:
                accepted += 1
                assert same(got, expected), (layout.description, data.hex())
    assert refused > 1000 and accepted > 100


class Color(enum.IntEnum):
    RED = 1


class Weird(float):
    pass


JUNK = [None, True, False, 0, 1, 2, -1, 1 << 64, -(1 << 63) - 1, 0.5, float("nan"), 1e300, "x", "", "\ud800",
        b"x", bytearray(b"y"), memoryview(b"z"), [], [1], (1, 2), {}, {"x": 1}, Color.RED, Weird(1.5), object(),
        [True, 0], [0.5], ["a"], [None]]


def mutate(rng: random.Random, value: Any) -> Any:
    """@value (plain: dicts, lists, scalars) with one thing somewhere replaced by junk."""
    if isinstance(value, dict) and value and rng.random() < 0.8:
        key = rng.choice(list(value))
        copy = dict(value)
        if rng.random() < 0.1:
            del copy[key]
        else:
            copy[key] = mutate(rng, value[key])
        return copy
    if isinstance(value, list) and value and rng.random() < 0.8:
        index = rng.randrange(len(value))
        copy = list(value)
        copy[index] = mutate(rng, value[index])
        return tuple(copy) if rng.random() < 0.1 else copy
    return rng.choice(JUNK)


def test_values_that_do_not_fit_are_refused_exactly_when_the_reference_refuses_them() -> None:
    rng = random.Random(4)
    refused = 0
    for layout in random_layouts(4, 150):
        for _ in range(30):
            value = mutate(rng, random_value(rng, layout.description))
            if rng.random() < 0.5:
                value = outcome(lambda: layout.decode(layout.encode(value))) if rng.random() < 0.3 else value
            expected = reference_encode(layout, value)
            got = outcome(lambda: layout._fast_encode(value, b""))
            if got is not LayoutError:
                assert got == expected, (layout.description, value)
            if expected is LayoutError:
                refused += 1
                with pytest.raises(LayoutError):
                    layout.encode(value)
            elif isinstance(expected, type):
                with pytest.raises(expected):
                    layout.encode(value)
            else:
                assert layout.encode(value) == expected
    assert refused > 500


def test_what_the_generated_codec_leaves_to_the_reference_still_encodes() -> None:
    """Values the reference codec takes but the generated one does not look at (tuples,
    int subclasses, 0 and 1 for bools, Mappings that are not dicts, memoryviews)."""
    layout = Layout(EVERY_KIND)
    value = to_plain(layout.new(text="t", blob=b"ab", words=["a"], bits=[True], triple=[1, 2, 3]))
    payload = layout.encode(value)
    assert layout.encode(dict(value, bits=(1,), triple=(1, 2, Color.RED + 2), blob=memoryview(b"ab"))) == payload
    assert layout.encode(dict(value, f64=Weird(0.0), bool=0, u8=Color.RED - 1)) == payload
    with pytest.raises(LayoutError, match=r"^Every\.bits\[0\]: a bool needs True or False, not 2$"):
        layout.encode(dict(value, bits=[2]))
    with pytest.raises(LayoutError, match=r"^Every\.u32: u32 needs an int, not True$"):
        layout.encode(dict(value, u32=True))


# -- frames ---------------------------------------------------------------------------------

def image_contract() -> Contract:
    return Contract({"manifest_version": 1, "events": [
        {"name": "Image", "topic": {"hex": b"Image".hex()}, "codec": "reflective", "layout": IMAGE},
        {"name": "Text", "topic": {"hex": b"Tx".hex()}, "codec": "text"}]})


def test_frames_decode_from_any_buffer_with_the_same_errors() -> None:
    contract = image_contract()
    frame = contract.encode("Image", camera=3, pixels=b"\x00\x01\x02")
    assert frame == b"Image" + bytes.fromhex("03000000" "03000000" "000102")
    strided = bytearray(2 * len(frame))
    strided[::2] = frame  # a view of every other byte: not contiguous, read as bytes(frame) reads it
    buffers = (frame, bytearray(frame), memoryview(frame), zmq.Frame(frame), memoryview(frame).cast("B", (len(frame),)),
               memoryview(strided)[::2])
    for buffer in buffers:
        assert contract.typed(buffer) == contract.new("Image", camera=3, pixels=b"\x00\x01\x02")
        assert contract.decode(buffer).name == "Image" and contract.event_of_frame(buffer).name == "Image"
    assert contract.typed(memoryview(b"TxH\xe9")).value == "H\udce9"
    for buffer in (frame[:-1], memoryview(frame[:-1])):
        with pytest.raises(ContractError, match=r"^Image\.pixels: length 3, only 2 bytes left$"):
            contract.typed(buffer)
    with pytest.raises(ContractError, match=r"^the frame b'Imag' starts with the topic of no event"):
        contract.typed(memoryview(b"Imag"))


def peak_allocation(call: Callable[[], Any]) -> int:
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        result = call()
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    del result
    return peak


def test_a_large_frame_is_copied_once_each_way() -> None:
    """Decoding a 4 MiB image from a view of its frame copies the pixels out once (not the
    frame first); encoding writes topic and payload into the frame once."""
    contract = image_contract()
    size = 4 << 20
    pixels = bytes(range(256)) * (size // 256)
    image = contract.new("Image", camera=1, pixels=pixels)
    frame = contract.encode(image)
    view = memoryview(frame)
    assert contract.typed(view).pixels == pixels
    assert peak_allocation(lambda: contract.typed(view)) < size * 1.2
    assert peak_allocation(lambda: contract.typed(zmq.Frame(frame))) < size * 1.2
    strided = bytearray(2 * len(frame))
    strided[::2] = frame
    assert contract.typed(memoryview(strided)[::2]).pixels == pixels  # not contiguous: copied, as before
    assert peak_allocation(lambda: contract.typed(frame)) < size * 1.2
    assert peak_allocation(lambda: contract.encode(image)) < size * 1.2


def test_byte_views_decode_bytes_members_without_a_copy() -> None:
    """Contract(byte_views=True): a bytes member is a read-only view of the frame, of whatever
    size, and encodes back as bytes would."""
    contract = Contract(image_contract().manifest, byte_views=True)
    size = 4 << 20
    pixels = bytes(range(256)) * (size // 256)
    frame = contract.encode("Image", camera=2, pixels=pixels)
    for buffer in (frame, memoryview(frame), zmq.Frame(frame)):
        image = contract.typed(buffer)
        assert type(image.pixels) is memoryview and image.pixels.readonly and image.pixels == pixels
        assert contract.encode(image) == frame
    assert contract.typed(frame).pixels.obj is frame
    assert peak_allocation(lambda: contract.typed(frame)) < 64 << 10
    assert contract.decode(bytearray(frame)).value.pixels.readonly
    with pytest.raises(ContractError, match=r"^Image\.pixels: length 4194304, only 4194303 bytes left$"):
        contract.typed(memoryview(frame)[:-1])
    plain = image_contract().typed(frame)
    assert type(plain.pixels) is bytes and plain.pixels == pixels
