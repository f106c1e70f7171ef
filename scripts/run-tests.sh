#!/usr/bin/env bash
# Builds and runs the whole test suite (the NATS bridge's tests included) in three
# configurations:
#   gcc, clang  the README's "Using it in your project" build command, verbatim, in a copy of
#               the sources (Release; tests and examples are on by default there),
#               with g++ and with clang++; any compiler warning fails the run (the build itself
#               never turns warnings into errors: that is for this script, not for users);
#   asan        clang++ Debug under AddressSanitizer + UndefinedBehaviorSanitizer, -Werror,
#               with the libFuzzer targets run briefly and the header self-containment check
#               built (docs/testing.md);
#   tsan        clang++ Debug under ThreadSanitizer, -Werror: every test that runs event_engine's
#               C++ code (unit, integration, the external plugins' and the NATS bridge's tests,
#               whose Python drives the instrumented engine processes); a race report in any
#               of those processes fails the run (docs/testing.md, "ThreadSanitizer").
# The gcc configuration then also builds the benchmarks (EVENT_ENGINE_BUILD_BENCHMARKS, off in
# the README's build) and runs them in smoke mode with the other tests, then a 60-second soak
# run (scripts/soak.sh 1) on that build.
# Fails if any build or test fails.
# Usage: scripts/run-tests.sh [--quick | --tsan]   (--quick: the gcc configuration only;
#                                                   --tsan: the tsan configuration only)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
ensure_packages "${EVENT_ENGINE_PACKAGES[@]}"
ensure_packages "${EVENT_ENGINE_NATS_PACKAGES[@]}" # the NATS bridge's tests (label nats) run in every configuration
ensure_packages "${EVENT_ENGINE_CHECK_PACKAGES[@]}"

# Formatting first: every tracked C++ file as .clang-format formats it (clang-format-14).
echo "==> formatting (scripts/format.sh --check)"
scripts/format.sh --check

quick=0
[ "${1:-}" = "--quick" ] && quick=1
tsan_only=0
[ "${1:-}" = "--tsan" ] && tsan_only=1

run_ctest() { # build directory, extra ctest arguments...
    local build=$1
    shift
    (cd "$build" && ctest --output-on-failure -j "$EVENT_ENGINE_JOBS" "$@")
}

# Fails the run if the build log @p log has a compiler warning.
no_warnings() { # name, log
    local name=$1 log=$2 warnings
    warnings=$(grep -c 'warning:' "$log" || true)
    if [ "$warnings" -ne 0 ]; then
        grep -B2 -A6 'warning:' "$log" >&2
        echo "==> [$name] $warnings compiler warnings (log: $log): this script treats them as errors" >&2
        exit 1
    fi
}

readme_configuration() { # name, compiler, then: with-benchmarks or nothing
    local name=$1 compiler=$2 benchmarks=${3:-}
    local copy=build/test-$name
    echo "==> [$name] the README's build command (Release, $compiler) in a copy of the sources"
    rm -rf "$copy"
    mkdir -p "$copy"
    tar --exclude=./build --exclude=./.git -cf - . | tar -xf - -C "$copy"
    # CXX picks the compiler; CMAKE_BUILD_PARALLEL_LEVEL only makes it use every core.
    if ! (export CXX=$compiler CMAKE_BUILD_PARALLEL_LEVEL=$EVENT_ENGINE_JOBS
          cd "$copy" &&
          cmake -S . -B build -DCMAKE_BUILD_TYPE=Release && cmake --build build) > "$copy.log" 2>&1; then
        cat "$copy.log"
        echo "==> [$name] the README's build FAILED (log: $copy.log)" >&2
        exit 1
    fi
    no_warnings "$name" "$copy.log"
    if [ "$benchmarks" = with-benchmarks ]; then
        echo "==> [$name] and the benchmarks (smoke runs)"
        if ! (export CMAKE_BUILD_PARALLEL_LEVEL=$EVENT_ENGINE_JOBS
              cd "$copy" &&
              cmake -S . -B build -DEVENT_ENGINE_BUILD_BENCHMARKS=ON && cmake --build build) > "$copy-benchmarks.log" 2>&1; then
            cat "$copy-benchmarks.log"
            echo "==> [$name] building the benchmarks FAILED" >&2
            exit 1
        fi
        no_warnings "$name" "$copy-benchmarks.log"
        # Optional in a user's build, required here (deps.sh installs both): the Google Benchmark
        # smoke runs (benchmark.smoke.gbench_*, a few ms per benchmark) and the report's plots.
        # (grep without -q reads all of ctest's output: no SIGPIPE under pipefail)
        if ! (cd "$copy/build" && ctest -N -R '^benchmark\.smoke\.gbench_(dispatch|codec)$' | grep 'Total Tests: 2' &&
              ctest -N -V -R '^benchmark\.smoke\.report$' | grep -- '--plots') >/dev/null; then
            echo "==> [$name] the Google Benchmark smoke tests or the report's plots are not set up" \
                 "(libbenchmark-dev, python3-matplotlib)" >&2
            exit 1
        fi
    fi
    echo "==> [$name] built, no warnings; test"
    run_ctest "$copy/build"
}

# ThreadSanitizer: clang++ Debug, -Werror. TSan excludes ASan, so a build of its own.
tsan_configuration() {
    local build=build/test-tsan reports
    echo "==> [tsan] configure and build (clang++ Debug, ThreadSanitizer, -Werror)"
    cmake -S . -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug -DEVENT_ENGINE_WERROR=ON \
        -DEVENT_ENGINE_SANITIZE_THREAD=ON >/dev/null
    cmake --build "$build" -j "$EVENT_ENGINE_JOBS"
    echo "==> [tsan] test"
    # Every process's reports go to files (log_path: <prefix>.<pid>), so that a race in an engine
    # process that a Python test starts (whose stderr the test may not show) still fails the run.
    # halt_on_error: the process stops at its first race, so its test fails too.
    reports=$PWD/$build/tsan-reports
    rm -rf "$reports"
    mkdir -p "$reports"
    # Left out: compile_fail (compiler diagnostics, no code runs), consumer (installed-package
    # builds: CMake and the compiler, not event_engine's threads), fuzz (libFuzzer targets are
    # ASan builds, off here) and benchmark (not built here; timing under TSan means nothing).
    # The generated dispatch code's 256-topic sets are not built (tests/CMakeLists.txt).
    local status=0
    local -x TSAN_OPTIONS
    TSAN_OPTIONS="suppressions=$PWD/tests/tsan/tsan.supp halt_on_error=1 second_deadlock_stack=1"
    TSAN_OPTIONS+=" log_path=$reports/tsan"
    run_ctest "$build" --label-exclude "compile_fail|consumer|fuzz|benchmark" || status=$?
    if compgen -G "$reports/tsan.*" >/dev/null; then
        cat "$reports"/tsan.* >&2
        echo "==> [tsan] ThreadSanitizer reports (above; files in $reports)" >&2
        exit 1
    fi
    [ "$status" -eq 0 ] || exit "$status"
}
if [ "$tsan_only" -eq 1 ]; then
    tsan_configuration
    echo "==> the tsan configuration passed"
    exit 0
fi

readme_configuration gcc g++ with-benchmarks
# A 60-second soak (docs/testing.md, "Soak runs") on the gcc build, which has its application
# (ee_soak_app, built with the tests where libnats is found): plugin processes and NATS nodes
# SIGKILLed under load; nothing lost, every loss counted, memory and descriptors flat.
# Bounded: a hang fails after 15 minutes (SIGTERM: the runner stops its children and reports;
# SIGKILL a minute later if it has not exited) instead of eating the whole run's time.
echo "==> [gcc] a 60-second soak run (scripts/soak.sh 1, at most 15 minutes)"
SOAK_BUILD_DIR=build timeout -k 60 900 build/test-gcc/scripts/soak.sh 1 # the copy's script, with the copy's build
if [ "$quick" -eq 0 ]; then
    readme_configuration clang clang++
    build=build/test-asan
    echo "==> [asan] configure and build (clang++ Debug, ASan+UBSan, -Werror, libFuzzer targets)"
    # The header self-containment check (off by default: a developer's check, ~130 sources) is built
    # here, once, under -Werror, rather than in both README builds.
    cmake -S . -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug -DEVENT_ENGINE_WERROR=ON \
        -DEVENT_ENGINE_SANITIZE=ON -DEVENT_ENGINE_FUZZ=ON -DEVENT_ENGINE_HEADER_CHECK=ON >/dev/null
    cmake --build "$build" -j "$EVENT_ENGINE_JOBS"
    echo "==> [asan] test"
    # Compile-fail cases and the installed-package build prove nothing more under sanitizers.
    run_ctest "$build" --label-exclude "compile_fail|consumer"
    tsan_configuration
fi
echo "==> all test configurations passed"
