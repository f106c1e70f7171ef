"""An application killed (SIGKILL) while events are inside it — published into it by its
bridge, not yet handled by its slow subscriber — loses none of them: the bridge acknowledges
a JetStream message only once every plugin that receives it has handled it (delivery marks,
docs/nats.md), so after a restart with the same durable consumer NATS delivers again what the
dead process had not handled.

Unlike test_restart.py, nothing is frozen at a quiet moment: the receiver is killed in the
middle of the stream, with hundreds of events in its queues. Every sent event must be
handled at least once across the two runs; duplicates (handled, not yet acknowledged when
the process died) are bounded by what may be unacknowledged at once.

The same holds for a graceful stop (SIGTERM) in the middle of the stream: the plugins end
with events still queued (counted unread), and what they had not handled stays
unacknowledged (unacknowledged_at_stop), so the next run gets it again."""

import time
from contextlib import ExitStack

import pytest

from natsfix import App, NatsServer, check_bridge_identities, wait_until

PINGS = 3000
IN_FLIGHT = 300  # published into the receiving application and not handled, at the kill
MAX_UNACKNOWLEDGED = 1024  # bridge_options' default: what the receiver may hold unacknowledged
ACK_WAIT_MS = 2000
#: Only a hang guard: a receiver that got nothing new for this long will get nothing more (a
#: correct one completes long before; redeliveries come every ACK_WAIT_MS, however slow the host).
QUIET_SECONDS = 60.0


def recorded(path):
    return [int(line) for line in path.read_text().split()] if path.exists() else []


def in_flight(status):
    return status["bridge"]["events_in"] - status["received"]["ping_total"]


def wait_complete_or_quiet(app, record, sender):
    """Until every ping was handled, or the receiver has had nothing new for QUIET_SECONDS
    after the sender's last event was stored (then what is missing will not come)."""
    last, quiet_since = None, time.monotonic()

    def done():
        nonlocal last, quiet_since
        if set(recorded(record)) >= set(range(1, PINGS + 1)):
            return True
        s = app.status
        progress = (s["bridge"]["messages_in"], s["received"]["ping_total"]) if s else None
        if progress != last or sender.status["bridge"]["published"] < PINGS:
            last, quiet_since = progress, time.monotonic()
        return time.monotonic() - quiet_since > QUIET_SECONDS

    wait_until(done, "every ping handled, or a quiet receiver")


@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM"])
def test_killed_or_stopped_with_events_in_flight_loses_none(tmp_path, how):
    record = tmp_path / "handled.txt"
    receiver = dict(instance="receiver", record=record, ack_wait_ms=ACK_WAIT_MS)
    with ExitStack() as cleanup:  # closed in reverse: the applications, then the server
        server = NatsServer(tmp_path, jetstream=True).start()
        cleanup.callback(server.stop)
        a = App(tmp_path, "a", [server.url], "jetstream", instance="sender")
        cleanup.callback(a.close)
        b1 = App(tmp_path, "b", [server.url], "jetstream", handle_us=2000, **receiver)  # about 2 ms per ping
        cleanup.callback(b1.close)
        a.wait_subscribed()
        b1.wait_subscribed()
        a.send(f"ping {PINGS}")
        b1.wait_for(lambda s: s["received"]["ping_total"] > 0 and in_flight(s) >= IN_FLIGHT,
                    f"{IN_FLIGHT} pings published into the receiver and not handled")
        at_kill = b1.status
        if how == "SIGKILL":
            b1.kill()
        else:
            stopped = b1.stop()
            check_bridge_identities(stopped)
            assert stopped["bridge"]["unacknowledged_at_stop"] > 0, stopped["bridge"]
        handled_first = recorded(record)
        b2 = App(tmp_path, "b", [server.url], "jetstream", handle_us=100, **receiver)  # same durable
        cleanup.callback(b2.close)
        wait_complete_or_quiet(b2, record, a)
        fa, fb = a.stop(), b2.stop()

    check_bridge_identities(fa)
    check_bridge_identities(fb)
    assert fa["bridge"]["published"] == PINGS and fa["bridge"]["publish_failed"] == 0
    seen = recorded(record)
    missing = sorted(set(range(1, PINGS + 1)) - set(seen))
    print(f"\n{how}: with {in_flight(at_kill)} pings in the application and not handled "
          f"({at_kill['received']['ping_total']} handled, {at_kill['bridge']['events_in']} published into it); "
          f"{len(handled_first)} handled before the kill, {len(seen)} handlings in all, "
          f"{len(seen) - len(set(seen))} duplicates; the restarted process skipped "
          f"{fb['bridge']['duplicates_skipped']} redeliveries; missing {len(missing)}")
    assert not missing, f"{len(missing)} pings never handled, e.g. {missing[:10]}"
    assert set(seen) == set(range(1, PINGS + 1))  # nothing else
    # Handled twice only if handled and not yet acknowledged when the process died.
    assert len(seen) - PINGS <= MAX_UNACKNOWLEDGED
    assert fb["received"]["ping_total"] == fb["bridge"]["events_in"]
    assert fb["received"]["ping_bad"] == 0
