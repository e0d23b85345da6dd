from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from shop.models import Order
from shop.models_orders import Payment, PaymentProviderName


@dataclass
class PaymentStart:
    """What the buyer needs next: a page to go to, or transfer instructions to follow."""

    payment: Payment
    redirect_url: str | None = None


class PaymentProvider(Protocol):
    name: PaymentProviderName

    def start(self, order: Order, *, success_url: str, cancel_url: str) -> PaymentStart: ...

    def refund(self, payment: Payment, amount_fen: int, *, idempotency_key: str) -> str:
        """Give ``amount_fen`` back; returns the provider's refund reference."""
        ...
