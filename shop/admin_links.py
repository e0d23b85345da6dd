"""Cards on the administrators' start page: what waits for them in their region (one count query each)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user

from core.extensions import db
from core.permissions import Permission, can
from core.registry.models import Household
from core.registry.services import region_scope
from shop.models import HouseholdLink, LinkStatus, Product, ProductStatus, Supplier, SupplierStatus


def suppliers_waiting() -> dict | None:
    if not can(Permission.ACCREDIT):
        return None
    n = db.session.execute(
        sa.select(sa.func.count(Supplier.id)).where(Supplier.status == SupplierStatus.PENDING,
                                                    region_scope(current_user, Supplier.county_id))
    ).scalar_one()
    return {"title": _("Supplier accreditation"), "text": _("%(n)d suppliers wait for accreditation.", n=n),
            "url": url_for("shop.admin_suppliers"), "action": _("Accredit suppliers")}


def products_waiting() -> dict | None:
    if not can(Permission.ACCREDIT):
        return None
    n = db.session.execute(
        sa.select(sa.func.count(Product.id)).where(Product.status == ProductStatus.PENDING_REVIEW,
                                                   region_scope(current_user, Product.origin_county_id))
    ).scalar_one()
    return {"title": _("Product review"), "text": _("%(n)d products wait for review.", n=n),
            "url": url_for("shop.admin_products"), "action": _("Review products")}


def household_links() -> dict | None:
    if not can(Permission.ACCREDIT):
        return None
    n = db.session.execute(
        sa.select(sa.func.count(HouseholdLink.id)).join(Household, Household.id == HouseholdLink.household_id)
        .where(HouseholdLink.status == LinkStatus.CHALLENGED, region_scope(current_user, Household.village_id))
    ).scalar_one()
    return {"title": _("Household links"), "text": _("%(n)d links are challenged.", n=n),
            "url": url_for("shop.admin_links"), "action": _("Check household links")}


def benefit_attribution() -> dict | None:
    if not can(Permission.ADMIN_DASHBOARD):
        return None
    from shop.services import attribution

    total = attribution.report_total(current_user)
    return {"title": _("Benefit attribution"),
            "text": _("%(h)d households (%(p)d people) reached.", h=total.households, p=total.people),
            "url": url_for("shop.benefit_report"), "action": _("See the benefit report")}


def reviews_to_moderate() -> dict | None:
    if not can(Permission.ACCREDIT):
        return None
    from shop.models_benefit import ProductReview

    n = db.session.execute(
        sa.select(sa.func.count(ProductReview.id)).join(Product, Product.id == ProductReview.product_id)
        .where(ProductReview.is_hidden.is_(False), region_scope(current_user, Product.origin_county_id))
    ).scalar_one()
    return {"title": _("Reviews"), "text": _("%(n)d reviews are shown on product pages.", n=n),
            "url": url_for("shop.admin_reviews"), "action": _("Moderate reviews")}


ADMIN_LINKS = [suppliers_waiting, products_waiting, household_links, benefit_attribution, reviews_to_moderate]
