#!/usr/bin/env bash
# Build the stack's local images (no registry is reachable), each only when its
# recipe changed. The recipe hash is stored as the label spot.recipe-hash.
#
#   spot-runtime:local  debootstrap (Debian minbase + python3, uvicorn, FastAPI,
#                       psycopg2, PostgreSQL 15) -> docker import      (~1 min, once)
#   spot-busybox:local  FROM scratch + Debian's static busybox          (stand-ins)
#   spot-app:local      FROM spot-runtime + compose/services            (our code)
#
# and, only for the environments whose profiles use them (dev, test):
#   spot-app-dev:local  FROM spot-runtime + debugpy, pytest + compose/services
#   spot-adminer:local  FROM spot-runtime + Debian's adminer, php-cli, php-pgsql
#   spot-maildev:local  FROM spot-runtime + Debian's nodejs + MailDev (npm, locked)
#   spot-devtools:local FROM spot-runtime + psql, curl, httpie
#
# usage: build.sh [ENV...]   the images ENV's services use (wanted.py asks Compose);
#        with no ENV, those of the APP_ENV `reconcile` resolves (command line, .env,
#        default prod). spot-busybox:local is always built (tests create containers
#        from it). PYTHON names an interpreter that has the project installed.
set -euo pipefail
cd "$(dirname "$0")"
IMAGES=$PWD
SERVICES=$PWD/../services

say() { printf 'images: %s\n' "$*" >&2; }
fail() { say "$*"; exit 1; }

recipe_hash() { (cd "$IMAGES/.." && find "$@" -type f ! -name '*.pyc' ! -path '*/__pycache__/*' -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16); }
current_hash() { docker image inspect --format '{{index .Config.Labels "spot.recipe-hash"}}' "$1" 2>/dev/null || true; }

debian_mirror() {
    # The mirror apt already uses on this machine (deb822 or one-line sources).
    local uri
    uri=$(grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v security | head -n1)
    [ -n "$uri" ] || uri=$(grep -hsE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list | awk '{print $2}' | grep -v security | head -n1)
    [ -n "$uri" ] || fail "no Debian mirror found in /etc/apt/sources.list*: cannot build spot-runtime"
    echo "$uri"
}

build_runtime() {
    local hash; hash=$(recipe_hash images/runtime)
    [ "$(current_hash spot-runtime:local)" = "$hash" ] && return 0
    command -v debootstrap >/dev/null 2>&1 || {
        [ "$(id -u)" = 0 ] || fail "debootstrap is missing: run 'sudo apt-get install debootstrap'"
        say "installing debootstrap with apt-get (once)"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null \
            || fail "apt-get install debootstrap failed"
    }
    local rootfs; rootfs=$(mktemp -d /tmp/spot-runtime.XXXXXX)
    trap 'rm -rf "$rootfs"' RETURN
    local packages; packages=$(grep -vE '^\s*(#|$)' "$IMAGES/runtime/packages.txt" | paste -sd, -)
    say "building spot-runtime:local from Debian packages ($packages); about a minute, once"
    debootstrap --variant=minbase --include="$packages" bookworm "$rootfs" "$(debian_mirror)" >/tmp/spot-debootstrap.log 2>&1 \
        || fail "debootstrap failed: see /tmp/spot-debootstrap.log"
    cp "$IMAGES/runtime/pg-start.sh" "$rootfs/tmp/pg-start.sh"
    chroot "$rootfs" /bin/sh -s < "$IMAGES/runtime/setup.sh"
    tar -C "$rootfs" -c . | docker import \
        -c 'CMD ["/bin/bash"]' -c "LABEL spot.recipe-hash=$hash" - spot-runtime:local >/dev/null
    say "built spot-runtime:local ($hash)"
}

build_busybox() {
    local hash; hash=$(recipe_hash images/busybox services/standin)
    [ "$(current_hash spot-busybox:local)" = "$hash" ] && return 0
    [ -x /bin/busybox ] && /bin/busybox --help 2>&1 | head -1 | grep -q BusyBox || {
        [ "$(id -u)" = 0 ] || fail "the static busybox is missing: run 'sudo apt-get install busybox-static'"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends busybox-static >/dev/null \
            || fail "apt-get install busybox-static failed"
    }
    local context; context=$(mktemp -d /tmp/spot-busybox.XXXXXX)
    trap 'rm -rf "$context"' RETURN
    cp "$IMAGES/busybox/Dockerfile" "$context/"
    cp /bin/busybox "$context/busybox"
    cp "$SERVICES/standin/serve.sh" "$context/serve.sh"
    docker build -q --label "spot.recipe-hash=$hash" -t spot-busybox:local "$context" >/tmp/spot-build.log 2>&1 \
        || fail "building spot-busybox:local failed: see /tmp/spot-build.log"
    say "built spot-busybox:local ($hash)"
}

build_app() {
    # Depends on the runtime: its hash is part of ours, so a new runtime rebuilds us.
    local hash; hash=$( (recipe_hash images/app services; current_hash spot-runtime:local) | sha256sum | cut -c1-16)
    [ "$(current_hash spot-app:local)" = "$hash" ] && return 0
    docker build -q --label "spot.recipe-hash=$hash" -f "$IMAGES/app/Dockerfile" -t spot-app:local "$SERVICES" >/tmp/spot-build.log 2>&1 \
        || fail "building spot-app:local failed: see /tmp/spot-build.log"
    say "built spot-app:local ($hash)"
}

build_on_runtime() {
    # NAME FOLDER CONTEXT [HASHED...]: `docker build` of images/FOLDER/Dockerfile, whose
    # FROM is spot-runtime:local, with CONTEXT as build context. The runtime's hash is
    # part of ours, so a new runtime rebuilds us; the apt layer stays in the build cache.
    local name=$1 folder=$2 context=$3; shift 3
    local hash; hash=$( (recipe_hash "images/$folder" "$@"; current_hash spot-runtime:local) | sha256sum | cut -c1-16)
    [ "$(current_hash "$name")" = "$hash" ] && return 0
    say "building $name (about 15 s, once)"
    docker build -q --label "spot.recipe-hash=$hash" -f "$IMAGES/$folder/Dockerfile" -t "$name" "$context" >/tmp/spot-build.log 2>&1 \
        || fail "building $name failed: see /tmp/spot-build.log"
    say "built $name ($hash)"
}

build_maildev() {
    # MailDev and its dependencies, exactly as package-lock.json pins them, installed
    # with npm on this machine into the build context (the image gets only Node.js).
    local hash; hash=$( (recipe_hash images/maildev; current_hash spot-runtime:local) | sha256sum | cut -c1-16)
    [ "$(current_hash spot-maildev:local)" = "$hash" ] && return 0
    command -v npm >/dev/null 2>&1 || {
        [ "$(id -u)" = 0 ] || fail "npm is missing: run 'sudo apt-get install npm'"
        say "installing npm with apt-get (once)"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm >/dev/null \
            || fail "apt-get install npm failed"
    }
    local context; context=$(mktemp -d /tmp/spot-maildev.XXXXXX)
    trap 'rm -rf "$context"' RETURN
    cp "$IMAGES/maildev/package.json" "$IMAGES/maildev/package-lock.json" "$context/"
    (cd "$context" && npm ci --omit=dev --no-audit --no-fund >/tmp/spot-npm.log 2>&1) \
        || fail "npm ci of MailDev failed: see /tmp/spot-npm.log"
    build_on_runtime spot-maildev:local maildev "$context"
}

# The images to build: those wanted.py lists for the environments asked for.
wanted=$("${PYTHON:-python3}" "$IMAGES/wanted.py" "$@") || fail "cannot tell which images are needed (see above)"
wants() { grep -qxF "$1" <<<"$wanted"; }

build_runtime
build_busybox
built=(spot-runtime:local spot-busybox:local)
if wants spot-app:local; then build_app; built+=(spot-app:local); fi
if wants spot-app-dev:local; then build_on_runtime spot-app-dev:local app-dev "$SERVICES" services; built+=(spot-app-dev:local); fi
if wants spot-adminer:local; then build_on_runtime spot-adminer:local adminer "$IMAGES/adminer"; built+=(spot-adminer:local); fi
if wants spot-maildev:local; then build_maildev; built+=(spot-maildev:local); fi
if wants spot-devtools:local; then build_on_runtime spot-devtools:local devtools "$IMAGES/devtools"; built+=(spot-devtools:local); fi
for image in $wanted; do
    printf '%s\n' "${built[@]}" | grep -qxF "$image" || fail "no recipe builds $image (used by a service)"
done
say "ready: ${built[*]}"
