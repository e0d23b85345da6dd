"""Supplier registration, members, the accreditation state machine and administrators' regional scope."""

from __future__ import annotations

import itertools

import pytest
import sqlalchemy as sa

from core.audit import AuditEntry
from core.errors import Forbidden, InvalidTransition, ValidationFailed
from core.extensions import db
from core.permissions import Role
from core.registry.models import RegionLevel
from shop.models import Supplier, SupplierMember, SupplierStatus
from shop.services import suppliers
from tests import factories
from tests.shop import factories_shop as fs

S = SupplierStatus


def _register_form(county: int, **overrides) -> dict:
    data = {"name": "巫山县曲尺乡脆李专业合作社", "type": "cooperative", "county_id": str(county),
            "licence_number": fs.licence_number(), "contact_name": "王大姐", "contact_phone": "13812345678",
            "description": "脆李 80 亩"}
    data.update(overrides)
    return data


def test_consumer_registers_a_supplier_and_becomes_its_owner(client, login, db_session):
    chain = factories.region_chain()
    user = login(factories.UserFactory())
    response = client.post("/shop/supplier/register", data=_register_form(chain[RegionLevel.COUNTY].id))
    assert response.status_code == 302
    supplier = db.session.execute(sa.select(Supplier).where(Supplier.name.startswith("巫山县曲尺乡"))).scalar_one()
    assert supplier.status == SupplierStatus.PENDING
    assert db.session.get(SupplierMember, user.id).is_owner
    assert fs.reload(user).role == Role.SUPPLIER
    page = client.get("/shop/workspace/").get_data(as_text=True)
    assert "138****5678" in page and "13812345678" not in page
    entry = db.session.execute(sa.select(AuditEntry).where(AuditEntry.action == "supplier.registered")).scalar_one()
    assert entry.after["contact_phone"] == "138****5678"


@pytest.mark.parametrize(("field", "value"), [
    ("licence_number", "12345"),
    ("licence_number", "93500237MA0000001X"),  # right length, wrong check character
    ("contact_phone", "12345"),
    ("county_id", "0"),
])
def test_registration_with_bad_input_says_why_and_writes_nothing(client, login, db_session, field, value):
    chain = factories.region_chain()
    user = login(factories.UserFactory())
    db.session.commit()
    before = db.session.execute(sa.select(sa.func.count(Supplier.id))).scalar_one()
    response = client.post("/shop/supplier/register", data=_register_form(chain[RegionLevel.COUNTY].id,
                                                                          **{field: value}))
    assert response.status_code == 422
    assert 'class="error"' in response.get_data(as_text=True)
    assert db.session.execute(sa.select(sa.func.count(Supplier.id))).scalar_one() == before
    assert fs.reload(user).role == Role.CONSUMER


def test_registration_refuses_a_village_as_county(db_session):
    chain = factories.region_chain()
    with pytest.raises(ValidationFailed):
        suppliers.register_supplier(factories.UserFactory(), name="x", type="farmer",
                                    county_id=chain[RegionLevel.VILLAGE].id, licence_number=fs.licence_number(),
                                    contact_name="x", contact_phone="13812345678")


def test_registration_is_refused_to_administrator_accounts(db_session):
    chain = factories.region_chain()
    with pytest.raises(Forbidden):
        suppliers.register_supplier(fs.admin(), name="x", type="farmer", county_id=chain[RegionLevel.COUNTY].id,
                                    licence_number=fs.licence_number(), contact_name="x",
                                    contact_phone="13812345678")


def test_a_licence_number_registers_only_once(db_session):
    chain = factories.region_chain()
    code = fs.licence_number()
    kw = {"name": "社", "type": "farmer", "county_id": chain[RegionLevel.COUNTY].id, "licence_number": code,
          "contact_name": "x", "contact_phone": "13812345678"}
    suppliers.register_supplier(factories.UserFactory(), **kw)
    with pytest.raises(Exception, match="already registered"):
        suppliers.register_supplier(factories.UserFactory(), **kw)


# --- the accreditation state machine ---------------------------------------------------------

ALL_PAIRS = list(itertools.product(list(S), list(S)))


@pytest.mark.parametrize(("start", "target"), ALL_PAIRS, ids=[f"{a.value}->{b.value}" for a, b in ALL_PAIRS])
def test_accreditation_table_allows_exactly_its_moves(db_session, start, target):
    chain = factories.region_chain()
    supplier = factories.supplier(chain[RegionLevel.COUNTY], status=start)
    actor = fs.admin(chain[RegionLevel.CITY])
    if (start, target) in suppliers.SUPPLIER_TRANSITIONS:
        suppliers.transition_supplier(supplier, target, actor, reason="材料齐全" if start else None)
        assert supplier.status == target
        via = suppliers.SUPPLIER_TRANSITIONS[(start, target)]
        entry = db.session.execute(sa.select(AuditEntry).where(AuditEntry.action == f"supplier.{via}",
                                                               AuditEntry.target_id == str(supplier.id))
                                   ).scalar_one()
        assert entry.before == {"status": start.value} and entry.after == {"status": target.value}
        assert entry.actor_id == actor.id
    else:
        with pytest.raises(InvalidTransition):
            suppliers.transition_supplier(supplier, target, actor, reason="理由")
        assert supplier.status == start


FUNCTIONS = list(itertools.product(list(suppliers.ACTIONS), list(S)))


@pytest.mark.parametrize(("action", "start"), FUNCTIONS, ids=[f"{a}-from-{s.value}" for a, s in FUNCTIONS])
def test_each_accreditation_function_starts_only_from_its_own_state(db_session, action, start):
    chain = factories.region_chain()
    supplier = factories.supplier(chain[RegionLevel.COUNTY], status=start)
    allowed = [pair for pair, via in suppliers.SUPPLIER_TRANSITIONS.items() if via == action and pair[0] == start]
    if allowed:
        suppliers.ACTIONS[action](supplier, fs.admin(), "理由")
        assert supplier.status == allowed[0][1]
    else:
        with pytest.raises(InvalidTransition):
            suppliers.ACTIONS[action](supplier, fs.admin(), "理由")


@pytest.mark.parametrize("action", ["reject", "suspend"])
def test_rejecting_or_suspending_needs_a_reason(db_session, action):
    chain = factories.region_chain()
    start = S.PENDING if action == "reject" else S.APPROVED
    supplier = factories.supplier(chain[RegionLevel.COUNTY], status=start)
    with pytest.raises(ValidationFailed):
        suppliers.ACTIONS[action](supplier, fs.admin(), "  ")
    assert supplier.status == start


def test_admin_approves_through_the_page_and_the_supplier_reads_the_reason(client, login, db_session):
    w = fs.world(status=S.PENDING)
    login(fs.admin(w.county))
    db.session.commit()
    assert client.post(f"/shop/admin/suppliers/{w.supplier.id}/reject", data={"reason": ""}).status_code == 422
    assert fs.reload(w.supplier).status == S.PENDING
    assert client.post(f"/shop/admin/suppliers/{w.supplier.id}/reject",
                       data={"reason": "营业执照过期"}).status_code == 302
    assert fs.reload(w.supplier).status == S.REJECTED
    login(w.owner)
    assert "营业执照过期" in client.get("/shop/workspace/").get_data(as_text=True)


def test_refused_transition_through_the_page_is_a_409(client, login, db_session):
    w = fs.world(status=S.REJECTED)
    login(fs.admin())
    db.session.commit()
    assert client.post(f"/shop/admin/suppliers/{w.supplier.id}/approve", data={}).status_code == 409
    assert fs.reload(w.supplier).status == S.REJECTED


def test_admin_of_another_region_can_neither_see_nor_accredit(client, login, db_session):
    w = fs.world(status=S.PENDING)
    other = factories.region_chain()
    login(fs.admin(other[RegionLevel.PROVINCE]))
    db.session.commit()
    assert client.get(f"/shop/admin/suppliers/{w.supplier.id}").status_code == 403
    assert client.post(f"/shop/admin/suppliers/{w.supplier.id}/approve", data={}).status_code == 403
    assert fs.reload(w.supplier).status == S.PENDING
    queue = client.get("/shop/admin/suppliers").get_data(as_text=True)
    assert w.supplier.name not in queue


def test_regional_queue_lists_the_suppliers_of_its_subtree(client, login, db_session):
    w = fs.world(status=S.PENDING)
    login(fs.admin(w.chain[RegionLevel.CITY]))
    page = client.get("/shop/admin/suppliers").get_data(as_text=True)
    assert w.supplier.name in page
    assert client.post(f"/shop/admin/suppliers/{w.supplier.id}/approve", data={}).status_code == 302
    supplier = fs.reload(w.supplier)
    assert supplier.status == S.APPROVED and supplier.accredited_at is not None


def test_consumers_and_suppliers_cannot_open_the_accreditation_queue(client, as_role, db_session):
    as_role("supplier")
    assert client.get("/shop/admin/suppliers").status_code == 403
    assert client.get("/shop/admin/products").status_code == 403


def test_supplier_in_a_poverty_lifted_county_carries_the_assistance_badge(client, login, db_session):
    lifted = fs.world(county_flags={"poverty_lifted": True})
    plain = fs.world(county_flags={"poverty_lifted": False})
    page = client.get(f"/shop/supplier/{lifted.supplier.id}").get_data(as_text=True)
    assert 'class="badge"' in page and "Assistance product" in page
    page = client.get(f"/shop/supplier/{plain.supplier.id}").get_data(as_text=True)
    assert "Assistance product" not in page


def test_supplier_page_of_an_unaccredited_supplier_is_not_found(client, db_session):
    w = fs.world(status=S.PENDING)
    assert client.get(f"/shop/supplier/{w.supplier.id}").status_code == 404


# --- members ---------------------------------------------------------------------------------


def test_owner_invites_an_existing_account_which_joins(client, login, db_session):
    w = fs.world()
    colleague = factories.UserFactory(email="colleague@fupin-test.cn")
    login(w.owner)
    db.session.commit()
    assert client.post("/shop/workspace/invite", data={"email": "Colleague@Fupin-Test.cn"}).status_code == 302
    assert client.post("/shop/workspace/invite", data={"email": "colleague@fupin-test.cn"}).status_code == 422
    login(colleague)
    page = client.get("/shop/invitations").get_data(as_text=True)
    assert w.supplier.name in page
    invitation = suppliers.open_invitations_for(colleague)[0]
    assert client.post(f"/shop/invitations/{invitation.id}/accept").status_code == 302
    colleague = fs.reload(colleague)
    assert colleague.role == Role.SUPPLIER
    membership = db.session.get(SupplierMember, colleague.id)
    assert membership.supplier_id == w.supplier.id and not membership.is_owner
    assert suppliers.open_invitations_for(colleague) == []


def test_an_invitation_cannot_be_accepted_by_another_address(client, login, db_session):
    w = fs.world()
    invitation = suppliers.invite_member(w.supplier, w.owner, "someone@example.test")
    login(factories.UserFactory(email="intruder@example.test"))
    db.session.commit()
    assert client.post(f"/shop/invitations/{invitation.id}/accept").status_code == 404


def test_only_the_owner_invites(db_session):
    w = fs.world()
    plain = fs.member(w.supplier, owner=False)
    with pytest.raises(Forbidden):
        suppliers.invite_member(w.supplier, plain, "x@example.test")
