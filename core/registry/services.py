"""Registry rules: building the region tree, the household registry, and regional scope."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from core import audit
from core.errors import NotFound, ValidationFailed
from core.extensions import db
from core.permissions import Role
from core.personal_data import hash_id_number, mask_id_number, normalise_id_number, normalise_phone
from core.registry.models import Household, HouseholdKind, Region, RegionLevel

CHILD_LEVEL = {
    RegionLevel.PROVINCE: RegionLevel.CITY,
    RegionLevel.CITY: RegionLevel.COUNTY,
    RegionLevel.COUNTY: RegionLevel.TOWNSHIP,
    RegionLevel.TOWNSHIP: RegionLevel.VILLAGE,
}


def create_region(
    *, code: str, name: str, level: RegionLevel, parent: Region | None,
    poverty_lifted: bool = False, key_assistance: bool = False,
) -> Region:
    code = (code or "").strip()
    name = (name or "").strip()
    if not code.isdigit() or len(code) not in (6, 9, 12):
        raise ValidationFailed(_("A region code has 6, 9 or 12 digits."), field="code")
    if not name:
        raise ValidationFailed(_("A region needs a name."), field="name")
    if level == RegionLevel.PROVINCE:
        if parent is not None:
            raise ValidationFailed(_("A province has no parent region."), field="parent")
    elif parent is None or CHILD_LEVEL.get(parent.level) != level:
        raise ValidationFailed(
            _("A %(level)s must sit directly under a %(parent)s.", level=level.value,
              parent=next(k for k, v in CHILD_LEVEL.items() if v == level).value),
            field="parent",
        )
    if (poverty_lifted or key_assistance) and level != RegionLevel.COUNTY:
        raise ValidationFailed(_("Only a county can be a poverty-lifted or key assistance county."))
    region = Region(
        code=code, name=name, level=level, parent=parent,
        is_poverty_lifted_county=poverty_lifted, is_key_assistance_county=key_assistance,
    )
    db.session.add(region)
    db.session.flush()
    region.path = f"{parent.path if parent else '/'}{region.id}/"
    return region


def get_region(region_id: int) -> Region:
    region = db.session.get(Region, region_id)
    if region is None:
        raise NotFound(_("No such region."))
    return region


def subtree_ids(region: Region) -> sa.Select:
    """SELECT of the ids of ``region`` and everything under it (one indexed prefix match)."""
    return sa.select(Region.id).where(Region.path.startswith(region.path, autoescape=True))


def region_scope(user, region_id_column) -> sa.ColumnElement[bool]:
    """A WHERE clause limiting rows to what ``user`` may see by region.

    Platform administrators see everything; a regional administrator sees their
    region's subtree; anyone else sees nothing through this clause.
    """
    if user.role == Role.PLATFORM_ADMIN:
        return sa.true()
    if user.role == Role.REGIONAL_ADMIN and user.region is not None:
        return region_id_column.in_(subtree_ids(user.region))
    return sa.false()


def user_may_see_region(user, region: Region) -> bool:
    if user.role == Role.PLATFORM_ADMIN:
        return True
    return user.role == Role.REGIONAL_ADMIN and user.region is not None and region.path.startswith(user.region.path)


def ancestors(region: Region) -> list[Region]:
    """The chain from the province down to ``region`` (one query)."""
    ids = [int(part) for part in region.path.strip("/").split("/") if part]
    rows = db.session.execute(sa.select(Region).where(Region.id.in_(ids))).scalars().all()
    by_id = {r.id: r for r in rows}
    return [by_id[i] for i in ids if i in by_id]


def children_counts(parent_ids: list[int]) -> dict[int, int]:
    rows = db.session.execute(
        sa.select(Region.parent_id, sa.func.count()).where(Region.parent_id.in_(parent_ids)).group_by(Region.parent_id)
    )
    return dict(rows.all())


def pepper() -> str:
    return current_app.config["ID_NUMBER_PEPPER"]


def prepare_household_identity(id_number: str) -> tuple[str, str]:
    value = normalise_id_number(id_number)
    return hash_id_number(value, pepper()), mask_id_number(value)


def register_household(
    *, village: Region, kind: HouseholdKind, head_name: str, member_count: int, id_number: str,
    phone: str | None = None,
) -> Household:
    if village.level != RegionLevel.VILLAGE:
        raise ValidationFailed(_("A household belongs to a village."), field="village")
    head_name = (head_name or "").strip()
    if not head_name or len(head_name) > 40:
        raise ValidationFailed(_("The head of household needs a name of up to 40 characters."), field="head_name")
    if not 1 <= member_count <= 30:
        raise ValidationFailed(_("A household has between 1 and 30 members."), field="member_count")
    digest, masked = prepare_household_identity(id_number)
    exists = db.session.execute(sa.select(Household.id).where(Household.id_number_hash == digest)).first()
    if exists:
        raise ValidationFailed(_("A household with this ID number is already registered."), field="id_number")
    household = Household(
        village=village, kind=kind, head_name=head_name, member_count=member_count,
        id_number_hash=digest, id_number_masked=masked, phone=normalise_phone(phone) if phone else None,
    )
    db.session.add(household)
    db.session.flush()
    audit.record("household.registered", "household", household.id,
                 after={"village_id": village.id, "kind": kind.value, "id_number": masked})
    return household
