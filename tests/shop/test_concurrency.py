"""Races on a real PostgreSQL server: many buyers for the last units, and a webhook racing itself.

These need row locks and concurrent transactions, so they run with committed
data and clean up after themselves. SQLite serialises every writer, so there
is no race to test there; CI runs this module in its PostgreSQL pass.
"""

from __future__ import annotations

import threading
import uuid

import pytest
import sqlalchemy as sa

from core.errors import DomainError
from core.extensions import db
from shop.models import Order, OrderLine, OrderStatus, Product, ProductLot, SubOrder
from shop.models_orders import Payment, PaymentEvent, PaymentStatus
from shop.payments import services as payments
from shop.services import checkout, orders
from tests import factories
from tests.shop import factories_shop

pytestmark = pytest.mark.postgres


@pytest.fixture()
def request_context(app):
    """Overrides the shop's autouse fixture: these tests commit for real, on connections of their own,
    instead of inside the rolled-back test transaction."""
    with app.test_request_context():
        yield


@pytest.fixture()
def committed(app, request_context):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("row-lock races need PostgreSQL (set DATABASE_URL); SQLite serialises writers")
        yield
        db.session.remove()
        tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables if t.name != "alembic_version")
        with db.engine.begin() as conn:
            conn.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


def _run_threads(app, n, target):
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def worker(i):
        with app.app_context():
            barrier.wait()
            try:
                results[i] = target(i)
            except Exception as exc:  # recorded and asserted on by the test
                db.session.rollback()
                results[i] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    db.session.expire_all()  # this thread's identity map still holds what it loaded before the race
    return results


def test_twenty_buyers_racing_for_the_last_five_units_buy_exactly_five(app, committed):
    w = factories_shop.world()
    product = factories_shop.product(w.supplier, w.category, w.village, name="巫山脆李 最后五箱")
    factories_shop.add_lot(product, 3)
    factories_shop.add_lot(product, 2)
    buyers = [factories.UserFactory() for _ in range(20)]
    db.session.commit()
    product_id, buyer_ids = product.id, [b.id for b in buyers]

    def buy(i):
        buyer = db.session.get(type(buyers[0]), buyer_ids[i])
        order = checkout.place_order(buyer=buyer, items={product_id: 1}, recipient_name="买家",
                                     recipient_phone="13800138000", address="重庆市万州区高笋塘1号",
                                     idempotency_key=uuid.uuid4().hex)
        db.session.commit()
        return order.id

    results = _run_threads(app, 20, buy)
    placed = [r for r in results if isinstance(r, int)]
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(placed) == 5
    assert len(refused) == 15
    assert all(isinstance(r, orders.OutOfStock) for r in refused), refused
    assert all("does not have 1 left" in r.message for r in refused)
    sold = db.session.execute(sa.select(sa.func.sum(OrderLine.quantity)).where(OrderLine.product_id == product_id))
    assert sold.scalar() == 5
    assert db.session.get(Product, product_id).stock == 0
    assert db.session.execute(sa.select(sa.func.sum(ProductLot.remaining)).where(
        ProductLot.product_id == product_id)).scalar() == 0


def test_a_double_submit_at_the_same_moment_makes_one_order(app, committed):
    w = factories_shop.world()
    product = factories_shop.product(w.supplier, w.category, w.village, stock=10)
    buyer = factories.UserFactory()
    db.session.commit()
    product_id, buyer_id = product.id, buyer.id

    def submit(i):
        order = checkout.place_order(buyer=db.session.get(type(buyer), buyer_id), items={product_id: 2},
                                     recipient_name="买家", recipient_phone="13800138000",
                                     address="重庆市万州区高笋塘1号", idempotency_key="double-click-0001")
        db.session.commit()
        return order.id

    results = _run_threads(app, 4, submit)
    ids = {r for r in results if isinstance(r, int)}
    errors = [r for r in results if isinstance(r, Exception)]
    # The losers either see the winner's order or hit the unique key; none makes a second order.
    assert len(ids) <= 1
    assert all(isinstance(e, sa.exc.IntegrityError | DomainError) for e in errors), errors
    assert db.session.execute(sa.select(sa.func.count(Order.id))).scalar() == 1
    assert db.session.get(Product, product_id).stock == 8


def test_a_webhook_racing_a_transfer_confirmation_pays_once(app, committed):
    w = factories_shop.world()
    product = factories_shop.product(w.supplier, w.category, w.village, stock=10)
    buyer, admin = factories.UserFactory(), factories_shop.admin()
    db.session.commit()
    order = checkout.place_order(buyer=buyer, items={product.id: 1}, recipient_name="买家",
                                 recipient_phone="13800138000", address="重庆市万州区高笋塘1号",
                                 idempotency_key=uuid.uuid4().hex)
    manual = payments.start_payment(order, "manual", success_url="", cancel_url="").payment
    card = Payment(order=order, provider="stripe", amount_fen=order.total_fen, reference="cs_race")
    db.session.add(card)
    db.session.commit()
    manual_id, admin_id, order_id = manual.id, admin.id, order.id

    class _Event:
        def __init__(self, n):
            self.id, self.type, self.created = f"evt_race_{n}", "checkout.session.completed", None
            obj = {"id": "cs_race", "payment_status": "paid", "payment_intent": "pi_race"}
            self.data = type("D", (), {"object": type("O", (), {"to_dict": staticmethod(lambda: obj)})})()

    def act(i):
        if i % 2 == 0:
            payments.handle_stripe_event(_Event(i))  # the same event delivered three times at once
        else:
            payments.confirm_transfer(db.session.get(Payment, manual_id), bank_transaction=f"BANK-{i}",
                                      actor=db.session.get(type(admin), admin_id))
        db.session.commit()
        return True

    _run_threads(app, 6, act)
    succeeded = db.session.execute(
        sa.select(sa.func.count(Payment.id)).where(Payment.order_id == order_id,
                                                   Payment.status == PaymentStatus.SUCCEEDED)
    ).scalar()
    assert succeeded == 1
    statuses = set(db.session.execute(sa.select(SubOrder.status).where(SubOrder.order_id == order_id)).scalars())
    assert statuses == {OrderStatus.PAID}
    assert db.session.execute(sa.select(sa.func.count(PaymentEvent.id))).scalar() <= 3
