"""The event graph of an application, from its manifest, as Mermaid or Graphviz DOT.

The manifest (``docs/protocol.md``, "Manifest") lists every plugin with the
events it subscribes to and publishes.  The graph has one node per plugin
(external plugins drawn differently and marked "external") and one labelled edge
per event and publisher→subscriber pair.  An event published by a plugin that no
plugin subscribes to goes to a dangling marker "nobody subscribes"; one
subscribed to that no plugin publishes comes from "nobody publishes" (a process on
the application's publish or subscribe port may be the other end)::

    manifest = json.load(open("seed.manifest.json"))
    print(to_mermaid(manifest))
    open("seed.dot", "w").write(to_dot(manifest))

These are pure functions of the manifest (a ``dict`` as ``json.load`` returns
it): no sockets, no files.  ``python3 -m pyevents.graph [--format dot|mermaid]
MANIFEST.json`` prints either form.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence

__all__ = ["Edge", "edges", "to_dot", "to_mermaid", "main"]

#: Node id of the marker for events nobody publishes / nobody subscribes to.
NO_PUBLISHER = "no_publisher"
NO_SUBSCRIBER = "no_subscriber"


@dataclass(frozen=True)
class Edge:
    """One event flowing from a publisher to a subscriber.

    ``source`` or ``target`` is ``None`` for the dangling end of an event nobody
    publishes or nobody subscribes to.
    """

    source: Optional[str]
    target: Optional[str]
    event: str


def _plugins(manifest: Mapping[str, Any]) -> List[Mapping[str, Any]]:
    plugins = manifest.get("plugins")
    if not isinstance(plugins, list):
        raise ValueError("not an event_engine manifest: it has no 'plugins' list")
    return plugins


def edges(manifest: Mapping[str, Any]) -> List[Edge]:
    """Every edge of the graph, in the order of the manifest's events, then plugins."""
    plugins = _plugins(manifest)
    names = [e["name"] for e in manifest.get("events", [])]
    for plugin in plugins:  # events a plugin names that the list lacks (never, from the engine)
        for name in list(plugin.get("publishes", [])) + list(plugin.get("subscribes", [])):
            if name not in names:
                names.append(name)
    result: List[Edge] = []
    for event in names:
        publishers = [p["name"] for p in plugins if event in p.get("publishes", [])]
        subscribers = [p["name"] for p in plugins if event in p.get("subscribes", [])]
        if not publishers and not subscribers:
            continue  # an event no plugin uses: not part of the graph
        for publisher in publishers or [None]:
            for subscriber in subscribers or [None]:
                result.append(Edge(publisher, subscriber, event))
    return result


def _ids(manifest: Mapping[str, Any]) -> Dict[str, str]:
    """A safe node id per plugin name (names may hold any characters)."""
    return {p["name"]: f"p{i}" for i, p in enumerate(_plugins(manifest))}


def _mermaid_text(text: str) -> str:
    return '"' + text.replace('"', "#quot;") + '"'


def to_mermaid(manifest: Mapping[str, Any]) -> str:
    """The graph as a Mermaid flowchart (``flowchart LR``), e.g. for Markdown."""
    ids = _ids(manifest)
    lines = ["flowchart LR"]
    for plugin in _plugins(manifest):
        node = ids[plugin["name"]]
        if plugin.get("kind") == "external":
            label = f'{plugin["name"]}<br/><i>external</i>'
            lines.append(f"    {node}[[{_mermaid_text(label)}]]")
        else:
            lines.append(f"    {node}({_mermaid_text(plugin['name'])})")
    graph_edges = edges(manifest)
    if any(e.source is None for e in graph_edges):
        lines.append(f"    {NO_PUBLISHER}(({_mermaid_text('nobody publishes')}))")
    if any(e.target is None for e in graph_edges):
        lines.append(f"    {NO_SUBSCRIBER}(({_mermaid_text('nobody subscribes')}))")
    for edge in graph_edges:
        source = NO_PUBLISHER if edge.source is None else ids[edge.source]
        target = NO_SUBSCRIBER if edge.target is None else ids[edge.target]
        arrow = "-.->" if edge.source is None or edge.target is None else "-->"
        lines.append(f"    {source} {arrow}|{_mermaid_text(edge.event)}| {target}")
    if any(p.get("kind") == "external" for p in _plugins(manifest)):
        external = ",".join(ids[p["name"]] for p in _plugins(manifest) if p.get("kind") == "external")
        lines.append("    classDef external stroke-dasharray: 5 5")
        lines.append(f"    class {external} external")
    return "\n".join(lines) + "\n"


def _dot_text(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(manifest: Mapping[str, Any], name: str = "event_graph") -> str:
    """The graph in Graphviz DOT (``dot -Tsvg``): plugins as boxes, external ones
    dashed and marked, events as edge labels, dangling ends as small grey points."""
    ids = _ids(manifest)
    lines = [
        f"digraph {_dot_text(name)} {{",
        "    rankdir=LR;",
        '    node [shape=box, style="rounded", fontname="Helvetica"];',
        '    edge [fontname="Helvetica", fontsize=10];',
    ]
    for plugin in _plugins(manifest):
        node = ids[plugin["name"]]
        if plugin.get("kind") == "external":
            label = _dot_text(plugin["name"])[:-1] + '\\n(external)"'  # a DOT line break, not an escaped one
            lines.append(f'    {node} [label={label}, style="rounded,dashed"];')
        else:
            lines.append(f"    {node} [label={_dot_text(plugin['name'])}];")
    graph_edges = edges(manifest)
    dangling = 'shape=plaintext, fontcolor=grey40, fontsize=10'
    if any(e.source is None for e in graph_edges):
        lines.append(f'    {NO_PUBLISHER} [label="nobody publishes", {dangling}];')
    if any(e.target is None for e in graph_edges):
        lines.append(f'    {NO_SUBSCRIBER} [label="nobody subscribes", {dangling}];')
    for edge in graph_edges:
        source = NO_PUBLISHER if edge.source is None else ids[edge.source]
        target = NO_SUBSCRIBER if edge.target is None else ids[edge.target]
        style = ", style=dashed, color=grey40" if edge.source is None or edge.target is None else ""
        lines.append(f"    {source} -> {target} [label={_dot_text(edge.event)}{style}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: Optional[Sequence[str]] = None) -> int:
    """``python3 -m pyevents.graph [--format dot|mermaid] MANIFEST.json`` ("-": stdin)."""
    parser = argparse.ArgumentParser(prog="python3 -m pyevents.graph", description=__doc__.splitlines()[0])
    parser.add_argument("manifest", help="the manifest's file (app_config::manifest_path), or - for stdin")
    parser.add_argument("--format", choices=["dot", "mermaid"], default="mermaid")
    args = parser.parse_args(argv)
    if args.manifest == "-":
        manifest = json.load(sys.stdin)
    else:
        with open(args.manifest, encoding="utf-8") as file:
            manifest = json.load(file)
    sys.stdout.write(to_dot(manifest) if args.format == "dot" else to_mermaid(manifest))
    return 0


if __name__ == "__main__":
    sys.exit(main())
