"""The daily early-warning task. Safe to overlap: a run is keyed by its date (unique), so a second
worker starting the same day finds the first run, or loses the insert race and does nothing."""

from __future__ import annotations

from celery import shared_task

from alerts import job


@shared_task(name="alerts.run_early_warning")
def run_early_warning(run_on: str | None = None) -> dict:
    """Run the job for ``run_on`` (ISO date; today in Asia/Shanghai when omitted)."""
    from datetime import date

    outcome = job.run(date.fromisoformat(run_on) if run_on else None)
    r = outcome.run
    return {"run_on": r.run_on.isoformat(), "created": outcome.created, "opened": r.opened, "raised": r.raised,
            "lowered": r.lowered, "resolved": r.resolved,
            "plan_lag_opened": r.plan_lag_opened, "plan_lag_resolved": r.plan_lag_resolved}
