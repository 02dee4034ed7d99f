# The steps scripts/demo.sh and scripts/demo-slurm.sh share; sourced by both after they set
# `bin` (the virtual environment's bin/), `api_url`, `pid_file` and `demo_user`, and define
# `admin` (`neuro-platform admin` on their platform's settings).

neuro() { "$bin/neuro" "$@"; }

platform_is_up() { curl -fsS "$api_url/ping" >/dev/null 2>&1; }

# Stops the platform this demo started, if it runs.
stop_platform() {
    if [ -f "$pid_file" ] && kill "$(cat "$pid_file")" 2>/dev/null; then
        echo "platform stopped"
    fi
    rm -f "$pid_file"
}

# start_platform LOG [SERVE-ARGS...]: serves the platform in the background unless it answers.
start_platform() {
    local log=$1
    shift
    if platform_is_up; then
        echo "platform already answers at $api_url"
        return
    fi
    echo "starting the platform at $api_url (log: $log)"
    setsid nohup "$bin/neuro-platform" serve "$@" >"$log" 2>&1 </dev/null &
    echo $! >"$pid_file"
    for _ in $(seq 1 150); do platform_is_up && break; sleep 0.2; done
    platform_is_up || { tail -n 30 "$log"; echo "the platform did not start"; exit 1; }
}

# login_demo_user PASSWORD: creates the demo user unless it exists, logs the CLI in as it.
login_demo_user() {
    if ! admin user list | grep -qx "$demo_user"; then
        admin user add "$demo_user" --password "$1"
        echo "created user '$demo_user' (password '$1'; try: neuro login $api_url)"
    fi
    neuro logout >/dev/null 2>&1 || true
    neuro config login-with-token "$(admin token issue "$demo_user")" "$api_url"
}

# storage_round_trip DIR IMAGE: uploads a folder, lets a job read it from a read-only volume and
# write its result to a read-write one, then downloads the result; the job's output is kept in
# DIR/run.out.
storage_round_trip() {
    local files=$1 image=$2
    rm -rf "$files" && mkdir -p "$files/input"
    printf 'the quick brown fox\njumps over the lazy dog\n' >"$files/input/fox.txt"
    printf 'hello neuro platform\n' >"$files/input/hello.txt"
    echo
    echo "\$ neuro cp -r $files/input storage:demo/input"
    neuro rm -r storage:demo >/dev/null 2>&1 || true
    neuro mkdir -p storage:demo/output
    neuro cp -r -T "$files/input" storage:demo/input
    neuro ls -l storage:demo/input
    echo
    echo "\$ neuro run --volume storage:demo/input:/input:ro --volume storage:demo/output:/output ..."
    neuro run --preset cpu-small \
        --volume storage:demo/input:/input:ro --volume storage:demo/output:/output:rw \
        "$image" -- sh -c 'wc -w /input/*.txt | tee /output/word-counts.txt' | tee "$files/run.out"
    echo
    echo "\$ neuro cp storage:demo/output/word-counts.txt $files/word-counts.txt"
    neuro cp storage:demo/output/word-counts.txt "$files/word-counts.txt"
    cat "$files/word-counts.txt"
}
