#!/usr/bin/python3
"""Micro-benchmark of pyevents' typed path: Contract.encode(obj) and Contract.typed(frame).

The events are the pipeline example's (examples/pipeline/events.hpp; their layouts as the
manifest of `pipeline_app --manifest FILE` gives them, copied below and checked against a
real manifest with --manifest) and two more written per docs/layout.md:

* Reading: a nested struct, a vector of structs, an optional string, an array of u8;
* Flat: twelve scalar members (integers, floats, bools, an enum), no length or tag;
* Image: a u32, two u16 and a 1 MiB `bytes` member (std::vector<std::uint8_t>).

Per event it times encode (Contract.encode(obj): the frame, topic then payload),
decode (Contract.typed(frame) of a bytes frame), decode_view (Contract.typed of a
memoryview of it, as a zmq frame received with copy=False gives) and round (decode then
encode: what a typed plugin does per event besides the socket).

Two pyevents packages run alternated, each in its own process, ROUNDS times (before,
after, before, after, ...); the table gives medians of ops/s and after/before ratios.
Each child also prints the SHA-256 of every frame it encoded: both packages must give the
same bytes (the script fails otherwise).

Two more rows decode Image with Contract(byte_views=True), where the pixels are a view of
the frame, not a copy (a package without byte_views decodes those rows as it can).

Times are the child's CPU time by default (--clock wall for elapsed time): steadier on a
machine that other work shares.

Usage: python_typed_bench.py [--before DIR] [--after DIR] [--rounds N] [--seconds S]
                             [--clock cpu|wall] [--manifest pipeline.manifest.json] [--json FILE]
  DIR is a pyevents project directory (the one holding the pyevents package), default
  after = this checkout's pyevents/, before = /tmp/pyevents-before.
Stdlib (and pyzmq, which pyevents imports) only.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict

REPO = Path(__file__).resolve().parents[1]


def _event(name: str, layout: Dict[str, Any]) -> Dict[str, Any]:
    return {"name": name, "topic": {"hex": name.encode().hex(), "text": name}, "codec": "reflective",
            "layout": layout}


def _t(kind: str, **extra: Any) -> Dict[str, Any]:
    return {"kind": kind, **extra}


def _m(name: str, type_: Dict[str, Any]) -> Dict[str, Any]:
    return {"name": name, "type": type_}


# The pipeline example's Reading exactly as pipeline_app's manifest describes it.
READING = {"kind": "struct", "name": "Reading", "members": [
    _m("sensor", _t("u32")),
    _m("sequence", _t("u64")),
    _m("location", _t("struct", name="Location", members=[_m("site", _t("string")), _m("floor", _t("i16"))])),
    _m("samples", _t("vector", element=[_t("struct", name="Sample", members=[
        _m("quantity", _t("enum", name="Quantity", element=[_t("u8")])), _m("value", _t("f64"))])])),
    _m("note", _t("optional", element=[_t("string")])),
    _m("firmware", _t("array", extent=3, element=[_t("u8")]))]}
FLAT = {"kind": "struct", "name": "Flat", "members": [
    _m("id", _t("u32")), _m("sequence", _t("u64")), _m("x", _t("f64")), _m("y", _t("f64")), _m("z", _t("f32")),
    _m("delta", _t("i16")), _m("count", _t("i32")), _m("valid", _t("bool")), _m("flags", _t("u8")),
    _m("level", _t("enum", name="Level", element=[_t("i8")])), _m("stamp", _t("i64")), _m("ok", _t("bool"))]}
IMAGE = {"kind": "struct", "name": "Image", "members": [
    _m("camera", _t("u32")), _m("width", _t("u16")), _m("height", _t("u16")), _m("pixels", _t("bytes"))]}

MANIFEST = {"manifest_version": 1, "events": [_event("Reading", READING), _event("Flat", FLAT),
                                              _event("Image", IMAGE)]}
IMAGE_BYTES = 1 << 20


def values(contract: Any) -> Dict[str, Any]:
    """One event of each kind, as a plugin would build it (dataclasses from the contract)."""
    reading = contract.typed(contract.encode("Reading", {
        "sensor": 1, "sequence": 4, "location": {"site": "south", "floor": 0},
        "samples": [{"quantity": 0, "value": 25.5}, {"quantity": 1, "value": 41.0}],
        "note": "calibrated", "firmware": [1, 4, 1]}))
    flat = contract.new("Flat", id=7, sequence=123456789012, x=1.5, y=-2.25, z=0.5, delta=-3, count=100000,
                        valid=True, flags=9, level=-1, stamp=-(1 << 40), ok=False)
    pixels = bytes(range(256)) * (IMAGE_BYTES // 256)
    image = contract.new("Image", camera=3, width=1024, height=1024, pixels=pixels)
    return {"Reading": reading, "Flat": flat, "Image": image}


CLOCKS = {"cpu": time.process_time, "wall": time.perf_counter}


def ops_per_second(fn: Callable[[], Any], seconds: float, clock: Callable[[], float]) -> float:
    """Calls of fn per second of @clock over at least @seconds (after one warm-up call)."""
    fn()
    batch = 1
    while True:  # grow the batch until one takes about a tenth of the time
        start = clock()
        for _ in range(batch):
            fn()
        elapsed = clock() - start
        if elapsed >= seconds / 10:
            break
        batch *= 2
    calls, total = 0, 0.0
    while total < seconds:
        start = clock()
        for _ in range(batch):
            fn()
        total += clock() - start
        calls += batch
    return calls / total


def child(package_dir: str, seconds: float, clock_name: str) -> None:
    sys.path.insert(0, package_dir)
    import pyevents  # noqa: E402 - from package_dir
    from pyevents import Contract

    assert Path(pyevents.__file__).resolve().is_relative_to(Path(package_dir).resolve()), pyevents.__file__
    clock = CLOCKS[clock_name]
    contract = Contract(MANIFEST)
    results: Dict[str, float] = {}
    digests: Dict[str, str] = {}
    for name, value in values(contract).items():
        frame = contract.encode(value)
        digests[name] = hashlib.sha256(frame).hexdigest()
        view = memoryview(frame)
        assert contract.encode(contract.typed(view)) == frame and contract.typed(frame) == value, name
        typed, encode = contract.typed, contract.encode
        results[f"{name} encode"] = ops_per_second(lambda: encode(value), seconds, clock)
        results[f"{name} decode"] = ops_per_second(lambda: typed(frame), seconds, clock)
        results[f"{name} decode_view"] = ops_per_second(lambda: typed(view), seconds, clock)
        results[f"{name} round"] = ops_per_second(lambda: encode(typed(frame)), seconds, clock)
    # Image with Contract(byte_views=True) where the package has it (the pixels a view of the
    # frame); a package without it decodes as it can (a bytes copy), which is what its users get.
    try:
        views = Contract(MANIFEST, byte_views=True)
    except TypeError:
        views = contract
    image = values(views)["Image"]
    frame = views.encode(image)
    view = memoryview(frame)
    assert views.typed(view).pixels == image.pixels
    results["Image decode_view, byte_views"] = ops_per_second(lambda: views.typed(view), seconds, clock)
    results["Image round, byte_views"] = ops_per_second(lambda: views.encode(views.typed(view)), seconds, clock)
    json.dump({"ops": results, "sha256": digests}, sys.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", default="/tmp/pyevents-before")
    parser.add_argument("--after", default=str(REPO / "pyevents"))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=0.3, help="time per case and round")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="cpu",
                        help="cpu: the process's CPU time (steadier on a shared machine); wall: elapsed time")
    parser.add_argument("--manifest", help="a pipeline_app manifest: check Reading's layout against it")
    parser.add_argument("--json", help="write the medians and ratios here")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.seconds, args.clock)
        return 0
    if args.manifest:
        real = {e["name"]: e for e in json.loads(Path(args.manifest).read_text())["events"]}
        if real["Reading"]["layout"] != READING:
            print("Reading's layout here differs from the manifest's", file=sys.stderr)
            return 1
    packages = {"before": args.before, "after": args.after}
    runs: Dict[str, list] = {"before": [], "after": []}
    digests: Dict[str, Any] = {}
    for round_ in range(args.rounds):
        for which, directory in packages.items():
            out = subprocess.run([sys.executable, __file__, "--child", directory, "--seconds", str(args.seconds),
                                  "--clock", args.clock],
                                 check=True, capture_output=True, text=True, timeout=600).stdout
            result = json.loads(out)
            runs[which].append(result["ops"])
            digests.setdefault(which, result["sha256"])
            print(f"round {round_ + 1}/{args.rounds} {which} done", file=sys.stderr)
    if digests["before"] != digests["after"]:
        print(f"the two packages encode different frames: {digests}", file=sys.stderr)
        return 1
    cases = list(runs["after"][0])
    table = {case: {which: statistics.median(run[case] for run in runs[which]) for which in runs}
             for case in cases}
    print(f"medians of {args.rounds} rounds, ops per {args.clock} second")
    print(f"{'case':<31}{'before ops/s':>14}{'after ops/s':>14}{'ratio':>8}")
    for case, row in table.items():
        row["ratio"] = row["after"] / row["before"]
        print(f"{case:<31}{row['before']:>14,.0f}{row['after']:>14,.0f}{row['ratio']:>7.1f}x")
    if args.json:
        Path(args.json).write_text(json.dumps({"rounds": args.rounds, "seconds": args.seconds, "clock": args.clock,
                                               "cases": table}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
