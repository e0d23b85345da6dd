"""The early warnings in the JSON API under /api/v1: list, get, acknowledge, assign, resolve.

A supplier's members see their own products' warnings; administrators see those of their region
(platform administrators all). Someone else's warning answers 404. Money is integer fen.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from alerts import services
from alerts.models import SHOWN_STATUSES, ActionKind, Warning, WarningCause, WarningLevel, WarningStatus
from core.extensions import db
from core.permissions import Permission, require
from shop import signals
from shop.models import Product

blp = Blueprint("alerts_api", __name__, url_prefix="/api/v1", description="Early warnings of unsold produce")


class WarningSchema(Schema):
    id = fields.Int()
    product_id = fields.Int()
    cause = fields.Str(metadata={"description": "one of " + ", ".join(c.value for c in WarningCause)})
    level = fields.Str(metadata={"description": "blue (四级), yellow (三级), orange (二级) or red (一级, the highest)"})
    status = fields.Str(metadata={"description": "one of " + ", ".join(s.value for s in SHOWN_STATUSES)
                                                 + ", resolved"})
    rule = fields.Str()
    playbook = fields.Str()
    amount_at_risk_fen = fields.Int()
    days_left = fields.Int(allow_none=True)
    figures = fields.Dict(metadata={"description": "the numbers behind the latest run (see alerts.rules)"})
    assignee_id = fields.Int(allow_none=True)
    opened_at = fields.DateTime(allow_none=True)
    acknowledged_at = fields.DateTime(allow_none=True)
    handled_at = fields.DateTime(allow_none=True)
    resolved_at = fields.DateTime(allow_none=True)


class WarningQuerySchema(Schema):
    page = fields.Int(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Int(load_default=50, validate=validate.Range(min=1, max=200))
    level = fields.Str(load_default=None, validate=validate.OneOf([lv.value for lv in WarningLevel]))
    status = fields.Str(load_default=None, validate=validate.OneOf([s.value for s in (*SHOWN_STATUSES,
                                                                                     WarningStatus.RESOLVED)]))
    county_id = fields.Int(load_default=None)
    category_id = fields.Int(load_default=None)


class WarningPageSchema(Schema):
    total = fields.Int()
    page = fields.Int()
    per_page = fields.Int()
    items = fields.List(fields.Nested(WarningSchema))


class NoteSchema(Schema):
    note = fields.Str(load_default="", validate=validate.Length(max=2000))


class AssignSchema(NoteSchema):
    assignee_id = fields.Int(required=True, strict=True)


@blp.route("/warnings")
@require(Permission.ALERTS_VIEW)
@blp.arguments(WarningQuerySchema, location="query")
@blp.response(200, WarningPageSchema)
def list_warnings(args):
    """Warnings the caller may see, open ones by default, worst first."""
    stmt = services.visible_warnings(current_user)
    stmt = stmt.where(Warning.status == args["status"]) if args["status"] else stmt.where(
        Warning.status.in_(SHOWN_STATUSES))
    if args["level"]:
        stmt = stmt.where(Warning.level == args["level"])
    if args["county_id"]:
        stmt = stmt.where(Product.origin_county_id == args["county_id"])
    if args["category_id"]:
        stmt = stmt.where(Product.category_id == args["category_id"])
    total = db.session.execute(sa.select(sa.func.count()).select_from(stmt.subquery())).scalar_one()
    severity = sa.case({"red": 4, "orange": 3, "yellow": 2, "blue": 1}, value=Warning.level)
    items = db.session.execute(stmt.order_by(severity.desc(), Warning.amount_at_risk_fen.desc(), Warning.id)
                               .limit(args["per_page"]).offset((args["page"] - 1) * args["per_page"])).scalars().all()
    return {"total": total, "page": args["page"], "per_page": args["per_page"], "items": items}


@blp.route("/warnings/<int:warning_id>")
@require(Permission.ALERTS_VIEW)
@blp.response(200, WarningSchema)
def get_warning(warning_id: int):
    """One warning the caller may see."""
    return services.get_visible(current_user, warning_id)


def _act(warning_id: int, kind: ActionKind, payload: dict) -> Warning:
    warning = services.get_visible(current_user, warning_id)
    services.act(current_user, warning, kind, note=payload.get("note", ""), assignee_id=payload.get("assignee_id"))
    db.session.commit()
    if kind == ActionKind.RESOLVE:
        signals.announce(warning.product_id)  # the urgent-sale mark may have changed: search re-reads it
    return warning


@blp.route("/warnings/<int:warning_id>/acknowledge", methods=["POST"])
@require(Permission.ALERTS_VIEW)
@blp.arguments(NoteSchema)
@blp.response(200, WarningSchema)
def acknowledge_warning(payload, warning_id: int):
    """Acknowledge an open warning (the supplier or an administrator of the region)."""
    return _act(warning_id, ActionKind.ACKNOWLEDGE, payload)


@blp.route("/warnings/<int:warning_id>/assign", methods=["POST"])
@require(Permission.ALERTS_VIEW)
@blp.arguments(AssignSchema)
@blp.response(200, WarningSchema)
def assign_warning(payload, warning_id: int):
    """Assign the warning to a member of the supplier or an administrator of the region."""
    return _act(warning_id, ActionKind.ASSIGN, payload)


@blp.route("/warnings/<int:warning_id>/resolve", methods=["POST"])
@require(Permission.ALERTS_VIEW)
@blp.arguments(NoteSchema)
@blp.response(200, WarningSchema)
def resolve_warning(payload, warning_id: int):
    """Resolve the warning by hand; the product leaves the urgent-sale zone when nothing else is open for it."""
    return _act(warning_id, ActionKind.RESOLVE, payload)
