"""Plan-lag warnings of buyer units inside the daily run: the threshold, levels, streaks, escalation,
de-escalation, auto-resolution, idempotent reruns, who is told, who may act, the pages and the API.

On DAY_146 time progress is exactly 40.00% and the plan is 1,000,000 fen: 300,000 counted is a gap of
exactly 10.00 points (PLAN_LAG_POINTS), 299,900 counted is 10.01.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from alerts import job, planlag, rules
from alerts.models import ActionKind, AlertRun, Notification, WarningLevel, WarningStatus
from alerts.models_planlag import PlanLagAction, PlanLagWarning
from core.audit import AuditEntry
from core.errors import ValidationFailed
from core.extensions import db
from core.registry.models import RegionLevel
from procurement.models import UnitRole
from tests.alerts.factories_planlag import DAY_146, lag_world, plan
from tests.procurement import factories_procurement as fp


def _day(n: int) -> date:
    return DAY_146 + timedelta(days=n)


def _warnings(unit) -> list[PlanLagWarning]:
    return list(db.session.execute(sa.select(PlanLagWarning).where(PlanLagWarning.unit_id == unit.id)
                                   .order_by(PlanLagWarning.id)).scalars())


def _told(warning) -> set[int]:
    link = planlag.plan_lag_path(warning.id)
    return set(db.session.execute(sa.select(Notification.user_id).where(Notification.link == link)).scalars())


@pytest.fixture()
def lag(db_session):
    w = lag_world()
    plan(w.unit)
    return w


def test_a_gap_of_exactly_the_setting_does_not_fire(lag):
    lag.ledger.add(lag.unit, 300_000)  # 30.00% done at 40.00% of the year: exactly 10 points
    outcome = job.run(DAY_146)
    assert _warnings(lag.unit) == []
    assert outcome.run.plan_lag_units == 0 and outcome.run.plan_lag_opened == 0


def test_a_gap_just_above_the_setting_opens_a_blue_warning_with_its_figures(lag):
    lag.ledger.add(lag.unit, 299_900)  # 29.99% done: 10.01 points behind
    outcome = job.run(DAY_146)
    (w,) = _warnings(lag.unit)
    assert (w.status, w.level, w.year) == (WarningStatus.OPEN, WarningLevel.BLUE, 2026)
    assert w.gap_points == Decimal("10.01") and w.gap_fen == 100_100
    assert w.figures == {"plan_fen": 1_000_000, "counted_fen": 299_900, "completion": "29.99",
                         "time_progress": "40.00", "gap_points": "10.01", "gap_fen": 100_100,
                         "previous_gap_points": None}
    assert w.first_run_id == w.last_run_id == outcome.run.id and w.opened_at is not None
    assert (outcome.run.plan_lag_units, outcome.run.plan_lag_opened) == (1, 1)


def test_the_opening_gap_follows_plan_lag_points(lag, app, monkeypatch):
    lag.ledger.add(lag.unit, 250_000)  # 15 points behind
    monkeypatch.setitem(app.config, "PLAN_LAG_POINTS", "15")
    job.run(DAY_146)
    assert _warnings(lag.unit) == []
    monkeypatch.setitem(app.config, "PLAN_LAG_POINTS", "14.99")
    job.run(_day(1))
    assert len(_warnings(lag.unit)) == 1


@pytest.mark.parametrize(("gap", "level"), [
    ("10.01", WarningLevel.BLUE), ("20.00", WarningLevel.BLUE), ("20.01", WarningLevel.YELLOW),
    ("30.00", WarningLevel.YELLOW), ("30.01", WarningLevel.ORANGE), ("40.00", WarningLevel.ORANGE),
    ("40.01", WarningLevel.RED), ("100", WarningLevel.RED),
])
def test_levels_follow_the_gap_in_points(gap, level):
    assert planlag.level_for(Decimal(gap), rules.DEFAULTS) == level


def test_a_unit_without_a_plan_or_inside_the_gap_gets_nothing(lag):
    lag.ledger.add(lag.unit, 700_000)  # ahead of time
    job.run(DAY_146)  # lag.other and lag.far have no plan at all
    assert db.session.execute(sa.select(sa.func.count()).select_from(PlanLagWarning)).scalar_one() == 0


def test_the_level_rises_only_after_the_higher_level_held_for_three_runs_and_tells_again(lag):
    lag.ledger.add(lag.unit, 299_900)
    job.run(DAY_146)
    (w,) = _warnings(lag.unit)
    first_told = _told(w)
    lag.ledger.add(lag.unit, -100_000)  # 19.99% done: more than 20 points behind from the next day on
    for n in (1, 2):
        job.run(_day(n))
        db.session.refresh(w)
        assert w.level == WarningLevel.BLUE and w.rise_streak == n
    outcome = job.run(_day(3))
    db.session.refresh(w)
    assert (w.level, w.rise_streak, outcome.run.plan_lag_raised) == (WarningLevel.YELLOW, 0, 1)
    texts = db.session.execute(sa.select(Notification.text).where(
        Notification.link == planlag.plan_lag_path(w.id), Notification.user_id == lag.unit_admin.id)).scalars().all()
    assert len(texts) == 2 and "raised to Level 3 (yellow)" in texts[1]
    assert _told(w) == first_told


def test_the_level_falls_at_once(lag):
    lag.ledger.add(lag.unit, 150_000)  # 25 points behind: yellow
    job.run(DAY_146)
    (w,) = _warnings(lag.unit)
    assert w.level == WarningLevel.YELLOW
    lag.ledger.add(lag.unit, 100_000)  # 15 points behind
    outcome = job.run(_day(1))
    db.session.refresh(w)
    assert (w.level, w.status, outcome.run.plan_lag_lowered) == (WarningLevel.BLUE, WarningStatus.OPEN, 1)
    assert w.figures["previous_gap_points"] == "25.00"


def test_the_warning_resolves_itself_when_the_unit_catches_up(lag):
    lag.ledger.add(lag.unit, 299_900)
    job.run(DAY_146)
    lag.ledger.add(lag.unit, 200_000)  # 49.99% done
    outcome = job.run(_day(1))
    (w,) = _warnings(lag.unit)
    assert w.status == WarningStatus.RESOLVED and w.resolved_at is not None and w.resolved_by_id is None
    assert w.figures["counted_fen"] == 499_900 and w.last_run_id == outcome.run.id
    assert outcome.run.plan_lag_resolved == 1
    (action,) = w.actions
    assert action.kind == ActionKind.RESOLVE and action.actor_id is None
    # Lagging again later: a new warning, the old one stays resolved.
    lag.ledger.add(lag.unit, -300_000)
    job.run(_day(2))
    old, new = _warnings(lag.unit)
    assert old.id == w.id and old.status == WarningStatus.RESOLVED and new.status == WarningStatus.OPEN


def test_a_second_run_the_same_day_changes_nothing(lag):
    lag.ledger.add(lag.unit, 100_000)
    first = job.run(DAY_146)
    before = (db.session.execute(sa.select(PlanLagWarning.id, PlanLagWarning.level, PlanLagWarning.status,
                                           PlanLagWarning.open_streak, PlanLagWarning.last_run_id)).all(),
              db.session.execute(sa.select(sa.func.count()).select_from(Notification)).scalar_one())
    lag.ledger.add(lag.unit, 500_000)  # even if the figures changed meanwhile
    again = job.run(DAY_146)
    assert again.created is False and again.run.id == first.run.id
    after = (db.session.execute(sa.select(PlanLagWarning.id, PlanLagWarning.level, PlanLagWarning.status,
                                          PlanLagWarning.open_streak, PlanLagWarning.last_run_id)).all(),
             db.session.execute(sa.select(sa.func.count()).select_from(Notification)).scalar_one())
    assert after == before


def test_a_warning_opens_only_after_the_lag_held_for_the_streak(lag):
    rules.save({**rules.current(), "open_after_runs": 2})
    lag.ledger.add(lag.unit, 299_900)
    job.run(DAY_146)
    (w,) = _warnings(lag.unit)
    assert (w.status, w.open_streak) == (WarningStatus.WATCHING, 1)
    assert _told(w) == set()
    outcome = job.run(_day(1))
    db.session.refresh(w)
    assert (w.status, w.open_streak, outcome.run.plan_lag_opened) == (WarningStatus.OPEN, 2, 1)
    assert _told(w)


def test_a_watching_warning_whose_lag_ends_leaves_no_trace(lag):
    rules.save({**rules.current(), "open_after_runs": 3})
    lag.ledger.add(lag.unit, 299_900)
    job.run(DAY_146)
    lag.ledger.add(lag.unit, 100_000)
    job.run(_day(1))
    assert _warnings(lag.unit) == []


def test_opening_tells_the_unit_admins_and_the_administrators_over_its_region_only(lag):
    lag.ledger.add(lag.unit, 250_000)
    job.run(DAY_146)
    (w,) = _warnings(lag.unit)
    told = _told(w)
    assert {lag.unit_admin.id, lag.admin_a.id, lag.platform_admin.id} <= told
    assert not told & {lag.buyer.id, lag.other_admin.id, lag.admin_b.id}
    text = db.session.execute(sa.select(Notification.text).where(Notification.user_id == lag.unit_admin.id)).scalar()
    assert lag.unit.name in text and "Level 4 (blue)" in text and "25.00%" in text and "40.00%" in text


def test_a_live_warning_of_a_closed_plan_year_resolves_in_the_new_year(lag):
    lag.ledger.add(lag.unit, 100_000)
    job.run(date(2026, 12, 30))
    (w,) = _warnings(lag.unit)
    job.run(date(2027, 1, 2))  # no 2027 plan: nothing to lag behind
    db.session.refresh(w)
    assert w.status == WarningStatus.RESOLVED and w.actions[-1].note == "plan year closed"


def test_the_run_reads_and_writes_the_units_in_a_fixed_number_of_statements(lag):
    def statements(day: date, new_units: int) -> int:
        for _ in range(new_units):
            unit = fp.unit(lag.chain[RegionLevel.CITY])
            plan(unit)
            fp.member(unit, UnitRole.ADMIN)
        db.session.commit()
        seen = []

        def count(*_args, **_kw):
            seen.append(1)

        sa.event.listen(db.engine, "before_cursor_execute", count)
        try:
            job.run(day)
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", count)
        return len(seen)

    statements(DAY_146, 1)
    # Each run opens new warnings and updates the live ones: as many statements for 2 new as for 8.
    assert statements(_day(1), 2) == statements(_day(2), 8)


def test_thresholds_must_rise_above_plan_lag_points(app, db_session):
    values = dict(rules.DEFAULTS)
    with pytest.raises(ValidationFailed):
        rules.validate({**values, "plan_lag_yellow_points": 10})  # not above PLAN_LAG_POINTS (10)
    with pytest.raises(ValidationFailed):
        rules.validate({**values, "plan_lag_orange_points": 20})
    with pytest.raises(ValidationFailed):
        rules.validate({**values, "plan_lag_red_points": 101})
    assert rules.validate({**values, "plan_lag_yellow_points": 11})["plan_lag_yellow_points"] == 11


# --- acting on a warning --------------------------------------------------------------------------


@pytest.fixture()
def opened(lag):
    lag.ledger.add(lag.unit, 250_000)  # 25.00% done: 15 points behind, blue
    job.run(DAY_146)
    (w,) = _warnings(lag.unit)
    return lag, w


def _status(w) -> WarningStatus:
    return db.session.execute(sa.select(PlanLagWarning.status).where(PlanLagWarning.id == w.id)).scalar_one()


def test_the_unit_admin_acknowledges_from_the_warning_page(opened, client, login):
    lag, w = opened
    login(lag.unit_admin)
    page = client.get(f"/alerts/plan-lag/{w.id}")
    assert page.status_code == 200 and lag.unit.name in page.text and "25.00%" in page.text
    response = client.post(f"/alerts/plan-lag/{w.id}", data={"kind": "acknowledge", "note": "三季度补采"})
    assert response.status_code == 302
    assert _status(w) == WarningStatus.ACKNOWLEDGED
    audit = db.session.execute(sa.select(AuditEntry).where(AuditEntry.action == "alerts.plan_lag_acknowledge")
                               ).scalar_one()
    assert audit.actor_id == lag.unit_admin.id


def test_another_units_admin_cannot_see_or_acknowledge_it(opened, client, login):
    lag, w = opened
    login(lag.other_admin)
    assert client.get(f"/alerts/plan-lag/{w.id}").status_code == 404
    assert client.post(f"/alerts/plan-lag/{w.id}", data={"kind": "acknowledge"}).status_code == 404
    assert client.post(f"/api/v1/plan-lag-warnings/{w.id}/acknowledge", json={}).status_code == 404
    assert _status(w) == WarningStatus.OPEN
    assert db.session.execute(sa.select(sa.func.count()).select_from(PlanLagAction)).scalar_one() == 0


def test_a_buyer_of_the_unit_sees_it_but_may_not_act(opened, client, login):
    lag, w = opened
    login(lag.buyer)
    page = client.get(f"/alerts/plan-lag/{w.id}")
    assert page.status_code == 200 and 'name="kind"' not in page.text
    assert client.post(f"/alerts/plan-lag/{w.id}", data={"kind": "acknowledge"}).status_code == 403
    api = client.post(f"/api/v1/plan-lag-warnings/{w.id}/acknowledge", json={})
    assert api.status_code == 403 and api.get_json()["error"]["code"] == "forbidden"
    assert _status(w) == WarningStatus.OPEN


def test_an_administrator_of_another_region_gets_404_and_a_supplier_403(opened, client, login):
    lag, w = opened
    login(lag.admin_b)
    assert client.get(f"/alerts/plan-lag/{w.id}").status_code == 404
    assert client.post(f"/api/v1/plan-lag-warnings/{w.id}/acknowledge", json={}).status_code == 404
    from tests import factories

    login(factories.user_with_role("supplier"))
    assert client.get(f"/api/v1/plan-lag-warnings/{w.id}").status_code == 403
    assert _status(w) == WarningStatus.OPEN


def test_the_regional_admin_notes_responds_and_resolves(opened, client, login):
    lag, w = opened
    login(lag.admin_a)
    empty = client.post(f"/alerts/plan-lag/{w.id}", data={"kind": "note", "note": ""})
    assert empty.status_code == 422 and "Write the note first." in empty.text
    assert client.post(f"/alerts/plan-lag/{w.id}", data={"kind": "note", "note": "已电话督促"}).status_code == 302
    assert client.post(f"/alerts/plan-lag/{w.id}", data={"kind": "respond", "note": "约谈单位"}).status_code == 302
    assert _status(w) == WarningStatus.HANDLED
    assert client.post(f"/alerts/plan-lag/{w.id}", data={"kind": "acknowledge"}).status_code == 409
    assert client.post(f"/alerts/plan-lag/{w.id}", data={"kind": "resolve"}).status_code == 302
    assert _status(w) == WarningStatus.RESOLVED
    kinds = db.session.execute(sa.select(PlanLagAction.kind).where(PlanLagAction.warning_id == w.id)
                               .order_by(PlanLagAction.id)).scalars().all()
    assert kinds == [ActionKind.NOTE, ActionKind.RESPOND, ActionKind.RESOLVE]
    assert client.post(f"/alerts/plan-lag/{w.id}", data={"kind": "assign"}).status_code == 422


# --- pages --------------------------------------------------------------------------------------------


def test_the_board_lists_the_warnings_of_the_administrators_region(opened, client, login):
    lag, _w = opened
    login(lag.admin_a)
    assert "/alerts/plan-lag" in client.get("/alerts/").text  # linked from the warning board
    page = client.get("/alerts/plan-lag")
    assert page.status_code == 200 and lag.unit.name in page.text and "25.00%" in page.text
    assert lag.unit.name not in client.get("/alerts/plan-lag?level=red").text
    assert lag.unit.name in client.get("/alerts/plan-lag?year=2026&level=blue").text
    login(lag.admin_b)
    assert lag.unit.name not in client.get("/alerts/plan-lag").text
    login(lag.unit_admin)
    assert client.get("/alerts/plan-lag").status_code == 403


def test_the_unit_workspace_shows_its_own_warning(opened, client, login):
    lag, w = opened
    login(lag.buyer)
    page = client.get("/procurement/unit/")
    assert page.status_code == 200
    assert "Plan completion behind time progress" in page.text and f"/alerts/plan-lag/{w.id}" in page.text
    login(lag.other_admin)
    assert "Plan completion behind time progress" not in client.get("/procurement/unit/").text


# --- API ----------------------------------------------------------------------------------------------


def test_the_api_lists_filters_gets_and_acknowledges(opened, client, login):
    lag, w = opened
    login(lag.admin_a)
    body = client.get("/api/v1/plan-lag-warnings?year=2026").get_json()
    assert body["total"] == 1
    item = body["items"][0]
    assert (item["id"], item["unit_id"], item["unit_name"], item["level"], item["status"]) == (
        w.id, lag.unit.id, lag.unit.name, "blue", "open")
    assert item["gap_points"] == "15.00" and item["gap_fen"] == 150_000
    assert item["figures"]["completion"] == "25.00" and item["figures"]["plan_fen"] == 1_000_000
    assert client.get("/api/v1/plan-lag-warnings?level=red").get_json()["total"] == 0
    assert client.get("/api/v1/plan-lag-warnings?year=2025").get_json()["total"] == 0
    assert client.get("/api/v1/plan-lag-warnings?level=purple").status_code == 422
    assert client.get(f"/api/v1/plan-lag-warnings/{w.id}").get_json()["id"] == w.id
    login(lag.unit_admin)
    assert client.get("/api/v1/plan-lag-warnings").get_json()["total"] == 1
    done = client.post(f"/api/v1/plan-lag-warnings/{w.id}/acknowledge", json={"note": "收到"})
    assert done.status_code == 200 and done.get_json()["status"] == "acknowledged"
    assert done.get_json()["acknowledged_at"]
    again = client.post(f"/api/v1/plan-lag-warnings/{w.id}/acknowledge", json={})
    assert again.status_code == 409
    login(lag.admin_b)
    assert client.get("/api/v1/plan-lag-warnings").get_json()["total"] == 0


def test_the_api_is_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"/api/v1/plan-lag-warnings", "/api/v1/plan-lag-warnings/{warning_id}",
            "/api/v1/plan-lag-warnings/{warning_id}/acknowledge"} <= set(paths)


def test_runs_record_their_plan_lag_counts(lag):
    lag.ledger.add(lag.unit, 100_000)
    job.run(DAY_146)
    run = db.session.execute(sa.select(AlertRun).where(AlertRun.run_on == DAY_146)).scalar_one()
    assert (run.plan_lag_units, run.plan_lag_opened, run.plan_lag_raised, run.plan_lag_lowered,
            run.plan_lag_resolved) == (1, 1, 0, 0, 0)
    assert run.rules["plan_lag_red_points"] == 40


def test_the_administrator_of_the_department_above_is_told_and_sees_it_but_may_not_act(lag, client, login):
    department = fp.unit(lag.chain[RegionLevel.CITY], name="巫山县人民政府办公室")
    head = fp.member(department, UnitRole.ADMIN)
    lag.unit.parent_id = department.id
    lag.ledger.add(lag.unit, 250_000)
    job.run(DAY_146)
    (w,) = _warnings(lag.unit)
    assert head.id in _told(w) and lag.unit_admin.id in _told(w)
    db.session.commit()
    login(head)
    page = client.get(f"/alerts/plan-lag/{w.id}")
    assert page.status_code == 200 and lag.unit.name in page.text and 'name="kind"' not in page.text
    assert client.post(f"/api/v1/plan-lag-warnings/{w.id}/acknowledge", json={}).status_code == 403
    # The unit's own buyer-level people of the department see nothing of it.
    login(fp.member(department, UnitRole.BUYER))
    assert client.get(f"/alerts/plan-lag/{w.id}").status_code == 404
