"""Buyer units: creation and registration, the approval state machine, regional scope and the unit tree."""

from __future__ import annotations

import itertools

import pytest
import sqlalchemy as sa

from core.accounts.models import User
from core.audit import AuditEntry
from core.errors import Forbidden, InvalidTransition, NotFound, ValidationFailed
from core.extensions import db
from core.permissions import Role
from core.registry.models import RegionLevel
from procurement.models import AssistanceKind, AssistanceRelation, BuyerUnit, UnitMember, UnitRole, UnitStatus
from procurement.services import common, units
from tests import factories
from tests.procurement import factories_procurement as fp

S = UnitStatus


def fresh(row):
    """The row as the database has it now (the test client's request ended the session it was loaded in)."""
    return db.session.get(type(row), sa.inspect(row).identity)


def _count(model) -> int:
    return db.session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


# --- registration by a person and creation by an administrator ----------------------------------


def test_consumer_registers_a_unit_that_waits_and_becomes_its_administrator(client, login, db_session):
    chain = factories.region_chain()
    user = login(factories.UserFactory())
    response = client.post("/procurement/register", data={
        "name": "巫山县机关事务服务中心", "type": "county_unit", "region_id": chain[RegionLevel.COUNTY].id})
    assert response.status_code == 302
    unit = db.session.execute(sa.select(BuyerUnit).where(BuyerUnit.name == "巫山县机关事务服务中心")).scalar_one()
    assert unit.status == UnitStatus.PENDING
    member = db.session.get(UnitMember, user.id)
    assert member.unit_id == unit.id and member.role == UnitRole.ADMIN
    assert db.session.get(User, user.id).role == Role.UNIT_APPROVER
    page = client.get("/procurement/unit/").get_data(as_text=True)
    assert "巫山县机关事务服务中心" in page
    entry = db.session.execute(sa.select(AuditEntry).where(AuditEntry.action == "unit.registered")).scalar_one()
    assert entry.actor_id == user.id and entry.after["status"] == "pending"


@pytest.mark.parametrize(("field", "value"), [
    ("name", ""),
    ("type", "ministry"),
    ("region_id", "0"),
    ("parent", "没有这个单位"),
])
def test_registration_with_bad_input_says_why_and_writes_nothing(client, login, db_session, field, value):
    chain = factories.region_chain()
    user = login(factories.UserFactory())
    data = {"name": "开州区食堂", "type": "county_unit", "region_id": chain[RegionLevel.COUNTY].id, field: value}
    before = _count(BuyerUnit)
    response = client.post("/procurement/register", data=data)
    assert response.status_code == 422
    assert 'class="error"' in response.get_data(as_text=True)
    assert _count(BuyerUnit) == before
    assert db.session.get(User, user.id).role == Role.CONSUMER


def test_registration_refuses_a_village_as_the_units_region(db_session):
    chain = factories.region_chain()
    with pytest.raises(ValidationFailed):
        units.register_unit(factories.UserFactory(), name="村委会", type="other",
                            region_id=chain[RegionLevel.VILLAGE].id)


@pytest.mark.parametrize("role", [Role.SUPPLIER, Role.PLATFORM_ADMIN, Role.UNIT_BUYER])
def test_only_a_free_personal_account_registers_a_unit(db_session, role):
    chain = factories.region_chain()
    with pytest.raises(Forbidden):
        units.register_unit(factories.user_with_role(role), name="某单位", type="other",
                            region_id=chain[RegionLevel.COUNTY].id)


def test_a_unit_name_is_registered_only_once(db_session):
    chain = factories.region_chain()
    fp.unit(chain[RegionLevel.CITY], name="重庆市机关事务管理局")
    with pytest.raises(Exception, match="already registered"):
        units.register_unit(factories.UserFactory(), name="重庆市机关事务管理局", type="city_department",
                            region_id=chain[RegionLevel.CITY].id)


def test_administrator_creates_an_active_unit_in_their_region(client, login, db_session):
    chain = factories.region_chain()
    actor = login(fp.admin(chain[RegionLevel.CITY]))
    response = client.post("/procurement/admin/units/new", data={
        "name": "开州区教育委员会", "type": "county_unit", "region_id": chain[RegionLevel.COUNTY].id,
        "approval_threshold": "5,000"})
    assert response.status_code == 302
    unit = db.session.execute(sa.select(BuyerUnit).where(BuyerUnit.name == "开州区教育委员会")).scalar_one()
    assert unit.status == UnitStatus.ACTIVE
    assert unit.approval_threshold_fen == 500_000
    entry = db.session.execute(sa.select(AuditEntry).where(AuditEntry.action == "unit.created",
                                                           AuditEntry.target_id == str(unit.id))).scalar_one()
    assert entry.actor_id == actor.id


def test_regional_administrator_cannot_create_a_unit_in_another_region(client, login, db_session):
    mine, other = factories.region_chain(), factories.region_chain()
    actor = login(fp.admin(mine[RegionLevel.PROVINCE]))
    county_id = other[RegionLevel.COUNTY].id
    before = _count(BuyerUnit)
    response = client.post("/procurement/admin/units/new", data={
        "name": "外省单位", "type": "other", "region_id": other[RegionLevel.COUNTY].id})
    # The other region is not even offered, so the form refuses the choice.
    assert response.status_code == 422
    assert _count(BuyerUnit) == before
    with pytest.raises(Forbidden):
        units.create_unit(db.session.get(User, actor.id), name="外省单位", type="other", region_id=county_id)


def test_a_negative_approval_threshold_is_refused(client, login, db_session):
    chain = factories.region_chain()
    login(fp.admin())
    response = client.post("/procurement/admin/units/new", data={
        "name": "某局", "type": "other", "region_id": chain[RegionLevel.COUNTY].id, "approval_threshold": "-1"})
    assert response.status_code == 422
    assert db.session.execute(sa.select(BuyerUnit).where(BuyerUnit.name == "某局")).first() is None


# --- the approval state machine -------------------------------------------------------------------

ALL_PAIRS = list(itertools.product(list(S), list(S)))


@pytest.mark.parametrize(("start", "target"), ALL_PAIRS, ids=[f"{a.value}->{b.value}" for a, b in ALL_PAIRS])
def test_unit_approval_table_allows_exactly_its_moves(db_session, start, target):
    chain = factories.region_chain()
    unit = fp.unit(chain[RegionLevel.COUNTY], status=start)
    actor = fp.admin(chain[RegionLevel.CITY])
    if (start, target) in units.UNIT_TRANSITIONS:
        units.transition_unit(unit, target, actor, reason="材料齐全")
        assert unit.status == target
        via = units.UNIT_TRANSITIONS[(start, target)]
        entry = db.session.execute(sa.select(AuditEntry).where(AuditEntry.action == f"unit.{via}",
                                                               AuditEntry.target_id == str(unit.id))).scalar_one()
        assert entry.before == {"status": start.value} and entry.after == {"status": target.value}
        assert entry.actor_id == actor.id and entry.reason == "材料齐全"
    else:
        with pytest.raises(InvalidTransition):
            units.transition_unit(unit, target, actor, reason="理由")
        assert unit.status == start
        assert db.session.execute(sa.select(AuditEntry).where(AuditEntry.target_id == str(unit.id),
                                                              AuditEntry.target_type == "buyer_unit")).first() is None


FUNCTIONS = list(itertools.product(list(units.ACTIONS), list(S)))


@pytest.mark.parametrize(("action", "start"), FUNCTIONS, ids=[f"{a}-from-{s.value}" for a, s in FUNCTIONS])
def test_each_approval_function_starts_only_from_its_own_state(db_session, action, start):
    chain = factories.region_chain()
    unit = fp.unit(chain[RegionLevel.COUNTY], status=start)
    allowed = any(via == action and s == start for (s, _t), via in units.UNIT_TRANSITIONS.items())
    if allowed:
        units.ACTIONS[action](unit, fp.admin(), "理由")
        assert unit.status != start
    else:
        with pytest.raises(InvalidTransition):
            units.ACTIONS[action](unit, fp.admin(), "理由")
        assert unit.status == start


@pytest.mark.parametrize(("start", "action"), [(S.PENDING, "reject"), (S.ACTIVE, "suspend")])
def test_rejecting_or_suspending_needs_a_reason(db_session, start, action):
    chain = factories.region_chain()
    unit = fp.unit(chain[RegionLevel.COUNTY], status=start)
    with pytest.raises(ValidationFailed):
        units.ACTIONS[action](unit, fp.admin(), "  ")
    assert unit.status == start


def test_administrator_approves_a_registration_on_the_unit_page(client, login, db_session):
    chain = factories.region_chain()
    unit = fp.unit(chain[RegionLevel.COUNTY], status=S.PENDING)
    login(fp.admin(chain[RegionLevel.PROVINCE]))
    response = client.post(f"/procurement/admin/units/{unit.id}/approve", data={})
    assert response.status_code == 302
    assert fresh(unit).status == S.ACTIVE


def test_rejection_without_reason_is_shown_beside_the_field_and_changes_nothing(client, login, db_session):
    chain = factories.region_chain()
    unit = fp.unit(chain[RegionLevel.COUNTY], status=S.PENDING)
    login(fp.admin())
    response = client.post(f"/procurement/admin/units/{unit.id}/reject", data={"reason": ""})
    assert response.status_code == 422
    assert "Give the reason" in response.get_data(as_text=True) or "理由" in response.get_data(as_text=True)
    assert fresh(unit).status == S.PENDING


def test_approving_twice_is_a_conflict(client, login, db_session):
    chain = factories.region_chain()
    unit = fp.unit(chain[RegionLevel.COUNTY], status=S.ACTIVE)
    login(fp.admin())
    assert client.post(f"/procurement/admin/units/{unit.id}/approve", data={}).status_code == 409


# --- regional scope ---------------------------------------------------------------------------


def test_regional_administrator_sees_only_units_in_their_subtree(client, login, db_session):
    mine, other = factories.region_chain(), factories.region_chain()
    inside = fp.unit(mine[RegionLevel.COUNTY], name="区内单位甲")
    outside = fp.unit(other[RegionLevel.COUNTY], name="区外单位乙")
    login(fp.admin(mine[RegionLevel.CITY]))
    page = client.get("/procurement/admin/units").get_data(as_text=True)
    assert "区内单位甲" in page and "区外单位乙" not in page
    assert client.get(f"/procurement/admin/units/{inside.id}").status_code == 200
    assert client.get(f"/procurement/admin/units/{outside.id}").status_code == 403
    response = client.post(f"/procurement/admin/units/{outside.id}/suspend", data={"reason": "越权"})
    assert response.status_code == 403
    assert fresh(outside).status == S.ACTIVE


def test_regional_administrator_cannot_approve_another_regions_registration(db_session):
    mine, other = factories.region_chain(), factories.region_chain()
    unit = fp.unit(other[RegionLevel.COUNTY], status=S.PENDING)
    with pytest.raises(Forbidden):
        units.approve_unit(unit, fp.admin(mine[RegionLevel.PROVINCE]))
    assert unit.status == S.PENDING


# --- the unit tree ------------------------------------------------------------------------------


def test_unit_administrator_sees_sub_units_at_every_depth_but_not_other_units(client, login, db_session):
    w = fp.world()
    child = fp.unit(w.county, name="下属单位一", parent_id=w.unit.id)
    fp.unit(w.county, name="下属单位二", parent_id=child.id)
    fp.unit(w.county, name="无关单位")
    login(w.unit_admin)
    page = client.get("/procurement/unit/").get_data(as_text=True)
    assert "下属单位一" in page and "下属单位二" in page and "无关单位" not in page
    visible = set(db.session.execute(sa.select(BuyerUnit.name).where(
        common.visible_units_clause(w.unit_admin))).scalars())
    assert visible == {w.unit.name, "下属单位一", "下属单位二"}


def test_a_buyer_sees_only_their_own_unit(db_session):
    w = fp.world()
    fp.unit(w.county, parent_id=w.unit.id)
    visible = list(db.session.execute(sa.select(BuyerUnit.id).where(common.visible_units_clause(w.buyer))).scalars())
    assert visible == [w.unit.id]


def test_a_unit_cannot_be_placed_below_its_own_sub_unit(db_session):
    w = fp.world()
    child = fp.unit(w.county, parent_id=w.unit.id)
    grandchild = fp.unit(w.county, parent_id=child.id)
    for parent in (w.unit, grandchild):
        with pytest.raises(ValidationFailed, match="below itself"):
            units.update_unit(fp.admin(), w.unit, name=w.unit.name, type=w.unit.type, region_id=w.unit.region_id,
                              parent_id=parent.id, approval_threshold_fen=0)
    assert w.unit.parent_id is None


def test_editing_a_unit_is_audited_with_what_changed(db_session):
    w = fp.world()
    actor = fp.admin()
    units.update_unit(actor, w.unit, name="新名称", type=w.unit.type, region_id=w.unit.region_id, parent_id=None,
                      approval_threshold_fen=100_000)
    entry = db.session.execute(sa.select(AuditEntry).where(AuditEntry.action == "unit.updated")).scalar_one()
    assert set(entry.after) == {"name", "approval_threshold_fen"}
    assert entry.after["approval_threshold_fen"] == 100_000


# --- assistance relations -------------------------------------------------------------------


def test_administrator_records_and_removes_an_assistance_relation(client, login, db_session):
    w = fp.world()
    login(fp.admin(w.province))
    response = client.post(f"/procurement/admin/units/{w.unit.id}/relations", data={
        "county_id": w.county.id, "kind": "east_west", "start_year": "2018"})
    assert response.status_code == 302
    relation = db.session.execute(sa.select(AssistanceRelation).where(AssistanceRelation.unit_id == w.unit.id)
                                  ).scalar_one()
    assert relation.kind == AssistanceKind.EAST_WEST and relation.end_year is None
    response = client.post(f"/procurement/admin/units/{w.unit.id}/relations/{relation.id}/remove", data={})
    assert response.status_code == 302
    assert db.session.get(AssistanceRelation, relation.id) is None
    actions = set(db.session.execute(sa.select(AuditEntry.action).where(
        AuditEntry.target_id == str(w.unit.id))).scalars())
    assert {"unit.assistance_added", "unit.assistance_removed"} <= actions


@pytest.mark.parametrize(("overrides", "field"), [
    ({"start_year": "2022", "end_year": "2020"}, "end_year"),
    ({"start_year": "1800"}, "start_year"),
    ({"county": "village"}, "county_id"),
])
def test_bad_assistance_relations_are_refused(db_session, overrides, field):
    w = fp.world()
    county = w.chain[RegionLevel.VILLAGE] if overrides.pop("county", None) else w.county
    kw = {"county_id": county.id, "kind": "paired", "start_year": "2021", "end_year": None, **overrides}
    with pytest.raises(ValidationFailed) as info:
        units.add_assistance(fp.admin(), w.unit, **kw)
    assert info.value.field == field
    assert db.session.execute(sa.select(AssistanceRelation).where(AssistanceRelation.unit_id == w.unit.id)
                              ).first() is None


def test_the_same_assistance_relation_is_recorded_once(db_session):
    w = fp.world()
    units.add_assistance(fp.admin(), w.unit, county_id=w.county.id, kind="paired", start_year=2021)
    with pytest.raises(Exception, match="already recorded"):
        units.add_assistance(fp.admin(), w.unit, county_id=w.county.id, kind="paired", start_year=2021)


def test_unit_members_cannot_record_assistance_relations(db_session):
    w = fp.world()
    with pytest.raises(Forbidden):
        units.add_assistance(w.unit_admin, w.unit, county_id=w.county.id, kind="paired", start_year=2021)


def test_an_outsider_is_told_the_unit_does_not_exist(db_session):
    w, other = fp.world(), fp.world()
    with pytest.raises(NotFound):
        common.ensure_may_view(other.unit_admin, w.unit)
    with pytest.raises(NotFound):
        common.ensure_may_manage(factories.UserFactory(), w.unit)
