#!/usr/bin/env bash
# Starts the services the tests and the demo need, if they are not running yet: dockerd and
# PostgreSQL (with the `neuro` role and database the DB tests use), and the test Slurm cluster.
# Idempotent.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
logs="$root/.cache/logs"
mkdir -p "$logs"

if ! docker info >/dev/null 2>&1; then
    echo "starting dockerd (log: $logs/dockerd.log)"
    setsid nohup dockerd >"$logs/dockerd.log" 2>&1 < /dev/null &
    for _ in $(seq 1 50); do docker info >/dev/null 2>&1 && break; sleep 0.2; done
    docker info >/dev/null 2>&1 || { echo "dockerd did not start, see $logs/dockerd.log"; exit 1; }
fi

pg_version=$(ls /usr/lib/postgresql | sort -n | tail -1)
if ! pg_lsclusters -h | awk '{print $4}' | grep -q online; then
    echo "starting PostgreSQL $pg_version"
    pg_ctlcluster "$pg_version" main start
fi
for _ in $(seq 1 50); do runuser -u postgres -- pg_isready -q && break; sleep 0.2; done
runuser -u postgres -- psql -qtAc "SELECT 1 FROM pg_roles WHERE rolname = 'neuro'" | grep -q 1 \
    || runuser -u postgres -- psql -qc "CREATE ROLE neuro LOGIN SUPERUSER PASSWORD 'neuro'"
runuser -u postgres -- psql -qtAc "SELECT 1 FROM pg_database WHERE datname = 'neuro'" | grep -q 1 \
    || runuser -u postgres -- createdb -O neuro neuro

# The two-node Slurm cluster the Slurm orchestrator's tests run jobs on (idempotent).
"$root/scripts/slurm-cluster.sh" up
