"""Alerts test data: products with lots and sales on chosen days, and a warning for the role matrix."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta

from alerts.models import AlertRun, Warning, WarningCause, WarningLevel, WarningStatus
from core.extensions import db
from core.registry.models import RegionLevel
from shop.models import Order, OrderKind, OrderLine, OrderStatus, Product, ProductLot, SubOrder
from tests import factories
from tests.shop import factories_shop

_n = itertools.count(1)


def at(day: date, hour: int = 12) -> datetime:
    """Noon (Asia/Shanghai) of ``day`` as UTC: well inside that local day."""
    return datetime.combine(day, time(hour - 8), UTC)


def lot(product: Product, quantity: int, expires_on: date, produced_on: date | None = None) -> ProductLot:
    row = ProductLot(product_id=product.id, quantity=quantity, remaining=quantity,
                     produced_on=produced_on or expires_on - timedelta(days=product.shelf_life_days),
                     expires_on=expires_on)
    db.session.add(row)
    product.stock += quantity
    db.session.flush()
    return row


def sale(product: Product, quantity: int, day: date, *, buyer=None, status: OrderStatus = OrderStatus.COMPLETED,
         unit_price_fen: int | None = None, kind: OrderKind = OrderKind.CONSUMER) -> OrderLine:
    """One order of ``quantity`` on ``day``; stock is not touched (the figures read order lines)."""
    buyer = buyer or factories.UserFactory()
    price = unit_price_fen or product.price_fen
    n = next(_n)
    order = Order(number=f"AT{n:010d}", kind=kind, buyer_id=buyer.id, idempotency_key=f"alerts-{n}",
                  total_fen=price * quantity, recipient_name="收货人", recipient_phone="13800138000",
                  address="测试地址", created_at=at(day))
    db.session.add(order)
    db.session.flush()
    sub = SubOrder(order_id=order.id, supplier_id=product.supplier_id, status=status, subtotal_fen=price * quantity)
    db.session.add(sub)
    db.session.flush()
    line = OrderLine(sub_order_id=sub.id, product_id=product.id, product_name=product.name, quantity=quantity,
                     unit_price_fen=price, amount_fen=price * quantity, created_at=at(day))
    db.session.add(line)
    db.session.flush()
    return line


def role_matrix_samples(chain: dict) -> dict:
    """URL parameter samples for tests/core/test_role_matrix.py: an open warning inside ``chain``."""
    seller = factories.supplier(chain[RegionLevel.COUNTY])
    item = factories_shop.product(seller, factories_shop.category(), chain[RegionLevel.VILLAGE], stock=0)
    run = AlertRun(run_on=date(2001, 1, next(_n) % 28 + 1))
    db.session.add(run)
    db.session.flush()
    warning = Warning(product_id=item.id, cause=WarningCause.SPOILAGE, status=WarningStatus.OPEN,
                      level=WarningLevel.YELLOW, rule="spoilage", playbook="promote", amount_at_risk_fen=150_000,
                      days_left=10, figures={}, first_run_id=run.id, last_run_id=run.id)
    db.session.add(warning)
    db.session.flush()
    return {"warning_id": warning.id}
