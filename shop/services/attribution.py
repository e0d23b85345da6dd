"""Benefit attribution (联农带农 收益归属): which registry households a completed sale helped, by how much.

When a sub-order completes, each of its lines is split among the households
linked to the supplier at that moment (status ACTIVE, started on or before the
completion date in Asia/Shanghai, not ended before it). Each household receives
its declared share of what the buyer kept::

    share = floor((quantity - refunded_quantity) × unit_price_fen × benefit_share_bp / 10000)

Rounding is always down to the whole fen, household by household. So the parts
of one line never add up to more than the line's share total: with shares
s₁…sₙ of an amount A, Σ floor(A·sᵢ) ≤ floor(A·Σsᵢ) ≤ A·Σsᵢ. A household whose
share rounds to 0 fen gets no row. No links, no rows: nothing is attributed.

A refund approved after completion writes negative rows so that the net of
each line and household becomes the same formula over what is still kept;
a refund of everything brings the net back to exactly 0, and partial refunds
in several steps never take back more than was attributed.

Every write is one INSERT … SELECT over all the lines concerned, in the
caller's transaction (the order transition's), never a loop over lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.functions import FunctionElement

from core import audit
from core.database import UTCDateTime, utcnow
from core.extensions import db
from core.registry.models import Household, Region
from core.registry.services import region_scope
from shop.models import HouseholdLink, LinkStatus, OrderLine, SubOrder, Supplier
from shop.models_benefit import AttributionReason, BenefitAttribution
from shop.models_orders import RefundRequest
from shop.services.common import SHOP_TIMEZONE

BA = BenefitAttribution
_TABLE = BenefitAttribution.__table__
FULL_SHARE_BP = 10_000
_COLUMNS = ["order_line_id", "household_id", "supplier_id", "product_id", "village_id", "county_id", "share_bp",
            "amount_fen", "reason", "refund_request_id", "created_at"]


def _kept_share(share_bp) -> sa.ColumnElement[int]:
    """The household's share, in whole fen rounded down, of what the buyer kept of a line.

    BIGINT before multiplying (quantity × price × basis points passes 2³¹ quickly);
    ``//`` is integer division on both PostgreSQL and SQLite (all operands are ≥ 0).
    """
    kept = sa.cast(OrderLine.quantity - OrderLine.refunded_quantity, sa.BigInteger)
    return kept * OrderLine.unit_price_fen * share_bp // FULL_SHARE_BP


class _LocalDate(FunctionElement):
    """The calendar date in Asia/Shanghai (UTC+8 all year, no summer time) of a UTC timestamp column."""

    type = sa.Date()
    name = "local_date"
    inherit_cache = True


@compiles(_LocalDate)
def _local_date_postgresql(element, compiler, **kw):
    return f"CAST(timezone('Asia/Shanghai', {compiler.process(element.clauses, **kw)}) AS DATE)"


@compiles(_LocalDate, "sqlite")
def _local_date_sqlite(element, compiler, **kw):
    return f"date({compiler.process(element.clauses, **kw)}, '+8 hours')"


def _attribution_rows(where, on) -> sa.Select:
    """SELECT of the rows to attribute: each line of the sub-orders matching ``where`` × each household
    linked to its supplier on the date ``on``, with its share of what the buyer kept (rows of 0 fen left out)."""
    village, township = aliased(Region), aliased(Region)
    amount = _kept_share(HouseholdLink.benefit_share_bp)
    return (
        sa.select(
            OrderLine.id, HouseholdLink.household_id, SubOrder.supplier_id, OrderLine.product_id, village.id,
            township.parent_id, HouseholdLink.benefit_share_bp, amount,
            sa.literal(AttributionReason.ATTRIBUTED.value), sa.null(), SubOrder.completed_at,
        )
        .select_from(OrderLine)
        .join(SubOrder, SubOrder.id == OrderLine.sub_order_id)
        .join(HouseholdLink, sa.and_(
            HouseholdLink.supplier_id == SubOrder.supplier_id,
            HouseholdLink.status == LinkStatus.ACTIVE,
            HouseholdLink.started_on <= on,
            sa.or_(HouseholdLink.ended_on.is_(None), HouseholdLink.ended_on >= on),
        ))
        .join(Household, Household.id == HouseholdLink.household_id)
        .join(village, village.id == Household.village_id)
        .join(township, township.id == village.parent_id)  # a village sits under a township, under a county
        .where(where, amount > 0)
    )


def _insert(rows: sa.Select) -> int:
    """INSERT … SELECT; returns the number of rows written (RETURNING: rowcount is not reliable here)."""
    return len(db.session.execute(sa.insert(_TABLE).from_select(_COLUMNS, rows).returning(_TABLE.c.id)).all())


def attribute_sub_order(sub_order: SubOrder) -> int:
    """Attribute every line of a sub-order that has just completed; returns the number of rows written.

    Called by ``shop.services.orders.complete`` inside the completion's transaction.
    """
    if sub_order.completed_at is None:
        sub_order.completed_at = utcnow()
    on = sub_order.completed_at.astimezone(SHOP_TIMEZONE).date()
    db.session.flush()  # the completion time and the lines' refunded quantities are read by the SELECT
    written = _insert(_attribution_rows(OrderLine.sub_order_id == sub_order.id, on))
    if written:
        total = db.session.execute(
            sa.select(sa.func.coalesce(sa.func.sum(BA.amount_fen), 0))
            .join(OrderLine, OrderLine.id == BA.order_line_id)
            .where(OrderLine.sub_order_id == sub_order.id, BA.reason == AttributionReason.ATTRIBUTED)
        ).scalar_one()  # PostgreSQL sums BIGINT as NUMERIC: int() for the JSON audit entry
        audit.record("benefit.attribute", "sub_order", sub_order.id, after={"rows": written, "amount_fen": int(total)})
    return written


def attribute_backlog(*, returning: bool = True) -> int:
    """Attribute the completed lines that have no attribution yet (orders completed before attribution
    existed, or written in bulk by the demo seed), in one INSERT … SELECT. Links count as they stand now,
    on each sub-order's completion date; running it again writes nothing new."""
    already = (
        sa.select(BA.id).where(BA.order_line_id == OrderLine.id, BA.household_id == HouseholdLink.household_id,
                               BA.reason == AttributionReason.ATTRIBUTED)
        .exists()
    )
    db.session.flush()
    rows = _attribution_rows(sa.and_(SubOrder.completed_at.is_not(None), ~already), _LocalDate(SubOrder.completed_at))
    if returning:
        written = _insert(rows)
    else:  # millions of rows (the scale seed): count them afterwards instead of fetching every id
        before = db.session.execute(sa.select(sa.func.count(BA.id))).scalar_one()
        db.session.execute(sa.insert(_TABLE).from_select(_COLUMNS, rows))
        written = db.session.execute(sa.select(sa.func.count(BA.id))).scalar_one() - before
    if written:
        audit.record("benefit.attribute_backlog", "benefit_attribution", None, after={"rows": written})
    return written


def reverse_refund(refund: RefundRequest) -> int:
    """Take back the attribution of the lines a refund approved after completion returned.

    Reads each line's ``refunded_quantity`` as it now stands (the refund has just
    raised it), so several partial refunds add up to the same as one.
    """
    line_ids = [int(line_id) for line_id in refund.lines]
    if not line_ids:
        return 0
    db.session.flush()
    net = (
        sa.select(BA.order_line_id, BA.household_id, BA.supplier_id, BA.product_id, BA.village_id, BA.county_id,
                  BA.share_bp, sa.func.sum(BA.amount_fen).label("net_fen"))
        .where(BA.order_line_id.in_(line_ids))
        .group_by(BA.order_line_id, BA.household_id, BA.supplier_id, BA.product_id, BA.village_id, BA.county_id,
                  BA.share_bp)
        .subquery()
    )
    delta = _kept_share(net.c.share_bp) - net.c.net_fen
    rows = (
        sa.select(net.c.order_line_id, net.c.household_id, net.c.supplier_id, net.c.product_id, net.c.village_id,
                  net.c.county_id, net.c.share_bp, delta, sa.literal(AttributionReason.REVERSED.value),
                  sa.literal(refund.id), sa.bindparam("at", utcnow(), type_=UTCDateTime()))
        .join(OrderLine, OrderLine.id == net.c.order_line_id)
        .where(delta < 0)
    )
    written = _insert(rows)
    if written:
        total = db.session.execute(
            sa.select(sa.func.coalesce(sa.func.sum(BA.amount_fen), 0)).where(BA.refund_request_id == refund.id)
        ).scalar_one()
        audit.record("benefit.reverse", "refund_request", refund.id,
                     after={"rows": written, "amount_fen": int(total), "sub_order_id": refund.sub_order_id})
    return written


# ---------------------------------------------------------------- figures


@dataclass(frozen=True)
class BenefitFigures:
    """Households reached (net attribution above 0), their people, and the net amount attributed."""

    households: int
    people: int
    amount_fen: int

    @property
    def per_household_fen(self) -> int:
        """Amount ÷ households, rounded half up to the fen (0 when no household was reached)."""
        if not self.households:
            return 0
        return (2 * self.amount_fen + self.households) // (2 * self.households)


def _reached(*filters, by=None) -> sa.Subquery:
    """Per household (and grouping column): the net amount, keeping only households still helped (> 0).

    A household whose every attributed line was refunded is not counted as reached.
    """
    columns = [BA.household_id] + ([by] if by is not None else [])
    return (
        sa.select(*columns, sa.func.sum(BA.amount_fen).label("net_fen"))
        .where(*filters)
        .group_by(*columns)
        .having(sa.func.sum(BA.amount_fen) > 0)
        .subquery()
    )


def figures(*filters) -> BenefitFigures:
    """The figures over the attribution rows matching ``filters`` (one query)."""
    reached = _reached(*filters)
    households, people, amount = db.session.execute(
        sa.select(sa.func.count(reached.c.household_id), sa.func.coalesce(sa.func.sum(Household.member_count), 0),
                  sa.func.coalesce(sa.func.sum(reached.c.net_fen), 0))
        .select_from(reached).join(Household, Household.id == reached.c.household_id)
    ).one()
    return BenefitFigures(int(households), int(people), int(amount))


def product_figures(product_id: int) -> BenefitFigures:
    return figures(BA.product_id == product_id)


def supplier_figures(supplier_id: int) -> BenefitFigures:
    return figures(BA.supplier_id == supplier_id)


@dataclass(frozen=True)
class ReportRow:
    id: int
    name: str
    figures: BenefitFigures


@dataclass
class BenefitReport:
    total: BenefitFigures
    by_county: list[ReportRow]
    by_supplier: list[ReportRow]


def _grouped(scope, by, name_model, name_column) -> list[ReportRow]:
    reached = _reached(scope, by=by)
    key = reached.c[by.key]
    rows = db.session.execute(
        sa.select(key, name_column, sa.func.count(reached.c.household_id),
                  sa.func.coalesce(sa.func.sum(Household.member_count), 0), sa.func.sum(reached.c.net_fen))
        .select_from(reached)
        .join(Household, Household.id == reached.c.household_id)
        .join(name_model, name_model.id == key)
        .group_by(key, name_column)
        .order_by(sa.func.sum(reached.c.net_fen).desc(), key)
    ).all()
    return [ReportRow(rid, name, BenefitFigures(int(h), int(p), int(a))) for rid, name, h, p, a in rows]


def report_total(user) -> BenefitFigures:
    """The report's total alone (for the administrators' start page)."""
    return figures(region_scope(user, BA.village_id))


def _year_window(year: int) -> sa.ColumnElement[bool]:
    """Rows written in calendar ``year`` in Asia/Shanghai: a reversal counts in the year of the refund."""
    start = datetime(year, 1, 1, tzinfo=SHOP_TIMEZONE)
    end = datetime(year + 1, 1, 1, tzinfo=SHOP_TIMEZONE)
    return sa.and_(BA.created_at >= start, BA.created_at < end)


def report(user, year: int | None = None) -> BenefitReport:
    """The administrators' report, limited to the households of ``user``'s region (everything for a
    platform administrator), over one calendar year or all time. A household helped by two suppliers
    is one household in the total."""
    scope = region_scope(user, BA.village_id)
    if year is not None:
        scope = sa.and_(scope, _year_window(year))
    return BenefitReport(
        total=figures(scope),
        by_county=_grouped(scope, BA.county_id, Region, Region.name),
        by_supplier=_grouped(scope, BA.supplier_id, Supplier, Supplier.name),
    )


def report_years(user) -> list[int]:
    """The calendar years (Asia/Shanghai) that have attribution rows in ``user``'s region, newest first."""
    first, last = db.session.execute(
        sa.select(sa.func.min(BA.created_at), sa.func.max(BA.created_at)).where(region_scope(user, BA.village_id))
    ).one()
    if first is None:
        return []
    first, last = (_as_utc(v).astimezone(SHOP_TIMEZONE).year for v in (first, last))
    return list(range(last, first - 1, -1))


def _as_utc(value) -> datetime:
    # An aggregate loses the column's type on SQLite: min()/max() come back as text there.
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# ---------------------------------------------------------------- demo data


def _seed_backlog(ctx) -> None:
    ctx.count("benefit attribution rows", attribute_backlog())


def _scale_backlog(ctx, scale: int) -> None:
    """The synthetic orders' attributions: millions of rows in one INSERT … SELECT.

    On PostgreSQL, when the role may, the statement runs with the foreign-key triggers off for this
    transaction only (``session_replication_role = replica``): every row is built by joining the very
    rows it references, so the checks cannot fail, and their row locks on a million order lines are what
    makes the insert take minutes instead of seconds. Elsewhere the checks stay on.
    """
    if db.engine.dialect.name == "postgresql" and db.session.execute(
        sa.text("SELECT current_setting('is_superuser') = 'on'")
    ).scalar_one():
        db.session.execute(sa.text("SET LOCAL session_replication_role = replica"))
    ctx.count("synthetic benefit attribution rows", attribute_backlog(returning=False))


def demo_seeder():
    """Runs after every domain wrote its orders in bulk (which bypass ``complete``), before search indexes."""
    from core.demo import Seeder

    return Seeder(name="benefit attribution", order=80, seed=_seed_backlog, scale=_scale_backlog)
