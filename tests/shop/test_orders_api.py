"""The order API: creating with an Idempotency-Key, reading only one's own orders, and the transitions."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core.extensions import db
from shop.models import Order, OrderStatus, Product, SubOrder
from tests import factories
from tests.shop import factories_cart, factories_orders, factories_shop, test_concurrency

ADDRESS = {"recipient_name": "张晓梅", "recipient_phone": "13812345678", "address": "重庆市渝中区解放碑街道民族路100号"}


def _orders() -> int:
    return db.session.execute(sa.select(sa.func.count(Order.id))).scalar_one()


def _post(client, body, key="key-0000000001"):
    headers = {"Idempotency-Key": key} if key else {}
    return client.post("/api/v1/orders", json=body, headers=headers)


def _status(sub_order_id: int) -> OrderStatus:
    return db.session.execute(sa.select(SubOrder.status).where(SubOrder.id == sub_order_id)).scalar_one()


def test_an_order_is_created_once_per_idempotency_key(client, login, db_session):
    s = factories_cart.shop()
    login(s.buyer)
    body = {**ADDRESS, "items": [{"product_id": s.plums.id, "quantity": 2}, {"product_id": s.oranges.id,
                                                                              "quantity": 1}]}
    first = _post(client, body)
    assert first.status_code == 201
    order = first.get_json()
    assert order["total_fen"] == 2 * 3990 + 5800 and len(order["sub_orders"]) == 2
    assert order["status"] == "pending_payment" and order["recipient_phone"] == "138****5678"
    again = _post(client, body)
    assert again.status_code == 200 and again.get_json()["id"] == order["id"]
    assert _orders() == 1
    assert factories_shop.reload(s.plums).stock == 48


def test_an_order_without_an_idempotency_key_is_refused(client, login, db_session):
    s = factories_cart.shop()
    login(s.buyer)
    response = _post(client, {**ADDRESS, "items": [{"product_id": s.plums.id, "quantity": 1}]}, key=None)
    assert response.status_code == 422
    assert _orders() == 0


def test_an_order_from_the_cart_empties_the_cart(client, login, db_session):
    s = factories_cart.shop()
    factories_cart.cart_item(s.buyer, s.plums, 2)
    login(s.buyer)
    response = _post(client, ADDRESS)
    assert response.status_code == 201 and response.get_json()["total_fen"] == 7980
    assert client.get("/api/v1/cart").get_json()["groups"] == []


@pytest.mark.parametrize("quantity", [0, -1, 1.5, "2.5", "two", 31])
def test_bad_quantities_are_refused_and_nothing_is_written(client, login, db_session, quantity):
    s = factories_cart.shop()
    login(s.buyer)
    response = _post(client, {**ADDRESS, "items": [{"product_id": s.oranges.id, "quantity": quantity}]})
    assert response.status_code in (409, 422)
    assert response.get_json()["error"]["message"]
    assert _orders() == 0 and factories_shop.reload(s.oranges).stock == 30


def test_out_of_stock_names_the_product(client, login, db_session):
    s = factories_cart.shop()
    login(s.buyer)
    response = _post(client, {**ADDRESS, "items": [{"product_id": s.plums.id, "quantity": 1},
                                                   {"product_id": s.oranges.id, "quantity": 31}]})
    assert response.status_code == 409
    assert response.get_json()["error"]["details"] == {"product_id": s.oranges.id}
    assert _orders() == 0 and factories_shop.reload(s.plums).stock == 50


def test_a_tampered_price_or_unknown_product_is_refused(client, login, db_session):
    s = factories_cart.shop()
    login(s.buyer)
    response = _post(client, {**ADDRESS, "items": [{"product_id": s.plums.id, "quantity": 1, "price_fen": 1}]})
    assert response.status_code == 422
    response = _post(client, {**ADDRESS, "items": [{"product_id": 987654321, "quantity": 1}]})
    assert response.status_code == 422 and "no longer on sale" in response.get_json()["error"]["message"]
    assert _orders() == 0


def test_only_ones_own_orders_are_visible(client, login, db_session):
    s = factories_cart.shop()
    mine = factories_orders.place(s.buyer, {s.plums: 1})
    theirs = factories_orders.place(factories.UserFactory(), {s.plums: 1})
    login(s.buyer)
    listing = client.get("/api/v1/orders").get_json()
    assert [o["id"] for o in listing["items"]] == [mine.id] and listing["total"] == 1
    assert client.get(f"/api/v1/orders/{mine.id}").status_code == 200
    assert client.get(f"/api/v1/orders/{theirs.id}").status_code == 404
    assert client.post(f"/api/v1/orders/{theirs.id}/cancel").status_code == 404
    assert _status(theirs.sub_orders[0].id) == OrderStatus.PENDING_PAYMENT


def test_cancel_then_cancel_again_is_refused(client, login, db_session):
    s = factories_cart.shop()
    order = factories_orders.place(s.buyer, {s.plums: 2})
    login(s.buyer)
    response = client.post(f"/api/v1/orders/{order.id}/cancel")
    assert response.status_code == 200 and response.get_json()["status"] == "cancelled"
    assert factories_shop.reload(s.plums).stock == 50
    again = client.post(f"/api/v1/orders/{order.id}/cancel")
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "invalid_transition"


def test_ship_confirm_receipt_and_request_a_refund(client, login, db_session):
    s = factories_cart.shop()
    order = factories_orders.place(s.buyer, {s.plums: 2})
    factories_cart.pay_by_transfer(order)
    part = order.sub_orders[0]
    login(s.buyer)
    early = client.post(f"/api/v1/orders/{order.id}/sub-orders/{part.id}/confirm-receipt")
    assert early.status_code == 409

    login(s.world.owner)
    shipped = client.post(f"/api/v1/supplier/sub-orders/{part.id}/ship",
                          json={"carrier": "顺丰速运", "tracking_number": "SF1234567890"})
    assert shipped.status_code == 200 and shipped.get_json()["status"] == "shipped"

    login(s.buyer)
    received = client.post(f"/api/v1/orders/{order.id}/sub-orders/{part.id}/confirm-receipt")
    assert received.get_json()["sub_orders"][0]["status"] == "received"
    refund = client.post(f"/api/v1/orders/{order.id}/sub-orders/{part.id}/refund-request",
                         json={"lines": {str(part.lines[0].id): 1}, "reason": "一箱压坏了"})
    assert refund.status_code == 201 and refund.get_json()["amount_fen"] == 3990
    assert _status(part.id) == OrderStatus.REFUND_REQUESTED


def test_a_whole_refund_is_the_default_and_a_reason_is_required(client, login, db_session):
    s = factories_cart.shop()
    order = factories_orders.place(s.buyer, {s.plums: 2})
    factories_cart.pay_by_transfer(order)
    part = order.sub_orders[0]
    login(s.buyer)
    url = f"/api/v1/orders/{order.id}/sub-orders/{part.id}/refund-request"
    assert client.post(url, json={"reason": ""}).status_code == 422
    assert client.post(url, json={"lines": {"1": 1.5}, "reason": "x"}).status_code == 422
    assert _status(part.id) == OrderStatus.PAID
    response = client.post(url, json={"reason": "不要了"})
    assert response.status_code == 201 and response.get_json()["amount_fen"] == 7980


def test_a_supplier_cannot_ship_another_suppliers_part(client, login, db_session):
    s = factories_cart.shop()
    order = factories_orders.place(s.buyer, {s.oranges: 1})
    factories_cart.pay_by_transfer(order)
    login(s.world.owner)
    response = client.post(f"/api/v1/supplier/sub-orders/{order.sub_orders[0].id}/ship",
                           json={"carrier": "顺丰", "tracking_number": "SF1"})
    assert response.status_code == 404
    assert _status(order.sub_orders[0].id) == OrderStatus.PAID


def test_the_order_api_is_in_the_openapi_document(client, db_session):
    spec = client.get("/api/v1/openapi.json").get_json()
    for path in ("/api/v1/cart", "/api/v1/cart/items/{product_id}", "/api/v1/orders", "/api/v1/orders/{order_id}",
                 "/api/v1/orders/{order_id}/cancel",
                 "/api/v1/orders/{order_id}/sub-orders/{sub_order_id}/refund-request",
                 "/api/v1/supplier/sub-orders/{sub_order_id}/ship"):
        assert path in spec["paths"], path
    params = spec["paths"]["/api/v1/orders"]["post"]["parameters"]
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in params)


@pytest.mark.postgres
class TestRaces:
    """The same order sent twice at the same moment, on a real PostgreSQL server (committed data)."""

    @pytest.fixture()
    def request_context(self, app):
        """Overrides the rolled-back set-up: these requests commit on connections of their own."""
        with app.test_request_context():
            yield

    @pytest.fixture()
    def committed(self, app, request_context):
        with app.app_context():
            if db.engine.dialect.name != "postgresql":
                pytest.skip("the race needs PostgreSQL (set DATABASE_URL); SQLite serialises writers")
            yield
            db.session.remove()
            tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables if t.name != "alembic_version")
            with db.engine.begin() as conn:
                conn.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")

    def test_the_same_key_sent_twice_at_once_creates_one_order(self, app, committed):
        from core.accounts.auth import session_id_for

        _w, plums, _oranges, buyer = factories_orders.two_supplier_world()
        db.session.commit()
        session_id, plums_id = session_id_for(buyer), plums.id
        body = {**ADDRESS, "items": [{"product_id": plums_id, "quantity": 2}]}

        def submit(_i):
            client = app.test_client()
            with client.session_transaction() as sess:
                sess["_user_id"], sess["_fresh"] = session_id, True
            response = client.post("/api/v1/orders", json=body, headers={"Idempotency-Key": "race-key-0001"})
            return response.status_code, response.get_json()["id"]

        results = test_concurrency._run_threads(app, 2, submit)
        assert sorted(status for status, _id in results) == [200, 201], results
        assert len({order_id for _status, order_id in results}) == 1
        assert _orders() == 1
        assert db.session.get(Product, plums_id).stock == 48
