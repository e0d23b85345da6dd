"""Who sees and acts on a plan-lag warning, and the actions themselves.

Seeing: the members of the unit (any unit role), the administrators of the units above it, the
regional administrators whose region contains the unit, and the platform administrators. Acting
(acknowledge, note, respond, resolve): the unit's administrators (``UnitRole.ADMIN``) and the
regional and platform administrators who see it; a buyer or approver of the unit sees the warning
but is refused. Someone else's warning does not exist for a user (NotFound). Every action checks the
state it starts from (``alerts.services.TRANSITIONS``), is kept as a ``PlanLagAction`` and in the
audit log; services flush, the caller commits.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from alerts.models import SHOWN_STATUSES, ActionKind, WarningStatus
from alerts.models_planlag import PlanLagAction, PlanLagWarning
from alerts.services import IS_ADMIN, TRANSITIONS
from core import audit
from core.database import utcnow
from core.errors import Forbidden, InvalidTransition, NotFound, ValidationFailed
from core.extensions import db
from core.registry.models import Region
from core.registry.services import region_scope
from procurement.models import BuyerUnit, UnitMember, UnitRole
from procurement.services.common import descendant_ids

ACTIONS = (ActionKind.ACKNOWLEDGE, ActionKind.NOTE, ActionKind.RESPOND, ActionKind.RESOLVE)  # no assignment here


def membership(user) -> tuple[int, UnitRole] | None:
    """(unit id, unit role) of the user's unit, if they belong to one."""
    row = db.session.execute(sa.select(UnitMember.unit_id, UnitMember.role).where(
        UnitMember.user_id == user.id)).first()
    return (row[0], UnitRole(row[1])) if row else None


def visible_clause(user) -> sa.ColumnElement[bool]:
    """WHERE clause (over PlanLagWarning joined to BuyerUnit) for the warnings ``user`` may see."""
    if user.role in IS_ADMIN:
        return region_scope(user, BuyerUnit.region_id)
    member = membership(user)
    if member is None:
        return sa.false()
    unit_id, role = member
    if role != UnitRole.ADMIN:
        return PlanLagWarning.unit_id == unit_id
    # A department's administrators also see the warnings of the units below it (they are told of them).
    return sa.or_(PlanLagWarning.unit_id == unit_id, PlanLagWarning.unit_id.in_(descendant_ids(unit_id)))


def visible(user) -> sa.Select:
    return (sa.select(PlanLagWarning).join(BuyerUnit, BuyerUnit.id == PlanLagWarning.unit_id)
            .where(visible_clause(user), PlanLagWarning.status != WarningStatus.WATCHING))


def get_visible(user, warning_id: int) -> PlanLagWarning:
    warning = db.session.execute(visible(user).where(PlanLagWarning.id == warning_id)).scalar_one_or_none()
    if warning is None:
        raise NotFound(_("No such warning."))
    return warning


def may_act(user, warning: PlanLagWarning) -> bool:
    """An administrator who sees the warning, or an administrator of the warning's own unit."""
    if user.role in IS_ADMIN:
        return db.session.execute(visible(user).where(PlanLagWarning.id == warning.id)).first() is not None
    member = membership(user)
    return member is not None and member == (warning.unit_id, UnitRole.ADMIN)


def unit_warning(unit_id: int) -> PlanLagWarning | None:
    """The unit's shown warning (open, acknowledged or handled), the latest plan year first."""
    return db.session.execute(
        sa.select(PlanLagWarning).where(PlanLagWarning.unit_id == unit_id,
                                        PlanLagWarning.status.in_(SHOWN_STATUSES))
        .order_by(PlanLagWarning.year.desc(), PlanLagWarning.id.desc()).limit(1)).scalar_one_or_none()


def act(user, warning: PlanLagWarning, kind: ActionKind, *, note: str = "") -> PlanLagAction:
    """Apply one action as ``user``; refused when the user may not or the status does not allow it."""
    if kind not in ACTIONS:
        raise ValidationFailed(_("That action does not apply to plan-lag warnings."), field="kind")
    if not may_act(user, warning):
        raise Forbidden(_("Only the unit's administrators or an administrator of its region may act on this "
                          "warning."))
    note = (note or "").strip()
    if len(note) > 2000:
        raise ValidationFailed(_("A note has at most 2000 characters."), field="note")
    allowed_from, to = TRANSITIONS[kind]
    if warning.status not in allowed_from:
        raise InvalidTransition(_("This warning is %(status)s; it cannot be changed that way.",
                                  status=warning.status.value))
    if kind == ActionKind.NOTE and not note:
        raise ValidationFailed(_("Write the note first."), field="note")
    if kind == ActionKind.RESPOND and not note:
        raise ValidationFailed(_("Say which response was taken."), field="note")
    before = {"status": warning.status.value}
    now = utcnow()
    if to is not None:
        warning.status = to
    if kind == ActionKind.ACKNOWLEDGE:
        warning.acknowledged_at = now
    elif kind == ActionKind.RESPOND:
        warning.handled_at = now
    elif kind == ActionKind.RESOLVE:
        warning.resolved_at, warning.resolved_by_id = now, user.id
    action = PlanLagAction(warning=warning, actor_id=user.id, kind=kind, note=note)
    db.session.add(action)
    audit.record(f"alerts.plan_lag_{kind.value}", "alert_plan_lag_warning", warning.id, before=before,
                 after={"status": warning.status.value, "unit_id": warning.unit_id, "year": warning.year},
                 reason=note or None, actor_id=user.id)
    db.session.flush()
    return action


def board_rows(user, *, year: int | None = None, level: str | None = None, limit: int = 500) -> list[tuple]:
    """Shown warnings the user may see, worst first then the larger gap in yuan: (warning, unit name,
    region name). One query."""
    stmt = (sa.select(PlanLagWarning, BuyerUnit.name, Region.name)
            .join(BuyerUnit, BuyerUnit.id == PlanLagWarning.unit_id).join(Region, Region.id == BuyerUnit.region_id)
            .where(visible_clause(user), PlanLagWarning.status.in_(SHOWN_STATUSES)))
    if year:
        stmt = stmt.where(PlanLagWarning.year == year)
    if level:
        stmt = stmt.where(PlanLagWarning.level == level)
    return db.session.execute(stmt.order_by(*ordering()).limit(limit)).all()


def ordering() -> tuple:
    severity = sa.case({"red": 4, "orange": 3, "yellow": 2, "blue": 1}, value=PlanLagWarning.level)
    return severity.desc(), PlanLagWarning.gap_fen.desc(), PlanLagWarning.id
