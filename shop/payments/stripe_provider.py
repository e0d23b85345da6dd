"""Stripe Checkout through the official library.

Every write carries an idempotency key, and the library retries network errors
with backoff (``max_network_retries``). The webhook signature is verified with
the library's own ``construct_event``.
"""

from __future__ import annotations

from datetime import timedelta

import stripe
from flask import current_app

from core.database import utcnow
from core.extensions import db
from shop.models import Order
from shop.models_orders import Payment, PaymentProviderName
from shop.payments.base import PaymentStart


def client() -> stripe.StripeClient:
    cfg = current_app.config
    base = cfg.get("STRIPE_API_BASE") or None
    return stripe.StripeClient(
        cfg["STRIPE_SECRET_KEY"],
        base_addresses={"api": base} if base else None,
        max_network_retries=3,
    )


class StripeProvider:
    name = PaymentProviderName.STRIPE

    def start(self, order: Order, *, success_url: str, cancel_url: str) -> PaymentStart:
        cfg = current_app.config
        attempt = db.session.query(Payment).filter_by(order_id=order.id, provider=self.name).count() + 1
        line_items = [
            {
                "price_data": {
                    "currency": "cny",
                    "product_data": {"name": line.product_name},
                    "unit_amount": line.unit_price_fen,  # Stripe takes CNY in fen, as we do
                },
                "quantity": line.quantity,
            }
            for sub_order in order.sub_orders
            for line in sub_order.lines
        ]
        methods = [m.strip() for m in cfg["STRIPE_PAYMENT_METHODS"].split(",") if m.strip()]
        params = {
            "mode": "payment",
            "line_items": line_items,
            "payment_method_types": methods,
            "client_reference_id": order.number,
            "metadata": {"order_id": str(order.id), "order_number": order.number},
            "payment_intent_data": {"metadata": {"order_id": str(order.id)}},
            "success_url": success_url,
            "cancel_url": cancel_url,
            # Stripe allows 30 minutes to 24 hours; our own unpaid-order timer still applies.
            "expires_at": int((utcnow() + timedelta(minutes=max(30, cfg["SHOP_UNPAID_ORDER_MINUTES"]))).timestamp()),
        }
        if "wechat_pay" in methods:
            params["payment_method_options"] = {"wechat_pay": {"client": "web"}}
        session = client().v1.checkout.sessions.create(
            params, options={"idempotency_key": f"checkout-{order.id}-{attempt}"}
        )
        payment = Payment(order=order, provider=self.name, amount_fen=order.total_fen, reference=session.id,
                          checkout_url=session.url)
        db.session.add(payment)
        db.session.flush()
        return PaymentStart(payment=payment, redirect_url=session.url)

    def refund(self, payment: Payment, amount_fen: int, *, idempotency_key: str) -> str:
        if not payment.provider_payment_id:
            raise ValueError("a Stripe payment without a PaymentIntent cannot be refunded")
        refund = client().v1.refunds.create(
            {"payment_intent": payment.provider_payment_id, "amount": amount_fen},
            options={"idempotency_key": idempotency_key},
        )
        return refund.id


def verify_event(payload: bytes, signature: str | None) -> stripe.Event:
    """Raise ``stripe.SignatureVerificationError`` or ``ValueError`` unless Stripe signed ``payload``."""
    return stripe.Webhook.construct_event(payload, signature, current_app.config["STRIPE_WEBHOOK_SECRET"])
