#!/usr/bin/env bash
# Push the stack's local images from the machine's Docker engine into the swarm's
# registry, where every node pulls them as 127.0.0.1:PORT/NAME:TAG.
#
#   push.sh          push; fail when the registry is not up (run `just swarm-up`)
#   push.sh --if-up  push when the registry is up, else do nothing; a failed push is
#                    only a warning (`just images` runs this: no swarm must break it)
#
# Each image is tagged for the registry, pushed, and untagged again, so the machine's
# engine keeps no extra names. Layers the registry already has are not sent again:
# an unchanged image costs one manifest check.
set -euo pipefail
cd "$(dirname "$0")"
# shellcheck source=common.sh
source ./common.sh

registry_up() { timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$SWARM_REGISTRY_PORT" 2>/dev/null; }

if_up=false
[ "${1:-}" = --if-up ] && if_up=true
if ! registry_up; then
    $if_up && exit 0
    fail "the swarm's registry ($SWARM_REGISTRY) is not up: run 'just swarm-up'"
fi
$if_up && fail() { say "warning: $*"; exit 0; }

# The image id last pushed, per image: an unchanged image is not pushed again. The
# record lives with the registry's run state, so a new registry starts without it.
mkdir -p "$SWARM_RUN/pushed"
for image in "${SWARM_IMAGES[@]}"; do
    if ! id=$(docker image inspect --format '{{.Id}}' "$image" 2>/dev/null); then
        say "skipping $image: not built on this engine (run 'just images')"
        continue
    fi
    record=$SWARM_RUN/pushed/${image//[:\/]/_}
    [ "$(cat "$record" 2>/dev/null)" != "$id" ] || continue
    target=$SWARM_REGISTRY/$image
    t0=$SECONDS
    docker tag "$image" "$target"
    if ! out=$(timeout 600 docker push -q "$target" 2>&1); then
        docker rmi "$target" >/dev/null 2>&1 || true
        fail "pushing $target failed: $out"
    fi
    docker rmi "$target" >/dev/null
    echo "$id" >"$record"
    say "pushed $target in $((SECONDS - t0))s"
done
