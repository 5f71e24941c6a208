#!/usr/bin/env bash
# shellcheck disable=SC2086,SC2116,SC2012  # id and pid lists split into words on purpose
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
    while running "$pid" && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
    if running "$pid"; then
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

# Every container on our engines is ours: remove them with SIGKILL rather than wait
# out their stop grace periods (leaving the swarm and stopping an engine both would).
remove_containers_of() {
    local ids
    node_answers "$1" || return 0
    ids=$(node_docker "$1" ps -aq)
    [ -z "$ids" ] || node_docker "$1" rm -f $ids >/dev/null 2>&1 || true
}
remove_containers() {
    local node
    for node in "${SWARM_NODES[@]}"; do remove_containers_of "$node" & done
    wait
}

leave_swarm_on() {
    node_answers "$1" || return 0
    [ "$(node_docker "$1" info --format '{{.Swarm.LocalNodeState}}')" = inactive ] \
        || node_docker "$1" swarm leave --force >/dev/null 2>&1 || true
}
leave_swarm() {
    leave_swarm_on worker1 & leave_swarm_on worker2 &
    wait
    leave_swarm_on manager
}

# An engine stops its containers when it gets SIGTERM (no live-restore here); its
# containerd then has no shims left to wait for.
stop_engines() {
    local node
    for node in "${SWARM_NODES[@]}"; do  # all at once first: they stop in parallel
        if pid_alive "$SWARM_RUN/$node/dockerd.pid"; then
            kill -TERM "$(cat "$SWARM_RUN/$node/dockerd.pid")" 2>/dev/null || true
        fi
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

# A container outlives its engine and shim when those were killed (a crash, or the
# sweep above): it sits in its own network namespace, but in our cgroup parent. Every
# process in /<prefix>-<node>/... was started by one of our engines: end it.
sweep_cgroups() {
    local pids deadline=$((SECONDS + 10))
    while true; do
        pids=$(find /sys/fs/cgroup/*/ -maxdepth 3 -path "*/$SWARM_PREFIX-*" -name cgroup.procs \
            -exec cat {} + 2>/dev/null | sort -u)
        [ -n "$pids" ] || return 0
        [ $SECONDS -lt $deadline ] || { say "processes left in our cgroups: $(echo $pids)"; return 0; }
        say "ending processes of our engines' containers: $(echo $pids)"
        kill -KILL $pids 2>/dev/null || true
        sleep 0.2
    done
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

# The shims of our containerds keep a socket in the machine-wide /run/containerd/s,
# named sha256(<containerd address>/<namespace>/<id>). A shim that exits cleanly
# removes it; remember them all so that none can outlive a shim we had to kill.
# cmdlines PATTERN: "pid: command line" of every process whose command line matches
# PATTERN (a grep -E pattern; write it so that it does not match itself, e.g. [/]run).
cmdlines() {
    local file
    for file in $(grep -lsaE -- "$1" /proc/[0-9]*/cmdline || true); do
        file=${file%/cmdline}
        printf '%s: %s\n' "${file#/proc/}" "$(tr '\0' ' ' 2>/dev/null <"$file/cmdline")"
    done
}

shim_sockets() {
    local cmdline address namespace id
    cmdlines "containerd-shim.*-address.[/]${SWARM_RUN#/}/" | while read -r _ cmdline; do
        read -r address namespace id < <(awk '{for (i = 1; i < NF; i++) {
            if ($i == "-address") a = $(i + 1); if ($i == "-namespace") n = $(i + 1); if ($i == "-id") d = $(i + 1)
        } print a, n, d}' <<<"$cmdline")
        echo "/run/containerd/s/$(printf '%s' "$address/$namespace/$id" | sha256sum | cut -d' ' -f1)"
    done
}

# What would count as a leftover: anything of ours still there prints a line.
leftovers() {
    cmdlines "[/]${SWARM_RUN#/}|[/]${SWARM_LIB#/}" | sed 's/^/process /'
    ip netns list | awk -v p="$SWARM_PREFIX-" 'index($1, p) == 1 {print "network namespace " $1}'
    our_mounts | sed 's/^/mount /'
    ls -d /sys/fs/cgroup/*/"$SWARM_PREFIX"-* 2>/dev/null | sed 's/^/cgroup /' || true
    for f in $shims "$SWARM_RUN" "$SWARM_LIB"; do [ ! -e "$f" ] || echo "file $f"; done
}

# step FUNCTION: run it, and say how long it took when that was noticeable
step() {
    local t0=${EPOCHREALTIME/./}
    "$@"
    local ms=$(( (${EPOCHREALTIME/./} - t0) / 1000 ))
    if [ "$ms" -ge 1000 ] || [ -n "${SWARM_VERBOSE:-}" ]; then say "$1: ${ms} ms"; fi
}

shims=$(shim_sockets)
step remove_workloads
step remove_containers
step leave_swarm
step stop_engines
step stop_registry
step sweep_namespaces
step sweep_cgroups
step unmount_all
step delete_namespaces
step remove_cgroups
# Nothing is mounted below them any more (unmount_all checked), so this cannot
# reach into anything else.
rm -rf "$SWARM_RUN" "$SWARM_LIB"
for f in $shims; do [ ! -S "$f" ] || { say "removing the socket of a killed shim: $f"; rm -f "$f"; }; done
left=$(leftovers)
[ -z "$left" ] || fail "left behind:
$left"
say "removed in $((SECONDS - started))s, nothing left behind"
