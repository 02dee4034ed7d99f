#!/usr/bin/env bash
# Installs what the platform, its demo and its tests need on a fresh Debian machine (run as root).
# Idempotent: only missing packages are installed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

debian_packages=(
    postgresql      # the multi-node database the DB tests run on
    docker.io       # the embedded job runtime
    debootstrap     # builds the offline base image for jobs
    busybox-static  # the tiny offline image for fast tests
    chromium chromium-driver  # the browser that drives the OAuth login page in tests
    docker-registry # the private image registry behind /v2/ (distribution 2.8)
    slurm-wlm munge slurmrestd podman  # the test Slurm cluster (scripts/slurm-cluster.sh)
)
missing=()
for package in "${debian_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
        || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! command -v uv >/dev/null 2>&1; then
    echo "installing uv"
    python3 -m pip install --quiet --disable-pip-version-check uv
fi

cd "$root"
uv sync --frozen --quiet
