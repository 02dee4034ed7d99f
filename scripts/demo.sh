#!/usr/bin/env bash
# Brings the platform up on its embedded defaults in the background, creates the demo user, logs the
# CLI in and shows the result. Idempotent: a running platform and an existing user are reused.
#   scripts/demo.sh        start (or reuse) and log in
#   scripts/demo.sh stop   stop the platform started here
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/.venv/bin"
logs="$root/.cache/logs"
pid_file="$root/.cache/demo-platform.pid"
port=${NEURO_PLATFORM_PORT:-8080}
api_url="http://127.0.0.1:$port/api/v1"
demo_user=demo
demo_password=demo-password
mkdir -p "$logs"

admin() { "$bin/neuro-platform" admin "$@"; }
# shellcheck source=scripts/demo-steps.sh
. "$root/scripts/demo-steps.sh"

if [ "${1:-}" = stop ]; then
    stop_platform
    exit 0
fi

start_platform "$logs/platform.log" --port "$port"
login_demo_user "$demo_password"
neuro config show
storage_round_trip "$root/.cache/demo" neuro-base/busybox:latest
echo
echo "The platform keeps running (log: $logs/platform.log); 'make demo-stop' stops it."
echo "The CLI is .venv/bin/neuro, logged in as '$demo_user'. Try: .venv/bin/neuro ps --all"
