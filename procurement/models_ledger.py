"""The plan ledger (计划台账): what counts toward a unit's consumption-assistance plan.

One row per counted movement of money: a procurement order line accepted (验收)
adds its accepted amount; a return or refund after acceptance subtracts. Rows are
only ever added, never edited, so a unit's counted amount for a year is a plain
``SUM(amount_fen)`` and every figure on a dashboard can be traced to the lines
behind it. The year and month are those of the acceptance (or of the return), in
Asia/Shanghai time, stored so that roll-ups group by plain columns.

Employee-personal purchases (职工个人) and help-sales (帮助销售) are not written
here but in the side ledger (``procurement.models_side``), entered from the
shop's completed orders; help-sales are never mixed into a unit's own purchases.
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.database import str_enum, utcnow
from core.extensions import db


class PurchaseChannel(enum.StrEnum):
    CANTEEN = "canteen"  # 食堂
    UNION = "union"  # 工会


class LedgerReason(enum.StrEnum):
    ACCEPTED = "accepted"  # 验收: the accepted amount of a line
    RETURNED = "returned"  # goods sent back after acceptance
    REFUNDED = "refunded"  # money paid back after acceptance


class PlanLedgerEntry(db.Model):
    __tablename__ = "plan_ledger_entry"
    __table_args__ = (
        sa.CheckConstraint("month >= 1 AND month <= 12", name="month_range"),
        sa.CheckConstraint(
            "(reason = 'accepted' AND amount_fen >= 0) OR (reason <> 'accepted' AND amount_fen <= 0)",
            name="sign_matches_reason",
        ),
        sa.Index("ix_plan_ledger_entry_unit_year", "unit_id", "year"),
        sa.Index("ix_plan_ledger_entry_year_county", "year", "origin_county_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("buyer_unit.id", ondelete="RESTRICT"))
    year: Mapped[int]
    month: Mapped[int]
    channel: Mapped[PurchaseChannel] = mapped_column(str_enum(PurchaseChannel))
    reason: Mapped[LedgerReason] = mapped_column(str_enum(LedgerReason))
    amount_fen: Mapped[int] = mapped_column(sa.BigInteger)
    order_line_id: Mapped[int] = mapped_column(sa.ForeignKey("order_line.id", ondelete="RESTRICT"), index=True)
    # Where the money went: the county of the product's origin, and its category (denormalised for roll-ups).
    origin_county_id: Mapped[int] = mapped_column(sa.ForeignKey("region.id", ondelete="RESTRICT"))
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("category.id", ondelete="RESTRICT"), index=True)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
