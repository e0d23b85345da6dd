"""Checkout and order pages: the manual-payment journey end to end, double submits, other people's orders,
and a Stripe return page that marks nothing paid."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.registry.models import RegionLevel
from shop.models import Order, OrderStatus, Product, SubOrder
from shop.models_orders import Payment, PaymentProviderName, PaymentStatus, RefundRequest
from tests import factories
from tests.shop import factories_cart, factories_orders, factories_shop, test_payments

# A local Stripe stand-in at the HTTP boundary (fixtures shared with the payment tests).
stripe_on, fake_stripe = test_payments.stripe_on, test_payments.fake_stripe

ADDRESS = {"recipient_name": "张晓梅", "recipient_phone": "13812345678",
           "address": "重庆市渝中区解放碑街道民族路100号", "address_region_id": "0", "referral_code": ""}


def _key(page: str) -> str:
    return re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', page).group(1)


def _checkout(client, **extra):
    page = client.get("/shop/checkout").get_data(as_text=True)
    return client.post("/shop/checkout", data={**ADDRESS, "idempotency_key": _key(page), **extra})


def _orders_of(user) -> list[Order]:
    return list(db.session.execute(sa.select(Order).where(Order.buyer_id == user.id)).scalars())


def _status(sub_order_id: int) -> OrderStatus:
    return db.session.execute(sa.select(SubOrder.status).where(SubOrder.id == sub_order_id)).scalar_one()


def test_checkout_shows_the_split_and_places_one_order_per_submit(client, login, db_session):
    s = factories_cart.shop()
    factories_cart.cart_item(s.buyer, s.plums, 2)
    factories_cart.cart_item(s.buyer, s.oranges, 1)
    login(s.buyer)
    page = client.get("/shop/checkout").get_data(as_text=True)
    assert "Your order is split into 2 parts" in page
    assert s.plums.supplier.name in page and s.oranges.supplier.name in page
    response = client.post("/shop/checkout", data={**ADDRESS, "idempotency_key": _key(page)})
    [order] = _orders_of(s.buyer)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/shop/orders/{order.id}")
    assert len(order.sub_orders) == 2 and order.total_fen == 2 * 3990 + 5800
    assert db.session.execute(sa.select(sa.func.count()).select_from(factories_cart.CartItem)).scalar() == 0
    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Waiting for payment" in detail and "138****5678" in detail and "13812345678" not in detail


def test_a_double_submit_creates_one_order(client, login, db_session):
    s = factories_cart.shop()
    factories_cart.cart_item(s.buyer, s.plums, 2)
    login(s.buyer)
    key = _key(client.get("/shop/checkout").get_data(as_text=True))
    first = client.post("/shop/checkout", data={**ADDRESS, "idempotency_key": key})
    second = client.post("/shop/checkout", data={**ADDRESS, "idempotency_key": key})
    assert first.headers["Location"] == second.headers["Location"]
    assert len(_orders_of(s.buyer)) == 1
    assert factories_shop.reload(s.plums).stock == 48


def test_prices_come_from_the_catalog_not_from_the_form(client, login, db_session):
    s = factories_cart.shop()
    factories_cart.cart_item(s.buyer, s.plums, 2)
    login(s.buyer)
    _checkout(client, price_fen="1", unit_price_fen="1", total_fen="1", **{f"items-{s.plums.id}": "1"})
    [order] = _orders_of(s.buyer)
    assert order.total_fen == 7980
    assert order.sub_orders[0].lines[0].unit_price_fen == 3990


def test_a_bad_phone_number_is_shown_beside_the_field_and_nothing_is_written(client, login, db_session):
    s = factories_cart.shop()
    factories_cart.cart_item(s.buyer, s.plums, 2)
    login(s.buyer)
    response = _checkout(client, recipient_phone="12345")
    assert response.status_code == 422
    assert 'id="recipient_phone-error"' in response.get_data(as_text=True)
    assert _orders_of(s.buyer) == [] and factories_shop.reload(s.plums).stock == 50


def test_a_cart_above_the_stock_is_sent_back_to_the_cart(client, login, db_session):
    s = factories_cart.shop()
    factories_cart.cart_item(s.buyer, s.oranges, 5)
    s.oranges.stock = 2  # sold to others meanwhile
    login(s.buyer)
    page = client.post("/shop/checkout", data={**ADDRESS, "idempotency_key": "k" * 20},
                       follow_redirects=True).get_data(as_text=True)
    assert "need your attention" in page and "Only 2 left" in page
    assert _orders_of(s.buyer) == []


def test_out_of_stock_at_the_last_moment_is_a_form_error_and_nothing_is_written(client, login, db_session,
                                                                                 monkeypatch):
    from shop.services import orders

    s = factories_cart.shop()
    factories_cart.cart_item(s.buyer, s.plums, 2)
    login(s.buyer)
    page = client.get("/shop/checkout").get_data(as_text=True)

    def sold_out(quantities):  # another buyer takes the stock between the page and the submit
        raise orders.OutOfStock("Sorry, 巫山脆李 does not have 2 left any more.")

    monkeypatch.setattr(orders, "reserve_stock", sold_out)
    response = client.post("/shop/checkout", data={**ADDRESS, "idempotency_key": _key(page)})
    assert response.status_code == 422
    assert "does not have 2 left any more" in response.get_data(as_text=True)
    assert _orders_of(s.buyer) == []


def test_someone_elses_order_is_not_found(client, login, db_session):
    s = factories_cart.shop()
    order = factories_orders.place(s.buyer, {s.plums: 1})
    part = order.sub_orders[0]
    login(factories.UserFactory())
    assert client.get(f"/shop/orders/{order.id}").status_code == 404
    assert client.get(f"/shop/orders/{order.id}/payment-return").status_code == 404
    assert client.post(f"/shop/orders/{order.id}/cancel").status_code == 404
    assert client.post(f"/shop/orders/{order.id}/pay", data={"provider": "manual"}).status_code == 404
    assert client.get(f"/shop/orders/{order.id}/parts/{part.id}/refund").status_code == 404
    assert _status(part.id) == OrderStatus.PENDING_PAYMENT
    assert db.session.query(Payment).count() == 0


def test_the_manual_payment_journey_through_the_pages(client, login, db_session):
    """Consumer checks out and pays by transfer → administrator confirms → supplier ships → consumer confirms."""
    s = factories_cart.shop()
    county = s.world.chain[RegionLevel.COUNTY]
    factories_cart.cart_item(s.buyer, s.plums, 2)
    supplier_member = s.world.owner
    admin = factories_shop.admin(s.world.province)

    login(s.buyer)
    response = _checkout(client, address_region_id=str(county.id))
    order_url = response.headers["Location"]
    page = client.post(f"{order_url}/pay", data={"provider": "manual"}, follow_redirects=True).get_data(as_text=True)
    payment = db.session.execute(sa.select(Payment)).scalar_one()
    assert payment.reference in page and "中国农业银行重庆分行营业部" in page
    assert "stays waiting for payment until an administrator confirms" in page
    # A second click shows the same transfer instead of opening another.
    client.post(f"{order_url}/pay", data={"provider": "manual"})
    assert db.session.query(Payment).count() == 1

    login(admin)
    page = client.get("/shop/admin/transfers/").get_data(as_text=True)
    assert payment.reference in page
    page = client.post(f"/shop/admin/transfers/{payment.id}/confirm", data={"bank_transaction": "ABC20261123001"},
                       follow_redirects=True).get_data(as_text=True)
    assert "is confirmed; the order is paid" in page
    [order] = _orders_of(s.buyer)
    part = order.sub_orders[0]
    assert _status(part.id) == OrderStatus.PAID

    login(supplier_member)
    page = client.get("/shop/workspace/orders/?status=paid").get_data(as_text=True)
    assert order.number in page
    client.post(f"/shop/workspace/orders/{part.id}/ship",
                data={"carrier": "顺丰速运", "tracking_number": "SF1234567890"})
    assert _status(part.id) == OrderStatus.SHIPPED

    login(s.buyer)
    page = client.get(order_url).get_data(as_text=True)
    assert "顺丰速运" in page and "SF1234567890" in page
    page = client.post(f"{order_url}/parts/{part.id}/receipt", follow_redirects=True).get_data(as_text=True)
    assert "Thank you for confirming" in page
    assert _status(part.id) == OrderStatus.RECEIVED

    # A received parcel can be reviewed from the order page; the product page then shows the rating.
    line = part.lines[0]
    review_url = f"/shop/orders/lines/{line.id}/review"
    assert review_url in page
    page = client.post(review_url, data={"rating": "4", "text": "脆甜，个头匀称"},
                       follow_redirects=True).get_data(as_text=True)
    assert "your review of" in page and "脆甜，个头匀称" in page
    assert "4.0" in page


def test_a_regional_administrator_sees_only_transfers_in_their_region(client, login, db_session):
    s = factories_cart.shop()
    order = factories_orders.place(s.buyer, {s.plums: 1}, address_region_id=s.world.county.id)
    from shop.payments import services as payments

    payment = payments.start_payment(order, "manual", success_url="", cancel_url="").payment
    login(factories_shop.admin(factories.region_chain()[RegionLevel.PROVINCE]))
    assert payment.reference not in client.get("/shop/admin/transfers/").get_data(as_text=True)
    assert client.post(f"/shop/admin/transfers/{payment.id}/confirm",
                       data={"bank_transaction": "X1"}).status_code == 404
    assert factories_shop.reload(payment).status == PaymentStatus.PENDING


def test_the_stripe_return_page_does_not_mark_the_order_paid(client, login, db_session):
    s = factories_cart.shop()
    order = factories_orders.place(s.buyer, {s.plums: 1})
    db.session.add(Payment(order_id=order.id, provider=PaymentProviderName.STRIPE, amount_fen=order.total_fen,
                           reference="cs_test_return_page", checkout_url="https://checkout.stripe.com/x"))
    db.session.flush()
    login(s.buyer)
    page = client.get(f"/shop/orders/{order.id}/payment-return?session_id=cs_test_return_page")
    assert page.status_code == 200
    assert "waiting for the payment provider to confirm" in page.get_data(as_text=True)
    assert _status(order.sub_orders[0].id) == OrderStatus.PENDING_PAYMENT
    payment = db.session.execute(sa.select(Payment).where(Payment.reference == "cs_test_return_page")).scalar_one()
    assert payment.status == PaymentStatus.PENDING


def test_stripe_is_offered_only_when_configured(client, login, db_session, app, monkeypatch):
    s = factories_cart.shop()
    order = factories_orders.place(s.buyer, {s.plums: 1})
    login(s.buyer)
    monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", "")
    assert "Pay online" not in client.get(f"/shop/orders/{order.id}").get_data(as_text=True)
    page = client.post(f"/shop/orders/{order.id}/pay", data={"provider": "stripe"},
                       follow_redirects=True).get_data(as_text=True)
    assert "This payment method is not available." in page
    monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", "sk_test_x")
    assert "Pay online" in client.get(f"/shop/orders/{order.id}").get_data(as_text=True)


def test_an_unpaid_order_can_be_cancelled_and_its_stock_returns(client, login, db_session):
    s = factories_cart.shop()
    order = factories_orders.place(s.buyer, {s.plums: 4})
    login(s.buyer)
    page = client.post(f"/shop/orders/{order.id}/cancel", follow_redirects=True).get_data(as_text=True)
    assert "is cancelled" in page
    assert _status(order.sub_orders[0].id) == OrderStatus.CANCELLED
    assert factories_shop.reload(s.plums).stock == 50


def test_a_paid_order_cannot_be_cancelled(client, login, db_session):
    s = factories_cart.shop()
    order = factories_orders.place(s.buyer, {s.plums: 1})
    factories_cart.pay_by_transfer(order)
    login(s.buyer)
    page = client.post(f"/shop/orders/{order.id}/cancel", follow_redirects=True).get_data(as_text=True)
    assert "cannot be moved to cancelled" in page
    assert _status(order.sub_orders[0].id) == OrderStatus.PAID


def test_receipt_cannot_be_confirmed_before_shipment(client, login, db_session):
    s = factories_cart.shop()
    order = factories_orders.place(s.buyer, {s.plums: 1})
    factories_cart.pay_by_transfer(order)
    part = order.sub_orders[0]
    login(s.buyer)
    client.post(f"/shop/orders/{order.id}/parts/{part.id}/receipt")
    assert _status(part.id) == OrderStatus.PAID


@pytest.mark.parametrize("quantity", ["-1", "1.5", "x"])
def test_a_refund_request_with_bad_quantities_is_refused(client, login, db_session, quantity):
    s = factories_cart.shop()
    order = factories_orders.place(s.buyer, {s.plums: 3})
    factories_cart.pay_by_transfer(order)
    part = order.sub_orders[0]
    line = part.lines[0]
    login(s.buyer)
    response = client.post(f"/shop/orders/{order.id}/parts/{part.id}/refund",
                           data={f"qty-{line.id}": quantity, "reason": "坏了"})
    assert response.status_code == 422
    assert "Give a whole number from 0 to 3." in response.get_data(as_text=True)
    assert db.session.query(RefundRequest).count() == 0


def test_a_line_refund_is_requested_then_declined_and_approved_by_the_supplier(client, login, db_session):
    s = factories_cart.shop()
    order = factories_orders.place(s.buyer, {s.plums: 3})
    factories_cart.pay_by_transfer(order)
    part = order.sub_orders[0]
    line = part.lines[0]
    login(s.buyer)
    assert "up to 3" in client.get(f"/shop/orders/{order.id}/parts/{part.id}/refund").get_data(as_text=True)
    response = client.post(f"/shop/orders/{order.id}/parts/{part.id}/refund",
                           data={f"qty-{line.id}": "4", "reason": "坏了"})
    assert response.status_code == 422 and "at most 3" in response.get_data(as_text=True)
    client.post(f"/shop/orders/{order.id}/parts/{part.id}/refund", data={f"qty-{line.id}": "1", "reason": "一箱压坏了"})
    assert _status(part.id) == OrderStatus.REFUND_REQUESTED

    login(s.world.owner)
    page = client.get(f"/shop/workspace/orders/{part.id}").get_data(as_text=True)
    assert "一箱压坏了" in page
    page = client.post(f"/shop/workspace/orders/{part.id}/refund/decline", data={"note": ""},
                       follow_redirects=True).get_data(as_text=True)
    assert "Tell the buyer why" in page
    assert _status(part.id) == OrderStatus.REFUND_REQUESTED
    client.post(f"/shop/workspace/orders/{part.id}/refund/approve")
    assert _status(part.id) == OrderStatus.PAID  # one of three refunded: the rest still goes out
    assert factories_shop.reload(line).refunded_quantity == 1
    assert factories_shop.reload(s.plums).stock == 47


def test_a_supplier_sees_only_its_own_sub_orders(client, login, db_session):
    s = factories_cart.shop()
    order = factories_orders.place(s.buyer, {s.oranges: 1})
    factories_cart.pay_by_transfer(order)
    part = order.sub_orders[0]
    login(s.world.owner)  # owner of the plum supplier, not the orange one
    assert client.get(f"/shop/workspace/orders/{part.id}").status_code == 404
    assert client.post(f"/shop/workspace/orders/{part.id}/ship",
                       data={"carrier": "顺丰", "tracking_number": "SF1"}).status_code == 404
    assert order.number not in client.get("/shop/workspace/orders/").get_data(as_text=True)
    assert _status(part.id) == OrderStatus.PAID


def test_shipping_needs_a_carrier_and_a_tracking_number(client, login, db_session):
    s = factories_cart.shop()
    order = factories_orders.place(s.buyer, {s.plums: 1})
    factories_cart.pay_by_transfer(order)
    part = order.sub_orders[0]
    login(s.world.owner)
    response = client.post(f"/shop/workspace/orders/{part.id}/ship",
                           data={"carrier": "顺丰速运", "tracking_number": ""})
    assert response.status_code == 422 and "Give the tracking number" in response.get_data(as_text=True)
    assert _status(part.id) == OrderStatus.PAID


def test_an_administrator_decides_refunds_in_their_region(client, login, db_session):
    s = factories_cart.shop()
    order = factories_orders.place(s.buyer, {s.plums: 2})
    factories_cart.pay_by_transfer(order)
    part = order.sub_orders[0]
    from shop.services import orders

    refund = orders.request_refund(part, lines={part.lines[0].id: 2}, reason="不新鲜", actor=s.buyer)
    login(factories_shop.admin(s.world.province))
    assert "不新鲜" in client.get("/shop/admin/refunds/").get_data(as_text=True)
    client.post(f"/shop/admin/refunds/{refund.id}/approve")
    assert _status(part.id) == OrderStatus.REFUNDED
    assert db.session.get(Product, s.plums.id).stock == 48  # a refund after payment does not restock by itself


def test_my_orders_lists_only_mine(client, login, db_session):
    s = factories_cart.shop()
    mine = factories_orders.place(s.buyer, {s.plums: 1})
    theirs = factories_orders.place(factories.UserFactory(), {s.plums: 1})
    login(s.buyer)
    page = client.get("/shop/orders/").get_data(as_text=True)
    assert mine.number in page and theirs.number not in page


def test_paying_online_sends_the_buyer_to_stripe_and_marks_nothing_paid(client, login, db_session, fake_stripe):
    s = factories_cart.shop()
    order = factories_orders.place(s.buyer, {s.plums: 2})
    login(s.buyer)
    response = client.post(f"/shop/orders/{order.id}/pay", data={"provider": "stripe"})
    assert response.status_code == 303
    assert response.headers["Location"] == "https://checkout.stripe.test/c/pay/cs_test_from_fake"
    sent = fake_stripe.seen[0]["form"]
    assert sent["success_url"] == [f"http://localhost.test/shop/orders/{order.id}/payment-return"]
    client.get(f"/shop/orders/{order.id}/payment-return")
    payment = db.session.execute(sa.select(Payment).where(Payment.reference == "cs_test_from_fake")).scalar_one()
    assert payment.status == PaymentStatus.PENDING
    assert _status(order.sub_orders[0].id) == OrderStatus.PENDING_PAYMENT


def _audit(client, path: str) -> list[str]:
    from tests.core.test_accessibility import _PageAudit

    response = client.get(path)
    assert response.status_code == 200, path
    audit = _PageAudit()
    audit.feed(response.get_data(as_text=True))
    problems = [f"{path}: {audit.h1} <h1>"] if audit.h1 != 1 else []
    for f in audit.fields:
        if not (f["_wrapped"] or f.get("id") in audit.labels_for or f.get("aria-label")):
            problems.append(f"{path}: <{f['_tag']} name={f.get('name')!r}> has no label")
    return problems


def test_the_cart_checkout_and_order_pages_have_one_heading_and_labelled_fields(client, login, db_session):
    s = factories_cart.shop()
    factories_cart.cart_item(s.buyer, s.plums, 1)
    paid = factories_orders.place(s.buyer, {s.plums: 2}, address_region_id=s.world.county.id)
    factories_cart.pay_by_transfer(paid)
    part = paid.sub_orders[0]
    unpaid = factories_orders.place(s.buyer, {s.plums: 1}, address_region_id=s.world.county.id)
    from shop.payments import services as payments
    from shop.services import orders

    payments.start_payment(unpaid, "manual", success_url="", cancel_url="")
    shipped = factories_orders.place(s.buyer, {s.plums: 1})
    factories_cart.pay_by_transfer(shipped)
    login(s.buyer)
    problems = []
    for path in ("/shop/cart", "/shop/checkout", "/shop/orders/", f"/shop/orders/{unpaid.id}",
                 f"/shop/orders/{paid.id}", f"/shop/orders/{paid.id}/parts/{part.id}/refund"):
        problems += _audit(client, path)
    orders.request_refund(part, lines={part.lines[0].id: 1}, reason="压坏了", actor=s.buyer)
    login(s.world.owner)
    for path in ("/shop/workspace/orders/", f"/shop/workspace/orders/{part.id}",
                 f"/shop/workspace/orders/{shipped.sub_orders[0].id}"):
        problems += _audit(client, path)
    login(factories_shop.admin(s.world.province))
    for path in ("/shop/admin/transfers/", "/shop/admin/refunds/"):
        problems += _audit(client, path)
    assert not problems, "\n".join(problems)
