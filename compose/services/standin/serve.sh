#!/bin/sh
# A dev tool stand-in (adminer, mailhog, devtools): busybox httpd on each given port,
# answering a page that says what it is and which APP_ENV it runs in.
# usage: serve.sh NAME PORT [PORT...]
set -eu
name=$1; shift
root=/tmp/www
mkdir -p "$root"
printf '%s stand-in (APP_ENV=%s)\n' "$name" "${APP_ENV:-}" > "$root/index.html"
for port in "$@"; do
    httpd -f -p "$port" -h "$root" &
done
echo "$name listening on $* (APP_ENV=${APP_ENV:-})"
trap 'kill $(jobs -p) 2>/dev/null; exit 0' TERM INT
wait
