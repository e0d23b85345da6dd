"""Maintained totals of the plan ledger, so that completion dashboards read thousands of rows, not millions.

The plan ledger (``plan_ledger_entry``) is append-only. Database triggers (created by this
domain's migrations, on SQLite and PostgreSQL alike) add every ledger row's amount to three
totals in the same transaction — per unit and year (with its months), per unit and county of
origin and category, and per county of origin for all units — and take it off again if a row is
ever deleted. No application code writes
these tables, so they cannot drift from the ledger; ``completion.totals_drift`` compares them
with the ledger for the tests.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.database import str_enum
from core.extensions import db
from procurement.models_ledger import PurchaseChannel

MONTH_COLUMNS = tuple(f"m{m:02d}" for m in range(1, 13))


class MonthlyAmounts:
    """A year's sum and each month's (Asia/Shanghai) in its own column, so that a year of months is one row."""

    amount_fen: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    m01: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    m02: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    m03: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    m04: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    m05: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    m06: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    m07: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    m08: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    m09: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    m10: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    m11: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    m12: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")


class PlanYearTotal(MonthlyAmounts, db.Model):
    """A unit's counted procurement (canteen, union) in a year, per channel: the year's sum and each
    month's (Asia/Shanghai) in its own column, so that a year of months is one row, not twelve."""

    __tablename__ = "plan_year_total"
    __table_args__ = (sa.Index("ix_plan_year_total_year", "year"),)

    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("buyer_unit.id", ondelete="CASCADE"), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[PurchaseChannel] = mapped_column(str_enum(PurchaseChannel), primary_key=True)


class PlanOriginTotal(db.Model):
    """A unit's counted procurement in a year by county of origin and category (where the money went)."""

    __tablename__ = "plan_origin_total"
    __table_args__ = (sa.Index("ix_plan_origin_total_year_county", "year", "origin_county_id"),)

    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("buyer_unit.id", ondelete="CASCADE"), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    origin_county_id: Mapped[int] = mapped_column(sa.ForeignKey("region.id", ondelete="CASCADE"), primary_key=True)
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("category.id", ondelete="CASCADE"), primary_key=True)
    channel: Mapped[PurchaseChannel] = mapped_column(str_enum(PurchaseChannel), primary_key=True)
    amount_fen: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")


class PlanCountyTotal(db.Model):
    """All units' counted procurement in a year per county of origin: the dashboard's "where the money
    went" for every region at once reads a few dozen rows here instead of every unit's (hundreds of
    thousands in ``plan_origin_total``). Every acceptance of a county's products in the year updates the
    same row, so such acceptances wait for each other's commit: a short wait, acceptances are rare."""

    __tablename__ = "plan_county_total"

    year: Mapped[int] = mapped_column(primary_key=True)
    origin_county_id: Mapped[int] = mapped_column(sa.ForeignKey("region.id", ondelete="CASCADE"), primary_key=True)
    channel: Mapped[PurchaseChannel] = mapped_column(str_enum(PurchaseChannel), primary_key=True)
    amount_fen: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")


TOTALS = (
    (PlanYearTotal.__tablename__, ("unit_id", "year", "channel")),
    (PlanOriginTotal.__tablename__, ("unit_id", "year", "origin_county_id", "category_id", "channel")),
    (PlanCountyTotal.__tablename__, ("year", "origin_county_id", "channel")),
)
