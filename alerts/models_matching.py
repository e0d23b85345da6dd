"""Matchmaking (产销对接): units' demands, suppliers' offers, and the matches the platform proposes.

A demand (采购需求) is what a buyer unit wants: a category, a quantity in some unit, a budget, a
delivery window and optionally a wished origin region. An offer (供货信息) is what a supplier has: a
product or a category with a description, a quantity, the day it is ready and a price per unit.
The matcher (``alerts.matching``) proposes matches between open demands and both open offers and
listed products; each side accepts or declines. The invariants that do not depend on other rows are
kept by the database: positive quantities, no negative budget, a window that ends on or after it
starts, one match per demand and offer (and per demand and listed product).
"""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.database import str_enum, utcnow
from core.extensions import db


class DemandStatus(enum.StrEnum):
    OPEN = "open"  # 征集中: the matcher proposes for it
    CLOSED = "closed"  # 已结束: the unit closed it, or its delivery window passed
    CANCELLED = "cancelled"  # 已撤销


class OfferStatus(enum.StrEnum):
    OPEN = "open"  # 供货中
    CLOSED = "closed"  # 已结束: all of it is promised to accepted matches, or the supplier closed it
    CANCELLED = "cancelled"  # 已撤销


class MatchStatus(enum.StrEnum):
    PROPOSED = "proposed"  # 已推荐: neither side has answered
    ACCEPTED_BY_UNIT = "accepted_by_unit"  # 单位已接受, waiting for the supplier
    ACCEPTED_BY_SUPPLIER = "accepted_by_supplier"  # 供应商已接受, waiting for the unit
    ACCEPTED = "accepted"  # 已达成: both sides (or the unit, on a listed product) accepted; the unit may order
    DECLINED = "declined"  # 已拒绝 by either side
    EXPIRED = "expired"  # 已失效: the demand, the offer or the product is gone before both sides agreed


PENDING_MATCH_STATUSES = (MatchStatus.PROPOSED, MatchStatus.ACCEPTED_BY_UNIT, MatchStatus.ACCEPTED_BY_SUPPLIER)


class Demand(db.Model):
    __tablename__ = "match_demand"
    __table_args__ = (
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
        sa.CheckConstraint("budget_fen IS NULL OR budget_fen >= 0", name="budget_not_negative"),
        sa.CheckConstraint("delivery_to >= delivery_from", name="window_ends_after_start"),
        sa.Index("ix_match_demand_status_window", "status", "delivery_to"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("buyer_unit.id", ondelete="CASCADE"), index=True)
    posted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("category.id", ondelete="RESTRICT"), index=True)
    quantity: Mapped[int] = mapped_column(sa.BigInteger)
    unit: Mapped[str] = mapped_column(sa.String(10))  # the sales unit counted: kg, 斤, 箱, 袋 ...
    budget_fen: Mapped[int | None] = mapped_column(sa.BigInteger)  # for the whole quantity; None: no ceiling given
    delivery_from: Mapped[date]
    delivery_to: Mapped[date]
    wished_region_id: Mapped[int | None] = mapped_column(sa.ForeignKey("region.id", ondelete="RESTRICT"))
    note: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    status: Mapped[DemandStatus] = mapped_column(str_enum(DemandStatus), default=DemandStatus.OPEN,
                                                 server_default=DemandStatus.OPEN.value)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]

    buyer_unit = relationship("BuyerUnit")
    category = relationship("Category")
    wished_region = relationship("Region")
    posted_by = relationship("User")


class Offer(db.Model):
    __tablename__ = "match_offer"
    __table_args__ = (
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
        sa.CheckConstraint("price_fen > 0", name="price_positive"),
        sa.Index("ix_match_offer_status_category", "status", "category_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    supplier_id: Mapped[int] = mapped_column(sa.ForeignKey("supplier.id", ondelete="CASCADE"), index=True)
    posted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    # The listed product offered; None when the produce is not listed (yet): then category + description say it.
    product_id: Mapped[int | None] = mapped_column(sa.ForeignKey("product.id", ondelete="SET NULL"), index=True)
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("category.id", ondelete="RESTRICT"))
    description: Mapped[str] = mapped_column(sa.String(500), default="", server_default="")
    quantity: Mapped[int] = mapped_column(sa.BigInteger)
    unit: Mapped[str] = mapped_column(sa.String(10))
    ready_on: Mapped[date]
    price_fen: Mapped[int] = mapped_column(sa.BigInteger)  # per ``unit``
    # Where it grows: the product's village, else the supplier's county (kept with the county for the flags).
    origin_region_id: Mapped[int] = mapped_column(sa.ForeignKey("region.id", ondelete="RESTRICT"))
    origin_county_id: Mapped[int | None] = mapped_column(sa.ForeignKey("region.id", ondelete="RESTRICT"))
    status: Mapped[OfferStatus] = mapped_column(str_enum(OfferStatus), default=OfferStatus.OPEN,
                                                server_default=OfferStatus.OPEN.value)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]

    supplier = relationship("Supplier")
    product = relationship("Product")
    category = relationship("Category")
    origin_region = relationship("Region", foreign_keys=[origin_region_id])
    posted_by = relationship("User")


class Match(db.Model):
    """A proposed pairing of a demand with an offer or with a listed product, its score and its answers."""

    __tablename__ = "match_match"
    __table_args__ = (
        sa.CheckConstraint("score >= 0 AND score <= 100", name="score_range"),
        sa.CheckConstraint("offer_id IS NOT NULL OR product_id IS NOT NULL", name="offer_or_product"),
        # An agreed match names the product the unit orders, and the unit has said yes; the supplier
        # has too, unless the match is on a listed product (a standing offer at its listed price).
        sa.CheckConstraint(
            "status <> 'accepted' OR (product_id IS NOT NULL AND unit_accepted_at IS NOT NULL"
            " AND (supplier_accepted_at IS NOT NULL OR offer_id IS NULL))",
            name="accepted_by_both",
        ),
        sa.UniqueConstraint("demand_id", "offer_id", name="uq_match_match_demand_offer"),
        # Direct matches on a listed product: one per demand and product.
        sa.Index("uq_match_match_demand_product", "demand_id", "product_id", unique=True,
                 postgresql_where=sa.text("offer_id IS NULL"), sqlite_where=sa.text("offer_id IS NULL")),
        sa.Index("ix_match_match_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    demand_id: Mapped[int] = mapped_column(sa.ForeignKey("match_demand.id", ondelete="CASCADE"))
    offer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("match_offer.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int | None] = mapped_column(sa.ForeignKey("product.id", ondelete="CASCADE"), index=True)
    supplier_id: Mapped[int] = mapped_column(sa.ForeignKey("supplier.id", ondelete="CASCADE"), index=True)
    score: Mapped[int]
    reasons: Mapped[list] = mapped_column(sa.JSON, default=list)  # [{"code": ..., "points": ..., ...}]
    status: Mapped[MatchStatus] = mapped_column(str_enum(MatchStatus), default=MatchStatus.PROPOSED,
                                                server_default=MatchStatus.PROPOSED.value)
    # The worst live warning of the product when the match was last scored (open warnings are matched first).
    warning_id: Mapped[int | None] = mapped_column(sa.ForeignKey("alert_warning.id", ondelete="SET NULL"))
    unit_price_fen: Mapped[int] = mapped_column(sa.BigInteger)  # the offer's or product's price per its unit
    order_quantity: Mapped[int] = mapped_column(sa.BigInteger)  # in the offer's or product's unit
    unit_accepted_at: Mapped[datetime | None]
    unit_accepted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    supplier_accepted_at: Mapped[datetime | None]
    supplier_accepted_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    declined_at: Mapped[datetime | None]
    declined_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    decline_reason: Mapped[str] = mapped_column(sa.String(500), default="", server_default="")
    # "下单": when the unit's buyer put the match into the procurement cart; the submitted order is linked after.
    carted_at: Mapped[datetime | None]
    procurement_order_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("procurement_order.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    demand: Mapped[Demand] = relationship()
    offer: Mapped[Offer | None] = relationship()
    product = relationship("Product")
    supplier = relationship("Supplier")
