# The spec's `make service:*` targets as just recipes. An inline APP_ENV=... works on
# every recipe. dotenv-load stays off on purpose: the reconciler reads .env itself and
# must be able to tell a command-line APP_ENV from the .env one.

set shell := ["bash", "-euo", "pipefail", "-c"]

# Arguments reach the command as "$@", one word each, never re-split or run by a shell:
# `just status --project-directory "/srv/my stack"` and `just logs 'api; rm x'` are safe.
set positional-arguments

# The project's virtualenv comes first, so recipes work without activating it.
export PATH := justfile_directory() / ".venv/bin" + ":" + env_var("PATH")

# List the recipes
default:
    @just --list --unsorted

# Make a Docker engine and Compose v2 available (installs and starts them if needed)
engine: bytecode
    @PYTHON=python bash compose/engine.sh

# Compile the reconciler's modules once (compileall skips the current ones, ~30 ms).
# Where PYTHONDONTWRITEBYTECODE is set, as on the CI machines, an editable install
# would otherwise recompile every module on every `reconcile` run (~0.1 s of each).
[private]
bytecode:
    @python -m compileall -q reconciler state >/dev/null

# Build the images of APP_ENV (or of the named environments) whose recipes changed: ~1 min for prod, ~1 more for dev/test, once
images *ENVS: engine
    @PYTHON=python bash compose/images/build.sh "$@"
    @bash compose/swarm/push.sh --if-up

# Bring the stack to APP_ENV (default prod): show the plan, apply it, verify
up *ARGS: images
    reconcile "$@"

# Show what `up` would change, change nothing (exit 2 when changes are pending)
plan *ARGS: images
    reconcile --plan "$@"

# Show container status against the current APP_ENV
status *ARGS: engine
    reconcile status "$@"

# Stop all containers of the project, keeping them
stop *ARGS: engine
    reconcile stop "$@"

# Restart: stop everything, recreate everything for APP_ENV
restart *ARGS: images
    reconcile restart "$@"

# Keep the stack at APP_ENV: re-plan and apply on engine events and input edits (Ctrl-C stops)
watch *ARGS: images
    reconcile watch "$@"

# View service logs (SERVICE... -f --tail N)
logs *ARGS: engine
    reconcile logs "$@"

# Follow the logs of the whole stack (the spec's dev:logs)
dev-logs *ARGS: engine
    reconcile logs --follow "$@"

# Remove containers and networks; `just down --volumes --yes` also destroys the data
down *ARGS: engine
    reconcile down "$@"

# Run every test: unit, property and integration (sets APP_ENV=test itself)
test *ARGS: (images "prod" "dev" "test")
    APP_ENV=test python -m pytest "$@"

# Run the unit and property tests only (no Docker needed)
test-unit *ARGS:
    APP_ENV=test python -m pytest tests/unit tests/property "$@"

# Run the property tests with 10x the examples (hypothesis profile "deep")
test-deep *ARGS:
    APP_ENV=test HYPOTHESIS_PROFILE=deep python -m pytest tests/unit tests/property "$@"

# Break the reconciler on purpose, once per property, and show each property catch it
mutants *NAMES:
    APP_ENV=test python -m tests.property.mutants "$@"

# Run the integration tests against the real engine (sets APP_ENV=test itself)
test-integration *ARGS: (images "prod" "dev" "test")
    APP_ENV=test python -m pytest tests/integration "$@"

# Benchmark reconcile against Compose (N=10,50,200 and a plain N=50), idle CPU, plan() at scale, the status floor: --sizes 10 --repeat 3
bench *ARGS: (images "prod" "dev" "test")
    APP_ENV=test python -m tests.bench "$@"

# Start a local 3-node Docker Swarm (own namespaces, engines, registry); push the images
swarm-up: images
    @bash compose/swarm/up.sh

# Push the stack's images to the local swarm's registry (nodes pull 127.0.0.1:5077/...)
swarm-images: images
    @bash compose/swarm/push.sh

# Test the Swarm backend on the local swarm (brought up and images pushed first): ~4 min
test-swarm *ARGS: swarm-up
    RECONCILE_SWARM=1 APP_ENV=test python -m pytest tests/integration/test_swarm*.py "$@"

# Remove the local swarm and everything it made (namespaces, engines, mounts, cgroups)
swarm-down:
    @bash compose/swarm/down.sh

# ruff and mypy over the project
lint:
    ruff check .
    ruff format --check .
    mypy
