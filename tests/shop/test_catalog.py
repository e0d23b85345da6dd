"""The catalog: home page sections, category pages, product pages — and that they stay set-based."""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.database import utcnow
from core.extensions import db
from core.registry.models import RegionLevel
from shop.models import Certification, ProductCertification, ProductImage, ProductStatus, SupplierStatus
from shop.services import catalog, links
from tests import factories
from tests.shop import factories_shop as fs


@contextmanager
def count_queries():
    statements: list[str] = []

    def before(conn, cursor, statement, *args):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            statements.append(statement)

    engine = db.session.get_bind()
    engine = getattr(engine, "engine", engine)
    sa.event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)


def _card_names(html: str) -> list[str]:
    return re.findall(r'class="product-card-title">([^<]+)<', html)


def test_home_page_shows_the_sections_with_their_products(client, db_session):
    month = catalog.current_month()
    key = fs.world(county_flags={"poverty_lifted": True, "key_assistance": True})
    plain = fs.world(county_flags={"poverty_lifted": False})
    in_season = fs.product(plain.supplier, plain.category, plain.village, name="当季脆李", stock=10,
                           harvest_months=1 << (month - 1))
    out_of_season = fs.product(plain.supplier, plain.category, plain.village, name="反季产品", stock=10,
                               harvest_months=1 << (month % 12))
    from_key = fs.product(key.supplier, key.category, key.village, name="城口老腊肉")
    urgent = fs.product(plain.supplier, plain.category, plain.village, name="滞销番茄", stock=500,
                        is_urgent_sale=True)
    fs.product(plain.supplier, plain.category, plain.village, name="待审产品", status=ProductStatus.PENDING_REVIEW,
               harvest_months=4095)
    db.session.commit()
    page = client.get("/").get_data(as_text=True)
    sections = dict(re.findall(r'<h2 id="section-([a-z-]+)">.*?</h2>(.*?)</section>', page, re.S))
    assert set(sections) == {"in-season", "key-counties", "urgent-sale", "new-arrivals"}
    assert _card_names(sections["in-season"]) == [in_season.name]
    assert out_of_season.name not in sections["in-season"]
    assert _card_names(sections["key-counties"]) == [from_key.name]
    assert _card_names(sections["urgent-sale"]) == [urgent.name]
    assert "待审产品" not in page
    assert "Assistance product" in sections["key-counties"]


def test_sections_without_products_are_left_out(client, db_session):
    assert 'id="section-urgent-sale"' not in client.get("/").get_data(as_text=True)


def test_products_of_a_suspended_supplier_leave_the_catalog(client, db_session):
    w = fs.world()
    product = fs.product(w.supplier, w.category, w.village, name="停售产品")
    w.supplier.status = SupplierStatus.SUSPENDED
    db.session.commit()
    assert "停售产品" not in client.get("/shop/").get_data(as_text=True)
    assert client.get(f"/shop/product/{product.id}").status_code == 404


def test_category_page_sorts_paginates_and_includes_subcategories(client, db_session):
    w = fs.world()
    child = fs.category("李子", parent=w.category)
    prices = [500, 300, 900, 100, 700]
    for i, price in enumerate(prices):
        fs.product(w.supplier, child if i % 2 else w.category, w.village, price_fen=price, name=f"李{price}",
                   listed_at=utcnow() - timedelta(hours=i))
    other = fs.category("茶叶")
    fs.product(w.supplier, other, w.village, name="茶")
    db.session.commit()
    page = catalog.category_page(w.category, sort="price_asc", page=1, per_page=2)
    assert [p.price_fen for p in page.items] == [100, 300] and page.total == 5 and page.pages == 3
    html = client.get(f"/shop/category/{w.category.id}?sort=price_desc").get_data(as_text=True)
    assert _card_names(html) == ["李900", "李700", "李500", "李300", "李100"]
    html = client.get(f"/shop/category/{child.id}?sort=newest").get_data(as_text=True)
    assert _card_names(html) == ["李300", "李100"]
    assert "茶" not in _card_names(client.get(f"/shop/category/{w.category.id}").get_data(as_text=True))


def test_category_page_clamps_silly_page_numbers(client, db_session):
    w = fs.world()
    fs.product(w.supplier, w.category, w.village, name="唯一")
    db.session.commit()
    for query in ("page=99999", "page=-3", "page=abc", "sort=evil"):
        response = client.get(f"/shop/category/{w.category.id}?{query}")
        assert response.status_code == 200 and "唯一" in response.get_data(as_text=True)
    assert client.get("/shop/category/999999").status_code == 404


def test_category_page_costs_the_same_queries_for_many_products(client, db_session):
    w = fs.world()
    for i in range(3):
        p = fs.product(w.supplier, w.category, w.village, name=f"少{i}")
        db.session.add(ProductImage(product_id=p.id, storage_key=f"{i:032x}", alt_text="图", width=10, height=10))
    db.session.commit()
    client.get(f"/shop/category/{w.category.id}")
    with count_queries() as few:
        client.get(f"/shop/category/{w.category.id}")
    for i in range(12):
        p = fs.product(w.supplier, w.category, w.village, name=f"多{i}")
        db.session.add(ProductImage(product_id=p.id, storage_key=f"{i + 100:032x}", alt_text="图", width=10,
                                    height=10))
    db.session.commit()
    with count_queries() as many:
        client.get(f"/shop/category/{w.category.id}")
    assert len(few) > 3 and len(many) == len(few)


def test_product_page_shows_origin_chain_supplier_lots_and_households_helped(client, db_session):
    w = fs.world()
    product = fs.product(w.supplier, w.category, w.village, name="巫山脆李", stock=0)
    fs.add_lot(product, 30)
    db.session.add(ProductCertification(product_id=product.id, kind=Certification.GREEN,
                                        certificate_number="LB-45-2301"))
    for members in (3, 5):
        links.declare_link(w.supplier, w.owner, factories.household(w.village, members=members),
                           link_type="order_purchase", started_on=utcnow().date() - timedelta(days=30),
                           share_bp=1000)
    ended = links.declare_link(w.supplier, w.owner, factories.household(w.village, members=9),
                               link_type="employment", started_on=utcnow().date() - timedelta(days=30),
                               share_bp=1000)
    links.end_link(ended, w.owner)
    db.session.commit()
    with count_queries() as statements:
        html = client.get(f"/shop/product/{product.id}").get_data(as_text=True)
    assert 3 < len(statements) <= 12
    chain = [w.chain[level].name for level in RegionLevel]
    shown = re.findall(r'<li><span title="[^"]*">([^<]+)</span></li>', html)
    assert shown == chain  # province › city › county › township › village
    assert w.supplier.name in html
    assert re.search(r'<p class="figure">2</p>\s*<p>[^<]*\(8 people\)', html)
    assert "LB-45-2301" in html and "Green food" in html
    lot_expiry = (utcnow().date() + timedelta(days=product.shelf_life_days)).isoformat()
    assert lot_expiry in html


@pytest.mark.parametrize("status", [ProductStatus.DRAFT, ProductStatus.PENDING_REVIEW, ProductStatus.REJECTED,
                                    ProductStatus.DELISTED])
def test_a_product_not_on_sale_is_only_previewed_by_its_supplier_and_reviewers(client, login, db_session, status):
    w = fs.world()
    product = fs.product(w.supplier, w.category, w.village, status=status)
    db.session.commit()
    assert client.get(f"/shop/product/{product.id}").status_code == 404
    login(factories.UserFactory())
    assert client.get(f"/shop/product/{product.id}").status_code == 404
    login(w.owner)
    assert "Preview" in client.get(f"/shop/product/{product.id}").get_data(as_text=True)
    login(fs.admin(w.county))
    assert client.get(f"/shop/product/{product.id}").status_code == 200
    login(fs.admin(factories.region_chain()[RegionLevel.PROVINCE]))
    db.session.commit()
    assert client.get(f"/shop/product/{product.id}").status_code == 404


def test_navigation_shows_shop_entries_by_role(client, login, db_session):
    w = fs.world()
    db.session.commit()
    html = client.get("/").get_data(as_text=True)
    assert 'href="/shop/"' in html and "/shop/workspace/" not in html and "/shop/admin/suppliers" not in html
    login(w.owner)
    html = client.get("/").get_data(as_text=True)
    assert "/shop/workspace/" in html and "/shop/admin/suppliers" not in html
    login(fs.admin(w.county))
    db.session.commit()
    html = client.get("/").get_data(as_text=True)
    assert "/shop/admin/suppliers" in html and "/shop/admin/products" in html


def test_admin_start_page_links_to_what_waits(client, login, db_session):
    w = fs.world(status=SupplierStatus.PENDING)
    login(fs.admin(w.county))
    db.session.commit()
    html = client.get("/admin/").get_data(as_text=True)
    assert "1 suppliers wait for accreditation." in html
    assert 'href="/shop/admin/products"' in html and 'href="/shop/admin/links"' in html


def test_deep_pages_are_bounded_but_the_total_is_true(db_session):
    w = fs.world()
    for i in range(7):
        fs.product(w.supplier, w.category, w.village, name=f"品{i}")
    page = catalog.category_page(w.category, sort="newest", page=5, per_page=1)
    assert page.total == 7 and page.page == 5
    capped = catalog.BoundedPage(items=[], page=1, per_page=1, total=10_000, max_pages=50)
    assert capped.pages == 50 and capped.has_next


def test_the_urgent_sale_mark_is_set_and_cleared_through_the_shop_service(db_session):
    from shop.services import products

    w = fs.world()
    a = fs.product(w.supplier, w.category, w.village, stock=5)
    b = fs.product(w.supplier, w.category, w.village, stock=5)
    assert products.set_urgent_sale([a.id, b.id], True, reason="滞销预警") == 2
    assert [p.id for p in catalog.urgent_sale_products()] == sorted([a.id, b.id], reverse=True)
    assert products.set_urgent_sale([a.id], False) == 1
    assert [p.id for p in catalog.urgent_sale_products()] == [b.id]
