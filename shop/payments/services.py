"""Payment rules: start a payment, record success exactly once, confirm transfers, refund, handle webhooks."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from core import audit
from core.database import utcnow
from core.errors import Conflict, NotFound, ValidationFailed
from core.extensions import db
from shop.models import Order, OrderStatus
from shop.models_orders import Payment, PaymentEvent, PaymentProviderName, PaymentStatus
from shop.payments.base import PaymentProvider, PaymentStart
from shop.payments.manual import ManualProvider
from shop.services import orders

P = PaymentStatus


def available_providers() -> list[PaymentProviderName]:
    names = [PaymentProviderName.MANUAL]
    if current_app.config["STRIPE_SECRET_KEY"]:
        names.append(PaymentProviderName.STRIPE)
    return names


def provider(name: PaymentProviderName | str) -> PaymentProvider:
    name = PaymentProviderName(name)
    if name not in available_providers():
        raise ValidationFailed(_("This payment method is not available."), field="provider")
    if name == PaymentProviderName.STRIPE:
        from shop.payments.stripe_provider import StripeProvider

        return StripeProvider()
    return ManualProvider()


def _lock_order(order_id: int) -> Order:
    order = db.session.execute(sa.select(Order).where(Order.id == order_id).with_for_update()).scalar_one_or_none()
    if order is None:
        raise NotFound(_("No such order."))
    return order


def _order_is_unpaid(order: Order) -> bool:
    return all(so.status == OrderStatus.PENDING_PAYMENT for so in order.sub_orders)


def start_payment(order: Order, name: PaymentProviderName | str, *, success_url: str, cancel_url: str) -> PaymentStart:
    if not _order_is_unpaid(order):
        raise Conflict(_("This order is not waiting for payment."))
    return provider(name).start(order, success_url=success_url, cancel_url=cancel_url)


def record_success(payment: Payment, *, provider_payment_id: str | None = None, confirmed_by=None) -> bool:
    """Mark ``payment`` succeeded and its order paid, once. Returns False when nothing changed.

    The order row is locked first, so a webhook and a person confirming at the
    same moment serialise here; the second finds the order already paid.
    """
    order = _lock_order(payment.order_id)
    db.session.refresh(payment)
    if payment.status in (P.SUCCEEDED, P.REFUNDED, P.PARTIALLY_REFUNDED):
        return False
    already_paid = db.session.execute(
        sa.select(Payment.id).where(Payment.order_id == order.id, Payment.id != payment.id,
                                    Payment.status.in_([P.SUCCEEDED, P.REFUNDED, P.PARTIALLY_REFUNDED]))
    ).first()
    if already_paid is not None or not _order_is_unpaid(order):
        # Paid twice (two providers, or paid after cancellation): keep the money
        # visible for a refund instead of pretending it did not arrive.
        payment.status = P.SUCCEEDED if already_paid is None else P.FAILED
        payment.failure_message = "order was no longer waiting for payment"
        audit.record("payment.unexpected", "payment", payment.id, after={"order": order.number})
        return False
    payment.status = P.SUCCEEDED
    payment.succeeded_at = utcnow()
    payment.provider_payment_id = provider_payment_id or payment.provider_payment_id
    payment.confirmed_by_id = confirmed_by.id if confirmed_by is not None else None
    orders.mark_paid(order)
    audit.record("payment.succeeded", "payment", payment.id,
                 after={"order": order.number, "provider": payment.provider.value, "amount_fen": payment.amount_fen})
    return True


def confirm_transfer(payment: Payment, *, bank_transaction: str, actor) -> None:
    """A supplier of the order or an administrator confirms the bank transfer arrived."""
    bank_transaction = (bank_transaction or "").strip()
    if payment.provider != PaymentProviderName.MANUAL:
        raise Conflict(_("Only bank transfers are confirmed by hand."))
    if not bank_transaction or len(bank_transaction) > 60:
        raise ValidationFailed(_("Give the bank's transaction number (up to 60 characters)."),
                               field="bank_transaction")
    taken = db.session.execute(
        sa.select(Payment.id).where(Payment.provider_payment_id == bank_transaction, Payment.id != payment.id)
    ).first()
    if taken is not None:
        raise Conflict(_("This bank transaction number was already used for another payment."),
                       field="bank_transaction")
    if not record_success(payment, provider_payment_id=bank_transaction, confirmed_by=actor):
        raise Conflict(_("This order is already paid or no longer waiting for payment."))


def refund(order: Order, amount_fen: int, *, idempotency_key: str) -> str:
    payment = db.session.execute(
        sa.select(Payment).where(Payment.order_id == order.id,
                                 Payment.status.in_([P.SUCCEEDED, P.PARTIALLY_REFUNDED]))
    ).scalar_one_or_none()
    if payment is None:
        raise Conflict(_("This order has no payment to refund."))
    if payment.refunded_fen + amount_fen > payment.amount_fen:
        raise Conflict(_("The refund is larger than what is left of the payment."))
    reference = provider(payment.provider).refund(payment, amount_fen, idempotency_key=idempotency_key)
    if payment.provider == PaymentProviderName.MANUAL:
        _apply_refunded(payment, payment.refunded_fen + amount_fen)
    # Stripe: charge.refunded updates refunded_fen when Stripe confirms.
    return reference


def _apply_refunded(payment: Payment, refunded_fen: int) -> None:
    payment.refunded_fen = max(payment.refunded_fen, min(refunded_fen, payment.amount_fen))
    payment.status = P.REFUNDED if payment.refunded_fen == payment.amount_fen else P.PARTIALLY_REFUNDED


# ---------------------------------------------------------------- Stripe webhook


def handle_stripe_event(event) -> str:
    """Apply one verified Stripe event, idempotently. Returns what happened (for the log and tests).

    Replays are recognised by the event id (a unique constraint), and events that
    arrive out of order cannot move a payment backwards: a success is never undone
    by a later "expired" or "failed".
    """
    created = datetime.fromtimestamp(event.created, UTC) if getattr(event, "created", None) else None
    record = PaymentEvent(provider=PaymentProviderName.STRIPE, event_id=event.id, event_type=event.type,
                          event_created_at=created, outcome="received")
    try:
        with db.session.begin_nested():
            db.session.add(record)
            db.session.flush()
    except sa.exc.IntegrityError:
        return "duplicate"
    obj = event.data.object.to_dict()  # plain dicts: StripeObject is not a dict any more
    payment = _payment_for(event.type, obj)
    record.payment_id = payment.id if payment else None
    if payment is None:
        record.outcome = "unknown payment"
        return record.outcome
    if event.type in ("checkout.session.completed", "checkout.session.async_payment_succeeded"):
        if obj.get("payment_status") in ("paid", "no_payment_required"):
            changed = record_success(payment, provider_payment_id=obj.get("payment_intent"))
            record.outcome = "paid" if changed else "already paid"
        else:
            payment.provider_payment_id = obj.get("payment_intent") or payment.provider_payment_id
            record.outcome = "awaiting asynchronous payment"
    elif event.type in ("checkout.session.expired", "checkout.session.async_payment_failed"):
        record.outcome = _fail(payment, P.EXPIRED if event.type.endswith("expired") else P.FAILED, event.type)
    elif event.type == "payment_intent.payment_failed":
        message = (obj.get("last_payment_error") or {}).get("message") or "payment failed"
        record.outcome = _fail(payment, P.FAILED, message)
    elif event.type == "charge.refunded":
        _apply_refunded(payment, int(obj.get("amount_refunded") or 0))
        record.outcome = payment.status.value
    else:
        record.outcome = "ignored"
    return record.outcome


def _fail(payment: Payment, status: PaymentStatus, message: str) -> str:
    if payment.status != P.PENDING:
        return f"ignored: payment already {payment.status.value}"
    payment.status = status
    payment.failure_message = message[:255]
    return status.value


def _payment_for(event_type: str, obj) -> Payment | None:
    if event_type.startswith("checkout.session."):
        return db.session.execute(sa.select(Payment).where(Payment.reference == obj.get("id"))).scalar_one_or_none()
    intent_id = obj.get("payment_intent") if event_type.startswith("charge.") else obj.get("id")
    payment = db.session.execute(
        sa.select(Payment).where(Payment.provider_payment_id == intent_id)
    ).scalar_one_or_none()
    if payment is None:
        # The intent's own metadata names the order (we set it when creating the session).
        order_id = (obj.get("metadata") or {}).get("order_id")
        if order_id and str(order_id).isdigit():
            payment = db.session.execute(
                sa.select(Payment).where(Payment.order_id == int(order_id),
                                         Payment.provider == PaymentProviderName.STRIPE)
                .order_by(Payment.id.desc())
            ).scalars().first()
            if payment is not None and not payment.provider_payment_id:
                payment.provider_payment_id = intent_id
    return payment
