#!/usr/bin/env bash
# Builds and runs the seed example end to end on this machine: the C++
# application (MsgProducer, Counter and the engine) and its Python plugin as a
# separate process. Exits 0 only if both do.
# Usage: scripts/run-example.sh   (installs missing Debian packages first)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
ensure_packages "${EVENT_ENGINE_PACKAGES[@]}"

build=build/example
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DEVENT_ENGINE_BUILD_TESTS=OFF -DEVENT_ENGINE_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build "$build" -j "$EVENT_ENGINE_JOBS" --target seed_app

port=${PYPLUGIN_PORT:-6000}
echo "==> starting the application (engine, MsgProducer, Counter; pyplugin on port $port)"
"$build/examples/seed_app" --pyplugin-port "$port" &
app=$!
trap 'kill "$app" 2>/dev/null || true' EXIT
echo "==> starting the Python plugin"
plugin_status=0
PYTHONPATH="$PWD/pyevents" EVENT_ENGINE_HOST=127.0.0.1 \
    timeout 60 /usr/bin/python3 examples/seed_app/pyplugin.py "$port" || plugin_status=$?
app_status=0
wait "$app" || app_status=$?
trap - EXIT
echo "==> application exited with $app_status, Python plugin with $plugin_status"
[ "$app_status" -eq 0 ] && [ "$plugin_status" -eq 0 ]
