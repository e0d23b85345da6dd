"""Household links (联农带农): declaration, the 100% share ceiling, challenges and history."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from core.errors import Conflict, Forbidden, InvalidTransition, ValidationFailed
from core.extensions import db
from core.registry.models import RegionLevel
from shop.models import HouseholdLink, LinkStatus, LinkType, SupplierStatus
from shop.services import links
from tests import factories
from tests.shop import factories_shop as fs

L = LinkStatus


def _link(w, share_bp=1000, **kw):
    household = kw.pop("household", None) or factories.household(w.village)
    return links.declare_link(w.supplier, w.owner, household, link_type=LinkType.ORDER_PURCHASE,
                              started_on=date(2025, 3, 1), share_bp=share_bp)


@pytest.mark.parametrize(("text", "bp"), [("12.5", 1250), ("5", 500), ("100", 10000), ("0.01", 1), ("3%", 300)])
def test_share_percent_is_stored_as_basis_points(text, bp):
    assert links.parse_share_percent(text) == bp


@pytest.mark.parametrize("text", ["0", "-1", "100.01", "1.234", "abc", ""])
def test_share_percent_outside_0_to_100_is_refused(text):
    with pytest.raises(ValidationFailed):
        links.parse_share_percent(text)


def test_supplier_declares_a_household_by_its_id_number(client, login, db_session):
    w = fs.world()
    household = factories.household(w.village, members=4)
    id_number = factories.valid_id_number(4242)
    from core.registry.services import prepare_household_identity

    household.id_number_hash, household.id_number_masked = prepare_household_identity(id_number)
    login(w.owner)
    db.session.commit()
    response = client.post("/shop/workspace/links", data={
        "id_number": id_number, "link_type": "guaranteed_dividend", "started_on": "2025-04-01",
        "share_percent": "12.5"})
    assert response.status_code == 302
    link = db.session.execute(sa.select(HouseholdLink).where(HouseholdLink.supplier_id == w.supplier.id)
                              ).scalar_one()
    assert (link.household_id, link.benefit_share_bp, link.link_type) == (household.id, 1250,
                                                                         LinkType.GUARANTEED_DIVIDEND)
    page = client.get("/shop/workspace/links").get_data(as_text=True)
    assert household.id_number_masked in page and id_number not in page
    assert "12.50%" in page


def test_a_rejected_declaration_does_not_echo_the_id_number(client, login, db_session):
    w = fs.world()
    login(w.owner)
    db.session.commit()
    id_number = factories.valid_id_number(777)
    response = client.post("/shop/workspace/links", data={
        "id_number": id_number, "link_type": "employment", "started_on": "2025-04-01", "share_percent": "5"})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "No registered household" in body and id_number not in body
    assert db.session.execute(sa.select(sa.func.count(HouseholdLink.id))).scalar_one() == 0


def test_households_of_another_county_cannot_be_declared(db_session):
    w = fs.world()
    elsewhere = factories.region_chain()
    with pytest.raises(ValidationFailed, match="own county"):
        _link(w, household=factories.household(elsewhere[RegionLevel.VILLAGE]))


def test_live_shares_of_one_supplier_stay_within_100_percent(db_session):
    w = fs.world()
    _link(w, 6000)
    _link(w, 3000)
    with pytest.raises(ValidationFailed, match="100"):
        _link(w, 1001)
    assert links.live_share_total(w.supplier.id) == 9000
    _link(w, 1000)
    assert links.live_share_total(w.supplier.id) == 10000


def test_an_ended_link_frees_its_share_and_stays_as_history(db_session):
    w = fs.world()
    household = factories.household(w.village)
    first = _link(w, 10000, household=household)
    links.end_link(first, w.owner, date(2025, 12, 31))
    again = _link(w, 4000, household=household)
    rows = db.session.execute(sa.select(HouseholdLink.status).where(HouseholdLink.household_id == household.id)
                              ).scalars().all()
    assert sorted(rows) == sorted([L.ENDED, L.ACTIVE])
    assert first.ended_on == date(2025, 12, 31) and again.status == L.ACTIVE


def test_the_same_household_is_linked_once_while_live(db_session):
    w = fs.world()
    household = factories.household(w.village)
    _link(w, 100, household=household)
    with pytest.raises(Conflict):
        _link(w, 100, household=household)


def test_rejected_or_suspended_suppliers_cannot_declare(db_session):
    w = fs.world(status=SupplierStatus.SUSPENDED)
    with pytest.raises(ValidationFailed):
        _link(w)


def test_start_date_in_the_future_is_refused(db_session):
    w = fs.world()
    with pytest.raises(ValidationFailed):
        links.declare_link(w.supplier, w.owner, factories.household(w.village), link_type="employment",
                           started_on=date.today() + timedelta(days=30), share_bp=100)  # noqa: DTZ011


def test_another_suppliers_member_cannot_end_a_link(db_session):
    w = fs.world()
    link = _link(w)
    other = fs.world()
    with pytest.raises(Exception, match="No such"):
        links.end_link(link, other.owner)


ALL_PAIRS = list(itertools.product(list(L), list(L)))


@pytest.mark.parametrize(("start", "target"), ALL_PAIRS, ids=[f"{a.value}->{b.value}" for a, b in ALL_PAIRS])
def test_link_table_allows_exactly_its_moves(db_session, start, target):
    w = fs.world()
    link = _link(w)
    link.status = start
    if start == L.ENDED:
        link.ended_on = date(2025, 6, 1)
    db.session.flush()
    # A link's supplier ends it; an administrator challenges and clears it.
    actor = w.owner if target == L.ENDED else fs.admin(w.county)
    if (start, target) in links.LINK_TRANSITIONS:
        links.transition_link(link, target, actor, note="收购合同缺页")
        assert link.status == target
    else:
        with pytest.raises(InvalidTransition):
            links.transition_link(link, target, actor, note="收购合同缺页")
        assert link.status == start


def test_challenged_links_do_not_count_until_cleared(db_session):
    w = fs.world()
    a = _link(w, household=factories.household(w.village, members=3))
    _link(w, household=factories.household(w.village, members=5))
    assert links.households_helped([w.supplier.id]) == {w.supplier.id: (2, 8)}
    links.challenge_link(a, fs.admin(w.county), "户主已迁出")
    assert links.households_helped([w.supplier.id]) == {w.supplier.id: (1, 5)}
    links.clear_link(a, fs.admin(w.county))
    assert links.households_helped([w.supplier.id]) == {w.supplier.id: (2, 8)}
    assert a.challenge_note == "户主已迁出"


def test_a_challenge_needs_a_note(db_session):
    w = fs.world()
    with pytest.raises(ValidationFailed):
        links.challenge_link(_link(w), fs.admin(), "")


def test_admins_see_and_challenge_links_of_their_region_only(client, login, db_session):
    w = fs.world()
    link = _link(w)
    outsider = fs.admin(factories.region_chain()[RegionLevel.PROVINCE])
    insider = fs.admin(w.chain[RegionLevel.TOWNSHIP])
    with pytest.raises(Forbidden):
        links.challenge_link(link, outsider, "不在本区域")
    login(outsider)
    db.session.commit()
    assert w.supplier.name not in client.get("/shop/admin/links").get_data(as_text=True)
    assert client.post(f"/shop/admin/links/{link.id}/challenge", data={"note": "x"}).status_code == 403
    login(insider)
    page = client.get("/shop/admin/links").get_data(as_text=True)
    assert w.supplier.name in page
    assert client.post(f"/shop/admin/links/{link.id}/challenge", data={"note": "合同缺页"}).status_code == 302
    assert fs.reload(link).status == L.CHALLENGED
