"""The batch script's memory limit and its out-of-memory verdict (docs/scale-out.md).

podman 4.3 with runc on a cgroup v1 node reports `OOMKilled=false` for a container the kernel
killed at its memory limit, and the container's own cgroup (where cgroup v1 counts the kill)
is gone once it exits. So the script asks the kernel itself, about a cgroup it owns: the
container's parent (`--cgroup-parent`), which outlives the container. conmon stays out of it
(`--cgroups=no-conmon`): in it, the OOM killer could pick conmon (seen), and podman would
never learn that the container exited.

- cgroup v1: the limit (and memory+swap, so no swap) is on the parent, not the container: the
  kernel notifies an eventfd registered on the parent's `memory.oom_control` when the parent
  runs out of memory, before it kills. A small listener (python3 on the node) holds it and,
  when the script closes its stdin, says whether it fired. The container sees its limit as
  `hierarchical_memory_limit` in its `memory.stat`.
- cgroup v2: the limit stays on the container; the parent's `memory.events` `oom_kill` counts
  the kills below it (hierarchically), read after the container exits.

Without python3 or cgroup access the limit still holds (on the container) and the verdict is
podman's own.
"""

from __future__ import annotations

import shlex

# The parent cgroup, relative to a hierarchy's root; the script's `$name` is unique per run.
CGROUP = "neuro/$name"

# Registers before the container starts (prints a line once it has), answers at stdin's EOF.
# Slurm signals every process of the job: the listener ignores the forwarded ones.
_LISTENER = """\
import os, signal, sys
for sig in ("SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"):
    signal.signal(getattr(signal, sig), signal.SIG_IGN)
cgroup = sys.argv[1]
event = os.eventfd(0, os.EFD_NONBLOCK)
control = os.open(cgroup + "/memory.oom_control", os.O_RDONLY)
with open(cgroup + "/cgroup.event_control", "w") as f:
    f.write(f"{event} {control}")
print("listening", flush=True)
sys.stdin.read()
try:
    print("true" if os.eventfd_read(event) else "false", flush=True)
except BlockingIOError:
    print("false", flush=True)
"""


def memory_setup(memory: int) -> str:
    """Bash: the limit, and `memory` the `podman run` options that are left to set it."""
    return f"""\
# The memory limit and the OOM verdict (orchestrator/slurm_oom.py).
memory=(--memory {memory}b)
oom_out=
limits=/sys/fs/cgroup/memory/{CGROUP}
if [ -f /sys/fs/cgroup/memory/memory.limit_in_bytes ] && mkdir -p "$limits" \\
    && echo {memory} >"$limits/memory.limit_in_bytes"; then
    [ ! -f "$limits/memory.memsw.limit_in_bytes" ] \\
        || echo {memory} >"$limits/memory.memsw.limit_in_bytes"
    memory=()
    coproc OOM_WATCH {{ exec python3 -c {shlex.quote(_LISTENER)} "$limits" 2>/dev/null; }}
    oom_out=${{OOM_WATCH[0]:-}} oom_in=${{OOM_WATCH[1]:-}}
    read -r -u "$oom_out" _ 2>/dev/null || oom_out=
fi"""


# Bash, once the container has exited: `oom` becomes true when the kernel killed for memory.
OOM_VERDICT = f"""\
if [ -n "$oom_out" ]; then
    exec {{oom_in}}>&-
    read -r -u "$oom_out" seen 2>/dev/null && [ "$seen" = true ] && oom=true
elif [ -f /sys/fs/cgroup/{CGROUP}/memory.events ]; then
    kills=$(sed -n 's/^oom_kill //p' /sys/fs/cgroup/{CGROUP}/memory.events)
    [ "${{kills:-0}}" -gt 0 ] && oom=true
fi"""

# Bash for the guard, where the script's `$name` is `$1`: the parent in every hierarchy.
CGROUP_CLEANUP = 'rmdir /sys/fs/cgroup/*/neuro/"$1" /sys/fs/cgroup/neuro/"$1" 2>/dev/null'
