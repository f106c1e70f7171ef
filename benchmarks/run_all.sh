#!/usr/bin/env bash
# Runs every benchmark and writes <build-dir>/benchmark-results/results.{md,json}.
#
#   benchmarks/run_all.sh [--smoke] <build-dir>
#
# Configures <build-dir> (Release, Ninja, benchmarks on) if it is not configured
# yet, builds the benchmark programs (-j2), then runs:
#   (a) dispatch overhead          ee_bench_dispatch         -> dispatch.json
#   (a, b) instruction counts      callgrind_counts.py       -> instructions.json (not in smoke mode)
#   (b) end-to-end load test       ee_bench_load             -> load_test.json
#   (c) external Python plugins    external_bench.py         -> external.json (fetch, publish, typed,
#                                  camera-traps rows beside raw ZeroMQ floors, ee_bench_external_floor)
#   (d) compile time               compile_time.py           -> compile_time.json
#   in-process delivery (issue 22) ee_bench_inprocess        -> inprocess.json (this tree only;
#                                  benchmarks/inprocess/compare.py compares it with e54445f)
# and merges them with report.py, which also redraws the plots of docs/benchmarks.md
# (docs/images/bench-*.svg, their inputs copied to benchmarks/results/; with --smoke into
# <build-dir>/benchmark-results/plots instead, so a smoke run never overwrites them;
# skipped, with a note, without python3-matplotlib).
# --smoke: tiny sizes, few iterations, the smallest compile-time point only (well under a
# minute; no time is asserted).
# Exits non-zero if a benchmark failed to run or a count was not exact; missed
# performance targets are reported in results.md, not as a failure.
set -euo pipefail

smoke=0
if [[ "${1:-}" == "--smoke" ]]; then
    smoke=1
    shift
fi
if [[ $# -ne 1 ]]; then
    echo "usage: $0 [--smoke] <build-dir>" >&2
    exit 2
fi

python=/usr/bin/python3
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source_dir="$(dirname "$here")"
build_dir="$1"
mkdir -p "$build_dir"
build_dir="$(cd "$build_dir" && pwd)"

if [[ ! -f "$build_dir/CMakeCache.txt" ]]; then
    generator=()
    if command -v ninja >/dev/null; then generator=(-G Ninja); fi
    cmake -S "$source_dir" -B "$build_dir" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
        -DEVENT_ENGINE_BUILD_BENCHMARKS=ON
else
    cmake -S "$source_dir" -B "$build_dir" -DEVENT_ENGINE_BUILD_BENCHMARKS=ON >/dev/null
fi
cmake --build "$build_dir" --target ee_benchmarks -j 2

config="$(find "$build_dir" -name bench_config.json -path '*benchmarks*' | head -n 1)"
if [[ -z "$config" ]]; then
    echo "run_all: no bench_config.json under $build_dir (is EVENT_ENGINE_BUILD_BENCHMARKS on?)" >&2
    exit 1
fi
field() { "$python" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$config" "$1"; }
dispatch="$(field dispatch)"
load="$(field load)"
external_engine="$(field external_engine)"
external_floor="$(field external_floor)"
inprocess="$(field inprocess)"

out="$build_dir/benchmark-results"
mkdir -p "$out"
rm -f "$out"/dispatch.json "$out"/instructions.json "$out"/load_test.json "$out"/external.json "$out"/compile_time.json \
    "$out"/inprocess.json
mode=()
if [[ $smoke -eq 1 ]]; then mode=(--smoke); fi

status=0
step() {
    local name="$1"
    shift
    echo
    echo "== $name"
    local started=$SECONDS
    if ! "$@"; then
        echo "run_all: $name FAILED" >&2
        status=1
    fi
    echo "   ($name: $((SECONDS - started)) s)"
}

step "dispatch (a)" "$dispatch" "${mode[@]}" --json "$out/dispatch.json"
if [[ $smoke -eq 0 ]]; then
    step "instruction counts (a, b; callgrind)" "$python" "$here/callgrind_counts.py" --dispatch "$dispatch" \
        --load "$load" --json "$out/instructions.json"
fi
step "load test (b)" "$load" "${mode[@]}" --json "$out/load_test.json"
step "external plugin (c)" "$python" "$here/external_bench.py" "${mode[@]}" --engine "$external_engine" \
    --floor "$external_floor" --pyevents "$source_dir/pyevents" --json "$out/external.json"
step "compile time (d)" "$python" "$here/compile_time.py" "${mode[@]}" --config "$config" \
    --work-dir "$out/compile_time" --json "$out/compile_time.json"
step "in-process delivery (issue 22)" "$inprocess" "${mode[@]}" --json "$out/inprocess.json"
plots=("$source_dir/docs/images")
if [[ $smoke -eq 1 ]]; then plots=("$out/plots"); fi
if "$python" -c "import matplotlib" 2>/dev/null; then
    plots=(--plots "${plots[0]}")
else
    echo "run_all: no matplotlib for $python: the plots are not redrawn (apt-get install python3-matplotlib)" >&2
    plots=()
fi
step "report" "$python" "$here/report.py" --results-dir "$out" --source-dir "$source_dir" "${plots[@]}"
if [[ $smoke -eq 0 && ${#plots[@]} -gt 0 ]]; then
    # The plots' inputs beside them in the source tree (benchmarks/results/), so that
    # report.py --plots-only redraws the same pictures without running anything.
    for input in dispatch external compile_time; do
        if [[ -f "$out/$input.json" ]]; then cp "$out/$input.json" "$here/results/$input.json"; fi
    done
fi

echo
echo "results: $out/results.md and $out/results.json"
exit $status
