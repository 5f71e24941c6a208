#!/bin/sh
# Start PostgreSQL 15 as the `postgres` user, creating the cluster on first start.
set -eu
PGDATA=${PGDATA:-/var/lib/postgresql/data}
BIN=/usr/lib/postgresql/15/bin
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    pwfile=$(mktemp)
    printf '%s\n' "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}" > "$pwfile"
    "$BIN/initdb" -D "$PGDATA" --username=postgres --pwfile="$pwfile" \
        --auth-local=trust --auth-host=scram-sha-256 >/dev/null
    rm -f "$pwfile"
    echo "host all all 0.0.0.0/0 scram-sha-256" >> "$PGDATA/pg_hba.conf"
    echo "initialised a new cluster in $PGDATA (APP_ENV=${APP_ENV:-unset})"
fi
exec "$BIN/postgres" -D "$PGDATA" -k /tmp -c listen_addresses='*'
