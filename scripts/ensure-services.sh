#!/usr/bin/env bash
# Make sure PostgreSQL and Redis answer on 127.0.0.1; start them when they are installed but stopped.
# Exits non-zero (loudly) when either cannot be reached, so CI never skips them silently.
set -uo pipefail

pg_up() { pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null || (echo > /dev/tcp/127.0.0.1/5432) 2>/dev/null; }
redis_up() { [[ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" == "PONG" ]]; }

if ! pg_up; then
  echo "PostgreSQL is not answering; trying to start it…"
  if command -v pg_ctlcluster >/dev/null; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  fi
  for _ in $(seq 1 20); do pg_up && break; sleep 0.5; done
fi
if ! redis_up; then
  echo "Redis is not answering; trying to start it…"
  if command -v redis-server >/dev/null; then
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no || true
  fi
  for _ in $(seq 1 20); do redis_up && break; sleep 0.5; done
fi

ok=0
pg_up && echo "PostgreSQL: up on 127.0.0.1:5432" || { echo "ERROR: PostgreSQL unreachable on 127.0.0.1:5432" >&2; ok=1; }
redis_up && echo "Redis: up on 127.0.0.1:6379" || { echo "ERROR: Redis unreachable on 127.0.0.1:6379" >&2; ok=1; }
exit $ok
