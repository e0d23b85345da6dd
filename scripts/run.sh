#!/usr/bin/env bash
# Start the Celery worker (with beat) and the web server; Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
PORT="${PORT:-5000}"
HOST="${HOST:-127.0.0.1}"
mkdir -p instance

"$BIN/celery" -A wsgi:celery_app worker --beat --loglevel=INFO --concurrency=2 \
  --schedule instance/celerybeat-schedule --pidfile instance/celery-worker.pid >instance/celery.log 2>&1 &
WORKER_PID=$!

stop() {
  trap - INT TERM EXIT
  echo
  echo "Stopping the worker…"
  kill -TERM "$WORKER_PID" 2>/dev/null || true
  wait "$WORKER_PID" 2>/dev/null || true
  [[ -n "${WEB_PID:-}" ]] && kill -TERM "$WEB_PID" 2>/dev/null || true
  exit 0
}
trap stop INT TERM EXIT

echo
echo "Consumption-assistance marketplace: http://$HOST:$PORT"
echo "Celery worker and beat: pid $WORKER_PID, log in instance/celery.log"
"$BIN/flask" demo logins
echo "Press Ctrl-C to stop."
echo

"$BIN/gunicorn" --bind "$HOST:$PORT" --workers 2 --threads 4 --access-logfile - --error-logfile - \
  --graceful-timeout 5 "wsgi:app" &
WEB_PID=$!
wait "$WEB_PID"
