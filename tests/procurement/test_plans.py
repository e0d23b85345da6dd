"""Annual unit plans (budget × reserved share, no canteen, shared canteen, administrators' figures),
their audit trail and invariants, the administrators' list, and regional guiding plans."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from core.accounts.models import User
from core.audit import AuditEntry
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.extensions import db
from core.registry.models import RegionLevel
from procurement.config import _percent_to_bp
from procurement.models import CanteenMode, RegionPlan, UnitPlan, UnitStatus
from procurement.services import common, plans
from procurement.services.plans import Declaration
from tests import factories
from tests.procurement import factories_procurement as fp

YEAR = common.local_year()


def _plan(unit) -> UnitPlan | None:
    return db.session.execute(sa.select(UnitPlan).where(UnitPlan.unit_id == unit.id, UnitPlan.year == YEAR)
                              ).scalar_one_or_none()


def _own(budget_fen: int, share_bp: int) -> Declaration:
    return Declaration(CanteenMode.OWN, canteen_budget_fen=budget_fen, reserved_share_bp=share_bp)


# --- declaring ----------------------------------------------------------------------------------


def test_plan_is_the_budget_times_the_reserved_share(client, login, db_session):
    w = fp.world()
    login(w.unit_admin)
    response = client.post(f"/procurement/unit/plans/{YEAR}", data={
        "canteen_mode": "own", "canteen_budget": "120万", "reserved_share": "12.5"})
    assert response.status_code == 302
    plan = _plan(w.unit)
    assert plan.canteen_budget_fen == 120_000_000
    assert plan.reserved_share_bp == 1250
    assert plan.minimum_share_bp == 1000
    assert plan.declared_plan_fen == plan.plan_fen == 15_000_000  # ¥150,000
    page = client.get(f"/procurement/unit/plans/{YEAR}").get_data(as_text=True)
    assert "¥150,000.00" in page


def test_plan_amount_is_rounded_half_up_to_a_fen(db_session):
    w = fp.world()
    plan = plans.declare_plan(w.unit_admin, w.unit, YEAR, _own(1_234_565, 1000))
    assert plan.plan_fen == 123_457  # 123,456.5 fen → 123,457


@pytest.mark.parametrize(("data", "field"), [
    ({"canteen_budget": "100000", "reserved_share": "9.99"}, "reserved_share"),
    ({"canteen_budget": "100000", "reserved_share": "100.01"}, "reserved_share"),
    ({"canteen_budget": "100000", "reserved_share": "abc"}, "reserved_share"),
    ({"canteen_budget": "-100", "reserved_share": "10"}, "canteen_budget"),
    ({"canteen_budget": "12.345", "reserved_share": "10"}, "canteen_budget"),
    ({"canteen_budget": "", "reserved_share": "10"}, "canteen_budget"),
    ({"canteen_budget": "100000", "reserved_share": ""}, "reserved_share"),
])
def test_bad_declarations_are_refused_beside_the_field_and_nothing_is_written(client, login, db_session, data,
                                                                              field):
    w = fp.world()
    login(w.unit_admin)
    response = client.post(f"/procurement/unit/plans/{YEAR}", data={"canteen_mode": "own", **data})
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    assert _plan(w.unit) is None
    assert db.session.execute(sa.select(AuditEntry).where(AuditEntry.target_type == "unit_plan")).first() is None


@pytest.mark.parametrize("year", [1990, 2018, YEAR + 2, 9999])
def test_a_year_far_out_of_range_is_refused(client, login, db_session, year):
    w = fp.world()
    login(w.unit_admin)
    assert client.get(f"/procurement/unit/plans/{year}").status_code == 422
    response = client.post(f"/procurement/unit/plans/{year}", data={
        "canteen_mode": "own", "canteen_budget": "1000", "reserved_share": "10"})
    assert response.status_code == 422
    assert db.session.execute(sa.select(UnitPlan).where(UnitPlan.unit_id == w.unit.id)).first() is None


def test_next_years_plan_can_be_declared_ahead(db_session):
    w = fp.world()
    assert plans.declare_plan(w.unit_admin, w.unit, YEAR + 1, _own(100_000, 1000)).year == YEAR + 1


def test_a_unit_may_reserve_more_than_the_minimum_up_to_everything(db_session):
    w = fp.world()
    assert plans.declare_plan(w.unit_admin, w.unit, YEAR, _own(100_000, 10000)).plan_fen == 100_000


def test_the_minimum_share_is_a_setting(app, db_session, monkeypatch):
    monkeypatch.setitem(app.config, "PLAN_MIN_RESERVED_SHARE_PERCENT", "15")
    w = fp.world()
    with pytest.raises(ValidationFailed, match="15%"):
        plans.declare_plan(w.unit_admin, w.unit, YEAR, _own(100_000, 1000))
    plan = plans.declare_plan(w.unit_admin, w.unit, YEAR, _own(100_000, 1500))
    assert plan.minimum_share_bp == 1500


@pytest.mark.parametrize("raw", ["abc", "10.001", "-1", "101", "nan"])
def test_a_malformed_minimum_share_setting_fails_at_start_up(raw):
    with pytest.raises(ValueError, match="PLAN_MIN_RESERVED_SHARE_PERCENT"):
        _percent_to_bp(raw)


def test_no_canteen_is_declared_with_a_plan_of_zero(db_session):
    w = fp.world()
    plan = plans.declare_plan(w.unit_admin, w.unit, YEAR, Declaration(CanteenMode.NONE))
    assert plan.plan_fen == 0 and plans.plan_status(plan) == "none"
    assert plan.canteen_budget_fen is None and plan.reserved_share_bp is None


def test_a_shared_canteen_is_reported_once_by_the_host(client, login, db_session):
    host = fp.world()
    guest = fp.world()
    plans.declare_plan(host.unit_admin, host.unit, YEAR, _own(1_000_000, 1000))
    login(guest.unit_admin)
    response = client.post(f"/procurement/unit/plans/{YEAR}", data={"canteen_mode": "shared",
                                                                    "host_unit": host.unit.name})
    assert response.status_code == 302
    plan = _plan(guest.unit)
    assert plan.host_unit_id == host.unit.id and plan.plan_fen == 0
    assert [u.id for u in plans.guests_of(host.unit.id, YEAR)] == [guest.unit.id]


@pytest.mark.parametrize("case", ["self", "missing", "host_without_canteen", "host_pending"])
def test_a_shared_canteen_needs_a_real_host(db_session, case):
    w, host = fp.world(), fp.world()
    host_id = {"self": w.unit.id, "missing": None}.get(case, host.unit.id)
    if case == "host_without_canteen":
        plans.declare_plan(host.unit_admin, host.unit, YEAR, Declaration(CanteenMode.NONE))
    if case == "host_pending":
        host.unit.status = UnitStatus.PENDING
    with pytest.raises(ValidationFailed) as info:
        plans.declare_plan(w.unit_admin, w.unit, YEAR, Declaration(CanteenMode.SHARED, host_unit_id=host_id))
    assert info.value.field == "host_unit"
    assert _plan(w.unit) is None


def test_a_host_cannot_give_up_its_canteen_while_others_share_it(db_session):
    host, guest = fp.world(), fp.world()
    plans.declare_plan(host.unit_admin, host.unit, YEAR, _own(1_000_000, 1000))
    plans.declare_plan(guest.unit_admin, guest.unit, YEAR, Declaration(CanteenMode.SHARED, host_unit_id=host.unit.id))
    with pytest.raises(Conflict, match=guest.unit.name):
        plans.declare_plan(host.unit_admin, host.unit, YEAR, Declaration(CanteenMode.NONE), reason="食堂关闭")
    assert _plan(host.unit).canteen_mode == CanteenMode.OWN


# --- changes and their audit trail ------------------------------------------------------------


def test_first_declaration_needs_no_reason_but_every_change_does(db_session):
    w = fp.world()
    first = plans.declare_plan(w.unit_admin, w.unit, YEAR, _own(1_000_000, 1000))
    with pytest.raises(ValidationFailed) as info:
        plans.declare_plan(w.unit_admin, w.unit, YEAR, _own(2_000_000, 1000))
    assert info.value.field == "reason"
    assert first.canteen_budget_fen == 1_000_000
    plans.declare_plan(w.unit_admin, w.unit, YEAR, _own(2_000_000, 1000), reason="预算调整")
    entries = db.session.execute(sa.select(AuditEntry).where(AuditEntry.target_type == "unit_plan")
                                 .order_by(AuditEntry.id)).scalars().all()
    assert [e.action for e in entries] == ["plan.declared", "plan.changed"]
    assert entries[0].before is None and entries[0].reason is None
    assert entries[1].before["plan_fen"] == 100_000 and entries[1].after["plan_fen"] == 200_000
    assert entries[1].reason == "预算调整" and entries[1].actor_id == w.unit_admin.id


def test_declaring_the_same_plan_again_changes_and_records_nothing(db_session):
    w = fp.world()
    plans.declare_plan(w.unit_admin, w.unit, YEAR, _own(1_000_000, 1000))
    plans.declare_plan(w.unit_admin, w.unit, YEAR, _own(1_000_000, 1000))
    assert db.session.execute(sa.select(sa.func.count()).select_from(AuditEntry)
                              .where(AuditEntry.target_type == "unit_plan")).scalar_one() == 1


def test_only_the_units_own_administrator_declares(db_session):
    w, other = fp.world(), fp.world()
    child = fp.unit(w.county, parent_id=w.unit.id)
    with pytest.raises(Forbidden):
        plans.declare_plan(w.buyer, w.unit, YEAR, _own(1_000, 1000))
    with pytest.raises(NotFound):
        plans.declare_plan(other.unit_admin, w.unit, YEAR, _own(1_000, 1000))
    with pytest.raises(Forbidden, match="sub-unit"):
        plans.declare_plan(w.unit_admin, child, YEAR, _own(1_000, 1000))
    with pytest.raises(NotFound):
        plans.declare_plan(fp.admin(), w.unit, YEAR, _own(1_000, 1000))
    assert db.session.execute(sa.select(UnitPlan)).first() is None


def test_a_buyer_sees_the_plan_but_has_no_form(client, login, db_session):
    w = fp.world()
    plans.declare_plan(w.unit_admin, w.unit, YEAR, _own(1_000_000, 1000))
    login(w.buyer)
    page = client.get(f"/procurement/unit/plans/{YEAR}")
    assert page.status_code == 200
    assert 'name="canteen_mode"' not in page.get_data(as_text=True)
    response = client.post(f"/procurement/unit/plans/{YEAR}", data={
        "canteen_mode": "own", "canteen_budget": "1", "reserved_share": "10", "reason": "x"})
    assert response.status_code == 403


def test_a_pending_unit_cannot_declare(db_session):
    w = fp.world(status=UnitStatus.PENDING)
    with pytest.raises(Conflict):
        plans.declare_plan(w.unit_admin, w.unit, YEAR, _own(1_000, 1000))


# --- administrators' figures --------------------------------------------------------------------


def test_an_administrators_figure_needs_a_reason_and_wins_over_the_declaration(client, login, db_session):
    w = fp.world()
    plans.declare_plan(w.unit_admin, w.unit, YEAR, _own(1_000_000, 1000))
    actor = login(fp.admin(w.province))
    url = f"/procurement/admin/units/{w.unit.id}/plans/{YEAR}"
    assert client.post(url, data={"amount": "5000", "reason": ""}).status_code == 422
    assert _plan(w.unit).admin_plan_fen is None
    assert client.post(url, data={"amount": "5000", "reason": "渝乡振组〔2024〕1号"}).status_code == 302
    plan = _plan(w.unit)
    assert plan.admin_plan_fen == plan.plan_fen == 500_000
    assert plans.plan_status(plan) == "admin"
    entry = db.session.execute(sa.select(AuditEntry).where(AuditEntry.action == "plan.figure_set")).scalar_one()
    assert entry.before["plan_fen"] == 100_000 and entry.after["plan_fen"] == 500_000
    assert entry.actor_id == actor.id and entry.reason == "渝乡振组〔2024〕1号"
    # The unit's later declaration is kept, but the administrator's figure stays in force.
    plans.declare_plan(w.unit_admin, w.unit, YEAR, _own(3_000_000, 1000), reason="预算调整")
    assert _plan(w.unit).plan_fen == 500_000


def test_withdrawing_the_figure_brings_back_the_declaration_or_removes_an_empty_plan(db_session):
    declared, bare = fp.world(), fp.world()
    actor = fp.admin()
    plans.declare_plan(declared.unit_admin, declared.unit, YEAR, _own(1_000_000, 1000))
    for w in (declared, bare):
        plans.set_plan_figure(actor, w.unit, YEAR, plan_fen=777, reason="通知")
    with pytest.raises(ValidationFailed):
        plans.clear_plan_figure(actor, declared.unit, YEAR, reason="")
    assert plans.clear_plan_figure(actor, declared.unit, YEAR, reason="撤回").plan_fen == 100_000
    assert plans.clear_plan_figure(actor, bare.unit, YEAR, reason="撤回") is None
    assert _plan(bare.unit) is None


@pytest.mark.parametrize("amount", ["-1", "abc", "1.001", "2000亿"])
def test_a_bad_administrators_figure_is_refused(client, login, db_session, amount):
    w = fp.world()
    login(fp.admin())
    response = client.post(f"/procurement/admin/units/{w.unit.id}/plans/{YEAR}",
                           data={"amount": amount, "reason": "通知"})
    assert response.status_code == 422
    assert _plan(w.unit) is None


def test_a_regional_administrator_cannot_set_another_regions_figure(client, login, db_session):
    w = fp.world()
    elsewhere = factories.region_chain()
    login(fp.admin(elsewhere[RegionLevel.PROVINCE]))
    response = client.post(f"/procurement/admin/units/{w.unit.id}/plans/{YEAR}",
                           data={"amount": "5000", "reason": "通知"})
    assert response.status_code == 403
    assert _plan(w.unit) is None


# --- invariants in the database ------------------------------------------------------------------


@pytest.mark.parametrize(("values", "constraint"), [
    ({"canteen_budget_fen": -1, "declared_plan_fen": 0, "plan_fen": 0}, "budget_not_negative"),
    ({"reserved_share_bp": 999}, "reserved_share_range"),
    ({"reserved_share_bp": 10001}, "reserved_share_range"),
    ({"plan_fen": 1}, "plan_in_force"),
    ({"declared_plan_fen": 5, "plan_fen": 5}, "declared_is_budget_times_share"),
    ({"host_unit_id": "self"}, "declaration_consistent"),
    ({"year": 1999}, "year_range"),
])
def test_the_database_refuses_an_inconsistent_plan(db_session, values, constraint):
    w = fp.world()
    row = {"unit_id": w.unit.id, "year": YEAR, "canteen_mode": "own", "canteen_budget_fen": 1000,
           "reserved_share_bp": 1000, "minimum_share_bp": 1000, "declared_plan_fen": 100, "plan_fen": 100,
           "created_at": sa.func.now(), "updated_at": sa.func.now()}
    row.update(values)
    if row.get("host_unit_id") == "self":
        row["host_unit_id"] = w.unit.id
    if constraint == "reserved_share_range":
        row["declared_plan_fen"] = row["plan_fen"] = (1000 * row["reserved_share_bp"] + 5000) // 10000
    savepoint = db.session.begin_nested()
    with pytest.raises(sa.exc.IntegrityError, match=constraint):
        db.session.execute(sa.insert(UnitPlan.__table__).values(**row))
    savepoint.rollback()


def test_one_plan_per_unit_and_year(db_session):
    w = fp.world()
    fp.own_canteen_plan(w.unit, YEAR, 1000)
    savepoint = db.session.begin_nested()
    with pytest.raises(sa.exc.IntegrityError):
        fp.own_canteen_plan(w.unit, YEAR, 2000)
    savepoint.rollback()


# --- the administrators' list ---------------------------------------------------------------------


def test_units_without_a_plan_are_listed_as_such(client, login, db_session):
    w = fp.world()
    planned = fp.unit(w.county, name="已报计划单位")
    fp.unit(w.county, name="未报计划单位")
    fp.unit(w.county, name="待审核单位", status=UnitStatus.PENDING)
    fp.own_canteen_plan(planned, YEAR, 1_000_000)
    login(fp.admin(w.province))
    page = client.get(f"/procurement/admin/plans?year={YEAR}").get_data(as_text=True)
    assert "已报计划单位" in page and "未报计划单位" in page and "待审核单位" not in page
    missing = client.get(f"/procurement/admin/plans?year={YEAR}&status=missing").get_data(as_text=True)
    assert "未报计划单位" in missing and "已报计划单位" not in missing
    totals = plans.plan_totals(sa.true(), YEAR)
    assert totals.units >= 3 and totals.without_plan == totals.units - 1 and totals.plan_fen == 100_000


def test_the_list_is_limited_to_the_administrators_region(client, login, db_session):
    mine, other = fp.world(), fp.world()
    login(fp.admin(mine.city))
    page = client.get(f"/procurement/admin/plans?year={YEAR}").get_data(as_text=True)
    assert mine.unit.name in page and other.unit.name not in page


def _statements(client, url: str) -> int:
    seen = []

    def count(conn, cursor, statement, *args):
        # Other domains' hooks (the search outbox) may run too; count what reads units and plans.
        if "buyer_unit" in statement or "unit_plan" in statement:
            seen.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(seen)


def test_the_plan_list_costs_the_same_queries_for_two_units_or_twelve(client, login, db_session):
    w = fp.world()
    login(fp.admin(w.province))
    fp.own_canteen_plan(w.unit, YEAR, 1000)
    url = f"/procurement/admin/plans?year={YEAR}"
    few = _statements(client, url)
    for i in range(10):
        unit = fp.unit(w.county, name=f"批量单位{i}")
        if i % 2:
            fp.own_canteen_plan(unit, YEAR, 1000 * i)
    assert _statements(client, url) == few


def test_the_plan_list_ignores_an_absurd_year_and_shows_this_one(client, login, db_session):
    login(fp.admin())
    page = client.get("/procurement/admin/plans?year=99999").get_data(as_text=True)
    assert str(YEAR + 1) in page


# --- regional guiding plans ----------------------------------------------------------------------


def test_guiding_plan_in_yi_yuan_and_the_sum_of_unit_plans_under_it(client, login, db_session):
    w = fp.world()
    fp.own_canteen_plan(w.unit, YEAR, 50_000_000)  # ¥500,000 budget → ¥50,000 plan
    actor = login(fp.admin(w.province))
    province_id = w.province.id
    response = client.post(f"/procurement/admin/guiding-plans?year={YEAR}", data={
        "region_id": province_id, "year": YEAR, "amount": "50亿", "reason": "市政府通知"})
    assert response.status_code == 302
    row = db.session.execute(sa.select(RegionPlan).where(RegionPlan.region_id == province_id)).scalar_one()
    assert row.amount_fen == 500_000_000_000
    # Chongqing's 32.6亿元 by the end of June was 65.2% of a 50亿元 guiding plan.
    assert common.parse_amount("32.6亿", field="x") * 1000 == row.amount_fen * 652
    [(_plan_row, region, units_sum)] = plans.guiding_plans(db.session.get(User, actor.id), YEAR)
    assert region.id == province_id and units_sum == 5_000_000
    page = client.get(f"/procurement/admin/guiding-plans?year={YEAR}").get_data(as_text=True)
    assert "50.00亿元" in page and "5.00万元" in page


def test_changing_a_guiding_plan_is_audited_and_needs_a_reason(db_session):
    w = fp.world()
    actor = fp.admin()
    with pytest.raises(ValidationFailed):
        plans.set_guiding_plan(actor, region_id=w.province.id, year=YEAR, amount_fen=100, reason=" ")
    plans.set_guiding_plan(actor, region_id=w.province.id, year=YEAR, amount_fen=100, reason="初定")
    plans.set_guiding_plan(actor, region_id=w.province.id, year=YEAR, amount_fen=200, reason="调整")
    entries = db.session.execute(sa.select(AuditEntry).where(AuditEntry.action == "region_plan.set")
                                 .order_by(AuditEntry.id)).scalars().all()
    assert entries[0].before is None and entries[1].before["amount_fen"] == 100
    assert entries[1].after["amount_fen"] == 200 and entries[1].reason == "调整"


def test_a_guiding_plan_outside_ones_region_or_below_a_county_is_refused(db_session):
    mine, other = factories.region_chain(), factories.region_chain()
    actor = fp.admin(mine[RegionLevel.PROVINCE])
    with pytest.raises(Forbidden):
        plans.set_guiding_plan(actor, region_id=other[RegionLevel.PROVINCE].id, year=YEAR, amount_fen=1, reason="x")
    with pytest.raises(ValidationFailed):
        plans.set_guiding_plan(actor, region_id=mine[RegionLevel.VILLAGE].id, year=YEAR, amount_fen=1, reason="x")
    with pytest.raises(ValidationFailed):
        plans.set_guiding_plan(actor, region_id=mine[RegionLevel.PROVINCE].id, year=YEAR, amount_fen=-1,
                               reason="x")
    assert db.session.execute(sa.select(RegionPlan)).first() is None
