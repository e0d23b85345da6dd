"""Plan-lag warnings (计划进度滞后预警) of buyer units, evaluated inside the daily early-warning run.

The signal is procurement's: ``lagging_units(year, on=today)`` — units with a plan whose completion
(counted ÷ plan) trails time progress (day of year ÷ days in the year) by MORE than PLAN_LAG_POINTS
percentage points, each with its gap in points and in yuan. It is one aggregate query over every
unit, never a query per unit.

Levels (the national four-level convention of ``WarningLevel``), from the gap in points only:

- blue (四级): more than PLAN_LAG_POINTS (default 10) — the opening threshold;
- yellow (三级): more than ``plan_lag_yellow_points`` (default 20);
- orange (二级): more than ``plan_lag_orange_points`` (default 30);
- red (一级): more than ``plan_lag_red_points`` (default 40).

Points, not yuan, decide the level: plans run from ten thousand yuan to tens of millions, and a
threshold in yuan would make every large unit red and no small one ever so. The gap in yuan is kept
on the warning and ranks warnings of the same level (more money behind first).

Lifecycle, as product warnings (``alerts.rules``): a warning opens after the lag held
``open_after_runs`` consecutive runs (watching until then, seen by no one), rises after a higher level
held ``rise_after_runs`` runs (to the lowest level of that streak), falls at once, and resolves by
itself on the first run on which the unit is no longer lagging. Live warnings of an earlier plan
year resolve on the first run of the new year: that plan is closed. A run is keyed by its date, so a
second run on the same day changes nothing. Opening and raising tell the unit's administrators
(``UnitRole.ADMIN``) and those of the units above it, the regional administrators whose region
contains the unit and the platform administrators, through ``Notification`` rows written in the
run's transaction; e-mail goes out after the commit (``alerts.job``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from alerts import bulk
from alerts import rules as rules_mod
from alerts.models import (
    LEVEL_BY_SEVERITY,
    LIVE_STATUSES,
    SEVERITY,
    ActionKind,
    AlertRun,
    Notification,
    WarningLevel,
    WarningStatus,
)
from alerts.models_planlag import PlanLagAction, PlanLagWarning
from core.accounts.models import User
from core.database import utcnow
from core.extensions import db
from core.permissions import Role
from core.registry.models import Region
from procurement.models import BuyerUnit, UnitMember, UnitRole
from procurement.services.completion import UnitFigures, unit_figures
from procurement.services.rollups import lagging_units

RAISING_LEVELS = (WarningLevel.YELLOW, WarningLevel.ORANGE, WarningLevel.RED)
WRITE_BATCH = 2000  # rows per executemany


def level_for(gap_points: Decimal, rules: dict[str, int]) -> WarningLevel:
    """The level of a lagging unit (its gap already exceeds PLAN_LAG_POINTS): blue, or the highest
    level whose threshold the gap exceeds."""
    level = WarningLevel.BLUE
    for candidate in RAISING_LEVELS:
        if gap_points > rules[f"plan_lag_{candidate.value}_points"]:
            level = candidate
    return level


def _clamp(points: Decimal | None) -> Decimal:
    """The gap kept in the column: 0 to 100 points (a unit whose refunds outweigh its purchases can
    trail by more than the whole year; the figures keep the exact value)."""
    return min(Decimal(100), max(Decimal(0), points or Decimal(0)))


def figures_of(row: UnitFigures) -> dict:
    """The numbers kept on a warning: money in fen, percentages as two-decimal strings (exact in JSON)."""
    return {"plan_fen": row.plan_fen, "counted_fen": row.counted_fen,
            "completion": None if row.completion is None else str(row.completion),
            "time_progress": str(row.time_progress),
            "gap_points": None if row.lag_points is None else str(row.lag_points), "gap_fen": row.gap_fen}


@dataclass(eq=False)
class Live:
    """A live plan-lag warning as the run handles it: plain values, written back in bulk."""

    id: int | None
    unit_id: int
    year: int
    status: WarningStatus
    level: WarningLevel
    open_streak: int = 0
    rise_streak: int = 0
    rise_floor: int | None = None
    opened_at: datetime | None = None
    figures: dict | None = None


_LIVE_COLUMNS = (PlanLagWarning.id, PlanLagWarning.unit_id, PlanLagWarning.year, PlanLagWarning.status,
                 PlanLagWarning.level, PlanLagWarning.open_streak, PlanLagWarning.rise_streak,
                 PlanLagWarning.rise_floor, PlanLagWarning.opened_at, PlanLagWarning.figures)


def evaluate(alert_run: AlertRun, today: date, rules: dict[str, int]) -> list[tuple[str, str, str]]:
    """Move every unit's plan-lag warning on by this run; returns the e-mails to send after the commit.

    Flushes, never commits (``alerts.job.run`` commits the whole run once).
    """
    year = today.year
    lagging = lagging_units(year, on=today)
    alert_run.plan_lag_units = len(lagging)
    live = [Live(*row) for row in db.session.execute(
        sa.select(*_LIVE_COLUMNS).where(PlanLagWarning.status.in_(LIVE_STATUSES)))]
    this_year = {w.unit_id: w for w in live if w.year == year}
    now = utcnow()
    told: list[tuple[Live, UnitFigures, str]] = []  # (warning, figures, "opened" | "raised")
    kept: list[tuple[Live, UnitFigures]] = []
    for row in lagging:
        w = this_year.pop(row.unit_id, None)
        level = level_for(row.lag_points, rules)
        if w is None:
            w = Live(None, row.unit_id, year, WarningStatus.WATCHING, level)
        kind = _advance(w, level, rules, now, alert_run)
        if kind:
            told.append((w, row, kind))
        kept.append((w, row))
    # Units no longer lagging this year, and every live warning of a closed plan year.
    closed = list(this_year.values()) + [w for w in live if w.year != year]
    _write(alert_run, kept, closed, today, now)
    return _notify(told)


def _advance(w: Live, level: WarningLevel, rules: dict[str, int], now: datetime, alert_run: AlertRun) -> str | None:
    """Open after enough runs, rise after enough runs, fall at once; returns what to tell, if anything."""
    if w.status == WarningStatus.WATCHING:
        w.open_streak += 1
        w.level = level
        if w.open_streak >= rules["open_after_runs"]:
            w.status, w.opened_at = WarningStatus.OPEN, now
            alert_run.plan_lag_opened += 1
            return "opened"
        return None
    target, current = SEVERITY[level], SEVERITY[w.level]
    if target > current:
        w.rise_streak += 1
        w.rise_floor = min(w.rise_floor or target, target)
        if w.rise_streak >= rules["rise_after_runs"]:
            w.level = LEVEL_BY_SEVERITY[w.rise_floor]
            w.rise_streak, w.rise_floor = 0, None
            alert_run.plan_lag_raised += 1
            return "raised"
        return None
    w.rise_streak, w.rise_floor = 0, None
    if target < current:
        w.level = level
        alert_run.plan_lag_lowered += 1
    return None


def _write(alert_run: AlertRun, kept: list[tuple[Live, UnitFigures]], closed: list[Live], today: date,
           now: datetime) -> None:
    base = {"last_run_id": alert_run.id}

    def values(w: Live, row: UnitFigures) -> dict:
        figures = figures_of(row)
        figures["previous_gap_points"] = (w.figures or {}).get("gap_points")
        return {**base, "status": w.status, "level": w.level, "gap_points": _clamp(row.lag_points),
                "gap_fen": max(0, row.gap_fen or 0), "figures": figures, "open_streak": w.open_streak,
                "rise_streak": w.rise_streak, "rise_floor": w.rise_floor, "opened_at": w.opened_at}

    new = [(w, r) for w, r in kept if w.id is None]
    ids = bulk.insert_returning_ids(PlanLagWarning.__table__, new, lambda item: {
        **values(*item), "unit_id": item[0].unit_id, "year": item[0].year, "first_run_id": alert_run.id,
        "created_at": now}, key=("unit_id",))
    for (w, _r), wid in zip(new, ids, strict=True):
        w.id = wid
    bulk.update_rows(PlanLagWarning.__table__, ({**values(w, r), "id": w.id} for w, r in kept if w.id is not None))

    dropped = [w.id for w in closed if w.status == WarningStatus.WATCHING]
    resolved = [w for w in closed if w.status != WarningStatus.WATCHING]
    if dropped:
        # A watching warning whose lag ended never opened: it leaves no history.
        db.session.execute(sa.delete(PlanLagWarning).where(PlanLagWarning.id.in_(dropped))
                           .execution_options(synchronize_session=False))
    if resolved:
        # The figures on the day the unit caught up (one query for all of them; closed years keep theirs).
        current = {r.unit_id: r for r in unit_figures(
            today.year, BuyerUnit.id.in_(sorted(w.unit_id for w in resolved if w.year == today.year)), on=today)}
        rows = []
        for w in resolved:
            row = current.get(w.unit_id) if w.year == today.year else None
            update = {**base, "id": w.id, "status": WarningStatus.RESOLVED, "resolved_at": now, "rise_streak": 0,
                      "rise_floor": None}
            if row is not None:
                update.update(figures={**figures_of(row), "previous_gap_points": (w.figures or {}).get("gap_points")},
                              gap_points=_clamp(row.lag_points),
                              gap_fen=max(0, row.gap_fen or 0))
            rows.append(update)
        for batch in _batches(rows):
            db.session.execute(sa.update(PlanLagWarning), list(batch))
        for batch in _batches(resolved):
            db.session.execute(sa.insert(PlanLagAction), [
                {"warning_id": w.id, "actor_id": None, "kind": ActionKind.RESOLVE,
                 "note": "" if w.year == today.year else "plan year closed"} for w in batch])
        alert_run.plan_lag_resolved += len(resolved)


def _batches(rows: list, size: int = WRITE_BATCH):
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


def recipients_for(units: list[tuple[int, str]]) -> dict[int, set[int]]:
    """unit id → user ids to tell: the administrators of the unit and of the units above it (a
    department over its sub-units), the regional administrators whose region contains the unit, and
    the platform administrators. ``units`` are (unit id, region path); three queries whatever their number."""
    parent_of = dict(db.session.execute(
        sa.select(BuyerUnit.id, BuyerUnit.parent_id).where(BuyerUnit.parent_id.is_not(None))).all())
    above: dict[int, list[int]] = {}
    for unit_id, _path in units:
        chain, at = [unit_id], unit_id
        while at in parent_of and parent_of[at] not in chain:  # a cycle stops the walk
            at = parent_of[at]
            chain.append(at)
        above[unit_id] = chain
    members: dict[int, set[int]] = defaultdict(set)
    for user_id, unit_id in db.session.execute(
        sa.select(UnitMember.user_id, UnitMember.unit_id).join(User, User.id == UnitMember.user_id)
        .where(UnitMember.unit_id.in_(sorted({u for chain in above.values() for u in chain})),
               UnitMember.role == UnitRole.ADMIN, User.active.is_(True))
    ):
        members[unit_id].add(user_id)
    admins = db.session.execute(
        sa.select(User.id, User.role, Region.path).outerjoin(Region, Region.id == User.region_id)
        .where(User.role.in_((Role.PLATFORM_ADMIN, Role.REGIONAL_ADMIN)), User.active.is_(True))).all()
    everywhere = {uid for uid, role, _p in admins if role == Role.PLATFORM_ADMIN}
    scoped = [(uid, path) for uid, role, path in admins if role == Role.REGIONAL_ADMIN and path]
    return {unit_id: set().union(*(members[u] for u in above[unit_id])) | everywhere
            | {uid for uid, apath in scoped if path.startswith(apath)}
            for unit_id, path in units}


def _notify(told: list[tuple[Live, UnitFigures, str]]) -> list[tuple[str, str, str]]:
    if not told:
        return []
    who = recipients_for([(row.unit_id, row.region_path) for _w, row, _k in told])
    rows = []
    for w, row, kind in told:
        values = {"level": rules_mod.LEVEL_LABELS[w.level], "unit": row.name, "year": row.year,
                  "completion": f"{row.completion}%", "progress": f"{row.time_progress}%"}
        if kind == "opened":
            text = _("Plan-lag warning %(level)s for %(unit)s: %(completion)s of the %(year)d plan done, time "
                     "progress %(progress)s.", **values)
        else:
            text = _("Plan-lag warning for %(unit)s raised to %(level)s: %(completion)s of the %(year)d plan done, "
                     "time progress %(progress)s.", **values)
        link = plan_lag_path(w.id)
        rows.extend({"user_id": uid, "text": text[:500], "link": link, "warning_id": None}
                    for uid in sorted(who[w.unit_id]))
    if rows:
        db.session.execute(sa.insert(Notification), rows)
    if not rows or not current_app.config.get("SMTP_HOST"):
        return []
    emails = dict(db.session.execute(sa.select(User.id, User.email).where(
        User.id.in_(sorted({r["user_id"] for r in rows})))).all())
    return [(emails[r["user_id"]], _("Plan completion behind time progress"), f"{r['text']}\n{r['link']}")
            for r in rows if r["user_id"] in emails]


def plan_lag_path(warning_id: int) -> str:
    """The warning's page as a path, built without a request (the job runs from Celery and the CLI)."""
    adapter = current_app.url_map.bind("localhost", script_name=current_app.config.get("APPLICATION_ROOT") or "/")
    return adapter.build("alerts.plan_lag_detail", {"warning_id": warning_id})
