"""pyevents.Contract without an engine: a manifest's events as Python (docs/python.md).

The manifest here is written the way the engine writes it (docs/protocol.md, "The
document"); test_contract_apps.py takes real ones from running applications.
"""

from __future__ import annotations

import dataclasses
import json
import re
import struct
from pathlib import Path

import pytest

from pyevents import Contract, ContractError, PluginClient, UntypedEvent
from pyevents.layout import to_plain

REPO = Path(__file__).resolve().parents[2]

POSITION = {"kind": "struct", "name": "Position", "members": [
    {"name": "x", "type": {"kind": "i32"}},
    {"name": "where", "type": {"kind": "struct", "name": "Where", "members": [
        {"name": "site", "type": {"kind": "string"}},
        {"name": "tags", "type": {"kind": "vector", "element": [{"kind": "u16"}]}}]}},
    {"name": "z", "type": {"kind": "optional", "element": [{"kind": "f64"}]}},
    {"name": "level", "type": {"kind": "enum", "name": "Level", "element": [{"kind": "i16"}]}}]}


def event(name, codec, **extra):
    topic = name.encode()
    return {"name": name, "topic": {"hex": topic.hex(), "text": name}, "codec": codec, **extra}


MANIFEST = {
    "manifest_version": 1,
    "events": [
        event("TypeA", "text"),
        event("TypeB", "custom"),
        {"name": "Reading", "topic": {"hex": "0100", "text": "\\x01\\x00"}, "codec": "trivial", "size": 4},
        event("Blob", "bytes"),
        event("Position", "reflective", layout=POSITION),
    ],
    "plugins": [
        {"name": "producer", "kind": "internal", "subscribes": [], "publishes": ["Position"]},
        {"name": "py", "kind": "external", "subscribes": ["Position"], "publishes": ["TypeA"], "port": 6000,
         "endpoint": "tcp://127.0.0.1:6000", "curve": False},
    ],
    "endpoints": {"bind_address": "127.0.0.1",
                  "publish": {"endpoint": "tcp://127.0.0.1:5559", "port": 5559, "curve": False},
                  "subscribe": {"endpoint": None, "port": 5560, "curve": False},
                  "introspection": None},
    "curve": {"required": False, "server_public_key": None},
}

# Position{x = -2, where = {"roof", [1, 513]}, z = 0.5, level = 3}, by hand from docs/layout.md.
POSITION_PAYLOAD = (struct.pack("<i", -2) + struct.pack("<I", 4) + b"roof" + struct.pack("<IHH", 2, 1, 513)
                    + b"\x01" + struct.pack("<d", 0.5) + struct.pack("<h", 3))


@pytest.fixture
def contract():
    return Contract(MANIFEST)


def test_topics_by_event_name(contract):
    assert contract.names == ["TypeA", "TypeB", "Reading", "Blob", "Position"]
    assert contract.topic("Position") == b"Position"
    assert contract.topic("Reading") == b"\x01\x00"
    with pytest.raises(ContractError, match="no event named 'Nope'; its events: TypeA, TypeB, Reading"):
        contract.topic("Nope")


def test_reflective_decode_field_for_field(contract):
    name, position = contract.decode(b"Position" + POSITION_PAYLOAD)
    assert name == "Position"
    assert type(position) is contract.type("Position") and type(position).__name__ == "Position"
    assert (position.x, position.where.site, position.where.tags, position.z, position.level) == (
        -2, "roof", [1, 513], 0.5, 3)
    assert to_plain(position) == {"x": -2, "where": {"site": "roof", "tags": [1, 513]}, "z": 0.5, "level": 3}


def test_reflective_encode_every_way(contract):
    frame = b"Position" + POSITION_PAYLOAD
    position = contract.decode(frame).value
    assert contract.encode(position) == frame
    assert contract.encode("Position", position) == frame
    assert contract.encode("Position", to_plain(position)) == frame
    Where = type(position.where)
    assert contract.encode("Position", x=-2, where=Where(site="roof", tags=[1, 513]), z=0.5, level=3) == frame
    built = contract.new("Position", x=-2, z=0.5, level=3)
    built.where.site, built.where.tags = "roof", [1, 513]
    assert contract.encode(built) == frame
    assert contract.name_of(built) == "Position"


def test_a_dataclass_of_another_load_of_the_manifest(contract):
    other = Contract(json.loads(json.dumps(MANIFEST)))
    position = other.new("Position", x=7)
    assert contract.encode(position) == other.encode(position)
    assert contract.name_of(position) == "Position"


def test_text_bytes_and_raw_codecs(contract):
    assert contract.decode(b"TypeAhello") == ("TypeA", "hello")
    assert contract.decode(b"Blob\x00\xff") == ("Blob", b"\x00\xff")
    assert contract.decode(b"TypeB17") == ("TypeB", b"17")
    assert contract.decode(b"\x01\x00\x2a\x00\x00\x00") == ("Reading", b"\x2a\x00\x00\x00")
    assert contract.encode("TypeA", "hi") == b"TypeAhi"
    assert contract.encode("Blob", b"\x01") == b"Blob\x01"
    assert contract.encode("TypeB", b"17") == b"TypeB17"
    untyped = contract.typed(b"TypeB17")
    assert untyped == UntypedEvent("TypeB", b"17", "custom", contract.event("TypeB").note)
    assert "raw bytes" in untyped.note and "not described" in untyped.note
    assert "C++ ABI" in contract.event("Reading").note and "4 bytes" in contract.event("Reading").note
    assert contract.event("TypeA").note is None and contract.event("Position").note is None
    assert contract.encode(untyped) == b"TypeB17"
    assert contract.typed(b"TypeAhi") == UntypedEvent("TypeA", "hi", "text")
    assert dataclasses.is_dataclass(contract.typed(b"Position" + POSITION_PAYLOAD))


def test_what_does_not_fit_says_where(contract):
    with pytest.raises(ContractError, match=r"Position\.where\.tags: length 9 needs at least 18 bytes"):
        contract.decode(b"Position" + struct.pack("<i", 1) + struct.pack("<I", 0) + struct.pack("<I", 9) + b"\0" * 4)
    with pytest.raises(ContractError, match=r"Position\.x: 4294967296 does not fit i32"):
        contract.encode("Position", x=2 ** 32)
    with pytest.raises(ContractError, match=r"Position: .*unexpected keyword argument 'y'.*its fields: x, where, z"):
        contract.encode("Position", y=1)
    with pytest.raises(ContractError, match="a trivial_codec payload is 4 bytes, got 2"):
        contract.encode("Reading", b"\0\0")
    with pytest.raises(ContractError, match="codec 'custom': give bytes, not str"):
        contract.encode("TypeB", "17")
    with pytest.raises(ContractError, match="starts with the topic of no event"):
        contract.decode(b"Nothing")
    with pytest.raises(ContractError, match="int is not an event of this application"):
        contract.encode(42)
    with pytest.raises(ContractError, match="only reflective events have a dataclass"):
        contract.type("TypeA")


def test_manifest_endpoints_and_plugins(contract):
    assert contract.endpoint_port("publish") == 5559
    assert contract.endpoint_port("subscribe") == 5560
    assert contract.endpoint_port("introspection") is None
    assert not contract.curve_required and contract.server_public_key is None
    assert contract.plugin("py")["port"] == 6000
    with pytest.raises(ContractError, match="no plugin named 'x'; its plugins: producer, py"):
        contract.plugin("x")


def test_load_from_a_file_and_what_is_not_a_manifest(tmp_path):
    path = tmp_path / "app.manifest.json"
    path.write_text(json.dumps(MANIFEST))
    assert Contract.load(path).names == Contract.load(str(path)).names == Contract.load(MANIFEST).names
    with pytest.raises(ContractError, match="cannot read the manifest"):
        Contract.load(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(ContractError, match="is not JSON"):
        Contract.load(tmp_path / "bad.json")
    with pytest.raises(ContractError, match="no 'events' list"):
        Contract({"plugins": []})
    with pytest.raises(ContractError, match="manifest_version 2"):
        Contract(dict(MANIFEST, manifest_version=2))


def test_plugin_client_takes_a_contract_without_connecting(tmp_path):
    path = tmp_path / "app.manifest.json"
    path.write_text(json.dumps(MANIFEST))
    client = PluginClient(6000, contract=str(path))
    try:
        assert client.contract is not None and client.contract.names == Contract(MANIFEST).names
        assert client.decode(b"TypeAhi").payload == b"hi"  # event_names from the contract's topics
    finally:
        client.close()
    plain = PluginClient(6000)
    try:
        with pytest.raises(ValueError, match="needs the application's contract"):
            next(plain.events())
        with pytest.raises(ValueError, match="needs the application's contract"):
            plain.publish_typed("TypeA", "x")
    finally:
        plain.close()
    with pytest.raises(TypeError, match="contract must be a Contract"):
        PluginClient(6000, contract=42)


def _blocks(text: str, language: str):
    return [match.group(1) for match in re.finditer(rf"```{language}\n(.*?)```", text, re.S)]


def _lines(text: str):
    return [line.strip() for line in text.splitlines() if line.strip()]


def _contains(haystack, needle):
    return any(haystack[i:i + len(needle)] == needle for i in range(len(haystack) - len(needle) + 1))


def test_docs_python_md_shows_the_code_the_example_runs():
    """Every python block of docs/python.md is in examples/pipeline/analyst.py, line for line, and
    every cpp block in the pipeline's C++ sources (as tests/docs/check_snippets.py does for C++):
    the typed plugin the docs teach is the one example.pipeline runs. Snippets beside the
    walk-through are marked `py` and compile."""
    doc = (REPO / "docs" / "python.md").read_text()
    analyst = _lines((REPO / "examples" / "pipeline" / "analyst.py").read_text())
    cpp = [_lines((REPO / "examples" / "pipeline" / name).read_text()) for name in ("events.hpp", "main.cpp")]
    python_blocks, cpp_blocks = _blocks(doc, "python"), _blocks(doc, "cpp")
    assert python_blocks and cpp_blocks
    for block in python_blocks:
        assert _contains(analyst, _lines(block)), f"docs/python.md shows code that analyst.py does not have:\n{block}"
    for block in cpp_blocks:
        assert any(_contains(source, _lines(block)) for source in cpp), f"not in the pipeline's sources:\n{block}"
    # Blocks marked `py` are snippets outside the example's walk-through: they must at least compile.
    for block in _blocks(doc, "py"):
        compile(block, "docs/python.md", "exec")
