"""Procurement orders (单位采购订单): the procurement record beside a shop order of kind PROCUREMENT.

The shop order carries the goods, prices and stock (one sub-order per supplier);
these tables carry what only a unit's purchase has: the unit it belongs to
(所属预算单位), channel, payment terms, delivery address and date, the approval,
and per supplier part the confirmation, acceptance (验收) per line, invoice (发票)
and payment (对公转账 / 公务卡). ``procurement.services.orders`` holds the transitions.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.database import str_enum, utcnow
from core.extensions import db
from procurement.models_ledger import PurchaseChannel


class PaymentTerms(enum.StrEnum):
    PAY_FIRST = "pay_first"  # 先款后货: the unit pays within 30 days of confirmation, then the supplier ships
    DELIVER_FIRST = "deliver_first"  # 先货后款: the supplier ships; the unit pays after acceptance and invoice


class ProcurementStatus(enum.StrEnum):
    PENDING_APPROVAL = "pending_approval"  # 待审批: above the unit's approval threshold
    APPROVED = "approved"  # 已审批: with the suppliers
    REJECTED = "rejected"  # 已驳回 (with the approver's comment)
    CLOSED = "closed"  # 已完结: every supplier part settled, declined or cancelled


class PartStatus(enum.StrEnum):
    """The life of one supplier's part (the shop sub-order) of a procurement order."""

    AWAITING_APPROVAL = "awaiting_approval"  # the order waits for the unit's approver
    AWAITING_CONFIRMATION = "awaiting_confirmation"  # 待供应商确认
    CONFIRMED = "confirmed"  # 已确认 (the contract stands)
    DECLINED = "declined"  # 供应商拒单
    CANCELLED = "cancelled"  # the order was rejected
    PAID = "paid"  # 已付款 (pay-first only, before shipment)
    SHIPPED = "shipped"  # 已发货
    ACCEPTED = "accepted"  # 已验收 (in full or in part)
    INVOICED = "invoiced"  # 已开票 (deliver-first: waits for payment)
    SETTLED = "settled"  # 已结算


class PaymentMethod(enum.StrEnum):
    BANK_TRANSFER = "bank_transfer"  # 对公转账
    OFFICIAL_CARD = "official_card"  # 公务卡


class ProcurementOrder(db.Model):
    __tablename__ = "procurement_order"
    __table_args__ = (
        sa.Index("ix_procurement_order_unit_status", "unit_id", "status"),
        sa.CheckConstraint("status <> 'rejected' OR decision_comment IS NOT NULL", name="rejection_has_comment"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("shop_order.id", ondelete="RESTRICT"), unique=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("buyer_unit.id", ondelete="RESTRICT"))
    channel: Mapped[PurchaseChannel] = mapped_column(str_enum(PurchaseChannel))
    payment_terms: Mapped[PaymentTerms] = mapped_column(str_enum(PaymentTerms))
    address_id: Mapped[int] = mapped_column(sa.ForeignKey("unit_address.id", ondelete="RESTRICT"), index=True)
    wanted_on: Mapped[date]  # 期望送达日期
    status: Mapped[ProcurementStatus] = mapped_column(str_enum(ProcurementStatus), index=True)
    submitted_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="RESTRICT"), index=True)
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]
    decision_comment: Mapped[str | None] = mapped_column(sa.Text)
    closed_at: Mapped[datetime | None]

    order = relationship("Order")
    unit = relationship("BuyerUnit")
    address = relationship("UnitAddress")
    submitted_by = relationship("User", foreign_keys=[submitted_by_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])
    parts: Mapped[list[ProcurementPart]] = relationship(back_populates="procurement_order",
                                                        order_by="ProcurementPart.id")


class ProcurementPart(db.Model):
    """One supplier's part of a procurement order, beside the shop sub-order it follows."""

    __tablename__ = "procurement_part"
    __table_args__ = (
        sa.Index("ix_procurement_part_supplier_status", "supplier_id", "status"),
        sa.CheckConstraint("accepted_fen >= 0", name="accepted_not_negative"),
        sa.CheckConstraint(
            "invoice_amount_fen IS NULL OR (invoice_amount_fen > 0 AND invoice_amount_fen <= accepted_fen)",
            name="invoice_within_accepted",
        ),
        sa.CheckConstraint(
            "(invoice_number IS NULL) = (invoice_amount_fen IS NULL)"
            " AND (invoice_number IS NULL) = (invoice_date IS NULL)",
            name="invoice_complete",
        ),
        sa.CheckConstraint("status <> 'declined' OR decline_reason IS NOT NULL", name="decline_has_reason"),
        # An invoice number is the supplier's own; it cannot be recorded twice.
        sa.UniqueConstraint("supplier_id", "invoice_number", name="uq_procurement_part_invoice_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    procurement_order_id: Mapped[int] = mapped_column(
        sa.ForeignKey("procurement_order.id", ondelete="CASCADE"), index=True)
    sub_order_id: Mapped[int] = mapped_column(sa.ForeignKey("sub_order.id", ondelete="RESTRICT"), unique=True)
    supplier_id: Mapped[int] = mapped_column(sa.ForeignKey("supplier.id", ondelete="RESTRICT"))
    status: Mapped[PartStatus] = mapped_column(str_enum(PartStatus))
    decline_reason: Mapped[str | None] = mapped_column(sa.Text)
    confirmed_at: Mapped[datetime | None]
    # Pay-first: the unit pays by this date (30 days after confirmation; one extension of 15 days).
    payment_due_on: Mapped[date | None]
    due_extended: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    accepted_at: Mapped[datetime | None]
    accepted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    accepted_fen: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    invoice_number: Mapped[str | None] = mapped_column(sa.String(40))
    invoice_amount_fen: Mapped[int | None] = mapped_column(sa.BigInteger)
    invoice_date: Mapped[date | None]
    # A stored upload ``<key>.pdf`` in the private invoice folder; the original name for display.
    invoice_file_key: Mapped[str | None] = mapped_column(sa.String(40), unique=True)
    invoice_file_name: Mapped[str | None] = mapped_column(sa.String(120))
    invoiced_at: Mapped[datetime | None]
    settled_at: Mapped[datetime | None]

    procurement_order: Mapped[ProcurementOrder] = relationship(back_populates="parts")
    sub_order = relationship("SubOrder")
    supplier = relationship("Supplier")
    lines: Mapped[list[ProcurementLine]] = relationship(back_populates="part", order_by="ProcurementLine.order_line_id")
    payment: Mapped[ProcurementPayment | None] = relationship(back_populates="part", uselist=False)


class ProcurementLine(db.Model):
    """The acceptance (验收) of one order line: how much was taken, how much refused and why."""

    __tablename__ = "procurement_line"
    __table_args__ = (
        sa.CheckConstraint("accepted_quantity >= 0", name="accepted_not_negative"),
        sa.CheckConstraint("refused_quantity >= 0", name="refused_not_negative"),
        sa.CheckConstraint("returned_quantity >= 0 AND returned_quantity <= accepted_quantity",
                           name="returned_within_accepted"),
        sa.CheckConstraint("refused_quantity = 0 OR refusal_reason IS NOT NULL", name="refusal_has_reason"),
    )

    order_line_id: Mapped[int] = mapped_column(sa.ForeignKey("order_line.id", ondelete="RESTRICT"), primary_key=True)
    part_id: Mapped[int] = mapped_column(sa.ForeignKey("procurement_part.id", ondelete="CASCADE"), index=True)
    accepted_quantity: Mapped[int]
    refused_quantity: Mapped[int]
    refusal_reason: Mapped[str | None] = mapped_column(sa.Text)
    # Goods sent back after acceptance (each return also writes a negative plan-ledger row).
    returned_quantity: Mapped[int] = mapped_column(default=0, server_default="0")

    part: Mapped[ProcurementPart] = relationship(back_populates="lines")
    order_line = relationship("OrderLine")


class ProcurementPayment(db.Model):
    """The unit's payment of one part. The reference is unique on the whole platform."""

    __tablename__ = "procurement_payment"
    __table_args__ = (sa.CheckConstraint("amount_fen > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    part_id: Mapped[int] = mapped_column(sa.ForeignKey("procurement_part.id", ondelete="RESTRICT"), unique=True)
    method: Mapped[PaymentMethod] = mapped_column(str_enum(PaymentMethod))
    reference: Mapped[str] = mapped_column(sa.String(64), unique=True)  # bank transaction or card slip number
    amount_fen: Mapped[int] = mapped_column(sa.BigInteger)
    paid_on: Mapped[date]
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    part: Mapped[ProcurementPart] = relationship(back_populates="payment")
