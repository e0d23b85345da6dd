"""Bank transfer (对公转账): the buyer transfers with a reference, a person confirms receipt."""

from __future__ import annotations

import secrets

from flask import current_app

from shop.models import Order
from shop.models_orders import Payment, PaymentProviderName
from shop.payments.base import PaymentStart

# No 0/O, 1/I/L: the reference is read aloud and typed into banking apps.
_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def transfer_reference() -> str:
    return "ZF" + "".join(secrets.choice(_ALPHABET) for _ in range(8))


class ManualProvider:
    name = PaymentProviderName.MANUAL

    def start(self, order: Order, *, success_url: str = "", cancel_url: str = "") -> PaymentStart:
        from core.extensions import db

        payment = Payment(order=order, provider=self.name, amount_fen=order.total_fen, reference=transfer_reference())
        db.session.add(payment)
        db.session.flush()
        return PaymentStart(payment=payment)

    def refund(self, payment: Payment, amount_fen: int, *, idempotency_key: str) -> str:
        # The money goes back by a transfer that finance makes by hand; the
        # reference ties that transfer to this refund.
        return f"MANUAL-{idempotency_key}"

    @staticmethod
    def bank_account() -> dict:
        cfg = current_app.config
        return {
            "name": cfg["BANK_ACCOUNT_NAME"],
            "bank": cfg["BANK_NAME"],
            "number": cfg["BANK_ACCOUNT_NUMBER"],
        }
