"""Recommended buyer units for a warning: the ranking, the outreach the job records, the unit's one-click
order and "not for us", the administrators' view, the conversion report and the API."""

from __future__ import annotations

import random
from datetime import timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from alerts import job, outreach, recommend
from alerts.models import Notification, Warning, WarningCause, WarningLevel
from alerts.models_outreach import Outreach, OutreachAnswer
from core.audit import AuditEntry
from core.database import utcnow
from core.extensions import db
from core.registry.models import RegionLevel
from procurement.models import UnitRole, UnitStatus
from procurement.models_orders import ProcurementStatus
from tests import factories
from tests.alerts import factories_outreach as fo
from tests.alerts.conftest import TODAY, AlertWorld
from tests.alerts.factories_alerts import lot
from tests.procurement import factories_procurement as fp
from tests.shop import factories_shop

YEAR = TODAY.year


def _ids(recs) -> list[int]:
    return [r.unit_id for r in recs]


def _open_warning(world, **kw) -> Warning:
    p = world.product(price_fen=10_000, **kw)
    lot(p, 200, TODAY + timedelta(days=12))
    job.run(TODAY)
    return db.session.execute(sa.select(Warning).where(Warning.product_id == p.id,
                                                       Warning.cause == WarningCause.SPOILAGE)).scalar_one()


def _outreach_of(warning_id: int) -> list[Outreach]:
    return list(db.session.execute(sa.select(Outreach).where(Outreach.warning_id == warning_id)
                                   .order_by(Outreach.rank)).scalars())


# --- the ranking ------------------------------------------------------------------------------


def test_the_ranking_follows_the_documented_order_each_criterion_deciding_one_tie(world):
    chain = world.shop.chain
    county, city, province = world.county, chain[RegionLevel.CITY], world.shop.province
    far = factories.region_chain()  # another province
    same_city_county = fo.region_under(city, RegionLevel.COUNTY)
    other_city = fo.region_under(province, RegionLevel.CITY)
    p = world.product(price_fen=1000)
    same_category = world.product(price_fen=2_000, name="同类山货")
    factories_shop.add_lot(same_category, 50)

    # 1. An assistance relation with the product's county wins over everything else.
    assisted = fo.unit(far[RegionLevel.CITY])
    fo.relation(assisted, county, start_year=YEAR - 1, end_year=YEAR)
    # 2. Then room left in the plan (plan − counted), most first: 250,000 beats 500,000 − 300,000.
    roomy = fo.unit(far[RegionLevel.CITY])
    fo.plan(roomy, YEAR, 250_000)
    big_plan = fo.unit(far[RegionLevel.CITY])
    fo.plan(big_plan, YEAR, 500_000)
    fo.counted(big_plan, YEAR, 300_000, same_category)
    # 3. Equal room (100,000): past purchases in the category decide, before distance.
    bought = fo.unit(far[RegionLevel.CITY])
    fo.plan(bought, YEAR, 100_000)
    fo.procurement_order(bought, {same_category: 5})
    near = fo.unit(far[RegionLevel.CITY])
    fo.plan(near, YEAR, 100_000)
    fp.address(near, far[RegionLevel.COUNTY])
    fp.address(near, county)  # the nearest active address counts: same county
    # A plan already met still ranks before every unit without a plan.
    met = fo.unit(province)
    fo.plan(met, YEAR, 50_000)
    fo.counted(met, YEAR, 60_000, same_category)
    # 4. No plan, nothing bought: distance decides (the unit's region when it has no address).
    in_city = fo.unit(same_city_county)
    in_province = fo.unit(other_city)
    retired = fp.address(in_province, county)
    retired.active = False  # a retired address does not count

    # Not recommended: inactive units, units without anyone to tell, nothing speaking for a unit.
    for status in (UnitStatus.SUSPENDED, UnitStatus.PENDING, UnitStatus.REJECTED):
        fo.relation(fo.unit(county, status=status), county)
    fo.relation(fo.unit(county, members=False), county)
    fo.relation(fo.unit(far[RegionLevel.CITY]), county, start_year=2019, end_year=YEAR - 1)  # ended
    fo.relation(fo.unit(far[RegionLevel.CITY]), county, start_year=YEAR + 1)  # not yet
    fo.unit(far[RegionLevel.CITY])
    db.session.flush()

    recs = recommend.recommend(p.id, top=20, year=YEAR)
    assert _ids(recs) == [u.id for u in (assisted, roomy, big_plan, bought, near, met, in_city, in_province)]
    assert [r.rank for r in recs] == list(range(1, 9))
    by_unit = {r.unit_id: r for r in recs}
    assert by_unit[big_plan.id].room_fen == 200_000 and by_unit[big_plan.id].counted_fen == 300_000
    assert by_unit[met.id].room_fen == -10_000
    assert by_unit[bought.id].purchases_fen == 5 * 2_000 and by_unit[near.id].purchases_fen == 0
    assert [by_unit[u.id].distance for u in (near, in_city, in_province, met, assisted)] == [
        recommend.SAME_COUNTY, recommend.SAME_CITY, recommend.SAME_PROVINCE, recommend.SAME_PROVINCE,
        recommend.ELSEWHERE]
    assert by_unit[assisted.id].plan_fen is None
    # The top N only, and reasons a person can read.
    assert _ids(recommend.recommend(p.id, top=3, year=YEAR)) == [assisted.id, roomy.id, big_plan.id]
    words = recommend.reasons(recs[0].figures(YEAR))
    assert words[0].startswith(f"Assists {county.name} this year") and "No plan for 2026" in words
    assert "¥2,500.00 left in this year's plan" in recommend.reasons(recs[1].figures(YEAR))
    assert "This year's plan is already met" in recommend.reasons(by_unit[met.id].figures(YEAR))


def test_units_without_a_plan_rank_after_units_with_room_whatever_else(world):
    far = factories.region_chain()
    with_room = fo.unit(far[RegionLevel.CITY])
    fo.plan(with_room, YEAR, 10_000)
    next_door = fo.unit(world.county)  # same county, but no plan
    p = world.product()
    assert _ids(recommend.recommend(p.id, top=5, year=YEAR)) == [with_room.id, next_door.id]
    # The plan of another year does not count.
    fo.plan(next_door, YEAR - 1, 90_000_000)
    assert _ids(recommend.recommend(p.id, top=5, year=YEAR)) == [with_room.id, next_door.id]


def test_inactive_units_are_never_recommended(world):
    p = world.product()
    suspended = fo.unit(world.county)
    fo.relation(suspended, world.county)
    fo.plan(suspended, YEAR, 1_000_000)
    assert recommend.recommend(p.id, top=5, year=YEAR) != []  # active: recommended
    suspended.status = UnitStatus.SUSPENDED
    db.session.flush()
    assert recommend.recommend(p.id, top=5, year=YEAR) == []


def test_the_ranking_is_one_statement_for_any_number_of_products_and_units(world):
    products = [world.product() for _ in range(3)]
    for _ in range(6):
        u = fo.unit(world.county)
        fo.plan(u, YEAR, random.Random(u.id).randint(1, 9) * 10_000)
    statements = []

    def count(*_args):
        statements.append(1)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        ranked = recommend.recommend_many([p.id for p in products], top=4, year=YEAR)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) == 1
    assert all(len(recs) == 4 for recs in ranked.values())


def test_the_shortlist_of_roomy_units_gives_the_same_top_as_ranking_every_unit(world):
    """With more units with room left than the top, the statement ranks a shortlist (recommend's
    docstring): the top it returns is the top over all units, ranks included."""
    chain = world.shop.chain
    far = factories.region_chain()
    other_county = fo.region_under(chain[RegionLevel.CITY], RegionLevel.COUNTY)
    other_village = fo.region_under(fo.region_under(other_county, RegionLevel.TOWNSHIP), RegionLevel.VILLAGE)
    near = world.product(price_fen=1000)  # assisted by one unit
    remote = factories_shop.product(world.supplier, world.category, far[RegionLevel.VILLAGE], name="远方山货")
    lonely = factories_shop.product(world.supplier, world.category, other_village, name="无人帮扶")
    units = []
    for i, room in enumerate((90_000, 80_000, 80_000, 70_000, 60_000, 40_000, 10_000, 10_000)):
        u = fo.unit(world.county if i % 3 == 0 else far[RegionLevel.CITY])
        fo.plan(u, YEAR, room)
        units.append(u)
    fo.relation(units[6], world.county)
    fo.relation(units[7], far[RegionLevel.COUNTY])
    fo.relation(fo.unit(far[RegionLevel.CITY]), far[RegionLevel.COUNTY])  # assisting, without a plan
    met = fo.unit(world.county)
    fo.plan(met, YEAR, 5_000)
    fo.counted(met, YEAR, 6_000, near)
    factories_shop.add_lot(near, 50)
    fo.procurement_order(units[4], {near: 3})  # purchases in the category
    fo.unit(world.county)  # no plan, same county
    db.session.flush()

    ids = [near.id, remote.id, lonely.id]
    everyone = recommend.recommend_many(ids, top=100, year=YEAR)  # fewer than 100 units with room: all ranked
    assert [len(everyone[pid]) for pid in ids] == [10, 9, 10]
    for top in range(1, 7):
        assert recommend.recommend_many(ids, top=top, year=YEAR) == {pid: recs[:top] for pid, recs in
                                                                     everyone.items()}


def test_the_suggested_quantity_is_the_stock_at_risk_within_the_plan_s_room_and_the_minimum_order():
    def product(stock=500, min_order_qty=1):
        return SimpleNamespace(price_fen=1_000, stock=stock, min_order_qty=min_order_qty)

    at_risk = SimpleNamespace(amount_at_risk_fen=100_000)  # 100 units at ¥10
    assert outreach.suggested_quantity(at_risk, product(), None) == 100
    assert outreach.suggested_quantity(at_risk, product(), 30_500) == 30  # the room buys 30
    assert outreach.suggested_quantity(at_risk, product(), -5) == 100  # a met plan does not cap it
    assert outreach.suggested_quantity(at_risk, product(stock=20), None) == 20
    assert outreach.suggested_quantity(at_risk, product(min_order_qty=50), 30_000) == 50
    assert outreach.suggested_quantity(SimpleNamespace(amount_at_risk_fen=0), product(stock=7), None) == 7


# --- the job's outreach -----------------------------------------------------------------------


def test_the_job_tells_the_top_units_admins_and_buyers_once(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "ALERTS_RECOMMEND_TOP", 2)
    city = world.shop.chain[RegionLevel.CITY]
    first, second, third = (fo.unit(city) for _ in range(3))
    approver = fp.member(first, UnitRole.APPROVER)
    w = _open_warning(world)
    rows = _outreach_of(w.id)
    assert [(o.unit_id, o.rank, o.level) for o in rows] == [(first.id, 1, w.level), (second.id, 2, w.level)]
    told = set(rows[0].told_user_ids)
    assert len(told) == 2 and approver.id not in told
    notes = db.session.execute(sa.select(Notification).where(Notification.user_id.in_(told))).scalars().all()
    assert len(notes) == 2 and all(n.link == f"/alerts/outreach#outreach-{rows[0].id}" for n in notes)
    assert "Help wanted" in notes[0].text and world.county.name in notes[0].text
    # Reruns and later runs of the same open warning tell no one again.
    job.run(TODAY)
    job.run(TODAY + timedelta(days=1))
    assert len(_outreach_of(w.id)) == 2
    assert db.session.execute(sa.select(sa.func.count()).select_from(Notification).where(
        Notification.user_id.in_(told))).scalar_one() == 2
    assert third.id not in {o.unit_id for o in _outreach_of(w.id)}


def test_a_rise_tells_only_new_units_and_records_the_rise_for_the_others(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "ALERTS_RECOMMEND_TOP", 2)
    city = world.shop.chain[RegionLevel.CITY]
    first, second = fo.unit(city), fo.unit(city)
    w = _open_warning(world)
    before = {o.unit_id: o.notified_at for o in _outreach_of(w.id)}
    closer = fo.unit(world.county)  # same county: now ranks first
    fo.plan(closer, YEAR, 100_000)
    outreach.reach_out([(w.id, w.product_id, WarningLevel.RED)], year=YEAR)
    rows = {o.unit_id: o for o in _outreach_of(w.id)}
    assert set(rows) == {first.id, second.id, closer.id}
    assert rows[closer.id].rank == 1 and rows[closer.id].raised_at is None
    for unit in (first, second):
        db.session.refresh(rows[unit.id])
        assert rows[unit.id].level == WarningLevel.RED and rows[unit.id].raised_at is not None
        assert rows[unit.id].notified_at == before[unit.id]
    per_user = dict(db.session.execute(sa.select(Notification.user_id, sa.func.count()).where(
        Notification.warning_id == w.id).group_by(Notification.user_id)).all())
    for o in rows.values():
        assert all(per_user[uid] == 1 for uid in o.told_user_ids)


def test_no_one_is_told_with_the_setting_at_zero(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "ALERTS_RECOMMEND_TOP", 0)
    fo.unit(world.county)
    w = _open_warning(world)
    assert _outreach_of(w.id) == []


def _one_click(client, outreach_id: int, form: dict):
    """Press "Order now" as a browser does: the 307 answer is followed with the same method and body
    (Werkzeug's test client does not resend a body it has already read)."""
    first = client.post(f"/alerts/outreach/{outreach_id}/order", data=form)
    assert first.status_code == 307, first.status_code
    assert first.headers["Location"].endswith("/procurement/orders/cart/add")
    return client.post(first.headers["Location"], data=form, follow_redirects=True)


# --- the unit's side --------------------------------------------------------------------------


@pytest.fixture()
def asked(app, world, monkeypatch):
    """An open warning and a unit of the product's city told about it, with its buyer."""
    monkeypatch.setitem(app.config, "ALERTS_RECOMMEND_TOP", 5)
    unit = fo.unit(world.shop.chain[RegionLevel.CITY])
    fp.address(unit, world.county)
    w = _open_warning(world, min_order_qty=3)
    return SimpleNamespace(unit=unit, buyer=fo.buyer_of(unit), warning=w, outreach=_outreach_of(w.id)[0],
                           product=w.product)


def test_one_click_puts_the_product_in_the_procurement_cart(client, login, asked):
    login(asked.buyer)
    page = client.get("/alerts/outreach")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and asked.product.name in html and "Order now" in html
    suggested = outreach.suggested_quantity(asked.warning, asked.product, None)
    assert f'value="{suggested}"' in html and "Delivers within the product" in html
    o = db.session.get(Outreach, asked.outreach.id, populate_existing=True)
    assert o.seen_at is not None and o.seen_by_id == asked.buyer.id
    bad = client.post(f"/alerts/outreach/{o.id}/order", data={"product_id": str(asked.product.id),
                                                              "quantity": "0", "next": "/procurement/orders/cart"})
    assert bad.status_code == 302 and "/alerts/outreach" in bad.headers["Location"]
    assert db.session.get(Outreach, o.id, populate_existing=True).answer is None  # nothing recorded
    form = {"product_id": str(asked.product.id), "quantity": "7", "next": "/procurement/orders/cart"}
    done = _one_click(client, o.id, form)
    assert done.status_code == 200 and done.request.path == "/procurement/orders/cart"
    with client.session_transaction() as sess:
        assert sess["procurement_cart"] == {str(asked.product.id): 7}
    o = db.session.get(Outreach, o.id, populate_existing=True)
    assert o.answer == OutreachAnswer.ORDERING and o.answered_by_id == asked.buyer.id


def test_not_for_us_is_recorded_and_audited(client, login, asked):
    login(asked.buyer)
    response = client.post(f"/alerts/outreach/{asked.outreach.id}/decline", data={"note": "食堂本月已订满"})
    assert response.status_code == 302
    o = db.session.get(Outreach, asked.outreach.id, populate_existing=True)
    assert o.answer == OutreachAnswer.DECLINED and o.answer_note == "食堂本月已订满"
    assert db.session.execute(sa.select(AuditEntry).where(AuditEntry.action == "alerts.outreach_declined",
                                                          AuditEntry.target_id == str(o.id))).first()
    too_long = client.post(f"/api/v1/outreach/{o.id}/decline", json={"note": "长" * 501})
    assert too_long.status_code == 422


def test_another_unit_s_outreach_is_not_visible(client, login, asked, world):
    stranger = fo.unit(world.shop.chain[RegionLevel.CITY])
    login(fo.buyer_of(stranger))
    form = {"product_id": str(asked.product.id), "quantity": "3", "next": "/procurement/orders/cart"}
    assert client.post(f"/alerts/outreach/{asked.outreach.id}/order", data=form).status_code == 404
    assert client.post(f"/alerts/outreach/{asked.outreach.id}/decline").status_code == 404
    assert client.post(f"/api/v1/outreach/{asked.outreach.id}/decline", json={}).status_code == 404
    assert asked.product.name not in client.get("/alerts/outreach").get_data(as_text=True)
    assert all(i["id"] != asked.outreach.id for i in client.get("/api/v1/outreach").get_json()["items"])
    # The unit's approver sees it but does not answer for the unit.
    login(fp.member(asked.unit, UnitRole.APPROVER))
    assert asked.product.name in client.get("/alerts/outreach").get_data(as_text=True)
    assert client.post(f"/api/v1/outreach/{asked.outreach.id}/decline", json={}).status_code == 403
    assert db.session.get(Outreach, asked.outreach.id, populate_existing=True).answer is None


def test_the_warning_page_shows_units_told_answers_and_following_orders(client, login, asked, world):
    factories_shop.add_lot(asked.product, 20)
    order = fo.procurement_order(asked.unit, {asked.product: 4})
    outreach.answer(asked.buyer, db.session.get(Outreach, asked.outreach.id), OutreachAnswer.ORDERING)
    login(world.admin)
    html = client.get(f"/alerts/{asked.warning.id}").get_data(as_text=True)
    assert "Recommended buyer units" in html and asked.unit.name in html
    assert asked.buyer.display_name in html and "Putting an order together" in html
    assert order.order.number in html
    # The supplier sees the warning, not who was asked.
    login(world.owner)
    assert asked.unit.name not in client.get(f"/alerts/{asked.warning.id}").get_data(as_text=True)


def test_the_api_shapes(client, login, asked, world):
    login(world.admin)
    body = client.get(f"/api/v1/warnings/{asked.warning.id}/recommendations").get_json()
    assert set(body) == {"warning_id", "product_id", "ranking", "outreach"}
    assert body["ranking"][0]["unit_id"] == asked.unit.id and body["ranking"][0]["rank"] == 1
    assert set(body["ranking"][0]) == {"rank", "unit_id", "unit_name", "figures", "reasons"}
    assert body["ranking"][0]["figures"]["distance"] == "same_county"  # its address
    told = body["outreach"][0]
    assert told["unit_id"] == asked.unit.id and told["told_user_count"] == 2 and told["orders"] == []
    assert client.get("/api/v1/warnings/1000000/recommendations").status_code == 404
    assert client.get("/api/v1/warnings/conversion?since=2026-13-01").status_code == 422
    login(asked.buyer)
    mine = client.get("/api/v1/outreach").get_json()
    item = mine["items"][0]
    assert mine["unit_id"] == asked.unit.id and item["product_id"] == asked.product.id
    assert item["orderable"] is True and item["suggested_quantity"] >= 3 and item["reasons"]
    assert client.get(f"/api/v1/warnings/{asked.warning.id}/recommendations").status_code == 403
    spec = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/api/v1/warnings/{warning_id}/recommendations", "/api/v1/outreach",
                 "/api/v1/outreach/{outreach_id}/decline", "/api/v1/warnings/conversion"):
        assert path in spec


# --- conversion -------------------------------------------------------------------------------


def test_the_conversion_report_on_a_hand_computed_fixture(client, login, world):
    now = utcnow()
    city = world.shop.chain[RegionLevel.CITY]
    a = fo.unit(city)
    p1, p2, p3, p4 = (world.product(price_fen=1_000) for _ in range(4))
    for p in (p1, p2, p4):
        factories_shop.add_lot(p, 50)
    # W1 (red): told, an order 24 h after opening, resolved after 48 h → converted.
    w1 = fo.warning(p1, opened_at=now - timedelta(days=3), resolved_at=now - timedelta(days=1))
    o1 = fo.outreach(w1, a, notified_at=now - timedelta(days=3) + timedelta(hours=1))
    outreach.answer(fo.buyer_of(a), o1, OutreachAnswer.ORDERING)
    fo.procurement_order(a, {p1: 2}, submitted_at=now - timedelta(days=2))
    # W2 (red): told, but the unit's only orders came before it was told, or were rejected → not converted.
    w2 = fo.warning(p2, opened_at=now - timedelta(days=5))
    fo.outreach(w2, a, notified_at=now - timedelta(days=5) + timedelta(hours=1))
    fo.procurement_order(a, {p2: 1}, submitted_at=now - timedelta(days=6))
    rejected = fo.procurement_order(a, {p2: 1}, submitted_at=now - timedelta(days=4))
    rejected.status, rejected.decision_comment = ProcurementStatus.REJECTED, "超出预算"
    # W3 (yellow): no unit told, resolved after 12 h.
    fo.warning(p3, level=WarningLevel.YELLOW, opened_at=now - timedelta(days=4),
               resolved_at=now - timedelta(days=4) + timedelta(hours=12))
    # Outside the period, and outside the regional administrator's region.
    w4 = fo.warning(p4, opened_at=now - timedelta(days=200))
    fo.outreach(w4, a, notified_at=now - timedelta(days=200))
    fo.procurement_order(a, {p4: 1}, submitted_at=now - timedelta(days=199))
    elsewhere = AlertWorld(shop=factories_shop.world(), admin=None)
    fo.warning(elsewhere.product(), opened_at=now - timedelta(days=1))
    db.session.flush()

    login(world.admin)
    body = client.get("/api/v1/warnings/conversion").get_json()
    red = next(r for r in body["levels"] if r["level"] == "red")
    assert red == {"level": "red", "opened": 2, "recommended": 2, "units_told": 2, "units_answered": 1,
                   "converted": 1, "conversion_percent": 50.0, "orders": 1, "resolved": 1,
                   "median_hours_to_resolution": 48.0, "median_hours_to_first_order": 24.0}
    yellow = next(r for r in body["levels"] if r["level"] == "yellow")
    assert (yellow["opened"], yellow["converted"], yellow["conversion_percent"], yellow["resolved"],
            yellow["median_hours_to_resolution"], yellow["median_hours_to_first_order"]) == (1, 0, 0.0, 1, 12.0, None)
    blue = next(r for r in body["levels"] if r["level"] == "blue")
    assert blue["opened"] == 0 and blue["conversion_percent"] is None
    total = body["total"]
    assert (total["level"], total["opened"], total["converted"], total["conversion_percent"], total["resolved"],
            total["median_hours_to_resolution"]) == (None, 3, 1, 33.3, 2, 30.0)
    page = client.get("/alerts/conversion")
    assert page.status_code == 200 and "33.3%" in page.get_data(as_text=True)
    assert client.get("/alerts/conversion?since=yesterday").status_code == 422
    # A platform administrator sees the other region's warning too; a longer period brings in W4.
    login(fp.admin())
    assert client.get("/api/v1/warnings/conversion").get_json()["total"]["opened"] == 4
    since = (now - timedelta(days=365)).date().isoformat()
    assert client.get(f"/api/v1/warnings/conversion?since={since}").get_json()["total"]["converted"] == 2


# --- the demo ---------------------------------------------------------------------------------


def test_the_demo_buyer_is_asked_for_help_and_orders_in_one_step(app, client, login, db_session, monkeypatch):
    from core.accounts.models import User
    from core.demo import SeedContext, run_seeders
    from core.demo_core import CORE_SEEDER
    from procurement.demo import BUYER_EMAIL
    from tests.factories import PASSWORD_HASH

    monkeypatch.setattr("core.accounts.models.generate_password_hash", lambda password: PASSWORD_HASH)
    run_seeders([CORE_SEEDER, *app.extensions["demo_seeders"]],
                SeedContext(rng=random.Random(20260701), password="demo-password"))
    job.run()
    buyer = db.session.execute(sa.select(User).where(User.email == BUYER_EMAIL)).scalar_one()
    assert db.session.execute(sa.select(Notification).where(Notification.user_id == buyer.id,
                                                            Notification.link.startswith("/alerts/outreach"))).first()
    login(buyer)
    item = next(i for i in client.get("/api/v1/outreach").get_json()["items"] if i["orderable"])
    form = {"product_id": str(item["product_id"]), "quantity": str(item["suggested_quantity"]),
            "next": "/procurement/orders/cart"}
    done = _one_click(client, item["id"], form)
    assert done.request.path == "/procurement/orders/cart" and "机关食堂" in done.get_data(as_text=True)
    with client.session_transaction() as sess:
        assert sess["procurement_cart"] == {str(item["product_id"]): item["suggested_quantity"]}
