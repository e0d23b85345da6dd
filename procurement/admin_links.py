"""Cards on the administrators' start page and on a person's account page (one count query each)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user

from core.extensions import db
from core.permissions import Permission, can
from core.registry.services import region_scope
from procurement.models import BuyerUnit, UnitStatus
from procurement.services.common import local_year
from procurement.services.employees import employer_of
from procurement.services.plans import plan_totals


def units_waiting() -> dict | None:
    if not can(Permission.ACCREDIT):
        return None
    n = db.session.execute(
        sa.select(sa.func.count(BuyerUnit.id)).where(BuyerUnit.status == UnitStatus.PENDING,
                                                     region_scope(current_user, BuyerUnit.region_id))
    ).scalar_one()
    return {"title": _("Buyer units"), "text": _("%(n)d unit registrations wait for approval.", n=n),
            "url": url_for("procurement.admin_units", status=UnitStatus.PENDING.value),
            "action": _("Approve units")}


def plans_missing() -> dict | None:
    if not can(Permission.PLANS_MANAGE):
        return None
    year = local_year()
    totals = plan_totals(region_scope(current_user, BuyerUnit.region_id), year)
    return {"title": _("Unit plans %(year)d", year=year),
            "text": _("%(n)d of %(total)d active units have no plan for the year.", n=totals.without_plan,
                      total=totals.units),
            "url": url_for("procurement.admin_plans", year=year, status="missing"),
            "action": _("See the units without a plan")}


def guiding_plans() -> dict | None:
    if not can(Permission.PLANS_MANAGE):
        return None
    return {"title": _("Guiding plans"), "text": _("Set each region's guiding plan for the year."),
            "url": url_for("procurement.admin_guiding_plans"), "action": _("Set guiding plans")}


def employer_section() -> dict | None:
    """On the account page: the unit the person works for (职工个人)."""
    if not can(Permission.SHOP_BUY):
        return None
    link = employer_of(current_user)
    text = (_("You work for %(name)s: your purchases count as its employees' purchases.", name=link.unit.name)
            if link else _("Name the unit you work for, so that your purchases count for it."))
    return {"title": _("My employer"), "text": text, "url": url_for("procurement.employer"),
            "action": _("Change") if link else _("Name my employer")}


def plan_completion() -> dict | None:
    if not can(Permission.PLANS_MANAGE):
        return None
    return {"title": _("Plan completion"),
            "text": _("Completion by region, kind of unit, unit and county of origin, and the units behind time."),
            "url": url_for("procurement.admin_completion"), "action": _("See plan completion")}


def procurement_orders_in_region() -> dict | None:
    """Administrators: the procurement orders of their region's units still under way."""
    if not can(Permission.ACCREDIT):
        return None
    from procurement.models_orders import ProcurementOrder, ProcurementStatus

    n = db.session.execute(
        sa.select(sa.func.count(ProcurementOrder.id)).join(BuyerUnit, BuyerUnit.id == ProcurementOrder.unit_id)
        .where(ProcurementOrder.status.in_([ProcurementStatus.PENDING_APPROVAL, ProcurementStatus.APPROVED]),
               region_scope(current_user, BuyerUnit.region_id))
    ).scalar_one()
    return {"title": _("Procurement orders"), "text": _("%(n)d procurement orders are under way.", n=n),
            "url": url_for("procurement.order_list"), "action": _("See procurement orders")}


def supplier_procurement_section() -> dict | None:
    """On a supplier member's account page: the buyer units' orders waiting for their confirmation."""
    if not can(Permission.SUPPLIER_WORKSPACE):
        return None
    from procurement.models_orders import PartStatus, ProcurementPart
    from shop.models import SupplierMember

    n = db.session.execute(
        sa.select(sa.func.count(ProcurementPart.id))
        .join(SupplierMember, SupplierMember.supplier_id == ProcurementPart.supplier_id)
        .where(SupplierMember.user_id == current_user.id,
               ProcurementPart.status == PartStatus.AWAITING_CONFIRMATION)
    ).scalar_one()
    return {"title": _("Orders from buyer units"),
            "text": _("%(n)d procurement orders wait for your confirmation.", n=n),
            "url": url_for("procurement.supplier_parts"), "action": _("See the orders")}


def integrity_checks() -> dict | None:
    """Administrators: the integrity checks (split orders, unit changes, price raises, year-end jumps)."""
    if not can(Permission.ACCREDIT):
        return None
    return {"title": _("Integrity checks"),
            "text": _("Orders split under the approval threshold, units changed after shipment, prices raised "
                      "before large orders and completion jumping at the year's end."),
            "url": url_for("procurement.admin_integrity"), "action": _("See the flags")}


ADMIN_LINKS = [units_waiting, plans_missing, guiding_plans, plan_completion, procurement_orders_in_region,
               integrity_checks]
ACCOUNT_SECTIONS = [supplier_procurement_section, employer_section]
