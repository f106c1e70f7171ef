#!/usr/bin/env bash
# Runs the pipeline application and its typed Python plugin on a free port, then checks the
# exact counts both print: the application's report, the Report Sensors received, and the
# analyst's first Reading field for field. Usage: run_pipeline.sh <pipeline_app binary> <analyst.py>
set -euo pipefail
app_binary=$1
plugin=$2
port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
app_log=$(mktemp)
plugin_log=$(mktemp)
trap 'rm -f "$app_log" "$plugin_log"' EXIT
timeout 60 "$app_binary" --analyst-port "$port" --publish-port 0 --subscribe-port 0 --readings 12 >"$app_log" 2>&1 &
app=$!
plugin_status=0
timeout 60 /usr/bin/python3 "$plugin" "$port" 12 >"$plugin_log" 2>&1 || plugin_status=$?
app_status=0
wait "$app" || app_status=$?
cat "$app_log" "$plugin_log"
echo "application exited with $app_status, Python plugin with $plugin_status"
[ "$app_status" -eq 0 ] && [ "$plugin_status" -eq 0 ]

failed=0
expect() { # expect FILE LINE: the exact line is in the file
    if ! grep -qxF -- "$2" "$1"; then echo "MISSING: $2"; failed=1; fi
}
expect "$app_log" "  Sensors: finished; received 1, published 12"
expect "$app_log" "  Aggregator: finished; received 12, published 10"
expect "$app_log" "  analyst: finished; received 22, published 1"
expect "$app_log" "Sensors: Report readings=12 summaries=6 alerts=4 sites=north,roof,south summaries_match=true"
expect "$plugin_log" "analyst: first reading: Reading(sensor=1, sequence=1, location=Location(site='south', floor=0), samples=[Sample(quantity=0, value=25.5), Sample(quantity=1, value=41.0)], note=None, firmware=[1, 4, 1])"
expect "$plugin_log" "analyst: 12 readings, 6 summaries, 4 alerts; every summary and alert as recomputed: True"
exit "$failed"
