"""Checkout and the order life: stock, splitting, idempotency, every transition allowed and refused."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from core.database import utcnow
from core.errors import InvalidTransition, ValidationFailed
from core.extensions import db
from shop.models import OrderStatus, Product, ProductLot, SubOrder
from shop.models_orders import OrderLineLot, Payment, PaymentStatus
from shop.payments import services as payments
from shop.services import orders
from shop.services.orders import ORDER_TRANSITIONS, OutOfStock
from tests import factories
from tests.shop import factories_orders, factories_shop


def test_checkout_splits_the_order_per_supplier_and_snapshots_prices(db_session):
    _w, plums, oranges, buyer = factories_orders.two_supplier_world()
    order = factories_orders.place(buyer, {plums: 2, oranges: 1})
    assert len(order.sub_orders) == 2
    assert order.total_fen == 2 * 3990 + 5800
    plums.price_fen = 4500  # a later price change does not touch the order
    db.session.flush()
    line = next(line for so in order.sub_orders for line in so.lines if line.product_id == plums.id)
    assert (line.unit_price_fen, line.amount_fen) == (3990, 7980)
    assert db.session.get(Product, plums.id).stock == 48
    assert all(so.status == OrderStatus.PENDING_PAYMENT for so in order.sub_orders)


def test_checkout_takes_the_first_expiring_lot_first(db_session):
    w = factories_shop.world()
    product = factories_shop.product(w.supplier, w.category, w.village, shelf_life_days=30)
    late = factories_shop.add_lot(product, 10, produced_on=date.today())  # noqa: DTZ011
    early = factories_shop.add_lot(product, 4, produced_on=date.today() - timedelta(days=20))  # noqa: DTZ011
    order = factories_orders.place(factories.UserFactory(), {product: 6})
    taken = dict(db.session.execute(sa.select(OrderLineLot.lot_id, OrderLineLot.quantity)).all())
    assert taken == {early.id: 4, late.id: 2}
    assert db.session.get(ProductLot, early.id).remaining == 0
    assert order.total_fen == 6 * product.price_fen


def test_a_double_submit_returns_the_first_order(db_session):
    _w, plums, _oranges, buyer = factories_orders.two_supplier_world()
    first = factories_orders.place(buyer, {plums: 1}, idempotency_key="same-key-123")
    again = factories_orders.place(buyer, {plums: 1}, idempotency_key="same-key-123")
    assert again.id == first.id
    assert db.session.get(Product, plums.id).stock == 49


def test_more_than_the_stock_is_refused_and_nothing_is_written(db_session):
    _w, plums, oranges, buyer = factories_orders.two_supplier_world()
    with pytest.raises(OutOfStock) as err, db.session.begin_nested():
        factories_orders.place(buyer, {plums: 1, oranges: 31})
    assert "巫山恋橙" in err.value.message
    assert db.session.get(Product, plums.id).stock == 50
    assert db.session.get(Product, oranges.id).stock == 30
    assert db.session.execute(sa.select(sa.func.count(SubOrder.id))).scalar() == 0


@pytest.mark.parametrize("quantity", [0, -1, "1.5", "abc", True, 10_001, None])
def test_impossible_quantities_are_refused(db_session, quantity):
    _w, plums, _oranges, buyer = factories_orders.two_supplier_world()
    with pytest.raises(ValidationFailed):
        factories_orders.place(buyer, {plums: quantity})


def test_below_the_minimum_order_quantity_is_refused(db_session):
    w = factories_shop.world()
    rice = factories_shop.product(w.supplier, w.category, w.village, stock=100, min_order_qty=5, name="三星香米")
    with pytest.raises(ValidationFailed, match="5"):
        factories_orders.place(factories.UserFactory(), {rice: 4})


def test_a_product_not_on_sale_cannot_be_ordered(db_session):
    w = factories_shop.world()
    hidden = factories_shop.product(w.supplier, w.category, w.village, stock=10,
                                    status=factories_shop.ProductStatus.PENDING_REVIEW)
    with pytest.raises(ValidationFailed):
        factories_orders.place(factories.UserFactory(), {hidden: 1})


def test_cancelling_puts_the_stock_back_into_the_same_lots(db_session):
    _w, plums, oranges, buyer = factories_orders.two_supplier_world()
    order = factories_orders.place(buyer, {plums: 5, oranges: 2})
    orders.cancel(order, actor=buyer)
    db.session.flush()
    assert db.session.get(Product, plums.id).stock == 50
    assert db.session.execute(sa.select(sa.func.sum(ProductLot.remaining)).where(
        ProductLot.product_id == oranges.id)).scalar() == 30
    assert {so.status for so in order.sub_orders} == {OrderStatus.CANCELLED}


def test_unpaid_orders_are_cancelled_after_the_payment_window(app, db_session):
    _w, plums, _oranges, buyer = factories_orders.two_supplier_world()
    order = factories_orders.place(buyer, {plums: 3})
    assert orders.expire_unpaid(now=utcnow()) == []
    later = utcnow() + timedelta(minutes=app.config["SHOP_UNPAID_ORDER_MINUTES"] + 1)
    assert orders.expire_unpaid(now=later) == [order.id]
    assert db.session.get(Product, plums.id).stock == 50


def test_a_confirmed_transfer_pays_the_order_once(app, db_session):
    _w, plums, oranges, buyer = factories_orders.two_supplier_world()
    admin = factories_shop.admin()
    order = factories_orders.place(buyer, {plums: 1, oranges: 1})
    start = payments.start_payment(order, "manual", success_url="", cancel_url="")
    assert start.payment.reference.startswith("ZF") and start.redirect_url is None
    payments.confirm_transfer(start.payment, bank_transaction="ABC-2026-0001", actor=admin)
    assert {so.status for so in order.sub_orders} == {OrderStatus.PAID}
    with pytest.raises(Exception, match="already paid"):
        payments.confirm_transfer(start.payment, bank_transaction="ABC-2026-0002", actor=admin)
    other = factories_orders.place(buyer, {plums: 1})
    second = payments.start_payment(other, "manual", success_url="", cancel_url="")
    with pytest.raises(Exception, match="already used"):
        payments.confirm_transfer(second.payment, bank_transaction="ABC-2026-0001", actor=admin)


# ---------------------------------------------------------------- the transition table

ACTIONS = ["mark_paid", "cancel", "ship", "confirm_receipt", "complete", "request_refund", "approve_refund",
           "decline_refund"]
TARGET = {"mark_paid": OrderStatus.PAID, "cancel": OrderStatus.CANCELLED, "ship": OrderStatus.SHIPPED,
          "confirm_receipt": OrderStatus.RECEIVED, "complete": OrderStatus.COMPLETED,
          "request_refund": OrderStatus.REFUND_REQUESTED}


def _allowed(start: OrderStatus, action: str) -> bool:
    if action in ("approve_refund", "decline_refund"):
        return start == OrderStatus.REFUND_REQUESTED
    return ORDER_TRANSITIONS.get((start, TARGET[action])) == action


def _perform(action: str, sub_order: SubOrder, buyer, admin):
    order = sub_order.order
    line = sub_order.lines[0]
    if action == "mark_paid":
        orders.mark_paid(order)
    elif action == "cancel":
        orders.cancel(order, actor=buyer)
    elif action == "ship":
        orders.ship(sub_order, carrier="顺丰速运", tracking_number="SF1234567890")
    elif action == "confirm_receipt":
        orders.confirm_receipt(sub_order)
    elif action == "complete":
        orders.complete(sub_order)
    elif action == "request_refund":
        orders.request_refund(sub_order, lines={line.id: 1}, reason="坏果", actor=buyer)
    elif action == "approve_refund":
        orders.approve_refund(sub_order, actor=admin)
    elif action == "decline_refund":
        orders.decline_refund(sub_order, actor=admin, note="照片显示完好")


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("start", list(OrderStatus), ids=lambda s: s.value)
def test_order_transitions_allowed_and_refused(db_session, start, action):
    w = factories_shop.world()
    product = factories_shop.product(w.supplier, w.category, w.village, stock=20)
    buyer, admin = factories.UserFactory(), factories_shop.admin()
    order = factories_orders.place(buyer, {product: 2})
    sub_order = order.sub_orders[0]
    payment = Payment(order=order, provider="manual", amount_fen=order.total_fen, reference=f"ZF-T-{order.id}",
                      status=PaymentStatus.SUCCEEDED)
    db.session.add(payment)
    if start == OrderStatus.REFUND_REQUESTED:
        sub_order.status = OrderStatus.SHIPPED
        orders.request_refund(sub_order, lines={sub_order.lines[0].id: 2}, reason="破损", actor=buyer)
    else:
        sub_order.status = start
    db.session.flush()
    if _allowed(start, action):
        _perform(action, sub_order, buyer, admin)
        db.session.flush()
        if action in TARGET:
            assert sub_order.status == TARGET[action]
        elif action == "approve_refund":
            assert sub_order.status == OrderStatus.REFUNDED  # the whole line was asked back
        else:
            assert sub_order.status == OrderStatus.SHIPPED  # declined: back where it came from
    else:
        with pytest.raises(InvalidTransition):
            _perform(action, sub_order, buyer, admin)


def test_a_partial_refund_returns_the_order_to_where_it_was(db_session):
    w = factories_shop.world()
    product = factories_shop.product(w.supplier, w.category, w.village, stock=20)
    buyer, admin = factories.UserFactory(), factories_shop.admin()
    order = factories_orders.place(buyer, {product: 4})
    start = payments.start_payment(order, "manual", success_url="", cancel_url="")
    payments.confirm_transfer(start.payment, bank_transaction="BANK-77", actor=admin)
    sub_order = order.sub_orders[0]
    orders.ship(sub_order, carrier="邮政EMS", tracking_number="EMS0001")
    orders.request_refund(sub_order, lines={sub_order.lines[0].id: 1}, reason="一箱坏了", actor=buyer)
    refund = orders.approve_refund(sub_order, actor=admin)
    assert sub_order.status == OrderStatus.SHIPPED
    assert sub_order.lines[0].refunded_quantity == 1
    assert refund.amount_fen == product.price_fen
    assert start.payment.status == PaymentStatus.PARTIALLY_REFUNDED
    with pytest.raises(ValidationFailed):
        orders.request_refund(sub_order, lines={sub_order.lines[0].id: 4}, reason="全部", actor=buyer)


def test_completion_counts_sales(db_session):
    w = factories_shop.world()
    product = factories_shop.product(w.supplier, w.category, w.village, stock=20)
    order = factories_orders.place(factories.UserFactory(), {product: 3})
    sub_order = order.sub_orders[0]
    for step in (lambda: orders.mark_paid(order),
                 lambda: orders.ship(sub_order, carrier="顺丰", tracking_number="SF1"),
                 lambda: orders.confirm_receipt(sub_order),
                 lambda: orders.complete(sub_order)):
        step()
    db.session.flush()
    db.session.expire_all()
    assert db.session.get(Product, product.id).sold_quantity == 3


def test_time_moves_shipped_orders_to_received_then_completed(app, db_session):
    w = factories_shop.world()
    product = factories_shop.product(w.supplier, w.category, w.village, stock=20)
    order = factories_orders.place(factories.UserFactory(), {product: 1})
    sub_order = order.sub_orders[0]
    orders.mark_paid(order)
    orders.ship(sub_order, carrier="顺丰", tracking_number="SF2")
    db.session.flush()
    soon = utcnow() + timedelta(days=1)
    assert orders.advance_by_time(now=soon) == {"received": 0, "completed": 0}
    later = utcnow() + timedelta(days=app.config["SHOP_AUTO_RECEIVE_DAYS"] + 1)
    assert orders.advance_by_time(now=later)["received"] == 1
    much_later = later + timedelta(days=app.config["SHOP_COMPLETE_AFTER_DAYS"] + 1)
    assert orders.advance_by_time(now=much_later)["completed"] == 1
    assert sub_order.status == OrderStatus.COMPLETED
