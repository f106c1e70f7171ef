"""PluginClient(copy=False) with the REAL engine (ee_test_engine): payloads handed out as
read-only memoryviews of the frames ZeroMQ received, at least once, accounted for exactly.

Needs $EVENT_ENGINE_TEST_APP (see engine_fixture.py); fails without it.  The numpy checks
are skipped where numpy is not installed.
"""

from __future__ import annotations

import re
import zlib
from pathlib import Path
from typing import Any, List

import pytest
import zmq

from engine_fixture import (  # noqa: F401  (fixtures are used by name)
    WAIT,
    a_event,
    bulk_payload,
    start_engine,
)
from pyevents import PluginClient

MiB = 1 << 20
REPO = Path(__file__).resolve().parents[2]


def test_large_payloads_arrive_intact_as_memoryviews_without_a_copy(start_engine) -> None:
    size = 3 * MiB
    engine = start_engine(emit_bulk=3, bulk_size=size)
    with PluginClient(engine.port, timeout=WAIT, copy=False, event_names=["Bulk"]) as client:
        got = []
        while len(got) < 3:
            got += client.next_events(10, timeout=WAIT)
        assert len(got) == 3
        for index, view in enumerate(got):
            assert isinstance(view, memoryview) and view.readonly and len(view) == 4 + size
            assert isinstance(view.obj, zmq.Frame)  # ZeroMQ's own buffer, not a copy of it
            event = client.decode(view)
            assert event.topic == "Bulk"
            assert isinstance(event.payload, memoryview) and event.payload.obj is view.obj  # no copy
            assert zlib.crc32(event.payload) == zlib.crc32(bulk_payload(size, index)), f"Bulk {index} damaged"
        assert client.next_event(timeout=0) is None
    # The views outlive the client (and its ZeroMQ context): each holds its frame.
    assert [zlib.crc32(view[4:]) for view in got] == [zlib.crc32(bulk_payload(size, i)) for i in range(3)]
    engine.assert_clean_exit()
    report = engine.report()
    assert (report["received"], report["unread"], report["dropped"]) == (3, 0, 0)


def test_numpy_frombuffer_reads_the_received_frame_in_place(start_engine) -> None:
    """The example of docs/python.md ("Large payloads without copies"), run: its lines are here."""
    numpy = pytest.importorskip("numpy")
    size = 1 * MiB
    engine = start_engine(emit_bulk=1, bulk_size=size)
    port = engine.port
    with PluginClient(port, copy=False, event_names=["Bulk"]) as client:
        for frame in client:                    # read-only memoryviews of the frames received
            payload = client.decode(frame).payload                 # a slice of the same memory
            pixels = numpy.frombuffer(payload, dtype=numpy.uint8)  # read-only, no copy
            break
        whole = numpy.frombuffer(frame, dtype=numpy.uint8)
        assert not pixels.flags.writeable  # read-only, like bytes
        # The payload array starts 4 bytes (b"Bulk") into the frame's own memory: no copy anywhere.
        assert pixels.__array_interface__["data"][0] == whole.__array_interface__["data"][0] + 4
        assert numpy.array_equal(pixels, numpy.frombuffer(bulk_payload(size, 0), dtype=numpy.uint8))
    engine.assert_clean_exit()
    assert engine.report()["received"] == 1


def test_docs_python_md_shows_the_code_of_the_numpy_test() -> None:
    """Every ```py block of docs/python.md (the snippets beside the walk-through: zero copy,
    publishing many events) is in a test against the real engine, line for line."""
    doc = (REPO / "docs" / "python.md").read_text()
    blocks = re.findall(r"```py\n(.*?)```", doc, re.S)
    tests = [_lines(path.read_text()) for path in sorted(Path(__file__).parent.glob("test_engine_*.py"))]
    assert blocks
    for block in blocks:
        lines = [line for line in _lines(block) if not line.startswith(("import ", "from "))]
        assert any(here[i:i + len(lines)] == lines for here in tests for i in range(len(here))), \
            f"not in a test_engine_*.py test:\n{block}"


def _lines(text: str) -> List[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def test_unacknowledged_views_go_again_to_the_next_client_and_everything_is_counted_once(start_engine) -> None:
    """At least once with copy=False: a client that closes without acknowledging (as if it died)
    leaves its events to the next one; the engine counts each event received exactly once."""
    count = 40
    engine = start_engine(emit_a=count)
    engine.wait_emitted()  # all queued, so the first fetch of 10 gets 10 (a slow engine, TSan's, had 9 then)
    first = PluginClient(engine.port, timeout=WAIT, copy=False)
    first.fetch_batch = 10
    seen = [bytes(first.next_event(timeout=WAIT) or b"") for _ in range(5)]
    assert seen == [a_event(i) for i in range(5)]
    assert first.buffered == 5  # the rest of its batch of 10: fetched, never handed out
    first.close(timeout=0)  # acknowledges nothing
    got = []
    with PluginClient(engine.port, timeout=WAIT, copy=False) as second:
        while len(got) < count:
            batch = second.next_events(7, timeout=WAIT)
            assert batch, f"no more events after {len(got)}"
            assert all(isinstance(e, memoryview) for e in batch)
            got += [bytes(e) for e in batch]
        assert second.next_event(timeout=0) is None
        assert second.duplicates_skipped == 0  # a new client: its numbers start here
    assert got == [a_event(i) for i in range(count)]  # the first five again, then the rest, in order
    engine.assert_clean_exit()
    report = engine.report()
    assert (report["received"], report["unread"], report["dropped"]) == (count, 0, 0)


@pytest.mark.parametrize("copy", [True, False])
def test_fetching_ahead_delivers_every_event_once_in_order(start_engine, copy: bool) -> None:
    """fetch_ahead: the next reply is asked for while the plugin works on this one; the engine
    does not send again what the client holds, and every event is received once."""
    count, size = 400, 64 * 1024
    engine = start_engine(emit_bulk=count, bulk_size=size, collect=count, queue_bytes=1 << 30)
    with PluginClient(engine.port, timeout=WAIT, copy=copy) as client:
        client.fetch_ahead = True
        client.fetch_bytes = 1 << 20  # 16 events a reply: many replies, each fetched ahead
        got: List[Any] = []
        while len(got) < count:
            got += client.next_events(count, timeout=WAIT)
        assert client.duplicates_skipped == 0
        assert [zlib.crc32(event) for event in got] == [zlib.crc32(b"Bulk" + bulk_payload(size, i))
                                                        for i in range(count)]
    engine.assert_clean_exit()
    report = engine.report()
    assert (report["received"], report["unread"], report["dropped"]) == (count, 0, 0)
