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


ADMIN_LINKS = [units_waiting, plans_missing, guiding_plans]
ACCOUNT_SECTIONS = [employer_section]
