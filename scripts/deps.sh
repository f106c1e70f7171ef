# Sourced by the other scripts: makes sure the Debian 12 packages the project
# needs are installed, installing them with apt-get when run as root and
# otherwise printing the one command that would.

EVENT_ENGINE_PACKAGES=(
    g++ clang libclang-rt-14-dev cmake ninja-build pkg-config
    libzmq3-dev cppzmq-dev libfmt-dev catch2 libboost-dev nlohmann-json3-dev
    python3 python3-zmq python3-pytest python3-setuptools
    python3-numpy # the zero-copy tests read payloads in place with numpy.frombuffer (docs/python.md)
    mypy # the pyevents.mypy test type-checks pyevents (pyevents/pyproject.toml, [tool.mypy])
    libbenchmark-dev    # the Google Benchmark programs ee_gbench_* (docs/benchmarks.md); skipped without it
    python3-matplotlib  # benchmarks/report.py --plots, run by benchmark.smoke.report (docs/benchmarks.md)
)
# The optional NATS bridge (docs/nats.md): libnats to build it, nats-server for its tests.
EVENT_ENGINE_NATS_PACKAGES=(libnats-dev nats-server openssl) # openssl: the TLS and credentials tests make their keys
# What only the test run needs: scripts/run-tests.sh checks the formatting (scripts/format.sh --check).
EVENT_ENGINE_CHECK_PACKAGES=(clang-format-14 git)

ensure_packages() {
    local missing=()
    local package
    for package in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
            missing+=("$package")
        fi
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -eq 0 ]; then
        echo "==> installing missing Debian packages: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
        echo "Missing Debian packages. Install them with:" >&2
        echo "  sudo apt-get install ${missing[*]}" >&2
        exit 1
    fi
}

# Parallel jobs: all cores, as the machine has them.
EVENT_ENGINE_JOBS=$(nproc 2>/dev/null || echo 2)
