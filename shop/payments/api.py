"""Payment endpoints: the Stripe webhook and the confirmation of bank transfers."""

from __future__ import annotations

import logging

import stripe
from flask import current_app, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from core.errors import NotFound, ValidationFailed
from core.extensions import db
from core.permissions import Permission, require
from core.registry.services import region_scope
from shop.models_orders import Payment
from shop.payments import services
from shop.services import orders

log = logging.getLogger(__name__)
blp = Blueprint("payments_api", __name__, url_prefix="/api/v1/payments", description="Payments")


class WebhookAnswerSchema(Schema):
    received = fields.Bool()
    outcome = fields.Str()


class ConfirmTransferSchema(Schema):
    bank_transaction = fields.Str(required=True, validate=validate.Length(min=1, max=60),
                                  metadata={"description": "the bank's transaction number of the transfer"})


class PaymentSchema(Schema):
    id = fields.Int()
    order_id = fields.Int()
    provider = fields.Str()
    status = fields.Str()
    amount_fen = fields.Int()
    reference = fields.Str()


@blp.route("/stripe/webhook", methods=["POST"])
@blp.response(200, WebhookAnswerSchema)
def stripe_webhook():
    """Stripe's events (checkout.session.completed/expired, payment_intent.payment_failed, charge.refunded).

    The signature in the ``Stripe-Signature`` header is verified with the
    webhook secret; a replayed event id changes nothing.
    """
    if not current_app.config["STRIPE_WEBHOOK_SECRET"]:
        raise NotFound(_("Stripe is not configured."))
    try:
        event = stripe.Webhook.construct_event(
            request.get_data(), request.headers.get("Stripe-Signature"), current_app.config["STRIPE_WEBHOOK_SECRET"]
        )
    except (ValueError, stripe.SignatureVerificationError) as exc:
        raise ValidationFailed(_("The webhook signature is not valid.")) from exc
    try:
        outcome = services.handle_stripe_event(event)
        db.session.commit()
    except Exception:
        db.session.rollback()
        orders.discard_pending_signals()
        raise
    orders.send_pending_signals()
    log.info("stripe event %s %s: %s", event.id, event.type, outcome)
    return {"received": True, "outcome": outcome}


@blp.route("/<int:payment_id>/confirm-transfer", methods=["POST"])
@require(Permission.PAYMENTS_CONFIRM)
@blp.arguments(ConfirmTransferSchema)
@blp.response(200, PaymentSchema)
def confirm_transfer(payload, payment_id: int):
    """An administrator confirms that a bank transfer (对公转账) arrived; the order becomes paid."""
    payment = db.session.get(Payment, payment_id)
    if payment is None or not _may_confirm(payment):
        raise NotFound(_("No such payment."))
    try:
        services.confirm_transfer(payment, bank_transaction=payload["bank_transaction"], actor=current_user)
        db.session.commit()
    except Exception:
        db.session.rollback()
        orders.discard_pending_signals()
        raise
    orders.send_pending_signals()
    return payment


def _may_confirm(payment: Payment) -> bool:
    """Administrators confirm transfers for orders delivered into their region (platform admins: all)."""
    import sqlalchemy as sa

    from shop.models import Order

    return db.session.execute(
        sa.select(Order.id).where(Order.id == payment.order_id, region_scope(current_user, Order.address_region_id))
    ).first() is not None
