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
ports=()
# On failure: what each node says of JetStream's meta group, and the end of each node's log
# (without the "Error trying to connect to route" lines the killed node leaves, one a second).
cleanup() {
    local status=$?
    if [ $status -ne 0 ] && [ ${#ports[@]} -gt 0 ]; then
        echo "exit status $status; JetStream's meta group as each node sees it now:" >&2
        jetstream show >&2 || true
        for n in 0 1 2; do
            [ -f "$work/n$n/server.log" ] || continue
            echo "--- the last 40 lines of node n$((n + 1))'s log:" >&2
            grep -v "Error trying to connect to route" "$work/n$n/server.log" | tail -n 40 >&2 || true
        done
    fi
    kill "${pids[@]}" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# `jetstream formed` succeeds once the cluster's JetStream is formed: every node is current with
# one meta leader, which counts the two other nodes as current peers. `jetstream show` prints
# what each node says. (Through each node's monitoring port, the last three of `ports`.)
jetstream() {
    python3 - "$1" "${ports[@]:6:3}" <<'PY'
import json, sys, urllib.error, urllib.request
mode, monitor = sys.argv[1], sys.argv[2:]
names = {f"n{i + 1}" for i in range(len(monitor))}

def get(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/{path}", timeout=2) as reply:
            return json.load(reply)
    except urllib.error.HTTPError as error:  # /healthz answers 503 while JetStream is not ready
        return json.load(error)
    except (OSError, ValueError) as error:
        return {"error": str(error)}

nodes = []
for i, port in enumerate(monitor):
    meta = get(port, "jsz").get("meta_cluster") or {}
    nodes.append({"node": f"n{i + 1}", "health": get(port, "healthz"), "leader": meta.get("leader"),
                  "peers": {r.get("name"): {"current": r.get("current", False), "offline": r.get("offline", False)}
                            for r in meta.get("replicas") or []}})  # only the leader lists them
if mode == "show":
    for n in nodes:
        print(f"  {n['node']}: meta leader {n['leader']}, health {n['health']}, the leader's peers {n['peers']}")
    sys.exit(0)
leader = nodes[0]["leader"]
if not leader or any(n["leader"] != leader or n["health"].get("status") != "ok" for n in nodes):
    sys.exit(1)
peers = next((n["peers"] for n in nodes if n["node"] == leader), {})
sys.exit(0 if {p for p, s in peers.items() if s["current"] and not s["offline"]} == names - {leader} else 1)
PY
}

# 1. Three nats-server nodes on free loopback ports, clustered by routes, JetStream on, each
#    with a monitoring port (http). The ports are taken below the kernel's ephemeral range
#    when there is room: a port found free there cannot be handed meanwhile to a process
#    that binds port 0 (another test's socket took a route port once).
ports=($(python3 -c 'import random, socket
try:
    low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
except (OSError, ValueError, IndexError):
    low = 0
ports = []
while len(ports) < 9:
    port = random.randrange(10000, low) if low > 11000 else 0
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        port = s.getsockname()[1]
        if port not in ports:
            ports.append(port)
    except OSError:
        pass
    finally:
        s.close()
print(*ports)'))
routes="nats-route://127.0.0.1:${ports[3]}, nats-route://127.0.0.1:${ports[4]}, nats-route://127.0.0.1:${ports[5]}"
for n in 0 1 2; do
    mkdir -p "$work/n$n"
    cat > "$work/n$n/server.conf" <<CONF
server_name: "n$((n + 1))"
listen: 127.0.0.1:${ports[$n]}
http: 127.0.0.1:${ports[$((n + 6))]}
jetstream { store_dir: "$work/n$n/js" }
cluster { name: "plant", listen: 127.0.0.1:${ports[$((n + 3))]}, routes: [$routes] }
CONF
    nats-server -c "$work/n$n/server.conf" > "$work/n$n/server.log" 2>&1 &
    pids+=($!)
done
node=("${pids[@]}")
url() { echo "nats://127.0.0.1:${ports[$1]}"; }
# Wait until the nodes listen and their JetStream is formed (at most a minute). A site started
# before its node listens fails at once ("cannot connect"); one started before the meta leader
# counts all three nodes may create the stream while a node is not counted yet, and were that
# node killed (step 3) before it was, a stream with three replicas could never be placed ("no
# suitable peers for placement" until setup_timeout).
deadline=$((SECONDS + 60))
until jetstream formed; do
    for n in 0 1 2; do
        kill -0 "${node[$n]}" 2>/dev/null || { echo "node n$((n + 1)) exited" >&2; exit 1; }
    done
    [ $SECONDS -lt $deadline ] || { echo "the JetStream cluster did not form within a minute" >&2; exit 1; }
    sleep 0.2
done

# 2. The two sites: the device knows node 1, the central site node 2 (each learns the
#    others from the cluster and fails over to them). Each creates or finds the stream
#    "plant" (three replicas) and its own durable consumers.
"$site_app" central "$(url 1)" "$readings" > "$work/central.out" 2>&1 &
central=$!
"$site_app" device "$(url 0)" "$readings" > "$work/device.out" 2>&1 &
device=$!
pids+=($central $device)

# 3. Once the central site has received 100 readings (so the stream exists and readings flow
#    through it), kill node 2 (the central site's) while the rest flow.
until grep -qs "central: 100 readings received" "$work/central.out"; do
    kill -0 $device 2>/dev/null && kill -0 $central 2>/dev/null || break # a site failed: step 4 shows why
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
