"""The warning lifecycle over daily runs: opening, rising after N runs, falling, resolving after N
clear runs, idempotent reruns, the urgent-sale zone and who is told."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from alerts import job, rules
from alerts.models import (
    AlertRun,
    Notification,
    Warning,
    WarningCause,
    WarningLevel,
    WarningObservation,
    WarningStatus,
)
from core.errors import ValidationFailed
from core.extensions import db
from tests.alerts.conftest import TODAY
from tests.alerts.factories_alerts import lot
from tests.shop.factories_shop import reload


def _spoilage(product) -> list[Warning]:
    return list(db.session.execute(sa.select(Warning).where(
        Warning.product_id == product.id, Warning.cause == WarningCause.SPOILAGE).order_by(Warning.id)).scalars())


def _day(n: int) -> date:
    return TODAY + timedelta(days=n)


def _at_risk(world, *, expires_in: int = 12):
    p = world.product(price_fen=10_000)
    stock_lot = lot(p, 200, TODAY + timedelta(days=expires_in))  # 2,000,000 fen at risk
    return p, stock_lot


def test_a_warning_opens_notifies_and_puts_the_product_in_the_urgent_sale_zone(world):
    p, _lot = _at_risk(world)
    outcome = job.run(TODAY)
    (w,) = _spoilage(p)
    assert (w.status, w.level, w.days_left, w.amount_at_risk_fen) == (WarningStatus.OPEN, WarningLevel.YELLOW, 12,
                                                                       2_000_000)
    assert w.rule == "spoilage" and w.playbook == rules.PLAYBOOKS[WarningLevel.YELLOW]
    assert w.figures["stock"] == 200 and w.figures["unsold_before_spoil"] == 200
    assert reload(p).is_urgent_sale
    assert outcome.run.opened >= 1
    told = set(db.session.execute(sa.select(Notification.user_id).where(Notification.warning_id == w.id)).scalars())
    assert told == {world.owner.id, world.admin.id}
    text = db.session.execute(sa.select(Notification.text).where(Notification.warning_id == w.id)).scalars().first()
    assert p.name in text and "Level 3 (yellow)" in text


def test_a_level_rises_only_after_it_held_for_three_runs(world):
    p, _lot = _at_risk(world)  # expires on day 12: orange from day 2 (10 days left)
    for n in range(4):
        job.run(_day(n))
    assert _spoilage(p)[0].level == WarningLevel.YELLOW  # orange held on days 2 and 3 only
    before = db.session.execute(sa.select(sa.func.count()).select_from(Notification)).scalar_one()
    outcome = job.run(_day(4))
    (w,) = _spoilage(p)
    assert w.level == WarningLevel.ORANGE and w.playbook == "mobilise_units"
    assert outcome.run.raised == 1
    after = db.session.execute(sa.select(sa.func.count()).select_from(Notification)).scalar_one()
    assert after - before == 2  # the supplier's member and the regional administrator


def test_a_rise_goes_to_the_level_that_held_on_every_run_of_the_streak(world, db_session):
    rules.save({**rules.current(), "rise_after_runs": 2})
    p, stock_lot = _at_risk(world, expires_in=30)  # blue amount and days: 2,000,000 fen, 30 days
    job.run(TODAY)
    assert _spoilage(p)[0].level == WarningLevel.BLUE
    stock_lot.expires_on = TODAY + timedelta(days=4)  # red on day 1 (3 days left)
    job.run(_day(1))
    stock_lot.expires_on = TODAY + timedelta(days=10)  # orange on day 2 (8 days left)
    job.run(_day(2))
    assert _spoilage(p)[0].level == WarningLevel.ORANGE


def test_a_level_falls_at_once_and_the_warning_resolves_when_the_risk_is_gone(world):
    p, stock_lot = _at_risk(world)
    job.run(TODAY)
    stock_lot.remaining, p.stock = 15, 15  # 150,000 fen, 11 days left: still yellow
    db.session.flush()
    outcome = job.run(_day(1))
    (w,) = _spoilage(p)
    assert w.level == WarningLevel.YELLOW and outcome.run.lowered == 0
    stock_lot.remaining, p.stock = 3, 3  # 30,000 fen: blue
    db.session.flush()
    outcome = job.run(_day(2))
    assert _spoilage(p)[0].level == WarningLevel.BLUE and outcome.run.lowered == 1
    stock_lot.remaining, p.stock = 0, 0
    db.session.flush()
    for n in (3, 4, 5):  # resolve_after_runs (3) runs without risk
        outcome = job.run(_day(n))
    (w,) = _spoilage(p)
    assert w.status == WarningStatus.RESOLVED and w.resolved_by_id is None and outcome.run.resolved >= 1
    assert not reload(p).is_urgent_sale
    assert _levels_seen(w) == [WarningLevel.YELLOW, WarningLevel.YELLOW, WarningLevel.BLUE, None, None, None]


def _levels_seen(w) -> list[WarningLevel | None]:
    return list(db.session.execute(sa.select(WarningObservation.level).where(WarningObservation.warning_id == w.id)
                                   .order_by(WarningObservation.run_id)).scalars())


def _notifications() -> int:
    return db.session.execute(sa.select(sa.func.count()).select_from(Notification)).scalar_one()


def _set_stock(p, stock_lot, quantity: int) -> None:
    stock_lot.remaining, p.stock = quantity, quantity
    db.session.flush()


def test_a_warning_resolves_only_after_its_condition_was_absent_for_three_runs(world):
    p, stock_lot = _at_risk(world)
    job.run(TODAY)
    told = _notifications()
    _set_stock(p, stock_lot, 0)
    for n in (1, 2):
        outcome = job.run(_day(n))
        (w,) = _spoilage(p)
        assert (w.status, w.level, w.amount_at_risk_fen, outcome.run.resolved) == (
            WarningStatus.OPEN, WarningLevel.YELLOW, 0, 0)
        assert reload(p).is_urgent_sale
    outcome = job.run(_day(3))
    (w,) = _spoilage(p)
    assert w.status == WarningStatus.RESOLVED and outcome.run.resolved == 1 and not reload(p).is_urgent_sale
    assert _levels_seen(w) == [WarningLevel.YELLOW, None, None, None]
    assert _notifications() == told  # waiting to resolve, and resolving, tell no one


def test_a_run_at_risk_between_clear_runs_keeps_the_one_warning_open_and_starts_the_count_again(world):
    p, stock_lot = _at_risk(world)
    job.run(TODAY)
    told = _notifications()
    _set_stock(p, stock_lot, 0)
    job.run(_day(1))
    _set_stock(p, stock_lot, 200)
    outcome = job.run(_day(2))
    assert outcome.run.opened == 0 and _notifications() == told
    _set_stock(p, stock_lot, 0)
    for n in (3, 4):
        job.run(_day(n))
    (w,) = _spoilage(p)
    assert w.status == WarningStatus.OPEN  # clear on days 3 and 4 only: day 1 no longer counts
    job.run(_day(5))
    (w,) = _spoilage(p)
    assert w.status == WarningStatus.RESOLVED
    assert _levels_seen(w) == [WarningLevel.YELLOW, None, WarningLevel.ORANGE, None, None, None]  # orange: 10 days left


def test_a_clear_run_breaks_a_streak_towards_a_higher_level(world, db_session):
    rules.save({**rules.current(), "rise_after_runs": 2})
    p, stock_lot = _at_risk(world, expires_in=11)  # yellow today, orange from day 1 (10 days left)
    job.run(TODAY)
    job.run(_day(1))  # orange, once
    _set_stock(p, stock_lot, 0)
    job.run(_day(2))  # clear
    _set_stock(p, stock_lot, 200)
    job.run(_day(3))  # orange, once again
    assert _spoilage(p)[0].level == WarningLevel.YELLOW
    job.run(_day(4))
    assert _spoilage(p)[0].level == WarningLevel.ORANGE


def test_rerunning_a_day_while_a_warning_waits_to_resolve_changes_nothing(world):
    p, stock_lot = _at_risk(world)
    job.run(TODAY)
    _set_stock(p, stock_lot, 0)
    job.run(_day(1))
    counts = [db.session.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
              for t in (Warning, WarningObservation, Notification, AlertRun)]
    _set_stock(p, stock_lot, 200)  # at risk again: a new run would count it, a rerun must not
    assert not job.run(_day(1)).created
    assert counts == [db.session.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                      for t in (Warning, WarningObservation, Notification, AlertRun)]
    _set_stock(p, stock_lot, 0)
    job.run(_day(2))
    job.run(_day(3))
    (w,) = _spoilage(p)
    assert w.status == WarningStatus.RESOLVED and _levels_seen(w) == [WarningLevel.YELLOW, None, None, None]


def test_with_resolve_after_runs_one_a_warning_resolves_on_the_first_clear_run(world, db_session):
    rules.save({**rules.current(), "resolve_after_runs": 1})
    p, stock_lot = _at_risk(world)
    job.run(TODAY)
    _set_stock(p, stock_lot, 0)
    assert job.run(_day(1)).run.resolved == 1
    assert _spoilage(p)[0].status == WarningStatus.RESOLVED


def test_resolve_after_runs_must_be_at_least_one(world, db_session):
    with pytest.raises(ValidationFailed, match="at least one run") as refused:
        rules.save({**rules.current(), "resolve_after_runs": 0})
    assert refused.value.field == "resolve_after_runs" and rules.current()["resolve_after_runs"] == 3


def test_a_resolved_warning_stays_resolved_and_a_new_risk_opens_a_new_one(world):
    p, stock_lot = _at_risk(world)
    job.run(TODAY)
    stock_lot.remaining, p.stock = 0, 0
    db.session.flush()
    for n in (1, 2, 3):  # resolved after resolve_after_runs (3) runs without risk
        job.run(_day(n))
    stock_lot.remaining, p.stock = 200, 200
    db.session.flush()
    job.run(_day(4))
    first, second = _spoilage(p)
    assert first.status == WarningStatus.RESOLVED and second.status == WarningStatus.OPEN
    assert reload(p).is_urgent_sale


def test_running_twice_on_the_same_day_changes_nothing_the_second_time(world):
    p, stock_lot = _at_risk(world)
    first = job.run(TODAY)
    counts = [db.session.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
              for t in (Warning, WarningObservation, Notification, AlertRun)]
    stock_lot.remaining, p.stock = 0, 0  # would resolve the warning on a real new run
    db.session.flush()
    second = job.run(TODAY)
    assert not second.created and second.run.id == first.run.id
    assert counts == [db.session.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                      for t in (Warning, WarningObservation, Notification, AlertRun)]
    assert _spoilage(p)[0].status == WarningStatus.OPEN


def test_with_open_after_runs_two_a_warning_watches_first_then_opens(world):
    rules.save({**rules.current(), "open_after_runs": 2})
    p, _lot = _at_risk(world)
    job.run(TODAY)
    (w,) = _spoilage(p)
    assert w.status == WarningStatus.WATCHING and not reload(p).is_urgent_sale
    assert not db.session.execute(sa.select(Notification).where(Notification.warning_id == w.id)).first()
    job.run(_day(1))
    assert _spoilage(p)[0].status == WarningStatus.OPEN and reload(p).is_urgent_sale


def test_a_far_off_risk_opens_on_its_second_run_and_an_imminent_one_at_once(world):
    far, _lot = _at_risk(world, expires_in=20)  # more than steady_pace_after_days (14) away
    near, _lot = _at_risk(world, expires_in=14)
    job.run(TODAY)
    assert _spoilage(far)[0].status == WarningStatus.WATCHING and not reload(far).is_urgent_sale
    assert _spoilage(near)[0].status == WarningStatus.OPEN
    job.run(_day(1))
    assert _spoilage(far)[0].status == WarningStatus.OPEN and reload(far).is_urgent_sale


def test_a_far_off_risk_seen_on_one_run_only_leaves_no_trace(world):
    p, stock_lot = _at_risk(world, expires_in=20)
    job.run(TODAY)
    stock_lot.remaining, p.stock = 0, 0
    db.session.flush()
    job.run(_day(1))
    assert _spoilage(p) == []


def test_a_watching_warning_whose_condition_lapses_leaves_no_trace(world):
    rules.save({**rules.current(), "open_after_runs": 2})
    p, stock_lot = _at_risk(world)
    job.run(TODAY)
    stock_lot.remaining, p.stock = 0, 0
    db.session.flush()
    job.run(_day(1))
    assert _spoilage(p) == []


def test_a_delisted_product_s_warning_resolves(world):
    from shop.models import ProductStatus

    p, _lot = _at_risk(world)
    job.run(TODAY)
    p.status = ProductStatus.DELISTED
    db.session.flush()
    job.run(_day(1))
    assert _spoilage(p)[0].status == WarningStatus.RESOLVED


def test_the_command_runs_the_job_for_a_date(app, world):
    _at_risk(world)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["alerts", "run", "--date", TODAY.isoformat()])
    assert result.exit_code == 0, result.output
    assert "opened" in result.output
    again = runner.invoke(args=["alerts", "run", "--date", TODAY.isoformat()])
    assert "already run" in again.output
    assert runner.invoke(args=["alerts", "run", "--date", "15/06/2026"]).exit_code != 0
    earlier = runner.invoke(args=["alerts", "run", "--date", (TODAY - timedelta(days=1)).isoformat()])
    assert earlier.exit_code != 0 and "already ran for 2026-06-15" in earlier.output


def test_the_celery_task_runs_the_job(world):
    from alerts.tasks import run_early_warning

    p, _lot = _at_risk(world)
    product_id = p.id
    result = run_early_warning.delay(TODAY.isoformat()).get()
    assert result["created"] and result["opened"] >= 1
    status = db.session.execute(sa.select(Warning.status).where(Warning.product_id == product_id,
                                                                Warning.cause == WarningCause.SPOILAGE)).scalar_one()
    assert status == WarningStatus.OPEN


def test_the_daily_schedule_is_registered_at_the_configured_hour(app):
    entry = app.config["CELERY"]["beat_schedule"]["alerts-early-warning"]
    assert entry["task"] == "alerts.run_early_warning"
    assert entry["schedule"].hour == {app.config["ALERTS_SCHEDULE_HOUR"]} == {6}
