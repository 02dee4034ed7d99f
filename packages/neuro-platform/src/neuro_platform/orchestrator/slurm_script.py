"""The Slurm batch job that runs one platform job's container with podman on its node.

Each run (a Slurm job id) keeps its files in `<job dir>/run-<slurm id>/` on the shared
filesystem, which is how the platform observes it without a connection to the node:

- `container.log`  podman's k8s-file log: one timestamped line per output line (followed)
- `started`        node name, start time and the container's address (none on the node's
                   own network), written once the container runs
- `result`         `exit_code`, `oom_killed`, `reason`, `finished_at` lines, written last
- `message`        why podman could not pull or run the container, when it could not

podman's conmon leaves the batch shell's process tree, so Slurm killing the shell would
leave the container running: a guard outside the tree removes it when the shell dies.
Signals other than SIGKILL that Slurm sends the shell are forwarded to the container.

A job with a network slot (slurm_networks) runs on its owner's bridge on the node, and its
container admits connections from other jobs only from the slots its owner's and its
readers' jobs are in: `<job dir>/readers` (the readers' slots, the platform's to write) is
read before the container's process starts and again whenever it changes.
"""

from __future__ import annotations

import json
import math
import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .slurm_oom import CGROUP, CGROUP_CLEANUP, OOM_VERDICT, memory_setup
from .spec import ContainerSpec

MIB = 1024**2
HIGHEST_RANK = 2
# Slurm's `nice` per priority rank below the highest: non-negative, which any user may ask
# for, and large enough to outweigh the submission order priority/basic ranks jobs by.
NICE_PER_RANK = 10_000
FORWARDED_SIGNALS = ("TERM", "INT", "HUP", "QUIT", "USR1", "USR2")


def image_archive_name(image: str) -> str:
    """The file (in the shared `images/` dir) a node loads `image` from instead of pulling."""
    return image.replace("/", "_").replace(":", "_").replace("@", "_") + ".tar"


def job_description(
    spec: ContainerSpec,
    name: str,
    job_dir: Path,
    partition: str | None,
    preemptible_partition: str | None = None,
) -> dict[str, Any]:
    """The `job` object of slurmrestd's submit: resources from the job's preset."""
    job: dict[str, Any] = {
        "name": name,
        "current_working_directory": "/tmp",
        "environment": {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
        "standard_output": str(job_dir / "slurm-%j.out"),
        "cpus_per_task": max(1, math.ceil(spec.cpu)),
        "memory_per_node": max(1, math.ceil(spec.memory / MIB)),
        "requeue": False,
        "nice": (HIGHEST_RANK - spec.priority_rank) * NICE_PER_RANK,
    }
    if spec.time_limit_s is not None:
        # Whole minutes, rounded up: the platform's own life span check ends it first.
        job["time_limit"] = max(1, math.ceil(spec.time_limit_s / 60))
    else:
        # Said outright: a job left without a limit that Slurm's backfill scheduler starts
        # gets the partition's horizon (a year where MaxTime is INFINITE) as its limit.
        job["time_limit"] = "UNLIMITED"
    if spec.gpu:
        job["gres"] = f"gpu:{spec.gpu}"
    if spec.preemptible and preemptible_partition:
        partition = preemptible_partition
    if partition:
        job["partition"] = partition
    return job


def batch_script(
    spec: ContainerSpec,
    *,
    container: str,
    job_dir: Path,
    image_dir: Path,
    node_env_file: Path | None,
    pids_limit: int,
    auth_file: Path | None,
    network_slot: int | None = None,
) -> str:
    q = shlex.quote
    run = ["podman", "create", "--name", '"$name"', '"--network=$network"']
    # Its node's name, on a network of its own too, as on the node's: jobs have always said
    # where they run that way.
    run += ["--hostname", '"$SLURMD_NODENAME"']
    run += ["--log-driver", "k8s-file", "--log-opt", 'path="$run/container.log"']
    run += ["--cpus", f"{spec.cpu:g}", '"${memory[@]}"', "--cgroups=no-conmon"]
    run += ["--cgroup-parent", f'"/{CGROUP}"']
    run += ["--pids-limit", str(pids_limit)]
    if spec.shm is True:
        run += ["--shm-size", f"{spec.memory}b"]
    elif spec.shm:
        run += ["--shm-size", f"{int(spec.shm)}b"]
    for key, value in spec.env.items():
        run += ["-e", q(f"{key}={value}")]
    if spec.working_dir:
        run += ["--workdir", q(spec.working_dir)]
    if spec.tty:
        run += ["-t"]
    if spec.privileged:
        run += ["--privileged"]
    for group in spec.groups:
        run += ["--group-add", str(group)]
    for mount in spec.bind_mounts:
        mode = "ro" if mount.read_only else "rw"
        run += ["-v", q(f"{mount.host_path}:{mount.container_path}:{mode}")]
    for key, value in spec.labels.items():
        run += ["--label", q(f"{key}={value}")]
    if spec.entrypoint is not None:
        run += ["--entrypoint", q(_json_list(spec.entrypoint))]
    run += [q(spec.image)]
    run += [q(arg) for arg in spec.command or ()]

    archive = image_dir / image_archive_name(spec.image)
    pull = ["podman", "pull", "-q"]
    if auth_file is not None:
        pull += ["--authfile", q(str(auth_file))]
    pull += [q(spec.image)]
    always_pull = auth_file is not None
    traps = "\n".join(
        f"trap 'podman kill -s {sig} \"$name\" >/dev/null 2>&1' {sig}" for sig in FORWARDED_SIGNALS
    )
    node_env = f". {q(str(node_env_file))}" if node_env_file else ":"
    slot = "" if network_slot is None else str(network_slot)
    return f"""#!/bin/bash
# The platform's job {spec.job_id} (orchestrator/slurm_script.py).
set -u
{node_env}
name={q(container)}-$SLURM_JOB_ID
run={q(str(job_dir))}/run-$SLURM_JOB_ID
rm -rf "$run"
mkdir -p "$run"
finish() {{  # exit code, oom killed, reason
    printf 'exit_code %s\\noom_killed %s\\nreason %s\\nfinished_at %s\\n' "$1" "$2" "$3" \\
        "$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)" >"$run/result.tmp"
    mv "$run/result.tmp" "$run/result"
    exit 0
}}
# The guard: outside this shell's process tree (Slurm kills that tree), it removes the
# container once the shell is gone, however it went.
shell=$$
( setsid bash -c 'tail --pid='"$shell"' -f /dev/null
    podman rm -f -t 0 "$1" >/dev/null 2>&1
    {CGROUP_CLEANUP}
    if [ ! -e "$2/result" ]; then
        printf "exit_code 137\\noom_killed false\\nreason Error\\nfinished_at %s\\n" \\
            "$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)" >"$2/result.tmp" 2>/dev/null \\
            && mv "$2/result.tmp" "$2/result"
    fi' guard "$name" "$run" </dev/null >/dev/null 2>&1 & )
if {"true" if always_pull else "! podman image exists " + q(spec.image)}; then
    if [ -f {q(str(archive))} ] && [ {"1" if always_pull else "0"} = 0 ]; then
        podman load -q -i {q(str(archive))} >"$run/message" 2>&1 || finish 1 false ErrImagePull
    else
        {" ".join(pull)} >"$run/message" 2>&1 || finish 1 false ErrImagePull
    fi
fi
{memory_setup(spec.memory)}
{_NETWORK.replace("@SLOT@", slot).replace("@READERS@", q(str(job_dir / "readers")))}
if ! {{ {" ".join(run)} >"$run/container.id" && podman init "$name" >/dev/null \\
        && firewall && podman start "$name" >/dev/null; }} 2>"$run/message"; then
    podman rm -f -t 0 "$name" >/dev/null 2>&1
    finish 127 false ContainerCannotRun
fi
address=$(podman inspect "$name" \\
    -f '{{{{range .NetworkSettings.Networks}}}}{{{{.IPAddress}}}}{{{{end}}}}')
printf '%s %s %s\\n' "$SLURMD_NODENAME" "$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)" "$address" \\
    >"$run/started"
{traps}
[ "$network" = host ] || (  # the readers change while the job runs: sharing
    trap '' {" ".join(FORWARDED_SIGNALS)}
    applied=
    while kill -0 "$shell" 2>/dev/null; do
        now=$(cat "$readers" 2>/dev/null)
        [ "$now" = "$applied" ] || ! firewall || applied=$now
        sleep 1
    done
) </dev/null >/dev/null 2>&1 &
# Slurm signals every process of the job, `podman wait` too: wait again until it is over.
while :; do
    podman wait "$name" >/dev/null 2>&1 &
    waiter=$!
    while kill -0 "$waiter" 2>/dev/null; do wait "$waiter"; done
    status=$(podman inspect -f '{{{{.State.Status}}}}' "$name" 2>/dev/null) || break
    case "$status" in running | stopping | paused) ;; *) break ;; esac
done
code=$(podman inspect -f '{{{{.State.ExitCode}}}}' "$name" 2>/dev/null)
oom=$(podman inspect -f '{{{{.State.OOMKilled}}}}' "$name" 2>/dev/null || echo false)
{OOM_VERDICT}
podman rm -f -t 0 "$name" >/dev/null 2>&1
reason=Error
[ "$code" = 0 ] && reason=Completed
[ "$oom" = true ] && reason=OOMKilled
finish "${{code:-1}}" "$oom" "$reason"
"""


# The job's network on its node (docs/scale-out.md "Network isolation"). The node's
# node_env_file says where containers get addresses: NEURO_JOBS_NODE_NET (this node's /16,
# `a.b`), NEURO_JOBS_POOL and NEURO_JOBS_POOL_MASK (all nodes' ranges, `a.b` and a
# netmask's first two octets); slot s is `<node net>.s.0/24` on every node, so the third
# octet says whose job an address is, on any node. A job without a slot (the orchestrator
# used without the platform's networks) runs on the node's own network.
_NETWORK = r"""slot=@SLOT@
readers=@READERS@
network=host
if [ -n "$slot" ] && [ -z "${NEURO_JOBS_NODE_NET:-}" ]; then
    # Not on the node's network instead: that would reach, and be reached by, every job.
    echo "This node's environment sets no NEURO_JOBS_NODE_NET: it cannot keep users' jobs" \
        "apart (docs/scale-out.md, Network isolation)" >"$run/message"
    finish 127 false ContainerCannotRun
fi
if [ -n "$slot" ]; then
    # Named by its subnet: nodes that share a podman config (the test cluster's) see each
    # other's networks.
    network=neuro-jobs-$NEURO_JOBS_NODE_NET.$slot
    podman network exists "$network" \
        || podman network create --disable-dns --subnet "$NEURO_JOBS_NODE_NET.$slot.0/24" \
            "$network" >/dev/null 2>"$run/message" \
        || podman network exists "$network" || finish 127 false ContainerCannotRun
fi
firewall() {  # the container's own INPUT rules: other jobs only from the admitted slots
    [ "$network" = host ] && return 0
    local sandbox admitted pool=$NEURO_JOBS_POOL mask=$NEURO_JOBS_POOL_MASK
    sandbox=$(podman inspect -f '{{.NetworkSettings.SandboxKey}}' "$name") || return 1
    {
        printf '*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -i lo -j ACCEPT\n'
        printf -- '-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT\n'
        for admitted in "$slot" $(cat "$readers" 2>/dev/null); do
            case $admitted in '' | *[!0-9]*) continue ;; esac
            printf -- '-A INPUT -s %s.%s.0/%s.255.0 -j ACCEPT\n' "$pool" "$admitted" "$mask"
        done
        printf -- '-A INPUT -s %s.0.0/%s.0.0 -j REJECT --reject-with icmp-admin-prohibited\n' \
            "$pool" "$mask"
        printf 'COMMIT\n'
    } | nsenter --net="$sandbox" iptables-restore
}"""


def _json_list(items: Sequence[str]) -> str:
    return json.dumps(list(items))
