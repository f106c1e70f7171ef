#!/usr/bin/env bash
# Renders the seed example's event graph into docs/images/seed_graph.svg (and .dot):
# builds seed_app, runs it on free ports until it has written its manifest
# (app_config::manifest_path, written once bound, before any plugin starts), stops it,
# turns the manifest into Graphviz DOT with pyevents.graph and renders it with dot.
#
# Usage: scripts/render-graph.sh [BUILD_DIR]   (default build/graph; Debian: graphviz)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/scripts/deps.sh"
ensure_packages "${EVENT_ENGINE_PACKAGES[@]}" graphviz

build=${1:-$root/build/graph}
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DEVENT_ENGINE_BUILD_BENCHMARKS=OFF \
    -DEVENT_ENGINE_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" --target seed_app -j "${EVENT_ENGINE_JOBS}" >/dev/null

work=$(mktemp -d)
app_pid=
cleanup() {
    if [ -n "$app_pid" ] && kill -0 "$app_pid" 2>/dev/null; then
        kill -TERM "$app_pid" 2>/dev/null || true
        wait "$app_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

manifest="$work/seed.manifest.json"
"$build/examples/seed_app" --publish-port 0 --subscribe-port 0 --pyplugin-port 0 --manifest "$manifest" \
    >"$work/seed_app.log" 2>&1 &
app_pid=$!
for _ in $(seq 1 200); do
    [ -s "$manifest" ] && break
    sleep 0.05
done
if [ ! -s "$manifest" ]; then
    cat "$work/seed_app.log" >&2
    echo "render-graph.sh: seed_app wrote no manifest within 10 s" >&2
    exit 1
fi
# It waits for its Python plugin, which never comes: stop it (SIGTERM, stop_on_signals).
kill -TERM "$app_pid"
wait "$app_pid" 2>/dev/null || true
app_pid=

mkdir -p "$root/docs/images"
PYTHONPATH="$root/pyevents" /usr/bin/python3 -m pyevents.graph --format dot "$manifest" >"$root/docs/images/seed_graph.dot"
dot -Tsvg "$root/docs/images/seed_graph.dot" -o "$root/docs/images/seed_graph.svg"
PYTHONPATH="$root/pyevents" /usr/bin/python3 -m pyevents.graph --format mermaid "$manifest"
echo "wrote docs/images/seed_graph.dot and docs/images/seed_graph.svg (the Mermaid form is above)"
