"""The alerts settings, read from the environment (listed in the README)."""

from __future__ import annotations

import os

from celery.schedules import crontab
from flask import Flask


def load_settings(app: Flask) -> None:
    # The hour (Asia/Shanghai, Celery's timezone) at which beat starts the daily early-warning job.
    hour = int(app.config.get("ALERTS_SCHEDULE_HOUR", os.environ.get("ALERTS_SCHEDULE_HOUR") or 6))
    if not 0 <= hour <= 23:
        raise ValueError(f"ALERTS_SCHEDULE_HOUR must be an hour from 0 to 23, not {hour!r}")
    app.config["ALERTS_SCHEDULE_HOUR"] = hour
    # How many recommended buyer units are told when a warning opens or rises (0: none).
    top = int(app.config.get("ALERTS_RECOMMEND_TOP", os.environ.get("ALERTS_RECOMMEND_TOP") or 5))
    if not 0 <= top <= 50:
        raise ValueError(f"ALERTS_RECOMMEND_TOP must be a number of units from 0 to 50, not {top!r}")
    app.config["ALERTS_RECOMMEND_TOP"] = top
    schedule = app.config["CELERY"].setdefault("beat_schedule", {})
    schedule.setdefault("alerts-early-warning", {"task": "alerts.run_early_warning",
                                                 "schedule": crontab(hour=hour, minute=0)})
