"""Procurement's JSON API under /api/v1: buyer units and their annual plans.

Every endpoint needs an account; which units it shows is decided row by row
(administrators: their region; unit members: their unit, and a unit
administrator also its sub-units; anyone else: none). Money is integer fen,
shares are basis points (1000 = 10%).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from core.errors import Forbidden, ValidationFailed
from core.extensions import db
from core.permissions import Permission, require
from procurement.models import BuyerUnit, CanteenMode, UnitStatus, UnitType
from procurement.services import common, plans, units

blp = Blueprint("procurement_api", __name__, url_prefix="/api/v1", description="Buyer units and their plans")


class UnitSchema(Schema):
    id = fields.Int()
    name = fields.Str()
    type = fields.Str(metadata={"description": "one of " + ", ".join(t.value for t in UnitType)})
    status = fields.Str(metadata={"description": "one of " + ", ".join(s.value for s in UnitStatus)})
    region_id = fields.Int()
    parent_id = fields.Int(allow_none=True)
    approval_threshold_fen = fields.Int(metadata={"description": "orders above this amount (fen) need an approver"})
    promotion_code = fields.Str(allow_none=True, metadata={"description": "帮助销售 link: /u/<code>"})
    created_at = fields.DateTime()


class UnitQuerySchema(Schema):
    page = fields.Int(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Int(load_default=50, validate=validate.Range(min=1, max=200))
    status = fields.Str(load_default=None, validate=validate.OneOf([s.value for s in UnitStatus]))
    type = fields.Str(load_default=None, validate=validate.OneOf([t.value for t in UnitType]))
    q = fields.Str(load_default="", validate=validate.Length(max=60))


class UnitPageSchema(Schema):
    total = fields.Int()
    page = fields.Int()
    per_page = fields.Int()
    items = fields.List(fields.Nested(UnitSchema))


class PlanSchema(Schema):
    unit_id = fields.Int()
    year = fields.Int()
    status = fields.Str(metadata={"description": "missing, own, none, shared, or admin (an administrator's "
                                                 "figure is in force)"})
    canteen_mode = fields.Str(allow_none=True)
    canteen_budget_fen = fields.Int(allow_none=True)
    reserved_share_bp = fields.Int(allow_none=True, metadata={"description": "basis points: 1000 = 10%"})
    minimum_share_bp = fields.Int(allow_none=True, metadata={"description": "the minimum in force when declared"})
    host_unit_id = fields.Int(allow_none=True)
    declared_plan_fen = fields.Int(allow_none=True)
    admin_plan_fen = fields.Int(allow_none=True)
    admin_reason = fields.Str(allow_none=True)
    plan_fen = fields.Int(allow_none=True, metadata={"description": "the figure in force; null when missing"})
    declared_at = fields.DateTime(allow_none=True)
    updated_at = fields.DateTime(allow_none=True)


class PlanPutSchema(Schema):
    """A unit administrator sends a declaration; an administrator sends ``plan_fen`` (or ``clear_figure``)."""

    canteen_mode = fields.Str(load_default=None, validate=validate.OneOf([m.value for m in CanteenMode]))
    canteen_budget_fen = fields.Int(load_default=None, strict=True)
    reserved_share_bp = fields.Int(load_default=None, strict=True, metadata={"description": "1000 = 10%"})
    host_unit_id = fields.Int(load_default=None, strict=True)
    plan_fen = fields.Int(load_default=None, strict=True, metadata={"description": "administrators only"})
    clear_figure = fields.Bool(load_default=False, metadata={"description": "administrators only"})
    reason = fields.Str(load_default=None, validate=validate.Length(max=500))


def _plan_body(unit_id: int, year: int, plan) -> dict:
    body = {"unit_id": unit_id, "year": year, "status": plans.plan_status(plan)}
    body.update(dict.fromkeys(set(PlanSchema().fields) - set(body)))  # a missing plan: every figure null
    if plan is not None:
        body.update(plans.plan_snapshot(plan), admin_reason=plan.admin_reason, declared_at=plan.declared_at,
                    updated_at=plan.updated_at)
    return body


def _visible_unit(unit_id: int):
    unit = common.get_unit(unit_id)
    common.ensure_may_view(current_user, unit)
    return unit


@blp.route("/units")
@require(Permission.ACCOUNT)
@blp.arguments(UnitQuerySchema, location="query")
@blp.response(200, UnitPageSchema)
def list_units(args):
    """The units the caller may see: an administrator's region, or one's own unit and its sub-units."""
    stmt = units.units_in_scope(
        current_user, status=UnitStatus(args["status"]) if args["status"] else None,
        unit_type=UnitType(args["type"]) if args["type"] else None, q=args["q"].strip(),
    ).order_by(None).order_by(BuyerUnit.id)
    total = db.session.execute(sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
    items = db.session.execute(
        stmt.limit(args["per_page"]).offset((args["page"] - 1) * args["per_page"])
    ).unique().scalars().all()
    return {"total": total, "page": args["page"], "per_page": args["per_page"], "items": items}


@blp.route("/units/<int:unit_id>")
@require(Permission.ACCOUNT)
@blp.response(200, UnitSchema)
def get_unit(unit_id: int):
    """One unit the caller may see."""
    return _visible_unit(unit_id)


@blp.route("/units/<int:unit_id>/plans/<int:year>", methods=["GET"])
@require(Permission.ACCOUNT)
@blp.response(200, PlanSchema)
def get_plan(unit_id: int, year: int):
    """The unit's plan for ``year``; a unit without one answers with status "missing", not 404."""
    unit = _visible_unit(unit_id)
    year = common.check_year(year)
    return _plan_body(unit.id, year, plans.get_plan(unit.id, year))


@blp.route("/units/<int:unit_id>/plans/<int:year>", methods=["PUT"])
@require(Permission.ACCOUNT)
@blp.arguments(PlanPutSchema)
@blp.response(200, PlanSchema)
def put_plan(payload, unit_id: int, year: int):
    """Declare the plan (the unit's administrator) or set the figure (an administrator of the region).

    The reason is required for a change after the first declaration and for every administrator's figure.
    """
    unit = common.get_unit(unit_id)
    declared = [k for k in ("canteen_mode", "canteen_budget_fen", "reserved_share_bp", "host_unit_id")
                if payload[k] is not None]
    if common.is_admin(current_user):
        if declared:
            raise ValidationFailed(_("Administrators set the plan figure (plan_fen); the unit declares its canteen."),
                                   field=declared[0])
        if payload["clear_figure"]:
            plan = plans.clear_plan_figure(current_user, unit, year, reason=payload["reason"])
        else:
            plan = plans.set_plan_figure(current_user, unit, year, plan_fen=payload["plan_fen"],
                                         reason=payload["reason"])
    else:
        if payload["plan_fen"] is not None or payload["clear_figure"]:
            raise Forbidden(_("Only an administrator of the unit's region sets the plan figure."))
        if payload["canteen_mode"] is None:
            raise ValidationFailed(_("Say whether the unit has its own canteen, none, or shares one."),
                                   field="canteen_mode")
        plan = plans.declare_plan(current_user, unit, year, plans.Declaration(
            canteen_mode=CanteenMode(payload["canteen_mode"]), canteen_budget_fen=payload["canteen_budget_fen"],
            reserved_share_bp=payload["reserved_share_bp"], host_unit_id=payload["host_unit_id"],
        ), reason=payload["reason"])
    db.session.commit()
    return _plan_body(unit.id, common.check_year(year), plan)
