"""Administrators: supplier accreditation, household-link checks, product review — each within their region."""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload, selectinload

from core.errors import DomainError, NotFound
from core.extensions import db
from core.pagination import paginate
from core.permissions import Permission, require
from core.registry.services import ancestors
from shop import bp, forms, labels, signals
from shop.models import LinkStatus, Product, ProductStatus, Supplier, SupplierStatus
from shop.services import links, products, review, suppliers
from shop.services.common import ensure_admin_scope


def _status_arg(enum_cls, default: str | None):
    raw = request.args.get("status", default or "")
    return (enum_cls(raw) if raw in {s.value for s in enum_cls} else None), raw


# --- suppliers ------------------------------------------------------------------------------


@bp.get("/admin/suppliers")
@require(Permission.ACCREDIT)
def admin_suppliers():
    status, raw = _status_arg(SupplierStatus, SupplierStatus.PENDING.value)
    page = paginate(suppliers.suppliers_in_scope(current_user, status), per_page=30)
    return render_template("shop/admin/suppliers.html", page=page, status=raw, statuses=list(SupplierStatus))


def _supplier_page(supplier: Supplier, form=None, status: int = 200):
    ensure_admin_scope(current_user, supplier.county)
    helped = links.households_helped([supplier.id]).get(supplier.id, (0, 0))
    product_counts = dict(db.session.execute(
        sa.select(Product.status, sa.func.count(Product.id)).where(Product.supplier_id == supplier.id)
        .group_by(Product.status)
    ).all())
    return render_template(
        "shop/admin/supplier.html", supplier=supplier, chain=ancestors(supplier.county),
        members=suppliers.members_of(supplier), links=links.links_of_supplier(supplier.id), helped=helped,
        share_total=links.live_share_total(supplier.id), product_counts=product_counts,
        actions=suppliers.allowed_actions(supplier), form=form or forms.ReasonForm(),
        challenge_form=forms.ChallengeForm(),
    ), status


@bp.get("/admin/suppliers/<int:supplier_id>")
@require(Permission.ACCREDIT)
def admin_supplier(supplier_id: int):
    return _supplier_page(suppliers.get_supplier(supplier_id))


@bp.post("/admin/suppliers/<int:supplier_id>/<any(approve, reject, suspend, reinstate):action>")
@require(Permission.ACCREDIT)
def supplier_decision(supplier_id: int, action: str):
    supplier = suppliers.get_supplier(supplier_id)
    ensure_admin_scope(current_user, supplier.county)
    form = forms.ReasonForm()
    if not form.validate_on_submit():
        return _supplier_page(supplier, form, 422)
    was_selling = supplier.status == SupplierStatus.APPROVED
    try:
        suppliers.ACTIONS[action](supplier, current_user, form.reason.data)
    except DomainError as err:
        db.session.rollback()
        attach = getattr(form, err.field, None) if err.field else None
        if attach is not None:
            attach.errors = [*attach.errors, err.message]
        else:
            flash(err.message, "error")
        return _supplier_page(suppliers.get_supplier(supplier_id), form, err.status)
    listed = list(db.session.execute(
        sa.select(Product.id).where(Product.supplier_id == supplier.id, Product.status == ProductStatus.LISTED)
    ).scalars())
    db.session.commit()
    selling = supplier.status == SupplierStatus.APPROVED
    if was_selling != selling:
        # Suspension hides the supplier's listed products and reinstatement shows them again.
        for product_id in listed:
            signals.announce(product_id, ProductStatus.LISTED if was_selling else None,
                             ProductStatus.LISTED if selling else ProductStatus.DELISTED)
    flash(_("Done: the supplier is now “%(status)s”.", status=labels.SUPPLIER_STATUS[supplier.status]), "success")
    return redirect(url_for("shop.admin_supplier", supplier_id=supplier.id))


# --- household links ------------------------------------------------------------------------


def _links_list(form=None, status_code: int = 200):
    status, raw = _status_arg(LinkStatus, None)
    page = paginate(links.links_in_scope(current_user, status), per_page=50)
    return render_template("shop/admin/links.html", page=page, status=raw, statuses=list(LinkStatus),
                           challenge_form=form), status_code


@bp.get("/admin/links")
@require(Permission.ACCREDIT)
def admin_links():
    return _links_list()


@bp.post("/admin/links/<int:link_id>/<any(challenge, clear):action>")
@require(Permission.ACCREDIT)
def link_decision(link_id: int, action: str):
    link = links.get_link(link_id)
    ensure_admin_scope(current_user, link.household.village)
    form = forms.ChallengeForm()
    if not form.validate_on_submit():
        flash(" ".join(e for errors in form.errors.values() for e in errors), "error")
        return _links_list(form, 422)
    try:
        if action == "challenge":
            links.challenge_link(link, current_user, form.note.data)
        else:
            links.clear_link(link, current_user, form.note.data)
    except DomainError as err:
        db.session.rollback()
        flash(err.message, "error")
        return _links_list(form, err.status)
    db.session.commit()
    flash(_("The link is challenged; it no longer counts until cleared.") if action == "challenge"
          else _("The link is cleared and counts again."), "success")
    return redirect(request.form.get("next") if (request.form.get("next") or "").startswith("/shop/admin/")
                    else url_for("shop.admin_links"))


# --- product review -------------------------------------------------------------------------


@bp.get("/admin/products")
@require(Permission.ACCREDIT)
def admin_products():
    status, raw = _status_arg(ProductStatus, ProductStatus.PENDING_REVIEW.value)
    page = paginate(review.products_in_review_scope(current_user, status), per_page=30)
    return render_template("shop/admin/products.html", page=page, status=raw, statuses=list(ProductStatus))


def _review_page(product_id: int, form=None, status: int = 200):
    product = db.session.execute(
        sa.select(Product).where(Product.id == product_id).options(
            joinedload(Product.supplier).joinedload(Supplier.county), joinedload(Product.category),
            joinedload(Product.origin_village), joinedload(Product.origin_county),
            selectinload(Product.images), selectinload(Product.certifications),
            selectinload(Product.price_evidence),
        )
    ).unique().scalar_one_or_none()
    if product is None:
        raise NotFound(_("No such product."))
    review.ensure_reviewer(product, current_user)
    actions = [via for (start, _t), via in review.PRODUCT_TRANSITIONS.items()
               if start == product.status and via in ("approve", "reject", "delist")]
    return render_template(
        "shop/admin/product_review.html", product=product, comparison=review.price_comparison(product),
        chain=ancestors(product.origin_village), lots=products.lots_of(product.id, with_remaining_only=True),
        actions=actions, form=form or forms.ReasonForm(),
    ), status


@bp.get("/admin/products/<int:product_id>")
@require(Permission.ACCREDIT)
def review_product(product_id: int):
    return _review_page(product_id)


@bp.post("/admin/products/<int:product_id>/<any(approve, reject, delist):action>")
@require(Permission.ACCREDIT)
def product_decision(product_id: int, action: str):
    product = products.get_product(product_id)
    review.ensure_reviewer(product, current_user)
    form = forms.ReasonForm()
    if not form.validate_on_submit():
        return _review_page(product_id, form, 422)
    before = product.status
    try:
        review.PRODUCT_ACTIONS[action](product, current_user, form.reason.data)
    except DomainError as err:
        db.session.rollback()
        if err.field == "reason":
            form.reason.errors = [*form.reason.errors, err.message]
        else:
            flash(err.message, "error")
        return _review_page(product_id, form, err.status)
    db.session.commit()
    signals.announce(product.id, before, product.status)
    flash(_("Done: the product is now “%(status)s”.", status=labels.PRODUCT_STATUS[product.status]), "success")
    return redirect(url_for("shop.admin_products"))

