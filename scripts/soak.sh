#!/usr/bin/env bash
# The soak runner (docs/testing.md, "Soak runs"): two applications with internal and external
# (Python) plugins joined through a three-node JetStream cluster by their NATS bridges, under a
# steady load, while external plugin processes and NATS nodes are SIGKILLed and restarted at
# random; checks that nothing is lost where the docs promise at least once, that every loss is
# counted, and that RSS, descriptors and threads stay flat after warm-up.
#
# Usage: scripts/soak.sh <minutes> [tests/soak/soak.py options: --rate N, --seed N, --samples FILE, --keep ...]
#   <minutes> may be a fraction (0.5: 30 seconds; at least 0.25).
# Builds the application (target ee_soak_app) in build/soak (Release), or uses the build tree
# named by SOAK_BUILD_DIR (relative to the source tree: scripts/run-tests.sh runs the script of its gcc
# configuration's copy of the sources with SOAK_BUILD_DIR=build, the build that has the target).
# Exits non-zero on any failure, with the reasons; prints a summary table.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 1 ] || ! [[ $1 =~ ^[0-9]+([.][0-9]+)?$ ]]; then
    echo "usage: scripts/soak.sh <minutes> [options of tests/soak/soak.py]" >&2
    exit 2
fi
minutes=$1
shift
source scripts/deps.sh
ensure_packages "${EVENT_ENGINE_PACKAGES[@]}"
ensure_packages "${EVENT_ENGINE_NATS_PACKAGES[@]}"

build=${SOAK_BUILD_DIR:-build/soak}
if [ -z "${SOAK_BUILD_DIR:-}" ]; then
    echo "==> [soak] building ee_soak_app in $build (Release)"
    if [ ! -f "$build/CMakeCache.txt" ]; then
        cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
    fi
    cmake --build "$build" --target ee_soak_app -j "$EVENT_ENGINE_JOBS"
fi
app=$build/tests/soak/ee_soak_app
if [ ! -x "$app" ]; then
    echo "==> [soak] $app is missing: is libnats installed (the target is built only where it is found)?" >&2
    exit 1
fi
if [ "$(git rev-parse --show-toplevel 2>/dev/null)" = "$PWD" ] && tree=$(git rev-parse --short HEAD 2>/dev/null); then
    git diff --quiet HEAD 2>/dev/null || tree="$tree + uncommitted changes (git diff HEAD: $(git diff HEAD | sha256sum | cut -c1-12))"
    echo "==> [soak] source tree: $tree"
fi
seconds=$(/usr/bin/python3 -c "import sys; print(round(float(sys.argv[1]) * 60))" "$minutes")
echo "==> [soak] $minutes minute(s): tests/soak/soak.py --seconds $seconds $*"
exec /usr/bin/python3 tests/soak/soak.py --seconds "$seconds" --app "$app" "$@"
