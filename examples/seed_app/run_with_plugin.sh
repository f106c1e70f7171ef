#!/usr/bin/env bash
# Runs the seed application and its Python plugin on a free port; passes if both exit 0.
# Usage: run_with_plugin.sh <seed_app binary> <pyplugin.py>
set -euo pipefail
app_binary=$1
plugin=$2
port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$app_binary" --pyplugin-port "$port" --publish-port 0 --subscribe-port 0 &
app=$!
plugin_status=0
timeout 60 /usr/bin/python3 "$plugin" "$port" || plugin_status=$?
app_status=0
wait "$app" || app_status=$?
echo "application exited with $app_status, Python plugin with $plugin_status"
[ "$app_status" -eq 0 ] && [ "$plugin_status" -eq 0 ]
