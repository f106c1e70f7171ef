"""A three-node NATS cluster (routes on loopback); the node the receiving application is
connected to is killed (SIGKILL) mid-stream. Under JetStream (a stream with three
replicas) nothing is lost; under core NATS every loss is counted: what the sender's bridge
published equals what the receiver's bridge received plus the gaps it counted."""

from natsfix import App, check_bridge_identities, start_cluster

PINGS = 3000
RATE = 1000  # pings a second: the stream lasts about three seconds, the kill falls inside it


def test_jetstream_loses_nothing_when_a_node_dies(tmp_path):
    nodes = start_cluster(tmp_path, 3, jetstream=True)
    # The sender is given n1, the receiver n2 (and fails over to the servers the cluster announces).
    a = App(tmp_path, "a", [nodes[0].url], "jetstream", instance="site-a", pings=PINGS, rate=RATE, replicas=3,
            ack_wait_ms=2000)
    b = App(tmp_path, "b", [nodes[1].url], "jetstream", instance="site-b", replicas=3,
            ack_wait_ms=2000)
    try:
        a.wait_subscribed()
        b.wait_subscribed()
        a.send("go")
        b.wait_for(lambda s: s["received"]["ping_unique"] >= PINGS // 3, "a third of the pings")
        nodes[1].kill()
        b.wait_for(lambda s: s["received"]["ping_unique"] == PINGS, "every ping, after the node died")
        a.wait_for(lambda s: s["bridge"]["published"] == PINGS, "every ping stored and acknowledged")
        fa, fb = a.stop(), b.stop()
    finally:
        a.close()
        b.close()
        for node in nodes:
            node.stop()

    for final in (fa, fb):
        check_bridge_identities(final)
    assert fa["sent"]["ping"] == PINGS
    assert fa["bridge"]["events_out"] == PINGS and fa["bridge"]["published"] == PINGS
    assert fa["bridge"]["publish_failed"] == 0 and fa["bridge"]["unconfirmed_at_stop"] == 0
    received = fb["received"]
    assert received["ping_unique"] == PINGS and received["ping_bad"] == 0
    # At least once: anything delivered twice into the application is visible, and counted:
    # every ping that entered it is one the receiver saw (total), no more.
    assert received["ping_total"] == fb["bridge"]["events_in"]
    assert received["ping_total"] >= PINGS
    assert fb["bridge"]["bad_messages"] == 0 and fb["bridge"]["decode_failures"] == 0
    print(f"\njetstream, node killed: sender retries {fa['bridge']['publish_retries']}, stored duplicates "
          f"{fa['bridge']['stored_duplicates']}, disconnects a={fa['bridge']['disconnects']} "
          f"b={fb['bridge']['disconnects']}; receiver duplicates skipped {fb['bridge']['duplicates_skipped']}, "
          f"duplicates delivered {received['ping_total'] - PINGS}")


def test_core_nats_counts_every_loss_when_a_node_dies(tmp_path):
    nodes = start_cluster(tmp_path, 3, jetstream=False)
    a = App(tmp_path, "a", [nodes[0].url], "core", instance="site-a", pings=PINGS, rate=RATE, tail=1)
    b = App(tmp_path, "b", [nodes[1].url], "core", instance="site-b")
    try:
        a.wait_subscribed()
        b.wait_subscribed()
        a.send("go")
        b.wait_for(lambda s: s["received"]["ping_unique"] >= PINGS // 3, "a third of the pings")
        nodes[1].kill()
        # After the pings, a sends Mark events until told to stop: any later message reveals a
        # gap in a's sequence, so losses at the end of the pings are counted too.
        a.wait_for(lambda s: s["sent_done"], "every ping sent")
        b.wait_for(lambda s: s["received"]["mark"] >= 1 and s["bridge"]["reconnects"] >= 1, "marks after the pings")
        a.send("stop-tail")
        a.wait_for(lambda s: s["tail_stopped"] and s["bridge"]["events_out"] == s["sent"]["ping"] + s["sent"]["mark"]
                   and s["bridge"]["events_out"] == s["bridge"]["published"] + s["bridge"]["publish_failed"],
                   "everything taken and handed to the connection")
        published = a.status["bridge"]["published"]
        b.wait_for(lambda s: s["bridge"]["messages_in"] + s["bridge"]["sequence_gaps"] == published,
                   f"every published message received or counted lost; sender: {a.status}")
        fa, fb = a.stop(), b.stop()
    finally:
        a.close()
        b.close()
        for node in nodes:
            node.stop()

    for final in (fa, fb):
        check_bridge_identities(final)
    sent = fa["sent"]["ping"] + fa["sent"]["mark"]
    assert fa["sent"]["ping"] == PINGS
    assert fa["bridge"]["events_out"] == sent == fa["bridge"]["published"] + fa["bridge"]["publish_failed"]
    # Every message a's bridge published is either received by b's bridge or counted as a gap.
    assert fa["bridge"]["published"] == fb["bridge"]["messages_in"] + fb["bridge"]["sequence_gaps"]
    assert fb["bridge"]["messages_in"] == fb["bridge"]["events_in"]
    received = fb["received"]
    assert received["ping_total"] == received["ping_unique"] and received["ping_bad"] == 0  # at most once
    assert received["ping_total"] + received["mark"] == fb["bridge"]["events_in"]
    lost = fb["bridge"]["sequence_gaps"] + fa["bridge"]["publish_failed"]
    assert received["ping_total"] + received["mark"] + lost == sent
    print(f"\ncore, node killed: {sent} sent, {fb['bridge']['events_in']} received, {fb['bridge']['sequence_gaps']} "
          f"lost in transit (gaps), {fa['bridge']['publish_failed']} not sent, reconnects b={fb['bridge']['reconnects']}")
