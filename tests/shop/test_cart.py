"""The cart: visitors' carts in the session, buyers' in the database, merged at log-in; every bad input refused."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core.extensions import db
from shop.models import ProductStatus, SupplierStatus
from shop.models_cart import CartItem
from tests import factories
from tests.shop import factories_cart, factories_shop


def _saved(user) -> dict[int, int]:
    return dict(db.session.execute(
        sa.select(CartItem.product_id, CartItem.quantity).where(CartItem.user_id == user.id)
    ).all())


def _add(client, product_id, quantity):
    return client.post("/shop/cart/add", data={"product_id": product_id, "quantity": quantity},
                       follow_redirects=True)


def test_a_visitor_adds_to_the_cart_and_sees_it_grouped_per_supplier(client, db_session):
    s = factories_cart.shop()
    _add(client, s.plums.id, 2)
    page = _add(client, s.oranges.id, 1).get_data(as_text=True)
    assert "Added to your cart" in page
    assert s.plums.supplier.name in page and s.oranges.supplier.name in page
    assert "¥137.80" in page  # 2 × 39.90 + 58.00
    assert "Log in to check out" in page
    assert db.session.query(CartItem).count() == 0  # a visitor's cart lives in the session


def test_the_product_page_offers_the_add_to_cart_form(client, db_session):
    s = factories_cart.shop()
    page = client.get(f"/shop/product/{s.plums.id}").get_data(as_text=True)
    assert 'action="/shop/cart/add"' in page
    assert f'name="product_id" value="{s.plums.id}"' in page


@pytest.mark.parametrize("quantity", ["0", "-1", "1.5", "abc", "", "1e3", "99999999"])
def test_bad_quantities_are_refused_and_nothing_is_added(client, login, db_session, quantity):
    s = factories_cart.shop()
    login(s.buyer)
    page = _add(client, s.plums.id, quantity).get_data(as_text=True)
    assert ("whole number" in page or "at least 1" in page or "At most" in page)
    assert _saved(s.buyer) == {}


def test_more_than_the_stock_is_refused(client, login, db_session):
    s = factories_cart.shop()
    login(s.buyer)
    page = _add(client, s.oranges.id, 31).get_data(as_text=True)
    assert "Only 30 箱 of 巫山恋橙 are left." in page
    assert _saved(s.buyer) == {}
    _add(client, s.oranges.id, 30)
    page = _add(client, s.oranges.id, 1).get_data(as_text=True)  # the cart already holds all of it
    assert "Only 30" in page
    assert _saved(s.buyer) == {s.oranges.id: 30}


def test_less_than_the_minimum_order_is_refused(client, login, db_session):
    s = factories_cart.shop()
    s.plums.min_order_qty = 3
    login(s.buyer)
    page = _add(client, s.plums.id, 2).get_data(as_text=True)
    assert "巫山脆李 is sold from 3 箱." in page
    assert _saved(s.buyer) == {}


@pytest.mark.parametrize("case", ["unknown", "not-a-number", "draft", "suspended supplier"])
def test_a_tampered_or_unsold_product_id_is_refused(client, login, db_session, case):
    s = factories_cart.shop()
    if case == "draft":
        product_id = factories_shop.product(s.world.supplier, s.world.category, s.world.village,
                                            status=ProductStatus.DRAFT, stock=5).id
    elif case == "suspended supplier":
        s.world.supplier.status = SupplierStatus.SUSPENDED
        product_id = s.plums.id
    else:
        product_id = {"unknown": 987654321, "not-a-number": "1 OR 1=1"}[case]
    login(s.buyer)
    page = _add(client, product_id, 1).get_data(as_text=True)
    assert "This product is not on sale." in page
    assert _saved(s.buyer) == {}


def test_a_buyer_changes_and_removes_cart_lines(client, login, db_session):
    s = factories_cart.shop()
    login(s.buyer)
    _add(client, s.plums.id, 2)
    client.post(f"/shop/cart/{s.plums.id}/quantity", data={"quantity": "5"})
    assert _saved(s.buyer) == {s.plums.id: 5}
    page = client.post(f"/shop/cart/{s.plums.id}/quantity", data={"quantity": "0"},
                       follow_redirects=True).get_data(as_text=True)
    assert "at least 1" in page
    assert _saved(s.buyer) == {s.plums.id: 5}
    client.post(f"/shop/cart/{s.plums.id}/remove")
    assert _saved(s.buyer) == {}


def test_the_cart_shows_todays_price_and_flags_lines_that_no_longer_fit(client, login, db_session):
    s = factories_cart.shop()
    factories_cart.cart_item(s.buyer, s.plums, 4)
    s.plums.price_fen = 4200
    s.plums.stock = 3
    login(s.buyer)
    page = client.get("/shop/cart").get_data(as_text=True)
    assert "¥42.00" in page
    assert "Only 3 left: lower the quantity." in page
    assert "Please fix the items marked above" in page


def test_the_visitors_cart_is_merged_into_the_saved_cart_at_log_in(client, db_session):
    s = factories_cart.shop()
    factories_cart.cart_item(s.buyer, s.plums, 1)
    factories_cart.cart_item(s.buyer, s.oranges, 1)
    _add(client, s.plums.id, 2)  # as a visitor
    response = client.post("/account/login", data={"email": s.buyer.email, "password": factories.PASSWORD})
    assert response.status_code == 302
    assert _saved(s.buyer) == {s.plums.id: 3, s.oranges.id: 1}
    page = client.get("/shop/cart").get_data(as_text=True)
    assert "The items you chose before logging in are in your cart." in page
    with client.session_transaction() as sess:
        assert "cart" not in sess


def test_merging_keeps_within_the_stock_and_drops_products_no_longer_on_sale(client, db_session):
    s = factories_cart.shop()
    factories_cart.cart_item(s.buyer, s.oranges, 25)
    _add(client, s.oranges.id, 20)
    _add(client, s.plums.id, 1)
    s.plums.status = ProductStatus.DELISTED
    db.session.commit()
    client.post("/account/login", data={"email": s.buyer.email, "password": factories.PASSWORD})
    assert _saved(s.buyer) == {s.oranges.id: 30}


# ---------------------------------------------------------------- API


def test_the_cart_api_puts_gets_and_deletes_items(client, login, db_session):
    s = factories_cart.shop()
    login(s.buyer)
    body = client.put(f"/api/v1/cart/items/{s.plums.id}", json={"quantity": 2}).get_json()
    assert body["total_fen"] == 7980
    assert body["groups"][0]["lines"][0]["quantity"] == 2
    client.put(f"/api/v1/cart/items/{s.oranges.id}", json={"quantity": 1})
    body = client.get("/api/v1/cart").get_json()
    assert len(body["groups"]) == 2 and body["ready"] is True
    body = client.delete(f"/api/v1/cart/items/{s.plums.id}").get_json()
    assert body["total_fen"] == 5800


@pytest.mark.parametrize("quantity", [0, -2, 1.5, "2.0", True, None, 31])
def test_the_cart_api_refuses_bad_quantities_and_changes_nothing(client, login, db_session, quantity):
    s = factories_cart.shop()
    login(s.buyer)
    response = client.put(f"/api/v1/cart/items/{s.oranges.id}", json={"quantity": quantity})
    assert response.status_code == 422
    assert response.get_json()["error"]["message"]
    assert _saved(s.buyer) == {}


def test_the_cart_api_needs_a_buyer(client, db_session):
    assert client.get("/api/v1/cart").status_code == 401
