"""Who may see which order, and the reads behind the order pages and the order API.

Someone else's order answers as if it did not exist (NotFound), so order ids
cannot be probed. Reads load what a page shows in a fixed number of queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload, selectinload

from core.errors import NotFound
from core.extensions import db
from core.registry.services import region_scope
from shop.models import Order, OrderKind, OrderStatus, SubOrder, Supplier
from shop.models_orders import Payment, PaymentProviderName, PaymentStatus, RefundRequest, RefundStatus

# Procurement orders are shop orders too (kind PROCUREMENT) but follow the procurement domain's own
# flow and pages; every consumer-facing read here leaves them out.
CONSUMER_ORDER = Order.kind == OrderKind.CONSUMER
CONSUMER_SUB_ORDER = SubOrder.order.has(Order.kind == OrderKind.CONSUMER)

_ORDER_LOAD = (
    selectinload(Order.sub_orders).joinedload(SubOrder.supplier),
    selectinload(Order.sub_orders).selectinload(SubOrder.lines),
)


def buyer_order(order_id: int, user, *, lock: bool = False) -> Order:
    """The order ``order_id`` of ``user``; NotFound for anyone else's. ``lock`` takes the row lock that
    payments take too, so a cancel and a payment confirmation serialise."""
    stmt = sa.select(Order).where(Order.id == order_id, Order.buyer_id == user.id, CONSUMER_ORDER)
    if lock:
        stmt = stmt.with_for_update()
    order = db.session.execute(stmt.options(*_ORDER_LOAD)).scalar_one_or_none()
    if order is None:
        raise NotFound(_("No such order."))
    return order


def buyer_sub_order(order: Order, sub_order_id: int) -> SubOrder:
    for sub_order in order.sub_orders:
        if sub_order.id == sub_order_id:
            return sub_order
    raise NotFound(_("No such order."))


def buyer_orders(user) -> sa.Select:
    """The buyer's orders, newest first (for pagination)."""
    return (sa.select(Order).where(Order.buyer_id == user.id, CONSUMER_ORDER).options(*_ORDER_LOAD)
            .order_by(Order.created_at.desc(), Order.id.desc()))


def order_status(order: Order) -> OrderStatus:
    """One status for the whole order: its sub-orders' when they agree, else the least advanced live one."""
    statuses = {so.status for so in order.sub_orders}
    if len(statuses) == 1:
        return statuses.pop()
    for status in (OrderStatus.PENDING_PAYMENT, OrderStatus.REFUND_REQUESTED, OrderStatus.PAID,
                   OrderStatus.SHIPPED, OrderStatus.RECEIVED, OrderStatus.COMPLETED, OrderStatus.REFUNDED):
        if status in statuses:
            return status
    return OrderStatus.CANCELLED


def is_unpaid(order: Order) -> bool:
    return all(so.status == OrderStatus.PENDING_PAYMENT for so in order.sub_orders)


def payments_of(order_id: int) -> list[Payment]:
    return list(db.session.execute(
        sa.select(Payment).where(Payment.order_id == order_id).order_by(Payment.id)
    ).scalars())


def open_transfer(order_id: int) -> Payment | None:
    """The bank transfer the buyer was told to make and that nobody has confirmed yet."""
    return db.session.execute(
        sa.select(Payment).where(Payment.order_id == order_id, Payment.provider == PaymentProviderName.MANUAL,
                                 Payment.status == PaymentStatus.PENDING).order_by(Payment.id.desc())
    ).scalars().first()


def refunds_of(sub_order_ids: list[int]) -> dict[int, list[RefundRequest]]:
    out: dict[int, list[RefundRequest]] = {i: [] for i in sub_order_ids}
    if not sub_order_ids:
        return out
    for refund in db.session.execute(
        sa.select(RefundRequest).where(RefundRequest.sub_order_id.in_(sub_order_ids)).order_by(RefundRequest.id)
    ).scalars():
        out[refund.sub_order_id].append(refund)
    return out


@dataclass
class Event:
    at: datetime
    label: str
    note: str = ""


_STEP_LABELS = (
    ("paid_at", _l("Paid")),
    ("shipped_at", _l("Shipped")),
    ("received_at", _l("Received")),
    ("completed_at", _l("Completed")),
    ("cancelled_at", _l("Cancelled")),
)


def timeline(order: Order, sub_order: SubOrder, refunds: list[RefundRequest]) -> list[Event]:
    """What happened to one sub-order, oldest first, from its timestamps and refund requests."""
    events = [Event(order.created_at, str(_l("Order placed")))]
    for attr, label in _STEP_LABELS:
        at = getattr(sub_order, attr)
        if at is not None:
            note = f"{sub_order.carrier} {sub_order.tracking_number}" if attr == "shipped_at" else ""
            events.append(Event(at, str(label), note))
    for refund in refunds:
        events.append(Event(refund.created_at, str(_l("Refund requested")), refund.reason))
        if refund.decided_at is not None:
            label = _l("Refunded") if refund.status == RefundStatus.REFUNDED else _l("Refund declined")
            events.append(Event(refund.decided_at, str(label), refund.decision_note or ""))
    return sorted(events, key=lambda e: e.at)


# ---------------------------------------------------------------- suppliers and administrators


def supplier_sub_orders(supplier: Supplier, status: OrderStatus | None) -> sa.Select:
    stmt = (sa.select(SubOrder).where(SubOrder.supplier_id == supplier.id, CONSUMER_SUB_ORDER)
            .options(joinedload(SubOrder.order), selectinload(SubOrder.lines))
            .order_by(SubOrder.id.desc()))
    if status is not None:
        stmt = stmt.where(SubOrder.status == status)
    return stmt


def supplier_sub_order(sub_order_id: int, supplier: Supplier, *, lock: bool = False) -> SubOrder:
    stmt = sa.select(SubOrder).where(SubOrder.id == sub_order_id, SubOrder.supplier_id == supplier.id,
                                     CONSUMER_SUB_ORDER)
    if lock:
        stmt = stmt.with_for_update(of=SubOrder)  # not the joined order row (an outer join cannot be locked)
    sub_order = db.session.execute(stmt.options(joinedload(SubOrder.order),
                                                selectinload(SubOrder.lines))).scalar_one_or_none()
    if sub_order is None:
        raise NotFound(_("No such order."))
    return sub_order


def pending_transfers(user) -> sa.Select:
    """Bank transfers waiting for confirmation on orders delivered into the administrator's region."""
    waiting = sa.select(SubOrder.order_id).where(SubOrder.status == OrderStatus.PENDING_PAYMENT)
    return (sa.select(Payment).join(Order, Order.id == Payment.order_id)
            .where(Payment.provider == PaymentProviderName.MANUAL, Payment.status == PaymentStatus.PENDING,
                   Order.id.in_(waiting), CONSUMER_ORDER, region_scope(user, Order.address_region_id))
            .options(joinedload(Payment.order))
            .order_by(Payment.created_at, Payment.id))


def transfer_for_admin(payment_id: int, user) -> Payment:
    payment = db.session.execute(
        sa.select(Payment).join(Order, Order.id == Payment.order_id)
        .where(Payment.id == payment_id, CONSUMER_ORDER, region_scope(user, Order.address_region_id))
    ).scalar_one_or_none()
    if payment is None:
        raise NotFound(_("No such payment."))
    return payment


def open_refunds_for_admin(user) -> sa.Select:
    """Open refund requests on sub-orders of suppliers in the administrator's region."""
    return (sa.select(RefundRequest).join(SubOrder, SubOrder.id == RefundRequest.sub_order_id)
            .join(Supplier, Supplier.id == SubOrder.supplier_id)
            .where(RefundRequest.status == RefundStatus.REQUESTED, CONSUMER_SUB_ORDER,
                   region_scope(user, Supplier.county_id))
            .options(joinedload(RefundRequest.sub_order).joinedload(SubOrder.order),
                     joinedload(RefundRequest.sub_order).joinedload(SubOrder.supplier))
            .order_by(RefundRequest.created_at, RefundRequest.id))


def refund_for_admin(refund_id: int, user) -> RefundRequest:
    refund = db.session.execute(
        sa.select(RefundRequest).join(SubOrder, SubOrder.id == RefundRequest.sub_order_id)
        .join(Supplier, Supplier.id == SubOrder.supplier_id)
        .where(RefundRequest.id == refund_id, CONSUMER_SUB_ORDER, region_scope(user, Supplier.county_id))
    ).scalar_one_or_none()
    if refund is None:
        raise NotFound(_("No such refund request."))
    return refund
