"""The shop's JSON API: public catalog, supplier product upkeep, and the error shapes."""

from __future__ import annotations

import pytest

from core.extensions import db
from shop.models import ProductStatus, SupplierStatus
from tests import factories
from tests.shop import factories_shop as fs


def _payload(w, **overrides) -> dict:
    data = {"name": "开州春橙", "category_id": w.category.id, "sales_unit": "kg", "specification": "10kg/箱",
            "price_fen": 1290, "shelf_life_days": 30, "harvest_months": [3, 4], "origin_village_id": w.village.id,
            "certifications": {"green": "LB-1"}}
    data.update(overrides)
    return data


def _assert_error(response, status: int, code: str | None = None):
    assert response.status_code == status
    body = response.get_json()
    assert set(body) == {"error"} and {"code", "message"} <= set(body["error"])
    assert body["error"]["message"]
    if code:
        assert body["error"]["code"] == code
    return body["error"]


def test_products_list_shows_listed_products_paginated_and_by_category(client, db_session):
    w = fs.world()
    tea = fs.category("茶叶")
    for i in range(3):
        fs.product(w.supplier, w.category, w.village, name=f"李{i}", price_fen=100 + i)
    fs.product(w.supplier, tea, w.village, name="茶")
    fs.product(w.supplier, w.category, w.village, name="草稿", status=ProductStatus.DRAFT)
    db.session.commit()
    body = client.get("/api/v1/products?per_page=2&sort=price_asc").get_json()
    assert body["total"] == 4 and body["per_page"] == 2 and len(body["items"]) == 2
    assert [p["price_fen"] for p in body["items"]] == [100, 101]
    body = client.get(f"/api/v1/products?category_id={tea.id}").get_json()
    assert [p["name"] for p in body["items"]] == ["茶"]
    _assert_error(client.get("/api/v1/products?per_page=1000"), 422, "validation_failed")


def test_product_detail_is_public_only_when_listed(client, db_session):
    w = fs.world()
    listed = fs.product(w.supplier, w.category, w.village, harvest_months=(1 << 6) | (1 << 7))
    draft = fs.product(w.supplier, w.category, w.village, status=ProductStatus.DRAFT)
    db.session.commit()
    body = client.get(f"/api/v1/products/{listed.id}").get_json()
    assert body["id"] == listed.id and body["harvest_months"] == [7, 8] and body["price_fen"] == 3990
    _assert_error(client.get(f"/api/v1/products/{draft.id}"), 404, "not_found")


def test_categories_are_public(client, db_session):
    w = fs.world()
    fs.category("李子", parent=w.category)
    db.session.commit()
    body = client.get("/api/v1/categories").get_json()
    assert {c["name"] for c in body} >= {w.category.name, "李子"}


def test_writing_needs_a_log_in_and_a_supplier(client, login, db_session):
    w = fs.world()
    db.session.commit()
    _assert_error(client.post("/api/v1/products", json=_payload(w)), 401)
    _assert_error(client.post("/api/v1/products", json={}), 401)  # authentication before validation
    login(factories.UserFactory())
    _assert_error(client.post("/api/v1/products", json=_payload(w)), 403, "forbidden")
    _assert_error(client.patch("/api/v1/products/1", json={"price_fen": 5}), 403)


@pytest.mark.parametrize("overrides", [
    {"price_fen": 0}, {"price_fen": -100}, {"price_fen": "12.5"}, {"price_fen": 12.5}, {"shelf_life_days": 0},
    {"harvest_months": [13]}, {"name": ""}, {"certifications": {"fake": "x"}},
])
def test_invalid_payloads_get_422_with_details(client, login, db_session, overrides):
    w = fs.world()
    login(w.owner)
    db.session.commit()
    error = _assert_error(client.post("/api/v1/products", json=_payload(w, **overrides)), 422,
                          "validation_failed")
    assert error.get("details")
    assert client.get("/api/v1/products").get_json()["total"] == 0


def test_a_village_outside_the_county_is_a_422_from_the_service(client, login, db_session):
    w = fs.world()
    elsewhere = fs.world()
    login(w.owner)
    db.session.commit()
    error = _assert_error(client.post("/api/v1/products", json=_payload(w, origin_village_id=elsewhere.village.id)),
                          422, "validation_failed")
    assert error["details"] == {"field": "origin_village_id"}


def test_supplier_creates_and_submits_then_a_price_patch_returns_it_to_review(client, login, db_session):
    w = fs.world()
    reviewer = fs.admin(w.county)
    login(w.owner)
    db.session.commit()
    response = client.post("/api/v1/products", json=_payload(
        w, new_lot={"quantity": 40}, submit_for_review=True,
        price_evidence=[{"url": "https://mall.example.cn/orange", "reference_price_fen": 1390}]))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["status"] == "pending_review" and body["stock"] == 40
    assert body["certifications"] == [{"kind": "green", "certificate_number": "LB-1"}]
    product_id = body["id"]
    login(reviewer)
    assert client.post(f"/shop/admin/products/{product_id}/approve", data={}).status_code == 302
    login(w.owner)
    body = client.patch(f"/api/v1/products/{product_id}", json={"description": "更甜"}).get_json()
    assert body["status"] == "listed" and body["description"] == "更甜" and body["price_fen"] == 1290
    body = client.patch(f"/api/v1/products/{product_id}", json={"price_fen": 1490}).get_json()
    assert body["status"] == "pending_review" and body["price_fen"] == 1490
    _assert_error(client.patch(f"/api/v1/products/{product_id}", json={}), 422)


def test_patching_another_suppliers_product_is_not_found(client, login, db_session):
    w = fs.world()
    product = fs.product(w.supplier, w.category, w.village)
    login(fs.world().owner)
    db.session.commit()
    _assert_error(client.patch(f"/api/v1/products/{product.id}", json={"price_fen": 1}), 404)
    assert fs.reload(product).price_fen == 3990


def test_unaccredited_supplier_cannot_create_through_the_api(client, login, db_session):
    w = fs.world(status=SupplierStatus.PENDING)
    login(w.owner)
    db.session.commit()
    _assert_error(client.post("/api/v1/products", json=_payload(w)), 403, "forbidden")


def test_the_openapi_document_lists_the_shop_endpoints(client, db_session):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert {"/api/v1/products", "/api/v1/products/{product_id}", "/api/v1/categories"} <= set(spec["paths"])
