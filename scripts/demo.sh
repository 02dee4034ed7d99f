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

platform_is_up() { curl -fsS "$api_url/ping" >/dev/null 2>&1; }

if [ "${1:-}" = stop ]; then
    if [ -f "$pid_file" ] && kill "$(cat "$pid_file")" 2>/dev/null; then
        echo "platform stopped"
    fi
    rm -f "$pid_file"
    exit 0
fi

if platform_is_up; then
    echo "platform already answers at $api_url"
else
    echo "starting the platform at $api_url (log: $logs/platform.log)"
    setsid nohup "$bin/neuro-platform" serve --port "$port" >"$logs/platform.log" 2>&1 </dev/null &
    echo $! >"$pid_file"
    for _ in $(seq 1 100); do platform_is_up && break; sleep 0.2; done
    platform_is_up || { tail -n 30 "$logs/platform.log"; echo "the platform did not start"; exit 1; }
fi

if ! "$bin/neuro-platform" admin user list | grep -qx "$demo_user"; then
    "$bin/neuro-platform" admin user add "$demo_user" --password "$demo_password"
    echo "created user '$demo_user' (password '$demo_password'; try: neuro login $api_url)"
fi
token=$("$bin/neuro-platform" admin token issue "$demo_user")

"$bin/neuro" logout >/dev/null 2>&1 || true
"$bin/neuro" config login-with-token "$token" "$api_url"
"$bin/neuro" config show
