"""A unit's people and places: members with their unit roles, and delivery addresses (canteens).

Unit roles and platform roles: the platform role (core.permissions) says what a
person may open at all; the unit role says what they do inside their unit.

| unit role          | platform role   | inside the unit                                            |
|--------------------|-----------------|------------------------------------------------------------|
| ADMIN 单位管理员    | UNIT_APPROVER   | declares the plan, keeps members, addresses, promotion code; |
|                    |                 | sees its sub-units; approves orders                         |
| BUYER 采购员        | UNIT_BUYER      | places orders                                               |
| APPROVER 审批人     | UNIT_APPROVER   | approves orders above the unit's threshold                  |

A member leaves with the platform role CONSUMER again.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from core import audit
from core.accounts.models import User
from core.errors import Conflict, DomainError, NotFound, ValidationFailed
from core.extensions import db
from core.permissions import Role
from core.personal_data import mask_phone, normalise_phone
from core.registry.models import Region, RegionLevel
from procurement.models import BuyerUnit, UnitAddress, UnitMember, UnitRole, UnitStatus
from procurement.services.common import PLATFORM_ROLE, clean_text, ensure_active, ensure_may_manage

ADDRESS_REGION_LEVELS = (RegionLevel.COUNTY, RegionLevel.TOWNSHIP, RegionLevel.VILLAGE)


def _unit_role(value) -> UnitRole:
    try:
        return UnitRole(value)
    except ValueError as exc:
        raise ValidationFailed(_("Choose the person's role in the unit."), field="role") from exc


def members_of(unit: BuyerUnit) -> list[UnitMember]:
    return list(db.session.execute(
        sa.select(UnitMember).where(UnitMember.unit_id == unit.id)
        .options(joinedload(UnitMember.user)).order_by(UnitMember.joined_at, UnitMember.user_id)
    ).scalars())


def _admin_count(unit: BuyerUnit) -> int:
    return db.session.execute(
        sa.select(sa.func.count()).select_from(UnitMember)
        .where(UnitMember.unit_id == unit.id, UnitMember.role == UnitRole.ADMIN)
    ).scalar_one()


def _member(unit: BuyerUnit, user_id: int) -> UnitMember:
    member = db.session.get(UnitMember, user_id)
    if member is None or member.unit_id != unit.id:
        raise NotFound(_("This person is not a member of the unit."))
    return member


def add_member(actor, unit: BuyerUnit, *, email: str, role: UnitRole | str) -> UnitMember:
    """Add a person who already has a personal account, found by e-mail, to the unit."""
    ensure_may_manage(actor, unit)
    ensure_active(unit)
    unit_role = _unit_role(role)
    address = (email or "").strip().lower()
    user = db.session.execute(sa.select(User).where(sa.func.lower(User.email) == address)).scalar_one_or_none() \
        if address else None
    if user is None:
        raise ValidationFailed(_("No account uses this e-mail address. Ask the person to register first."),
                               field="email")
    if db.session.get(UnitMember, user.id) is not None:
        raise Conflict(_("This person already belongs to a unit."), field="email")
    if user.role != Role.CONSUMER:
        raise Conflict(_("Only a personal account can join a unit (not a supplier's or an administrator's)."),
                       field="email")
    member = UnitMember(user_id=user.id, unit_id=unit.id, role=unit_role)
    db.session.add(member)
    user.role = PLATFORM_ROLE[unit_role]
    db.session.flush()
    audit.record("unit.member_added", "buyer_unit", unit.id, actor_id=actor.id,
                 after={"user_id": user.id, "role": unit_role.value})
    return member


def _keep_an_admin(unit: BuyerUnit, member: UnitMember) -> None:
    # A rejected registration may lose its last administrator: that is how its registrant leaves it.
    if unit.status == UnitStatus.REJECTED:
        return
    if member.role == UnitRole.ADMIN and _admin_count(unit) <= 1:
        raise Conflict(_("A unit keeps at least one administrator: make someone else administrator first."),
                       field="role")


def change_member_role(actor, unit: BuyerUnit, user_id: int, role: UnitRole | str) -> UnitMember:
    member = _member(unit, user_id)
    ensure_may_manage(actor, unit)
    ensure_active(unit)
    unit_role = _unit_role(role)
    if member.role == unit_role:
        return member
    if unit_role != UnitRole.ADMIN:
        _keep_an_admin(unit, member)
    before = {"user_id": member.user_id, "role": member.role.value}
    member.role = unit_role
    member.user.role = PLATFORM_ROLE[unit_role]
    db.session.flush()
    audit.record("unit.member_role_changed", "buyer_unit", unit.id, actor_id=actor.id, before=before,
                 after={"user_id": member.user_id, "role": unit_role.value})
    return member


def remove_member(actor, unit: BuyerUnit, user_id: int) -> None:
    member = _member(unit, user_id)
    ensure_may_manage(actor, unit)
    _drop(actor, unit, member, "unit.member_removed")


def leave_unit(user) -> BuyerUnit:
    """A member leaves their unit (the last administrator of a live unit cannot)."""
    member = db.session.get(UnitMember, user.id)
    if member is None:
        raise NotFound(_("Your account does not belong to a buyer unit."))
    unit = member.unit
    _drop(user, unit, member, "unit.member_left")
    return unit


def _drop(actor, unit: BuyerUnit, member: UnitMember, action: str) -> None:
    _keep_an_admin(unit, member)
    before = {"user_id": member.user_id, "role": member.role.value}
    member.user.role = Role.CONSUMER
    db.session.delete(member)
    db.session.flush()
    audit.record(action, "buyer_unit", unit.id, actor_id=actor.id, before=before)


# --- delivery addresses -----------------------------------------------------------------------


def addresses_of(unit: BuyerUnit, *, include_retired: bool = False) -> list[UnitAddress]:
    stmt = (sa.select(UnitAddress).where(UnitAddress.unit_id == unit.id)
            .options(joinedload(UnitAddress.region)).order_by(UnitAddress.active.desc(), UnitAddress.name))
    if not include_retired:
        stmt = stmt.where(UnitAddress.active.is_(True))
    return list(db.session.execute(stmt).scalars())


def add_address(actor, unit: BuyerUnit, *, name: str, recipient: str, phone: str, address: str,
                region_id: int) -> UnitAddress:
    ensure_may_manage(actor, unit)
    ensure_active(unit)
    name = clean_text(name, field="name", max_length=80)
    recipient = clean_text(recipient, field="recipient", max_length=40)
    try:
        phone = normalise_phone(phone)
    except DomainError as exc:
        raise ValidationFailed(_("Enter an 11-digit mobile number."), field="phone") from exc
    detail = clean_text(address, field="address", max_length=255, min_length=4)
    region = db.session.get(Region, region_id) if region_id else None
    if region is None or region.level not in ADDRESS_REGION_LEVELS:
        raise ValidationFailed(_("Choose the county (or township) of the address."), field="region_id")
    clash = db.session.execute(sa.select(UnitAddress.id).where(
        UnitAddress.unit_id == unit.id, UnitAddress.name == name, UnitAddress.active.is_(True))).first()
    if clash:
        raise Conflict(_("The unit already has an address of this name."), field="name")
    row = UnitAddress(unit_id=unit.id, name=name, recipient=recipient, phone=phone, address=detail,
                      region_id=region.id)
    db.session.add(row)
    db.session.flush()
    # The audit log keeps the masked phone only.
    audit.record("unit.address_added", "buyer_unit", unit.id, actor_id=actor.id, after={
        "address_id": row.id, "name": name, "recipient": recipient, "phone": mask_phone(phone),
        "region_id": region.id})
    return row


def retire_address(actor, unit: BuyerUnit, address_id: int) -> UnitAddress:
    """Addresses are retired, not deleted: orders delivered there keep pointing at them."""
    row = db.session.get(UnitAddress, address_id)
    if row is None or row.unit_id != unit.id or not row.active:
        raise NotFound(_("No such address."))
    ensure_may_manage(actor, unit)
    row.active = False
    db.session.flush()
    audit.record("unit.address_retired", "buyer_unit", unit.id, actor_id=actor.id,
                 before={"address_id": row.id, "active": True}, after={"address_id": row.id, "active": False})
    return row
