"""One nats-server, two application processes exchanging events both ways through it:
exact counts, binary topics, a 5 MiB payload, and an event type that travels both ways
without coming back (origin header) or being sent back (echo) — under core NATS and JetStream."""

import pytest

from natsfix import App, NatsServer, check_bridge_identities, plugin

PINGS, PONGS, ALERTS = 3000, 2000, 50


@pytest.mark.parametrize("mode", ["core", "jetstream"])
def test_two_applications_exchange_events_both_ways(tmp_path, mode):
    server = NatsServer(tmp_path, jetstream=mode == "jetstream").start()
    a = App(tmp_path, "a", [server.url], mode, instance=f"a-{mode}", pings=PINGS, blobs=1, alerts=ALERTS)
    b = App(tmp_path, "b", [server.url], mode, instance=f"b-{mode}", pongs=PONGS, alerts=ALERTS)
    try:
        a.wait_subscribed()
        b.wait_subscribed()
        a.send("go")
        b.send("go")
        b.wait_for(lambda s: s["received"]["ping_unique"] == PINGS and s["received"]["blob_ok"] == 1
                   and s["received"]["peer_alert_unique"] == ALERTS, "every ping, the blob and a's alerts")
        a.wait_for(lambda s: s["received"]["pong_unique"] == PONGS and s["received"]["peer_alert_unique"] == ALERTS,
                   "every pong and b's alerts")
        fa, fb = a.stop(), b.stop()
    finally:
        a.close()
        b.close()
        server.stop()

    for final in (fa, fb):
        check_bridge_identities(final)
        bridge = final["bridge"]
        assert bridge["publish_failed"] == 0 and bridge["unconfirmed_at_stop"] == 0, bridge
        assert bridge["bad_messages"] == 0 and bridge["decode_failures"] == 0 and bridge["sequence_gaps"] == 0, bridge
        assert bridge["abandoned_at_stop"] == 0 and bridge["slow_consumer_drops"] == 0, bridge
        received = final["received"]
        # Exactly once here (no failure happened): no duplicates, nothing malformed.
        assert received["ping_total"] == received["ping_unique"] and received["ping_bad"] == 0
        assert received["pong_total"] == received["pong_unique"] and received["pong_bad"] == 0
        assert received["blob_bad"] == 0 and received["alert_bad"] == 0
        # The peer's alerts arrived once each; its own came only from inside the app (never back from NATS).
        assert received["peer_alert_total"] == ALERTS and received["own_alerts"] == ALERTS
        assert final["sent"]["alert"] == ALERTS
        for p in final["plugins"]:
            assert p["dropped"] == 0 and p["decode_failures"] == 0, p

    # a -> b: pings, one 5 MiB blob, alerts; b -> a: pongs, alerts. Each side's own alerts were
    # taken by its out plugin and sent; the peer's, brought in, were seen by the out plugin and
    # not sent back (echoes_skipped).
    assert fa["sent"]["ping"] == PINGS and fa["sent"]["blob"] == 1
    assert fb["received"]["ping_unique"] == PINGS and fb["received"]["blob_ok"] == 1
    assert fb["sent"]["pong"] == PONGS and fa["received"]["pong_unique"] == PONGS
    assert fa["bridge"]["events_out"] == PINGS + 1 + 2 * ALERTS
    assert fa["bridge"]["published"] == PINGS + 1 + ALERTS and fa["bridge"]["echoes_skipped"] == ALERTS
    assert fb["bridge"]["events_out"] == PONGS + 2 * ALERTS
    assert fb["bridge"]["published"] == PONGS + ALERTS and fb["bridge"]["echoes_skipped"] == ALERTS
    assert fb["bridge"]["events_in"] == PINGS + 1 + ALERTS
    assert fa["bridge"]["events_in"] == PONGS + ALERTS
    assert plugin(fb, "receiver")["received"] == PINGS + 1 + 2 * ALERTS
    assert plugin(fa, "receiver")["received"] == PONGS + 2 * ALERTS
    if mode == "core":
        # NoEcho: the server never hands a connection its own messages.
        assert fa["bridge"]["own_skipped"] == 0 and fb["bridge"]["not_imported"] == 0
        assert fa["bridge"]["messages_in"] == PONGS + ALERTS
    else:
        # The stream holds everything under the prefix; the durable consumer delivers all of it:
        # its own alerts (skipped by origin) and the events it does not bring in.
        assert fa["bridge"]["own_skipped"] == ALERTS and fb["bridge"]["own_skipped"] == ALERTS
        assert fa["bridge"]["not_imported"] == PINGS + 1 and fb["bridge"]["not_imported"] == PONGS
