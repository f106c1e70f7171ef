"""A leaf node (docs/nats.md, "Many devices and a central site"): a hub nats-server with
`leafnodes { listen }` and a device's own nats-server, a leaf node of the hub
(`leafnodes { remotes = [ { url } ] }`). An application on the device's server and one on
the hub's exchange events both ways through the leaf connection, with exact counts (core
NATS; JetStream across a leaf node needs JetStream domains and is not tested here)."""

from natsfix import NatsServer, exchange, free_port, wait_until


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
