"""Matchmaking (产销对接): the matcher's filters, score and order (open warnings first), proposals both
ways, acceptance to the procurement cart and the linked order, refusals that change nothing, the API."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from alerts import matching, services_matching
from alerts.models import AlertRun, Warning, WarningCause, WarningLevel, WarningStatus
from alerts.models_matching import Demand, DemandStatus, Match, MatchStatus, Offer, OfferStatus
from core.errors import InvalidTransition, NotFound
from core.extensions import db
from core.registry.models import RegionLevel
from procurement.models_orders import ProcurementOrder
from procurement.views.orders import CART_KEY
from shop.models import Category, Product
from tests import factories
from tests.procurement import factories_orders as fo
from tests.procurement import factories_procurement as fp
from tests.shop import factories_shop as fs
from tests.shop.factories_shop import reload

_runs = itertools.count(1)


@dataclass
class World:
    ow: fo.OrderWorld
    fruit: Category  # the parent category
    plums_cat: Category  # the plums' and oranges' category, below ``fruit``

    def __getattr__(self, name):
        return getattr(self.ow, name)


@pytest.fixture()
def w(db_session) -> World:
    ow = fo.world()
    fruit = fs.category("水果")
    plums_cat = db.session.get(Category, ow.plums.category_id)
    plums_cat.parent_id = fruit.id
    db.session.flush()
    return World(ow=ow, fruit=fruit, plums_cat=plums_cat)


def today() -> date:
    return fo.today()


def demand(w: World, *, category=None, quantity=20, unit="箱", budget_fen=100_000, start=3, end=30, wished=None,
           user=None) -> Demand:
    return services_matching.create_demand(
        user or w.buyer, category_id=(category or w.fruit).id, quantity=quantity, unit=unit, budget_fen=budget_fen,
        delivery_from=today() + timedelta(days=start), delivery_to=today() + timedelta(days=end),
        wished_region_id=wished.id if wished else None)


def proposed(d: Demand) -> list[Match]:
    return services_matching.matches_for_demands([d.id]).get(d.id, [])


def open_warning(product: Product, level: WarningLevel = WarningLevel.ORANGE) -> Warning:
    run = AlertRun(run_on=date(2001, 1, 1) + timedelta(days=next(_runs)))
    db.session.add(run)
    db.session.flush()
    warning = Warning(product_id=product.id, cause=WarningCause.SPOILAGE, status=WarningStatus.OPEN, level=level,
                      rule="spoilage", playbook="promote", amount_at_risk_fen=100_000, days_left=5, figures={},
                      first_run_id=run.id, last_run_id=run.id)
    db.session.add(warning)
    db.session.flush()
    return warning


# --- the matcher ---------------------------------------------------------------------------------


def test_a_demand_gets_listed_products_of_its_category_subtree_within_budget(w):
    # 20 boxes for ¥1,000: plums (¥39.90 → ¥798) fit, oranges (¥58 → ¥1,160) do not.
    d = demand(w, budget_fen=100_000)
    matches = proposed(d)
    assert [m.product_id for m in matches] == [w.plums.id]
    m = matches[0]
    assert m.offer_id is None and m.status == MatchStatus.PROPOSED and m.order_quantity == 20
    codes = {r["code"]: r for r in m.reasons}
    # within budget 20 + (1000 - 798)/1000 × 20 = 24; in stock now: 20; a kind below the category: 5;
    # a poverty-lifted county: 10; no warning.
    assert codes["price"]["points"] == 24 and codes["ready"]["points"] == 20
    assert codes["category"]["points"] == 5 and codes["origin"]["points"] == 10
    assert "warning" not in codes
    assert m.score == 24 + 20 + 5 + 10
    # Without a budget both fit, and the exact category scores more than the parent's subtree.
    exact = demand(w, category=w.plums_cat, budget_fen=None)
    assert {m.product_id for m in proposed(exact)} == {w.plums.id, w.oranges.id}
    assert all({r["code"]: r for r in m.reasons}["category"]["points"] == 10 for m in proposed(exact))


def test_filters_origin_quantity_window_and_units(w):
    elsewhere = factories.region_chain()
    assert proposed(demand(w, wished=elsewhere[RegionLevel.PROVINCE], budget_fen=None)) == []
    assert len(proposed(demand(w, wished=w.chain[RegionLevel.COUNTY], budget_fen=None))) == 2
    assert proposed(demand(w, quantity=101, budget_fen=None)) == []  # plums have 100 in stock, oranges 50
    assert proposed(demand(w, unit="kg", budget_fen=None)) == []  # boxes do not convert to kilograms
    other_cat = fs.category("蔬菜")
    assert proposed(demand(w, category=other_cat, budget_fen=None)) == []
    # A weight unit converts: 25 kg are 50 斤, and the budget is checked on the converted quantity.
    jin = fs.product(w.supplier, w.plums_cat, w.chain[RegionLevel.VILLAGE], price_fen=1000, stock=60,
                     sales_unit="斤", name="散装脆李")
    m = proposed(demand(w, quantity=25, unit="kg", budget_fen=50_000))
    assert [(x.product_id, x.order_quantity) for x in m] == [(jin.id, 50)]
    assert proposed(demand(w, quantity=25, unit="kg", budget_fen=49_999)) == []
    # An offer ready after the window ends is not proposed; one ready inside it is, with fewer points.
    late = services_matching.create_offer(w.supplier_user, category_id=w.plums_cat.id, description="晚熟脆李",
                                          quantity=500, unit="箱", ready_on=today() + timedelta(days=40),
                                          price_fen=3000)
    d = demand(w, budget_fen=None, end=30)
    assert late.id not in {m.offer_id for m in proposed(d)}
    inside = services_matching.create_offer(w.supplier_user, category_id=w.plums_cat.id, description="中熟脆李",
                                            quantity=500, unit="箱", ready_on=today() + timedelta(days=10),
                                            price_fen=3000)
    m = next(m for m in proposed(d) if m.offer_id == inside.id)
    assert {r["code"]: r for r in m.reasons}["ready"]["points"] == 10


def test_products_under_an_open_warning_are_matched_first(w):
    # A cheaper product scores higher on price, but the oranges are under an open warning.
    open_warning(w.oranges)
    d = demand(w, category=w.plums_cat, budget_fen=None)
    matches = proposed(d)
    assert [m.product_id for m in matches] == [w.oranges.id, w.plums.id]
    assert matches[0].warning_id is not None
    assert {r["code"] for r in matches[0].reasons} >= {"warning"}
    # Even when the warned product scores lower than the other: order first by the warning.
    budgeted = demand(w, category=w.plums_cat, budget_fen=200_000)
    scores = {m.product_id: m.score for m in proposed(budgeted)}
    ordered = [m.product_id for m in proposed(budgeted)]
    assert ordered[0] == w.oranges.id
    assert services_matching.ORDER[0].compare(Match.warning_id.is_(None))
    assert scores[w.oranges.id] - 15 < scores[w.plums.id]  # without the warning's points it would rank second


def test_a_warning_opened_later_is_picked_up_by_the_next_run(w):
    d = demand(w, category=w.plums_cat, budget_fen=None)
    assert proposed(d)[0].product_id == w.plums.id
    open_warning(w.oranges, WarningLevel.RED)
    outcome = matching.run(today())
    assert outcome.rescored >= 1
    assert proposed(d)[0].product_id == w.oranges.id


def test_the_matcher_runs_one_candidate_query_whatever_the_number_of_demands(w):
    for _ in range(2):
        demand(w, budget_fen=None)
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    engine = db.session.get_bind()
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        matching.run(today(), notify=False)
        few = len(statements)
        for _ in range(6):
            demand(w, budget_fen=None)
        statements.clear()
        matching.run(today(), notify=False)
        many = len(statements)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert many == few
    assert sum("demand_category_tree" in s for s in statements) == 1


def test_an_offer_is_proposed_to_open_demands_and_agreed_by_both_sides(w, login, client):
    veg = fs.category("蔬菜")
    d = demand(w, category=veg, quantity=50, budget_fen=500_000)
    assert proposed(d) == []
    # The supplier offers produce it has not listed; the matcher proposes it to the demand (the other way).
    offer = services_matching.create_offer(w.supplier_user, category_id=veg.id, description="高山甘蓝 10斤/箱",
                                           quantity=80, unit="箱", ready_on=today() + timedelta(days=1),
                                           price_fen=2500)
    (m,) = proposed(d)
    assert m.offer_id == offer.id and m.product_id is None and m.supplier_id == w.supplier.id
    # The supplier accepts and names the listed product to order (in the demand's category).
    cabbage = fs.product(w.supplier, veg, w.chain[RegionLevel.VILLAGE], price_fen=2600, stock=200, name="高山甘蓝")
    db.session.commit()
    login(w.supplier_user)
    page = client.get("/alerts/matching/offers")
    assert page.status_code == 200 and w.unit.name in page.get_data(as_text=True)
    no_product = client.post(f"/alerts/matching/matches/{m.id}/supplier", data={"action": "accept"})
    assert no_product.status_code == 302 and reload(m).status == MatchStatus.PROPOSED
    client.post(f"/alerts/matching/matches/{m.id}/supplier", data={"action": "accept", "product_id": cabbage.id})
    m = reload(m)
    assert m.status == MatchStatus.ACCEPTED_BY_SUPPLIER and m.product_id == cabbage.id
    assert m.unit_price_fen == 2600  # what the unit will pay: the listed price
    login(w.buyer)
    client.post(f"/alerts/matching/matches/{m.id}/unit", data={"action": "accept"})
    m = reload(m)
    assert m.status == MatchStatus.ACCEPTED and m.unit_accepted_by_id == w.buyer.id
    # 50 of 80 taken: the offer stays open; a second agreement over the rest would close it.
    assert reload(offer).status == OfferStatus.OPEN


def test_an_agreed_match_goes_to_the_procurement_cart_and_links_the_submitted_order(w, login, client):
    d = demand(w, quantity=12, budget_fen=60_000)  # plums ¥478.80 fit, oranges ¥696 do not
    (m,) = proposed(d)
    db.session.commit()
    login(w.buyer)
    page = client.get("/alerts/matching/demands")
    assert page.status_code == 200 and w.plums.name in page.get_data(as_text=True)
    # A listed product is the supplier's standing offer: the unit's acceptance alone agrees the match.
    client.post(f"/alerts/matching/matches/{m.id}/unit", data={"action": "accept"})
    assert reload(m).status == MatchStatus.ACCEPTED
    ordered = client.post(f"/alerts/matching/matches/{m.id}/order")
    assert ordered.status_code == 302 and ordered.headers["Location"].endswith("/procurement/orders/cart")
    with client.session_transaction() as sess:
        assert sess[CART_KEY] == {str(w.plums.id): 12}
    submitted = client.post("/procurement/orders/cart", data={
        "address_id": w.address.id, "wanted_on": (today() + timedelta(days=5)).isoformat(), "channel": "canteen",
        "payment_terms": "deliver_first", "idempotency_key": "match-order-1"})
    assert submitted.status_code == 302
    order = db.session.execute(sa.select(ProcurementOrder).where(ProcurementOrder.unit_id == w.unit.id)).scalar_one()
    page = client.get("/alerts/matching/demands").get_data(as_text=True)
    assert reload(m).procurement_order_id == order.id
    assert f"/procurement/orders/{order.id}" in page
    # Ordered once: a second 下单 is refused.
    again = client.post(f"/alerts/matching/matches/{m.id}/order")
    assert again.status_code == 409


# --- refusals ------------------------------------------------------------------------------------


def _counts() -> tuple[int, int, int]:
    return tuple(db.session.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                 for t in (Demand, Offer, Match))


@pytest.mark.parametrize("data, field_text", [
    ({"delivery_from": -1, "delivery_to": 5}, "cannot start in the past"),
    ({"delivery_from": 10, "delivery_to": 5}, "end on or after its first day"),
    ({"quantity": "0"}, "from 1 to 1,000,000"),
    ({"quantity": "2000000"}, "from 1 to 1,000,000"),
    ({"quantity": "1.5"}, "quantity"),
    ({"budget": "-5"}, "out of range"),
])
def test_a_bad_demand_form_is_refused_and_changes_nothing(w, login, client, data, field_text):
    login(w.buyer)
    form = {"category_id": w.fruit.id, "quantity": "10", "unit": "箱", "budget": "1000",
            "delivery_from": (today() + timedelta(days=1)).isoformat(),
            "delivery_to": (today() + timedelta(days=9)).isoformat(), "wished_region_id": "0", "note": ""}
    for key in ("delivery_from", "delivery_to"):
        if key in data:
            form[key] = (today() + timedelta(days=data[key])).isoformat()
    form.update({k: v for k, v in data.items() if k not in ("delivery_from", "delivery_to")})
    before = _counts()
    response = client.post("/alerts/matching/demands/new", data=form)
    assert response.status_code == 422
    assert field_text in response.get_data(as_text=True)
    assert _counts() == before


def test_the_demand_form_posts_and_proposes(w, login, client):
    login(w.buyer)
    assert client.get("/alerts/matching/demands/new").status_code == 200
    response = client.post("/alerts/matching/demands/new", data={
        "category_id": w.fruit.id, "quantity": "10", "unit": "箱", "budget": "500",
        "delivery_from": (today() + timedelta(days=1)).isoformat(),
        "delivery_to": (today() + timedelta(days=9)).isoformat(), "wished_region_id": "0", "note": "食堂用"})
    assert response.status_code == 302
    d = db.session.execute(sa.select(Demand).where(Demand.unit_id == w.unit.id)).scalar_one()
    assert d.budget_fen == 50_000 and d.posted_by_id == w.buyer.id
    assert [m.product_id for m in proposed(d)] == [w.plums.id]


def test_someone_elses_match_is_not_found_and_nothing_changes(w, login, client):
    d = demand(w, budget_fen=None)
    m = proposed(d)[0]
    outsider = fp.member(fp.unit(w.chain[RegionLevel.CITY]))
    other_supplier = fs.member(factories.supplier(w.chain[RegionLevel.COUNTY]))
    db.session.commit()
    for user, side in ((outsider, "unit"), (other_supplier, "supplier")):
        login(user)
        response = client.post(f"/alerts/matching/matches/{m.id}/{side}", data={"action": "accept"})
        assert response.status_code == 404
        assert client.post(f"/alerts/matching/matches/{m.id}/order").status_code in (403, 404)
        api = client.post(f"/api/v1/matches/{m.id}/accept", json={})
        assert api.status_code == 404 and api.get_json()["error"]["code"] == "not_found"
        assert reload(m).status == MatchStatus.PROPOSED
    login(outsider)
    assert client.post(f"/alerts/matching/demands/{d.id}/cancel").status_code == 404
    assert reload(d).status == DemandStatus.OPEN
    # The unit cannot order a match that is not agreed yet, nor can an approver order at all.
    login(w.buyer)
    assert client.post(f"/alerts/matching/matches/{m.id}/order").status_code == 409
    services_matching.accept(w.buyer, m.id)
    db.session.commit()
    login(w.approver)
    assert client.post(f"/alerts/matching/matches/{m.id}/order").status_code == 403
    assert reload(m).carted_at is None


def test_answers_follow_the_transition_table(w):
    offer = services_matching.create_offer(w.supplier_user, product_id=w.plums.id, quantity=300,
                                           ready_on=today())
    d = demand(w, category=w.plums_cat, budget_fen=None)
    m = next(m for m in proposed(d) if m.offer_id == offer.id)
    services_matching.accept(w.buyer, m.id)
    assert m.status == MatchStatus.ACCEPTED_BY_UNIT  # an offer needs the supplier too
    with pytest.raises(InvalidTransition):
        services_matching.accept(w.buyer, m.id)
    with pytest.raises(NotFound):
        services_matching.accept(w.buyer, m.id, side="supplier")
    services_matching.accept(w.supplier_user, m.id)
    assert m.status == MatchStatus.ACCEPTED and m.product_id == w.plums.id
    with pytest.raises(InvalidTransition):
        services_matching.decline(w.supplier_user, m.id)
    other = next(x for x in proposed(d) if x.id != m.id)
    services_matching.decline(w.supplier_user if other.supplier_id == w.supplier.id else w.other_supplier_user,
                              other.id, reason="无货")
    assert other.status == MatchStatus.DECLINED


@pytest.mark.parametrize("side, start, expected", [
    ("unit", MatchStatus.PROPOSED, MatchStatus.ACCEPTED_BY_UNIT),
    ("unit", MatchStatus.ACCEPTED_BY_SUPPLIER, MatchStatus.ACCEPTED),
    ("supplier", MatchStatus.PROPOSED, MatchStatus.ACCEPTED_BY_SUPPLIER),
    ("supplier", MatchStatus.ACCEPTED_BY_UNIT, MatchStatus.ACCEPTED),
    ("unit", MatchStatus.ACCEPTED_BY_UNIT, None),
    ("supplier", MatchStatus.ACCEPTED_BY_SUPPLIER, None),
    ("unit", MatchStatus.ACCEPTED, None),
    ("supplier", MatchStatus.DECLINED, None),
    ("unit", MatchStatus.EXPIRED, None),
])
def test_the_transition_table(side, start, expected):
    assert services_matching.TRANSITIONS.get((side, start)) == expected


def test_the_database_keeps_the_invariants(w):
    base = {"unit_id": w.unit.id, "category_id": w.fruit.id, "unit": "箱", "delivery_from": today(),
            "delivery_to": today()}
    for bad in ({"quantity": 0}, {"quantity": 5, "budget_fen": -1},
                {"quantity": 5, "delivery_to": today() - timedelta(days=1)}):
        with db.session.begin_nested(), pytest.raises(sa.exc.IntegrityError):
            db.session.add(Demand(**{**base, **bad}))
            db.session.flush()
    offer = services_matching.create_offer(w.supplier_user, product_id=w.plums.id, quantity=10, ready_on=today())
    d = demand(w, category=w.plums_cat, quantity=5, budget_fen=None)
    with db.session.begin_nested(), pytest.raises(sa.exc.IntegrityError):
        db.session.add(Match(demand_id=d.id, offer_id=offer.id, supplier_id=w.supplier.id, score=1, reasons=[],
                             unit_price_fen=1, order_quantity=1))
        db.session.flush()


def test_cancelling_a_demand_expires_its_pending_matches(w):
    d = demand(w, budget_fen=None)
    assert proposed(d)
    services_matching.cancel_demand(w.buyer, d.id)
    db.session.expire_all()
    assert proposed(d) == []
    assert {m.status for m in db.session.execute(sa.select(Match).where(Match.demand_id == d.id)).scalars()} == {
        MatchStatus.EXPIRED}


# --- the API -------------------------------------------------------------------------------------


def test_the_api_posts_lists_and_answers(w, login, client):
    login(w.buyer)
    bad = client.post("/api/v1/demands", json={
        "category_id": w.fruit.id, "quantity": 10, "unit": "箱",
        "delivery_from": (today() - timedelta(days=1)).isoformat(),
        "delivery_to": (today() + timedelta(days=9)).isoformat()})
    assert bad.status_code == 422 and bad.get_json()["error"]["details"]["field"] == "delivery_from"
    impossible = client.post("/api/v1/demands", json={
        "category_id": w.fruit.id, "quantity": 0, "unit": "箱",
        "delivery_from": today().isoformat(), "delivery_to": today().isoformat()})
    assert impossible.status_code == 422
    assert db.session.execute(sa.select(sa.func.count()).select_from(Demand)).scalar_one() == 0
    created = client.post("/api/v1/demands", json={
        "category_id": w.fruit.id, "quantity": 10, "unit": "箱", "budget_fen": 50_000,
        "delivery_from": today().isoformat(), "delivery_to": (today() + timedelta(days=9)).isoformat()})
    assert created.status_code == 201
    demand_id = created.get_json()["id"]
    assert client.get(f"/api/v1/demands/{demand_id}").get_json()["quantity"] == 10
    assert client.get("/api/v1/demands").get_json()["total"] == 1
    matches = client.get(f"/api/v1/matches?demand_id={demand_id}").get_json()
    assert matches["total"] == 1 and matches["items"][0]["product_id"] == w.plums.id
    match_id = matches["items"][0]["id"]

    login(w.supplier_user)
    assert client.get(f"/api/v1/demands/{demand_id}").status_code == 404
    assert client.get("/api/v1/matches").get_json()["total"] == 1
    offer = client.post("/api/v1/offers", json={"product_id": w.plums.id, "quantity": 50,
                                                "ready_on": today().isoformat(), "price_fen": 100})
    assert offer.status_code == 422 and "listed price" in offer.get_json()["error"]["message"]
    offer = client.post("/api/v1/offers", json={"product_id": w.plums.id, "quantity": 50,
                                                "ready_on": today().isoformat()})
    assert offer.status_code == 201 and offer.get_json()["price_fen"] == 3990
    assert client.get(f"/api/v1/offers/{offer.get_json()['id']}").status_code == 200
    assert client.get("/api/v1/offers").get_json()["total"] == 1
    # The direct proposal on the plums gave way to the offer's.
    assert reload(db.session.get(Match, match_id)).status == MatchStatus.EXPIRED
    via_offer = client.get(f"/api/v1/matches?offer_id={offer.get_json()['id']}").get_json()["items"]
    assert len(via_offer) == 1
    answer = client.post(f"/api/v1/matches/{via_offer[0]['id']}/decline", json={"reason": "档期已满"})
    assert answer.status_code == 200 and answer.get_json()["status"] == "declined"
    again = client.post(f"/api/v1/matches/{via_offer[0]['id']}/accept", json={})
    assert again.status_code == 409

    login(w.buyer)
    assert client.get(f"/api/v1/offers/{offer.get_json()['id']}").status_code == 404
    assert client.post("/api/v1/offers", json={"quantity": 1, "ready_on": today().isoformat()}).status_code == 403


def test_the_administrator_sees_the_region(w, login, client):
    demand(w, budget_fen=None)
    admin = fs.admin(w.chain[RegionLevel.PROVINCE])
    stranger = fs.admin(factories.region_chain()[RegionLevel.PROVINCE])
    db.session.commit()
    login(admin)
    page = client.get("/alerts/matching/")
    assert page.status_code == 200 and w.unit.name in page.get_data(as_text=True)
    assert client.get("/api/v1/matches").get_json()["total"] == 2
    login(stranger)
    assert w.unit.name not in client.get("/alerts/matching/").get_data(as_text=True)
    assert client.get("/api/v1/demands").get_json()["total"] == 0


# --- the demo ------------------------------------------------------------------------------------


def test_the_demo_shows_proposed_matches_both_ways_and_seeds_once(app, db_session):
    import random

    from core.accounts.models import User
    from core.demo import SeedContext, run_seeders
    from core.demo_core import CORE_SEEDER
    from procurement.demo import BUYER_UNIT
    from procurement.models import BuyerUnit
    from shop.demo import SUPPLIER_EMAIL
    from shop.models import SupplierMember

    def seed():
        run_seeders([CORE_SEEDER, *app.extensions["demo_seeders"]],
                    SeedContext(rng=random.Random(20260701), password="demo-password"))

    seed()
    unit = db.session.execute(sa.select(BuyerUnit).where(BuyerUnit.name == BUYER_UNIT)).scalar_one()
    demands = db.session.execute(sa.select(Demand).where(Demand.unit_id == unit.id)).scalars().all()
    assert len(demands) == 3
    found = services_matching.matches_for_demands([d.id for d in demands])
    assert sum(len(v) for v in found.values()) >= 2
    supplier_id = db.session.execute(sa.select(SupplierMember.supplier_id).join(
        User, User.id == SupplierMember.user_id).where(
        User.email == SUPPLIER_EMAIL)).scalar_one()
    offer = db.session.execute(sa.select(Offer).where(Offer.supplier_id == supplier_id)).scalar_one()
    assert any(m.offer_id == offer.id for v in found.values() for m in v)
    counts = _counts()
    seed()
    assert _counts() == counts


def test_a_proposal_expires_when_the_product_sells_out_and_returns_when_restocked(w):
    d = demand(w, category=w.plums_cat, quantity=60, budget_fen=None)  # only the plums (100) have 60
    (m,) = proposed(d)
    w.plums.stock = 10
    db.session.flush()
    assert matching.run(today(), notify=False).expired == 1
    assert reload(m).status == MatchStatus.EXPIRED and proposed(d) == []
    w.plums.stock = 100
    db.session.flush()
    assert matching.run(today(), notify=False).proposed == 1
    m = reload(m)
    assert m.status == MatchStatus.PROPOSED and 0 <= m.score <= 100


def test_an_order_submitted_through_the_api_is_linked_to_its_match_at_once(w, login, client):
    d = demand(w, quantity=12, budget_fen=60_000)
    (m,) = proposed(d)
    db.session.commit()
    login(w.buyer)
    client.post(f"/alerts/matching/matches/{m.id}/unit", data={"action": "accept"})
    assert client.post(f"/alerts/matching/matches/{m.id}/order").status_code == 302
    created = client.post("/api/v1/procurement-orders", json={
        "items": [{"product_id": w.plums.id, "quantity": 12}], "address_id": w.address.id,
        "wanted_on": (today() + timedelta(days=5)).isoformat(), "channel": "canteen",
        "payment_terms": "deliver_first", "idempotency_key": "match-order-api"})
    assert created.status_code == 201, created.get_json()
    # Linked when the order was submitted, before anyone opens a matchmaking page.
    assert reload(m).procurement_order_id == created.get_json()["id"]
