"""Procurement orders in the JSON API under /api/v1/procurement-orders: create, read, list, and every transition.

Which orders a caller sees is decided row by row (administrators: their region;
unit members: their unit, and a unit administrator also its sub-units; suppliers:
orders they have a part in); anything else answers 404. Money is integer fen,
dates are ISO dates in Asia/Shanghai. Each transition answers with the whole
order; a refused one answers 409 (wrong state), 403 (wrong person) or 422 (bad input).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import url_for
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from core.extensions import db
from core.permissions import Permission, require
from procurement import signals
from procurement.models_ledger import PurchaseChannel
from procurement.models_orders import PartStatus, PaymentMethod, PaymentTerms, ProcurementOrder, ProcurementStatus
from procurement.services import order_reads, orders
from shop.services import orders as shop_orders

blp = Blueprint("procurement_orders_api", __name__, url_prefix="/api/v1/procurement-orders",
                description="Procurement orders of buyer units and their transitions")


def _one_of(enum_cls) -> str:
    return "one of " + ", ".join(m.value for m in enum_cls)


class POLineSchema(Schema):
    order_line_id = fields.Int()
    product_id = fields.Int()
    product_name = fields.Str()
    quantity = fields.Int(metadata={"description": "shipped quantity (as ordered)"})
    unit_price_fen = fields.Int(metadata={"description": "price snapshotted at submission"})
    amount_fen = fields.Int()
    accepted_quantity = fields.Int(allow_none=True, metadata={"description": "null until acceptance (验收)"})
    refused_quantity = fields.Int(allow_none=True)
    refusal_reason = fields.Str(allow_none=True)
    returned_quantity = fields.Int(allow_none=True)


class POPaymentSchema(Schema):
    method = fields.Str(metadata={"description": _one_of(PaymentMethod)})
    reference = fields.Str()
    amount_fen = fields.Int()
    paid_on = fields.Date()


class POPartSchema(Schema):
    id = fields.Int()
    supplier_id = fields.Int()
    supplier_name = fields.Str()
    status = fields.Str(metadata={"description": _one_of(PartStatus)})
    subtotal_fen = fields.Int()
    decline_reason = fields.Str(allow_none=True)
    payment_due_on = fields.Date(allow_none=True, metadata={"description": "pay-first only"})
    due_extended = fields.Bool()
    carrier = fields.Str(allow_none=True)
    tracking_number = fields.Str(allow_none=True)
    accepted_fen = fields.Int()
    invoice_number = fields.Str(allow_none=True)
    invoice_amount_fen = fields.Int(allow_none=True)
    invoice_date = fields.Date(allow_none=True)
    payment = fields.Nested(POPaymentSchema, allow_none=True)
    lines = fields.List(fields.Nested(POLineSchema))


class POOrderSchema(Schema):
    id = fields.Int()
    number = fields.Str(metadata={"description": "the shop order number"})
    unit_id = fields.Int(metadata={"description": "所属预算单位"})
    channel = fields.Str(metadata={"description": _one_of(PurchaseChannel)})
    payment_terms = fields.Str(metadata={"description": _one_of(PaymentTerms)})
    address_id = fields.Int()
    wanted_on = fields.Date()
    status = fields.Str(metadata={"description": _one_of(ProcurementStatus)})
    total_fen = fields.Int()
    submitted_by_id = fields.Int()
    submitted_at = fields.DateTime()
    decided_at = fields.DateTime(allow_none=True)
    decision_comment = fields.Str(allow_none=True)
    contract_url = fields.Str(metadata={"description": "the contract document (HTML)"})
    parts = fields.List(fields.Nested(POPartSchema))


class POOrderPageSchema(Schema):
    total = fields.Int()
    page = fields.Int()
    per_page = fields.Int()
    items = fields.List(fields.Nested(POOrderSchema))


class POItemSchema(Schema):
    product_id = fields.Int(required=True, strict=True)
    quantity = fields.Int(required=True, strict=True, validate=validate.Range(min=1, max=10_000))


class POCreateSchema(Schema):
    items = fields.List(fields.Nested(POItemSchema), required=True, validate=validate.Length(min=1, max=50))
    address_id = fields.Int(required=True, strict=True, metadata={"description": "one of the unit's addresses"})
    wanted_on = fields.Date(required=True)
    channel = fields.Str(required=True, validate=validate.OneOf([c.value for c in PurchaseChannel]))
    payment_terms = fields.Str(required=True, validate=validate.OneOf([t.value for t in PaymentTerms]))
    idempotency_key = fields.Str(required=True, validate=validate.Regexp(r"^[A-Za-z0-9_-]{8,64}$"),
                                 metadata={"description": "the same key twice returns the first order"})
    unit_id = fields.Int(load_default=None, strict=True,
                         metadata={"description": "a unit administrator may order for a sub-unit"})


class POListQuerySchema(Schema):
    page = fields.Int(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Int(load_default=50, validate=validate.Range(min=1, max=200))
    status = fields.Str(load_default=None, validate=validate.OneOf([s.value for s in ProcurementStatus]))
    unit_id = fields.Int(load_default=None)


class PODecisionSchema(Schema):
    comment = fields.Str(load_default="", validate=validate.Length(max=1000),
                         metadata={"description": "required to reject"})


class POReasonSchema(Schema):
    reason = fields.Str(required=True, validate=validate.Length(min=1, max=1000))


class POShipSchema(Schema):
    carrier = fields.Str(required=True, validate=validate.Length(max=40))
    tracking_number = fields.Str(required=True, validate=validate.Length(max=60))


class POAcceptLineSchema(Schema):
    order_line_id = fields.Int(required=True, strict=True)
    accepted_quantity = fields.Int(required=True, strict=True)
    reason = fields.Str(load_default="", validate=validate.Length(max=1000),
                        metadata={"description": "why the rest is refused (required when any is)"})


class POAcceptSchema(Schema):
    lines = fields.List(fields.Nested(POAcceptLineSchema), required=True, validate=validate.Length(min=1))


class POInvoiceSchema(Schema):
    number = fields.Str(required=True, validate=validate.Length(max=40))
    amount_fen = fields.Int(required=True, strict=True, metadata={"description": "at most the accepted amount"})
    invoice_date = fields.Date(required=True)


class POPayBodySchema(Schema):
    method = fields.Str(required=True, validate=validate.OneOf([m.value for m in PaymentMethod]))
    reference = fields.Str(required=True, validate=validate.Length(max=64),
                           metadata={"description": "unique on the whole platform"})
    paid_on = fields.Date(required=True)


class POReturnLineSchema(Schema):
    order_line_id = fields.Int(required=True, strict=True)
    quantity = fields.Int(required=True, strict=True)


class POReturnSchema(Schema):
    lines = fields.List(fields.Nested(POReturnLineSchema), required=True, validate=validate.Length(min=1))
    reason = fields.Str(required=True, validate=validate.Length(min=1, max=1000))


class POUnitChangeSchema(Schema):
    unit_id = fields.Int(required=True, strict=True)
    reason = fields.Str(load_default=None, validate=validate.Length(max=500),
                        metadata={"description": "required from an administrator (after shipment)"})


def order_body(order: ProcurementOrder) -> dict:
    parts = []
    for part in order.parts:
        accepted = {line.order_line_id: line for line in part.lines}
        lines = []
        for line in part.sub_order.lines:
            done = accepted.get(line.id)
            lines.append({
                "order_line_id": line.id, "product_id": line.product_id, "product_name": line.product_name,
                "quantity": line.quantity, "unit_price_fen": line.unit_price_fen, "amount_fen": line.amount_fen,
                "accepted_quantity": done.accepted_quantity if done else None,
                "refused_quantity": done.refused_quantity if done else None,
                "refusal_reason": done.refusal_reason if done else None,
                "returned_quantity": done.returned_quantity if done else None,
            })
        so = part.sub_order
        parts.append({
            "id": part.id, "supplier_id": part.supplier_id, "supplier_name": part.supplier.name,
            "status": part.status.value, "subtotal_fen": so.subtotal_fen, "decline_reason": part.decline_reason,
            "payment_due_on": part.payment_due_on, "due_extended": part.due_extended, "carrier": so.carrier,
            "tracking_number": so.tracking_number, "accepted_fen": part.accepted_fen,
            "invoice_number": part.invoice_number, "invoice_amount_fen": part.invoice_amount_fen,
            "invoice_date": part.invoice_date, "payment": part.payment, "lines": lines,
        })
    return {
        "id": order.id, "number": order.order.number, "unit_id": order.unit_id, "channel": order.channel.value,
        "payment_terms": order.payment_terms.value, "address_id": order.address_id, "wanted_on": order.wanted_on,
        "status": order.status.value, "total_fen": order.order.total_fen, "submitted_by_id": order.submitted_by_id,
        "submitted_at": order.submitted_at, "decided_at": order.decided_at,
        "decision_comment": order.decision_comment,
        "contract_url": url_for("procurement.order_contract", procurement_order_id=order.id),
        "parts": parts,
    }


def _done(order: ProcurementOrder) -> dict:
    """Commit the transition, then send what the shop queued (stock and order signals)."""
    db.session.commit()
    shop_orders.send_pending_signals()
    return order_body(order_reads.get_order(current_user, order.id))


@blp.route("", methods=["POST"])
@require(Permission.UNIT_WORKSPACE)
@blp.arguments(POCreateSchema)
@blp.response(201, POOrderSchema)
def create_order(payload):
    """Submit a procurement order for the caller's unit (stock is reserved at once)."""
    items: dict = {}
    for item in payload["items"]:
        items[item["product_id"]] = items.get(item["product_id"], 0) + item["quantity"]
    order = orders.submit(current_user, items=items, address_id=payload["address_id"],
                          wanted_on=payload["wanted_on"], channel=payload["channel"],
                          payment_terms=payload["payment_terms"], idempotency_key=payload["idempotency_key"],
                          unit_id=payload["unit_id"])
    body = _done(order)
    signals.announce_submitted(order.id, order.unit_id)
    return body


@blp.route("", methods=["GET"])
@require(Permission.ACCOUNT)
@blp.arguments(POListQuerySchema, location="query")
@blp.response(200, POOrderPageSchema)
def list_orders(args):
    """The procurement orders the caller may see, newest first."""
    stmt = order_reads.list_orders(current_user, status=ProcurementStatus(args["status"]) if args["status"] else None,
                              unit_id=args["unit_id"])
    total = db.session.execute(sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
    page = db.session.execute(stmt.options(*order_reads.with_parts()).limit(args["per_page"])
                              .offset((args["page"] - 1) * args["per_page"])).unique().scalars().all()
    return {"total": total, "page": args["page"], "per_page": args["per_page"],
            "items": [order_body(o) for o in page]}


@blp.route("/<int:procurement_order_id>", methods=["GET"])
@require(Permission.ACCOUNT)
@blp.response(200, POOrderSchema)
def get_order(procurement_order_id: int):
    """One procurement order the caller may see."""
    return order_body(order_reads.get_order(current_user, procurement_order_id))


@blp.route("/<int:procurement_order_id>/approve", methods=["POST"])
@require(Permission.UNIT_APPROVE)
@blp.arguments(PODecisionSchema)
@blp.response(200, POOrderSchema)
def approve_order(payload, procurement_order_id: int):
    """An approver of the unit (not the one who placed it) approves the order."""
    order = order_reads.get_order(current_user, procurement_order_id)
    orders.approve(current_user, order, payload["comment"])
    return _done(order)


@blp.route("/<int:procurement_order_id>/reject", methods=["POST"])
@require(Permission.UNIT_APPROVE)
@blp.arguments(PODecisionSchema)
@blp.response(200, POOrderSchema)
def reject_order(payload, procurement_order_id: int):
    """An approver rejects the order with a comment; the stock goes back."""
    order = order_reads.get_order(current_user, procurement_order_id)
    orders.reject(current_user, order, payload["comment"])
    return _done(order)


@blp.route("/<int:procurement_order_id>/unit", methods=["POST"])
@require(Permission.ACCOUNT)
@blp.arguments(POUnitChangeSchema)
@blp.response(200, POOrderSchema)
def change_order_unit(payload, procurement_order_id: int):
    """Change the unit the order belongs to: the unit's administrator before shipment, an administrator after."""
    order = order_reads.get_order(current_user, procurement_order_id)
    orders.change_unit(current_user, order, payload["unit_id"], payload["reason"])
    return _done(order)


def _part(procurement_order_id: int, part_id: int):
    return order_reads.get_part(current_user, procurement_order_id, part_id)


@blp.route("/<int:procurement_order_id>/parts/<int:part_id>/confirm", methods=["POST"])
@require(Permission.SUPPLIER_WORKSPACE)
@blp.response(200, POOrderSchema)
def confirm_part(procurement_order_id: int, part_id: int):
    """The supplier confirms its part (a pay-first part's payment falls due in 30 days)."""
    part = _part(procurement_order_id, part_id)
    orders.confirm(current_user, part)
    return _done(part.procurement_order)


@blp.route("/<int:procurement_order_id>/parts/<int:part_id>/decline", methods=["POST"])
@require(Permission.SUPPLIER_WORKSPACE)
@blp.arguments(POReasonSchema)
@blp.response(200, POOrderSchema)
def decline_part(payload, procurement_order_id: int, part_id: int):
    """The supplier declines its part with a reason; its stock goes back."""
    part = _part(procurement_order_id, part_id)
    orders.decline(current_user, part, payload["reason"])
    return _done(part.procurement_order)


@blp.route("/<int:procurement_order_id>/parts/<int:part_id>/extend", methods=["POST"])
@require(Permission.SUPPLIER_WORKSPACE)
@blp.response(200, POOrderSchema)
def extend_part_payment(procurement_order_id: int, part_id: int):
    """The supplier grants the one 15-day extension of a pay-first payment."""
    part = _part(procurement_order_id, part_id)
    orders.extend_payment_due(current_user, part)
    return _done(part.procurement_order)


@blp.route("/<int:procurement_order_id>/parts/<int:part_id>/ship", methods=["POST"])
@require(Permission.SUPPLIER_WORKSPACE)
@blp.arguments(POShipSchema)
@blp.response(200, POOrderSchema)
def ship_part(payload, procurement_order_id: int, part_id: int):
    """The supplier ships its part (after payment when pay-first)."""
    part = _part(procurement_order_id, part_id)
    orders.ship(current_user, part, carrier=payload["carrier"], tracking_number=payload["tracking_number"])
    return _done(part.procurement_order)


@blp.route("/<int:procurement_order_id>/parts/<int:part_id>/accept", methods=["POST"])
@require(Permission.UNIT_WORKSPACE)
@blp.arguments(POAcceptSchema)
@blp.response(200, POOrderSchema)
def accept_part(payload, procurement_order_id: int, part_id: int):
    """验收: the unit accepts every line in full or in part; the accepted amount counts toward its plan."""
    part = _part(procurement_order_id, part_id)
    lines = {line["order_line_id"]: (line["accepted_quantity"], line["reason"]) for line in payload["lines"]}
    orders.accept(current_user, part, lines)
    return _done(part.procurement_order)


@blp.route("/<int:procurement_order_id>/parts/<int:part_id>/invoice", methods=["POST"])
@require(Permission.SUPPLIER_WORKSPACE)
@blp.arguments(POInvoiceSchema)
@blp.response(200, POOrderSchema)
def invoice_part(payload, procurement_order_id: int, part_id: int):
    """The supplier records its invoice (at most the accepted amount); the file is uploaded on the page."""
    part = _part(procurement_order_id, part_id)
    orders.record_invoice(current_user, part, number=payload["number"], amount_fen=payload["amount_fen"],
                          invoice_date=payload["invoice_date"])
    return _done(part.procurement_order)


@blp.route("/<int:procurement_order_id>/parts/<int:part_id>/pay", methods=["POST"])
@require(Permission.UNIT_WORKSPACE)
@blp.arguments(POPayBodySchema)
@blp.response(200, POOrderSchema)
def pay_part(payload, procurement_order_id: int, part_id: int):
    """The unit records its bank transfer or official-card payment; the reference is unique platform-wide."""
    part = _part(procurement_order_id, part_id)
    orders.record_payment(current_user, part, method=payload["method"], reference=payload["reference"],
                          paid_on=payload["paid_on"])
    return _done(part.procurement_order)


@blp.route("/<int:procurement_order_id>/parts/<int:part_id>/returns", methods=["POST"])
@require(Permission.UNIT_WORKSPACE)
@blp.arguments(POReturnSchema)
@blp.response(200, POOrderSchema)
def return_part_goods(payload, procurement_order_id: int, part_id: int):
    """Goods sent back after acceptance; the plan ledger subtracts them."""
    part = _part(procurement_order_id, part_id)
    orders.record_return(current_user, part, {line["order_line_id"]: line["quantity"] for line in payload["lines"]},
                         payload["reason"])
    return _done(part.procurement_order)
