"""A leaf node (docs/nats.md, "Many devices and a central site"): a hub nats-server with
`leafnodes { listen }` and a device's own nats-server, a leaf node of the hub
(`leafnodes { remotes = [ { url } ] }`). An application on the device's server and one on
the hub's exchange events both ways through the leaf connection, with exact counts: under
core NATS, and under JetStream with JetStream domains (the hub's `hub`, the device's own
`leaf`; both bridges use the stream in the hub's domain, `bridge_options::jetstream_domain`),
where the device's application is also killed mid-stream and restarted without loss."""

from contextlib import ExitStack

import pytest

from natsfix import App, NatsServer, check_bridge_identities, exchange, failed_start, free_port, wait_until


def interest(server: NatsServer) -> list[str]:
    """The subjects the other side of `server`'s leaf connection asked it for (its /leafz)."""
    leafs = server.monitoring("leafz?subs=1")["leafs"] or []
    return [subject for leaf in leafs for subject in leaf.get("subscriptions_list") or []]


def test_a_device_on_a_leaf_node_and_the_hub_exchange_events_both_ways(tmp_path):
    leaf_port = free_port()
    hub = NatsServer(tmp_path, "hub", config=[f"leafnodes {{ listen: 127.0.0.1:{leaf_port} }}"], monitor=True).start()
    device = NatsServer(tmp_path, "device", monitor=True,
                        config=[f'leafnodes {{ remotes = [ {{ url: "nats-leaf://127.0.0.1:{leaf_port}" }} ] }}']).start()
    try:
        wait_until(lambda: hub.monitoring("leafz")["leafnodes"] == 1 and device.monitoring("leafz")["leafnodes"] == 1,
                   "the device's server connected to the hub as a leaf node")

        def interest_crossed() -> None:
            # Core NATS sends only where there is interest: each bridge's subscription (test.>) must
            # have crossed the leaf connection before anything is sent.
            wait_until(lambda: "test.>" in interest(hub) and "test.>" in interest(device),
                       "each side's test.> subscription known on the other side of the leaf connection")

        fa, fb = exchange(tmp_path, [device.url], [hub.url], {"instance": "device"}, {"instance": "central"},
                          ready=interest_crossed)
        # The events really went through the leaf connection, in both directions.
        (leaf,) = hub.monitoring("leafz")["leafs"]
        assert leaf["in_msgs"] >= fa["bridge"]["published"] and leaf["out_msgs"] >= fb["bridge"]["published"], leaf
    finally:
        device.stop()
        hub.stop()


# ---- JetStream across the leaf connection ----

PINGS, PONGS = 500, 500   # the exchange both ways, exact counts
MORE_PINGS = 2000         # then sent to the device's application, killed mid-stream
IN_FLIGHT = 200           # published into it and not handled, at the kill
MAX_UNACKNOWLEDGED = 1024  # bridge_options' default
ACK_WAIT_MS = 2000


def hub_and_device(tmp_path, device_jetstream: bool = True) -> tuple[NatsServer, NatsServer]:
    """A hub with JetStream in domain `hub` and a leaf node listener; a device's server, its leaf
    node, with JetStream in its own domain `leaf` (or none). Both started, the leaf connection up."""
    leaf_port = free_port()
    hub = NatsServer(tmp_path, "hub", monitor=True, config=[
        f'jetstream {{ store_dir: "{tmp_path / "hub" / "js"}", domain: hub }}',
        f"leafnodes {{ listen: 127.0.0.1:{leaf_port} }}"]).start()
    device_config = [f'leafnodes {{ remotes = [ {{ url: "nats-leaf://127.0.0.1:{leaf_port}" }} ] }}']
    if device_jetstream:
        device_config.append(f'jetstream {{ store_dir: "{tmp_path / "device" / "js"}", domain: leaf }}')
    try:
        device = NatsServer(tmp_path, "device", monitor=True, config=device_config).start()
    except BaseException:
        hub.stop()
        raise
    try:
        wait_until(lambda: hub.monitoring("leafz")["leafnodes"] == 1 and device.monitoring("leafz")["leafnodes"] == 1,
                   "the device's server connected to the hub as a leaf node")
    except BaseException:
        device.stop()
        hub.stop()
        raise
    return hub, device


def recorded(path):
    return [int(line) for line in path.read_text().split()] if path.exists() else []


def in_flight(status):
    return status["bridge"]["events_in"] - status["received"]["ping_total"]


def streams(server: NatsServer) -> dict[str, int]:
    """The streams of `server`'s own JetStream and how many messages each holds (its /jsz)."""
    details = server.monitoring("jsz?streams=1").get("account_details") or []
    return {s["name"]: s["state"]["messages"] for account in details for s in account.get("stream_detail") or []}


@pytest.mark.parametrize("device_jetstream", [True, False], ids=["device-domain-leaf", "device-without-jetstream"])
def test_jetstream_through_a_leaf_node_in_the_hubs_domain_loses_nothing_across_a_kill(tmp_path, device_jetstream):
    record = tmp_path / "handled.txt"
    common = dict(jetstream_domain="hub", ack_wait_ms=ACK_WAIT_MS, setup_timeout_ms=10000)
    # The device's application receives pings slowly (1 ms each), so that it is killed with
    # events inside it, published and not handled, as in test_kill_in_flight.py.
    device_app = dict(instance="device", record=record, handle_us=1000, **common)
    with ExitStack() as cleanup:  # closed in reverse: the applications, then the servers
        hub, device = hub_and_device(tmp_path, device_jetstream)
        cleanup.callback(hub.stop)
        cleanup.callback(device.stop)
        central = App(tmp_path, "a", [hub.url], "jetstream", instance="central", **common)
        cleanup.callback(central.close)
        d1 = App(tmp_path, "b", [device.url], "jetstream", pongs=PONGS, **device_app)
        cleanup.callback(d1.close)
        central.wait_subscribed()
        d1.wait_subscribed()

        # Both ways, exact counts.
        central.send(f"ping {PINGS}")
        d1.send("go")
        d1.wait_for(lambda s: s["received"]["ping_unique"] == PINGS, "every ping of the exchange")
        central.wait_for(lambda s: s["received"]["pong_unique"] == PONGS and s["bridge"]["published"] == PINGS,
                         "every pong, and every ping stored")
        exchanged = d1.status
        assert exchanged["received"]["ping_total"] == PINGS and exchanged["received"]["ping_bad"] == 0, exchanged
        assert exchanged["bridge"]["published"] == PONGS and exchanged["bridge"]["publish_failed"] == 0, exchanged
        # One stream, in the hub's domain, holds both ways; the device's JetStream, if any, holds
        # none (a bridge there without jetstream_domain makes its own stream 'test' on it, and
        # without JetStream on the device it finds none: the last test).
        assert streams(hub) == {"test": PINGS + PONGS} and streams(device) == {}, (streams(hub), streams(device))

        # The device's application killed mid-stream, restarted with the same durable.
        central.send(f"ping {MORE_PINGS}")
        d1.wait_for(lambda s: s["received"]["ping_total"] > PINGS and in_flight(s) >= IN_FLIGHT,
                    f"{IN_FLIGHT} pings published into the device's application and not handled")
        at_kill = d1.status
        d1.kill()
        handled_first = recorded(record)
        d2 = App(tmp_path, "b", [device.url], "jetstream", **dict(device_app, handle_us=100))
        cleanup.callback(d2.close)
        total = PINGS + MORE_PINGS
        d2.wait_for(lambda s: set(recorded(record)) >= set(range(1, total + 1)), "every ping, across the kill")
        fc, fd = central.stop(), d2.stop()
        stored = streams(hub)

    check_bridge_identities(fc)
    check_bridge_identities(fd)
    assert fc["bridge"]["published"] == total and fc["bridge"]["publish_failed"] == 0, fc["bridge"]
    assert fc["received"]["pong_unique"] == PONGS and fc["received"]["pong_total"] == PONGS, fc["received"]
    assert fc["received"]["pong_bad"] == 0
    seen = recorded(record)
    print(f"\nleaf node ({'JetStream domain leaf' if device_jetstream else 'no JetStream'}), "
          f"bridges in JetStream domain 'hub': killed with {in_flight(at_kill)} pings in the device's application "
          f"and not handled; {len(handled_first)} handled before the kill, {len(seen)} handlings in all, "
          f"{len(seen) - len(set(seen))} duplicates")
    assert set(seen) == set(range(1, total + 1))  # every ping handled, nothing else
    assert len(seen) - total <= MAX_UNACKNOWLEDGED  # handled twice only if not yet acknowledged at the kill
    assert fd["received"]["ping_total"] == fd["bridge"]["events_in"] and fd["received"]["ping_bad"] == 0
    assert stored == {"test": total + PONGS}, stored


def test_without_the_domain_a_bridge_on_a_leaf_node_without_jetstream_cannot_set_up(tmp_path):
    """The hub's JetStream answers only for its domain through the leaf connection: a bridge on
    the device's server without jetstream_domain finds no JetStream ("No responders")."""
    hub, device = hub_and_device(tmp_path, device_jetstream=False)
    try:
        error = failed_start([device.url], mode="jetstream", instance="device", setup_timeout_ms=1000)
    finally:
        device.stop()
        hub.stop()
    assert "finding or creating the JetStream stream 'test' failed" in error and "No responders" in error, error
