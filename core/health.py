"""Liveness and readiness probes.

/healthz says the process answers. /readyz checks the database, the Celery
broker and every check the domains registered (the search backend, ...).
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify

from core.extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


def _check_database() -> None:
    db.session.execute(sa.text("SELECT 1"))


def _check_broker() -> None:
    celery_app = current_app.extensions["celery"]
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


@bp.get("/readyz")
def readyz():
    checks = {"database": _check_database, "broker": _check_broker, **current_app.extensions["readiness_checks"]}
    results, ready = {}, True
    for name, check in checks.items():
        started = time.perf_counter()
        try:
            detail = check()
        except Exception as exc:  # any failure means not ready; say which and why
            ready = False
            results[name] = {"ok": False, "error": type(exc).__name__}
        else:
            results[name] = {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1)}
            if isinstance(detail, dict):
                results[name].update(detail)
    return jsonify(status="ready" if ready else "unavailable", checks=results), 200 if ready else 503
