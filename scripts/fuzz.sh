#!/usr/bin/env bash
# The long fuzz run (docs/testing.md): builds the libFuzzer targets of tests/fuzz with
# clang++ in build/fuzz, then runs each target for SECONDS_PER_TARGET seconds (default
# 600), one target after another, with one fuzzing process per core.
# What the runs find is kept in build/fuzz/tests/fuzz/corpus/<target>/ and used again
# by the next run; crashing inputs go to build/fuzz/tests/fuzz/artifacts/<target>/,
# the workers' logs to build/fuzz/tests/fuzz/logs/<target>/. Fails if a target crashed.
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
ensure_packages "${EVENT_ENGINE_PACKAGES[@]}"

seconds=${1:-600}
if ! [[ "$seconds" =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: $0 [SECONDS_PER_TARGET]   (a whole number of seconds, default 600)" >&2
    exit 2
fi

build=build/fuzz
fuzz_dir=$PWD/$build/tests/fuzz
seeds_dir=$PWD/tests/fuzz/corpus
targets=()
for source in tests/fuzz/*.cpp; do
    targets+=("$(basename "$source" .cpp)")
done

echo "==> configure and build $build (clang++)"
cmake -S . -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug -DEVENT_ENGINE_FUZZ=ON \
    -DEVENT_ENGINE_BUILD_TESTS=OFF -DEVENT_ENGINE_BUILD_EXAMPLES=OFF -DEVENT_ENGINE_BUILD_BENCHMARKS=OFF \
    -DEVENT_ENGINE_INSTALL=OFF >/dev/null
cmake --build "$build" -j "$EVENT_ENGINE_JOBS" --target "${targets[@]/#/fuzz_}"

echo "==> fuzzing ${#targets[@]} targets for ${seconds} s each, $EVENT_ENGINE_JOBS processes each"
echo "    crashing inputs are written to $fuzz_dir/artifacts/<target>/"
failed=()
for target in "${targets[@]}"; do
    corpus=$fuzz_dir/corpus/$target
    artifacts=$fuzz_dir/artifacts/$target
    logs=$fuzz_dir/logs/$target
    mkdir -p "$corpus" "$artifacts" "$logs"
    rm -f "$logs"/fuzz-*.log
    dictionary=()
    [ -f "tests/fuzz/$target.dict" ] && dictionary=("-dict=$PWD/tests/fuzz/$target.dict")
    echo "==> [$target] corpus $corpus"
    # -jobs/-workers: that many fuzzing processes at once, sharing the corpus directory
    # (each picks up the others' finds); each runs for the whole time unless it crashes.
    if (cd "$logs" && "$fuzz_dir/fuzz_$target" -jobs="$EVENT_ENGINE_JOBS" -workers="$EVENT_ENGINE_JOBS" \
            -max_total_time="$seconds" -timeout=10 -print_final_stats=1 -artifact_prefix="$artifacts/" \
            "${dictionary[@]}" "$corpus" "$seeds_dir/$target" >/dev/null 2>&1); then
        status=passed
    else
        status=FAILED
        failed+=("$target")
    fi
    executed=$(cat "$logs"/fuzz-*.log 2>/dev/null | sed -n 's/^stat::number_of_executed_units: *//p' |
               awk '{ total += $1 } END { print total + 0 }')
    echo "    $status: $executed inputs run, $(find "$corpus" -type f | wc -l) in the corpus, logs in $logs"
done

crashes=$(find "$fuzz_dir/artifacts" -type f | sort)
if [ -n "$crashes" ]; then
    echo "==> inputs that crashed a target (reproduce: $fuzz_dir/fuzz_<target> <file>):"
    echo "$crashes" | sed 's/^/    /'
fi
if [ ${#failed[@]} -ne 0 ]; then
    echo "==> fuzzing found problems in: ${failed[*]}" >&2
    exit 1
fi
echo "==> no crash in any target"
