"""One nats-server, two application processes exchanging events both ways through it:
exact counts, binary topics, a 5 MiB payload, and an event type that travels both ways
without coming back (origin header) or being sent back (echo) — under core NATS and JetStream."""

import pytest

from natsfix import NatsServer, exchange, plugin

PINGS, PONGS, ALERTS = 3000, 2000, 50


@pytest.mark.parametrize("mode", ["core", "jetstream"])
def test_two_applications_exchange_events_both_ways(tmp_path, mode):
    server = NatsServer(tmp_path, jetstream=mode == "jetstream").start()
    try:
        # exchange() checks the exact counts both ways (the blob's too), the bridge identities,
        # no publish failure, gap or bad message, no duplicate, and each peer alert once.
        fa, fb = exchange(tmp_path, [server.url], [server.url], {"instance": f"a-{mode}"}, {"instance": f"b-{mode}"},
                          pings=PINGS, pongs=PONGS, alerts=ALERTS, mode=mode, blobs=1)
    finally:
        server.stop()

    for final in (fa, fb):
        bridge = final["bridge"]
        assert bridge["unconfirmed_at_stop"] == 0 and bridge["decode_failures"] == 0, bridge
        assert bridge["abandoned_at_stop"] == 0 and bridge["slow_consumer_drops"] == 0, bridge
        received = final["received"]
        # Nothing malformed (no failure happened).
        assert received["ping_bad"] == 0 and received["pong_bad"] == 0
        assert received["blob_bad"] == 0 and received["alert_bad"] == 0
        assert final["sent"]["alert"] == ALERTS
        for p in final["plugins"]:
            assert p["dropped"] == 0 and p["decode_failures"] == 0, p

    # a -> b: pings, one 5 MiB blob, alerts; b -> a: pongs, alerts (what was sent, published and
    # brought in, exchange() checked). Each side's own alerts were taken by its out plugin and
    # sent; the peer's, brought in, were seen by the out plugin and not sent back (echoes_skipped).
    assert fa["bridge"]["events_out"] == PINGS + 1 + 2 * ALERTS and fa["bridge"]["echoes_skipped"] == ALERTS
    assert fb["bridge"]["events_out"] == PONGS + 2 * ALERTS and fb["bridge"]["echoes_skipped"] == ALERTS
    assert plugin(fb, "receiver")["received"] == PINGS + 1 + 2 * ALERTS
    assert plugin(fa, "receiver")["received"] == PONGS + 2 * ALERTS
    if mode == "core":
        # NoEcho: the server never hands a connection its own messages.
        assert fa["bridge"]["own_skipped"] == 0 and fb["bridge"]["not_imported"] == 0
        assert fa["bridge"]["messages_in"] == PONGS + ALERTS
    else:
        # The stream holds everything under the prefix, but each bridge's consumers (one per event
        # it brings in, filtered on its subject) deliver only those events; of Alert, which both
        # bring in, their own too (skipped by origin): no other event of its own comes back (issue 21).
        for final in (fa, fb):
            assert final["bridge"]["not_imported"] == 0, final["bridge"]
        assert fa["bridge"]["own_skipped"] == ALERTS and fb["bridge"]["own_skipped"] == ALERTS
        assert fa["bridge"]["messages_in"] - fa["bridge"]["duplicates_skipped"] == PONGS + 2 * ALERTS
        assert fb["bridge"]["messages_in"] - fb["bridge"]["duplicates_skipped"] == PINGS + 1 + 2 * ALERTS
