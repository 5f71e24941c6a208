#!/bin/sh
# Runs inside the debootstrapped root (chroot) before it is imported as an image.
set -eu
# A fresh named volume copies the ownership of its mount point from the image:
# PostgreSQL runs as `postgres` and needs to own its data directory.
mkdir -p /var/lib/postgresql/data /app
chown postgres:postgres /var/lib/postgresql/data
chmod 700 /var/lib/postgresql/data
install -m 0755 /tmp/pg-start.sh /usr/local/bin/pg-start
rm -f /tmp/pg-start.sh
# Keep the image small: no apt lists, docs or caches.
rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /usr/share/doc/* /usr/share/man/* /usr/share/locale/*
