"""The cart and order API under /api/v1: the buyer's cart and orders, their transitions, and shipping.

Orders are created with an ``Idempotency-Key`` header: a retried request with
the same key returns the order the first one created (200 instead of 201).
Someone else's order answers 404, as if it did not exist.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from core.errors import ValidationFailed
from core.extensions import db
from core.permissions import Permission, require
from shop.models import Order
from shop.services import cart, checkout, order_reads, orders
from shop.services.common import supplier_of
from shop.views.cart import commit_and_announce, roll_back

blp = Blueprint("orders_api", __name__, url_prefix="/api/v1", description="Cart and orders")


# ---------------------------------------------------------------- schemas


class ShopCartLineSchema(Schema):
    product_id = fields.Function(lambda line: line.product.id, metadata={"example": 12})
    name = fields.Function(lambda line: line.product.name, metadata={"example": "巫山脆李"})
    sales_unit = fields.Function(lambda line: line.product.sales_unit, metadata={"example": "箱"})
    quantity = fields.Int(metadata={"example": 2})
    unit_price_fen = fields.Function(lambda line: line.product.price_fen,
                                     metadata={"description": "today's price in fen", "example": 3990})
    amount_fen = fields.Int(metadata={"example": 7980})
    stock = fields.Function(lambda line: line.product.stock, metadata={"example": 48})
    min_order_qty = fields.Function(lambda line: line.product.min_order_qty, metadata={"example": 1})
    problem = fields.Str(allow_none=True, metadata={"description": "why the line cannot be ordered as it stands",
                                                    "example": None})


class ShopCartGroupSchema(Schema):
    supplier_id = fields.Function(lambda g: g.supplier.id, metadata={"example": 3})
    supplier_name = fields.Function(lambda g: g.supplier.name, metadata={"example": "巫山县曲尺乡脆李专业合作社"})
    subtotal_fen = fields.Int(metadata={"example": 7980})
    lines = fields.List(fields.Nested(ShopCartLineSchema))


class ShopCartSchema(Schema):
    groups = fields.List(fields.Nested(ShopCartGroupSchema), metadata={"description": "one group per supplier"})
    unavailable = fields.List(fields.Int(), metadata={"description": "products in the cart no longer on sale",
                                                      "example": []})
    total_fen = fields.Int(metadata={"example": 7980})
    ready = fields.Bool(metadata={"description": "true when every line can be ordered", "example": True})


class ShopCartItemInSchema(Schema):
    quantity = fields.Raw(required=True, metadata={
        "description": "whole number of sales units, at least the product's minimum order, at most its stock",
        "example": 2})


class ShopOrderLineSchema(Schema):
    id = fields.Int(metadata={"example": 101})
    product_id = fields.Int(metadata={"example": 12})
    product_name = fields.Str(metadata={"example": "巫山脆李"})
    quantity = fields.Int(metadata={"example": 2})
    unit_price_fen = fields.Int(metadata={"description": "price at checkout, in fen", "example": 3990})
    amount_fen = fields.Int(metadata={"example": 7980})
    refunded_quantity = fields.Int(metadata={"example": 0})


class ShopSubOrderSchema(Schema):
    id = fields.Int(metadata={"example": 55})
    supplier_id = fields.Int(metadata={"example": 3})
    supplier_name = fields.Function(lambda so: so.supplier.name, metadata={"example": "巫山县曲尺乡脆李专业合作社"})
    status = fields.Function(lambda so: so.status.value, metadata={"example": "pending_payment"})
    subtotal_fen = fields.Int(metadata={"example": 7980})
    carrier = fields.Str(allow_none=True, metadata={"example": "顺丰速运"})
    tracking_number = fields.Str(allow_none=True, metadata={"example": "SF1234567890"})
    paid_at = fields.DateTime(allow_none=True)
    shipped_at = fields.DateTime(allow_none=True)
    received_at = fields.DateTime(allow_none=True)
    completed_at = fields.DateTime(allow_none=True)
    cancelled_at = fields.DateTime(allow_none=True)
    lines = fields.List(fields.Nested(ShopOrderLineSchema))


class ShopOrderSchema(Schema):
    id = fields.Int(metadata={"example": 40})
    number = fields.Str(metadata={"example": "202611230123456789"})
    status = fields.Function(lambda o: order_reads.order_status(o).value, metadata={"example": "pending_payment"})
    total_fen = fields.Int(metadata={"example": 13780})
    recipient_name = fields.Str(metadata={"example": "张晓梅"})
    recipient_phone = fields.Function(lambda o: _masked(o.recipient_phone),
                                      metadata={"description": "masked", "example": "138****5678"})
    address = fields.Str(metadata={"example": "重庆市渝中区解放碑街道民族路100号"})
    address_region_id = fields.Int(allow_none=True)
    referral_code = fields.Str(allow_none=True)
    created_at = fields.DateTime()
    payment_due_at = fields.DateTime(allow_none=True)
    sub_orders = fields.List(fields.Nested(ShopSubOrderSchema))


def _masked(phone: str) -> str:
    from core.personal_data import mask_phone

    return mask_phone(phone)


class ShopOrderListSchema(Schema):
    total = fields.Int()
    page = fields.Int()
    per_page = fields.Int()
    items = fields.List(fields.Nested(ShopOrderSchema))


class ShopOrderListQuerySchema(Schema):
    page = fields.Int(load_default=1, validate=validate.Range(min=1, max=10_000))
    per_page = fields.Int(load_default=20, validate=validate.Range(min=1, max=100))


class ShopOrderItemInSchema(Schema):
    product_id = fields.Int(required=True, strict=True, metadata={"example": 12})
    quantity = fields.Raw(required=True, metadata={"description": "whole number from 1 to 10,000", "example": 2})


class ShopOrderInSchema(Schema):
    items = fields.List(fields.Nested(ShopOrderItemInSchema), load_default=None,
                        validate=validate.Length(min=1, max=50),
                        metadata={"description": "what to order; leave out to order the whole cart"})
    recipient_name = fields.Str(required=True, validate=validate.Length(min=1, max=40),
                                metadata={"example": "张晓梅"})
    recipient_phone = fields.Str(required=True, validate=validate.Length(min=1, max=20),
                                 metadata={"example": "13812345678"})
    address = fields.Str(required=True, validate=validate.Length(min=5, max=255),
                         metadata={"example": "重庆市渝中区解放碑街道民族路100号"})
    address_region_id = fields.Int(load_default=None, strict=True, metadata={"description": "a county of the registry"})
    referral_code = fields.Str(load_default=None, validate=validate.Length(max=32),
                               metadata={"description": "a unit's promotion code (帮助销售)", "example": "CQFP2026"})

    @validates_schema
    def _no_repeats(self, data, **kwargs):
        ids = [item["product_id"] for item in data.get("items") or []]
        if len(ids) != len(set(ids)):
            raise ValidationError(_("Name each product once."), field_name="items")


class ShopIdempotencyHeaderSchema(Schema):
    idempotency_key = fields.Str(required=True, data_key="Idempotency-Key",
                                 validate=validate.Regexp(r"^[A-Za-z0-9_-]{8,64}$"),
                                 metadata={"description": "8–64 letters, digits, - or _; one per order you mean",
                                           "example": "7f3c2a9e-1b4d-4c5e-9f00-aa11bb22cc33"})


class ShopRefundInSchema(Schema):
    lines = fields.Dict(keys=fields.Str(validate=validate.Regexp(r"^\d{1,18}$")),
                        values=fields.Int(strict=True, validate=validate.Range(min=0, max=10_000)),
                        load_default=None,
                        metadata={"description": "order line id → quantity to refund; leave out to refund everything "
                                                 "not yet refunded", "example": {"101": 1}})
    reason = fields.Str(required=True, validate=validate.Length(min=1, max=1000),
                        metadata={"example": "两箱中有一箱果子压坏了"})


class ShopRefundSchema(Schema):
    id = fields.Int()
    sub_order_id = fields.Int()
    status = fields.Function(lambda r: r.status.value, metadata={"example": "requested"})
    amount_fen = fields.Int(metadata={"example": 3990})
    reason = fields.Str()


class ShopShipmentInSchema(Schema):
    carrier = fields.Str(required=True, validate=validate.Length(min=1, max=40), metadata={"example": "顺丰速运"})
    tracking_number = fields.Str(required=True, validate=validate.Length(min=1, max=60),
                                 metadata={"example": "SF1234567890"})


# ---------------------------------------------------------------- cart


def _cart():
    return cart.contents(current_user)


@blp.route("/cart")
@require(Permission.SHOP_BUY)
@blp.response(200, ShopCartSchema)
def get_cart():
    """The caller's cart with today's prices and stock, grouped per supplier."""
    return _cart()


@blp.route("/cart/items/<int:product_id>", methods=["PUT"])
@require(Permission.SHOP_BUY)
@blp.arguments(ShopCartItemInSchema)
@blp.response(200, ShopCartSchema)
def put_cart_item(data, product_id: int):
    """Set the quantity of a product in the cart (adding it when it is not there)."""
    cart.set_quantity(current_user, product_id, data["quantity"])
    commit_and_announce()
    return _cart()


@blp.route("/cart/items/<int:product_id>", methods=["DELETE"])
@require(Permission.SHOP_BUY)
@blp.response(200, ShopCartSchema)
def delete_cart_item(product_id: int):
    """Take a product out of the cart (no error when it was not there)."""
    cart.remove(current_user, product_id)
    commit_and_announce()
    return _cart()


# ---------------------------------------------------------------- orders


@blp.route("/orders", methods=["POST"])
@require(Permission.SHOP_BUY)
@blp.arguments(ShopIdempotencyHeaderSchema, location="headers")
@blp.arguments(ShopOrderInSchema)
@blp.response(201, ShopOrderSchema)
@blp.alt_response(200, schema=ShopOrderSchema, description="The order an earlier request with the same key created")
def create_order(headers, data):
    """Place an order from the given items, or from the whole cart when ``items`` is left out.

    The order is split per supplier and prices are taken from the catalog at
    this moment. Out of stock answers 409 with the product in ``details``.
    """
    key = headers["idempotency_key"]
    existing = checkout.find_by_idempotency_key(current_user.id, key)
    if existing is not None:
        return existing, 200
    from_cart = data["items"] is None
    if from_cart:
        view = cart.contents(current_user)
        if view.unavailable:
            raise ValidationFailed(_("A product in your cart is no longer on sale."), field="items",
                                   details={"product_ids": view.unavailable})
        items: dict = view.orderable()
    else:
        items = {item["product_id"]: item["quantity"] for item in data["items"]}
    try:
        order = checkout.place_order(
            buyer=current_user, items=items, recipient_name=data["recipient_name"],
            recipient_phone=data["recipient_phone"], address=data["address"],
            address_region_id=data["address_region_id"], referral_code=data["referral_code"], idempotency_key=key,
        )
        if from_cart:
            cart.remove_ordered(current_user, items)
        # The answer is the order just written, all of it in memory: keep it through the commit rather
        # than read it back (this request's session; it is discarded when the request ends).
        db.session().expire_on_commit = False
        commit_and_announce()
    except sa.exc.IntegrityError:
        # The same key sent twice at once: the other request created the order.
        roll_back()
        existing = checkout.find_by_idempotency_key(current_user.id, key)
        if existing is None:
            raise
        return existing, 200
    except Exception:
        roll_back()
        raise
    return order


@blp.route("/orders")
@require(Permission.SHOP_BUY)
@blp.arguments(ShopOrderListQuerySchema, location="query")
@blp.response(200, ShopOrderListSchema)
def list_my_orders(args):
    """The caller's orders, newest first."""
    stmt = order_reads.buyer_orders(current_user)
    total = db.session.execute(sa.select(sa.func.count(Order.id)).where(Order.buyer_id == current_user.id)).scalar_one()
    items = db.session.execute(
        stmt.limit(args["per_page"]).offset((args["page"] - 1) * args["per_page"])
    ).scalars().all()
    return {"total": total, "page": args["page"], "per_page": args["per_page"], "items": items}


@blp.route("/orders/<int:order_id>")
@require(Permission.SHOP_BUY)
@blp.response(200, ShopOrderSchema)
def get_order(order_id: int):
    """One of the caller's orders."""
    return order_reads.buyer_order(order_id, current_user)


def _transition(action) -> None:
    try:
        action()
        commit_and_announce()
    except Exception:
        roll_back()
        raise


@blp.route("/orders/<int:order_id>/cancel", methods=["POST"])
@require(Permission.SHOP_BUY)
@blp.response(200, ShopOrderSchema)
def cancel_order(order_id: int):
    """Cancel an unpaid order; its stock goes back on sale. A paid order answers 409."""
    order = order_reads.buyer_order(order_id, current_user, lock=True)
    _transition(lambda: orders.cancel(order, actor=current_user, reason="cancelled by the buyer"))
    return order_reads.buyer_order(order_id, current_user)


@blp.route("/orders/<int:order_id>/sub-orders/<int:sub_order_id>/confirm-receipt", methods=["POST"])
@require(Permission.SHOP_BUY)
@blp.response(200, ShopOrderSchema)
def confirm_receipt(order_id: int, sub_order_id: int):
    """The buyer confirms that one supplier's parcel arrived (only once it is shipped)."""
    order = order_reads.buyer_order(order_id, current_user, lock=True)
    sub_order = order_reads.buyer_sub_order(order, sub_order_id)
    _transition(lambda: orders.confirm_receipt(sub_order))
    return order_reads.buyer_order(order_id, current_user)


@blp.route("/orders/<int:order_id>/sub-orders/<int:sub_order_id>/refund-request", methods=["POST"])
@require(Permission.SHOP_BUY)
@blp.arguments(ShopRefundInSchema)
@blp.response(201, ShopRefundSchema)
def request_refund(data, order_id: int, sub_order_id: int):
    """Ask for a refund of one supplier's part, whole or some lines, with a reason."""
    order = order_reads.buyer_order(order_id, current_user, lock=True)
    sub_order = order_reads.buyer_sub_order(order, sub_order_id)
    if data["lines"] is None:
        lines = {line.id: line.quantity - line.refunded_quantity for line in sub_order.lines}
    else:
        lines = {int(k): v for k, v in data["lines"].items()}
    result = {}

    def act():
        result["refund"] = orders.request_refund(sub_order, lines=lines, reason=data["reason"], actor=current_user)

    _transition(act)
    return result["refund"]


@blp.route("/supplier/sub-orders/<int:sub_order_id>/ship", methods=["POST"])
@require(Permission.SUPPLIER_WORKSPACE)
@blp.arguments(ShopShipmentInSchema)
@blp.response(200, ShopSubOrderSchema)
def ship_sub_order(data, sub_order_id: int):
    """The supplier ships its paid part of an order, with the carrier and tracking number."""
    sub_order = order_reads.supplier_sub_order(sub_order_id, supplier_of(current_user), lock=True)
    _transition(lambda: orders.ship(sub_order, carrier=data["carrier"], tracking_number=data["tracking_number"]))
    return order_reads.supplier_sub_order(sub_order_id, supplier_of(current_user))

