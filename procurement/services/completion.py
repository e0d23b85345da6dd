"""Plan completion (计划完成情况): what each unit, region, unit type and county of origin adds up to.

What counts toward a unit's plan (the README's "What counts toward a plan"):

- canteen (食堂) and union (工会) procurement: the plan ledger (``PlanLedgerEntry``), one row per
  accepted line amount and one negative row per return or refund after acceptance, in the year
  and month of the acceptance (or of the return), Asia/Shanghai time;
- employee-personal purchases (职工个人): completed consumer orders of people who had named the unit
  as their employer when the sub-order completed (from the day they named it), net of refunded
  quantities, in the year and month the sub-order completed;
- which of the three channels count toward the plan is ``PLAN_COUNTED_CHANNELS``; every channel
  is still shown in its own column;
- help-sales (帮助销售): completed orders that carried the unit's promotion code when the sub-order
  completed, net of refunds, leaving out the unit's own employees' orders (already in their
  channel). A separate figure, never added to purchases.

Every figure comes from a handful of aggregate queries over whole scopes (``GROUP BY`` unit,
month or county), never a query per unit, and never over the orders themselves: the plan ledger is
read through its maintained totals (``procurement.models_completion``), employees' purchases and
help-sales through the side ledger's (``procurement.models_side``, entered as sub-orders complete
and are refunded), a few rows per unit instead of one per line.
Money is integer fen; percentages are ``Decimal`` with two decimals, rounded half up.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import aliased

from core.extensions import db
from core.pagination import Page
from core.registry.models import Region
from core.registry.services import subtree_ids
from procurement.models import BuyerUnit, UnitPlan, UnitStatus, UnitType
from procurement.models_completion import MONTH_COLUMNS, TOTALS, PlanCountyTotal, PlanOriginTotal, PlanYearTotal
from procurement.models_ledger import PlanLedgerEntry, PurchaseChannel
from procurement.models_side import SIDE_TOTALS, SideKind, UnitSideOriginTotal, UnitSideTotal
from procurement.services.common import LOCAL_TIMEZONE, descendant_ids
from shop.models import Order, OrderKind, OrderLine, Product, SubOrder

CHANNELS = ("canteen", "union", "employee")
DEFAULT_COUNTED_CHANNELS = "canteen,union,employee"
DEFAULT_LAG_POINTS = "10"
# Units that never became active (pending, rejected) have no figures; suspended units keep theirs.
FIGURE_STATUSES = (UnitStatus.ACTIVE, UnitStatus.SUSPENDED)
HUNDRED = Decimal(100)
CENT = Decimal("0.01")


# --- settings -------------------------------------------------------------------------------------


def parse_channels(raw: str | None) -> frozenset[str]:
    """"canteen,union,employee" → the set; refuses unknown names (a typo must not silently count less)."""
    names = {part.strip().lower() for part in (raw or "").replace(";", ",").split(",") if part.strip()}
    unknown = names - set(CHANNELS)
    if unknown:
        raise ValueError(f"PLAN_COUNTED_CHANNELS names unknown channels {sorted(unknown)}; use {', '.join(CHANNELS)}")
    return frozenset(names)


def parse_points(raw: str | int | Decimal | None) -> Decimal:
    try:
        value = Decimal(str(raw).strip())
    except ArithmeticError as exc:
        raise ValueError(f"PLAN_LAG_POINTS must be a number of percentage points, not {raw!r}") from exc
    if not value.is_finite() or not 0 <= value <= 100:
        raise ValueError(f"PLAN_LAG_POINTS must be between 0 and 100, not {raw!r}")
    return value


def counted_channels() -> frozenset[str]:
    return parse_channels(current_app.config.get("PLAN_COUNTED_CHANNELS", DEFAULT_COUNTED_CHANNELS))


def lag_points_setting() -> Decimal:
    return parse_points(current_app.config.get("PLAN_LAG_POINTS", DEFAULT_LAG_POINTS))


# --- time ---------------------------------------------------------------------------------------


def today() -> date:
    """Today in Asia/Shanghai (tests replace this function to fix the date)."""
    return datetime.now(LOCAL_TIMEZONE).date()


def percent(part: int | Decimal, whole: int | Decimal) -> Decimal:
    return (Decimal(part) * HUNDRED / Decimal(whole)).quantize(CENT, ROUND_HALF_UP)


def time_progress(year: int, on: date | None = None) -> Decimal:
    """Day of year ÷ days in the year, in percent: 100 for a past year, 0 for a future one."""
    on = on or today()
    if year < on.year:
        return HUNDRED.quantize(CENT)
    if year > on.year:
        return Decimal(0).quantize(CENT)
    days = (date(year + 1, 1, 1) - date(year, 1, 1)).days
    return percent(on.timetuple().tm_yday, days)


def local_boundaries(year: int) -> list[datetime]:
    """The 13 instants (UTC) where the months of ``year`` begin and the year ends, Asia/Shanghai time."""
    starts = [datetime(year, m, 1, tzinfo=LOCAL_TIMEZONE) for m in range(1, 13)]
    starts.append(datetime(year + 1, 1, 1, tzinfo=LOCAL_TIMEZONE))
    return [s.astimezone(UTC) for s in starts]


# --- figures ------------------------------------------------------------------------------------


@dataclass
class Figures:
    """One row of any completion table: a unit, a roll-up of units, a month, a type, a region."""

    year: int
    plan_fen: int | None  # None: no plan for the year
    canteen_fen: int = 0
    union_fen: int = 0
    employee_fen: int = 0
    help_sales_fen: int = 0
    time_progress: Decimal = Decimal(0)
    channels: frozenset[str] = field(default_factory=lambda: frozenset(CHANNELS))

    @property
    def counted_fen(self) -> int:
        # Spelled out rather than getattr per channel: the dashboard asks it of ten thousand units.
        channels = self.channels
        return ((self.canteen_fen if "canteen" in channels else 0) + (self.union_fen if "union" in channels else 0)
                + (self.employee_fen if "employee" in channels else 0))

    @property
    def purchases_fen(self) -> int:
        """All three channels, counted or not (直接采购 and employees' purchases)."""
        return self.canteen_fen + self.union_fen + self.employee_fen

    @property
    def has_plan(self) -> bool:
        return self.plan_fen is not None

    @property
    def completion(self) -> Decimal | None:
        """Counted ÷ plan in percent; None without a plan or with a plan of 0 (无食堂)."""
        if not self.plan_fen:
            return None
        return percent(self.counted_fen, self.plan_fen)

    @property
    def expected_fen(self) -> int | None:
        """What the plan asks for by now: plan × time progress, to the fen."""
        if self.plan_fen is None:
            return None
        return int((Decimal(self.plan_fen) * self.time_progress / HUNDRED).quantize(Decimal(1), ROUND_HALF_UP))

    @property
    def gap_fen(self) -> int | None:
        """How far the counted amount trails time progress, in fen (negative: ahead of time)."""
        expected = self.expected_fen
        return None if expected is None else expected - self.counted_fen

    @property
    def remaining_fen(self) -> int | None:
        """What is still to buy to reach the whole plan (negative: plan exceeded)."""
        return None if self.plan_fen is None else self.plan_fen - self.counted_fen

    @property
    def lag_points(self) -> Decimal | None:
        """Time progress minus completion, in percentage points (positive: behind)."""
        done = self.completion
        return None if done is None else self.time_progress - done

    def add(self, other: Figures) -> None:
        if other.plan_fen is not None:
            self.plan_fen = (self.plan_fen or 0) + other.plan_fen
        self.canteen_fen += other.canteen_fen
        self.union_fen += other.union_fen
        self.employee_fen += other.employee_fen
        self.help_sales_fen += other.help_sales_fen


@dataclass
class UnitFigures(Figures):
    unit_id: int = 0
    name: str = ""
    type: UnitType = UnitType.OTHER
    parent_id: int | None = None
    region_id: int = 0
    region_name: str = ""
    region_path: str = ""


@dataclass
class MonthFigures(Figures):
    month: int = 0
    cumulative_counted_fen: int = 0
    cumulative_completion: Decimal | None = None


@dataclass
class GroupFigures(Figures):
    key: str | int = ""
    label: str = ""
    units: int = 0
    units_without_plan: int = 0

    def merge(self, other: GroupFigures) -> None:
        """Add another group of units to this one."""
        self.add(other)
        self.units += other.units
        self.units_without_plan += other.units_without_plan


# --- the aggregate queries ------------------------------------------------------------------------


def plain_rows(stmt):
    """Run a statement on the session's connection: plain rows, without the ORM's per-row work
    (ten thousand units are read at once)."""
    return db.session.connection().execute(stmt)


def _net_line_amount():
    """A shop order line's amount net of its refunded quantity."""
    return (OrderLine.quantity - OrderLine.refunded_quantity) * OrderLine.unit_price_fen


def _completed_in(year: int):
    bounds = local_boundaries(year)
    return sa.and_(SubOrder.completed_at >= bounds[0], SubOrder.completed_at < bounds[12])


def _consumer_lines():
    return (sa.select().select_from(OrderLine)
            .join(SubOrder, SubOrder.id == OrderLine.sub_order_id)
            .join(Order, Order.id == SubOrder.order_id)
            .where(Order.kind == OrderKind.CONSUMER))


def _ledger_sums(total, year: int, *group_by) -> sa.Select:
    """Canteen and union sums from one of the ledger's maintained totals (see models_completion)."""
    amount = total.amount_fen
    return (sa.select(*group_by,
                      sa.func.coalesce(sa.func.sum(sa.case((total.channel == PurchaseChannel.CANTEEN, amount),
                                                           else_=0)), 0).label("canteen"),
                      sa.func.coalesce(sa.func.sum(sa.case((total.channel == PurchaseChannel.UNION, amount),
                                                           else_=0)), 0).label("union_"))
            .where(total.year == year).group_by(*group_by))


def _side_sums(year: int, *group_by) -> sa.Select:
    """Employees' own purchases and help-sales from the side ledger's maintained totals (models_side)."""
    amount = UnitSideTotal.amount_fen
    return (sa.select(*group_by,
                      sa.func.coalesce(sa.func.sum(sa.case((UnitSideTotal.kind == SideKind.EMPLOYEE, amount),
                                                           else_=0)), 0).label("employee"),
                      sa.func.coalesce(sa.func.sum(sa.case((UnitSideTotal.kind == SideKind.HELP_SALES, amount),
                                                           else_=0)), 0).label("help_sales"))
            .where(UnitSideTotal.year == year).group_by(*group_by))


def unit_figures(year: int, scope: sa.ColumnElement[bool] | None = None, *, on: date | None = None,
                 channels: frozenset[str] | None = None) -> list[UnitFigures]:
    """Every unit in ``scope`` (a WHERE clause on BuyerUnit) with its figures for ``year``, in one query
    over the units and the maintained totals of both ledgers.

    Units without a plan for the year are included with ``plan_fen`` None.
    """
    stmt = unit_figures_stmt(year, scope)
    return unit_rows(stmt, year, time_progress(year, on), counted_channels() if channels is None else channels)


def unit_figures_stmt(year: int, scope: sa.ColumnElement[bool] | None, *, only: sa.Select | None = None
                      ) -> sa.Select:
    """One row per unit in ``scope``: the columns ``unit_rows`` reads, in its order, labelled so that the
    roll-ups can take the statement as a subquery. Amounts are integers, 0 where nothing was counted.
    ``only``: a statement selecting the ids of the units wanted (a page), so that the totals are added
    up for those units alone."""
    ledger = _ledger_sums(PlanYearTotal, year, PlanYearTotal.unit_id)
    side = _side_sums(year, UnitSideTotal.unit_id)
    if only is not None:
        ledger, side = ledger.where(PlanYearTotal.unit_id.in_(only)), side.where(UnitSideTotal.unit_id.in_(only))
        scope = BuyerUnit.id.in_(only) if scope is None else sa.and_(scope, BuyerUnit.id.in_(only))
    ledger, side = ledger.subquery("ledger"), side.subquery("side")
    # Sums as integers and the type as its plain value: ten thousand rows, no Decimal or enum per cell.
    amounts = [sa.func.coalesce(sa.cast(c, sa.BigInteger), 0).label(name) for c, name in (
        (ledger.c.canteen, "canteen"), (ledger.c.union_, "union_"), (side.c.employee, "employee"),
        (side.c.help_sales, "help_sales"))]
    stmt = (
        sa.select(BuyerUnit.id.label("unit_id"), BuyerUnit.name.label("name"),
                  sa.type_coerce(BuyerUnit.type, sa.String).label("type"), BuyerUnit.parent_id.label("parent_id"),
                  BuyerUnit.region_id.label("region_id"), Region.name.label("region_name"),
                  Region.path.label("region_path"), UnitPlan.plan_fen.label("plan_fen"), *amounts)
        .join(Region, Region.id == BuyerUnit.region_id)
        .outerjoin(UnitPlan, sa.and_(UnitPlan.unit_id == BuyerUnit.id, UnitPlan.year == year))
        .outerjoin(ledger, ledger.c.unit_id == BuyerUnit.id)
        .outerjoin(side, side.c.unit_id == BuyerUnit.id)
        .where(BuyerUnit.status.in_(FIGURE_STATUSES))
        .order_by(BuyerUnit.name, BuyerUnit.id)
    )
    return stmt if scope is None else stmt.where(scope)


def unit_figures_page(year: int, scope: sa.ColumnElement[bool] | None, page: int, per_page: int, *,
                      on: date | None = None, total: int | None = None) -> Page:
    """Page ``page`` of ``unit_figures`` (by name, then id), counted and cut in the database; past the
    last page, no items. ``total``: the units in ``scope`` when the caller has counted them already."""
    units = _scope_units(scope)
    if total is None:
        total = int(plain_rows(sa.select(sa.func.count()).select_from(units.subquery())).scalar_one())
    page_ids = units.order_by(BuyerUnit.name, BuyerUnit.id).limit(per_page).offset((page - 1) * per_page)
    rows = unit_rows(unit_figures_stmt(year, scope, only=page_ids), year, time_progress(year, on),
                     counted_channels())
    return Page(items=rows, page=page, per_page=per_page, total=total)


_UNIT_TYPES = {t.value: t for t in UnitType}


def unit_rows(stmt, year: int, progress: Decimal, channels: frozenset[str]) -> list[UnitFigures]:
    """``UnitFigures`` from ``unit_figures_stmt``'s columns: a statement to run, or rows already read."""
    rows = plain_rows(stmt) if isinstance(stmt, sa.Select) else stmt
    return [
        UnitFigures(year=year, plan_fen=plan, canteen_fen=canteen or 0, union_fen=union or 0, employee_fen=emp or 0,
                    help_sales_fen=helped or 0, time_progress=progress, channels=channels, unit_id=uid, name=name,
                    type=_UNIT_TYPES[utype],
                    parent_id=parent_id, region_id=region_id, region_name=region_name, region_path=path)
        for (uid, name, utype, parent_id, region_id, region_name, path, plan, canteen, union, emp,
             helped) in rows
    ]


def counted_by_unit(year: int, *, channels: frozenset[str] | None = None) -> sa.Subquery:
    """(unit_id, counted_fen) for ``year`` as a subquery other statements join (the alerts' unit
    recommendations): the same sum as ``UnitFigures.counted_fen``; units with nothing counted have no row."""
    channels = counted_channels() if channels is None else channels
    ledger_channels = [PurchaseChannel(c) for c in ("canteen", "union") if c in channels]
    parts = [sa.select(PlanYearTotal.unit_id.label("unit_id"), PlanYearTotal.amount_fen.label("amount"))
             .where(PlanYearTotal.year == year, PlanYearTotal.channel.in_(ledger_channels))]
    if "employee" in channels:
        parts.append(sa.select(UnitSideTotal.unit_id, UnitSideTotal.amount_fen)
                     .where(UnitSideTotal.year == year, UnitSideTotal.kind == SideKind.EMPLOYEE))
    amounts = sa.union_all(*parts).subquery("counted_parts")
    return (sa.select(amounts.c.unit_id, sa.func.sum(amounts.c.amount).label("counted_fen"))
            .group_by(amounts.c.unit_id).subquery("counted"))


def total(rows: list[Figures], year: int, *, on: date | None = None,
          channels: frozenset[str] | None = None) -> GroupFigures:
    """The sum of ``rows``: plans of the units that have one, every channel, help-sales apart."""
    channels = counted_channels() if channels is None else channels
    out = GroupFigures(year=year, plan_fen=None, time_progress=time_progress(year, on), channels=channels)
    for row in rows:
        out.add(row)
        out.units += 1
        out.units_without_plan += 0 if row.has_plan else 1
    return out


def _scope_units(scope: sa.ColumnElement[bool] | None) -> sa.Select:
    stmt = sa.select(BuyerUnit.id).where(BuyerUnit.status.in_(FIGURE_STATUSES))
    return stmt.where(scope) if scope is not None else stmt


def monthly(year: int, scope: sa.ColumnElement[bool] | None = None, *, on: date | None = None,
            channels: frozenset[str] | None = None, plan_fen: int | None = None) -> list[MonthFigures]:
    """The twelve months of ``year`` for the units in ``scope``: one query over the month columns of
    both ledgers' maintained totals.

    ``plan_fen`` (the scope's plan) gives each month its cumulative completion.
    """
    channels = counted_channels() if channels is None else channels
    progress = time_progress(year, on)
    if scope is None:  # every unit with figures: leave out the few without (cheaper than naming all the rest)
        def of_units(column):
            return column.not_in(sa.select(BuyerUnit.id).where(BuyerUnit.status.not_in(FIGURE_STATUSES)))
    else:
        def of_units(column):
            return column.in_(_scope_units(scope))
    months = {m: MonthFigures(year=year, plan_fen=None, month=m, time_progress=progress, channels=channels)
              for m in range(1, 13)}
    # One row per channel (canteen, union; employee, help_sales) with the twelve months summed over the scope.
    parts = sa.union_all(*[
        sa.select(sa.type_coerce(name, sa.String).label("name"), *[getattr(table, m) for m in MONTH_COLUMNS])
        .where(table.year == year, of_units(table.unit_id))
        for table, name in ((PlanYearTotal, PlanYearTotal.channel), (UnitSideTotal, UnitSideTotal.kind))
    ]).subquery("months")
    for name, *amounts in plain_rows(
            sa.select(parts.c.name, *[sa.func.coalesce(sa.func.sum(parts.c[m]), 0) for m in MONTH_COLUMNS])
            .group_by(parts.c.name)):
        attribute = f"{name}_fen"
        for m, amount in enumerate(amounts, start=1):
            setattr(months[m], attribute, getattr(months[m], attribute) + int(amount))
    running = 0
    for m in range(1, 13):
        row = months[m]
        running += row.counted_fen
        row.cumulative_counted_fen = running
        row.cumulative_completion = percent(running, plan_fen) if plan_fen else None
    return [months[m] for m in range(1, 13)]


def by_origin_county(year: int, scope: sa.ColumnElement[bool] | None = None, *,
                     channels: frozenset[str] | None = None, on: date | None = None) -> list[GroupFigures]:
    """Where the money of the units in ``scope`` went: per county of origin of the products (two queries
    over the maintained totals by county of origin; every unit's: the all-units total per county)."""
    channels = counted_channels() if channels is None else channels
    progress = time_progress(year, on)
    units = _scope_units(scope)
    counties: dict[int, GroupFigures] = {}

    def row(county_id: int) -> GroupFigures:
        if county_id not in counties:
            counties[county_id] = GroupFigures(year=year, plan_fen=None, key=county_id, time_progress=progress,
                                               channels=channels)
        return counties[county_id]

    employee = (sa.select(UnitSideOriginTotal.origin_county_id, sa.func.sum(UnitSideOriginTotal.amount_fen))
                .where(UnitSideOriginTotal.year == year, UnitSideOriginTotal.kind == SideKind.EMPLOYEE)
                .group_by(UnitSideOriginTotal.origin_county_id))
    if scope is None:  # every unit: the all-units total per county, a few dozen rows
        origin = _ledger_sums(PlanCountyTotal, year, PlanCountyTotal.origin_county_id)
    else:
        origin = (_ledger_sums(PlanOriginTotal, year, PlanOriginTotal.origin_county_id)
                  .where(PlanOriginTotal.unit_id.in_(units)))
        employee = employee.where(UnitSideOriginTotal.unit_id.in_(units))
    for county_id, canteen, union in plain_rows(origin):
        row(county_id).canteen_fen += int(canteen)
        row(county_id).union_fen += int(union)
    for county_id, amount in plain_rows(employee):
        row(county_id).employee_fen += int(amount or 0)
    names = _region_labels(list(counties))
    for county_id, figures in counties.items():
        figures.label = names.get(county_id, str(county_id))
    return sorted(counties.values(), key=lambda g: (-g.counted_fen, -g.purchases_fen, g.label))


def _region_labels(ids: list[int]) -> dict[int, str]:
    """"city › county" for each region id (one query)."""
    if not ids:
        return {}
    parent = aliased(Region)
    rows = plain_rows(
        sa.select(Region.id, Region.name, parent.name).outerjoin(parent, parent.id == Region.parent_id)
        .where(Region.id.in_(ids))
    ).all()
    return {rid: f"{pname} › {name}" if pname else name for rid, name, pname in rows}


# --- scopes and roll-ups ----------------------------------------------------------------------------


def unit_tree_scope(unit_id: int) -> sa.ColumnElement[bool]:
    """A unit and every unit below it."""
    return sa.or_(BuyerUnit.id == unit_id, BuyerUnit.id.in_(descendant_ids(unit_id)))


def region_subtree_scope(region: Region) -> sa.ColumnElement[bool]:
    return BuyerUnit.region_id.in_(subtree_ids(region))


# --- one unit ------------------------------------------------------------------------------------


@dataclass
class UnitPage:
    year: int
    unit: UnitFigures
    months: list[MonthFigures]
    sub_units: list[UnitFigures]
    with_sub_units: GroupFigures | None


def unit_page(unit: BuyerUnit, year: int, *, on: date | None = None) -> UnitPage:
    """A unit's own figures, its months, and its sub-units with the roll-up of the whole tree."""
    channels = counted_channels()
    rows = unit_figures(year, unit_tree_scope(unit.id), on=on, channels=channels)
    own = next((r for r in rows if r.unit_id == unit.id), None)
    if own is None:  # a pending or rejected unit: nothing counted, no plan shown as such
        own = UnitFigures(year=year, plan_fen=None, time_progress=time_progress(year, on), channels=channels,
                          unit_id=unit.id, name=unit.name, type=unit.type, region_id=unit.region_id)
    subs = [r for r in rows if r.unit_id != unit.id]
    return UnitPage(year=year, unit=own, months=monthly(year, BuyerUnit.id == unit.id, on=on, channels=channels,
                                                        plan_fen=own.plan_fen),
                    sub_units=subs, with_sub_units=total(rows, year, on=on, channels=channels) if subs else None)


# --- public figures -------------------------------------------------------------------------------


@dataclass
class SoldFigure:
    county_id: int
    county: str
    category_id: int
    category: str
    amount_fen: int


def sold_by_county_category(year: int) -> list[SoldFigure]:
    """This year's sales per county of origin and category: completed consumer orders net of refunds,
    plus procurement counted in the plan ledger (two GROUP BY queries)."""
    from shop.models import Category

    sums: dict[tuple[int, int], int] = defaultdict(int)
    for county_id, category_id, amount in plain_rows(
            _consumer_lines().add_columns(Product.origin_county_id, Product.category_id,
                                          sa.func.sum(_net_line_amount()))
            .join(Product, Product.id == OrderLine.product_id).where(_completed_in(year))
            .group_by(Product.origin_county_id, Product.category_id)):
        sums[(county_id, category_id)] += int(amount or 0)
    for county_id, category_id, amount in plain_rows(
            sa.select(PlanOriginTotal.origin_county_id, PlanOriginTotal.category_id,
                      sa.func.sum(PlanOriginTotal.amount_fen))
            .where(PlanOriginTotal.year == year)
            .group_by(PlanOriginTotal.origin_county_id, PlanOriginTotal.category_id)):
        sums[(county_id, category_id)] += int(amount or 0)
    counties = _region_labels(list({c for c, _k in sums}))
    categories = dict(plain_rows(
        sa.select(Category.id, Category.name).where(Category.id.in_({k for _c, k in sums}))).all()) if sums else {}
    out = [SoldFigure(c, counties.get(c, ""), k, categories.get(k, ""), amount)
           for (c, k), amount in sums.items() if amount]
    return sorted(out, key=lambda s: (s.county, -s.amount_fen, s.category))


def households_reached(year: int) -> int:
    """How many registry households are linked (联农带农, an active link) to a supplier that sold
    something this year, through the shop or procurement. A count only."""
    from shop.models import HouseholdLink, LinkStatus

    sellers = (sa.select(SubOrder.supplier_id).where(_completed_in(year))
               .union(sa.select(SubOrder.supplier_id)
                      .join(OrderLine, OrderLine.sub_order_id == SubOrder.id)
                      .join(PlanLedgerEntry, PlanLedgerEntry.order_line_id == OrderLine.id)
                      .where(PlanLedgerEntry.year == year)))
    return int(plain_rows(
        sa.select(sa.func.count(sa.distinct(HouseholdLink.household_id)))
        .where(HouseholdLink.status == LinkStatus.ACTIVE, HouseholdLink.supplier_id.in_(sellers))
    ).scalar_one())


def totals_drift() -> int:
    """How many rows of the maintained totals differ from the ledger they add up (0 when in step): the
    plan ledger's totals and the side ledger's (employees' purchases and help-sales)."""
    drift = 0
    totals = [("plan_ledger_entry", table, keys) for table, keys in TOTALS]
    totals += [("unit_side_entry", table, keys) for table, keys, _months in SIDE_TOTALS]
    for source, table, keys in totals:
        columns = ", ".join(keys)
        joined = " AND ".join(f"t.{k} = l.{k}" for k in keys)
        # Table and column names are the constants of TOTALS and SIDE_TOTALS, never input.
        sql = (f"SELECT COUNT(*) FROM (SELECT {columns}, SUM(amount_fen) AS amount_fen FROM {source} "  # noqa: S608
               f"GROUP BY {columns}) l FULL OUTER JOIN {table} t ON {joined} "
               f"WHERE COALESCE(t.amount_fen, 0) <> COALESCE(l.amount_fen, 0)")
        drift += int(plain_rows(sa.text(sql)).scalar_one())
    return drift
