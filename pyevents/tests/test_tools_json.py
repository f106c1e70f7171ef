"""``echo --json`` (pyevents.tools.event_json) writes strict JSON: a float that is not finite
is the string "NaN", "Infinity" or "-Infinity" (docs/python.md), never the bare NaN/Infinity
tokens Python's json module writes by default and strict parsers reject.  The frames are made
with the real codec (pyevents.layout) from a manifest."""

from __future__ import annotations

import json
import math

import pytest

from pyevents import Contract, tools


def strict_loads(text: str):  # type: ignore[no-untyped-def]
    def refuse(token: str) -> None:
        raise ValueError(f"not strict JSON: {token}")
    return json.loads(text, parse_constant=refuse)


LAYOUT = {"kind": "struct", "name": "Sample", "members": [
    {"name": "value", "type": {"kind": "f64"}},
    {"name": "narrow", "type": {"kind": "f32"}},
    {"name": "series", "type": {"kind": "vector", "element": [{"kind": "f64"}]}},
    {"name": "maybe", "type": {"kind": "optional", "element": [{"kind": "f64"}]}}]}

MANIFEST = {
    "manifest_version": 1,
    "events": [{"name": "Sample", "topic": {"hex": b"Sample".hex(), "text": "Sample"}, "codec": "reflective",
                "layout": LAYOUT}],
    "plugins": [],
    "endpoints": {"bind_address": "127.0.0.1", "publish": None, "subscribe": None, "introspection": None},
    "curve": {"required": False, "server_public_key": None},
}


def test_non_finite_floats_are_strings_in_strict_json() -> None:
    contract = Contract(MANIFEST)
    event = contract.event("Sample")
    frame = event.topic + event.encode_payload(
        {"value": math.nan, "narrow": -math.inf, "series": [1.5, math.inf, -math.inf, math.nan], "maybe": math.inf})
    record = strict_loads(tools.event_json(contract, frame))
    assert record["value"] == {"value": "NaN", "narrow": "-Infinity",
                               "series": [1.5, "Infinity", "-Infinity", "NaN"], "maybe": "Infinity"}
    assert strict_loads(tools.event_text(contract, frame)[len("Sample "):]) == record["value"]
    # pub --json reads them back: the same frame.
    again = event.encode_payload(tools._from_json(LAYOUT, record["value"], "Sample"))
    assert again == frame[len(event.topic):]


@pytest.mark.parametrize("value", [0.0, -0.0, 1e308, -2.5])
def test_finite_floats_are_numbers(value: float) -> None:
    contract = Contract(MANIFEST)
    event = contract.event("Sample")
    frame = event.topic + event.encode_payload({"value": value, "narrow": 0.0, "series": [], "maybe": None})
    assert strict_loads(tools.event_json(contract, frame))["value"]["value"] == value
