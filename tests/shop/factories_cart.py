"""Cart and order-page test data: a buyer with orders in each state the pages act on."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from flask import current_app

from core.accounts.models import User
from core.extensions import db
from core.registry.models import RegionLevel
from shop.models import Order, Product
from shop.models_cart import CartItem
from shop.models_orders import Payment
from shop.payments import services as payments
from shop.services import orders
from tests import factories
from tests.shop import factories_orders, factories_shop


def cart_item(user: User, product: Product, quantity: int) -> CartItem:
    row = CartItem(user_id=user.id, product_id=product.id, quantity=quantity)
    db.session.add(row)
    db.session.flush()
    return row


def pay_by_transfer(order: Order, bank_transaction: str | None = None) -> Payment:
    """Start a bank transfer and record it as arrived, the way a confirming administrator does."""
    start = payments.start_payment(order, "manual", success_url="", cancel_url="")
    payments.record_success(start.payment, provider_payment_id=bank_transaction or f"CART-{uuid.uuid4().hex[:16]}")
    db.session.flush()
    return start.payment


@dataclass
class Shop:
    world: factories_shop.World
    plums: Product
    oranges: Product
    buyer: User


def shop() -> Shop:
    w, plums, oranges, buyer = factories_orders.two_supplier_world()
    return Shop(world=w, plums=plums, oranges=oranges, buyer=buyer)


def role_matrix_samples(chain: dict) -> dict:
    """URL samples for tests/core/test_role_matrix.py inside ``chain``: an unpaid order with a bank
    transfer waiting for confirmation, and a paid order whose supplier part has an open refund request."""
    with current_app.test_request_context():
        county, village = chain[RegionLevel.COUNTY], chain[RegionLevel.VILLAGE]
        seller = factories.supplier(county)
        item = factories_shop.product(seller, factories_shop.category(), village, stock=20)
        buyer = factories.UserFactory()
        unpaid = factories_orders.place(buyer, {item: 1}, address_region_id=county.id)
        transfer = payments.start_payment(unpaid, "manual", success_url="", cancel_url="").payment
        paid = factories_orders.place(buyer, {item: 2}, address_region_id=county.id)
        pay_by_transfer(paid)
        part = paid.sub_orders[0]
        refund = orders.request_refund(part, lines={part.lines[0].id: 1}, reason="压坏了", actor=buyer)
        orders.discard_pending_signals()
        db.session.flush()
        return {
            "order_id": unpaid.id,
            "sub_order_id": part.id,
            "payment_id": transfer.id,
            "refund_id": refund.id,
            "shop.supplier_refund_decision:action": "decline",
            "shop.admin_refund_decision:action": "decline",
        }
