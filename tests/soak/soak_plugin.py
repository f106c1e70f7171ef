#!/usr/bin/python3
"""An external plugin of the soak application (tests/soak/soak_app.cpp), run by tests/soak/soak.py.

Fetches the application's Reading events with pyevents' PluginClient (the at-least-once
`fetch`/`ack` of docs/protocol.md), checks each one, spends --work-ms on the batch, and appends the numbers of every batch
it was handed to --record (8 bytes each, little-endian) with one os.write: in the kernel
before the next fetch acknowledges them, so a SIGKILL at any moment loses nothing the record
would need (what was fetched and not yet written is not acknowledged, and the engine sends
it again to the next process). Publishes a Progress event every second. SIGTERM: acknowledge,
`quit` and exit 0. A Reading that fails its check: a message on stderr and exit 3.
"""

from __future__ import annotations

import argparse
import os
import signal
import struct
import sys
import time

from pyevents import PluginClient

TOPIC = b"Reading"
MASK = (1 << 64) - 1


def reading_check(number: int) -> int:  # as soak_app.cpp
    return ((number * 0x9E3779B97F4A7C15) & MASK) ^ 0x5EED5EED5EED


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--record", required=True)
    parser.add_argument("--incarnation", default="1")
    parser.add_argument("--work-ms", type=float, default=0.0,
                        help="time spent on each batch before it is recorded (a SIGKILL then usually lands mid-batch)")
    parser.add_argument("--at-most-once", action="store_true",
                        help="fetch with next_msgs instead (at most once): soak.py --plugins-at-most-once, to see its checks fail")
    args = parser.parse_args()
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    record = os.open(args.record, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    seen = 0
    last_progress = time.monotonic()
    # The application is on this machine's loopback, whatever $EVENT_ENGINE_HOST says (soak.py
    # also starts this process without any EVENT_ENGINE_* variable: no keys, no host).
    with PluginClient(args.port, "127.0.0.1", timeout=60, at_least_once=not args.at_most_once) as client:
        while not stopping:
            batch = client.next_events(2000, timeout=0.5)
            numbers = []
            for frame in batch:
                if not frame.startswith(TOPIC) or len(frame) != len(TOPIC) + 16:
                    print(f"soak_plugin {args.incarnation}: unexpected event {frame[:40]!r} ({len(frame)} bytes)",
                          file=sys.stderr)
                    return 3
                number, check = struct.unpack_from("<QQ", frame, len(TOPIC))
                if check != reading_check(number):
                    print(f"soak_plugin {args.incarnation}: Reading {number} fails its check", file=sys.stderr)
                    return 3
                numbers.append(number)
            if numbers:
                time.sleep(args.work_ms / 1000)
                os.write(record, struct.pack(f"<{len(numbers)}Q", *numbers))
                seen += len(numbers)
            now = time.monotonic()
            if now - last_progress >= 1.0:
                client.publish_event("Progress", f"{args.incarnation} {seen}")
                last_progress = now
    os.close(record)
    return 0


if __name__ == "__main__":
    sys.exit(main())
