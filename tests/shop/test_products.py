"""Products: who may list, bad input, stock held in lots, and the review state machine."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.audit import AuditEntry
from core.errors import Forbidden, InvalidTransition, NotFound, ValidationFailed
from core.extensions import db
from core.registry import services as registry
from core.registry.models import RegionLevel
from shop import signals
from shop.models import Certification, Product, ProductLot, ProductStatus, SupplierStatus
from shop.services import products, review
from shop.services.common import local_today
from tests import factories
from tests.shop import factories_shop as fs

P = ProductStatus


def _form(w, **overrides) -> dict:
    data = {"name": "巫山脆李 5斤装", "category_id": str(w.category.id), "sales_unit": "箱", "specification": "5斤/箱",
            "price": "39.90", "min_order_qty": "1", "shelf_life_days": "15", "harvest_months": ["7", "8"],
            "origin_village_id": str(w.village.id), "description": "曲尺乡脆李", "certifications": ["geo_indication"],
            "cert_geo_indication": "AGI02345"}
    data.update(overrides)
    return data


def _input(w, **overrides) -> products.ProductInput:
    values = {"name": "奉节脐橙", "category_id": w.category.id, "sales_unit": "kg", "price_fen": 1200,
              "shelf_life_days": 30, "origin_village_id": w.village.id}
    values.update(overrides)
    return products.ProductInput(**values)


def _count_products() -> int:
    return db.session.execute(sa.select(sa.func.count(Product.id))).scalar_one()


@pytest.fixture()
def announced():
    """Collect the shop's product signals sent during the test."""
    seen: list[tuple[str, int]] = []

    def receiver(name):
        return lambda sender, product_id, **kw: seen.append((name, product_id))

    handlers = {name: receiver(name) for name in ("changed", "listed", "delisted")}
    signals.product_changed.connect(handlers["changed"])
    signals.product_listed.connect(handlers["listed"])
    signals.product_delisted.connect(handlers["delisted"])
    yield seen
    signals.product_changed.disconnect(handlers["changed"])
    signals.product_listed.disconnect(handlers["listed"])
    signals.product_delisted.disconnect(handlers["delisted"])


def test_member_of_an_accredited_supplier_creates_a_draft(client, login, db_session, announced):
    w = fs.world()
    login(w.owner)
    db.session.commit()
    response = client.post("/shop/workspace/products/new", data=_form(w))
    assert response.status_code == 302
    product = db.session.execute(sa.select(Product).where(Product.supplier_id == w.supplier.id)).scalar_one()
    assert product.status == P.DRAFT
    assert product.price_fen == 3990
    assert product.harvest_months == (1 << 6) | (1 << 7)
    assert product.origin_county_id == w.county.id
    assert [(c.kind, c.certificate_number) for c in product.certifications] == [
        (Certification.GEOGRAPHICAL_INDICATION, "AGI02345")]
    assert announced == [("changed", product.id)]
    page = client.get(f"/shop/workspace/products/{product.id}").get_data(as_text=True)
    assert 'value="39.90"' in page


@pytest.mark.parametrize("status", [SupplierStatus.PENDING, SupplierStatus.SUSPENDED, SupplierStatus.REJECTED])
def test_only_accredited_suppliers_list_products(client, login, db_session, status):
    w = fs.world(status=status)
    login(w.owner)
    db.session.commit()
    assert client.post("/shop/workspace/products/new", data=_form(w)).status_code == 403
    assert _count_products() == 0
    with pytest.raises(Forbidden):
        products.create_product(w.supplier, w.owner, _input(w))


@pytest.mark.parametrize(("field", "value"), [
    ("price", "0"), ("price", "-5"), ("price", "abc"), ("price", "1.234"),
    ("shelf_life_days", "0"), ("min_order_qty", "0"), ("name", ""), ("harvest_months", ["13"]),
])
def test_bad_product_input_is_refused_with_a_message_and_writes_nothing(client, login, db_session, field, value):
    w = fs.world()
    login(w.owner)
    db.session.commit()
    response = client.post("/shop/workspace/products/new", data=_form(w, **{field: value}))
    assert response.status_code == 422
    assert 'class="error"' in response.get_data(as_text=True)
    assert _count_products() == 0


def test_a_village_outside_the_suppliers_county_is_refused(client, login, db_session):
    w = fs.world()
    elsewhere = factories.region_chain()[RegionLevel.VILLAGE]
    with pytest.raises(ValidationFailed, match="village"):
        products.create_product(w.supplier, w.owner, _input(w, origin_village_id=elsewhere.id))
    with pytest.raises(ValidationFailed):  # a township is not a village
        products.create_product(w.supplier, w.owner, _input(w, origin_village_id=w.chain[RegionLevel.TOWNSHIP].id))
    login(w.owner)
    db.session.commit()
    assert client.post("/shop/workspace/products/new",
                       data=_form(w, origin_village_id=str(elsewhere.id))).status_code == 422
    assert _count_products() == 0


def test_a_village_anywhere_under_the_county_is_accepted(db_session):
    w = fs.world()
    township = registry.create_region(code=f"{w.county.code}002", name="建坪乡", level=RegionLevel.TOWNSHIP,
                                      parent=w.county)
    village = registry.create_region(code=f"{w.county.code}002201", name="春晓村", level=RegionLevel.VILLAGE,
                                     parent=township)
    product = products.create_product(w.supplier, w.owner, _input(w, origin_village_id=village.id))
    assert product.origin_village_id == village.id and product.origin_county_id == w.county.id


def test_another_suppliers_product_is_not_found(client, login, db_session):
    w = fs.world()
    theirs = fs.product(w.supplier, w.category, w.village)
    other = fs.world()
    login(other.owner)
    db.session.commit()
    assert client.get(f"/shop/workspace/products/{theirs.id}").status_code == 404
    assert client.post(f"/shop/workspace/products/{theirs.id}", data=_form(other)).status_code == 404
    assert client.post(f"/shop/workspace/products/{theirs.id}/lots", data={"quantity": "5"}).status_code == 404
    with pytest.raises(NotFound):
        products.update_product(theirs, other.owner, _input(w))


def test_a_price_edit_of_a_listed_product_sends_it_back_to_review(client, login, db_session, announced):
    w = fs.world()
    product = fs.product(w.supplier, w.category, w.village, price_fen=3990, name="巫山脆李 5斤装",
                         harvest_months=(1 << 6) | (1 << 7), shelf_life_days=15)
    login(w.owner)
    db.session.commit()
    data = _form(w, price="45.00", certifications=[])
    assert client.post(f"/shop/workspace/products/{product.id}", data=data).status_code == 302
    product = fs.reload(product)
    assert product.status == P.PENDING_REVIEW and product.price_fen == 4500
    assert ("delisted", product.id) in announced
    entry = db.session.execute(sa.select(AuditEntry).where(AuditEntry.action == "product.return_to_review")
                               ).scalar_one()
    assert entry.before == {"status": "listed"} and entry.after == {"status": "pending_review"}


def test_an_origin_edit_of_a_listed_product_sends_it_back_to_review(db_session):
    w = fs.world()
    product = fs.product(w.supplier, w.category, w.village)
    village = registry.create_region(code=f"{w.chain[RegionLevel.TOWNSHIP].code}202", name="权发村",
                                     level=RegionLevel.VILLAGE, parent=w.chain[RegionLevel.TOWNSHIP])
    outcome = products.update_product(product, w.owner, _input(w, name=product.name, price_fen=product.price_fen,
                                                               sales_unit=product.sales_unit,
                                                               shelf_life_days=product.shelf_life_days,
                                                               origin_village_id=village.id))
    assert outcome.returned_to_review and product.status == P.PENDING_REVIEW


def test_other_edits_keep_a_listed_product_on_sale(db_session):
    w = fs.world()
    product = fs.product(w.supplier, w.category, w.village, price_fen=1200, sales_unit="kg", shelf_life_days=30)
    outcome = products.update_product(product, w.owner, _input(w, name="奉节脐橙 新季", description="更甜"))
    assert not outcome.returned_to_review and product.status == P.LISTED


# --- stock lots ------------------------------------------------------------------------------


def _stock_is_sum_of_lots(product: Product) -> bool:
    total = db.session.execute(sa.select(sa.func.coalesce(sa.func.sum(ProductLot.remaining), 0))
                               .where(ProductLot.product_id == product.id)).scalar_one()
    return fs.reload(product).stock == total


def test_lots_keep_stock_equal_to_the_sum_of_remaining(db_session):
    w = fs.world()
    product = fs.product(w.supplier, w.category, w.village, shelf_life_days=20)
    today = local_today()  # the shop's calendar (Asia/Shanghai), as the service judges dates
    first = products.add_lot(product, w.owner, quantity=50, produced_on=today - timedelta(days=3))
    assert first.expires_on == first.produced_on + timedelta(days=20)
    products.add_lot(product, w.owner, quantity=30, produced_on=today, expires_on=today + timedelta(days=5))
    assert product.stock == 80 and _stock_is_sum_of_lots(product)
    products.write_off_lot(first, w.owner, quantity=12, reason="运输挤压")
    assert product.stock == 68 and _stock_is_sum_of_lots(product)
    with pytest.raises(ValidationFailed):
        products.write_off_lot(first, w.owner, quantity=39, reason="超出剩余")
    assert product.stock == 68 and _stock_is_sum_of_lots(product)


@pytest.mark.parametrize(("quantity", "produced", "expires"), [
    (0, 0, None), (-3, 0, None), (5, -1, None), (5, 0, -2), (5, 40, None),
])
def test_bad_lots_are_refused(db_session, quantity, produced, expires):
    w = fs.world()
    product = fs.product(w.supplier, w.category, w.village, shelf_life_days=10)
    today = local_today()  # the shop's calendar (Asia/Shanghai), as the service judges dates
    with pytest.raises(ValidationFailed):
        products.add_lot(product, w.owner, quantity=quantity, produced_on=today - timedelta(days=produced),
                         expires_on=None if expires is None else today + timedelta(days=expires))
    assert product.stock == 0


def test_adding_a_lot_through_the_page(client, login, db_session):
    w = fs.world()
    product = fs.product(w.supplier, w.category, w.village)
    login(w.owner)
    db.session.commit()
    assert client.post(f"/shop/workspace/products/{product.id}/lots", data={"quantity": "25"}).status_code == 302
    assert client.post(f"/shop/workspace/products/{product.id}/lots", data={"quantity": "0"}).status_code == 422
    assert _stock_is_sum_of_lots(product) and fs.reload(product).stock == 25


# --- review ----------------------------------------------------------------------------------

ALL_PAIRS = list(itertools.product(list(P), list(P)))


def _actor_for(w, via: str):
    return w.owner if via in ("submit", "return_to_review") else fs.admin(w.county)


@pytest.mark.parametrize(("start", "target"), ALL_PAIRS, ids=[f"{a.value}->{b.value}" for a, b in ALL_PAIRS])
def test_review_table_allows_exactly_its_moves(db_session, start, target):
    w = fs.world()
    product = fs.product(w.supplier, w.category, w.village, status=start)
    fs.evidence(product, 4000)
    via = review.PRODUCT_TRANSITIONS.get((start, target))
    if via:
        review.transition_product(product, target, _actor_for(w, via), reason="核实")
        assert product.status == target
        entry = db.session.execute(sa.select(AuditEntry).where(AuditEntry.action == f"product.{via}")).scalar_one()
        assert entry.before == {"status": start.value} and entry.after == {"status": target.value}
    else:
        with pytest.raises(InvalidTransition):
            review.transition_product(product, target, fs.admin(w.county), reason="核实")
        assert product.status == start


FUNCTIONS = list(itertools.product(list(review.PRODUCT_ACTIONS), list(P)))


@pytest.mark.parametrize(("via", "start"), FUNCTIONS, ids=[f"{v}-from-{s.value}" for v, s in FUNCTIONS])
def test_each_review_function_starts_only_from_its_own_states(db_session, via, start):
    w = fs.world()
    product = fs.product(w.supplier, w.category, w.village, status=start)
    fs.evidence(product, 4000)
    allowed = [pair for pair, name in review.PRODUCT_TRANSITIONS.items() if name == via and pair[0] == start]
    if allowed:
        review.PRODUCT_ACTIONS[via](product, _actor_for(w, via), "核实")
        assert product.status == allowed[0][1]
    else:
        with pytest.raises(InvalidTransition):
            review.PRODUCT_ACTIONS[via](product, _actor_for(w, via), "核实")


def test_submitting_needs_price_evidence(db_session):
    w = fs.world()
    product = fs.product(w.supplier, w.category, w.village, status=P.DRAFT)
    with pytest.raises(ValidationFailed, match="evidence"):
        review.submit_product(product, w.owner)
    assert product.status == P.DRAFT


def test_rejecting_needs_a_reason_and_approval_needs_an_accredited_supplier(db_session):
    w = fs.world()
    product = fs.product(w.supplier, w.category, w.village, status=P.PENDING_REVIEW)
    with pytest.raises(ValidationFailed):
        review.reject_product(product, fs.admin(), "")
    w.supplier.status = SupplierStatus.SUSPENDED
    with pytest.raises(InvalidTransition):
        review.approve_product(product, fs.admin())
    assert product.status == P.PENDING_REVIEW


def test_the_supplier_can_take_its_own_product_off_sale(db_session):
    w = fs.world()
    product = fs.product(w.supplier, w.category, w.village)
    review.delist_product(product, w.owner, None)
    assert product.status == P.DELISTED
    other = fs.world()
    again = fs.product(w.supplier, w.category, w.village)
    with pytest.raises(Forbidden):
        review.delist_product(again, other.owner, "不是我的")


def test_review_by_an_admin_of_another_region_is_forbidden(client, login, db_session):
    w = fs.world()
    product = fs.product(w.supplier, w.category, w.village, status=P.PENDING_REVIEW)
    outsider = fs.admin(factories.region_chain()[RegionLevel.PROVINCE])
    login(outsider)
    db.session.commit()
    assert client.get(f"/shop/admin/products/{product.id}").status_code == 403
    assert client.post(f"/shop/admin/products/{product.id}/approve", data={}).status_code == 403
    assert product.name not in client.get("/shop/admin/products").get_data(as_text=True)
    assert fs.reload(product).status == P.PENDING_REVIEW


def test_approving_through_the_page_lists_and_announces_after_commit(client, login, db_session, announced):
    w = fs.world()
    product = fs.product(w.supplier, w.category, w.village, status=P.PENDING_REVIEW)
    login(fs.admin(w.county))
    db.session.commit()
    assert client.post(f"/shop/admin/products/{product.id}/reject", data={"reason": ""}).status_code == 422
    assert announced == []
    assert client.post(f"/shop/admin/products/{product.id}/approve", data={}).status_code == 302
    product = fs.reload(product)
    assert product.status == P.LISTED and product.listed_at is not None
    assert announced == [("changed", product.id), ("listed", product.id)]


def test_review_page_compares_price_with_evidence_and_province_peers(client, login, db_session):
    w = fs.world()
    product = fs.product(w.supplier, w.category, w.village, status=P.PENDING_REVIEW, price_fen=4400)
    fs.evidence(product, 4000)
    # Peers: same category and province (another county of the same province), listed.
    other_county = registry.create_region(code=f"6{w.county.code[1:]}", name="奉节县", level=RegionLevel.COUNTY,
                                          parent=w.chain[RegionLevel.CITY])
    town = registry.create_region(code=f"{other_county.code}001", name="白帝镇", level=RegionLevel.TOWNSHIP,
                                  parent=other_county)
    village = registry.create_region(code=f"{other_county.code}001201", name="坪上村", level=RegionLevel.VILLAGE,
                                     parent=town)
    peer_supplier = factories.supplier(other_county)
    fs.product(peer_supplier, w.category, village, price_fen=3000)
    fs.product(peer_supplier, w.category, village, price_fen=5000, sales_unit="kg")
    fs.product(peer_supplier, w.category, village, price_fen=99900, status=P.DRAFT)  # not listed: ignored
    elsewhere = fs.world()
    fs.product(elsewhere.supplier, w.category, elsewhere.village, price_fen=99900)  # other province: ignored
    comparison = review.price_comparison(product)
    assert (comparison.peer_count, comparison.peer_average_fen) == (2, 4000)
    assert (comparison.same_unit_count, comparison.same_unit_average_fen) == (1, 3000)
    assert comparison.evidence[0][1] == 10  # +10.0% over the evidence
    assert comparison.peer_difference == 10
    login(fs.admin(w.province))
    db.session.commit()
    page = client.get(f"/shop/admin/products/{product.id}").get_data(as_text=True)
    assert "¥44.00" in page and "¥40.00" in page and "+10.0%" in page and "¥30.00" in page


def test_a_failed_stock_entry_keeps_the_details_form_showing_the_product(client, login, db_session):
    w = fs.world()
    product = fs.product(w.supplier, w.category, w.village, name="石柱黄连", price_fen=8800)
    login(w.owner)
    db.session.commit()
    response = client.post(f"/shop/workspace/products/{product.id}/lots", data={"quantity": "0"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'value="石柱黄连"' in page and 'value="88.00"' in page
