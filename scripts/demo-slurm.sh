#!/usr/bin/env bash
# `make demo-slurm`: the demo of `make demo`, with the jobs on the two-node Slurm test cluster
# and the platform's state in PostgreSQL (docs/scale-out.md). Idempotent: a running platform,
# database and user are reused.
#   scripts/demo-slurm.sh        start (or reuse) the platform, run the demo
#   scripts/demo-slurm.sh stop   stop the platform started here (the cluster keeps running;
#                                scripts/slurm-cluster.sh down stops it)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/.venv/bin"
work="$root/.cache/demo-slurm"
logs="$root/.cache/logs"
pid_file="$work/platform.pid"
port=${NEURO_PLATFORM_SLURM_PORT:-8090}
api_url="http://127.0.0.1:$port/api/v1"
cluster=/tmp/neuro-slurm  # scripts/slurm-cluster.sh's state
database=neuro_demo_slurm
instance=demo-slurm
demo_user=demo
# Its own CLI config: `make demo`'s login (~/.neuro) is left alone.
export NEUROMATION_CONFIG="$work/neuro-config"
export SLURM_CONF="$cluster/etc/slurm.conf"
mkdir -p "$work" "$logs"

admin() { "$bin/neuro-platform" admin --config "$config" "$@"; }
# shellcheck source=scripts/demo-steps.sh
. "$root/scripts/demo-steps.sh"

if [ "${1:-}" = stop ]; then
    stop_platform
    exit 0
fi

# PostgreSQL and the cluster (both idempotent; `make demo-slurm` has started them already).
"$root/scripts/start-services.sh" >/dev/null
"$root/scripts/slurm-cluster.sh" up >/dev/null
runuser -u postgres -- psql -qtAc "SELECT 1 FROM pg_database WHERE datname = '$database'" \
    | grep -q 1 || runuser -u postgres -- createdb -O neuro "$database"

# The nodes cannot pull: they load the demo's image from the shared directory.
image=neuro-base/busybox:latest
archive="$cluster/shared/images/neuro-base_busybox_latest.tar"
if [ ! -f "$archive" ]; then
    "$root/scripts/build-base-images.sh" busybox >/dev/null
    mkdir -p "$(dirname "$archive")"
    docker save -o "$archive.partial" "$image" && mv "$archive.partial" "$archive"
fi

config="$work/platform.toml"
cat >"$config" <<EOF
# Written by scripts/demo-slurm.sh. Storage and data dir are on a filesystem the Slurm nodes
# see at the same path (here: the same machine).
[server]
data_dir = "$work/data"
port = $port

[database]
url = "postgresql+asyncpg://neuro:neuro@127.0.0.1:5432/$database"

[jobs]
orchestrator_instance = "$instance"
api_host = "10.219.0.1"   # the host's address on the cluster network

[node]   # what the two nodes offer together
cpu = 4
memory = 8589934592
gpu = 0

[[clusters]]
name = "default"
engine = "slurm"
presets = [{ name = "cpu-small", cpu = 0.5, memory = 268435456 }]

[slurm]
restd_socket = "$cluster/run/slurmrestd.sock"
token_file = "$cluster/etc/token"
shared_dir = "$cluster/shared"
node_env_file = "$cluster/etc/node.env"
slurm_conf = "$cluster/etc/slurm.conf"
EOF
start_platform "$logs/platform-slurm.log" --config "$config"
login_demo_user demo-password
echo "the CLI (NEUROMATION_CONFIG=$NEUROMATION_CONFIG) is logged in as '$demo_user'"
echo
scontrol -o show node | sed -E 's/^NodeName=([^ ]+).*NodeAddr=([^ ]+).* State=([^ ]+).*/slurm node \1 at \2: \3/'

# The demo of `make demo`: upload, a job reading and writing storage, download.
storage_round_trip "$work/files" "$image"

# Where it ran: Slurm's record of the job (named after the platform's job id).
job_id=$(grep -oE 'job-[0-9a-f-]{36}' "$work/files/run.out" | head -1)
node=$(squeue -h -t all -n "neuro-$instance-$job_id" -o %N | tail -1)
echo
echo "job $job_id ran on Slurm node ${node:-(unknown: Slurm has forgotten the job)}"
echo
echo "The platform keeps running (log: $logs/platform-slurm.log); 'make demo-slurm-stop' stops it."
