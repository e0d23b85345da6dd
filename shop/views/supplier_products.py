"""The supplier's products: create and edit, stock lots, photos, price evidence, review requests, import."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, send_from_directory, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from core.errors import DomainError
from core.extensions import db
from core.money import fen_to_yuan, parse_yuan
from core.pagination import paginate
from core.permissions import Permission, require
from shop import bp, forms, signals
from shop.models import Certification, Product, ProductLot, ProductStatus, SupplierStatus
from shop.services import imports, media, products, review
from shop.services.common import supplier_of
from shop.views._helpers import attach_error, category_choices, village_choices

# --- products -------------------------------------------------------------------------------


@bp.get("/workspace/products")
@require(Permission.SUPPLIER_WORKSPACE)
def supplier_products():
    supplier = supplier_of(current_user)
    status = request.args.get("status", "")
    stmt = sa.select(Product).where(Product.supplier_id == supplier.id).order_by(Product.updated_at.desc(),
                                                                                 Product.id.desc())
    if status in {s.value for s in ProductStatus}:
        stmt = stmt.where(Product.status == ProductStatus(status))
    page = paginate(stmt, per_page=30)
    return render_template("shop/supplier_products.html", supplier=supplier, page=page, status=status,
                           statuses=list(ProductStatus))


def _product_input(form) -> products.ProductInput:
    return products.ProductInput(
        name=form.name.data, category_id=form.category_id.data, sales_unit=form.sales_unit.data,
        specification=form.specification.data or "", price_fen=_price(form.price.data, "price"),
        min_order_qty=form.min_order_qty.data, shelf_life_days=form.shelf_life_days.data,
        harvest_months=products.months_to_mask(form.harvest_months.data or []),
        origin_village_id=form.origin_village_id.data, description=form.description.data or "",
        certifications={Certification(kind): (getattr(form, f"cert_{kind}").data or "").strip()
                        for kind in form.certifications.data or []},
    )


def _price(text: str, field: str) -> int:
    try:
        return parse_yuan(text or "")
    except DomainError as err:
        err.field = field
        raise


def _product_form(supplier, product: Product | None = None) -> forms.ProductForm:
    """The product form: bound to the submitted data, or (given a product) showing what is stored."""
    form = forms.ProductForm()
    if product is not None:
        form = forms.ProductForm(formdata=None, data={
            "name": product.name, "category_id": product.category_id, "sales_unit": product.sales_unit,
            "specification": product.specification, "price": str(fen_to_yuan(product.price_fen)),
            "min_order_qty": product.min_order_qty,
            "shelf_life_days": product.shelf_life_days,
            "harvest_months": products.mask_to_months(product.harvest_months),
            "origin_village_id": product.origin_village_id, "description": product.description,
            "certifications": [c.kind.value for c in product.certifications],
            **{f"cert_{c.kind.value}": c.certificate_number for c in product.certifications},
        })
    form.category_id.choices = [SelectChoice(0, _("Choose a category")), *category_choices()]
    form.origin_village_id.choices = [SelectChoice(0, _("Choose a village")), *village_choices(supplier)]
    return form


@bp.route("/workspace/products/new", methods=["GET", "POST"])
@require(Permission.SUPPLIER_WORKSPACE)
def new_product():
    supplier = supplier_of(current_user)
    form = _product_form(supplier)
    if request.method == "GET" and supplier.status != SupplierStatus.APPROVED:
        flash(_("Only accredited suppliers can list products. Your supplier is not accredited at the moment."),
              "error")
    if form.validate_on_submit():
        try:
            product = products.create_product(supplier, current_user, _product_input(form))
        except DomainError as err:
            db.session.rollback()
            if err.status == 403:
                raise
            attach_error(form, err)
        else:
            db.session.commit()
            signals.announce(product.id, None, product.status)
            flash(_("Product saved as a draft. Add stock, photos and price evidence, then ask for review."),
                  "success")
            return redirect(url_for("shop.edit_product", product_id=product.id))
    return render_template("shop/product_form.html", form=form, product=None, supplier=supplier), (
        422 if request.method == "POST" else 200)


def _manage_page(product: Product, *, form=None, lot_form=None, image_form=None, evidence_form=None,
                 status: int = 200):
    supplier = product.supplier
    return render_template(
        "shop/product_manage.html", product=product, supplier=supplier,
        # Forms not submitted in this request are shown empty, not bound to another form's data.
        form=form or _product_form(supplier, product), lot_form=lot_form or forms.LotForm(formdata=None),
        image_form=image_form or forms.ImageForm(formdata=None),
        evidence_form=evidence_form or forms.EvidenceForm(formdata=None),
        lots=products.lots_of(product.id), images=product.images, evidence=product.price_evidence,
    ), status


@bp.route("/workspace/products/<int:product_id>", methods=["GET", "POST"])
@require(Permission.SUPPLIER_WORKSPACE)
def edit_product(product_id: int):
    product = products.product_for_member(product_id, current_user)
    if request.method == "GET":
        return _manage_page(product)
    form = _product_form(product.supplier)
    if form.validate_on_submit():
        before = product.status
        try:
            outcome = products.update_product(product, current_user, _product_input(form))
        except DomainError as err:
            db.session.rollback()
            if err.status in (403, 404):
                raise
            attach_error(form, err)
        else:
            db.session.commit()
            signals.announce(product.id, before, product.status)
            if outcome.returned_to_review:
                flash(_("The price or origin changed, so the product is off sale until an administrator "
                        "reviews it again."), "info")
            else:
                flash(_("Saved."), "success")
            return redirect(url_for("shop.edit_product", product_id=product.id))
    return _manage_page(product, form=form, status=422)


@bp.post("/workspace/products/<int:product_id>/lots")
@require(Permission.SUPPLIER_WORKSPACE)
def add_lot(product_id: int):
    product = products.product_for_member(product_id, current_user)
    form = forms.LotForm()
    if form.validate_on_submit():
        try:
            products.add_lot(product, current_user, quantity=form.quantity.data, produced_on=form.produced_on.data,
                             expires_on=form.expires_on.data)
        except DomainError as err:
            db.session.rollback()
            if err.status in (403, 404):
                raise
            attach_error(form, err)
        else:
            db.session.commit()
            signals.announce(product.id)
            flash(_("Stock added."), "success")
            return redirect(url_for("shop.edit_product", product_id=product.id) + "#stock")
    return _manage_page(product, lot_form=form, status=422)


@bp.post("/workspace/lots/<int:lot_id>/write-off")
@require(Permission.SUPPLIER_WORKSPACE)
def write_off_lot(lot_id: int):
    lot = db.session.get(ProductLot, lot_id)
    if lot is None:
        abort(404)
    product = products.product_for_member(lot.product_id, current_user)
    form = forms.WriteOffForm()
    if form.validate_on_submit():
        try:
            products.write_off_lot(lot, current_user, quantity=form.quantity.data, reason=form.reason.data)
        except DomainError as err:
            db.session.rollback()
            flash(err.message, "error")
            return _manage_page(product, status=err.status)
        db.session.commit()
        signals.announce(product.id)
        flash(_("Stock written off."), "info")
        return redirect(url_for("shop.edit_product", product_id=product.id) + "#stock")
    flash(" ".join(e for errs in form.errors.values() for e in errs), "error")
    return _manage_page(product, status=422)


@bp.post("/workspace/products/<int:product_id>/images")
@require(Permission.SUPPLIER_WORKSPACE)
def upload_image(product_id: int):
    product = products.product_for_member(product_id, current_user)
    form = forms.ImageForm()
    if form.validate_on_submit():
        try:
            data = media.read_upload(form.image.data, field="image")
            products.add_image(product, current_user, data, form.alt_text.data)
        except DomainError as err:
            db.session.rollback()
            if err.status in (403, 404):
                raise
            attach_error(form, err)
            return _manage_page(product, image_form=form, status=err.status)
        db.session.commit()
        signals.announce(product.id)
        flash(_("Photo added."), "success")
        return redirect(url_for("shop.edit_product", product_id=product.id) + "#photos")
    return _manage_page(product, image_form=form, status=422)


@bp.post("/workspace/products/<int:product_id>/images/<int:image_id>/delete")
@require(Permission.SUPPLIER_WORKSPACE)
def delete_image(product_id: int, image_id: int):
    product = products.product_for_member(product_id, current_user)
    if not forms.ReasonForm().validate_on_submit():
        abort(400)
    key = products.remove_image(product, current_user, image_id)
    db.session.commit()
    media.remove_product_image_files(key)  # only once the row is gone for good
    signals.announce(product.id)
    flash(_("Photo removed."), "info")
    return redirect(url_for("shop.edit_product", product_id=product.id) + "#photos")


@bp.post("/workspace/products/<int:product_id>/evidence")
@require(Permission.SUPPLIER_WORKSPACE)
def add_evidence(product_id: int):
    product = products.product_for_member(product_id, current_user)
    form = forms.EvidenceForm()
    if form.validate_on_submit():
        try:
            upload = form.document.data
            document = (media.read_upload(upload, field="document")
                        if upload is not None and getattr(upload, "filename", "") else None)
            products.add_price_evidence(
                product, current_user, kind=form.kind.data,
                reference_price_fen=_price(form.reference_price.data, "reference_price"),
                url=form.url.data, document=document,
                document_name=getattr(upload, "filename", None) if document else None, note=form.note.data or "",
            )
        except DomainError as err:
            db.session.rollback()
            if err.status in (403, 404):
                raise
            attach_error(form, err)
            return _manage_page(product, evidence_form=form, status=err.status)
        db.session.commit()
        signals.announce(product.id)
        flash(_("Price evidence added."), "success")
        return redirect(url_for("shop.edit_product", product_id=product.id) + "#evidence")
    return _manage_page(product, evidence_form=form, status=422)


@bp.get("/evidence/<int:evidence_id>")
@require(Permission.ACCOUNT)
def evidence_document(evidence_id: int):
    evidence = products.evidence_for_viewer(evidence_id, current_user)
    is_pdf = evidence.document_key.endswith(".pdf")
    # The stored file may have been re-encoded: name and type follow what is stored, not what was sent.
    stem = (evidence.document_name or "document").rsplit(".", 1)[0] or "document"
    return send_from_directory(
        media.evidence_dir(), evidence.document_key, as_attachment=is_pdf, max_age=0,
        mimetype="application/pdf" if is_pdf else "image/jpeg",
        download_name=f"{stem}.pdf" if is_pdf else f"{stem}.jpg",
    )


@bp.post("/workspace/products/<int:product_id>/<any(submit, withdraw):action>")
@require(Permission.SUPPLIER_WORKSPACE)
def product_action(product_id: int, action: str):
    product = products.product_for_member(product_id, current_user)
    form = forms.ReasonForm()
    if not form.validate_on_submit():
        return _manage_page(product, status=422)
    before = product.status
    try:
        if action == "submit":
            review.submit_product(product, current_user)
        else:
            review.delist_product(product, current_user, form.reason.data)
    except DomainError as err:
        db.session.rollback()
        if err.status == 404:
            raise
        flash(err.message, "error")
        return _manage_page(products.product_for_member(product_id, current_user), status=err.status)
    db.session.commit()
    signals.announce(product.id, before, product.status)
    flash(_("Sent for review.") if action == "submit" else _("The product is off sale."), "success")
    return redirect(url_for("shop.edit_product", product_id=product.id))


# --- import ---------------------------------------------------------------------------------


@bp.route("/workspace/products/import", methods=["GET", "POST"])
@require(Permission.SUPPLIER_WORKSPACE)
def import_products():
    supplier = supplier_of(current_user)
    form = forms.ImportForm()
    result = None
    status = 200
    if form.validate_on_submit():
        upload = form.file.data
        try:
            data = media.read_upload(upload, field="file")
            result = imports.import_products(supplier, current_user, upload.filename, data,
                                             all_or_nothing=form.all_or_nothing.data)
        except DomainError as err:
            db.session.rollback()
            if err.status == 403:
                raise
            attach_error(form, err)
            status = err.status
        else:
            if result.written:
                db.session.commit()
                for product_id in result.created_ids:
                    signals.announce(product_id, None, ProductStatus.DRAFT)
            else:
                db.session.rollback()
            status = 200 if result.ok else 422
    elif request.method == "POST":
        status = 422
    return render_template("shop/import.html", form=form, result=result, supplier=supplier), status


@bp.get("/workspace/products/import/template.csv")
@require(Permission.SUPPLIER_WORKSPACE)
def import_template():
    return imports.TEMPLATE_HEADER, 200, {
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": "attachment; filename=products-template.csv",
    }
