"""The consumer test's Python side: an external plugin written with the INSTALLED pyevents.

Usage (run_consumer.cmake):
    PYTHONPATH=<prefix>/share/event_engine/pyevents python3 -s pyplugin.py <consumer> <that directory>

Fails unless `pyevents` and the legacy `events` module both come from the installed
directory. Then starts the consumer application (built against the installed headers)
with --pyplugin-port, reads its 20 Text and 20 Length events with PluginClient, checks
the texts, publishes one Verdict and quits. Exits 0 only if the consumer exits 0 too.
"""

import socket
import subprocess
import sys
from pathlib import Path

COUNT = 20  # as main.cpp's count


def fail(message: str) -> None:
    print(f"pyplugin: FAIL: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


consumer, installed = sys.argv[1], Path(sys.argv[2]).resolve()
try:
    import events
    import pyevents
    from pyevents import PluginClient
except ImportError as e:
    fail(f"pyevents is not installed in {installed}: {e}")
for module in (pyevents, events):
    if installed not in Path(module.__file__).resolve().parents:
        fail(f"{module.__name__} was imported from {module.__file__}, not from the install in {installed}")
print(f"pyplugin: pyevents and events imported from {installed}", flush=True)

with socket.socket() as probe:
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
app = subprocess.Popen([consumer, "--pyplugin-port", str(port)])
try:
    texts = lengths = 0
    with PluginClient(port, host="127.0.0.1", timeout=60, event_names=["Text", "Length"]) as client:
        while texts < COUNT or lengths < COUNT:
            raw = client.next_event(timeout=60)
            if raw is None:
                fail(f"no event within 60 s after {texts} Text and {lengths} Length")
            event = client.decode(raw)
            if event.topic == "Length":
                lengths += 1
                continue
            expected = f"message {texts}" + "!" * texts  # main.cpp's text_for(texts)
            if event.payload.decode() != expected:
                fail(f"Text {texts} was {event.payload!r}, expected {expected!r}")
            texts += 1
        client.publish_event("Verdict", f"pyplugin: {texts} Text, {lengths} Length".encode())
    status = app.wait(timeout=60)
finally:
    if app.poll() is None:
        app.kill()
        app.wait()
print(f"pyplugin: read {texts} Text and {lengths} Length; the consumer exited with {status}", flush=True)
sys.exit(0 if status == 0 else 1)
