#!/usr/bin/env bash
# Builds and runs the whole test suite (every benchmark in smoke mode included):
# with g++, with clang++, and with clang++
# under AddressSanitizer + UndefinedBehaviorSanitizer. Fails if any test fails.
# Usage: scripts/run-tests.sh [--quick]   (--quick: the g++ configuration only)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
ensure_packages "${EVENT_ENGINE_PACKAGES[@]}"

quick=0
[ "${1:-}" = "--quick" ] && quick=1

ctest_extra=()
run_configuration() { # name, compiler, extra cmake arguments...
    local name=$1 compiler=$2
    shift 2
    local build=build/test-$name
    echo "==> [$name] configure and build ($compiler)"
    cmake -S . -B "$build" -G Ninja -DCMAKE_CXX_COMPILER="$compiler" "$@" >/dev/null
    cmake --build "$build" -j "$EVENT_ENGINE_JOBS"
    echo "==> [$name] test"
    (cd "$build" && ctest --output-on-failure -j "$EVENT_ENGINE_JOBS" "${ctest_extra[@]}")
}

run_configuration gcc g++ -DCMAKE_BUILD_TYPE=Debug -DEVENT_ENGINE_BUILD_BENCHMARKS=ON # benchmarks: smoke runs
if [ "$quick" -eq 0 ]; then
    run_configuration clang clang++ -DCMAKE_BUILD_TYPE=Debug
    # Compile-fail cases and the installed-package build prove nothing more under sanitizers.
    ctest_extra=(--label-exclude "compile_fail|consumer")
    # EVENT_ENGINE_FUZZ: the libFuzzer targets, run briefly as the fuzz.* tests (docs/testing.md).
    run_configuration asan clang++ -DCMAKE_BUILD_TYPE=Debug -DEVENT_ENGINE_SANITIZE=ON \
        -DEVENT_ENGINE_BUILD_BENCHMARKS=OFF -DEVENT_ENGINE_FUZZ=ON
fi
echo "==> all test configurations passed"
