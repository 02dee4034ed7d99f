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

# A round trip through storage and a job: upload a folder, let a job read it from a read-only
# volume and write its result to a read-write one, then download the result.
neuro() { "$bin/neuro" "$@"; }
work="$root/.cache/demo"
rm -rf "$work" && mkdir -p "$work/input"
printf 'the quick brown fox\njumps over the lazy dog\n' >"$work/input/fox.txt"
printf 'hello neuro platform\n' >"$work/input/hello.txt"
echo
echo "\$ neuro cp -r $work/input storage:demo/input"
neuro rm -r storage:demo >/dev/null 2>&1 || true
neuro mkdir -p storage:demo/output
neuro cp -r -T "$work/input" storage:demo/input
neuro ls -l storage:demo/input
echo
echo "\$ neuro run --volume storage:demo/input:/input:ro --volume storage:demo/output:/output ..."
neuro run --preset cpu-small \
    --volume storage:demo/input:/input:ro --volume storage:demo/output:/output:rw \
    neuro-base/busybox:latest -- sh -c 'wc -w /input/*.txt | tee /output/word-counts.txt'
echo
echo "\$ neuro cp storage:demo/output/word-counts.txt $work/word-counts.txt"
neuro cp storage:demo/output/word-counts.txt "$work/word-counts.txt"
cat "$work/word-counts.txt"
echo
echo "The platform keeps running (log: $logs/platform.log); 'make demo-stop' stops it."
echo "The CLI is .venv/bin/neuro, logged in as '$demo_user'. Try: .venv/bin/neuro ps --all"
