#!/usr/bin/env bash
# The whole test suite on whatever DATABASE_URL / CELERY_BROKER_URL the environment names
# (SQLite and an in-memory broker when unset).
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/pytest "$@"
