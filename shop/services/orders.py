"""Order life: stock reserved first-expiring first, and one checked function per transition.

The life is carried by the sub-order (the part one supplier fulfils):

    pending_payment → paid → shipped → received → completed
    pending_payment → cancelled                       (buyer, or unpaid too long)
    paid | shipped | received | completed → refund_requested
    refund_requested → refunded                       (every line refunded)
    refund_requested → the status it came from        (refund declined, or only some lines refunded)

``ORDER_TRANSITIONS`` is the whole table; each function checks the state it
starts from and raises ``InvalidTransition`` otherwise. Functions add and flush;
the caller commits once and then sends the signals listed in ``pending_signals``.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app, g
from flask_babel import gettext as _

from core import audit
from core.database import utcnow
from core.errors import Conflict, Forbidden, InvalidTransition, ValidationFailed
from core.extensions import db
from shop.models import Order, OrderKind, OrderLine, OrderStatus, Product, ProductLot, ProductStatus, SubOrder
from shop.models_orders import OrderLineLot, RefundRequest, RefundStatus
from shop.services import attribution  # benefit attribution hooks in complete() and approve_refund()

S = OrderStatus
ORDER_TRANSITIONS: dict[tuple[OrderStatus, OrderStatus], str] = {
    (S.PENDING_PAYMENT, S.PAID): "mark_paid",
    (S.PENDING_PAYMENT, S.CANCELLED): "cancel",
    (S.PAID, S.SHIPPED): "ship",
    (S.SHIPPED, S.RECEIVED): "confirm_receipt",
    (S.RECEIVED, S.COMPLETED): "complete",
    (S.PAID, S.REFUND_REQUESTED): "request_refund",
    (S.SHIPPED, S.REFUND_REQUESTED): "request_refund",
    (S.RECEIVED, S.REFUND_REQUESTED): "request_refund",
    (S.COMPLETED, S.REFUND_REQUESTED): "request_refund",
    (S.REFUND_REQUESTED, S.REFUNDED): "approve_refund",
    # Declined, or only part refunded: back to where the request came from.
    (S.REFUND_REQUESTED, S.PAID): "resolve_refund",
    (S.REFUND_REQUESTED, S.SHIPPED): "resolve_refund",
    (S.REFUND_REQUESTED, S.RECEIVED): "resolve_refund",
    (S.REFUND_REQUESTED, S.COMPLETED): "resolve_refund",
}
TIMESTAMP_OF = {
    S.PAID: "paid_at",
    S.SHIPPED: "shipped_at",
    S.RECEIVED: "received_at",
    S.COMPLETED: "completed_at",
    S.CANCELLED: "cancelled_at",
}


class OutOfStock(Conflict):
    code = "out_of_stock"


def _move(sub_order: SubOrder, target: OrderStatus, action: str, at=None, **audit_after) -> None:
    current = sub_order.status
    if ORDER_TRANSITIONS.get((current, target)) != action:
        raise InvalidTransition(
            _("Order %(number)s is %(status)s and cannot be moved to %(target)s.",
              number=sub_order.order.number, status=current.value, target=target.value)
        )
    sub_order.status = target
    if target in TIMESTAMP_OF:
        setattr(sub_order, TIMESTAMP_OF[target], at or utcnow())
    audit.record(f"order.{action}", "sub_order", sub_order.id, before={"status": current.value},
                 after={"status": target.value, **audit_after})


def queue_signal(name: str, **kwargs) -> None:
    """Remember a signal to send after the caller's commit (see ``send_pending_signals``)."""
    g.setdefault("shop_pending_signals", []).append((name, kwargs))


def send_pending_signals() -> None:
    from shop import signals

    for name, kwargs in g.pop("shop_pending_signals", []):
        getattr(signals, name).send(current_app._get_current_object(), **kwargs)


def discard_pending_signals() -> None:
    g.pop("shop_pending_signals", None)


# ---------------------------------------------------------------- stock


def _expire_loaded(model, ids: set[int]) -> None:
    """Core statements bypass the identity map: make loaded rows re-read their new values."""
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, model) and obj.id in ids:
            db.session.expire(obj)


def reserve_stock(quantities: dict[int, int]) -> dict[int, list[tuple[int, int]]]:
    """Take ``{product_id: quantity}`` out of stock, first-expiring lots first.

    Each product's row is decremented with a guarded UPDATE (``stock >= q``), so
    concurrent checkouts can never sell more than there is: the loser's UPDATE
    matches no row and the whole checkout fails with ``OutOfStock``. Products
    are locked in id order so that two carts never deadlock.
    Returns ``{product_id: [(lot_id, quantity), ...]}``.
    """
    allocations: dict[int, list[tuple[int, int]]] = {}
    for product_id in sorted(quantities):
        quantity = quantities[product_id]
        taken = db.session.execute(
            sa.update(Product)
            .where(Product.id == product_id, Product.status == ProductStatus.LISTED, Product.stock >= quantity)
            .values(stock=Product.stock - quantity)
            .returning(Product.id)
        ).first()
        if taken is None:
            name = db.session.execute(sa.select(Product.name).where(Product.id == product_id)).scalar()
            raise OutOfStock(_("Sorry, %(name)s does not have %(n)d left any more. Lower the quantity or "
                               "choose another product.", name=name or "?", n=quantity),
                             details={"product_id": product_id})
        # The product row is now locked by this transaction, so its lots are ours to split.
        lots = db.session.execute(
            sa.select(ProductLot.id, ProductLot.remaining)
            .where(ProductLot.product_id == product_id, ProductLot.remaining > 0)
            .order_by(ProductLot.expires_on, ProductLot.id)
        ).all()
        need, plan = quantity, []
        for lot_id, remaining in lots:
            if need == 0:
                break
            take = min(need, remaining)
            plan.append((lot_id, take))
            need -= take
        if need:
            # product.stock said yes but the lots disagree: refuse rather than oversell.
            raise OutOfStock(_("Stock records of this product disagree; please try again later."),
                             details={"product_id": product_id})
        lot_table = ProductLot.__table__  # Core statement: executemany with our own bind names
        db.session.execute(
            sa.update(lot_table).where(lot_table.c.id == sa.bindparam("lot_id"))
            .values(remaining=lot_table.c.remaining - sa.bindparam("take")),
            [{"lot_id": lot_id, "take": take} for lot_id, take in plan],
        )
        _expire_loaded(ProductLot, {lot_id for lot_id, _take in plan})
        allocations[product_id] = plan
    return allocations


def release_stock(sub_orders: list[SubOrder]) -> None:
    """Put the stock of cancelled sub-orders back into the lots it came from (set-based)."""
    line_ids = [line.id for so in sub_orders for line in so.lines]
    if not line_ids:
        return
    rows = db.session.execute(
        sa.select(OrderLineLot.lot_id, ProductLot.product_id, OrderLineLot.quantity)
        .join(ProductLot, ProductLot.id == OrderLineLot.lot_id)
        .where(OrderLineLot.order_line_id.in_(line_ids))
    ).all()
    per_lot: dict[int, int] = defaultdict(int)
    per_product: dict[int, int] = defaultdict(int)
    for lot_id, product_id, quantity in rows:
        per_lot[lot_id] += quantity
        per_product[product_id] += quantity
    for product_id in sorted(per_product):
        db.session.execute(
            sa.update(Product).where(Product.id == product_id).values(stock=Product.stock + per_product[product_id])
        )
    if per_lot:
        lot_table = ProductLot.__table__
        db.session.execute(
            sa.update(lot_table).where(lot_table.c.id == sa.bindparam("lot_id"))
            .values(remaining=lot_table.c.remaining + sa.bindparam("back")),
            [{"lot_id": k, "back": v} for k, v in per_lot.items()],
        )
        _expire_loaded(ProductLot, set(per_lot))
    db.session.execute(sa.delete(OrderLineLot).where(OrderLineLot.order_line_id.in_(line_ids)))
    for product_id in per_product:
        queue_signal("product_changed", product_id=product_id)


# ---------------------------------------------------------------- transitions


def mark_paid(order: Order) -> None:
    """Every sub-order of ``order`` is paid. Only payments call this (a webhook or a confirmed transfer)."""
    for sub_order in order.sub_orders:
        _move(sub_order, S.PAID, "mark_paid")
    queue_signal("order_paid", order_id=order.id)


def cancel(order: Order, *, actor=None, reason: str = "") -> None:
    """Cancel an unpaid order and give its stock back."""
    if actor is not None and actor.id != order.buyer_id:
        raise Forbidden(_("Only the buyer can cancel this order."))
    for sub_order in order.sub_orders:
        _move(sub_order, S.CANCELLED, "cancel", reason=reason[:200])
    release_stock(order.sub_orders)
    queue_signal("order_cancelled", order_id=order.id)


def expire_unpaid(now=None) -> list[int]:
    """Cancel orders whose payment is overdue (SHOP_UNPAID_ORDER_MINUTES); returns their ids."""
    now = now or utcnow()
    overdue = db.session.execute(
        sa.select(Order).where(
            Order.payment_due_at < now,
            Order.kind == OrderKind.CONSUMER,
            Order.id.in_(sa.select(SubOrder.order_id).where(SubOrder.status == S.PENDING_PAYMENT)),
        ).with_for_update(skip_locked=True)
    ).scalars().all()
    for order in overdue:
        cancel(order, reason="payment overdue")
    return [o.id for o in overdue]


def ship(sub_order: SubOrder, *, carrier: str, tracking_number: str) -> None:
    carrier, tracking_number = (carrier or "").strip(), (tracking_number or "").strip()
    if not carrier or len(carrier) > 40:
        raise ValidationFailed(_("Name the carrier (up to 40 characters)."), field="carrier")
    if not tracking_number or len(tracking_number) > 60:
        raise ValidationFailed(_("Give the tracking number (up to 60 characters)."), field="tracking_number")
    sub_order.carrier, sub_order.tracking_number = carrier, tracking_number
    _move(sub_order, S.SHIPPED, "ship", carrier=carrier)


def confirm_receipt(sub_order: SubOrder, *, at=None) -> None:
    _move(sub_order, S.RECEIVED, "confirm_receipt", at=at)


def complete(sub_order: SubOrder, *, at=None) -> None:
    _move(sub_order, S.COMPLETED, "complete", at=at)
    # Benefit attribution (联农带农): the lines' household shares, in this same transaction.
    attribution.attribute_sub_order(sub_order)
    product_table = Product.__table__
    db.session.execute(
        sa.update(product_table).where(product_table.c.id == sa.bindparam("pid"))
        .values(sold_quantity=product_table.c.sold_quantity + sa.bindparam("q")),
        [{"pid": line.product_id, "q": line.quantity} for line in sub_order.lines],
    )
    _expire_loaded(Product, {line.product_id for line in sub_order.lines})
    queue_signal("order_completed", sub_order_id=sub_order.id)


def advance_by_time(now=None) -> dict[str, int]:
    """Receive shipped sub-orders after SHOP_AUTO_RECEIVE_DAYS and complete received ones after
    SHOP_COMPLETE_AFTER_DAYS (the window for refund requests before benefits are attributed)."""
    now = now or utcnow()
    cfg = current_app.config
    # Procurement sub-orders are received by the unit's acceptance (验收), never by the clock.
    consumer = SubOrder.order_id.in_(sa.select(Order.id).where(Order.kind == OrderKind.CONSUMER))
    received = db.session.execute(
        sa.select(SubOrder).where(SubOrder.status == S.SHIPPED, consumer,
                                  SubOrder.shipped_at < now - timedelta(days=cfg["SHOP_AUTO_RECEIVE_DAYS"]))
        .with_for_update(skip_locked=True)
    ).scalars().all()
    for sub_order in received:
        confirm_receipt(sub_order, at=now)
    completed = db.session.execute(
        sa.select(SubOrder).where(SubOrder.status == S.RECEIVED, consumer,
                                  SubOrder.received_at <= now - timedelta(days=cfg["SHOP_COMPLETE_AFTER_DAYS"]))
        .with_for_update(skip_locked=True)
    ).scalars().all()
    for sub_order in completed:
        complete(sub_order, at=now)
    return {"received": len(received), "completed": len(completed)}


def request_refund(sub_order: SubOrder, *, lines: dict[int, int], reason: str, actor) -> RefundRequest:
    """The buyer asks for ``{order_line_id: quantity}`` back."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Say why you want a refund."), field="reason")
    by_id = {line.id: line for line in sub_order.lines}
    amount = 0
    clean: dict[str, int] = {}
    for line_id, quantity in lines.items():
        line = by_id.get(int(line_id))
        if line is None:
            raise ValidationFailed(_("That line is not part of this order."), field="lines")
        if not isinstance(quantity, int) or quantity <= 0:
            continue
        if quantity > line.quantity - line.refunded_quantity:
            raise ValidationFailed(_("You can ask back at most %(n)d of %(name)s.",
                                     n=line.quantity - line.refunded_quantity, name=line.product_name),
                                   field="lines")
        clean[str(line.id)] = quantity
        amount += quantity * line.unit_price_fen
    if not clean:
        raise ValidationFailed(_("Choose at least one item to refund."), field="lines")
    previous = sub_order.status
    _move(sub_order, S.REFUND_REQUESTED, "request_refund", amount_fen=amount)
    refund = RefundRequest(sub_order=sub_order, previous_status=previous, lines=clean, amount_fen=amount,
                           reason=reason[:1000], requested_by_id=actor.id if actor else None)
    db.session.add(refund)
    db.session.flush()
    return refund


def _open_refund(sub_order: SubOrder) -> RefundRequest:
    refund = db.session.execute(
        sa.select(RefundRequest).where(RefundRequest.sub_order_id == sub_order.id,
                                       RefundRequest.status == RefundStatus.REQUESTED)
    ).scalar_one_or_none()
    if refund is None:
        raise InvalidTransition(_("There is no open refund request on this order."))
    return refund


def approve_refund(sub_order: SubOrder, *, actor, note: str = "") -> RefundRequest:
    """Refund the requested lines through the provider that took the money."""
    from shop.payments import services as payments

    refund = _open_refund(sub_order)
    provider_refund_id = payments.refund(sub_order.order, refund.amount_fen, idempotency_key=f"refund-{refund.id}")
    lines = {line.id: line for line in sub_order.lines}
    for line_id, quantity in refund.lines.items():
        lines[int(line_id)].refunded_quantity += quantity
    everything = all(line.refunded_quantity == line.quantity for line in sub_order.lines)
    target = S.REFUNDED if everything else refund.previous_status
    _move(sub_order, target, "approve_refund" if everything else "resolve_refund", amount_fen=refund.amount_fen)
    refund.status = RefundStatus.REFUNDED
    refund.provider_refund_id = provider_refund_id
    refund.decided_by_id, refund.decided_at, refund.decision_note = actor.id if actor else None, utcnow(), note
    if refund.previous_status == S.COMPLETED:
        # Benefits were attributed at completion: take back the refunded quantities' share, in this transaction.
        attribution.reverse_refund(refund)
        # Other domains that counted the completion subscribe to this.
        queue_signal("order_refunded", sub_order_id=sub_order.id, refund_id=refund.id)
    return refund


def decline_refund(sub_order: SubOrder, *, actor, note: str) -> RefundRequest:
    note = (note or "").strip()
    if not note:
        raise ValidationFailed(_("Tell the buyer why the refund is declined."), field="note")
    refund = _open_refund(sub_order)
    _move(sub_order, refund.previous_status, "resolve_refund", declined=True)
    refund.status = RefundStatus.DECLINED
    refund.decided_by_id, refund.decided_at, refund.decision_note = actor.id if actor else None, utcnow(), note
    return refund


def order_lines_total(lines: list[OrderLine]) -> int:
    return sum(line.amount_fen for line in lines)
