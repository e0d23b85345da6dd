"""The response to a warning: who may see and act on it, and the actions themselves.

The supplier of the product (its members) and the administrators of the product's origin region
(a regional administrator's subtree; platform administrators everywhere) see a warning and act on
it. Every action checks the state it starts from (``TRANSITIONS``), is recorded as a
``WarningAction`` and in the audit log; services flush, the caller commits.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from alerts.models import (
    SHOWN_STATUSES,
    ActionKind,
    Notification,
    Warning,
    WarningAction,
    WarningObservation,
    WarningStatus,
)
from core import audit
from core.accounts.models import User
from core.database import utcnow
from core.errors import Forbidden, InvalidTransition, NotFound, ValidationFailed
from core.extensions import db
from core.permissions import Role
from core.registry.models import Region
from core.registry.services import region_scope
from shop.models import HouseholdLink, LinkStatus, Product, SupplierMember

# action → the statuses it may start from, and the status it leads to (None: unchanged).
TRANSITIONS: dict[ActionKind, tuple[tuple[WarningStatus, ...], WarningStatus | None]] = {
    ActionKind.ACKNOWLEDGE: ((WarningStatus.OPEN,), WarningStatus.ACKNOWLEDGED),
    ActionKind.ASSIGN: (SHOWN_STATUSES, None),
    ActionKind.NOTE: ((*SHOWN_STATUSES, WarningStatus.RESOLVED), None),
    ActionKind.RESPOND: ((WarningStatus.OPEN, WarningStatus.ACKNOWLEDGED), WarningStatus.HANDLED),
    ActionKind.RESOLVE: (SHOWN_STATUSES, WarningStatus.RESOLVED),
}
IS_ADMIN = (Role.PLATFORM_ADMIN, Role.REGIONAL_ADMIN)


def supplier_id_of(user) -> int | None:
    if user.role != Role.SUPPLIER:
        return None
    return db.session.execute(sa.select(SupplierMember.supplier_id).where(
        SupplierMember.user_id == user.id)).scalar_one_or_none()


def visible_clause(user) -> sa.ColumnElement[bool]:
    """WHERE clause (over Warning joined to Product) for the warnings ``user`` may see."""
    if user.role in IS_ADMIN:
        return region_scope(user, Product.origin_county_id)
    supplier_id = supplier_id_of(user)
    return Product.supplier_id == supplier_id if supplier_id is not None else sa.false()


def visible_warnings(user) -> sa.Select:
    return (sa.select(Warning).join(Product, Product.id == Warning.product_id)
            .where(visible_clause(user), Warning.status != WarningStatus.WATCHING))


def get_visible(user, warning_id: int) -> Warning:
    """The warning, if ``user`` may see it; otherwise NotFound (someone else's warning does not exist for them)."""
    warning = db.session.execute(visible_warnings(user).where(Warning.id == warning_id)).scalar_one_or_none()
    if warning is None:
        raise NotFound(_("No such warning."))
    return warning


def _may_act(user, warning: Warning) -> bool:
    return db.session.execute(visible_warnings(user).where(Warning.id == warning.id)).first() is not None


def act(user, warning: Warning, kind: ActionKind, *, note: str = "", assignee_id: int | None = None) -> WarningAction:
    """Apply one action to ``warning`` as ``user``; refused when the user may not or the state does not allow it."""
    if not _may_act(user, warning):
        raise Forbidden(_("Only the product's supplier or an administrator of its region may act on this warning."))
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
    before = {"status": warning.status.value, "assignee_id": warning.assignee_id}
    now = utcnow()
    if kind == ActionKind.ASSIGN:
        assignee = db.session.get(User, assignee_id) if assignee_id else None
        if assignee is None or not assignee.active or not _may_act(assignee, warning):
            raise ValidationFailed(_("Assign the warning to the product's supplier or an administrator of its "
                                     "region."), field="assignee_id")
        warning.assignee_id = assignee.id
    if to is not None:
        warning.status = to
    if kind == ActionKind.ACKNOWLEDGE:
        warning.acknowledged_at = now
    elif kind == ActionKind.RESPOND:
        warning.handled_at = now
    elif kind == ActionKind.RESOLVE:
        warning.resolved_at, warning.resolved_by_id = now, user.id
    action = WarningAction(warning=warning, actor_id=user.id, kind=kind, note=note,
                           assignee_id=warning.assignee_id if kind == ActionKind.ASSIGN else None)
    db.session.add(action)
    audit.record(f"alerts.warning_{kind.value}", "alert_warning", warning.id, before=before,
                 after={"status": warning.status.value, "assignee_id": warning.assignee_id}, reason=note or None,
                 actor_id=user.id)
    if kind == ActionKind.RESOLVE:
        _clear_urgent_if_done(warning.product_id)
    db.session.flush()
    return action


def _clear_urgent_if_done(product_id: int) -> None:
    from shop.services.products import set_urgent_sale

    db.session.flush()
    other = db.session.execute(sa.select(Warning.id).where(
        Warning.product_id == product_id, Warning.status.in_(SHOWN_STATUSES))).first()
    if other is None:
        set_urgent_sale([product_id], False, reason="early warning resolved by hand")


def board_rows(user, *, level: str | None = None, county_id: int | None = None, category_id: int | None = None,
               limit: int = 200) -> list[dict]:
    """Open warnings the user may see, worst first, with the trend since the previous run and households behind.

    Four queries whatever the number of rows: the warnings, their last two observations, the households.
    """
    county = sa.orm.aliased(Region)
    stmt = (
        sa.select(Warning, Product.name, Product.supplier_id, Product.category_id, county.name)
        .join(Product, Product.id == Warning.product_id).join(county, county.id == Product.origin_county_id)
        .where(visible_clause(user), Warning.status.in_(SHOWN_STATUSES))
    )
    if level:
        stmt = stmt.where(Warning.level == level)
    if county_id:
        stmt = stmt.where(Product.origin_county_id == county_id)
    if category_id:
        stmt = stmt.where(Product.category_id == category_id)
    severity = sa.case({"red": 4, "orange": 3, "yellow": 2, "blue": 1}, value=Warning.level)
    rows = db.session.execute(stmt.order_by(severity.desc(), Warning.amount_at_risk_fen.desc(), Warning.id)
                              .limit(limit)).all()
    ids = [r[0].id for r in rows]
    trend = previous_amounts(ids)
    households = households_behind({r[2] for r in rows})
    return [{"warning": w, "product_name": name, "county_name": county_name,
             "previous_amount_fen": trend.get(w.id), "households": households.get(supplier_id, 0),
             "category_id": category_id}
            for w, name, supplier_id, category_id, county_name in rows]


def previous_amounts(warning_ids: list[int]) -> dict[int, int]:
    """warning id → amount at risk on the run before its latest one (absent on a first run)."""
    if not warning_ids:
        return {}
    ranked = sa.select(
        WarningObservation.warning_id, WarningObservation.amount_at_risk_fen,
        sa.func.row_number().over(partition_by=WarningObservation.warning_id,
                                  order_by=WarningObservation.run_id.desc()).label("rn"),
    ).where(WarningObservation.warning_id.in_(warning_ids)).subquery()
    return dict(db.session.execute(sa.select(ranked.c.warning_id, ranked.c.amount_at_risk_fen)
                                   .where(ranked.c.rn == 2)).all())


def households_behind(supplier_ids: set[int]) -> dict[int, int]:
    """supplier id → number of households with a live (active) link: the households the warning endangers."""
    if not supplier_ids:
        return {}
    return dict(db.session.execute(
        sa.select(HouseholdLink.supplier_id, sa.func.count(sa.distinct(HouseholdLink.household_id)))
        .where(HouseholdLink.supplier_id.in_(sorted(supplier_ids)), HouseholdLink.status == LinkStatus.ACTIVE)
        .group_by(HouseholdLink.supplier_id)).all())


def assignable_users(warning: Warning) -> list[User]:
    """The people a warning may be assigned to: its supplier's members and the administrators of its region."""
    product = db.session.get(Product, warning.product_id)
    path = db.session.get(Region, product.origin_county_id).path
    members = sa.select(SupplierMember.user_id).where(SupplierMember.supplier_id == product.supplier_id)
    admin_regions = sa.select(Region.id).where(sa.literal(path).startswith(Region.path))
    return list(db.session.execute(sa.select(User).where(User.active.is_(True), sa.or_(
        User.id.in_(members), User.role == Role.PLATFORM_ADMIN,
        sa.and_(User.role == Role.REGIONAL_ADMIN, User.region_id.in_(admin_regions)),
    )).order_by(User.display_name).limit(200)).scalars())


# --- notifications ----------------------------------------------------------------------------


def unread_count(user_id: int) -> int:
    return db.session.execute(sa.select(sa.func.count()).select_from(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None))).scalar_one()


def notifications_for(user_id: int, limit: int = 100) -> list[Notification]:
    return list(db.session.execute(sa.select(Notification).where(Notification.user_id == user_id)
                                   .order_by(Notification.id.desc()).limit(limit)).scalars())


def mark_all_read(user_id: int) -> int:
    return db.session.execute(sa.update(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)).values(read_at=utcnow())).rowcount
