"""Reading procurement orders: who sees which order, lists and queues, and what a page may offer whom.

Administrators see their region's units' orders; unit members their unit's (a unit
administrator also the units below); suppliers the orders they have a part in.
Anything else is "not found", so outsiders learn nothing about which orders exist.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload, selectinload

from core.errors import NotFound
from core.extensions import db
from procurement.models import BuyerUnit, UnitRole
from procurement.models_orders import (
    PartStatus,
    ProcurementOrder,
    ProcurementPart,
    ProcurementStatus,
)
from procurement.services import common
from shop.models import SubOrder
from shop.services import common as shop_common


def visible_clause(user) -> sa.ColumnElement[bool]:
    """WHERE clause on ProcurementOrder: administrators by the unit's region, unit members by their unit
    (a unit administrator also the units below), suppliers the orders they have a part in."""
    units = sa.select(BuyerUnit.id).where(common.visible_units_clause(user))
    clauses = [ProcurementOrder.unit_id.in_(units)]
    supplier_member = shop_common.membership_of(user)
    if supplier_member is not None:
        clauses.append(ProcurementOrder.id.in_(
            sa.select(ProcurementPart.procurement_order_id).where(
                ProcurementPart.supplier_id == supplier_member.supplier_id)))
    return sa.or_(*clauses)


def with_parts() -> tuple:
    """Loader options for showing whole orders: a fixed handful of queries for any number of orders."""
    return (
        joinedload(ProcurementOrder.order), joinedload(ProcurementOrder.unit), joinedload(ProcurementOrder.address),
        selectinload(ProcurementOrder.parts).options(
            selectinload(ProcurementPart.lines), joinedload(ProcurementPart.supplier),
            joinedload(ProcurementPart.payment),
            joinedload(ProcurementPart.sub_order).selectinload(SubOrder.lines),
        ),
    )


def get_order(user, order_id: int) -> ProcurementOrder:
    order = db.session.execute(
        sa.select(ProcurementOrder).where(ProcurementOrder.id == order_id, visible_clause(user))
        .options(*with_parts())
    ).unique().scalar_one_or_none()
    if order is None:
        # Outsiders learn nothing about which orders exist.
        raise NotFound(_("No such procurement order."))
    return order


def get_part(user, order_id: int, part_id: int) -> ProcurementPart:
    order = get_order(user, order_id)
    for part in order.parts:
        if part.id == part_id:
            return part
    raise NotFound(_("No such procurement order."))


def list_orders(user, *, status: ProcurementStatus | None = None, unit_id: int | None = None) -> sa.Select:
    stmt = sa.select(ProcurementOrder).where(visible_clause(user)).order_by(ProcurementOrder.submitted_at.desc(),
                                                                            ProcurementOrder.id.desc())
    if status is not None:
        stmt = stmt.where(ProcurementOrder.status == status)
    if unit_id is not None:
        stmt = stmt.where(ProcurementOrder.unit_id == unit_id)
    return stmt

def may(user, order: ProcurementOrder, what: str, part: ProcurementPart | None = None) -> bool:
    """For pages: whether ``user`` holds the role an action needs (the state is checked by the action)."""
    member = common.membership_of(user)
    own = member is not None and member.unit_id == order.unit_id
    if what == "approve":
        return own and member.role in (UnitRole.APPROVER, UnitRole.ADMIN) and user.id != order.submitted_by_id
    if what == "unit":
        return own and member.role in (UnitRole.BUYER, UnitRole.ADMIN)
    if what == "supplier":
        return part is not None and shop_common.is_member(user, part.supplier_id)
    if what == "change_unit":
        return (own and member.role == UnitRole.ADMIN) or common.is_admin(user)
    return False

def waiting_for_approval(user) -> sa.Select:
    """The approver's queue: the unit's orders waiting for a decision, oldest first."""
    member = common.membership_of(user)
    if member is None or member.role not in (UnitRole.APPROVER, UnitRole.ADMIN):
        return sa.select(ProcurementOrder).where(sa.false())
    return (sa.select(ProcurementOrder)
            .where(ProcurementOrder.unit_id == member.unit_id,
                   ProcurementOrder.status == ProcurementStatus.PENDING_APPROVAL)
            .order_by(ProcurementOrder.submitted_at, ProcurementOrder.id))

def supplier_parts(user, status: PartStatus | None = None) -> sa.Select:
    supplier = shop_common.supplier_of(user)
    stmt = (sa.select(ProcurementPart).where(ProcurementPart.supplier_id == supplier.id,
                                             ProcurementPart.status != PartStatus.AWAITING_APPROVAL)
            .order_by(ProcurementPart.id.desc()))
    if status is not None:
        stmt = stmt.where(ProcurementPart.status == status)
    return stmt
