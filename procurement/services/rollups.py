"""The administrators' completion dashboard, added up and ranked by the database.

Ten thousand units are never read into Python to be summed: the summary, the kinds of unit, the
regions below the one shown and the count of lagging units are ``GROUP BY`` statements over the
per-unit figures (``completion.unit_figures_stmt`` as a subquery: one row per unit from the
maintained totals of both ledgers), and the units and lagging tables are read a page at a time,
ordered and cut by the database. The lag is computed in integers, rounded as ``completion.percent``
rounds, so the database ranks exactly the units ``Figures.lag_points`` says are behind.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import ROUND_FLOOR, Decimal

import sqlalchemy as sa

from core.extensions import db
from core.pagination import Page
from core.registry.models import Region
from procurement.models import RegionPlan, UnitType
from procurement.services.completion import (
    HUNDRED,
    GroupFigures,
    MonthFigures,
    by_origin_county,
    counted_channels,
    lag_points_setting,
    monthly,
    parse_points,
    percent,
    plain_rows,
    region_subtree_scope,
    time_progress,
    unit_figures_stmt,
    unit_rows,
)

# --- roll-ups ------------------------------------------------------------------------------------------


def _units(year: int, scope: sa.ColumnElement[bool] | None) -> sa.Subquery:
    return unit_figures_stmt(year, scope).order_by(None).subquery("units")


def _sums(units: sa.Subquery) -> list:
    """count, count with a plan, and the sums, as integers, of the per-unit subquery's rows."""
    return [sa.func.count(), sa.func.count(units.c.plan_fen),
            *[sa.cast(sa.func.sum(units.c[name]), sa.BigInteger)
              for name in ("plan_fen", "canteen", "union_", "employee", "help_sales")]]


def _group(year: int, progress: Decimal, channels: frozenset[str], n, with_plan, plan, canteen, union, employee,
           helped) -> GroupFigures:
    return GroupFigures(year=year, plan_fen=None if plan is None else int(plan), canteen_fen=int(canteen or 0),
                        union_fen=int(union or 0), employee_fen=int(employee or 0), help_sales_fen=int(helped or 0),
                        time_progress=progress, channels=channels, units=int(n), units_without_plan=int(n - with_plan))


def _empty(year: int, progress: Decimal, channels: frozenset[str]) -> GroupFigures:
    return GroupFigures(year=year, plan_fen=None, time_progress=progress, channels=channels)


@dataclass
class RegionFigures(GroupFigures):
    """A region's units rolled up; ``guiding_plan_fen`` is the region's own guiding plan (指导性计划)."""

    guiding_plan_fen: int | None = None

    @property
    def guiding_completion(self) -> Decimal | None:
        if not self.guiding_plan_fen:
            return None
        return percent(self.counted_fen, self.guiding_plan_fen)


def guiding_plans(year: int, region_ids: list[int]) -> dict[int, int]:
    if not region_ids:
        return {}
    return dict(plain_rows(
        sa.select(RegionPlan.region_id, RegionPlan.amount_fen)
        .where(RegionPlan.year == year, RegionPlan.region_id.in_(region_ids))
    ).all())


def by_region(year: int, scope: sa.ColumnElement[bool] | None, regions: list[Region], *, on: date | None = None,
              channels: frozenset[str] | None = None) -> list[RegionFigures]:
    """Each of ``regions`` with the units of ``scope`` in its subtree (the unit's region path starts with
    the region's), in one statement; regions may nest, a unit then counts in each."""
    if not regions:
        return []
    channels, progress = counted_channels() if channels is None else channels, time_progress(year, on)
    units = _units(year, scope)
    target = sa.select(Region.id.label("id"), Region.path.label("path")).where(
        Region.id.in_([r.id for r in regions])).subquery("target")
    groups = {key: _group(year, progress, channels, *sums) for key, *sums in plain_rows(
        sa.select(target.c.id, *_sums(units)).select_from(units)
        .join(target, units.c.region_path.startswith(target.c.path)).group_by(target.c.id))}
    return _regions(year, regions, groups, _empty(year, progress, channels))


def _regions(year: int, regions: list[Region], groups: dict[int, GroupFigures], empty: GroupFigures
             ) -> list[RegionFigures]:
    guiding = guiding_plans(year, [r.id for r in regions])
    return [RegionFigures(**{**vars(groups.get(r.id, empty)), "key": r.id, "label": r.name},
                          guiding_plan_fen=guiding.get(r.id)) for r in regions]


def child_regions(region: Region | None) -> list[Region]:
    """The regions one level below ``region`` (the provinces when None), by code."""
    stmt = sa.select(Region).order_by(Region.code)
    stmt = stmt.where(Region.parent_id == region.id) if region is not None else stmt.where(Region.parent_id.is_(None))
    return list(db.session.execute(stmt).scalars())


def public_region_completion(year: int, *, on: date | None = None) -> list[RegionFigures]:
    """Every region with a guiding plan for ``year``, its units' counted amount against it."""
    regions = list(db.session.execute(
        sa.select(Region).join(RegionPlan, RegionPlan.region_id == Region.id).where(RegionPlan.year == year)
        .order_by(Region.path)
    ).scalars())
    return by_region(year, None, regions, on=on)


# --- the lag -------------------------------------------------------------------------------------------


def _half_up_div(numerator, denominator):
    """numerator ÷ denominator rounded half up (away from zero) in integers, for a positive denominator:
    ``completion.percent``'s rounding on every database, without float or numeric division."""
    up = (numerator * 2 + denominator) // (denominator * 2)
    down = -((-numerator * 2 + denominator) // (denominator * 2))
    return sa.case((numerator >= 0, up), else_=down)


def _lag(units: sa.Subquery, points: Decimal, progress: Decimal, channels: frozenset[str]):
    """(is lagging, lag, gap) over the per-unit subquery: a plan above 0 and more than ``points`` behind
    time progress; the lag in hundredths of a point and the gap in fen, exactly ``Figures.lag_points``
    and ``Figures.gap_fen``."""
    parts = [units.c[name] for channel, name in (("canteen", "canteen"), ("union", "union_"),
                                                 ("employee", "employee")) if channel in channels]
    counted = sum(parts[1:], parts[0]) if parts else sa.literal(0, sa.BigInteger)
    plan, hundredths = units.c.plan_fen, int(progress * HUNDRED)
    lag = hundredths - _half_up_div(counted * 10_000, plan)
    gap = (plan * (2 * hundredths) + 10_000) // 20_000 - counted  # plan × progress, half up, less what counted
    floor = int((points * HUNDRED).to_integral_value(rounding=ROUND_FLOOR))  # an integer lag > points ⇔ > ⌊points⌋
    return sa.and_(plan > 0, lag > floor), lag, gap


def _lagging_stmt(year: int, scope: sa.ColumnElement[bool] | None, points: Decimal, progress: Decimal,
                  channels: frozenset[str]) -> sa.Select:
    """The lagging units, furthest behind first, then the larger gap in fen, then by name."""
    units = _units(year, scope)
    lagging, lag, gap = _lag(units, points, progress, channels)
    return sa.select(*units.c).where(lagging).order_by(lag.desc(), gap.desc(), units.c.name, units.c.unit_id)


def lagging_count(year: int, scope: sa.ColumnElement[bool] | None, points: Decimal, *, on: date | None = None,
                  channels: frozenset[str] | None = None) -> int:
    channels = counted_channels() if channels is None else channels
    lagging = _lagging_stmt(year, scope, points, time_progress(year, on), channels).order_by(None).subquery()
    return int(plain_rows(sa.select(sa.func.count()).select_from(lagging)).scalar_one())


def lagging_page(year: int, scope: sa.ColumnElement[bool] | None, points: Decimal | int | str, page: int,
                 per_page: int, *, on: date | None = None, total: int | None = None) -> Page:
    """Page ``page`` of the lagging units, ordered and cut by the database; ``total``: their count when
    the caller has it already, else counted in the same statement (a window over the ranking)."""
    points, channels, progress = Decimal(str(points)), counted_channels(), time_progress(year, on)
    stmt = _lagging_stmt(year, scope, points, progress, channels)
    if total is not None:
        items = unit_rows(stmt.limit(per_page).offset((page - 1) * per_page), year, progress, channels)
        return Page(items=items, page=page, per_page=per_page, total=total)
    ranked = stmt.add_columns(sa.func.count().over().label("total")).limit(per_page).offset((page - 1) * per_page)
    rows = list(plain_rows(ranked))
    if rows:
        total = rows[0].total
    else:  # past the last page: nothing to carry the count
        total = lagging_count(year, scope, points, on=on, channels=channels)
    items = unit_rows([row[:-1] for row in rows], year, progress, channels)
    return Page(items=items, page=page, per_page=per_page, total=int(total))


def lagging_units(year: int, min_gap_points: Decimal | int | str | None = None, region: Region | None = None, *,
                  scope: sa.ColumnElement[bool] | None = None, on: date | None = None):
    """The plan-lag signal (the alerts job; the dashboard's workbook): units whose completion trails time
    progress by more than ``min_gap_points`` (PLAN_LAG_POINTS by default), each with ``gap_fen``, the
    yuan it trails by, furthest behind first. ``region`` limits them to the units in its subtree."""
    points = lag_points_setting() if min_gap_points is None else parse_points(min_gap_points)
    if region is not None:
        scope = region_subtree_scope(region) if scope is None else sa.and_(scope, region_subtree_scope(region))
    channels, progress = counted_channels(), time_progress(year, on)
    return unit_rows(_lagging_stmt(year, scope, points, progress, channels), year, progress, channels)


# --- the dashboard -------------------------------------------------------------------------------------


@dataclass
class Dashboard:
    """What the administrators' page shows for ``region`` (None: every region) but its two long tables,
    which ``completion.unit_figures_page`` and ``lagging_page`` read a page at a time over ``scope``
    (``summary.units`` and ``lagging_total`` are their counts)."""

    year: int
    region: Region | None
    scope: sa.ColumnElement[bool] | None
    time_progress: Decimal
    summary: RegionFigures
    children: list[RegionFigures]
    types: list[GroupFigures]
    counties: list[GroupFigures]
    months: list[MonthFigures]
    lag_points: Decimal
    lagging_total: int


def dashboard(year: int, region: Region | None, scope: sa.ColumnElement[bool] | None = None, *,
              on: date | None = None) -> Dashboard:
    """The dashboard's figures in a fixed number of statements whatever the number of units.

    The units are read once for the summary, the kinds of unit, the regions one level down and the count
    of lagging units: one ``GROUP BY`` kind and child region (a few hundred groups at most), which Python
    adds up three ways. Each of those would otherwise add up the ledgers' totals per unit again."""
    channels, progress, points = counted_channels(), time_progress(year, on), lag_points_setting()
    if isinstance(scope, sa.sql.elements.True_):
        scope = None  # a platform administrator's: every unit, read without looking each one up
    if region is not None:
        scope = region_subtree_scope(region) if scope is None else sa.and_(scope, region_subtree_scope(region))
    children = child_regions(region)
    units = _units(year, scope)
    child = sa.select(Region.id.label("id"), Region.path.label("path")).where(
        Region.id.in_([c.id for c in children])).subquery("child")  # siblings: a unit lies in one at most
    lagging, _lag_hundredths, _gap = _lag(units, points, progress, channels)
    stmt = (sa.select(units.c.type, child.c.id, *_sums(units), sa.func.sum(sa.case((lagging, 1), else_=0)))
            .select_from(units).outerjoin(child, units.c.region_path.startswith(child.c.path))
            .group_by(units.c.type, child.c.id))
    summary = RegionFigures(**vars(_empty(year, progress, channels)))
    types: dict[str, GroupFigures] = {}
    regions: dict[int, GroupFigures] = {}
    lagging_total = 0
    for unit_type, child_id, *sums, lagging_here in plain_rows(stmt):
        group = _group(year, progress, channels, *sums)
        lagging_total += int(lagging_here or 0)
        for totals, key in ((types, unit_type), (regions, child_id)):
            if key is not None:
                totals.setdefault(key, _empty(year, progress, channels)).merge(group)
        summary.merge(group)
    if region is not None:
        summary.key, summary.label = region.id, region.name
        summary.guiding_plan_fen = guiding_plans(year, [region.id]).get(region.id)
    kinds = [replace(types[t.value], key=t.value) for t in UnitType if t.value in types]
    return Dashboard(
        year=year, region=region, scope=scope, time_progress=progress, summary=summary,
        children=_regions(year, children, regions, _empty(year, progress, channels)), types=kinds,
        counties=by_origin_county(year, scope, channels=channels, on=on),
        months=monthly(year, scope, on=on, channels=channels, plan_fen=summary.plan_fen),
        lag_points=points, lagging_total=lagging_total,
    )
