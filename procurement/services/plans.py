"""Annual plans (帮扶采购计划): what each unit declares, the figures administrators set,
and the regions' guiding plans (指导性计划).

A unit's plan for a year is, in order of precedence:

1. a figure an administrator set (always with a reason), else
2. the unit's declaration: canteen food budget × reserved share (the share at
   least PLAN_MIN_RESERVED_SHARE_PERCENT, 10% by default); 0 when the unit has
   no canteen (无食堂) or eats at another unit's canteen, which that host unit
   reports once in its own budget.

Every change is audited with the whole plan before and after; after the first
declaration, and for every administrator's figure, the reason is required.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import aliased, joinedload

from core import audit
from core.database import utcnow
from core.errors import Conflict, Forbidden, ValidationFailed
from core.extensions import db
from core.permissions import Permission, role_allows
from core.registry.models import Region, RegionLevel
from core.registry.services import region_scope, user_may_see_region
from procurement.config import minimum_share_bp
from procurement.models import BuyerUnit, CanteenMode, RegionPlan, UnitPlan, UnitStatus, UnitType
from procurement.services.common import (
    MAX_AMOUNT_FEN,
    amount_for_share,
    check_year,
    clean_reason,
    descendant_ids,
    ensure_active,
    ensure_admin_scope,
    ensure_unit_admin,
    share_from_bp,
)

PLAN_STATUSES = ("missing", "own", "none", "shared", "admin")
GUIDING_PLAN_LEVELS = (RegionLevel.PROVINCE, RegionLevel.CITY, RegionLevel.COUNTY)


def get_plan(unit_id: int, year: int) -> UnitPlan | None:
    return db.session.execute(
        sa.select(UnitPlan).where(UnitPlan.unit_id == unit_id, UnitPlan.year == year)
        .options(joinedload(UnitPlan.host_unit))
    ).scalar_one_or_none()


def plan_status(plan: UnitPlan | None) -> str:
    """missing, admin (an administrator's figure is in force), or the declared canteen mode."""
    if plan is None:
        return "missing"
    if plan.admin_plan_fen is not None:
        return "admin"
    return plan.canteen_mode.value if plan.canteen_mode else "missing"


def plan_snapshot(plan: UnitPlan | None) -> dict | None:
    if plan is None:
        return None
    return {
        "year": plan.year,
        "canteen_mode": plan.canteen_mode.value if plan.canteen_mode else None,
        "canteen_budget_fen": plan.canteen_budget_fen,
        "reserved_share_bp": plan.reserved_share_bp,
        "minimum_share_bp": plan.minimum_share_bp,
        "host_unit_id": plan.host_unit_id,
        "declared_plan_fen": plan.declared_plan_fen,
        "admin_plan_fen": plan.admin_plan_fen,
        "plan_fen": plan.plan_fen,
    }


def _in_force(plan: UnitPlan) -> None:
    plan.plan_fen = (plan.admin_plan_fen if plan.admin_plan_fen is not None
                     else plan.declared_plan_fen if plan.declared_plan_fen is not None else 0)


def guests_of(unit_id: int, year: int) -> list[BuyerUnit]:
    """Units that declared for ``year`` that they eat at ``unit_id``'s canteen."""
    return list(db.session.execute(
        sa.select(BuyerUnit).join(UnitPlan, UnitPlan.unit_id == BuyerUnit.id)
        .where(UnitPlan.host_unit_id == unit_id, UnitPlan.year == year).order_by(BuyerUnit.name)
    ).scalars())


def _host(unit: BuyerUnit, host_unit_id: int | None, year: int) -> BuyerUnit:
    if not host_unit_id:
        raise ValidationFailed(_("Name the unit whose canteen you share; it reports the canteen budget."),
                               field="host_unit")
    if host_unit_id == unit.id:
        raise ValidationFailed(_("The host is another unit; a unit with its own canteen declares its budget."),
                               field="host_unit")
    host = db.session.get(BuyerUnit, host_unit_id)
    if host is None or host.status != UnitStatus.ACTIVE:
        raise ValidationFailed(_("The host must be an active unit."), field="host_unit")
    host_plan = get_plan(host.id, year)
    if host_plan is not None and host_plan.canteen_mode in (CanteenMode.NONE, CanteenMode.SHARED):
        raise ValidationFailed(
            _("%(host)s declared that it has no canteen of its own for %(year)d.", host=host.name, year=year),
            field="host_unit")
    return host


@dataclass(frozen=True)
class Declaration:
    """What a unit declares for a year, already parsed (money in fen, share in basis points)."""

    canteen_mode: CanteenMode
    canteen_budget_fen: int | None = None
    reserved_share_bp: int | None = None
    host_unit_id: int | None = None


def _check_declaration(unit: BuyerUnit, year: int, raw: Declaration) -> tuple[Declaration, int, int | None]:
    """Validate a declaration; returns it cleaned, its plan amount and the minimum share applied."""
    try:
        mode = CanteenMode(raw.canteen_mode)
    except ValueError as exc:
        raise ValidationFailed(_("Say whether the unit has its own canteen, none, or shares one."),
                               field="canteen_mode") from exc
    if mode != CanteenMode.OWN:
        guests = guests_of(unit.id, year)
        if guests:
            raise Conflict(
                _("%(n)d units declared that they share your canteen in %(year)d (%(names)s); they must change "
                  "their declaration first.", n=len(guests), year=year, names="、".join(g.name for g in guests)),
                field="canteen_mode")
    if mode == CanteenMode.NONE:
        return Declaration(mode), 0, None
    if mode == CanteenMode.SHARED:
        host = _host(unit, raw.host_unit_id, year)
        return Declaration(mode, host_unit_id=host.id), 0, None
    budget = raw.canteen_budget_fen
    if budget is None:
        raise ValidationFailed(_("Enter the canteen food budget for the year."), field="canteen_budget")
    if budget < 0:
        raise ValidationFailed(_("The budget cannot be negative."), field="canteen_budget")
    if budget > MAX_AMOUNT_FEN:
        raise ValidationFailed(_("This amount is far too large; please check it."), field="canteen_budget")
    share = raw.reserved_share_bp
    minimum = minimum_share_bp()
    if share is None:
        raise ValidationFailed(_("Enter the share of the budget reserved for assistance products."),
                               field="reserved_share")
    if share < minimum:
        raise ValidationFailed(_("The reserved share must be at least %(min)s.", min=share_from_bp(minimum)),
                               field="reserved_share")
    if share > 10000:
        raise ValidationFailed(_("The reserved share cannot be more than 100%."), field="reserved_share")
    return Declaration(mode, budget, share), amount_for_share(budget, share), minimum


def declare_plan(actor, unit: BuyerUnit, year: int, declaration: Declaration, *, reason: str | None = None
                 ) -> UnitPlan:
    """The unit's administrator declares (or changes) the unit's plan for ``year``."""
    ensure_unit_admin(actor, unit)
    ensure_active(unit)
    year = check_year(year)
    clean, amount, minimum = _check_declaration(unit, year, declaration)
    plan = get_plan(unit.id, year)
    first = plan is None or plan.canteen_mode is None
    if not first and (plan.canteen_mode, plan.canteen_budget_fen, plan.reserved_share_bp, plan.host_unit_id) == (
            clean.canteen_mode, clean.canteen_budget_fen, clean.reserved_share_bp, clean.host_unit_id):
        return plan  # nothing changes, nothing to audit
    reason = clean_reason(reason, required=not first,
                          message=_("Give the reason for changing a plan already declared; it is kept in the "
                                    "audit log."))
    before = plan_snapshot(plan)
    if plan is None:
        plan = UnitPlan(unit_id=unit.id, year=year)
        db.session.add(plan)
    plan.canteen_mode = clean.canteen_mode
    plan.canteen_budget_fen = clean.canteen_budget_fen
    plan.reserved_share_bp = clean.reserved_share_bp
    plan.minimum_share_bp = minimum
    plan.host_unit_id = clean.host_unit_id
    plan.declared_plan_fen = amount
    plan.declared_at = plan.declared_at or utcnow()
    plan.updated_by_id = actor.id
    _in_force(plan)
    db.session.flush()
    audit.record("plan.declared" if first else "plan.changed", "unit_plan", plan.id, before=before,
                 after=plan_snapshot(plan), reason=reason, actor_id=actor.id)
    return plan


def set_plan_figure(actor, unit: BuyerUnit, year: int, *, plan_fen: int | None, reason: str | None) -> UnitPlan:
    """An administrator sets the unit's plan figure directly; it wins over the declaration."""
    ensure_admin_scope(actor, unit, Permission.PLANS_MANAGE)
    year = check_year(year)
    if plan_fen is None:
        raise ValidationFailed(_("Enter the plan amount."), field="amount")
    if plan_fen < 0:
        raise ValidationFailed(_("An amount cannot be negative."), field="amount")
    if plan_fen > MAX_AMOUNT_FEN:
        raise ValidationFailed(_("This amount is far too large; please check it."), field="amount")
    reason = clean_reason(reason, required=True,
                          message=_("Give the reason for the figure (for example the notice that sets it)."))
    plan = get_plan(unit.id, year)
    before = plan_snapshot(plan)
    if plan is None:
        plan = UnitPlan(unit_id=unit.id, year=year)
        db.session.add(plan)
    plan.admin_plan_fen = plan_fen
    plan.admin_reason = reason
    plan.updated_by_id = actor.id
    _in_force(plan)
    db.session.flush()
    audit.record("plan.figure_set", "unit_plan", plan.id, before=before, after=plan_snapshot(plan), reason=reason,
                 actor_id=actor.id)
    return plan


def clear_plan_figure(actor, unit: BuyerUnit, year: int, *, reason: str | None) -> UnitPlan | None:
    """Withdraw an administrator's figure: the unit's own declaration (if any) is in force again."""
    ensure_admin_scope(actor, unit, Permission.PLANS_MANAGE)
    year = check_year(year)
    plan = get_plan(unit.id, year)
    if plan is None or plan.admin_plan_fen is None:
        raise ValidationFailed(_("No administrator's figure is set for this year."), field="amount")
    reason = clean_reason(reason, required=True)
    before = plan_snapshot(plan)
    plan_id = plan.id
    if plan.canteen_mode is None:
        # Nothing declared: without the figure the unit simply has no plan for the year.
        db.session.delete(plan)
        db.session.flush()
        audit.record("plan.figure_cleared", "unit_plan", plan_id, before=before, after=None, reason=reason,
                     actor_id=actor.id)
        return None
    plan.admin_plan_fen = None
    plan.admin_reason = None
    plan.updated_by_id = actor.id
    _in_force(plan)
    db.session.flush()
    audit.record("plan.figure_cleared", "unit_plan", plan_id, before=before, after=plan_snapshot(plan),
                 reason=reason, actor_id=actor.id)
    return plan


# --- lists: every unit of the scope, with or without a plan -----------------------------------


def _status_clause(status: str) -> sa.ColumnElement[bool]:
    if status == "missing":
        return UnitPlan.id.is_(None)
    if status == "admin":
        return UnitPlan.admin_plan_fen.is_not(None)
    return sa.and_(UnitPlan.admin_plan_fen.is_(None), UnitPlan.canteen_mode == CanteenMode(status))


def unit_plans_stmt(scope: sa.ColumnElement[bool], year: int, *, status: str | None = None,
                    unit_type: UnitType | None = None, q: str = "") -> sa.Select:
    """Active units matching ``scope`` beside their plan for ``year`` (None when they have none).

    One LEFT JOIN: a unit without a plan is a row with an empty plan, never a gap.
    Rows are (BuyerUnit, UnitPlan | None, host unit name | None).
    """
    host = aliased(BuyerUnit)
    stmt = (
        sa.select(BuyerUnit, UnitPlan, host.name)
        .outerjoin(UnitPlan, sa.and_(UnitPlan.unit_id == BuyerUnit.id, UnitPlan.year == year))
        .outerjoin(host, host.id == UnitPlan.host_unit_id)
        .where(scope, BuyerUnit.status == UnitStatus.ACTIVE)
        .options(joinedload(BuyerUnit.region))
        .order_by(BuyerUnit.name, BuyerUnit.id)
    )
    if status in PLAN_STATUSES:
        stmt = stmt.where(_status_clause(status))
    if unit_type is not None:
        stmt = stmt.where(BuyerUnit.type == unit_type)
    if q:
        stmt = stmt.where(BuyerUnit.name.contains(q, autoescape=True))
    return stmt


def unit_plans_for_admin(user, year: int, **filters) -> sa.Select:
    return unit_plans_stmt(region_scope(user, BuyerUnit.region_id), year, **filters)


def sub_unit_plans(unit: BuyerUnit, year: int) -> list[tuple[BuyerUnit, UnitPlan | None, str | None]]:
    """The unit's sub-units (any depth) and their plans for ``year``, in one query."""
    rows = db.session.execute(unit_plans_stmt(BuyerUnit.id.in_(descendant_ids(unit.id)), year)).all()
    return [tuple(r) for r in rows]


@dataclass(frozen=True)
class PlanTotals:
    units: int
    with_plan: int
    plan_fen: int

    @property
    def without_plan(self) -> int:
        return self.units - self.with_plan


def plan_totals(scope: sa.ColumnElement[bool], year: int) -> PlanTotals:
    """How many active units in ``scope`` have a plan for ``year``, and the sum of the figures (one query)."""
    units, with_plan, total = db.session.execute(
        sa.select(sa.func.count(BuyerUnit.id), sa.func.count(UnitPlan.id),
                  sa.func.coalesce(sa.func.sum(UnitPlan.plan_fen), 0))
        .select_from(BuyerUnit)
        .outerjoin(UnitPlan, sa.and_(UnitPlan.unit_id == BuyerUnit.id, UnitPlan.year == year))
        .where(scope, BuyerUnit.status == UnitStatus.ACTIVE)
    ).one()
    return PlanTotals(units=units, with_plan=with_plan, plan_fen=int(total))


# --- regional guiding plans (指导性计划) ---------------------------------------------------------


def set_guiding_plan(actor, *, region_id: int, year: int, amount_fen: int | None, reason: str | None
                     ) -> RegionPlan:
    if not role_allows(getattr(actor, "role", None), Permission.PLANS_MANAGE):
        raise Forbidden(_("Only administrators set guiding plans."))
    region = db.session.get(Region, region_id) if region_id else None
    if region is None or region.level not in GUIDING_PLAN_LEVELS:
        raise ValidationFailed(_("Choose a province, city or county."), field="region_id")
    if not user_may_see_region(actor, region):
        raise Forbidden(_("This region is outside your region."))
    year = check_year(year)
    if amount_fen is None:
        raise ValidationFailed(_("Enter the plan amount."), field="amount")
    if amount_fen < 0:
        raise ValidationFailed(_("An amount cannot be negative."), field="amount")
    reason = clean_reason(reason, required=True,
                          message=_("Give the reason for the figure (for example the notice that sets it)."))
    row = db.session.execute(
        sa.select(RegionPlan).where(RegionPlan.region_id == region.id, RegionPlan.year == year)
    ).scalar_one_or_none()
    before = None if row is None else {"region_id": row.region_id, "year": row.year, "amount_fen": row.amount_fen}
    if row is None:
        row = RegionPlan(region_id=region.id, year=year, amount_fen=amount_fen, reason=reason)
        db.session.add(row)
    row.amount_fen = amount_fen
    row.reason = reason
    row.updated_by_id = actor.id
    db.session.flush()
    audit.record("region_plan.set", "region_plan", row.id, before=before,
                 after={"region_id": region.id, "year": year, "amount_fen": amount_fen}, reason=reason,
                 actor_id=actor.id)
    return row


def guiding_plans(user, year: int) -> list[tuple[RegionPlan, Region, int]]:
    """Guiding plans for ``year`` in the user's scope, each beside the sum of the unit plans under its
    region (one query; the sum is a correlated subquery per guiding plan, not a query per unit)."""
    unit_region = aliased(Region)
    units_sum = (
        sa.select(sa.func.coalesce(sa.func.sum(UnitPlan.plan_fen), 0))
        .select_from(UnitPlan)
        .join(BuyerUnit, BuyerUnit.id == UnitPlan.unit_id)
        .join(unit_region, unit_region.id == BuyerUnit.region_id)
        .where(UnitPlan.year == year, BuyerUnit.status == UnitStatus.ACTIVE,
               unit_region.path.startswith(Region.path))
        .correlate(Region)
        .scalar_subquery()
    )
    rows = db.session.execute(
        sa.select(RegionPlan, Region, units_sum)
        .join(Region, Region.id == RegionPlan.region_id)
        .where(RegionPlan.year == year, region_scope(user, RegionPlan.region_id))
        .order_by(Region.path)
    ).all()
    return [(plan, region, int(total)) for plan, region, total in rows]
