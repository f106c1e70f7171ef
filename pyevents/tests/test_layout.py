"""pyevents.layout against the C++ reflective_codec (docs/layout.md).

The cross-language tests run the C++ program named by EVENT_ENGINE_LAYOUT_SAMPLES
(tests/layout/layout_samples.cpp, the ctest layout.pytest sets it): it prints sample
events encoded by reflective_codec with their layout descriptions and values. Each
payload must decode here, from the description alone, to that value field for field,
and encode back to the same bytes. Without the variable those tests are skipped; the
round trips of random values and random layouts, and the rejections, run anyway.
"""

from __future__ import annotations

import json
import math
import os
import random
import struct
import subprocess
from typing import Any

import pytest

from pyevents.layout import Layout, LayoutError, decode, encode, to_plain

SAMPLES_PROGRAM = os.environ.get("EVENT_ENGINE_LAYOUT_SAMPLES")

POINT = {"kind": "struct", "name": "Point", "members": [
    {"name": "x", "type": {"kind": "f32"}}, {"name": "y", "type": {"kind": "f32"}}]}
READING = {"kind": "struct", "name": "Reading", "members": [
    {"name": "sensor", "type": {"kind": "u32"}},
    {"name": "celsius", "type": {"kind": "f64"}},
    {"name": "valid", "type": {"kind": "bool"}}]}
LEVEL = {"kind": "enum", "name": "Level", "element": [{"kind": "i16"}]}
TELEMETRY = {"kind": "struct", "name": "Telemetry", "members": [
    {"name": "id", "type": {"kind": "u32"}},
    {"name": "values", "type": {"kind": "vector", "element": [{"kind": "f64"}]}},
    {"name": "level", "type": {"kind": "optional", "element": [LEVEL]}}]}
PLAIN = {"kind": "struct", "name": "Plain", "members": [
    {"name": "0", "type": {"kind": "i32"}},
    {"name": "1", "type": {"kind": "string"}},
    {"name": "2", "type": {"kind": "vector", "element": [POINT]}},
    {"name": "3", "type": {"kind": "optional", "element": [LEVEL]}},
    {"name": "4", "type": {"kind": "array", "extent": 2, "element": [{"kind": "i64"}]}}]}
WORDS = {"kind": "struct", "name": "Words", "members": [
    {"name": "words", "type": {"kind": "vector", "element": [{"kind": "string"}]}}]}
SCALAR_KINDS = ["i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "f32", "f64", "bool"]
EVERY_KIND = {"kind": "struct", "name": "Every", "members": [
    *({"name": kind, "type": {"kind": kind}} for kind in SCALAR_KINDS),
    {"name": "level", "type": LEVEL},
    {"name": "text", "type": {"kind": "string"}},
    {"name": "blob", "type": {"kind": "bytes"}},
    {"name": "words", "type": {"kind": "vector", "element": [{"kind": "string"}]}},
    {"name": "bits", "type": {"kind": "vector", "element": [{"kind": "bool"}]}},
    {"name": "maybe", "type": {"kind": "optional", "element": [POINT]}},
    {"name": "corners", "type": {"kind": "array", "extent": 2, "element": [POINT]}},
    {"name": "triple", "type": {"kind": "array", "extent": 3, "element": [{"kind": "u16"}]}},
    {"name": "matrix", "type": {"kind": "vector", "element": [{"kind": "vector", "element": [{"kind": "f64"}]}]}},
    {"name": "readings", "type": {"kind": "vector", "element": [READING]}},
    {"name": "class", "type": {"kind": "u8"}}]}


# -- against the C++ codec ---------------------------------------------------------------

@pytest.fixture(scope="module")
def cpp_samples() -> list[dict[str, Any]]:
    if not SAMPLES_PROGRAM:
        pytest.skip("EVENT_ENGINE_LAYOUT_SAMPLES (the ee_layout_samples program) is not set; ctest sets it")
    output = subprocess.run([SAMPLES_PROGRAM], check=True, capture_output=True, timeout=60).stdout
    return json.loads(output)["samples"]


def as_json_value(value: Any) -> Any:
    """A decoded value in the samples program's JSON terms: bytes as hex."""
    plain = to_plain(value)
    if isinstance(plain, dict):
        return {key: as_json_value(item) for key, item in plain.items()}
    if isinstance(plain, list):
        return [as_json_value(item) for item in plain]
    if isinstance(plain, bytes):
        return plain.hex()
    return plain


def test_cpp_samples_decode_field_for_field_and_encode_to_the_same_bytes(cpp_samples: list[dict[str, Any]]) -> None:
    names = [sample["event"] for sample in cpp_samples]
    assert {"Everything", "Telemetry", "Person", "Plain", "Reading", "Ping"} <= set(names)
    for sample in cpp_samples:
        layout = Layout(sample["layout"])
        payload = bytes.fromhex(sample["payload"])
        event = layout.decode(payload)
        assert type(event).__name__ == sample["event"]
        assert as_json_value(event) == sample["value"], sample["event"]
        assert layout.encode(event) == payload, sample["event"]
        # A dict by member name encodes the same.
        assert layout.encode(to_plain(event)) == payload, sample["event"]


def test_cpp_sample_descriptions_match_the_ones_written_here(cpp_samples: list[dict[str, Any]]) -> None:
    by_name = {sample["event"]: sample["layout"] for sample in cpp_samples}
    assert by_name["Telemetry"] == TELEMETRY
    assert by_name["Plain"] == PLAIN
    assert by_name["Reading"] == READING


def test_cpp_samples_every_member_read(cpp_samples: list[dict[str, Any]]) -> None:
    everything = next(s for s in cpp_samples if s["event"] == "Everything")
    event = Layout(everything["layout"]).decode(bytes.fromhex(everything["payload"]))
    assert event.i8 == -128 and event.u64 == 0x0102030405060708 and event.f32 == 1.5
    assert event.text == "héllo"
    assert event.blob == b"\x00\xff" and event.octets == b"\x01\x02\x03"
    assert event.bits == [True, False, True]
    assert event.maybe == 7 and event.where is None
    assert event.corners[1].y == 4.0 and event.samples[1].valid is False
    assert event.notes == [None, "note"] and event.matrix == [[1.0, 2.0], [], [3.0]]
    assert event.level == -1 and event.flags == 1 << 31


# -- the layout by hand --------------------------------------------------------------------

def test_golden_bytes() -> None:
    reading = Layout(READING)
    assert reading.encode(reading.new(sensor=7, celsius=21.5, valid=True)).hex() == "07000000000000000080354001"
    assert encode(TELEMETRY, {"id": 0x01020304, "values": [1.0], "level": 2}).hex() == (
        "04030201" "01000000" "000000000000f03f" "01" "0200")
    plain = Layout(PLAIN)
    assert plain.encode(plain.new(_0=1, _2=[{"x": 1.0, "y": 2.0}], _4=[-1, 2])).hex() == (
        "01000000" "00000000" "01000000" "0000803f" "00000040" "00" "ffffffffffffffff" "0200000000000000")


def test_dataclasses_generated_from_the_description() -> None:
    plain = Layout(PLAIN)
    event = plain.new()
    assert type(event).__name__ == "Plain"
    assert (event._0, event._1, event._2, event._3, event._4) == (0, "", [], None, [0, 0])
    assert to_plain(event) == {"0": 0, "1": "", "2": [], "3": None, "4": [0, 0]}
    every = Layout(EVERY_KIND).new()
    assert every._class == 0  # a keyword as a member name
    assert every.corners[0].x == 0.0 and every.corners[0] is not every.corners[1]


@pytest.mark.parametrize("description, payload, message", [
    (READING, "070000000000000000803540", "Reading.valid: needs 1 byte, only 0 bytes left"),
    (READING, "0700", "Reading.sensor: needs 4 bytes, only 2 bytes left"),
    (READING, "0700000000000000008035400100", "Reading: 1 byte left after the last member"),
    (READING, "07000000000000000080354002", "Reading.valid: a bool must be byte 0 or 1, got 2"),
    (TELEMETRY, "000000000000000007", "Telemetry.level: an optional's tag must be byte 0 or 1, got 7"),
    (TELEMETRY, "00000000000000000100", "Telemetry.level: needs 2 bytes, only 1 byte left"),
    (TELEMETRY, "00000000" "05000000" + "00" * 8, "Telemetry.values: length 5 needs at least 40 bytes, only 8 bytes left"),
    (PLAIN, "01000000" "00000000" "02000000" "0000803f" "00000040" "00004040" "0000",
     "Plain.2: length 2 needs at least 16 bytes, only 14 bytes left"),
    (WORDS, "02000000" "01000000" "61" "05000000", "Words.words[1]: length 5, only 0 bytes left"),
    (PLAIN, "01000000" "04000000" "616263", "Plain.1: length 4, only 3 bytes left"),
])
def test_rejections_name_the_member_as_the_cpp_codec_does(description: dict, payload: str, message: str) -> None:
    with pytest.raises(LayoutError) as raised:
        decode(description, bytes.fromhex(payload))
    assert str(raised.value) == message


@pytest.mark.parametrize("value, message", [
    ({"sensor": -1, "celsius": 0.0, "valid": True}, "Reading.sensor: -1 does not fit u32"),
    ({"sensor": 1, "celsius": "hot", "valid": True}, "Reading.celsius: f64 needs a number, not 'hot'"),
    ({"sensor": 1, "celsius": 0.0, "valid": 2}, "Reading.valid: a bool needs True or False, not 2"),
    ({"sensor": 1, "celsius": 0.0}, "Reading.valid: missing from the dict"),
])
def test_encoding_refuses_values_that_do_not_fit(value: dict, message: str) -> None:
    with pytest.raises(LayoutError) as raised:
        encode(READING, value)
    assert str(raised.value) == message


def test_encoding_checks_array_extents_and_element_paths() -> None:
    plain = Layout(PLAIN)
    with pytest.raises(LayoutError, match=r"^Plain\.4: an array of 2 elements, got 3$"):
        plain.encode(plain.new(_4=[1, 2, 3]))
    with pytest.raises(LayoutError, match=r"^Plain\.2\[1\]\.x: f32 needs a number, not None$"):
        plain.encode(plain.new(_2=[{"x": 1.0, "y": 1.0}, {"x": None, "y": 1.0}]))


def test_malformed_descriptions_are_refused() -> None:
    with pytest.raises(LayoutError, match="unknown kind 'i128'"):
        Layout({"kind": "struct", "name": "X", "members": [{"name": "a", "type": {"kind": "i128"}}]})
    with pytest.raises(LayoutError, match="needs 'element'"):
        Layout({"kind": "vector"})
    with pytest.raises(LayoutError, match="at least one byte"):
        Layout({"kind": "vector", "element": [{"kind": "struct", "name": "Empty", "members": []}]})


def test_strings_that_are_not_utf8_come_back_unchanged() -> None:
    description = {"kind": "string"}
    payload = b"\x03\x00\x00\x00\xff\xfeA"
    text = decode(description, payload)
    assert encode(description, text) == payload


# -- random values and random layouts ----------------------------------------------------

def random_value(rng: random.Random, desc: dict[str, Any]) -> Any:
    kind = desc["kind"]
    if kind[0] in "iu" and kind[1:].isdigit():
        bits = int(kind[1:])
        return rng.randrange(-(1 << (bits - 1)), 1 << (bits - 1)) if kind[0] == "i" else rng.randrange(1 << bits)
    if kind == "f32":
        return struct.unpack("<f", struct.pack("<f", rng.uniform(-1e30, 1e30)))[0]
    if kind == "f64":
        return rng.choice([rng.uniform(-1e300, 1e300), 0.0, -0.0, math.inf, 5e-324])
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "enum":
        return random_value(rng, desc["element"][0])
    if kind == "string":
        return "".join(rng.choice(["a", "é", "€", "𝄞", "\udcff", "\x00"]) for _ in range(rng.randrange(6)))
    if kind == "bytes":
        return rng.randbytes(rng.randrange(8))
    if kind == "vector":
        return [random_value(rng, desc["element"][0]) for _ in range(rng.randrange(4))]
    if kind == "optional":
        return None if rng.random() < 0.4 else random_value(rng, desc["element"][0])
    if kind == "array":
        return [random_value(rng, desc["element"][0]) for _ in range(desc["extent"])]
    assert kind == "struct"
    return {member["name"]: random_value(rng, member["type"]) for member in desc["members"]}


def random_layout(rng: random.Random, depth: int = 0) -> dict[str, Any]:
    simple = SCALAR_KINDS + ["string", "bytes"]
    choice = rng.randrange(10) if depth < 3 else 0
    if choice < 4:
        return {"kind": rng.choice(simple)}
    if choice == 4:
        return {"kind": "enum", "name": "E", "element": [{"kind": rng.choice(SCALAR_KINDS[:8])}]}
    if choice == 5:
        return {"kind": "vector", "element": [random_layout(rng, depth + 1)]}
    if choice == 6:
        return {"kind": "optional", "element": [random_layout(rng, depth + 1)]}
    if choice == 7:
        return {"kind": "array", "extent": rng.randrange(1, 4), "element": [random_layout(rng, depth + 1)]}
    members = [{"name": f"m{i}", "type": random_layout(rng, depth + 1)} for i in range(rng.randrange(1, 5))]
    return {"kind": "struct", "name": f"S{depth}", "members": members}


def test_random_values_round_trip() -> None:
    rng = random.Random(20240609)
    for description in [EVERY_KIND, PLAIN, TELEMETRY, READING]:
        layout = Layout(description)
        for _ in range(200):
            value = random_value(rng, description)
            payload = layout.encode(value)
            decoded = layout.decode(payload)
            assert to_plain(decoded) == value
            assert layout.encode(decoded) == payload


def test_random_layouts_round_trip() -> None:
    rng = random.Random(7)
    for _ in range(300):
        description = {"kind": "struct", "name": "Top", "members": [
            {"name": f"m{i}", "type": random_layout(rng)} for i in range(rng.randrange(1, 6))]}
        try:
            layout = Layout(description)
        except LayoutError as error:  # a vector of zero-size elements: refused, as in C++
            assert "at least one byte" in str(error)
            continue
        for _ in range(5):
            value = random_value(rng, description)
            payload = layout.encode(value)
            assert to_plain(layout.decode(payload)) == value
            assert layout.encode(layout.decode(payload)) == payload


def has_nan(value: Any) -> bool:
    if isinstance(value, dict):
        return any(has_nan(item) for item in value.values())
    if isinstance(value, list):
        return any(has_nan(item) for item in value)
    return isinstance(value, float) and math.isnan(value)


def test_random_bytes_decode_or_fail_cleanly() -> None:
    rng = random.Random(11)
    layout = Layout(EVERY_KIND)
    seed = layout.encode(random_value(rng, EVERY_KIND))
    decoded = 0
    for _ in range(2000):
        payload = bytearray(seed)
        for _ in range(rng.randrange(1, 4)):
            action = rng.randrange(3)
            if action == 0 and payload:
                payload[rng.randrange(len(payload))] = rng.randrange(256)
            elif action == 1 and payload:
                del payload[rng.randrange(len(payload)):]
            else:
                payload += rng.randbytes(rng.randrange(1, 4))
        try:
            value = layout.decode(bytes(payload))
        except LayoutError as error:
            assert str(error).startswith("Every")
            continue
        decoded += 1
        # One encoding per value (canonical), but for a signalling NaN in an f32, which
        # Python's float conversion may quiet.
        assert layout.encode(value) == bytes(payload) or has_nan(to_plain(value))
    assert decoded > 0
