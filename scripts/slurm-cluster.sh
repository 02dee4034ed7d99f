#!/usr/bin/env bash
# A two-node Slurm cluster on this one machine, for the Slurm orchestrator's tests and demo.
#
#   scripts/slurm-cluster.sh up|down|status
#
# Installs nothing (scripts/install-deps.sh does): starts munged, slurmctld, two slurmd nodes
# each in its own network namespace with its own address and host name, and slurmrestd
# (openapi/v0.0.38, JWT auth) on a unix socket. `up` is idempotent; `down` leaves no
# namespace, process or mount behind. All state lives under $NEURO_SLURM_DIR
# (default /tmp/neuro-slurm); `shared/` there is the filesystem every node sees (here: the
# host's own, as the nodes share its mount namespace).
#
# Why the network looks like this: Docker sets `iptables -P FORWARD DROP` with
# bridge-nf-call-iptables=1, so a bridge in the host namespace would drop node<->node traffic.
# The bridge lives in a namespace of its own (empty firewall); the host gets a veth into it.
set -euo pipefail

dir=${NEURO_SLURM_DIR:-/tmp/neuro-slurm}
prefix=nslurm                      # namespace and interface names
subnet=${NEURO_SLURM_SUBNET:-10.219.0}  # /24: host .1, nodeN .1N
nodes=(node1 node2)
node_cpus=2
node_memory_mib=4096
# Jobs' containers: nodeN's are in 10.(220+N).0.0/16 (within 10.220.0.0/14), a /24 per owner
# slot (orchestrator/slurm_networks.py); the nodes route these ranges to each other.
jobs_pool=${NEURO_SLURM_JOBS_POOL:-10.220}
jobs_pool_mask=255.252
host=$(hostname)

conf=$dir/etc/slurm.conf
socket=$dir/run/slurmrestd.sock
export SLURM_CONF=$conf

log() { echo "slurm-cluster: $*"; }

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

write_config() {
    mkdir -p "$dir"/{etc,ctld,log,run,shared/jobs,shared/images}
    chmod 755 "$dir" "$dir/etc" "$dir/run"
    chmod 1777 "$dir/shared" "$dir/shared/jobs" "$dir/shared/images"
    if [ ! -f "$dir/etc/jwt.key" ]; then
        head -c 32 /dev/urandom | base64 >"$dir/etc/jwt.key"
        chmod 600 "$dir/etc/jwt.key"
    fi
    local node_lines="" index=1
    for node in "${nodes[@]}"; do
        node_lines+="NodeName=$node NodeHostname=$node NodeAddr=$subnet.1$index CPUs=$node_cpus RealMemory=$node_memory_mib Features=$node State=UNKNOWN"$'\n'
        index=$((index + 1))
    done
    cat >"$conf" <<EOF
ClusterName=neuro-test
SlurmctldHost=$host($subnet.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthAltTypes=auth/jwt
AuthAltParameters=jwt_key=$dir/etc/jwt.key
StateSaveLocation=$dir/ctld
SlurmdSpoolDir=$dir/spool/%n
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd-%n.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd-%n.log
SlurmctldPort=6917
SlurmdPort=6918
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
# The nodes share this machine's cores: their sizes are configuration, not hardware.
SlurmdParameters=config_overrides
ReturnToService=2
# Short, so that the tests see a dead node (NOT_RESPONDING ~23 s, DOWN ~47 s).
SlurmdTimeout=30
# A node failure ends the job (NODE_FAIL): the platform's restart policy decides what next.
JobRequeue=0
# Finished jobs stay visible for an hour; the platform keeps their outcome itself anyway.
MinJobAge=3600
KillWait=5
PreemptType=preempt/partition_prio
PreemptMode=REQUEUE
$node_lines
PartitionName=main Nodes=ALL Default=YES MaxTime=INFINITE State=UP PriorityTier=10 PreemptMode=OFF
PartitionName=preemptible Nodes=ALL MaxTime=INFINITE State=UP PriorityTier=1 PreemptMode=REQUEUE
EOF
    chmod 644 "$conf"
    # The job runtime on the nodes: podman as root, with this machine's limits (no
    # CAP_SYS_RESOURCE: hard nofile is 20000) and runc (crun rejects the hybrid cgroups).
    cat >"$dir/etc/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
    # What every job sources on its node before running podman (the orchestrator's
    # `node_env_file`): the runtime config above and the node's own image storage.
    # NEURO_JOBS_*: the container addresses of this node and of all nodes (job isolation).
    cat >"$dir/etc/node.env" <<EOF
export CONTAINERS_CONF=$dir/etc/containers.conf
export CONTAINERS_STORAGE_CONF=$dir/nodes/\$SLURMD_NODENAME/storage.conf
export NEURO_JOBS_POOL=$jobs_pool NEURO_JOBS_POOL_MASK=$jobs_pool_mask
export NEURO_JOBS_NODE_NET=${jobs_pool%.*}.\$((${jobs_pool#*.} + \${SLURMD_NODENAME#node}))
EOF
    chmod 644 "$dir/etc/node.env"
}

start_munge() {
    if [ -S /run/munge/munge.socket.2 ] && munge -n </dev/null >/dev/null 2>&1; then
        return
    fi
    log "starting munged"
    mkdir -p /run/munge && chown munge:munge /run/munge
    runuser -u munge -- munged
    touch "$dir/run/munged.ours"
}

setup_network() {
    [ -e "/run/netns/$prefix-br" ] && return
    log "creating namespaces and the bridge ($subnet.0/24)"
    ip netns add "$prefix-br"
    ip -n "$prefix-br" link set lo up
    ip -n "$prefix-br" link add br0 type bridge
    ip -n "$prefix-br" link set br0 up
    ip link add "$prefix-h" type veth peer name host netns "$prefix-br"
    ip -n "$prefix-br" link set host master br0 up
    ip addr add "$subnet.1/24" dev "$prefix-h"
    ip link set "$prefix-h" up
    local index=1
    for node in "${nodes[@]}"; do
        ip netns add "$prefix-$node"
        ip -n "$prefix-$node" link set lo up
        ip -n "$prefix-br" link add "$node" type veth peer name eth0 netns "$prefix-$node"
        ip -n "$prefix-br" link set "$node" master br0 up
        ip -n "$prefix-$node" addr add "$subnet.1$index/24" dev eth0
        ip -n "$prefix-$node" link set eth0 up
        ip -n "$prefix-$node" route add default via "$subnet.1"
        index=$((index + 1))
    done
}

# What an admin of a real cluster provides (docs/scale-out.md "Network isolation"): routes
# between the nodes' container ranges (and from the platform host), no masquerading between
# them (a node must see whose job a packet comes from), strict reverse-path filtering (a
# container cannot pass for another's address), and no way from a job to the nodes' own
# services. Idempotent: applied on every `up`.
setup_job_routes() {
    local index=1 other pool="$jobs_pool.0.0/$jobs_pool_mask.0.0"
    for node in "${nodes[@]}"; do
        ip route replace "$(node_jobs_net $index).0.0/16" via "$subnet.1$index" dev "$prefix-h"
        local in=(nsenter --net="/run/netns/$prefix-$node")
        for ((other = 1; other <= ${#nodes[@]}; other++)); do
            [ $other = $index ] && continue
            "${in[@]}" ip route replace "$(node_jobs_net $other).0.0/16" via "$subnet.1$other"
        done
        "${in[@]}" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=1
        ensure_rule "${in[@]}" -t nat -I POSTROUTING -s "$pool" -d "$pool" -j ACCEPT
        ensure_rule "${in[@]}" -I INPUT -s "$pool" -m conntrack --ctstate NEW -j DROP
        # The other nodes' services: no; the platform host (its API): yes. In `mangle`, as
        # netavark puts its own accepting FORWARD rules first in `filter`.
        ensure_rule "${in[@]}" -t mangle -I FORWARD -s "$pool" -d "$subnet.0/24" -j DROP
        ensure_rule "${in[@]}" -t mangle -I FORWARD -s "$pool" -d "$subnet.1" -j RETURN
        index=$((index + 1))
    done
}

node_jobs_net() { echo "${jobs_pool%.*}.$((${jobs_pool#*.} + $1))"; }

# ensure_rule <nsenter...> <iptables args with -I or -A>: adds the rule unless it is there.
ensure_rule() {
    local in=("$1" "$2") args=("${@:3}")
    local check=("${args[@]/#-[IA]/-C}")
    "${in[@]}" iptables "${check[@]}" 2>/dev/null || "${in[@]}" iptables "${args[@]}"
}

start_daemons() {
    if ! pid_alive "$dir/run/slurmctld.pid"; then
        log "starting slurmctld"
        setsid nohup slurmctld -D -i -f "$conf" >"$dir/log/slurmctld.out" 2>&1 </dev/null &
    fi
    for node in "${nodes[@]}"; do
        start_node "$node"
    done
    if ! pid_alive "$dir/run/slurmrestd.pid"; then
        log "starting slurmrestd on $socket"
        rm -f "$socket"
        # slurmrestd refuses to run as root; clients authenticate with a JWT.
        chown nobody "$dir/run"
        setsid nohup runuser -u nobody -- env SLURM_CONF="$conf" SLURM_JWT=daemon \
            slurmrestd -s openapi/v0.0.38 -a rest_auth/jwt "unix:$socket" \
            >"$dir/log/slurmrestd.log" 2>&1 </dev/null &
        echo $! >"$dir/run/slurmrestd.pid"
    fi
}

start_node() {
    local node=$1
    pid_alive "$dir/run/slurmd-$node.pid" && return
    log "starting slurmd $node"
    mkdir -p "$dir/spool/$node" "$dir/nodes/$node"
    # nsenter + unshare, not `ip netns exec`: that remounts /sys and hides the cgroup tree
    # podman needs. Each node keeps its own podman storage, as separate machines would.
    setsid nohup nsenter --net="/run/netns/$prefix-$node" unshare --uts \
        env CONTAINERS_CONF="$dir/etc/containers.conf" \
        CONTAINERS_STORAGE_CONF="$dir/nodes/$node/storage.conf" \
        sh -c "hostname $node; exec slurmd -D -N $node -f $conf" \
        >"$dir/log/slurmd-$node.out" 2>&1 </dev/null &
    cat >"$dir/nodes/$node/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$dir/nodes/$node/storage"
runroot = "$dir/nodes/$node/run"
EOF
}

wait_ready() {
    for _ in $(seq 1 100); do
        if scontrol ping >/dev/null 2>&1 && [ -S "$socket" ]; then
            local idle
            idle=$(sinfo -h -N -p main -o '%N %t' 2>/dev/null | grep -cE ' (idle|mix|alloc)$' || true)
            [ "$idle" -ge "${#nodes[@]}" ] && break
        fi
        sleep 0.2
    done
    scontrol ping >/dev/null 2>&1 || { log "slurmctld did not start: $dir/log/slurmctld.log"; exit 1; }
    # A token for the platform (root submits: jobs run podman as root on the nodes).
    scontrol token username=root lifespan=$((365 * 86400)) | sed -n 's/^SLURM_JWT=//p' \
        >"$dir/etc/token.tmp"
    mv "$dir/etc/token.tmp" "$dir/etc/token"
    log "up: $(sinfo -h -N -o '%N=%t' | tr '\n' ' ')restd=$socket"
}

up() {
    write_config
    start_munge
    setup_network
    setup_job_routes
    start_daemons
    wait_ready
}

kill_pidfile() {
    local file=$1
    pid_alive "$file" && kill "$(cat "$file")" 2>/dev/null || true
    for _ in $(seq 1 50); do pid_alive "$file" || break; sleep 0.1; done
    pid_alive "$file" && kill -9 "$(cat "$file")" 2>/dev/null || true
    rm -f "$file"
}

down() {
    kill_pidfile "$dir/run/slurmrestd.pid"
    for node in "${nodes[@]}"; do
        kill_pidfile "$dir/run/slurmd-$node.pid"
        # linuxproc leaves job processes behind when slurmd goes: containers and their shells.
        ip netns pids "$prefix-$node" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
        if [ -f "$dir/nodes/$node/storage.conf" ]; then
            CONTAINERS_CONF="$dir/etc/containers.conf" \
                CONTAINERS_STORAGE_CONF="$dir/nodes/$node/storage.conf" \
                podman rm -af -t 0 >/dev/null 2>&1 || true
            # The jobs' per-owner bridges (slurm_script).
            CONTAINERS_CONF="$dir/etc/containers.conf" \
                CONTAINERS_STORAGE_CONF="$dir/nodes/$node/storage.conf" \
                podman network ls -q --filter name='^neuro-jobs-' 2>/dev/null \
                | xargs -r podman network rm -f >/dev/null 2>&1 || true
        fi
    done
    kill_pidfile "$dir/run/slurmctld.pid"
    if [ -f "$dir/run/munged.ours" ]; then
        kill "$(cat /run/munge/munged.pid 2>/dev/null)" 2>/dev/null || true
        rm -f "$dir/run/munged.ours"
    fi
    for node in "${nodes[@]}"; do
        ip netns del "$prefix-$node" 2>/dev/null || true
    done
    ip netns del "$prefix-br" 2>/dev/null || true
    ip link del "$prefix-h" 2>/dev/null || true
    # podman's overlay mounts of the nodes' storage.
    grep -o " $dir/[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
    log "down"
}

status() {
    if ! scontrol ping >/dev/null 2>&1; then
        echo "down"
        return 1
    fi
    sinfo -N
    [ -S "$socket" ] && echo "slurmrestd: $socket"
}

case "${1:-}" in
    up) up ;;
    down) down ;;
    status) status ;;
    *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
