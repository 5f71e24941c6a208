# Shared names and addresses of the local multi-node swarm (sourced by up.sh, down.sh,
# push.sh). Everything this swarm creates is named or placed below these, so teardown
# can find all of it again.
#
#   switch namespace  spot-swarm-switch: the bridge br0 every node is plugged into
#   node namespaces   spot-swarm-manager 10.77.0.11, -worker1 .12, -worker2 .13
#   engines           dockerd + containerd per node, API on $SWARM_RUN/<node>.sock
#   registry          Debian's docker-registry on a unix socket, reachable as
#                     127.0.0.1:$SWARM_REGISTRY_PORT on the host and in every node
#                     (one socat per namespace), so an image has the same name
#                     everywhere: 127.0.0.1:5077/spot-app:local
# shellcheck shell=bash disable=SC2034  # the variables are used by the scripts that source this

SWARM_RUN=${SWARM_RUN:-/run/spot-swarm}          # sockets, pid files, exec roots, logs
SWARM_LIB=${SWARM_LIB:-/var/lib/spot-swarm}      # data roots, registry storage: a tmpfs
SWARM_LIB_SIZE=${SWARM_LIB_SIZE:-8g}             # its limit (it takes only what is used)
SWARM_PREFIX=spot-swarm                          # namespaces and cgroup parents
SWARM_SWITCH=$SWARM_PREFIX-switch
SWARM_SUBNET_PREFIX=10.77.0                      # the node network: 10.77.0.0/24
SWARM_NODES=(manager worker1 worker2)
declare -A SWARM_ADDR=([manager]=11 [worker1]=12 [worker2]=13)
# Overlay networks of the swarm are carved from here (the default 10.0.0.0/8 would
# overlap the node network); local bridge networks inside the nodes likewise.
SWARM_OVERLAY_POOL=${SWARM_OVERLAY_POOL:-10.78.0.0/16}
SWARM_LOCAL_POOL=${SWARM_LOCAL_POOL:-10.79.0.0/16}
SWARM_REGISTRY_PORT=${SWARM_REGISTRY_PORT:-5077}
SWARM_REGISTRY=127.0.0.1:$SWARM_REGISTRY_PORT
# Every image of every environment: a team may put dev or test on the swarm too.
SWARM_IMAGES=(spot-busybox:local spot-runtime:local spot-app:local spot-app-dev:local
    spot-adminer:local spot-maildev:local spot-devtools:local)
SWARM_WAIT_SECONDS=${SWARM_WAIT_SECONDS:-30}

# The nodes are always named explicitly (-H), and "the machine's engine" is the
# default socket: a DOCKER_HOST exported for the swarm must not redirect either.
unset DOCKER_HOST DOCKER_CONTEXT

# One of up.sh / down.sh / push.sh at a time (a lock on this file: nothing to clean
# up); a script run by one that holds it (up.sh runs push.sh) inherits it.
if [ -z "${SWARM_LOCKED:-}" ]; then
    exec 9<"${BASH_SOURCE[0]}"
    flock -w 600 9 || { printf 'swarm: another swarm-up/-down still runs after 600 s\n' >&2; exit 1; }
    export SWARM_LOCKED=1
fi

say() { printf 'swarm: %s\n' "$*" >&2; }
fail() { say "$*"; exit 1; }

node_ns() { echo "$SWARM_PREFIX-$1"; }
node_ip() { echo "$SWARM_SUBNET_PREFIX.${SWARM_ADDR[$1]}"; }
node_sock() { echo "$SWARM_RUN/$1.sock"; }
node_docker() { local node=$1; shift; timeout "${SWARM_CALL_TIMEOUT:-60}" docker -H "unix://$(node_sock "$node")" "$@"; }
node_answers() { [ -S "$(node_sock "$1")" ] && timeout 5 docker -H "unix://$(node_sock "$1")" version >/dev/null 2>&1; }

# running PID: a live process, not a zombie. (Our daemons' parent is the machine's
# init once up.sh has exited, and it reaps only every few seconds.)
running() {
    local state
    state=$(awk '/^State:/ {print $2}' "/proc/$1/status" 2>/dev/null) || return 1
    [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# pid_alive FILE: the pid in FILE is running, and is still ours: every daemon we
# start names $SWARM_RUN on its command line (a pid file that outlived its process,
# e.g. across a reboot, may name someone else's process by now).
pid_alive() {
    local pid
    pid=$(cat "$1" 2>/dev/null) || return 1
    [ -n "$pid" ] && running "$pid" && [[ $(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") == *"$SWARM_RUN"* ]]
}
