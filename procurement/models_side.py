"""The side ledger (职工个人 and 帮助销售): employees' own purchases and help-sales, written down once.

Both figures come from the shop's completed consumer orders. Computing them live meant reading
every order line of every employee and every order that carried a promotion code on each
dashboard; instead, the moment a sub-order completes (and again when a completed one is refunded)
procurement writes what it adds to each unit here, in the same transaction
(``procurement.services.side_ledger``, a session hook: the shop never imports procurement).

``UnitSideEntry`` is append-only, like the plan ledger: one row per line of a completed sub-order
and per kind it counts for (a line can count as one unit's employee purchase and another unit's
help-sale), and one row per later refund of that line, negative. A row records the facts at the
moment the sub-order completed: the unit the buyer had named as employer then (from the day
named), the unit whose promotion code the order carried then, and the product's county of
origin then. The year and month are those of the completion in Asia/Shanghai time; a refund is
entered in the year and month of the completion it reduces (as the figures were always shown:
net of refunds, in the month the sub-order completed). Keeping the rows, rather than totals
alone, is what lets a refund take back exactly what its line added to exactly the unit it added
to, whatever has changed since.

The totals (``UnitSideTotal`` per unit, year and kind with its months; ``UnitSideOriginTotal`` per
unit, year, kind and county of origin) are kept from the entries by database triggers, as the plan
ledger's are; ``completion.totals_drift`` compares them with the entries.
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.database import str_enum, utcnow
from core.extensions import db
from procurement.models_completion import MonthlyAmounts


class SideKind(enum.StrEnum):
    EMPLOYEE = "employee"  # 职工个人: a purchase of one of the unit's employees
    HELP_SALES = "help_sales"  # 帮助销售: a sale that came through the unit's promotion code


class SideReason(enum.StrEnum):
    COMPLETED = "completed"  # the sub-order completed: the line's amount net of what was refunded by then
    REFUNDED = "refunded"  # a later refund of the line


class UnitSideEntry(db.Model):
    __tablename__ = "unit_side_entry"
    __table_args__ = (
        sa.CheckConstraint("month >= 1 AND month <= 12", name="month_range"),
        sa.CheckConstraint(
            "(reason = 'completed' AND amount_fen >= 0) OR (reason <> 'completed' AND amount_fen <= 0)",
            name="sign_matches_reason",
        ),
        sa.Index("ix_unit_side_entry_line_kind", "order_line_id", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("buyer_unit.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[SideKind] = mapped_column(str_enum(SideKind))
    year: Mapped[int]
    month: Mapped[int]
    reason: Mapped[SideReason] = mapped_column(str_enum(SideReason))
    amount_fen: Mapped[int] = mapped_column(sa.BigInteger)
    order_line_id: Mapped[int] = mapped_column(sa.ForeignKey("order_line.id", ondelete="RESTRICT"))
    origin_county_id: Mapped[int] = mapped_column(sa.ForeignKey("region.id", ondelete="RESTRICT"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class UnitSideTotal(MonthlyAmounts, db.Model):
    """A unit's employee purchases or help-sales in a year: the year's sum and each month's."""

    __tablename__ = "unit_side_total"
    __table_args__ = (sa.Index("ix_unit_side_total_year", "year"),)

    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("buyer_unit.id", ondelete="CASCADE"), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[SideKind] = mapped_column(str_enum(SideKind), primary_key=True)


class UnitSideOriginTotal(db.Model):
    """A unit's employee purchases or help-sales in a year by county of origin (where the money went)."""

    __tablename__ = "unit_side_origin_total"
    __table_args__ = (sa.Index("ix_unit_side_origin_total_year_county", "year", "origin_county_id"),)

    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("buyer_unit.id", ondelete="CASCADE"), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[SideKind] = mapped_column(str_enum(SideKind), primary_key=True)
    origin_county_id: Mapped[int] = mapped_column(sa.ForeignKey("region.id", ondelete="CASCADE"), primary_key=True)
    amount_fen: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")


SIDE_TOTALS = (
    (UnitSideTotal.__tablename__, ("unit_id", "year", "kind"), True),
    (UnitSideOriginTotal.__tablename__, ("unit_id", "year", "kind", "origin_county_id"), False),
)
"""Each total: its table, its key (the entries' columns of the same names), whether it has month columns."""
