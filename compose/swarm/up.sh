#!/usr/bin/env bash
# Start a local multi-node Docker Swarm: one manager, two workers, each a separate
# Docker engine in its own network namespace, plus a registry the nodes pull from.
# Idempotent: every step checks first, so a second run changes nothing and a run
# after a crash repairs what is missing. `compose/swarm/down.sh` removes all of it.
#
# Never touches the machine's own Docker engine beyond tagging, pushing and untagging
# our images (push.sh), and never changes the host's network namespace: the nodes hang
# off a bridge in a separate "switch" namespace, and the registry is reached through
# a unix socket (one socat per namespace turns it into 127.0.0.1:PORT there).
set -euo pipefail
cd "$(dirname "$0")"
# shellcheck source=common.sh
source ./common.sh
started=$SECONDS

[ "$(id -u)" = 0 ] || fail "needs root (network namespaces, extra Docker engines): run 'sudo just swarm-up'"

install_tools() {
    local missing=()
    if ! command -v dockerd >/dev/null 2>&1 || ! command -v containerd >/dev/null 2>&1; then
        fail "dockerd/containerd missing: run 'just engine' first (it installs docker.io)"
    fi
    command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry)
    command -v socat >/dev/null 2>&1 || missing+=(socat)
    for tool in ip nsenter unshare; do command -v "$tool" >/dev/null 2>&1 || fail "$tool is missing"; done
    [ ${#missing[@]} = 0 ] && return 0
    command -v apt-get >/dev/null 2>&1 || fail "missing ${missing[*]} and no apt-get to install them"
    say "installing ${missing[*]} with apt-get (once)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null || fail "apt-get update failed"
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
        || fail "apt-get install ${missing[*]} failed"
}

# start_daemon NAME PIDFILE LOG COMMAND...: start COMMAND detached (own session) unless
# the process in PIDFILE is alive. The pid written is the daemon's own: sh writes its
# $$ and execs, and nsenter/unshare exec too (they fork only for pid namespaces).
# (dockerd gets its own --pidfile elsewhere: it refuses a pid file naming a live pid.)
start_daemon() {
    local name=$1 pidfile=$2 log=$3; shift 3
    pid_alive "$pidfile" && return 0
    # shellcheck disable=SC2016
    # 9<&-: the daemon must not inherit (and so hold forever) the lock of common.sh.
    SWARM_LOCKED='' setsid sh -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@" >"$log" 2>&1 </dev/null 9<&- &
    say "started $name (pid $!, log $log)"
}

wait_for() {
    local what=$1; shift
    local deadline=$((SECONDS + SWARM_WAIT_SECONDS))
    until "$@"; do
        [ $SECONDS -lt $deadline ] || fail "$what did not come up within ${SWARM_WAIT_SECONDS}s"
        sleep 0.2
    done
}

make_network() {
    [ -e "/run/netns/$SWARM_SWITCH" ] || ip netns add "$SWARM_SWITCH"
    ip -n "$SWARM_SWITCH" link set lo up
    ip -n "$SWARM_SWITCH" link show br0 >/dev/null 2>&1 || ip -n "$SWARM_SWITCH" link add br0 type bridge
    ip -n "$SWARM_SWITCH" link set br0 up
    local node ns
    for node in "${SWARM_NODES[@]}"; do
        ns=$(node_ns "$node")
        [ -e "/run/netns/$ns" ] || ip netns add "$ns"
        ip -n "$ns" link set lo up
        # Both ends are created directly inside their namespaces: nothing ever
        # appears in the host's namespace, so no name can clash with the host's.
        ip -n "$ns" link show eth0 >/dev/null 2>&1 \
            || ip -n "$SWARM_SWITCH" link add "sw-$node" type veth peer name eth0 netns "$ns"
        ip -n "$SWARM_SWITCH" link set "sw-$node" master br0 up
        [[ $(ip -n "$ns" -o -4 addr show dev eth0) == *"inet $(node_ip "$node")/"* ]] \
            || ip -n "$ns" addr add "$(node_ip "$node")/24" dev eth0
        # No default route on purpose: a lookup of a public registry fails at once
        # instead of waiting ~45 s for a timeout on every deploy.
        ip -n "$ns" link set eth0 up
    done
}

start_registry() {
    mkdir -p "$SWARM_LIB/registry"
    cat >"$SWARM_RUN/registry.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $SWARM_LIB/registry
  delete:
    enabled: true
http:
  net: unix
  addr: $SWARM_RUN/registry.sock
EOF
    # A socket file left by a killed registry would make it fail to listen.
    pid_alive "$SWARM_RUN/registry.pid" || rm -f "$SWARM_RUN/registry.sock"
    start_daemon registry "$SWARM_RUN/registry.pid" "$SWARM_RUN/registry.log" \
        docker-registry serve "$SWARM_RUN/registry.yml"
    wait_for "the registry" test -S "$SWARM_RUN/registry.sock"
    # The same name everywhere: 127.0.0.1:PORT on the host (the main engine pushes
    # there; loopback registries need no TLS) and in each node namespace.
    local forward=(socat "TCP-LISTEN:$SWARM_REGISTRY_PORT,bind=127.0.0.1,reuseaddr,fork"
        "UNIX-CONNECT:$SWARM_RUN/registry.sock")
    start_daemon "registry port on the host" "$SWARM_RUN/socat-host.pid" "$SWARM_RUN/socat-host.log" \
        "${forward[@]}"
    local node
    for node in "${SWARM_NODES[@]}"; do
        start_daemon "registry port in $node" "$SWARM_RUN/socat-$node.pid" "$SWARM_RUN/socat-$node.log" \
            nsenter --net="/run/netns/$(node_ns "$node")" "${forward[@]}"
    done
    wait_for "the registry on $SWARM_REGISTRY" \
        bash -c "exec 2>/dev/null 3<>/dev/tcp/127.0.0.1/$SWARM_REGISTRY_PORT"
}

start_engine() {
    local node=$1 ns dir
    ns=$(node_ns "$node")
    dir=$SWARM_RUN/$node
    mkdir -p "$dir" "$SWARM_LIB/$node"
    # Its own containerd (not the machine's, not a shared /run/containerd), started in
    # the node's namespaces so that host-network containers land in the node too.
    cat >"$dir/containerd.toml" <<EOF
version = 2
root = "$SWARM_LIB/$node/containerd"
state = "$dir/containerd"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$dir/containerd.sock"
[debug]
  address = ""
EOF
    echo '{}' >"$dir/daemon.json"  # never read the machine's /etc/docker/daemon.json
    # nsenter, not `ip netns exec`: that one remounts /sys and hides the cgroup tree.
    local enter=(nsenter --net="/run/netns/$ns" unshare --uts sh -c "hostname $ns && exec \"\$@\"" sh)
    pid_alive "$dir/containerd.pid" || rm -f "$dir/containerd.sock"
    start_daemon "containerd of $node" "$dir/containerd.pid" "$dir/containerd.log" \
        "${enter[@]}" containerd --config "$dir/containerd.toml"
    wait_for "containerd of $node" test -S "$dir/containerd.sock"
    pid_alive "$dir/dockerd.pid" && return 0
    rm -f "$(node_sock "$node")"
    start_daemon "dockerd of $node" "$dir/dockerd.pid" "$dir/dockerd.log" \
        "${enter[@]}" dockerd \
        --config-file "$dir/daemon.json" \
        --data-root "$SWARM_LIB/$node/docker" \
        --exec-root "$dir/exec" \
        --pidfile "$dir/dockerd.own.pid" \
        -H "unix://$(node_sock "$node")" \
        --containerd "$dir/containerd.sock" \
        --cgroup-parent "/$SWARM_PREFIX-$node" \
        --default-address-pool "base=$SWARM_LOCAL_POOL,size=24" \
        --insecure-registry "$SWARM_REGISTRY" \
        --storage-driver overlay2
}

join_swarm() {
    local manager_ip state token node
    manager_ip=$(node_ip manager)
    state=$(node_docker manager info --format '{{.Swarm.LocalNodeState}}')
    if [ "$state" != active ]; then
        node_docker manager swarm init --advertise-addr "$manager_ip" --listen-addr "$manager_ip:2377" \
            --default-addr-pool "$SWARM_OVERLAY_POOL" --default-addr-pool-mask-length 24 >/dev/null
        say "swarm initialised on the manager ($manager_ip)"
    fi
    token=$(node_docker manager swarm join-token -q worker)
    for node in worker1 worker2; do
        local hostname ready
        hostname=$(node_ns "$node")
        ready=$(node_docker manager node ls --filter "name=$hostname" --format '{{.Hostname}} {{.Status}}' \
            | grep -c "^$hostname Ready$" || true)
        state=$(node_docker "$node" info --format '{{.Swarm.LocalNodeState}}')
        if [ "$state" = active ] && [ "$ready" -ge 1 ]; then continue; fi
        # In some other swarm (the manager was reset), or half joined: start over.
        [ "$state" = inactive ] || node_docker "$node" swarm leave --force >/dev/null 2>&1 || true
        node_docker "$node" swarm join --token "$token" --advertise-addr "$(node_ip "$node")" \
            "$manager_ip:2377" >/dev/null
        say "$node joined the swarm"
    done
    # A worker that left and joined again leaves its old entry behind as Down.
    local stale
    stale=$(node_docker manager node ls --format '{{.ID}} {{.Status}}' | awk '$2 == "Down" {print $1}')
    # shellcheck disable=SC2086  # one id per word
    [ -z "$stale" ] || node_docker manager node rm --force $stale >/dev/null
    local deadline=$((SECONDS + SWARM_WAIT_SECONDS))
    until [ "$(node_docker manager node ls --format '{{.Status}}' | grep -c '^Ready$')" = 3 ]; do
        [ $SECONDS -lt $deadline ] || fail "not all three nodes are Ready: $(node_docker manager node ls)"
        sleep 0.2
    done
}

# timed NAME COMMAND...: run it and remember how long it took, for the last line
timings=()
timed() {
    local t0=${EPOCHREALTIME/./}
    "${@:2}"
    timings+=("$1 $(( (${EPOCHREALTIME/./} - t0) / 1000 )) ms")
}
start_engines() {
    for node in "${SWARM_NODES[@]}"; do start_engine "$node"; done
    for node in "${SWARM_NODES[@]}"; do wait_for "the engine of $node" node_answers "$node"; done
}

# The engines' data roots and the registry's storage live on a tmpfs: pulls and
# extraction do not wait on the shared disk, and teardown is one unmount instead of
# deleting some 100,000 files of images (measured: ~35 s for the full stack's).
make_data_dir() {
    mkdir -p "$SWARM_RUN" "$SWARM_LIB"
    mountpoint -q "$SWARM_LIB" || mount -t tmpfs -o "size=$SWARM_LIB_SIZE,mode=0711" spot-swarm "$SWARM_LIB"
}

timed tools install_tools
timed data make_data_dir
timed network make_network
timed registry start_registry
timed engines start_engines
timed swarm join_swarm
timed push bash ./push.sh
summary=$(IFS=,; echo "${timings[*]}")
say "ready in $((SECONDS - started))s (${summary//,/, }): 3 nodes, registry $SWARM_REGISTRY"
node_docker manager node ls >&2
# Per command, not exported: an exported DOCKER_HOST would also redirect the recipes
# (`just images` would build on the manager).
printf 'reach the manager with: DOCKER_HOST=unix://%s docker node ls\n' "$(node_sock manager)"
