#!/usr/bin/env bash
# Builds and runs the whole test suite (every benchmark in smoke mode included):
# with g++, with clang++, and with clang++
# under AddressSanitizer + UndefinedBehaviorSanitizer; then builds the README's
# Release command with both compilers. Fails if any test or build fails.
# Usage: scripts/run-tests.sh [--quick]   (--quick: the g++ configuration only)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
ensure_packages "${EVENT_ENGINE_PACKAGES[@]}"
ensure_packages "${EVENT_ENGINE_NATS_PACKAGES[@]}" # the NATS bridge's tests (label nats) run in every configuration

quick=0
[ "${1:-}" = "--quick" ] && quick=1

ctest_extra=()
run_configuration() { # name, compiler, extra cmake arguments...
    local name=$1 compiler=$2
    shift 2
    local build=build/test-$name
    echo "==> [$name] configure and build ($compiler)"
    # Warnings are errors here, in the project's own test builds (never in a user's build).
    cmake -S . -B "$build" -G Ninja -DCMAKE_CXX_COMPILER="$compiler" -DEVENT_ENGINE_WERROR=ON "$@" >/dev/null
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
if [ "$quick" -eq 0 ]; then
    # The README's "Using it in your project" build, verbatim, with both compilers
    # (CXX picks the compiler; CMAKE_BUILD_PARALLEL_LEVEL only makes it use both cores).
    for compiler in g++ clang++; do
        echo "==> [readme-$compiler] the README's build command, Release, in a copy of the sources"
        copy=build/readme-$compiler
        rm -rf "$copy"
        mkdir -p "$copy"
        tar --exclude=./build --exclude=./.git -cf - . | tar -xf - -C "$copy"
        if ! (export CXX=$compiler CMAKE_BUILD_PARALLEL_LEVEL=$EVENT_ENGINE_JOBS
              cd "$copy" &&
              cmake -S . -B build -DCMAKE_BUILD_TYPE=Release && cmake --build build) > "$copy.log" 2>&1; then
            cat "$copy.log"
            echo "==> [readme-$compiler] FAILED" >&2
            exit 1
        fi
        echo "    built ($(grep -c 'warning:' "$copy.log" || true) compiler warnings, not errors: see $copy.log)"
    done
fi
echo "==> all test configurations passed"
