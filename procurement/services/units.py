"""Buyer units (采购单位): created by administrators or registered by a person and approved,
their place in the unit tree, their approval state machine, and their assistance relations.

The approval life is an explicit state machine: ``UNIT_TRANSITIONS`` lists every
allowed move with the name of the one function that makes it; anything else is
refused with ``InvalidTransition``. Every move is audited.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from core import audit
from core.errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationFailed
from core.extensions import db
from core.permissions import Role
from core.registry.models import Region, RegionLevel
from core.registry.services import user_may_see_region
from procurement.models import (
    AssistanceKind,
    AssistanceRelation,
    BuyerUnit,
    UnitMember,
    UnitRole,
    UnitStatus,
    UnitType,
)
from procurement.services.common import (
    PLATFORM_ROLE,
    clean_reason,
    clean_text,
    descendant_ids,
    ensure_admin_scope,
    is_admin,
    local_year,
    membership_of,
    visible_units_clause,
)

U = UnitStatus
UNIT_TRANSITIONS: dict[tuple[UnitStatus, UnitStatus], str] = {
    (U.PENDING, U.ACTIVE): "approve",
    (U.PENDING, U.REJECTED): "reject",
    (U.ACTIVE, U.SUSPENDED): "suspend",
    (U.SUSPENDED, U.ACTIVE): "reinstate",
}
# Moves that must say why: the unit reads the reason in its workspace.
REASON_REQUIRED = {"reject", "suspend"}
# A unit sits at a province, city or county (a central unit at 北京市, a county bureau at its county).
UNIT_REGION_LEVELS = (RegionLevel.PROVINCE, RegionLevel.CITY, RegionLevel.COUNTY)
# 东西部协作 began in 1996; relations are recorded from then on.
FIRST_ASSISTANCE_YEAR = 1996


def _snapshot(unit: BuyerUnit) -> dict:
    return {"name": unit.name, "type": unit.type.value, "region_id": unit.region_id, "parent_id": unit.parent_id,
            "approval_threshold_fen": unit.approval_threshold_fen, "status": unit.status.value}


def _unit_type(value) -> UnitType:
    try:
        return UnitType(value)
    except ValueError as exc:
        raise ValidationFailed(_("Choose the kind of unit."), field="type") from exc


def _region(region_id: int | None, actor) -> Region:
    region = db.session.get(Region, region_id) if region_id else None
    if region is None or region.level not in UNIT_REGION_LEVELS:
        raise ValidationFailed(_("Choose the province, city or county where the unit is."), field="region_id")
    if is_admin(actor) and not user_may_see_region(actor, region):
        raise Forbidden(_("This region is outside your region."))
    return region


def _check_name(name: str, unit: BuyerUnit | None = None) -> str:
    name = clean_text(name, field="name", max_length=120, min_length=2)
    clash = db.session.execute(sa.select(BuyerUnit.id).where(BuyerUnit.name == name)).scalar_one_or_none()
    if clash is not None and (unit is None or clash != unit.id):
        raise Conflict(_("A unit with this name is already registered."), field="name")
    return name


def _parent(parent_id: int | None, actor, unit: BuyerUnit | None = None) -> BuyerUnit | None:
    if not parent_id:
        return None
    parent = db.session.get(BuyerUnit, parent_id)
    if parent is None or parent.status != UnitStatus.ACTIVE:
        raise ValidationFailed(_("The parent unit must be an active unit."), field="parent")
    if is_admin(actor) and not user_may_see_region(actor, parent.region):
        raise ValidationFailed(_("The parent unit is outside your region."), field="parent")
    if unit is not None:
        below = set(db.session.execute(descendant_ids(unit.id)).scalars())
        if parent.id == unit.id or parent.id in below:
            raise ValidationFailed(_("A unit cannot sit below itself or one of its own sub-units."), field="parent")
    return parent


def unit_id_by_name(name: str | None, *, field: str = "parent") -> int | None:
    """Resolve a unit named in a form (exact name); empty means none."""
    name = (name or "").strip()
    if not name:
        return None
    unit_id = db.session.execute(sa.select(BuyerUnit.id).where(BuyerUnit.name == name)).scalar_one_or_none()
    if unit_id is None:
        raise ValidationFailed(_("No unit is registered under the name “%(name)s”.", name=name), field=field)
    return unit_id


def _threshold(value: int | None) -> int:
    value = int(value or 0)
    if value < 0:
        raise ValidationFailed(_("An amount cannot be negative."), field="approval_threshold")
    return value


def create_unit(actor, *, name: str, type: UnitType | str, region_id: int, parent_id: int | None = None,
                approval_threshold_fen: int | None = 0) -> BuyerUnit:
    """An administrator creates a unit inside their region; it is active at once."""
    if not is_admin(actor):
        raise Forbidden(_("Only administrators create units directly; others register a unit for approval."))
    unit_type = _unit_type(type)
    region = _region(region_id, actor)
    name = _check_name(name)
    parent = _parent(parent_id, actor)
    unit = BuyerUnit(name=name, type=unit_type, region_id=region.id, parent_id=parent.id if parent else None,
                     status=UnitStatus.ACTIVE, approval_threshold_fen=_threshold(approval_threshold_fen))
    db.session.add(unit)
    db.session.flush()
    audit.record("unit.created", "buyer_unit", unit.id, after=_snapshot(unit), actor_id=actor.id)
    return unit


def register_unit(user, *, name: str, type: UnitType | str, region_id: int, parent_id: int | None = None
                  ) -> BuyerUnit:
    """A person registers their unit: it waits for an administrator of its region, and the person
    becomes the unit's administrator (platform role UNIT_APPROVER)."""
    if user.role != Role.CONSUMER:
        raise Forbidden(_("Only a personal account that belongs to no supplier or unit can register a unit."))
    if membership_of(user) is not None:
        raise Conflict(_("Your account already belongs to a unit."))
    unit_type = _unit_type(type)
    region = _region(region_id, user)
    name = _check_name(name)
    parent = _parent(parent_id, user)
    unit = BuyerUnit(name=name, type=unit_type, region_id=region.id, parent_id=parent.id if parent else None,
                     status=UnitStatus.PENDING, )
    db.session.add(unit)
    db.session.flush()
    db.session.add(UnitMember(user_id=user.id, unit_id=unit.id, role=UnitRole.ADMIN))
    user.role = PLATFORM_ROLE[UnitRole.ADMIN]
    db.session.flush()
    audit.record("unit.registered", "buyer_unit", unit.id, after=_snapshot(unit), actor_id=user.id)
    return unit


def update_unit(actor, unit: BuyerUnit, *, name: str, type: UnitType | str, region_id: int,
                parent_id: int | None, approval_threshold_fen: int | None) -> BuyerUnit:
    ensure_admin_scope(actor, unit)
    before = _snapshot(unit)
    # Everything is checked before anything changes, so a refusal leaves the unit as it was.
    unit_type = _unit_type(type)
    region = _region(region_id, actor)
    name = _check_name(name, unit)
    parent = _parent(parent_id, actor, unit)
    threshold = _threshold(approval_threshold_fen)
    unit.type, unit.region_id, unit.name = unit_type, region.id, name
    unit.parent_id = parent.id if parent else None
    unit.approval_threshold_fen = threshold
    db.session.flush()
    after = _snapshot(unit)
    changed = {k for k in after if after[k] != before[k]}
    if changed:
        audit.record("unit.updated", "buyer_unit", unit.id, before={k: before[k] for k in sorted(changed)},
                     after={k: after[k] for k in sorted(changed)}, actor_id=actor.id)
    return unit


# --- the approval state machine ---------------------------------------------------------------


def _refuse(unit: BuyerUnit, target: UnitStatus) -> InvalidTransition:
    return InvalidTransition(_("A unit that is “%(current)s” cannot be moved to “%(target)s”.",
                               current=unit.status.value, target=target.value))


def _move(unit: BuyerUnit, target: UnitStatus, via: str, actor, reason: str | None) -> BuyerUnit:
    ensure_admin_scope(actor, unit)
    if UNIT_TRANSITIONS.get((unit.status, target)) != via:
        raise _refuse(unit, target)
    reason = clean_reason(reason, required=via in REASON_REQUIRED,
                          message=_("Give the reason; the unit will read it."))
    before = {"status": unit.status.value}
    unit.status = target
    unit.status_reason = reason
    db.session.flush()
    audit.record(f"unit.{via}", "buyer_unit", unit.id, before=before, after={"status": target.value},
                 reason=reason, actor_id=actor.id)
    return unit


def approve_unit(unit: BuyerUnit, actor, reason: str | None = None) -> BuyerUnit:
    return _move(unit, U.ACTIVE, "approve", actor, reason)


def reject_unit(unit: BuyerUnit, actor, reason: str | None) -> BuyerUnit:
    return _move(unit, U.REJECTED, "reject", actor, reason)


def suspend_unit(unit: BuyerUnit, actor, reason: str | None) -> BuyerUnit:
    return _move(unit, U.SUSPENDED, "suspend", actor, reason)


def reinstate_unit(unit: BuyerUnit, actor, reason: str | None = None) -> BuyerUnit:
    return _move(unit, U.ACTIVE, "reinstate", actor, reason)


ACTIONS = {
    "approve": approve_unit,
    "reject": reject_unit,
    "suspend": suspend_unit,
    "reinstate": reinstate_unit,
}


def transition_unit(unit: BuyerUnit, target: UnitStatus | str, actor, reason: str | None = None) -> BuyerUnit:
    """Move ``unit`` to ``target`` through the one function the table names for that move."""
    target = UnitStatus(target)
    via = UNIT_TRANSITIONS.get((unit.status, target))
    if via is None:
        raise _refuse(unit, target)
    return ACTIONS[via](unit, actor, reason)


def allowed_actions(unit: BuyerUnit) -> list[str]:
    return [via for (start, _target), via in UNIT_TRANSITIONS.items() if start == unit.status]


# --- lists and the unit tree ------------------------------------------------------------------


def units_in_scope(user, *, status: UnitStatus | None = None, unit_type: UnitType | None = None,
                   q: str = "") -> sa.Select:
    """The units ``user`` may see, newest registrations first."""
    stmt = (sa.select(BuyerUnit).where(visible_units_clause(user))
            .options(joinedload(BuyerUnit.region), joinedload(BuyerUnit.parent))
            .order_by(BuyerUnit.created_at.desc(), BuyerUnit.id.desc()))
    if status is not None:
        stmt = stmt.where(BuyerUnit.status == status)
    if unit_type is not None:
        stmt = stmt.where(BuyerUnit.type == unit_type)
    if q:
        stmt = stmt.where(BuyerUnit.name.contains(q, autoescape=True))
    return stmt


def sub_units(unit: BuyerUnit) -> list[BuyerUnit]:
    """Every unit below ``unit``, at any depth (one query)."""
    return list(db.session.execute(
        sa.select(BuyerUnit).where(BuyerUnit.id.in_(descendant_ids(unit.id)))
        .options(joinedload(BuyerUnit.region), joinedload(BuyerUnit.parent)).order_by(BuyerUnit.name)
    ).scalars())


# --- assistance relations (定点帮扶, 东西部协作, 对口帮扶) --------------------------------------------


def _assistance_year(value, *, field: str, required: bool) -> int | None:
    if value in (None, ""):
        if required:
            raise ValidationFailed(_("Give the year as four digits."), field=field)
        return None
    try:
        year = int(value)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(_("Give the year as four digits."), field=field) from exc
    if not FIRST_ASSISTANCE_YEAR <= year <= local_year() + 10:
        raise ValidationFailed(_("Give a year between %(first)d and %(last)d.", first=FIRST_ASSISTANCE_YEAR,
                                 last=local_year() + 10), field=field)
    return year


def add_assistance(actor, unit: BuyerUnit, *, county_id: int, kind: AssistanceKind | str, start_year,
                   end_year=None) -> AssistanceRelation:
    """Administrators record which counties a unit assists, and how, from which year to which."""
    ensure_admin_scope(actor, unit)
    county = db.session.get(Region, county_id) if county_id else None
    if county is None or county.level != RegionLevel.COUNTY:
        raise ValidationFailed(_("Choose the assisted county."), field="county_id")
    try:
        kind = AssistanceKind(kind)
    except ValueError as exc:
        raise ValidationFailed(_("Choose the kind of assistance."), field="kind") from exc
    start = _assistance_year(start_year, field="start_year", required=True)
    end = _assistance_year(end_year, field="end_year", required=False)
    if end is not None and end < start:
        raise ValidationFailed(_("The end year cannot be before the start year."), field="end_year")
    clash = db.session.execute(sa.select(AssistanceRelation.id).where(
        AssistanceRelation.unit_id == unit.id, AssistanceRelation.county_id == county.id,
        AssistanceRelation.kind == kind, AssistanceRelation.start_year == start)).first()
    if clash:
        raise Conflict(_("This relation is already recorded."), field="county_id")
    relation = AssistanceRelation(unit_id=unit.id, county_id=county.id, kind=kind, start_year=start, end_year=end)
    db.session.add(relation)
    db.session.flush()
    audit.record("unit.assistance_added", "buyer_unit", unit.id, actor_id=actor.id, after={
        "relation_id": relation.id, "county_id": county.id, "kind": kind.value, "start_year": start,
        "end_year": end})
    return relation


def remove_assistance(actor, unit: BuyerUnit, relation_id: int) -> None:
    ensure_admin_scope(actor, unit)
    relation = db.session.get(AssistanceRelation, relation_id)
    if relation is None or relation.unit_id != unit.id:
        raise NotFound(_("No such assistance relation."))
    before = {"relation_id": relation.id, "county_id": relation.county_id, "kind": relation.kind.value,
              "start_year": relation.start_year, "end_year": relation.end_year}
    db.session.delete(relation)
    db.session.flush()
    audit.record("unit.assistance_removed", "buyer_unit", unit.id, before=before, actor_id=actor.id)


def assistance_of(unit_ids: list[int]) -> list[AssistanceRelation]:
    if not unit_ids:
        return []
    return list(db.session.execute(
        sa.select(AssistanceRelation).where(AssistanceRelation.unit_id.in_(unit_ids))
        .options(joinedload(AssistanceRelation.county)).order_by(AssistanceRelation.start_year,
                                                                 AssistanceRelation.id)
    ).scalars())

