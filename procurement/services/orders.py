"""Procurement orders: submit, approve, and each supplier part's life, one checked function per transition.

A procurement order is a shop order of kind PROCUREMENT (stock reserved, prices
snapshotted and split per supplier by ``shop.services.checkout.place_order``)
with a ``ProcurementOrder`` beside it and one ``ProcurementPart`` per shop sub-order.

Order (``ORDER_TRANSITIONS``)::

    submit → pending_approval (total above the unit's approval threshold) | approved
    pending_approval → approved | rejected (with a comment; the stock goes back)
    approved → closed (every part settled, declined or cancelled)

Part (``PART_TRANSITIONS``; ``TERMS_OF`` says which payment terms a step belongs to)::

    awaiting_approval → awaiting_confirmation (approved) | cancelled (rejected)
    awaiting_confirmation → confirmed | declined (with a reason; the stock goes back)
    pay-first (先款后货):     confirmed → paid → shipped → accepted → settled (by the invoice)
    deliver-first (先货后款): confirmed → shipped → accepted → invoiced → settled (by the payment)

Each function checks who acts and the state it starts from, raises a domain
error otherwise, is audited, adds and flushes; the caller commits once and then
sends the shop's pending signals (``shop.services.orders.send_pending_signals``).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm.attributes import set_committed_value

from core import audit
from core.database import utcnow
from core.errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationFailed
from core.extensions import db
from procurement import labels_orders
from procurement.models import UnitAddress, UnitRole
from procurement.models_ledger import PurchaseChannel
from procurement.models_orders import (
    PartStatus,
    PaymentMethod,
    PaymentTerms,
    ProcurementLine,
    ProcurementOrder,
    ProcurementPart,
    ProcurementPayment,
    ProcurementStatus,
)
from procurement.services import common, ledger
from shop.models import OrderKind, OrderLine, OrderStatus
from shop.models_orders import Payment
from shop.services import checkout
from shop.services import common as shop_common
from shop.services import orders as shop_orders

OS, PS = ProcurementStatus, PartStatus
ORDER_TRANSITIONS: dict[tuple[ProcurementStatus | None, ProcurementStatus], str] = {
    (None, OS.PENDING_APPROVAL): "submit",
    (None, OS.APPROVED): "submit",
    (OS.PENDING_APPROVAL, OS.APPROVED): "approve",
    (OS.PENDING_APPROVAL, OS.REJECTED): "reject",
    (OS.APPROVED, OS.CLOSED): "close",
}
PART_TRANSITIONS: dict[tuple[PartStatus, PartStatus], str] = {
    (PS.AWAITING_APPROVAL, PS.AWAITING_CONFIRMATION): "approve",
    (PS.AWAITING_APPROVAL, PS.CANCELLED): "reject",
    (PS.AWAITING_CONFIRMATION, PS.CONFIRMED): "confirm",
    (PS.AWAITING_CONFIRMATION, PS.DECLINED): "decline",
    (PS.CONFIRMED, PS.PAID): "pay",
    (PS.CONFIRMED, PS.SHIPPED): "ship",
    (PS.PAID, PS.SHIPPED): "ship",
    (PS.SHIPPED, PS.ACCEPTED): "accept",
    (PS.ACCEPTED, PS.INVOICED): "invoice",
    (PS.ACCEPTED, PS.SETTLED): "invoice",
    (PS.INVOICED, PS.SETTLED): "pay",
}
TERMS_OF: dict[tuple[PartStatus, PartStatus], PaymentTerms] = {
    (PS.CONFIRMED, PS.PAID): PaymentTerms.PAY_FIRST,
    (PS.PAID, PS.SHIPPED): PaymentTerms.PAY_FIRST,
    (PS.ACCEPTED, PS.SETTLED): PaymentTerms.PAY_FIRST,
    (PS.CONFIRMED, PS.SHIPPED): PaymentTerms.DELIVER_FIRST,
    (PS.ACCEPTED, PS.INVOICED): PaymentTerms.DELIVER_FIRST,
    (PS.INVOICED, PS.SETTLED): PaymentTerms.DELIVER_FIRST,
}
FINAL_PART_STATES = frozenset({PS.SETTLED, PS.DECLINED, PS.CANCELLED})
# Goods have left the supplier from these states on: the unit can no longer change the order's unit.
SHIPPED_STATES = frozenset({PS.SHIPPED, PS.ACCEPTED, PS.INVOICED, PS.SETTLED})
ACCEPTED_STATES = frozenset({PS.ACCEPTED, PS.INVOICED, PS.SETTLED})
PAY_FIRST_DAYS = 30  # 先款后货: payment due within 30 days of the supplier's confirmation
EXTENSION_DAYS = 15  # … extended once by 15 days
MAX_WANTED_DAYS = 365
_REFERENCE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9/_-]{3,63}$")


class DuplicateReference(Conflict):
    code = "duplicate_reference"


# ---------------------------------------------------------------- moving


def _compare_and_set(obj: ProcurementOrder | ProcurementPart, current, target) -> None:
    """Move ``obj`` from ``current`` to ``target`` with one guarded UPDATE: of two people acting at the same
    moment (two approvers, a double-clicked acceptance), the second finds the state changed and is refused."""
    model = type(obj)
    changed = db.session.execute(
        sa.update(model).where(model.id == obj.id, model.status == current).values(status=target)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        db.session.refresh(obj, ["status"])
        raise InvalidTransition(_("Someone else changed this order meanwhile; reload the page and try again."))
    set_committed_value(obj, "status", target)


def _check_order(current: ProcurementStatus, target: ProcurementStatus, action: str) -> None:
    if ORDER_TRANSITIONS.get((current, target)) != action:
        raise InvalidTransition(_("This procurement order is “%(status)s” and cannot become “%(target)s”.",
                                  status=labels_orders.label(labels_orders.ORDER_STATUS, current),
                                  target=labels_orders.label(labels_orders.ORDER_STATUS, target)))


def _move_order(order: ProcurementOrder, current: ProcurementStatus, target: ProcurementStatus,
                action: str, **audit_after) -> None:
    _check_order(current, target, action)
    _compare_and_set(order, current, target)
    audit.record(f"procurement_order.{action}", "procurement_order", order.id,
                 before={"status": current.value}, after={"status": target.value, **audit_after})


def _part_target(part: ProcurementPart, action: str, terms: PaymentTerms) -> PartStatus:
    for (start, target), name in PART_TRANSITIONS.items():
        if start == part.status and name == action and TERMS_OF.get((start, target), terms) == terms:
            return target
    raise InvalidTransition(_("The part of %(supplier)s is “%(status)s”: this step is not possible now.",
                              supplier=part.supplier.name,
                              status=labels_orders.label(labels_orders.PART_STATUS, part.status)),
                            details={"status": part.status.value, "action": action})


def _move_part(part: ProcurementPart, action: str, **audit_after) -> PartStatus:
    current = part.status
    target = _part_target(part, action, part.procurement_order.payment_terms)
    _compare_and_set(part, current, target)
    audit.record(f"procurement_part.{action}", "procurement_part", part.id, before={"status": current.value},
                 after={"status": target.value, **audit_after})
    return target


def _close_if_done(order: ProcurementOrder) -> None:
    if order.status == OS.APPROVED and all(p.status in FINAL_PART_STATES for p in order.parts):
        _move_order(order, order.status, OS.CLOSED, "close")
        order.closed_at = utcnow()


# ---------------------------------------------------------------- who acts


def _unit_member(user, order: ProcurementOrder, roles: tuple[UnitRole, ...], message: str):
    member = common.membership_of(user)
    if member is None or member.unit_id != order.unit_id or member.role not in roles:
        raise Forbidden(message)
    return member


def _buyer(user, order: ProcurementOrder):
    return _unit_member(user, order, (UnitRole.BUYER, UnitRole.ADMIN),
                        _("Only a buyer or the administrator of the order's unit can do this."))


def _supplier(user, part: ProcurementPart) -> None:
    if not shop_common.is_member(user, part.supplier_id):
        raise Forbidden(_("Only the supplier of this part can do this."))


# ---------------------------------------------------------------- submit and approval


def _parse_enum(enum_cls, value, field: str):
    try:
        return enum_cls(value)
    except ValueError:
        raise ValidationFailed(_("Choose one of the offered options."), field=field) from None


def submit(actor, *, items: dict, address_id: int | None, wanted_on: date | None, channel, payment_terms,
           idempotency_key: str, unit_id: int | None = None) -> ProcurementOrder:
    """A unit buyer turns the procurement cart into an order (reserving stock through the shop's checkout)."""
    member = common.unit_of(actor)
    if member.role not in (UnitRole.BUYER, UnitRole.ADMIN):
        raise Forbidden(_("Only a buyer or the unit's administrator places procurement orders."))
    unit = member.unit
    if unit_id is not None and unit_id != unit.id:
        unit = common.get_unit(unit_id)
        if member.role != UnitRole.ADMIN or not common.is_below(unit.id, member.unit_id):
            raise NotFound(_("No such unit."))
    common.ensure_active(unit)
    existing = checkout.find_by_idempotency_key(actor.id, idempotency_key or "")
    if existing is not None:
        same = db.session.execute(
            sa.select(ProcurementOrder).where(ProcurementOrder.order_id == existing.id)).scalar_one_or_none()
        if same is None:
            raise Conflict(_("This submission key was used for another order; reload the page."),
                           field="idempotency_key")
        return same  # a double submit gets the first order back
    channel = _parse_enum(PurchaseChannel, channel, "channel")
    payment_terms = _parse_enum(PaymentTerms, payment_terms, "payment_terms")
    address = db.session.get(UnitAddress, address_id) if address_id else None
    if address is None or address.unit_id != unit.id or not address.active:
        raise ValidationFailed(_("Choose one of the unit's delivery addresses."), field="address_id")
    today = datetime.now(common.LOCAL_TIMEZONE).date()
    if not isinstance(wanted_on, date) or not today <= wanted_on <= today + timedelta(days=MAX_WANTED_DAYS):
        raise ValidationFailed(_("Choose a delivery date from today to a year ahead."), field="wanted_on")
    shop_order = checkout.place_order(
        buyer=actor, items=items, recipient_name=address.recipient, recipient_phone=address.phone,
        address=address.address, address_region_id=address.region_id, idempotency_key=idempotency_key,
        kind=OrderKind.PROCUREMENT,
    )
    # Payment follows the procurement terms, not the shop's unpaid-order timer (which would cancel it).
    shop_order.payment_due_at = None
    needs_approval = shop_order.total_fen > unit.approval_threshold_fen
    target = OS.PENDING_APPROVAL if needs_approval else OS.APPROVED
    order = ProcurementOrder(order=shop_order, unit_id=unit.id, channel=channel, payment_terms=payment_terms,
                             address_id=address.id, wanted_on=wanted_on, status=target,
                             submitted_by_id=actor.id)
    db.session.add(order)
    part_status = PS.AWAITING_APPROVAL if needs_approval else PS.AWAITING_CONFIRMATION
    for sub_order in shop_order.sub_orders:
        db.session.add(ProcurementPart(procurement_order=order, sub_order=sub_order,
                                       supplier_id=sub_order.supplier_id, status=part_status))
    db.session.flush()
    if ORDER_TRANSITIONS.get((None, target)) != "submit":  # pragma: no cover - the table says so
        raise InvalidTransition("submit")
    audit.record("procurement_order.submit", "procurement_order", order.id, before={"status": None},
                 after={"status": target.value, "total_fen": shop_order.total_fen, "unit_id": unit.id,
                        "threshold_fen": unit.approval_threshold_fen})
    return order


def _approver(actor, order: ProcurementOrder) -> None:
    _unit_member(actor, order, (UnitRole.APPROVER, UnitRole.ADMIN),
                 _("Only an approver or the administrator of the order's unit decides on it."))
    if actor.id == order.submitted_by_id:
        raise Forbidden(_("You placed this order yourself: another approver of the unit must decide on it."))


def approve(actor, order: ProcurementOrder, comment: str = "") -> None:
    _approver(actor, order)
    comment = (comment or "").strip()[:1000]
    _check_order(order.status, OS.APPROVED, "approve")
    order.decided_by_id, order.decided_at, order.decision_comment = actor.id, utcnow(), comment or None
    _move_order(order, order.status, OS.APPROVED, "approve")
    for part in order.parts:
        _move_part(part, "approve")


def reject(actor, order: ProcurementOrder, comment: str) -> None:
    _approver(actor, order)
    comment = (comment or "").strip()
    if not comment:
        raise ValidationFailed(_("Tell the buyer why the order is rejected."), field="comment")
    _check_order(order.status, OS.REJECTED, "reject")
    order.decided_by_id, order.decided_at, order.decision_comment = actor.id, utcnow(), comment[:1000]
    _move_order(order, order.status, OS.REJECTED, "reject", comment=comment[:200])
    for part in order.parts:
        _move_part(part, "reject")
    # Every shop sub-order is still unpaid: the shop cancels them and puts the stock back.
    shop_orders.cancel(order.order, reason="procurement order rejected")


# ---------------------------------------------------------------- the supplier's steps


def confirm(actor, part: ProcurementPart) -> None:
    """The supplier accepts the part: the contract stands, and a pay-first part's payment falls due."""
    _supplier(actor, part)
    if part.sub_order.status not in (OrderStatus.PENDING_PAYMENT, OrderStatus.PAID):
        raise InvalidTransition(_("The shop order behind this part is %(status)s; it cannot be confirmed.",
                                  status=part.sub_order.status.value))
    _move_part(part, "confirm")
    part.confirmed_at = utcnow()
    if part.procurement_order.payment_terms == PaymentTerms.PAY_FIRST:
        part.payment_due_on = part.confirmed_at.astimezone(common.LOCAL_TIMEZONE).date() + timedelta(
            days=PAY_FIRST_DAYS)
    # The shop ships from PAID; for a procurement part the confirmed contract stands in for the payment
    # (shop.services.orders has no public per-sub-order step for it, so its own checked move is used).
    if part.sub_order.status == OrderStatus.PENDING_PAYMENT:
        shop_orders._move(part.sub_order, OrderStatus.PAID, "mark_paid", procurement="confirmed")


def decline(actor, part: ProcurementPart, reason: str) -> None:
    _supplier(actor, part)
    _part_target(part, "decline", part.procurement_order.payment_terms)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Tell the unit why you decline."), field="reason")
    part.decline_reason = reason[:1000]
    _move_part(part, "decline", reason=reason[:200])
    shop_orders._move(part.sub_order, OrderStatus.CANCELLED, "cancel", reason="procurement part declined")
    shop_orders.release_stock([part.sub_order])
    _close_if_done(part.procurement_order)


def extend_payment_due(actor, part: ProcurementPart) -> None:
    """The supplier grants the one 15-day extension of a pay-first payment."""
    _supplier(actor, part)
    if part.procurement_order.payment_terms != PaymentTerms.PAY_FIRST or part.status != PS.CONFIRMED:
        raise InvalidTransition(_("Only an unpaid pay-first part can have its payment date extended."))
    if part.due_extended:
        raise InvalidTransition(_("The payment date was extended once already; it cannot be extended again."))
    before = part.payment_due_on
    part.payment_due_on = before + timedelta(days=EXTENSION_DAYS)
    part.due_extended = True
    audit.record("procurement_part.extend_payment_due", "procurement_part", part.id,
                 before={"payment_due_on": before.isoformat()},
                 after={"payment_due_on": part.payment_due_on.isoformat()})


def ship(actor, part: ProcurementPart, *, carrier: str, tracking_number: str) -> None:
    _supplier(actor, part)
    _part_target(part, "ship", part.procurement_order.payment_terms)  # refuse before the shop records anything
    if part.sub_order.status != OrderStatus.SHIPPED:  # not already shipped from the shop's own workspace
        shop_orders.ship(part.sub_order, carrier=carrier, tracking_number=tracking_number)
    _move_part(part, "ship", carrier=part.sub_order.carrier)


def record_invoice(actor, part: ProcurementPart, *, number: str, amount_fen: int | None, invoice_date: date | None,
                   file_key: str | None = None, file_name: str | None = None) -> None:
    """The supplier records its invoice (发票): at most the accepted amount."""
    _supplier(actor, part)
    _part_target(part, "invoice", part.procurement_order.payment_terms)
    number = (number or "").strip()
    if not number or len(number) > 40:
        raise ValidationFailed(_("Give the invoice number (up to 40 characters)."), field="number")
    if not isinstance(amount_fen, int) or isinstance(amount_fen, bool) or amount_fen <= 0:
        raise ValidationFailed(_("Give the invoice amount."), field="amount")
    if amount_fen > part.accepted_fen:
        raise ValidationFailed(_("The invoice cannot be above the accepted amount."), field="amount",
                               details={"field": "amount", "accepted_fen": part.accepted_fen})
    today = datetime.now(common.LOCAL_TIMEZONE).date()
    if not isinstance(invoice_date, date) or invoice_date > today:
        raise ValidationFailed(_("Give the invoice date (not in the future)."), field="invoice_date")
    taken = db.session.execute(sa.select(ProcurementPart.id).where(
        ProcurementPart.supplier_id == part.supplier_id, ProcurementPart.invoice_number == number)).first()
    if taken is not None:
        raise Conflict(_("You recorded invoice %(number)s already, on another order.", number=number),
                       field="number")
    part.invoice_number, part.invoice_amount_fen, part.invoice_date = number, amount_fen, invoice_date
    part.invoice_file_key, part.invoice_file_name = file_key, (file_name or None) and file_name[:120]
    part.invoiced_at = utcnow()
    if _move_part(part, "invoice", number=number, amount_fen=amount_fen) == PS.SETTLED:
        _settle(part)


# ---------------------------------------------------------------- the unit's steps


def accept(actor, part: ProcurementPart, lines: dict[int, tuple[int, str]]) -> int:
    """验收: ``{order_line_id: (accepted quantity, reason for the refused rest)}`` for every line.

    Writes the plan ledger for the accepted amount in the same transaction. Returns the accepted fen.
    """
    order = part.procurement_order
    _buyer(actor, order)
    _part_target(part, "accept", order.payment_terms)
    rows, accepted_fen, refused = [], 0, {}
    for line in part.sub_order.lines:
        shipped = line.quantity - line.refunded_quantity
        if line.id not in lines:
            raise ValidationFailed(_("Say how much of %(name)s you accept.", name=line.product_name),
                                   field="lines", details={"field": "lines", "order_line_id": line.id})
        quantity, reason = lines[line.id]
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0:
            raise ValidationFailed(_("Quantities are whole numbers."), field="lines",
                                   details={"field": "lines", "order_line_id": line.id})
        if quantity > shipped:
            raise ValidationFailed(_("You cannot accept more of %(name)s than was shipped (%(n)d).",
                                     name=line.product_name, n=shipped), field="lines",
                                   details={"field": "lines", "order_line_id": line.id})
        reason = (reason or "").strip()
        if quantity < shipped and not reason:
            raise ValidationFailed(_("Say why you refuse part of %(name)s.", name=line.product_name),
                                   field="lines", details={"field": "lines", "order_line_id": line.id})
        rows.append({"order_line_id": line.id, "part_id": part.id, "accepted_quantity": quantity,
                     "refused_quantity": shipped - quantity, "refusal_reason": reason[:1000] or None})
        accepted_fen += quantity * line.unit_price_fen
        if shipped > quantity:
            refused[line.id] = shipped - quantity
    unknown = set(lines) - {line.id for line in part.sub_order.lines}
    if unknown:
        raise ValidationFailed(_("That line is not part of this order."), field="lines")
    if accepted_fen == 0:
        raise ValidationFailed(_("Accept at least one item; if the whole delivery is unusable, ask the supplier "
                                 "to take it back before acceptance."), field="lines")
    now = utcnow()
    _move_part(part, "accept", accepted_fen=accepted_fen, refused=refused)
    part.accepted_at, part.accepted_by_id, part.accepted_fen = now, actor.id, accepted_fen
    db.session.execute(sa.insert(ProcurementLine), rows)
    db.session.expire(part, ["lines"])  # a Core insert: the loaded (empty) collection is stale
    if refused:
        # Refused goods are not paid for: the shop's lines say so, as a refund of those quantities.
        line_table = OrderLine.__table__
        db.session.execute(
            sa.update(line_table).where(line_table.c.id == sa.bindparam("lid"))
            .values(refunded_quantity=line_table.c.refunded_quantity + sa.bindparam("q")),
            [{"lid": k, "q": v} for k, v in refused.items()],
        )
        shop_orders._expire_loaded(OrderLine, set(refused))
    if part.sub_order.status == OrderStatus.SHIPPED:
        shop_orders.confirm_receipt(part.sub_order, at=now)
    ledger.write_acceptance(order, part, now)
    db.session.flush()
    return accepted_fen


def amount_due(part: ProcurementPart) -> int:
    """Pay-first: the part's amount as ordered; deliver-first: the invoice."""
    if part.procurement_order.payment_terms == PaymentTerms.PAY_FIRST:
        return part.sub_order.subtotal_fen
    return part.invoice_amount_fen or 0


def record_payment(actor, part: ProcurementPart, *, method, reference: str, paid_on: date | None) -> ProcurementPayment:
    """The unit records its bank transfer (对公转账) or official card (公务卡) payment."""
    order = part.procurement_order
    _buyer(actor, order)
    _part_target(part, "pay", order.payment_terms)
    method = _parse_enum(PaymentMethod, method, "method")
    reference = (reference or "").strip()
    if not _REFERENCE_RE.match(reference):
        raise ValidationFailed(_("Give the transfer or card slip reference (4 to 64 letters, digits, / _ -)."),
                               field="reference")
    today = datetime.now(common.LOCAL_TIMEZONE).date()
    if not isinstance(paid_on, date) or paid_on > today:
        raise ValidationFailed(_("Give the payment date (not in the future)."), field="paid_on")
    used = db.session.execute(sa.select(ProcurementPayment.id).where(ProcurementPayment.reference == reference)
                              ).first() or db.session.execute(
        sa.select(Payment.id).where(sa.or_(Payment.reference == reference, Payment.provider_payment_id == reference))
    ).first()
    if used is not None:
        raise DuplicateReference(_("The payment reference %(reference)s is already recorded on the platform.",
                                   reference=reference), field="reference")
    payment = ProcurementPayment(part=part, method=method, reference=reference, amount_fen=amount_due(part),
                                 paid_on=paid_on, recorded_by_id=actor.id)
    db.session.add(payment)
    if _move_part(part, "pay", method=method.value, amount_fen=payment.amount_fen) == PS.SETTLED:
        _settle(part)
    db.session.flush()
    return payment


def _settle(part: ProcurementPart) -> None:
    part.settled_at = utcnow()
    if part.sub_order.status == OrderStatus.RECEIVED:
        shop_orders.complete(part.sub_order)  # the shop attributes the benefits of what was kept
    _close_if_done(part.procurement_order)


def record_return(actor, part: ProcurementPart, quantities: dict[int, int], reason: str) -> int:
    """Goods sent back after acceptance: ``{order_line_id: quantity}``; the plan ledger subtracts them."""
    order = part.procurement_order
    _buyer(actor, order)
    if part.status not in ACCEPTED_STATES:
        raise InvalidTransition(_("Only accepted goods can be returned."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Say why the goods go back."), field="reason")
    by_id = {line.order_line_id: line for line in part.lines}
    clean: dict[int, int] = {}
    for line_id, quantity in quantities.items():
        line = by_id.get(line_id)
        if line is None:
            raise ValidationFailed(_("That line is not part of this order."), field="lines")
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0:
            raise ValidationFailed(_("Quantities are whole numbers."), field="lines")
        if quantity > line.accepted_quantity - line.returned_quantity:
            left = line.accepted_quantity - line.returned_quantity
            raise ValidationFailed(_("You can return at most %(n)d.", n=left), field="lines")
        if quantity:
            clean[line_id] = quantity
    if not clean:
        raise ValidationFailed(_("Choose at least one item to return."), field="lines")
    for line_id, quantity in clean.items():
        by_id[line_id].returned_quantity += quantity
    ledger.write_return(order, clean)
    amount = sum(q * by_id[k].order_line.unit_price_fen for k, q in clean.items())
    audit.record("procurement_part.return", "procurement_part", part.id, after={"lines": clean, "amount_fen": -amount},
                 reason=reason[:500])
    db.session.flush()
    return amount


def change_unit(actor, order: ProcurementOrder, new_unit_id: int, reason: str | None = None) -> None:
    """所属预算单位: the unit's administrator changes it before shipment; afterwards only an administrator
    of the region, with a reason. Never after acceptance (what counted would move between plans)."""
    new_unit = common.get_unit(new_unit_id)
    shipped = any(p.status in SHIPPED_STATES for p in order.parts)
    if any(p.status in ACCEPTED_STATES for p in order.parts):
        raise InvalidTransition(_("Part of this order is accepted and counts toward the unit's plan; "
                                  "its unit can no longer change."))
    if order.status in (OS.REJECTED, OS.CLOSED):
        raise InvalidTransition(_("This order is finished; its unit can no longer change."))
    if common.is_admin(actor):
        common.ensure_admin_scope(actor, order.unit)
        common.ensure_admin_scope(actor, new_unit)
        reason = common.clean_reason(reason, required=True)
    else:
        if shipped:
            raise Forbidden(_("The goods are shipped: only an administrator can change the order's unit now."))
        member = _unit_member(actor, order, (UnitRole.ADMIN,),
                              _("Only the unit's administrator can change the order's unit."))
        if new_unit.id != member.unit_id and not common.is_below(new_unit.id, member.unit_id):
            raise NotFound(_("No such unit."))
        reason = common.clean_reason(reason, required=False)
    common.ensure_active(new_unit)
    if new_unit.id == order.unit_id:
        raise ValidationFailed(_("The order belongs to this unit already."), field="unit_id")
    audit.record("procurement_order.change_unit", "procurement_order", order.id,
                 before={"unit_id": order.unit_id}, after={"unit_id": new_unit.id, "after_shipment": shipped},
                 reason=reason)
    order.unit_id = new_unit.id
    db.session.flush()
