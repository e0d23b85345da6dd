"""Unit members with their unit roles (and the platform roles that follow), and delivery addresses."""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa

from core.accounts.models import User
from core.audit import AuditEntry
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.extensions import db
from core.permissions import Role
from core.registry.models import RegionLevel
from procurement.models import UnitAddress, UnitMember, UnitRole, UnitStatus
from procurement.services import members
from tests import factories
from tests.procurement import factories_procurement as fp


def _user(user_id: int) -> User:
    return db.session.get(User, user_id)


@pytest.mark.parametrize(("unit_role", "platform_role"), [
    (UnitRole.ADMIN, Role.UNIT_APPROVER), (UnitRole.BUYER, Role.UNIT_BUYER), (UnitRole.APPROVER, Role.UNIT_APPROVER),
])
def test_unit_administrator_adds_a_member_whose_platform_role_follows_the_unit_role(
        client, login, db_session, unit_role, platform_role):
    w = fp.world()
    person = factories.UserFactory(email=f"new-{unit_role.value}@example.test")
    login(w.unit_admin)
    response = client.post("/procurement/unit/members", data={"email": person.email.upper(), "role": unit_role.value})
    assert response.status_code == 302
    assert db.session.get(UnitMember, person.id).role == unit_role
    assert _user(person.id).role == platform_role
    entry = db.session.execute(sa.select(AuditEntry).where(AuditEntry.action == "unit.member_added")).scalar_one()
    assert entry.after == {"user_id": person.id, "role": unit_role.value}


def test_changing_a_role_and_removing_a_member_update_the_platform_role(db_session):
    w = fp.world()
    members.change_member_role(w.unit_admin, w.unit, w.buyer.id, UnitRole.APPROVER)
    assert w.buyer.role == Role.UNIT_APPROVER
    members.remove_member(w.unit_admin, w.unit, w.buyer.id)
    assert w.buyer.role == Role.CONSUMER
    assert db.session.get(UnitMember, w.buyer.id) is None
    actions = list(db.session.execute(sa.select(AuditEntry.action).where(
        AuditEntry.target_id == str(w.unit.id)).order_by(AuditEntry.id)).scalars())
    assert actions == ["unit.member_role_changed", "unit.member_removed"]


@pytest.mark.parametrize("who", ["supplier", "admin", "other_unit"])
def test_only_a_free_personal_account_can_be_added(db_session, who):
    w = fp.world()
    person = {"supplier": lambda: factories.user_with_role(Role.SUPPLIER),
              "admin": lambda: fp.admin(),
              "other_unit": lambda: fp.world().buyer}[who]()
    role_before = person.role
    with pytest.raises(Conflict):
        members.add_member(w.unit_admin, w.unit, email=person.email, role="buyer")
    assert person.role == role_before


def test_adding_an_unknown_address_says_the_person_must_register(client, login, db_session):
    w = fp.world()
    login(w.unit_admin)
    response = client.post("/procurement/unit/members", data={"email": "nobody@example.test", "role": "buyer"})
    assert response.status_code == 422
    assert 'class="error"' in response.get_data(as_text=True)


def test_a_buyer_cannot_manage_members(client, login, db_session):
    w = fp.world()
    person = factories.UserFactory()
    login(w.buyer)
    response = client.post("/procurement/unit/members", data={"email": person.email, "role": "admin"})
    assert response.status_code == 403
    assert db.session.get(UnitMember, person.id) is None
    response = client.post(f"/procurement/unit/members/{w.approver.id}/remove", data={})
    assert response.status_code == 403
    assert db.session.get(UnitMember, w.approver.id) is not None


def test_a_member_of_another_unit_cannot_be_touched(db_session):
    w, other = fp.world(), fp.world()
    with pytest.raises(NotFound):
        members.remove_member(w.unit_admin, w.unit, other.buyer.id)
    with pytest.raises(NotFound):
        members.change_member_role(w.unit_admin, w.unit, other.buyer.id, "admin")


def test_a_unit_keeps_at_least_one_administrator(db_session):
    w = fp.world()
    with pytest.raises(Conflict):
        members.change_member_role(w.unit_admin, w.unit, w.unit_admin.id, UnitRole.BUYER)
    with pytest.raises(Conflict):
        members.remove_member(w.unit_admin, w.unit, w.unit_admin.id)
    with pytest.raises(Conflict):
        members.leave_unit(w.unit_admin)
    members.change_member_role(w.unit_admin, w.unit, w.buyer.id, UnitRole.ADMIN)
    members.leave_unit(w.unit_admin)  # now another administrator remains
    assert w.unit_admin.role == Role.CONSUMER


def test_the_registrant_of_a_rejected_unit_can_leave_it(client, login, db_session):
    w = fp.world(status=UnitStatus.REJECTED)
    login(w.unit_admin)
    assert client.post("/procurement/unit/leave", data={}).status_code == 422
    response = client.post("/procurement/unit/leave", data={"confirm_leave": "y"})
    assert response.status_code == 302
    assert _user(w.unit_admin.id).role == Role.CONSUMER


def test_a_suspended_unit_cannot_take_new_members(db_session):
    w = fp.world(status=UnitStatus.SUSPENDED)
    with pytest.raises(Conflict):
        members.add_member(w.unit_admin, w.unit, email=factories.UserFactory().email, role="buyer")


def test_administrator_of_the_region_adds_the_first_unit_administrator(client, login, db_session):
    unit = fp.unit(factories.region_chain()[RegionLevel.CITY])
    person = factories.UserFactory()
    login(fp.admin())
    response = client.post(f"/procurement/admin/units/{unit.id}/members", data={"email": person.email,
                                                                               "role": "admin"})
    assert response.status_code == 302
    assert db.session.get(UnitMember, person.id).role == UnitRole.ADMIN


# --- delivery addresses -------------------------------------------------------------------


def test_unit_administrator_adds_an_address_shown_with_a_masked_phone(client, login, db_session, caplog):
    w = fp.world()
    login(w.unit_admin)
    with caplog.at_level(logging.DEBUG):
        response = client.post("/procurement/unit/addresses", data={
            "name": "机关第一食堂", "recipient": "王师傅", "phone": "139 1234 5678", "region_id": w.county.id,
            "address": "人民路 100 号"})
    assert response.status_code == 302
    row = db.session.execute(sa.select(UnitAddress).where(UnitAddress.unit_id == w.unit.id)).scalar_one()
    assert row.phone == "13912345678"
    page = client.get("/procurement/unit/addresses").get_data(as_text=True)
    assert "139****5678" in page and "13912345678" not in page
    entry = db.session.execute(sa.select(AuditEntry).where(AuditEntry.action == "unit.address_added")).scalar_one()
    assert entry.after["phone"] == "139****5678"
    assert "13912345678" not in caplog.text


@pytest.mark.parametrize(("field", "value"), [("phone", "12345"), ("name", ""), ("region_id", "0")])
def test_an_address_with_bad_input_is_refused_and_nothing_is_written(client, login, db_session, field, value):
    w = fp.world()
    login(w.unit_admin)
    data = {"name": "食堂", "recipient": "王师傅", "phone": "13912345678", "region_id": w.county.id,
            "address": "人民路 100 号", field: value}
    response = client.post("/procurement/unit/addresses", data=data)
    assert response.status_code == 422
    assert db.session.execute(sa.select(UnitAddress).where(UnitAddress.unit_id == w.unit.id)).first() is None


def test_two_live_addresses_cannot_share_a_name_but_a_retired_one_can(db_session):
    w = fp.world()
    first = members.add_address(w.unit_admin, w.unit, name="食堂", recipient="王", phone="13912345678",
                                address="人民路 1 号", region_id=w.county.id)
    with pytest.raises(Conflict):
        members.add_address(w.unit_admin, w.unit, name="食堂", recipient="王", phone="13912345678",
                            address="人民路 2 号", region_id=w.county.id)
    members.retire_address(w.unit_admin, w.unit, first.id)
    members.add_address(w.unit_admin, w.unit, name="食堂", recipient="王", phone="13912345678",
                        address="人民路 2 号", region_id=w.county.id)
    assert [a.address for a in members.addresses_of(w.unit)] == ["人民路 2 号"]


def test_a_buyer_sees_addresses_but_cannot_add_or_retire_them(db_session):
    w = fp.world()
    row = fp.address(w.unit, w.county)
    with pytest.raises(Forbidden):
        members.add_address(w.buyer, w.unit, name="食堂", recipient="王", phone="13912345678",
                            address="人民路 1 号", region_id=w.county.id)
    with pytest.raises(Forbidden):
        members.retire_address(w.buyer, w.unit, row.id)
    assert row.active


def test_another_units_address_is_not_found(db_session):
    w, other = fp.world(), fp.world()
    row = fp.address(other.unit, other.county)
    with pytest.raises(NotFound):
        members.retire_address(w.unit_admin, w.unit, row.id)
    assert row.active


def test_a_street_address_needs_some_text(db_session):
    w = fp.world()
    with pytest.raises(ValidationFailed):
        members.add_address(w.unit_admin, w.unit, name="食堂", recipient="王", phone="13912345678", address="x",
                            region_id=w.county.id)
