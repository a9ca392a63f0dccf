#!/usr/bin/env bash
# What `make test` needs besides the virtualenv: PostgreSQL and Redis on their
# standard local ports (started when they are down) and Debian's Chromium for
# the admin's browser test (installed when missing; never a browser download).
set -euo pipefail

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if ! port_open 5432; then
  echo "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
fi
if ! port_open 6379; then
  echo "starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
fi
for _ in $(seq 1 30); do port_open 5432 && port_open 6379 && break; sleep 1; done
command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)
