"""The daily early-warning job: figures for every listed product, then the warnings' lifecycle.

``run(today)`` computes the figures (``alerts.figures``: set-based, no query per product), reads
the live warnings in one statement, moves each one on in Python, writes the warnings, their
observations and notifications in bulk, and commits once. A run is keyed by its date: a second run
on the same date finds the first and changes nothing, and a date before the latest run is refused.
After the commit it sends e-mail (when SMTP is configured) and announces the products whose
urgent-sale mark changed.
"""

from __future__ import annotations

import gc
import itertools
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from alerts import bulk, matching, planlag
from alerts import rules as rules_mod
from alerts.figures import Figures, Signal, compute_figures, local_today, signals_for
from alerts.models import (
    LEVEL_BY_SEVERITY,
    LIVE_STATUSES,
    SEVERITY,
    SHOWN_STATUSES,
    ActionKind,
    AlertRun,
    Notification,
    Warning,
    WarningAction,
    WarningCause,
    WarningLevel,
    WarningObservation,
    WarningStatus,
)
from alerts.outreach import reach_out
from core import audit
from core.accounts.models import User
from core.database import utcnow
from core.errors import ValidationFailed
from core.extensions import db
from core.permissions import Role
from core.registry.models import Region
from shop.models import SupplierMember

__all__ = ["Outcome", "compute_figures", "run", "signals_for"]
log = logging.getLogger(__name__)


@dataclass
class Outcome:
    run: AlertRun
    created: bool
    emails: list[tuple[str, str, str]] = field(default_factory=list)
    urgent_changed: list[int] = field(default_factory=list)


# --- the run ----------------------------------------------------------------------------------


def run(today: date | None = None) -> Outcome:
    """Run the job for ``today`` (Asia/Shanghai) and commit; the same date twice does nothing the second time."""
    today = today or local_today()
    existing = db.session.execute(sa.select(AlertRun).where(AlertRun.run_on == today)).scalar_one_or_none()
    if existing is not None:
        return Outcome(existing, created=False)
    latest = db.session.execute(sa.select(sa.func.max(AlertRun.run_on))).scalar_one()
    if latest is not None and latest > today:
        # The streaks and the trend assume runs in date order; an earlier date would rewind them.
        raise ValidationFailed(_("The warning job already ran for %(date)s, a later date.", date=latest.isoformat()))
    rules = rules_mod.current()
    alert_run = AlertRun(run_on=today, rules=rules)
    # Hundreds of thousands of small objects live through the run and none forms a cycle: the cyclic
    # collector would only walk them again and again (a third of the run's time at 100,000 products).
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        db.session.add(alert_run)
        db.session.flush()
        if bulk.is_postgresql():
            # The recommendations' statement is estimated at millions of rows it never produces: compiling
            # it with LLVM (jit) took 12 of its 22 s at 100,000 products. The job's statements are scans and
            # aggregates that gain nothing from it. SET LOCAL: until this transaction ends.
            db.session.execute(sa.text("SET LOCAL jit = off"))
        outcome = _apply(alert_run, today, rules)
        if bulk.is_postgresql():
            # The first run writes tens of thousands of warnings into a table the planner's statistics call
            # empty: the matchmaking's lookup of each candidate's worst warning then scanned the whole table
            # per candidate (57 s at 100,000 products) instead of using the index. ANALYZE sees the run's rows.
            db.session.execute(sa.text("ANALYZE alert_warning"))
        outcome.emails.extend(planlag.evaluate(alert_run, today, rules))  # buyer units' plan lag (alerts.planlag)
        matching.run(today)  # matchmaking re-scored after the warnings moved: warned products first (alerts.matching)
        alert_run.finished_at = utcnow()
        audit.record("alerts.run", "alert_run", alert_run.id,
                     after={"run_on": today.isoformat(), "opened": alert_run.opened, "raised": alert_run.raised,
                            "lowered": alert_run.lowered, "resolved": alert_run.resolved})
        db.session.commit()
        db.session.expire_all()  # the warnings were written in bulk: objects read before are stale
    except sa.exc.IntegrityError:
        # Another worker ran the same date at the same moment: its run stands.
        db.session.rollback()
        return Outcome(db.session.execute(sa.select(AlertRun).where(AlertRun.run_on == today)).scalar_one(), False)
    except Exception:
        db.session.rollback()
        raise
    finally:
        if gc_was_enabled:
            gc.enable()
    _after_commit(outcome)
    return outcome


@dataclass(eq=False)
class Live:
    """A live warning as the job handles it: plain values, written back in bulk (no ORM object per row)."""

    id: int | None
    product_id: int
    cause: WarningCause
    status: WarningStatus
    level: WarningLevel
    open_streak: int = 0
    rise_streak: int = 0
    rise_floor: int | None = None
    opened_at: datetime | None = None
    playbook: str = ""


_LIVE_COLUMNS = (Warning.id, Warning.product_id, Warning.cause, Warning.status, Warning.level, Warning.open_streak,
                 Warning.rise_streak, Warning.rise_floor, Warning.opened_at, Warning.playbook)


def _apply(alert_run: AlertRun, today: date, rules: dict[str, int]) -> Outcome:
    outcome = Outcome(alert_run, created=True)
    figures = compute_figures(today, rules)
    alert_run.products_checked = len(figures)
    live = {(row.product_id, row.cause): Live(*row) for row in db.session.execute(
        sa.select(*_LIVE_COLUMNS).where(Warning.status.in_(LIVE_STATUSES)))}
    now = utcnow()
    told: list[tuple[Live, str]] = []  # (warning, "opened" | "raised")
    kept: list[tuple[Live, Signal, dict]] = []  # warnings still at risk, new or not, and those waiting to resolve
    closed: list[tuple[Live, dict]] = []  # warnings whose risk is gone
    clear: list[tuple[Live, Signal, dict]] = []  # open warnings on a run without risk: resolve or wait (_settle)
    seen: set[tuple[int, WarningCause]] = set()

    for pid, f in figures.items():
        data = None
        for sig in signals_for(f, rules):
            key = (pid, sig.cause)
            seen.add(key)
            w = live.get(key)
            if sig.level is None and w is None:
                continue
            data = data or f.as_dict()  # only for products with something to record
            if sig.level is None:
                if w.status == WarningStatus.WATCHING:
                    closed.append((w, data))
                else:
                    clear.append((w, sig, data))
                continue
            if w is None:
                w = Live(None, pid, sig.cause, WarningStatus.WATCHING, sig.level)
            _advance(w, sig, rules, now, alert_run, told)
            kept.append((w, sig, data))
    _settle(clear, alert_run, rules, kept, closed)
    # Live warnings of products no longer listed: the risk is gone from the platform (at once: nothing to wait for).
    closed.extend((w, {}) for key, w in live.items() if key not in seen)
    _write(alert_run, kept, closed, now)
    still_shown = {w.product_id for w, _s, _d in kept if w.status in SHOWN_STATUSES}
    resolved = {w.product_id for w, _d in closed if w.status == WarningStatus.RESOLVED}
    _urgent_sale(outcome, told, resolved - still_shown)
    _notify(outcome, told, figures, now)
    # The recommended buyer units are told too (alerts.recommend ranks them, alerts.outreach records them).
    outcome.emails.extend(reach_out([(w.id, w.product_id, w.level) for w, _kind in told], year=today.year, now=now))
    return outcome


WRITE_BATCH = 2000  # rows per executemany: bounds the memory the parameter lists take


def _batches(rows, size: int = WRITE_BATCH):
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _write(alert_run: AlertRun, kept: list, closed: list, now: datetime) -> None:
    """Write the run's outcome in batches: new warnings, updates, resolutions, and one observation each."""
    base = {"last_run_id": alert_run.id}
    new = [(w, sig, data) for w, sig, data in kept if w.id is None]
    existing = [(w, sig, data) for w, sig, data in kept if w.id is not None]
    ids = bulk.insert_returning_ids(Warning.__table__, new, lambda item: {
        **base, "product_id": item[0].product_id, "cause": item[0].cause, "status": item[0].status,
        "level": item[0].level, "rule": item[0].cause.value, "playbook": item[0].playbook,
        "amount_at_risk_fen": item[1].amount_fen, "days_left": item[1].days_left, "figures": item[2],
        "open_streak": item[0].open_streak, "rise_streak": 0, "rise_floor": None, "first_run_id": alert_run.id,
        "opened_at": item[0].opened_at, "created_at": now}, key=("product_id", "cause"))
    for (w, _s, _d), wid in zip(new, ids, strict=True):
        w.id = wid
    bulk.update_rows(Warning.__table__, (
        {**base, "id": w.id, "status": w.status, "level": w.level, "playbook": w.playbook,
         "amount_at_risk_fen": sig.amount_fen, "days_left": sig.days_left, "figures": data,
         "open_streak": w.open_streak, "rise_streak": w.rise_streak, "rise_floor": w.rise_floor,
         "opened_at": w.opened_at}
        for w, sig, data in existing))
    dropped = [w.id for w, _d in closed if w.status == WarningStatus.WATCHING]
    resolved = [w for w, _d in closed if w.status != WarningStatus.WATCHING]
    bulk.update_rows(Warning.__table__, (
        {**base, "id": w.id, "status": WarningStatus.RESOLVED, "resolved_at": now, "amount_at_risk_fen": 0,
         "rise_streak": 0, "rise_floor": None} for w in resolved))
    bulk.insert_rows(WarningAction.__table__, (
        {"warning_id": w.id, "actor_id": None, "kind": ActionKind.RESOLVE, "note": "", "created_at": now}
        for w in resolved))
    for w in resolved:
        w.status = WarningStatus.RESOLVED
    alert_run.resolved += len(resolved)
    for batch in _batches(dropped):
        # A watching warning whose condition lapsed never opened: it leaves no history.
        db.session.execute(sa.delete(WarningObservation).where(WarningObservation.warning_id.in_(batch)))
        db.session.execute(sa.delete(Warning).where(Warning.id.in_(batch)).execution_options(
            synchronize_session=False))
    observations = itertools.chain(
        ({"warning_id": w.id, "run_id": alert_run.id, "level": sig.level, "amount_at_risk_fen": sig.amount_fen,
          "days_left": sig.days_left, "figures": data} for w, sig, data in kept),
        ({"warning_id": w.id, "run_id": alert_run.id, "level": None, "amount_at_risk_fen": 0, "days_left": None,
          "figures": data} for w, data in closed if w.status == WarningStatus.RESOLVED),
    )
    bulk.insert_rows(WarningObservation.__table__, observations)


def _advance(w: Live, sig: Signal, rules: dict[str, int], now: datetime, alert_run: AlertRun, told: list) -> None:
    """Move one warning on by this run's level: open after enough runs, rise after enough runs, fall at once.

    (A run without risk is ``_settle``'s: it resolves the warning after ``resolve_after_runs`` such runs.)
    """
    if w.status == WarningStatus.WATCHING:
        w.open_streak += 1
        w.level, w.playbook = sig.level, rules_mod.PLAYBOOKS[sig.level]
        if w.open_streak >= rules_mod.runs_to_open(sig.days_left, rules):
            w.status, w.opened_at = WarningStatus.OPEN, now
            alert_run.opened += 1
            told.append((w, "opened"))
        return
    target, current = SEVERITY[sig.level], SEVERITY[w.level]
    if target > current:
        w.rise_streak += 1
        w.rise_floor = min(w.rise_floor or target, target)
        if w.rise_streak >= rules["rise_after_runs"]:
            w.level = LEVEL_BY_SEVERITY[w.rise_floor]
            w.playbook = rules_mod.PLAYBOOKS[w.level]
            w.rise_streak, w.rise_floor = 0, None
            alert_run.raised += 1
            told.append((w, "raised"))
        return
    w.rise_streak, w.rise_floor = 0, None
    if target < current:
        w.level, w.playbook = sig.level, rules_mod.PLAYBOOKS[sig.level]
        alert_run.lowered += 1


def _settle(clear: list, alert_run: AlertRun, rules: dict[str, int], kept: list, closed: list) -> None:
    """Resolve the warnings whose condition has now been absent for ``resolve_after_runs`` runs; keep the others.

    A warning kept this way stays at its level and status, takes this run's figures, and records an
    observation without a level: the runs it has been clear are those observations, counted back
    from the run before this one (two statements whatever the number of warnings).
    """
    if not clear:
        return
    needed = rules["resolve_after_runs"]
    earlier = db.session.execute(sa.select(AlertRun.id).where(AlertRun.run_on < alert_run.run_on)
                                 .order_by(AlertRun.run_on.desc()).limit(needed - 1)).scalars().all()
    was_clear: set[tuple[int, int]] = set()
    if earlier:
        for batch in _batches([w.id for w, _s, _d in clear]):
            was_clear.update((wid, run_id) for wid, run_id in db.session.execute(
                sa.select(WarningObservation.warning_id, WarningObservation.run_id)
                .where(WarningObservation.warning_id.in_(batch), WarningObservation.run_id.in_(earlier),
                       WarningObservation.level.is_(None))))
    for w, sig, data in clear:
        runs = 1 + sum(1 for _r in itertools.takewhile(lambda run_id, wid=w.id: (wid, run_id) in was_clear, earlier))
        if runs >= needed:
            closed.append((w, data))
        else:
            w.rise_streak, w.rise_floor = 0, None  # a clear run breaks a streak towards a higher level
            kept.append((w, sig, data))


def _urgent_sale(outcome: Outcome, told: list, to_clear: set[int]) -> None:
    """Opened or raised: into the urgent-sale zone. Resolved with nothing else open for the product: out of it."""
    from shop.services.products import set_urgent_sale

    urgent = sorted({w.product_id for w, _kind in told})
    if urgent:
        set_urgent_sale(urgent, True, reason="early warning opened or raised")
    clear = sorted(to_clear - set(urgent))
    if clear:
        set_urgent_sale(clear, False, reason="early warning resolved")
    outcome.urgent_changed = urgent + clear


def recipients_for(product_rows: list[tuple[int, int, int]]) -> dict[int, set[int]]:
    """product id → user ids to tell: the supplier's members and the administrators of the origin's region.

    ``product_rows`` are (product_id, supplier_id, county_id); three queries whatever their number.
    """
    supplier_ids = {s for _p, s, _c in product_rows}
    members: dict[int, set[int]] = defaultdict(set)
    for user_id, supplier_id in db.session.execute(
        sa.select(SupplierMember.user_id, SupplierMember.supplier_id).join(User, User.id == SupplierMember.user_id)
        .where(SupplierMember.supplier_id.in_(sorted(supplier_ids)), User.active.is_(True))
    ):
        members[supplier_id].add(user_id)
    paths = dict(db.session.execute(sa.select(Region.id, Region.path).where(
        Region.id.in_(sorted({c for _p, _s, c in product_rows})))).all())
    admins = db.session.execute(sa.select(User.id, Region.path).join(Region, Region.id == User.region_id).where(
        User.role == Role.REGIONAL_ADMIN, User.active.is_(True))).all()
    out: dict[int, set[int]] = {}
    for pid, supplier_id, county_id in product_rows:
        path = paths.get(county_id, "")
        out[pid] = members[supplier_id] | {uid for uid, apath in admins if path.startswith(apath)}
    return out


def _notify(outcome: Outcome, told: list, figures: dict[int, Figures], now: datetime) -> None:
    if not told:
        return
    from shop.models import Product as P

    names = dict(db.session.execute(sa.select(P.id, P.name).where(P.id.in_(sorted({w.product_id for w, _k in told}))))
                 .all())
    who = recipients_for([(w.product_id, figures[w.product_id].supplier_id, figures[w.product_id].county_id)
                          for w, _k in told])
    # Translated once per run, formatted per warning: the same text as ``_(template, **values)``.
    templates = {"opened": _("Early warning %(level)s for %(product)s: %(cause)s."),
                 "raised": _("Early warning for %(product)s raised to %(level)s: %(cause)s.")}
    levels = {level: str(label) for level, label in rules_mod.LEVEL_LABELS.items()}
    causes = {cause: str(label) for cause, label in rules_mod.CAUSE_LABELS.items()}
    link_of = warning_paths()

    def rows():
        for w, kind in told:
            text = templates[kind] % {"level": levels[w.level], "product": names[w.product_id],
                                      "cause": causes[w.cause]}
            link = link_of(w.id)
            for uid in sorted(who[w.product_id]):
                yield {"user_id": uid, "text": text[:500], "link": link, "warning_id": w.id, "created_at": now}

    bulk.insert_rows(Notification.__table__, rows())
    if current_app.config.get("SMTP_HOST"):
        told_users = sorted({uid for w, _k in told for uid in who[w.product_id]})
        emails = dict(db.session.execute(sa.select(User.id, User.email).where(User.id.in_(told_users))).all())
        outcome.emails = [(emails[r["user_id"]], _("Early warning of unsold produce"), f"{r['text']}\n{r['link']}")
                          for r in rows() if r["user_id"] in emails]


def warning_path(warning_id: int) -> str:
    """The warning's page as a path; built without a request (the job runs from Celery and the command line)."""
    return warning_paths()(warning_id)


def warning_paths():
    """warning id → its page's path, with the URL adapter bound once (the job builds tens of thousands)."""
    adapter = current_app.url_map.bind("localhost", script_name=current_app.config.get("APPLICATION_ROOT") or "/")
    return lambda warning_id: adapter.build("alerts.warning_detail", {"warning_id": warning_id})


def _after_commit(outcome: Outcome) -> None:
    from core.mail import send_mail
    from shop import signals

    for to, subject, body in outcome.emails:
        try:
            send_mail(to, subject, body)
        except OSError:
            log.exception("early-warning e-mail could not be sent")
    for pid in outcome.urgent_changed:
        signals.announce(pid)
