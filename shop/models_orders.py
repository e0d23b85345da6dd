"""Order fulfilment and payment records: lot allocations, payments, provider events, refunds.

Kept beside ``shop/models.py`` (which holds the catalog and the order tables) so
each file stays readable; both are the shop's models.
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.database import str_enum, utcnow
from core.extensions import db
from shop.models import Order, OrderLine, OrderStatus, ProductLot, SubOrder


class OrderLineLot(db.Model):
    """Which lots an order line took its quantity from (first-expiring first).

    Kept so that a cancelled or expired order puts the stock back into the same
    lots, and so that warnings know what was sold from which harvest.
    """

    __tablename__ = "order_line_lot"
    __table_args__ = (sa.CheckConstraint("quantity > 0", name="quantity_positive"),)

    order_line_id: Mapped[int] = mapped_column(sa.ForeignKey("order_line.id", ondelete="CASCADE"), primary_key=True)
    lot_id: Mapped[int] = mapped_column(sa.ForeignKey("product_lot.id", ondelete="RESTRICT"), primary_key=True)
    quantity: Mapped[int]

    line: Mapped[OrderLine] = relationship()
    lot: Mapped[ProductLot] = relationship()


class PaymentProviderName(enum.StrEnum):
    MANUAL = "manual"  # 对公转账 / bank transfer confirmed by a person
    STRIPE = "stripe"


class PaymentStatus(enum.StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    EXPIRED = "expired"
    REFUNDED = "refunded"  # wholly
    PARTIALLY_REFUNDED = "partially_refunded"


class Payment(db.Model):
    """One attempt to pay one order through one provider.

    At most one payment of an order can succeed (a partial unique index), so a
    webhook and a person confirming a transfer at the same moment cannot both
    mark the order paid.
    """

    __tablename__ = "payment"
    __table_args__ = (
        sa.CheckConstraint("amount_fen > 0", name="amount_positive"),
        sa.CheckConstraint("refunded_fen >= 0 AND refunded_fen <= amount_fen", name="refund_within_amount"),
        sa.Index(
            "uq_payment_one_success_per_order", "order_id", unique=True,
            postgresql_where=sa.text("status IN ('succeeded', 'refunded', 'partially_refunded')"),
            sqlite_where=sa.text("status IN ('succeeded', 'refunded', 'partially_refunded')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("shop_order.id", ondelete="RESTRICT"), index=True)
    provider: Mapped[PaymentProviderName] = mapped_column(str_enum(PaymentProviderName))
    status: Mapped[PaymentStatus] = mapped_column(
        str_enum(PaymentStatus), default=PaymentStatus.PENDING, server_default=PaymentStatus.PENDING.value
    )
    amount_fen: Mapped[int]
    currency: Mapped[str] = mapped_column(sa.String(3), default="cny", server_default="cny")
    # Manual: the reference the buyer writes on the transfer. Stripe: the Checkout Session id.
    reference: Mapped[str] = mapped_column(sa.String(255), unique=True)
    # Stripe: the PaymentIntent id; manual: the bank's transaction number typed by the confirmer.
    provider_payment_id: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    checkout_url: Mapped[str | None] = mapped_column(sa.Text)
    refunded_fen: Mapped[int] = mapped_column(default=0, server_default="0")
    failure_message: Mapped[str | None] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    succeeded_at: Mapped[datetime | None]
    confirmed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))

    order: Mapped[Order] = relationship()


class PaymentEvent(db.Model):
    """A provider event we processed. The unique event id makes a replayed webhook a no-op."""

    __tablename__ = "payment_event"
    __table_args__ = (sa.UniqueConstraint("provider", "event_id", name="uq_payment_event_provider_event"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[PaymentProviderName] = mapped_column(str_enum(PaymentProviderName))
    event_id: Mapped[str] = mapped_column(sa.String(255))
    event_type: Mapped[str] = mapped_column(sa.String(80))
    # The provider's own creation time, to ignore events that arrive out of order.
    event_created_at: Mapped[datetime | None]
    payment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("payment.id", ondelete="SET NULL"), index=True)
    outcome: Mapped[str] = mapped_column(sa.String(80))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class RefundStatus(enum.StrEnum):
    REQUESTED = "requested"
    REFUNDED = "refunded"
    DECLINED = "declined"


class RefundRequest(db.Model):
    """A buyer's request to refund a sub-order, whole or some of its lines."""

    __tablename__ = "refund_request"
    __table_args__ = (
        sa.CheckConstraint("amount_fen > 0", name="amount_positive"),
        # One open request per sub-order at a time.
        sa.Index(
            "uq_refund_request_open", "sub_order_id", unique=True,
            postgresql_where=sa.text("status = 'requested'"), sqlite_where=sa.text("status = 'requested'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sub_order_id: Mapped[int] = mapped_column(sa.ForeignKey("sub_order.id", ondelete="CASCADE"), index=True)
    status: Mapped[RefundStatus] = mapped_column(
        str_enum(RefundStatus), default=RefundStatus.REQUESTED, server_default=RefundStatus.REQUESTED.value
    )
    # The sub-order's status before the request: where a declined or partial refund returns it.
    previous_status: Mapped[OrderStatus] = mapped_column(str_enum(OrderStatus))
    # {order_line_id: quantity} to refund.
    lines: Mapped[dict] = mapped_column(sa.JSON)
    amount_fen: Mapped[int]
    reason: Mapped[str] = mapped_column(sa.Text)
    decision_note: Mapped[str | None] = mapped_column(sa.Text)
    provider_refund_id: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    requested_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]

    sub_order: Mapped[SubOrder] = relationship()
