"""Integrity checks (廉政风险提示) for administrators: four flags, each one set-based query.

1. ``split_orders``: a unit orders from one supplier several times within a short window, each order
   at or under the unit's approval threshold (so none waited for an approver) but together above it.
2. ``unit_changes_after_shipment``: an order's unit (所属预算单位) changed after its goods shipped.
3. ``price_raises``: a product's price raised shortly before a large procurement order line at the new price
   (the raise read from the audit log of product edits, or from the snapshotted price of its previous line).
4. ``year_end_jumps``: a unit whose counted amount (plan ledger) in the last days of the year is more
   than a given share of its whole year.

A flag is a reason to look, not a verdict: every row carries the figures a person needs to judge it.
Each check takes the year (Asia/Shanghai) and a WHERE clause on ``BuyerUnit`` (the administrator's region)
and runs one query, whatever the number of orders or units. Thresholds are settings (``procurement.config``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.functions import FunctionElement

from core.audit import AuditEntry
from core.errors import ValidationFailed
from core.extensions import db
from core.money import parse_yuan
from procurement.models import BuyerUnit
from procurement.models_ledger import PlanLedgerEntry, PurchaseChannel
from procurement.models_orders import PartStatus, ProcurementOrder, ProcurementPart
from procurement.services import completion
from procurement.services.common import LOCAL_TIMEZONE
from shop.models import Order, OrderLine, Product, SubOrder, Supplier

DAY = 86400
DEFAULTS = {
    "INTEGRITY_SPLIT_WINDOW_DAYS": "3",  # orders this close together are read as one purchase
    "INTEGRITY_PRICE_RAISE_DAYS": "14",  # a raise this shortly before a large line is flagged
    "INTEGRITY_LARGE_LINE_YUAN": "10000",  # a procurement order line of at least this amount is large
    "INTEGRITY_YEAR_END_DAYS": "15",  # the last days of the year looked at
    "INTEGRITY_YEAR_END_PERCENT": "50",  # flagged above this share of the year's counted amount
}


# --- settings -------------------------------------------------------------------------------------


def parse_days(name: str, raw) -> int:
    try:
        value = int(str(raw).strip())
    except ValueError as exc:
        raise ValueError(f"{name} must be a whole number of days, not {raw!r}") from exc
    if not 1 <= value <= 366:
        raise ValueError(f"{name} must be between 1 and 366 days, not {raw!r}")
    return value


def parse_amount_fen(name: str, raw) -> int:
    try:
        fen = parse_yuan(str(raw))
    except ValidationFailed as exc:
        raise ValueError(f"{name} must be an amount in yuan, not {raw!r}") from exc
    if fen <= 0:
        raise ValueError(f"{name} must be more than 0 yuan, not {raw!r}")
    return fen


def parse_percent_bp(name: str, raw) -> int:
    try:
        value = Decimal(str(raw).strip())
    except ArithmeticError as exc:
        raise ValueError(f"{name} must be a percentage, not {raw!r}") from exc
    bp = value * 100
    if not value.is_finite() or bp != bp.to_integral_value() or not 0 < bp <= 10000:
        raise ValueError(f"{name} must be above 0 and at most 100, with at most two decimals, not {raw!r}")
    return int(bp)


@dataclass(frozen=True)
class Settings:
    split_window_days: int
    price_raise_days: int
    large_line_fen: int
    year_end_days: int
    year_end_bp: int  # basis points of the year's counted amount

    @property
    def year_end_percent(self) -> Decimal:
        return Decimal(self.year_end_bp) / 100


def parse_settings(config) -> Settings:
    """The five settings from ``config`` (a mapping); raises ValueError on a bad one."""
    get = lambda name: config.get(name) or DEFAULTS[name]  # noqa: E731
    return Settings(
        split_window_days=parse_days("INTEGRITY_SPLIT_WINDOW_DAYS", get("INTEGRITY_SPLIT_WINDOW_DAYS")),
        price_raise_days=parse_days("INTEGRITY_PRICE_RAISE_DAYS", get("INTEGRITY_PRICE_RAISE_DAYS")),
        large_line_fen=parse_amount_fen("INTEGRITY_LARGE_LINE_YUAN", get("INTEGRITY_LARGE_LINE_YUAN")),
        year_end_days=parse_days("INTEGRITY_YEAR_END_DAYS", get("INTEGRITY_YEAR_END_DAYS")),
        year_end_bp=parse_percent_bp("INTEGRITY_YEAR_END_PERCENT", get("INTEGRITY_YEAR_END_PERCENT")),
    )


def settings() -> Settings:
    return parse_settings(current_app.config)


# --- portable time arithmetic ------------------------------------------------------------------------


class _EpochSeconds(FunctionElement):
    """Whole seconds since 1970 of a UTC timestamp, so that "within N days" is integer arithmetic on
    PostgreSQL and SQLite alike."""

    type = sa.BigInteger()
    name = "epoch_seconds"
    inherit_cache = True


@compiles(_EpochSeconds)
def _epoch_postgresql(element, compiler, **kw):
    return f"CAST(FLOOR(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)})) AS BIGINT)"


@compiles(_EpochSeconds, "sqlite")
def _epoch_sqlite(element, compiler, **kw):
    return f"CAST(strftime('%s', {compiler.process(element.clauses, **kw)}) AS INTEGER)"


def epoch(column) -> sa.ColumnElement[int]:
    return _EpochSeconds(column)


def year_bounds(year: int) -> tuple[datetime, datetime]:
    """1 January to 1 January (Asia/Shanghai), as aware datetimes."""
    return datetime(year, 1, 1, tzinfo=LOCAL_TIMEZONE), datetime(year + 1, 1, 1, tzinfo=LOCAL_TIMEZONE)


# --- 1. split orders -------------------------------------------------------------------------------------


@dataclass
class SplitOrderRow:
    group: int  # rows of one flagged group share this number (1, 2, …)
    unit_id: int
    unit_name: str
    supplier_name: str
    threshold_fen: int
    orders_in_group: int
    group_fen: int  # what the group's orders bought from the supplier, together
    procurement_order_id: int
    order_number: str
    submitted_at: datetime
    order_total_fen: int  # the whole order, as the approval threshold compared it
    supplier_fen: int  # this order's part from the supplier


def split_orders(year: int, scope: sa.ColumnElement[bool], cfg: Settings | None = None) -> list[SplitOrderRow]:
    """Groups of a unit's orders to one supplier within the window, none above the threshold, together above.

    Every order that started a qualifying window is a candidate group; a group is left out when an earlier
    order's window holds all of it (that earlier group is larger and is flagged instead), so overlapping
    windows show once. One row per order of each flagged group."""
    cfg = cfg or settings()
    window = cfg.split_window_days * DAY
    start, end = year_bounds(year)
    parts = (
        sa.select(ProcurementPart.id.label("part_id"), ProcurementOrder.id.label("po_id"),
                  ProcurementOrder.unit_id, ProcurementPart.supplier_id, ProcurementOrder.submitted_at,
                  epoch(ProcurementOrder.submitted_at).label("t"), SubOrder.subtotal_fen, Order.total_fen,
                  Order.number, BuyerUnit.approval_threshold_fen.label("threshold"))
        .join(ProcurementOrder, ProcurementOrder.id == ProcurementPart.procurement_order_id)
        .join(SubOrder, SubOrder.id == ProcurementPart.sub_order_id)
        .join(Order, Order.id == ProcurementOrder.order_id)
        .join(BuyerUnit, BuyerUnit.id == ProcurementOrder.unit_id)
        .where(Order.total_fen <= BuyerUnit.approval_threshold_fen,
               ProcurementPart.status != PartStatus.CANCELLED,
               ProcurementOrder.submitted_at >= start - timedelta(days=cfg.split_window_days),
               ProcurementOrder.submitted_at < end + timedelta(days=cfg.split_window_days),
               scope)
    ).cte("split_parts")
    a, b, c = parts.alias("a"), parts.alias("b"), parts.alias("c")

    def in_window(head, other):
        """``other`` falls in the window that ``head`` opens (ordered by time, then id)."""
        return sa.and_(other.c.unit_id == head.c.unit_id, other.c.supplier_id == head.c.supplier_id,
                       other.c.t >= head.c.t, other.c.t < head.c.t + window,
                       sa.or_(other.c.t > head.c.t, other.c.part_id >= head.c.part_id))

    groups = (
        sa.select(a.c.part_id.label("head_id"), a.c.unit_id, a.c.supplier_id, a.c.t, a.c.threshold,
                  sa.func.count(b.c.part_id).label("n"),
                  sa.func.sum(sa.cast(b.c.subtotal_fen, sa.BigInteger)).label("group_fen"),
                  sa.func.max(b.c.t).label("last_t"))
        .join(b, in_window(a, b))
        .where(a.c.submitted_at >= start, a.c.submitted_at < end)
        .group_by(a.c.part_id, a.c.unit_id, a.c.supplier_id, a.c.t, a.c.threshold)
        .having(sa.func.count(b.c.part_id) >= 2,
                sa.func.sum(sa.cast(b.c.subtotal_fen, sa.BigInteger)) > a.c.threshold)
    ).subquery("split_groups")
    earlier_covers = (
        sa.select(c.c.part_id)
        .where(c.c.unit_id == groups.c.unit_id, c.c.supplier_id == groups.c.supplier_id,
               sa.or_(c.c.t < groups.c.t, sa.and_(c.c.t == groups.c.t, c.c.part_id < groups.c.head_id)),
               c.c.t > groups.c.last_t - window)
    )
    member = parts.alias("m")
    rows = db.session.execute(
        sa.select(groups.c.head_id, groups.c.unit_id, BuyerUnit.name, Supplier.name, groups.c.threshold,
                  groups.c.n, groups.c.group_fen, member.c.po_id, member.c.number, member.c.submitted_at,
                  member.c.total_fen, member.c.subtotal_fen)
        .join(member, sa.and_(member.c.unit_id == groups.c.unit_id, member.c.supplier_id == groups.c.supplier_id,
                              member.c.t >= groups.c.t, member.c.t <= groups.c.last_t,
                              sa.or_(member.c.t > groups.c.t, member.c.part_id >= groups.c.head_id)))
        .join(BuyerUnit, BuyerUnit.id == groups.c.unit_id)
        .join(Supplier, Supplier.id == groups.c.supplier_id)
        .where(~sa.exists(earlier_covers))
        .order_by(BuyerUnit.name, groups.c.t, groups.c.head_id, member.c.t, member.c.part_id)
    ).all()
    out, numbers = [], {}
    for head, unit_id, unit_name, supplier_name, threshold, n, group_fen, po_id, number, at, total, sub in rows:
        group = numbers.setdefault(head, len(numbers) + 1)
        out.append(SplitOrderRow(group, unit_id, unit_name, supplier_name, threshold, n, int(group_fen), po_id,
                                 number, at, total, sub))
    return out


# --- 2. unit changed after shipment ---------------------------------------------------------------------


@dataclass
class UnitChangeRow:
    procurement_order_id: int
    order_number: str
    from_unit_id: int | None
    from_unit_name: str | None
    to_unit_id: int | None
    to_unit_name: str | None
    first_shipped_at: datetime
    changed_at: datetime
    changed_by: str | None
    reason: str | None


def unit_changes_after_shipment(year: int, scope: sa.ColumnElement[bool]) -> list[UnitChangeRow]:
    """Each audited change of an order's unit made after the first of its parts shipped (changes in ``year``;
    scoped by the order's present unit, whose administrators can open the order)."""
    from core.accounts.models import User

    start, end = year_bounds(year)
    shipped = (
        sa.select(ProcurementPart.procurement_order_id.label("po_id"),
                  sa.func.min(SubOrder.shipped_at).label("shipped_at"))
        .join(SubOrder, SubOrder.id == ProcurementPart.sub_order_id)
        .where(SubOrder.shipped_at.is_not(None))
        .group_by(ProcurementPart.procurement_order_id)
    ).subquery("first_shipment")
    old, new = aliased(BuyerUnit), aliased(BuyerUnit)
    old_id = AuditEntry.before["unit_id"].as_integer()
    new_id = AuditEntry.after["unit_id"].as_integer()
    rows = db.session.execute(
        sa.select(ProcurementOrder.id, Order.number, old_id, old.name, new_id, new.name, shipped.c.shipped_at,
                  AuditEntry.created_at, User.display_name, AuditEntry.reason)
        .select_from(AuditEntry)
        .join(ProcurementOrder, sa.cast(ProcurementOrder.id, sa.String) == AuditEntry.target_id)
        .join(shipped, shipped.c.po_id == ProcurementOrder.id)
        .join(Order, Order.id == ProcurementOrder.order_id)
        .join(BuyerUnit, BuyerUnit.id == ProcurementOrder.unit_id)
        .outerjoin(old, old.id == old_id)
        .outerjoin(new, new.id == new_id)
        .outerjoin(User, User.id == AuditEntry.actor_id)
        .where(AuditEntry.action == "procurement_order.change_unit",
               AuditEntry.target_type == "procurement_order",
               AuditEntry.created_at >= start, AuditEntry.created_at < end,
               AuditEntry.created_at > shipped.c.shipped_at, scope)
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
    ).all()
    return [UnitChangeRow(*row) for row in rows]


# --- 3. price raised just before a large order ---------------------------------------------------------------


@dataclass
class PriceRaiseRow:
    procurement_order_id: int
    order_number: str
    unit_id: int
    unit_name: str
    supplier_name: str
    product_id: int
    product_name: str
    old_price_fen: int
    new_price_fen: int
    raised_at: datetime
    source: str  # "audit": a product edit in the audit log; "order_line": the product's previous order line
    ordered_at: datetime
    quantity: int
    line_fen: int

    @property
    def raise_percent(self) -> Decimal:
        return (Decimal(self.new_price_fen - self.old_price_fen) * 100 / Decimal(self.old_price_fen)
                ).quantize(Decimal("0.01"))


def price_raises(year: int, scope: sa.ColumnElement[bool], cfg: Settings | None = None) -> list[PriceRaiseRow]:
    """Procurement order lines of at least the large amount, at a unit price raised within the set number
    of days before the line: by a product edit recorded in the audit log (the line is at the edit's new
    price), or, where the log has none, by the product's previous order line (of any buyer) at a lower
    snapshotted price. One row per line (the audit log's evidence preferred)."""
    cfg = cfg or settings()
    span = cfg.price_raise_days * DAY
    start, end = year_bounds(year)
    old_price = AuditEntry.before["price_fen"].as_integer()
    new_price = AuditEntry.after["price_fen"].as_integer()
    large_lines = (
        sa.select(OrderLine.id.label("line_id"), OrderLine.product_id, OrderLine.unit_price_fen,
                  OrderLine.created_at)
        .join(ProcurementPart, ProcurementPart.sub_order_id == OrderLine.sub_order_id)
        .join(ProcurementOrder, ProcurementOrder.id == ProcurementPart.procurement_order_id)
        .join(BuyerUnit, BuyerUnit.id == ProcurementOrder.unit_id)
        .where(OrderLine.amount_fen >= cfg.large_line_fen, OrderLine.created_at >= start,
               OrderLine.created_at < end, scope)
    ).cte("large_lines")
    from_audit = (
        sa.select(large_lines.c.line_id, sa.literal("audit").label("source"), old_price.label("old_price"),
                  new_price.label("new_price"), AuditEntry.created_at.label("raised_at"))
        .join(AuditEntry, sa.and_(AuditEntry.target_type == "product", AuditEntry.action == "product.updated",
                                  AuditEntry.target_id == sa.cast(large_lines.c.product_id, sa.String)))
        .where(new_price == large_lines.c.unit_price_fen, old_price < new_price,
               AuditEntry.created_at <= large_lines.c.created_at,
               epoch(large_lines.c.created_at) - epoch(AuditEntry.created_at) <= span)
    )
    # Each line of the products concerned with the price and time of the product's line before it.
    previous = (
        sa.select(OrderLine.id.label("line_id"),
                  sa.func.lag(OrderLine.unit_price_fen).over(
                      partition_by=OrderLine.product_id, order_by=(OrderLine.created_at, OrderLine.id)
                  ).label("prev_price"),
                  sa.func.lag(OrderLine.created_at).over(
                      partition_by=OrderLine.product_id, order_by=(OrderLine.created_at, OrderLine.id)
                  ).label("prev_at"))
        .where(OrderLine.product_id.in_(sa.select(large_lines.c.product_id)),
               OrderLine.created_at >= start - timedelta(days=cfg.price_raise_days), OrderLine.created_at < end)
    ).subquery("previous_lines")
    from_lines = (
        sa.select(large_lines.c.line_id, sa.literal("order_line").label("source"),
                  previous.c.prev_price.label("old_price"), large_lines.c.unit_price_fen.label("new_price"),
                  previous.c.prev_at.label("raised_at"))
        .join(previous, previous.c.line_id == large_lines.c.line_id)
        .where(previous.c.prev_price < large_lines.c.unit_price_fen,
               epoch(large_lines.c.created_at) - epoch(previous.c.prev_at) <= span)
    )
    flags = sa.union_all(from_audit, from_lines).subquery("price_flags")
    rows = db.session.execute(
        sa.select(flags.c.line_id, ProcurementOrder.id, Order.number, BuyerUnit.id, BuyerUnit.name, Supplier.name,
                  Product.id, OrderLine.product_name, flags.c.old_price, flags.c.new_price, flags.c.raised_at,
                  flags.c.source, OrderLine.created_at, OrderLine.quantity, OrderLine.amount_fen)
        .join(OrderLine, OrderLine.id == flags.c.line_id)
        .join(Product, Product.id == OrderLine.product_id)
        .join(Supplier, Supplier.id == Product.supplier_id)
        .join(ProcurementPart, ProcurementPart.sub_order_id == OrderLine.sub_order_id)
        .join(ProcurementOrder, ProcurementOrder.id == ProcurementPart.procurement_order_id)
        .join(Order, Order.id == ProcurementOrder.order_id)
        .join(BuyerUnit, BuyerUnit.id == ProcurementOrder.unit_id)
        .order_by(OrderLine.created_at.desc(), flags.c.line_id, flags.c.source, flags.c.raised_at.desc())
    ).all()
    out, seen = [], set()
    for line_id, *fields in rows:
        if line_id in seen:
            continue
        seen.add(line_id)
        fields[9] = _as_utc(fields[9])
        out.append(PriceRaiseRow(*fields))
    return out


def _as_utc(value) -> datetime:
    """A timestamp of the union as an aware UTC datetime (SQLite may hand a window function's back as text)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


# --- 4. year-end jump ------------------------------------------------------------------------------------------


@dataclass
class YearEndRow:
    unit_id: int
    unit_name: str
    region_name: str
    year_fen: int  # counted for the year (plan ledger, net of returns)
    year_end_fen: int  # of which in the last days of the year

    @property
    def share(self) -> Decimal:
        return (Decimal(self.year_end_fen) * 100 / Decimal(self.year_fen)).quantize(Decimal("0.01"))


def year_end_jumps(year: int, scope: sa.ColumnElement[bool], cfg: Settings | None = None) -> list[YearEndRow]:
    """Units whose counted amount in the year's last days is more than the set share of the year's."""
    from core.registry.models import Region

    cfg = cfg or settings()
    last_days_from = datetime(year, 12, 31, tzinfo=LOCAL_TIMEZONE) - timedelta(days=cfg.year_end_days - 1)
    channels = [c for c in PurchaseChannel if c.value in completion.counted_channels()]
    amount = sa.cast(PlanLedgerEntry.amount_fen, sa.BigInteger)
    year_fen = sa.func.sum(amount)
    end_fen = sa.func.sum(sa.case((PlanLedgerEntry.recorded_at >= last_days_from, amount), else_=0))
    totals = (
        sa.select(PlanLedgerEntry.unit_id, year_fen.label("year_fen"), end_fen.label("end_fen"))
        .where(PlanLedgerEntry.year == year, PlanLedgerEntry.channel.in_(channels))
        .group_by(PlanLedgerEntry.unit_id)
        .having(year_fen > 0, end_fen * 10000 > year_fen * cfg.year_end_bp)
    ).subquery("year_totals")
    rows = db.session.execute(
        sa.select(BuyerUnit.id, BuyerUnit.name, Region.name, totals.c.year_fen, totals.c.end_fen)
        .join(totals, totals.c.unit_id == BuyerUnit.id)
        .join(Region, Region.id == BuyerUnit.region_id)
        .where(scope)
        .order_by((totals.c.end_fen * 10000 / totals.c.year_fen).desc(), BuyerUnit.name)
    ).all()
    return [YearEndRow(uid, name, region, int(y), int(e)) for uid, name, region, y, e in rows]


# --- everything at once -----------------------------------------------------------------------------------------


@dataclass
class Report:
    year: int
    settings: Settings
    split_orders: list[SplitOrderRow]
    unit_changes: list[UnitChangeRow]
    price_raises: list[PriceRaiseRow]
    year_end_jumps: list[YearEndRow]


def report(year: int, scope: sa.ColumnElement[bool]) -> Report:
    cfg = settings()
    return Report(year, cfg, split_orders(year, scope, cfg), unit_changes_after_shipment(year, scope),
                  price_raises(year, scope, cfg), year_end_jumps(year, scope, cfg))
