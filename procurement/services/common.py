"""Who sees and acts on which unit, and small checks every procurement service shares.

Three kinds of people reach a unit:

- administrators (平台管理员 everywhere, 区域管理员 inside their region's subtree) by the unit's region;
- the unit's members, whose unit role (管理员, 采购员, 审批人) says what they may do there;
- the administrators (unit role ADMIN) of an ancestor unit, who see (not change) their sub-units.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import aliased, joinedload

from core.errors import Forbidden, NotFound, ValidationFailed
from core.extensions import db
from core.permissions import Permission, Role, role_allows
from core.registry.services import region_scope, user_may_see_region
from procurement.errors import UnitNotActive
from procurement.models import BuyerUnit, UnitMember, UnitRole, UnitStatus

LOCAL_TIMEZONE = ZoneInfo("Asia/Shanghai")
# Plans start with the 2019 rules on consumption assistance (国办发〔2018〕129号).
FIRST_PLAN_YEAR = 2019
# No canteen budget or plan figure is anywhere near 1,000亿元; larger input is a typing mistake.
MAX_AMOUNT_FEN = 100_000_000_000 * 100

# The platform role a unit member holds for each unit role. A unit administrator
# approves too: the unit's management account is the one that signs off orders.
PLATFORM_ROLE = {
    UnitRole.ADMIN: Role.UNIT_APPROVER,
    UnitRole.BUYER: Role.UNIT_BUYER,
    UnitRole.APPROVER: Role.UNIT_APPROVER,
}


def local_year() -> int:
    return datetime.now(LOCAL_TIMEZONE).year


def plan_years() -> range:
    """The years a plan may be declared for: from the first rules to next year."""
    return range(FIRST_PLAN_YEAR, local_year() + 2)


def check_year(year: int | str | None, *, field: str = "year") -> int:
    try:
        value = int(year)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(_("Give the year as four digits."), field=field) from exc
    years = plan_years()
    if value not in years:
        raise ValidationFailed(
            _("Plans exist for the years %(first)d to %(last)d.", first=years.start, last=years.stop - 1),
            field=field,
        )
    return value


def clean_text(value: str | None, *, field: str, max_length: int, required: bool = True,
               min_length: int = 1) -> str:
    text = re.sub(r"\s+", " ", (value or "").strip())
    if not text and not required:
        return ""
    if len(text) < min_length or len(text) > max_length:
        raise ValidationFailed(_("Please fill this in (up to %(n)d characters).", n=max_length), field=field)
    return text


def clean_reason(reason: str | None, *, required: bool, message: str | None = None) -> str | None:
    text = (reason or "").strip()
    if not text:
        if required:
            raise ValidationFailed(message or _("Give the reason; it is kept in the audit log."), field="reason")
        return None
    if len(text) > 500:
        raise ValidationFailed(_("Keep the reason under 500 characters."), field="reason")
    return text


def parse_amount(text: str | int | None, *, field: str, required: bool = True) -> int | None:
    """An amount of yuan as people write it — "1,234.5", "¥800", "500万", "32.6亿元" — in integer fen."""
    raw = str(text if text is not None else "").strip().replace(",", "").replace("，", "")
    raw = raw.removeprefix("¥").removeprefix("￥").removesuffix("元").strip()
    if not raw:
        if required:
            raise ValidationFailed(_("Enter an amount in yuan."), field=field)
        return None
    factor = Decimal(1)
    if raw.endswith("亿"):
        factor, raw = Decimal(100_000_000), raw[:-1]
    elif raw.endswith("万"):
        factor, raw = Decimal(10_000), raw[:-1]
    try:
        value = Decimal(raw.strip()) * factor * 100
    except InvalidOperation as exc:
        raise ValidationFailed(_("“%(text)s” is not an amount of money.", text=text), field=field) from exc
    if not value.is_finite() or value != value.to_integral_value():
        raise ValidationFailed(_("Amounts are in yuan with at most two decimals (fen)."), field=field)
    if value < 0:
        raise ValidationFailed(_("An amount cannot be negative."), field=field)
    if value > MAX_AMOUNT_FEN:
        raise ValidationFailed(_("This amount is far too large; please check it."), field=field)
    return int(value)


def parse_percent(text: str | None, *, field: str) -> int:
    """"10", "12.5" or "12.5%" → basis points (1250). Never a float."""
    raw = (text or "").strip().removesuffix("%").removesuffix("％").strip()
    try:
        value = Decimal(raw) * 100
    except InvalidOperation as exc:
        raise ValidationFailed(_("Give the share as a percentage, for example 10 or 12.5."), field=field) from exc
    if not value.is_finite() or value != value.to_integral_value():
        raise ValidationFailed(_("A share has at most two decimals, for example 12.25%."), field=field)
    return int(value)


def share_from_bp(bp: int | None) -> str:
    """Basis points → "12.5%" for the screen."""
    if bp is None:
        return "—"
    return f"{(Decimal(bp) / 100).normalize():f}%"


def amount_for_share(budget_fen: int, share_bp: int) -> int:
    """Budget × share, rounded half up to a fen (the same rule as the table's CHECK constraint)."""
    return int((Decimal(budget_fen) * share_bp / 10000).quantize(Decimal(1), ROUND_HALF_UP))


# --- units and who reaches them ------------------------------------------------------------


def get_unit(unit_id: int) -> BuyerUnit:
    unit = db.session.execute(
        sa.select(BuyerUnit).where(BuyerUnit.id == unit_id).options(joinedload(BuyerUnit.region))
    ).scalar_one_or_none()
    if unit is None:
        raise NotFound(_("No such unit."))
    return unit


def membership_of(user) -> UnitMember | None:
    """The unit membership of ``user`` (a user belongs to at most one unit)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return db.session.execute(
        sa.select(UnitMember).where(UnitMember.user_id == user.id)
        .options(joinedload(UnitMember.unit).joinedload(BuyerUnit.region))
    ).scalar_one_or_none()


def unit_of(user) -> UnitMember:
    """The membership of the signed-in unit member, or NotFound when they have none."""
    member = membership_of(user)
    if member is None:
        raise NotFound(_("Your account does not belong to a buyer unit."))
    return member


def descendant_ids(unit_id: int) -> sa.Select:
    """SELECT of the ids of every unit below ``unit_id`` (one recursive query; UNION stops on any cycle)."""
    tree = sa.select(BuyerUnit.id).where(BuyerUnit.parent_id == unit_id).cte("unit_tree", recursive=True)
    below = aliased(BuyerUnit)
    tree = tree.union(sa.select(below.id).where(below.parent_id == tree.c.id))
    return sa.select(tree.c.id)


def is_below(unit_id: int, ancestor_id: int) -> bool:
    tree = descendant_ids(ancestor_id).subquery()
    return db.session.execute(sa.select(tree.c.id).where(tree.c.id == unit_id)).first() is not None


def is_admin(user) -> bool:
    return getattr(user, "role", None) in (Role.PLATFORM_ADMIN, Role.REGIONAL_ADMIN)


def admin_may_reach(user, unit: BuyerUnit, permission: Permission = Permission.ACCREDIT) -> bool:
    return role_allows(getattr(user, "role", None), permission) and user_may_see_region(user, unit.region)


def ensure_admin_scope(user, unit: BuyerUnit, permission: Permission = Permission.ACCREDIT) -> None:
    """An administrator acts only on units inside their region's subtree."""
    if not admin_may_reach(user, unit, permission):
        raise Forbidden(_("This unit is outside your region."))


def visible_units_clause(user) -> sa.ColumnElement[bool]:
    """A WHERE clause on BuyerUnit: the units ``user`` may see.

    Administrators: by region. Unit members: their own unit, and the unit
    administrator also every unit below it. Anyone else: nothing.
    """
    if is_admin(user):
        return region_scope(user, BuyerUnit.region_id)
    member = membership_of(user)
    if member is None:
        return sa.false()
    if member.role == UnitRole.ADMIN:
        return sa.or_(BuyerUnit.id == member.unit_id, BuyerUnit.id.in_(descendant_ids(member.unit_id)))
    return BuyerUnit.id == member.unit_id


def ensure_may_view(user, unit: BuyerUnit) -> None:
    if is_admin(user):
        ensure_admin_scope(user, unit)
        return
    visible = db.session.execute(
        sa.select(BuyerUnit.id).where(BuyerUnit.id == unit.id, visible_units_clause(user))
    ).first()
    if visible is None:
        # Outsiders learn nothing about which ids exist.
        raise NotFound(_("No such unit."))


def ensure_may_manage(user, unit: BuyerUnit) -> None:
    """The unit's own administrator, or an administrator of its region, changes the unit."""
    if is_admin(user):
        ensure_admin_scope(user, unit)
        return
    member = membership_of(user)
    if member is None or member.unit_id != unit.id:
        raise NotFound(_("No such unit."))
    if member.role != UnitRole.ADMIN:
        raise Forbidden(_("Only the unit's administrator can do this."))


def ensure_unit_admin(user, unit: BuyerUnit) -> UnitMember:
    """Only a member with the unit role ADMIN (not a platform administrator) declares the unit's plan."""
    member = membership_of(user)
    if (member is not None and member.unit_id != unit.id and member.role == UnitRole.ADMIN
            and is_below(unit.id, member.unit_id)):
        raise Forbidden(_("A sub-unit declares its own plan; you see it but do not change it."))
    if member is None or member.unit_id != unit.id:
        raise NotFound(_("No such unit."))
    if member.role != UnitRole.ADMIN:
        raise Forbidden(_("Only the unit's administrator can do this."))
    return member


def ensure_active(unit: BuyerUnit) -> None:
    if unit.status != UnitStatus.ACTIVE:
        raise UnitNotActive(_("The unit is not active (it is awaiting approval, rejected or suspended)."))
