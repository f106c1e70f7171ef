#!/usr/bin/env bash
# Builds and runs the seed example end to end on this machine: the C++
# application (MsgProducer, Counter and the engine) and its Python plugin as a
# separate process. Exits 0 only if both do.
# Usage: scripts/run-example.sh   (installs missing Debian packages first)
# Ports (environment variables, all on 127.0.0.1):
#   PUBLISH_PORT    the application's publish port (default 5559; 0: any free port)
#   SUBSCRIBE_PORT  the application's subscribe port (default 5560; 0: any free port)
#   PYPLUGIN_PORT   the Python plugin's port, given to the application and to the plugin (default 6000)
# e.g. PUBLISH_PORT=7559 SUBSCRIBE_PORT=7560 PYPLUGIN_PORT=7000 scripts/run-example.sh
set -euo pipefail
cd "$(dirname "$0")/.."

publish_port=${PUBLISH_PORT:-5559}
subscribe_port=${SUBSCRIBE_PORT:-5560}
pyplugin_port=${PYPLUGIN_PORT:-6000}
check_port() { # name value lowest
    if ! [[ $2 =~ ^[0-9]{1,5}$ ]] || [ "$2" -lt "$3" ] || [ "$2" -gt 65535 ]; then
        echo "run-example.sh: $1=$2 is not a port number ($3 to 65535)" >&2
        exit 2
    fi
}
check_port PUBLISH_PORT "$publish_port" 0
check_port SUBSCRIBE_PORT "$subscribe_port" 0
check_port PYPLUGIN_PORT "$pyplugin_port" 1 # the plugin's process must know it

source scripts/deps.sh
ensure_packages "${EVENT_ENGINE_PACKAGES[@]}"

build=build/example
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DEVENT_ENGINE_BUILD_TESTS=OFF -DEVENT_ENGINE_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build "$build" -j "$EVENT_ENGINE_JOBS" --target seed_app

echo "==> starting the application (engine on ports $publish_port/$subscribe_port, MsgProducer, Counter;" \
     "pyplugin on port $pyplugin_port)"
"$build/examples/seed_app" --publish-port "$publish_port" --subscribe-port "$subscribe_port" \
    --pyplugin-port "$pyplugin_port" &
app=$!
trap 'kill "$app" 2>/dev/null || true' EXIT
echo "==> starting the Python plugin"
PYTHONPATH="$PWD/pyevents" EVENT_ENGINE_HOST=127.0.0.1 \
    timeout 60 /usr/bin/python3 examples/seed_app/pyplugin.py "$pyplugin_port" &
plugin=$!
trap 'kill "$app" "$plugin" 2>/dev/null || true' EXIT
app_status=0
wait "$app" || app_status=$?
# The application has finished (after the plugin's quit) or failed (e.g. a port in use):
# a plugin still running after 5 s has nobody to talk to.
for _ in $(seq 50); do kill -0 "$plugin" 2>/dev/null || break; sleep 0.1; done
kill "$plugin" 2>/dev/null || true
plugin_status=0
wait "$plugin" || plugin_status=$?
trap - EXIT
echo "==> application exited with $app_status, Python plugin with $plugin_status"
[ "$app_status" -eq 0 ] && [ "$plugin_status" -eq 0 ]
