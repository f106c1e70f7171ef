#!/usr/bin/env bash
# The walk-through of docs/nats.md: a three-node NATS cluster with JetStream on this machine,
# a "device" site connected to node 1 and a "central" site connected to node 2, 300 readings
# one way and 30 setpoints the other, node 2 killed while they flow. Both sites exit 0 only
# if nothing was lost. Usage: examples/nats/walkthrough.sh [path/to/nats_site] [readings]
set -euo pipefail
site_app=${1:-build/examples/nats/nats_site}
readings=${2:-300}
work=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

# 1. Three nats-server nodes on free loopback ports, clustered by routes, JetStream on.
ports=($(python3 -c 'import socket
for _ in range(6):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'))
routes="nats-route://127.0.0.1:${ports[3]}, nats-route://127.0.0.1:${ports[4]}, nats-route://127.0.0.1:${ports[5]}"
for n in 0 1 2; do
    mkdir -p "$work/n$n"
    cat > "$work/n$n/server.conf" <<CONF
server_name: "n$((n + 1))"
listen: 127.0.0.1:${ports[$n]}
jetstream { store_dir: "$work/n$n/js" }
cluster { name: "plant", listen: 127.0.0.1:${ports[$((n + 3))]}, routes: [$routes] }
CONF
    nats-server -c "$work/n$n/server.conf" > "$work/n$n/server.log" 2>&1 &
    pids+=($!)
done
node=("${pids[@]}")
url() { echo "nats://127.0.0.1:${ports[$1]}"; }
# Started in the background, a node listens a moment later: wait until each says it is ready
# (a site started before its node listens would fail at once: "cannot connect").
for n in 0 1 2; do
    for _ in $(seq 300); do
        grep -q "Server is ready" "$work/n$n/server.log" && break
        kill -0 "${node[$n]}" 2>/dev/null || { cat "$work/n$n/server.log" >&2; exit 1; }
        sleep 0.1
    done
done

# 2. The two sites: the device knows node 1, the central site node 2 (each learns the
#    others from the cluster and fails over to them). Each creates or finds the stream
#    "plant" (three replicas) and its own durable consumer.
"$site_app" central "$(url 1)" "$readings" > "$work/central.out" 2>&1 &
central=$!
"$site_app" device "$(url 0)" "$readings" > "$work/device.out" 2>&1 &
device=$!
pids+=($central $device)

# 3. Once the first 100 readings are sent, kill node 2 (the central site's) while the rest flow.
until grep -q "device: 100 readings sent" "$work/device.out"; do
    kill -0 $device 2>/dev/null || break # the device failed: step 4 shows why
    sleep 0.1
done
kill -9 "${node[1]}"
wait "${node[1]}" 2>/dev/null || true
echo "node n2 (the central site's) killed"

# 4. Both sites finish on their own once everything arrived and was stored (if one fails,
#    the other would wait for it forever: it is stopped).
status=0
for _ in 1 2; do
    if ! wait -n $device $central; then
        status=1
        kill $device $central 2>/dev/null || true
    fi
done
cat "$work/device.out" "$work/central.out" | grep -E '^(device|central): (sent|received)' || true
if [ $status -ne 0 ]; then
    echo "walk-through FAILED; logs:" >&2
    tail -n 30 "$work/device.out" "$work/central.out" >&2
fi
exit $status
