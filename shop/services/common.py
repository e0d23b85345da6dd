"""Who acts on which supplier: membership and administrators' regional scope."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from core.errors import Forbidden, NotFound
from core.extensions import db
from core.permissions import Permission, role_allows
from core.registry.models import Region
from core.registry.services import user_may_see_region
from shop.models import Supplier, SupplierMember, SupplierStatus


def membership_of(user) -> SupplierMember | None:
    """The supplier membership of ``user`` (a user belongs to at most one supplier)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return db.session.execute(
        sa.select(SupplierMember).where(SupplierMember.user_id == user.id)
        .options(joinedload(SupplierMember.supplier).joinedload(Supplier.county))
    ).scalar_one_or_none()


def supplier_of(user) -> Supplier:
    """The supplier ``user`` works for, or NotFound when they have none."""
    member = membership_of(user)
    if member is None:
        raise NotFound(_("Your account does not belong to a supplier."))
    return member.supplier


def is_member(user, supplier_id: int) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return db.session.execute(
        sa.select(SupplierMember.user_id).where(SupplierMember.user_id == user.id,
                                                SupplierMember.supplier_id == supplier_id)
    ).first() is not None


def ensure_member(user, supplier_id: int, *, not_found_message: str | None = None) -> None:
    """Refuse anyone outside the supplier as if the row did not exist (no probing of ids)."""
    if not is_member(user, supplier_id):
        raise NotFound(not_found_message or _("No such record."))


def ensure_owner(user, supplier: Supplier) -> None:
    member = db.session.get(SupplierMember, user.id)
    if member is None or member.supplier_id != supplier.id:
        raise NotFound(_("No such supplier."))
    if not member.is_owner:
        raise Forbidden(_("Only the supplier's owner can do this."))


def ensure_may_sell(supplier: Supplier) -> None:
    """Only accredited suppliers create, edit and list products."""
    if supplier.status != SupplierStatus.APPROVED:
        raise Forbidden(_("Only accredited suppliers can list products. Your supplier is not accredited "
                          "at the moment."))


def ensure_admin_scope(user, region: Region) -> None:
    """An administrator acts only inside their region's subtree (platform administrators everywhere)."""
    if not role_allows(getattr(user, "role", None), Permission.ACCREDIT) or not user_may_see_region(user, region):
        raise Forbidden(_("This record is outside your region."))


def may_administer(user, region: Region) -> bool:
    return role_allows(getattr(user, "role", None), Permission.ACCREDIT) and user_may_see_region(user, region)


SHOP_TIMEZONE = ZoneInfo("Asia/Shanghai")


def local_today() -> date:
    """Today's calendar date where the platform's people live (dates are shown and chosen in Asia/Shanghai)."""
    return datetime.now(SHOP_TIMEZONE).date()
