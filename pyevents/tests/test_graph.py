"""pyevents.graph: the event graph from a manifest, as Mermaid and DOT (pure functions)."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from typing import Any, Dict

import pytest

from pyevents import graph
from pyevents.graph import Edge, edges, to_dot, to_mermaid


def seed_manifest() -> Dict[str, Any]:
    """The seed example's manifest, as the engine writes it (endpoints left out)."""
    return {
        "manifest_version": 1,
        "events": [
            {"name": "TypeA", "topic": {"hex": "5479706541", "text": "TypeA"}, "codec": "text"},
            {"name": "TypeB", "topic": {"hex": "5479706542", "text": "TypeB"}, "codec": "custom"},
            {"name": "TypeC", "topic": {"hex": "5479706543", "text": "TypeC"}, "codec": "text"},
        ],
        "plugins": [
            {"name": "MsgProducer", "kind": "internal", "subscribes": ["TypeB", "TypeC"], "publishes": ["TypeA"]},
            {"name": "Counter", "kind": "internal", "subscribes": ["TypeA"], "publishes": ["TypeB"]},
            {"name": "pyplugin", "kind": "external", "subscribes": ["TypeA", "TypeB"], "publishes": ["TypeC"],
             "port": 6000, "endpoint": "tcp://127.0.0.1:6000", "curve": False},
        ],
    }


def dangling_manifest() -> Dict[str, Any]:
    return {
        "manifest_version": 1,
        "events": [{"name": "Out"}, {"name": "In"}, {"name": "Unused"}],
        "plugins": [{"name": 'odd "name"', "kind": "internal", "subscribes": ["In"], "publishes": ["Out"]}],
    }


def test_edges_of_the_seed_example() -> None:
    assert edges(seed_manifest()) == [
        Edge("MsgProducer", "Counter", "TypeA"),
        Edge("MsgProducer", "pyplugin", "TypeA"),
        Edge("Counter", "MsgProducer", "TypeB"),
        Edge("Counter", "pyplugin", "TypeB"),
        Edge("pyplugin", "MsgProducer", "TypeC"),
    ]


def test_dangling_events_have_a_marker_end_and_unused_events_no_edge() -> None:
    assert edges(dangling_manifest()) == [Edge('odd "name"', None, "Out"), Edge(None, 'odd "name"', "In")]


def test_mermaid_of_the_seed_example() -> None:
    assert to_mermaid(seed_manifest()) == (
        "flowchart LR\n"
        '    p0("MsgProducer")\n'
        '    p1("Counter")\n'
        '    p2[["pyplugin<br/><i>external</i>"]]\n'
        '    p0 -->|"TypeA"| p1\n'
        '    p0 -->|"TypeA"| p2\n'
        '    p1 -->|"TypeB"| p0\n'
        '    p1 -->|"TypeB"| p2\n'
        '    p2 -->|"TypeC"| p0\n'
        "    classDef external stroke-dasharray: 5 5\n"
        "    class p2 external\n"
    )


def test_mermaid_marks_dangling_ends_and_quotes_names() -> None:
    text = to_mermaid(dangling_manifest())
    assert '    p0("odd #quot;name#quot;")\n' in text
    assert '    no_subscriber(("nobody subscribes"))\n' in text
    assert '    no_publisher(("nobody publishes"))\n' in text
    assert '    p0 -.->|"Out"| no_subscriber\n' in text
    assert '    no_publisher -.->|"In"| p0\n' in text
    assert "Unused" not in text


def test_dot_of_the_seed_example() -> None:
    assert to_dot(seed_manifest()) == (
        'digraph "event_graph" {\n'
        "    rankdir=LR;\n"
        '    node [shape=box, style="rounded", fontname="Helvetica"];\n'
        '    edge [fontname="Helvetica", fontsize=10];\n'
        '    p0 [label="MsgProducer"];\n'
        '    p1 [label="Counter"];\n'
        '    p2 [label="pyplugin\\n(external)", style="rounded,dashed"];\n'
        '    p0 -> p1 [label="TypeA"];\n'
        '    p0 -> p2 [label="TypeA"];\n'
        '    p1 -> p0 [label="TypeB"];\n'
        '    p1 -> p2 [label="TypeB"];\n'
        '    p2 -> p0 [label="TypeC"];\n'
        "}\n"
    )


def test_dot_escapes_names_and_marks_dangling_ends() -> None:
    text = to_dot(dangling_manifest())
    assert '    p0 [label="odd \\"name\\""];\n' in text
    assert '    p0 -> no_subscriber [label="Out", style=dashed, color=grey40];\n' in text
    assert '    no_publisher -> p0 [label="In", style=dashed, color=grey40];\n' in text


@pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz (dot) is not installed")
def test_dot_output_is_valid_graphviz() -> None:
    for manifest in (seed_manifest(), dangling_manifest()):
        result = subprocess.run(["dot", "-Tsvg"], input=to_dot(manifest).encode(), capture_output=True, check=False)
        assert result.returncode == 0, result.stderr
        assert b"<svg" in result.stdout


def test_not_a_manifest_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="no 'plugins' list"):
        to_dot({"events": []})


def test_main_reads_a_file_and_prints_either_form(tmp_path: Any, capsys: Any, monkeypatch: Any) -> None:
    path = tmp_path / "seed.manifest.json"
    path.write_text(json.dumps(seed_manifest()))
    assert graph.main(["--format", "dot", str(path)]) == 0
    assert capsys.readouterr().out == to_dot(seed_manifest())
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(seed_manifest())))
    assert graph.main(["-"]) == 0
    assert capsys.readouterr().out == to_mermaid(seed_manifest())
