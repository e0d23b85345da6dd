"""Reviews of what buyers received, and benefit attribution (联农带农 收益归属).

Kept beside ``shop/models.py``; both are the shop's models.
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.database import str_enum, utcnow
from core.extensions import db
from shop.models import OrderLine, Product

REVIEW_TEXT_MAX = 500


class ProductReview(db.Model):
    """A buyer's rating of one order line they received: one review per line, ever.

    Administrators hide abusive reviews; hidden reviews stay for the record but
    count nowhere (not in the average, not in the list).
    """

    __tablename__ = "product_review"
    __table_args__ = (
        sa.CheckConstraint("rating >= 1 AND rating <= 5", name="rating_range"),
        sa.CheckConstraint(f"length(text) <= {REVIEW_TEXT_MAX}", name="text_length"),
        # The product page reads the visible reviews of a product, newest first.
        sa.Index("ix_product_review_product_visible", "product_id", "is_hidden", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # unique: the database itself refuses a second review of the same line.
    order_line_id: Mapped[int] = mapped_column(sa.ForeignKey("order_line.id", ondelete="CASCADE"), unique=True)
    buyer_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("product.id", ondelete="CASCADE"))
    rating: Mapped[int]
    text: Mapped[str] = mapped_column(sa.String(REVIEW_TEXT_MAX), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    is_hidden: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    hidden_at: Mapped[datetime | None]
    hidden_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    hidden_reason: Mapped[str | None] = mapped_column(sa.String(500))

    line: Mapped[OrderLine] = relationship()
    product: Mapped[Product] = relationship()
    buyer = relationship("User", foreign_keys=[buyer_id])


class AttributionReason(enum.StrEnum):
    ATTRIBUTED = "attributed"  # the line completed: the household's share is attributed (收益归属)
    REVERSED = "reversed"  # a refund after completion takes back the share of what was refunded


class BenefitAttribution(db.Model):
    """One household's share of one completed order line (联农带农 收益归属), or its reversal.

    Rows are never updated: completion writes one positive row per household
    linked to the supplier at that moment; a later refund writes negative rows,
    so the net of a line and household is always ``sum(amount_fen)``. The
    household's village and county are copied at attribution time, so that the
    figures by county stay what they were when the money was attributed.
    """

    __tablename__ = "benefit_attribution"
    __table_args__ = (
        sa.CheckConstraint("share_bp > 0 AND share_bp <= 10000", name="share_range"),
        sa.CheckConstraint(
            "(reason = 'attributed' AND amount_fen > 0) OR (reason = 'reversed' AND amount_fen < 0)",
            name="sign_matches_reason",
        ),
        # A line is attributed to a household once (a second completion cannot double it).
        sa.Index(
            "uq_benefit_attribution_once", "order_line_id", "household_id", unique=True,
            postgresql_where=sa.text("reason = 'attributed'"), sqlite_where=sa.text("reason = 'attributed'"),
        ),
        sa.Index("ix_benefit_attribution_supplier_household", "supplier_id", "household_id"),
        sa.Index("ix_benefit_attribution_product_household", "product_id", "household_id"),
        sa.Index("ix_benefit_attribution_county_household", "county_id", "household_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_line_id: Mapped[int] = mapped_column(sa.ForeignKey("order_line.id", ondelete="RESTRICT"), index=True)
    household_id: Mapped[int] = mapped_column(sa.ForeignKey("household.id", ondelete="RESTRICT"), index=True)
    supplier_id: Mapped[int] = mapped_column(sa.ForeignKey("supplier.id", ondelete="RESTRICT"))
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("product.id", ondelete="RESTRICT"))
    village_id: Mapped[int] = mapped_column(sa.ForeignKey("region.id", ondelete="RESTRICT"), index=True)
    county_id: Mapped[int] = mapped_column(sa.ForeignKey("region.id", ondelete="RESTRICT"))
    # The link's share when the line completed; reversals reuse it.
    share_bp: Mapped[int]
    amount_fen: Mapped[int] = mapped_column(sa.BigInteger)  # signed: negative for a reversal
    reason: Mapped[AttributionReason] = mapped_column(str_enum(AttributionReason, 16))
    refund_request_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("refund_request.id", ondelete="RESTRICT"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
