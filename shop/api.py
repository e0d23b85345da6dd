"""The shop's JSON API under /api/v1: the catalog (public) and product upkeep for supplier members."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from core.extensions import db
from core.permissions import Permission, require
from shop import signals
from shop.models import Certification, EvidenceKind, ProductStatus
from shop.services import catalog, products, review
from shop.services.common import supplier_of

blp = Blueprint("shop_api", __name__, url_prefix="/api/v1", description="Catalog and supplier products")


class CategorySchema(Schema):
    id = fields.Int()
    code = fields.Str()
    name = fields.Str()
    name_en = fields.Str()
    parent_id = fields.Int(allow_none=True)


class CertificationSchema(Schema):
    kind = fields.Str()
    certificate_number = fields.Str()


class ImageSchema(Schema):
    url = fields.Method("_url")
    thumbnail_url = fields.Method("_thumb")
    alt_text = fields.Str()
    width = fields.Int()
    height = fields.Int()

    def _url(self, image):
        return url_for("shop.media_file", name=image.filename)

    def _thumb(self, image):
        return url_for("shop.media_file", name=image.thumb_filename)


class ProductSchema(Schema):
    id = fields.Int()
    name = fields.Str()
    supplier_id = fields.Int()
    category_id = fields.Int()
    origin_village_id = fields.Int()
    origin_county_id = fields.Int()
    sales_unit = fields.Str()
    specification = fields.Str()
    price_fen = fields.Int(metadata={"description": "price per sales unit in fen (1/100 yuan)"})
    stock = fields.Int()
    min_order_qty = fields.Int()
    shelf_life_days = fields.Int()
    harvest_months = fields.Method("_months", metadata={"description": "months 1–12 of harvest"})
    description = fields.Str()
    status = fields.Str()
    is_urgent_sale = fields.Bool()
    certifications = fields.List(fields.Nested(CertificationSchema))
    images = fields.List(fields.Nested(ImageSchema))
    listed_at = fields.DateTime(allow_none=True)

    def _months(self, product):
        return products.mask_to_months(product.harvest_months)


class ProductPageSchema(Schema):
    total = fields.Int()
    page = fields.Int()
    per_page = fields.Int()
    items = fields.List(fields.Nested(ProductSchema))


class ProductQuerySchema(Schema):
    page = fields.Int(load_default=1, validate=validate.Range(min=1, max=catalog.MAX_PAGES))
    per_page = fields.Int(load_default=24, validate=validate.Range(min=1, max=100))
    category_id = fields.Int(load_default=None)
    sort = fields.Str(load_default="newest", validate=validate.OneOf(list(catalog.SORTS)))


class EvidenceInSchema(Schema):
    url = fields.Url(required=True, schemes={"http", "https"}, validate=validate.Length(max=500))
    reference_price_fen = fields.Int(required=True, strict=True, validate=validate.Range(min=1))
    note = fields.Str(load_default="", validate=validate.Length(max=200))


class LotInSchema(Schema):
    quantity = fields.Int(required=True, strict=True, validate=validate.Range(min=1, max=1_000_000))
    produced_on = fields.Date(load_default=None)
    expires_on = fields.Date(load_default=None)


class ProductWriteSchema(Schema):
    name = fields.Str(required=True, validate=validate.Length(min=1, max=120))
    category_id = fields.Int(required=True, strict=True)
    sales_unit = fields.Str(required=True, validate=validate.Length(min=1, max=10))
    specification = fields.Str(load_default="", validate=validate.Length(max=60))
    price_fen = fields.Int(required=True, strict=True, validate=validate.Range(min=1, max=products.MAX_PRICE_FEN),
                           metadata={"description": "price per sales unit in fen; more than 0"})
    min_order_qty = fields.Int(load_default=1, strict=True, validate=validate.Range(min=1, max=10_000))
    shelf_life_days = fields.Int(required=True, strict=True, validate=validate.Range(min=1, max=3650))
    harvest_months = fields.List(fields.Int(strict=True, validate=validate.Range(min=1, max=12)), load_default=list)
    origin_village_id = fields.Int(required=True, strict=True)
    description = fields.Str(load_default="", validate=validate.Length(max=5000))
    certifications = fields.Dict(keys=fields.Str(validate=validate.OneOf([c.value for c in Certification])),
                                 values=fields.Str(validate=validate.Length(max=60)), load_default=dict,
                                 metadata={"description": "kind → certificate number"})
    price_evidence = fields.List(fields.Nested(EvidenceInSchema), load_default=list)
    new_lot = fields.Nested(LotInSchema, load_default=None)
    submit_for_review = fields.Bool(load_default=False)


class ProductPatchSchema(ProductWriteSchema):
    """Only the fields sent are changed; the rest keep their values."""

    @validates_schema
    def _something(self, data, **kwargs):
        if not data:
            raise ValidationError(_("Send at least one field to change."))


@blp.route("/categories")
@blp.response(200, CategorySchema(many=True))
def list_categories():
    """The category tree as a flat list (parents before children is not guaranteed; use ``parent_id``)."""
    return catalog.categories()


@blp.route("/products")
@blp.arguments(ProductQuerySchema, location="query")
@blp.response(200, ProductPageSchema)
def list_products(args):
    """Products on sale, newest first by default; filter by category (and its subcategories)."""
    category = catalog.get_category(args["category_id"]) if args["category_id"] else None
    page = catalog.category_page(category, sort=args["sort"], page=args["page"], per_page=args["per_page"])
    return {"total": page.total, "page": page.page, "per_page": page.per_page, "items": page.items}


@blp.route("/products/<int:product_id>")
@blp.response(200, ProductSchema)
def get_product(product_id: int):
    """One product: on sale for everyone; otherwise only for its supplier's members and reviewers."""
    return catalog.product_view(product_id, current_user).product


def _input(data: dict) -> products.ProductInput:
    return products.ProductInput(
        name=data["name"], category_id=data["category_id"], sales_unit=data["sales_unit"],
        specification=data["specification"], price_fen=data["price_fen"], min_order_qty=data["min_order_qty"],
        shelf_life_days=data["shelf_life_days"], harvest_months=products.months_to_mask(data["harvest_months"]),
        origin_village_id=data["origin_village_id"], description=data["description"],
        certifications={Certification(k): v for k, v in data["certifications"].items()},
    )


@blp.route("/products", methods=["POST"])
@require(Permission.SUPPLIER_WORKSPACE)
@blp.arguments(ProductWriteSchema)
@blp.response(201, ProductSchema)
def create_product(data):
    """Create a product of the caller's supplier (a draft), optionally with stock, evidence and a review request."""
    supplier = supplier_of(current_user)
    product = products.create_product(supplier, current_user, _input(data))
    if data["new_lot"]:
        lot = data["new_lot"]
        products.add_lot(product, current_user, quantity=lot["quantity"], produced_on=lot["produced_on"],
                         expires_on=lot["expires_on"])
    for evidence in data["price_evidence"]:
        products.add_price_evidence(product, current_user, kind=EvidenceKind.LINK, url=evidence["url"],
                                    reference_price_fen=evidence["reference_price_fen"], note=evidence["note"])
    if data["submit_for_review"]:
        review.submit_product(product, current_user)
    db.session.commit()
    signals.announce(product.id, None, product.status)
    return products.get_product(product.id)


@blp.route("/products/<int:product_id>", methods=["PATCH"])
@require(Permission.SUPPLIER_WORKSPACE)
@blp.arguments(ProductPatchSchema(partial=tuple(ProductWriteSchema._declared_fields)))
@blp.response(200, ProductSchema)
def update_product(data, product_id: int):
    """Change a product of the caller's supplier. A price or origin change of a listed product sends it
    back to review."""
    product = products.product_for_member(product_id, current_user)
    current = {
        "name": product.name, "category_id": product.category_id, "sales_unit": product.sales_unit,
        "specification": product.specification, "price_fen": product.price_fen,
        "min_order_qty": product.min_order_qty, "shelf_life_days": product.shelf_life_days,
        "harvest_months": products.mask_to_months(product.harvest_months),
        "origin_village_id": product.origin_village_id, "description": product.description,
        "certifications": {c.kind.value: c.certificate_number for c in product.certifications},
    }
    before = product.status
    products.update_product(product, current_user, _input({**current, **data}))
    for evidence in data.get("price_evidence") or []:
        products.add_price_evidence(product, current_user, kind=EvidenceKind.LINK, url=evidence["url"],
                                    reference_price_fen=evidence["reference_price_fen"], note=evidence["note"])
    if data.get("new_lot"):
        lot = data["new_lot"]
        products.add_lot(product, current_user, quantity=lot["quantity"], produced_on=lot["produced_on"],
                         expires_on=lot["expires_on"])
    if data.get("submit_for_review") and product.status != ProductStatus.PENDING_REVIEW:
        review.submit_product(product, current_user)
    db.session.commit()
    signals.announce(product.id, before, product.status)
    return products.get_product(product.id)

