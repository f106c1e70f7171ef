#!/usr/bin/env bash
# Builds and runs the seed example application end to end.
# Usage: scripts/run-example.sh   (installs missing Debian packages first)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
ensure_packages "${EVENT_ENGINE_PACKAGES[@]}"

build=build/example
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DEVENT_ENGINE_BUILD_TESTS=OFF -DEVENT_ENGINE_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build "$build" -j "$EVENT_ENGINE_JOBS" --target seed_app
exec "$build/examples/seed_app"
