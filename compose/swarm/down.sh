#!/usr/bin/env bash
# Remove the local swarm started by up.sh, leaving nothing behind: services and
# stacks, swarm membership, the engines and their containerds, the registry and its
# port forwarders, mounts, network namespaces (their veths and bridge go with them),
# cgroup directories, state directories. Safe to run twice, or after a crash.
#
# Only what up.sh created is touched: processes by the pid files it wrote (and any
# process still inside our own network namespaces), mounts below our own
# directories, cgroup directories named after our prefix.
set -euo pipefail
cd "$(dirname "$0")"
# shellcheck source=common.sh
source ./common.sh
started=$SECONDS

[ "$(id -u)" = 0 ] || fail "needs root: run 'sudo just swarm-down'"

# stop_pid PIDFILE [SECONDS]: SIGTERM, wait, then SIGKILL; only the pid in the file.
stop_pid() {
    local pidfile=$1 grace=${2:-10} pid
    pid_alive "$pidfile" || { rm -f "$pidfile"; return 0; }
    pid=$(cat "$pidfile")
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + grace))
    while [ -d "/proc/$pid" ] && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
    if [ -d "/proc/$pid" ]; then
        say "pid $pid ($pidfile) ignored SIGTERM for ${grace}s: SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
}

remove_workloads() {
    node_answers manager || return 0
    [ "$(node_docker manager info --format '{{.Swarm.ControlAvailable}}')" = true ] || return 0
    local stacks services
    stacks=$(node_docker manager stack ls --format '{{.Name}}' 2>/dev/null || true)
    for stack in $stacks; do node_docker manager stack rm "$stack" >/dev/null || true; done
    services=$(node_docker manager service ls -q)
    [ -z "$services" ] || node_docker manager service rm $services >/dev/null || true
}

leave_swarm() {
    local node
    for node in worker1 worker2 manager; do
        node_answers "$node" || continue
        [ "$(node_docker "$node" info --format '{{.Swarm.LocalNodeState}}')" = inactive ] \
            || node_docker "$node" swarm leave --force >/dev/null 2>&1 || true
    done
}

# An engine stops its containers when it gets SIGTERM (no live-restore here); its
# containerd then has no shims left to wait for.
stop_engines() {
    local node
    for node in "${SWARM_NODES[@]}"; do
        pid_alive "$SWARM_RUN/$node/dockerd.pid" && kill -TERM "$(cat "$SWARM_RUN/$node/dockerd.pid")" 2>/dev/null || true
    done
    for node in "${SWARM_NODES[@]}"; do stop_pid "$SWARM_RUN/$node/dockerd.pid" 20; done
    for node in "${SWARM_NODES[@]}"; do stop_pid "$SWARM_RUN/$node/containerd.pid" 10; done
}

stop_registry() {
    local node
    for node in "${SWARM_NODES[@]}"; do stop_pid "$SWARM_RUN/socat-$node.pid" 5; done
    stop_pid "$SWARM_RUN/socat-host.pid" 5
    stop_pid "$SWARM_RUN/registry.pid" 10
}

# Whatever still runs inside one of our network namespaces (a shim, a container
# process, a socat child serving a connection) was started by us: end it.
sweep_namespaces() {
    local ns pids
    for ns in $(ip netns list | awk '{print $1}' | grep "^$SWARM_PREFIX-" || true); do
        pids=$(ip netns pids "$ns" 2>/dev/null || true)
        [ -z "$pids" ] && continue
        say "ending leftover processes in $ns: $(echo $pids)"
        kill -KILL $pids 2>/dev/null || true
    done
    sleep 0.2
}

our_mounts() { awk -v a="$SWARM_RUN" -v b="$SWARM_LIB" 'index($5, a) == 1 || index($5, b) == 1 {print $5}' /proc/self/mountinfo; }

unmount_all() {
    local mounts
    # Deepest first; -l for what is still busy (it goes once the last user is gone).
    mounts=$(our_mounts | awk '{print length($0) " " $0}' | sort -rn | cut -d' ' -f2-)
    for m in $mounts; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
    [ -z "$(our_mounts)" ] || fail "mounts left below $SWARM_RUN or $SWARM_LIB: $(our_mounts | tr '\n' ' ')"
}

delete_namespaces() {
    local ns
    for ns in $(ip netns list | awk '{print $1}' | grep "^$SWARM_PREFIX-" || true); do
        ip netns delete "$ns"
    done
}

# Docker (cgroupfs driver) made /<prefix>-<node>/<container> in every controller.
remove_cgroups() {
    local dir
    for dir in /sys/fs/cgroup/*/"$SWARM_PREFIX"-* /sys/fs/cgroup/"$SWARM_PREFIX"-*; do
        [ -d "$dir" ] || continue
        find "$dir" -depth -type d -exec rmdir {} \; 2>/dev/null || true
        [ ! -d "$dir" ] || say "could not remove $dir (still in use?)"
    done
}

remove_workloads
leave_swarm
stop_engines
stop_registry
sweep_namespaces
unmount_all
delete_namespaces
remove_cgroups
# Nothing is mounted below them any more (unmount_all checked), so this cannot
# reach into anything else.
rm -rf "$SWARM_RUN" "$SWARM_LIB"
say "removed in $((SECONDS - started))s"
