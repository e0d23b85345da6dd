"""Plan-lag warnings in the JSON API under /api/v1: list, get, acknowledge.

A unit's members see their own unit's warnings; administrators those of the units in their region
(platform administrators all). Someone else's warning answers 404; acknowledging is for the unit's
administrators and the region's (403 for the unit's other members). Money is integer fen; points and
percentages are decimal strings with two decimals.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from alerts import services_planlag as services
from alerts.api import NoteSchema
from alerts.models import SHOWN_STATUSES, ActionKind, WarningLevel, WarningStatus
from alerts.models_planlag import PlanLagWarning
from core.extensions import db
from core.permissions import Permission, require

blp = Blueprint("plan_lag_api", __name__, url_prefix="/api/v1",
                description="Plan-lag warnings: buyer units whose plan completion trails time progress")


class PlanLagFiguresSchema(Schema):
    plan_fen = fields.Int(allow_none=True)
    counted_fen = fields.Int()
    completion = fields.Str(allow_none=True, metadata={"description": "counted ÷ plan, percent"})
    time_progress = fields.Str(metadata={"description": "day of year ÷ days in the year, percent"})
    gap_points = fields.Str(allow_none=True, metadata={"description": "time progress − completion, points"})
    gap_fen = fields.Int(allow_none=True, metadata={"description": "plan × time progress − counted, fen"})
    previous_gap_points = fields.Str(allow_none=True, metadata={"description": "the gap on the run before"})


class PlanLagWarningSchema(Schema):
    id = fields.Int()
    unit_id = fields.Int()
    unit_name = fields.Function(lambda w: w.unit.name)
    year = fields.Int()
    level = fields.Str(metadata={"description": "blue (四级), yellow (三级), orange (二级) or red (一级, the highest)"})
    status = fields.Str(metadata={"description": "one of " + ", ".join(s.value for s in SHOWN_STATUSES)
                                                 + ", resolved"})
    gap_points = fields.Decimal(as_string=True, metadata={"description": "behind time progress, points"})
    gap_fen = fields.Int(metadata={"description": "behind time progress, fen"})
    figures = fields.Nested(PlanLagFiguresSchema)
    first_run_id = fields.Int()
    last_run_id = fields.Int()
    opened_at = fields.DateTime(allow_none=True)
    acknowledged_at = fields.DateTime(allow_none=True)
    handled_at = fields.DateTime(allow_none=True)
    resolved_at = fields.DateTime(allow_none=True)


class PlanLagQuerySchema(Schema):
    page = fields.Int(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Int(load_default=50, validate=validate.Range(min=1, max=200))
    year = fields.Int(load_default=None, validate=validate.Range(min=2000, max=2100))
    level = fields.Str(load_default=None, validate=validate.OneOf([lv.value for lv in WarningLevel]))
    status = fields.Str(load_default=None, validate=validate.OneOf([s.value for s in (*SHOWN_STATUSES,
                                                                                     WarningStatus.RESOLVED)]))


class PlanLagPageSchema(Schema):
    total = fields.Int()
    page = fields.Int()
    per_page = fields.Int()
    items = fields.List(fields.Nested(PlanLagWarningSchema))


@blp.route("/plan-lag-warnings")
@require(Permission.PLAN_LAG_VIEW)
@blp.arguments(PlanLagQuerySchema, location="query")
@blp.response(200, PlanLagPageSchema)
def list_plan_lag_warnings(args):
    """Plan-lag warnings the caller may see, open ones by default, worst first."""
    stmt = services.visible(current_user)
    stmt = stmt.where(PlanLagWarning.status == args["status"]) if args["status"] else stmt.where(
        PlanLagWarning.status.in_(SHOWN_STATUSES))
    if args["year"]:
        stmt = stmt.where(PlanLagWarning.year == args["year"])
    if args["level"]:
        stmt = stmt.where(PlanLagWarning.level == args["level"])
    total = db.session.execute(sa.select(sa.func.count()).select_from(stmt.subquery())).scalar_one()
    items = db.session.execute(stmt.options(sa.orm.joinedload(PlanLagWarning.unit)).order_by(*services.ordering())
                               .limit(args["per_page"]).offset((args["page"] - 1) * args["per_page"])).scalars().all()
    return {"total": total, "page": args["page"], "per_page": args["per_page"], "items": items}


@blp.route("/plan-lag-warnings/<int:warning_id>")
@require(Permission.PLAN_LAG_VIEW)
@blp.response(200, PlanLagWarningSchema)
def get_plan_lag_warning(warning_id: int):
    """One plan-lag warning the caller may see."""
    return services.get_visible(current_user, warning_id)


@blp.route("/plan-lag-warnings/<int:warning_id>/acknowledge", methods=["POST"])
@require(Permission.PLAN_LAG_VIEW)
@blp.arguments(NoteSchema)
@blp.response(200, PlanLagWarningSchema)
def acknowledge_plan_lag_warning(payload, warning_id: int):
    """Acknowledge an open plan-lag warning (the unit's administrators or an administrator of its region)."""
    warning = services.get_visible(current_user, warning_id)
    services.act(current_user, warning, ActionKind.ACKNOWLEDGE, note=payload.get("note", ""))
    db.session.commit()
    return warning
