"""An external plugin for counting_test.cpp, run as a real process with pyevents.

    counting_plugin.py PORT subscribe COUNT   takes COUNT CountedTick events and checks that
                                              their sequence numbers are 0..COUNT-1 in order
    counting_plugin.py PORT publish COUNT     publishes COUNT CountedTick events, 0..COUNT-1

then quits (acknowledging what it took). Exit status 0 when all went as expected, 1
otherwise (the reason on stderr). Every wait is bounded: a hung engine fails the test.
"""

import struct
import sys

from pyevents import PluginClient

TOPIC = b"CountedTick"
PAYLOAD = struct.Struct("<QQ")  # seq, value: the C++ CountedTick under trivial_codec (x86-64)


def value_of(seq: int) -> int:
    return (seq * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF


def subscribe(client: PluginClient, count: int) -> int:
    for expected in range(count):
        raw = client.next_event(timeout=60)
        if raw is None:
            print(f"counting_plugin: event {expected} of {count} did not come within 60 s", file=sys.stderr)
            return 1
        if not raw.startswith(TOPIC) or len(raw) != len(TOPIC) + PAYLOAD.size:
            print(f"counting_plugin: unexpected frame {raw[:40]!r} ({len(raw)} bytes)", file=sys.stderr)
            return 1
        seq, value = PAYLOAD.unpack_from(raw, len(TOPIC))
        if seq != expected or value != value_of(seq):
            print(f"counting_plugin: expected event {expected}, got {seq} (value {value:#x})", file=sys.stderr)
            return 1
    return 0


def publish(client: PluginClient, count: int) -> int:
    for seq in range(count):
        client.publish(TOPIC + PAYLOAD.pack(seq, value_of(seq)))
    return 0


def main() -> int:
    port, mode, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    with PluginClient(port, timeout=60) as client:
        return subscribe(client, count) if mode == "subscribe" else publish(client, count)


if __name__ == "__main__":
    sys.exit(main())
