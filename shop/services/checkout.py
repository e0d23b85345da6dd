"""Checkout: one order per submit, split per supplier, prices snapshotted, stock reserved.

A double submit carries the same idempotency key and gets the first order back
(a unique constraint on buyer + key decides, inserted before any stock is
touched). Prices always come from the database, never from the form.
"""

from __future__ import annotations

import re
import secrets
from collections import defaultdict
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import contains_eager

from core.database import utcnow
from core.errors import ValidationFailed
from core.extensions import db
from core.personal_data import normalise_phone
from shop.models import Order, OrderKind, OrderLine, Product, ProductStatus, SubOrder, Supplier, SupplierStatus
from shop.models_orders import OrderLineLot
from shop.services import orders

MAX_QUANTITY = 10_000
MAX_LINES = 50
_KEY_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def order_number() -> str:
    return f"{utcnow():%Y%m%d}{secrets.randbelow(10**10):010d}"


def find_by_idempotency_key(buyer_id: int, key: str) -> Order | None:
    return db.session.execute(
        sa.select(Order).where(Order.buyer_id == buyer_id, Order.idempotency_key == key)
    ).scalar_one_or_none()


def clean_quantities(items: dict[int, object]) -> dict[int, int]:
    """``{product_id: quantity}`` from a form or JSON: whole numbers from 1 to 10,000."""
    if not items:
        raise ValidationFailed(_("Your cart is empty."), field="items")
    if len(items) > MAX_LINES:
        raise ValidationFailed(_("At most %(n)d different products per order.", n=MAX_LINES), field="items")
    clean: dict[int, int] = {}
    for raw_id, raw_qty in items.items():
        try:
            product_id = int(raw_id)
        except (TypeError, ValueError):
            raise ValidationFailed(_("Unknown product."), field="items") from None
        if isinstance(raw_qty, bool) or not isinstance(raw_qty, (int, str)) or not str(raw_qty).strip().isdigit():
            raise ValidationFailed(_("Quantities are whole numbers."), field="items")
        quantity = int(str(raw_qty).strip())
        if not 1 <= quantity <= MAX_QUANTITY:
            raise ValidationFailed(_("Quantities go from 1 to %(n)d.", n=MAX_QUANTITY), field="items")
        clean[product_id] = quantity
    return clean


def place_order(
    *, buyer, items: dict[int, object], recipient_name: str, recipient_phone: str, address: str,
    idempotency_key: str, address_region_id: int | None = None, referral_code: str | None = None,
    kind: OrderKind = OrderKind.CONSUMER,
) -> Order:
    if not _KEY_RE.match(idempotency_key or ""):
        raise ValidationFailed(_("The form is missing its submission key; reload the page."), field="idempotency_key")
    existing = find_by_idempotency_key(buyer.id, idempotency_key)
    if existing is not None:
        return existing
    quantities = clean_quantities(items)
    recipient_name, address = (recipient_name or "").strip(), (address or "").strip()
    if not recipient_name or len(recipient_name) > 40:
        raise ValidationFailed(_("Give the recipient's name (up to 40 characters)."), field="recipient_name")
    if len(address) < 5 or len(address) > 255:
        raise ValidationFailed(_("Give the full delivery address."), field="address")
    phone = normalise_phone(recipient_phone)

    products = {
        p.id: p for p in db.session.execute(
            sa.select(Product).join(Product.supplier).options(contains_eager(Product.supplier))
            .where(Product.id.in_(quantities), Product.status == ProductStatus.LISTED,
                   Supplier.status == SupplierStatus.APPROVED)
        ).scalars()
    }
    for product_id, quantity in quantities.items():
        product = products.get(product_id)
        if product is None:
            raise ValidationFailed(_("A product in your cart is no longer on sale."), field="items",
                                   details={"product_id": product_id})
        if quantity < product.min_order_qty:
            raise ValidationFailed(_("%(name)s is sold from %(n)d %(unit)s.", name=product.name,
                                     n=product.min_order_qty, unit=product.sales_unit), field="items",
                                   details={"product_id": product_id})

    # The order, its parts (one per supplier) and their lines are built whole, so that they are all in memory
    # for the answer; one flush writes them and checks the (buyer, key) unique constraint before stock moves:
    # a concurrent double submit waits on it and then fails cleanly.
    now = utcnow()
    by_supplier: dict[int, list[Product]] = defaultdict(list)
    for product_id in sorted(quantities):
        by_supplier[products[product_id].supplier_id].append(products[product_id])
    line_of: dict[int, OrderLine] = {}
    sub_orders = []
    for _supplier_id, supplier_products in sorted(by_supplier.items()):
        lines = []
        for product in supplier_products:
            quantity = quantities[product.id]
            line_of[product.id] = OrderLine(product_id=product.id, product_name=product.name, quantity=quantity,
                                            unit_price_fen=product.price_fen,
                                            amount_fen=quantity * product.price_fen, created_at=now)
            lines.append(line_of[product.id])
        sub_orders.append(SubOrder(supplier=supplier_products[0].supplier,
                                   subtotal_fen=sum(line.amount_fen for line in lines), lines=lines))
    order = Order(
        number=order_number(), kind=kind, buyer_id=buyer.id, idempotency_key=idempotency_key,
        total_fen=sum(so.subtotal_fen for so in sub_orders), recipient_name=recipient_name,
        recipient_phone=phone, address=address, address_region_id=address_region_id,
        referral_code=(referral_code or None), created_at=now, sub_orders=sub_orders,
        payment_due_at=now + timedelta(minutes=current_app.config["SHOP_UNPAID_ORDER_MINUTES"]),
    )
    db.session.add(order)
    db.session.flush()

    allocations = orders.reserve_stock(quantities)
    db.session.execute(
        sa.insert(OrderLineLot),
        [{"order_line_id": line_of[pid].id, "lot_id": lot_id, "quantity": q}
         for pid, plan in allocations.items() for lot_id, q in plan],
    )
    for product_id in quantities:
        orders.queue_signal("product_changed", product_id=product_id)
    return order
