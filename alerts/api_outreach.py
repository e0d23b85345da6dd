"""Recommended buyer units, outreach and conversion in the JSON API under /api/v1.

- ``GET /warnings/<id>/recommendations``: the units ranked for a warning's product now (order in
  ``alerts.recommend``), and the units told about it with their answers and the orders that followed.
  Administrators of the product's region.
- ``GET /outreach``: the requests for help sent to the caller's buyer unit; ``POST
  /outreach/<id>/decline`` answers "not for us". Another unit's outreach answers 404.
- ``GET /warnings/conversion``: warning → order conversion and time to resolution by level, for the
  administrator's region.

Money is integer fen; times are UTC.
"""

from __future__ import annotations

from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from alerts import outreach, recommend, services
from alerts.models_outreach import OutreachAnswer
from core.extensions import db
from core.permissions import Permission, require
from procurement.services.common import unit_of

blp = Blueprint("alerts_outreach_api", __name__, url_prefix="/api/v1",
                description="Recommended buyer units for a warning, outreach to them, and conversion to orders")

FIGURES_DESCRIPTION = (
    "the score breakdown: year, assisted (an assistance relation with the product's county this year), "
    "assistance_kind, county_name, plan_fen (null: no plan), counted_fen, room_fen (plan − counted; null: no plan), "
    "purchases_fen (procurement in the product's category over purchase_days), distance (same_county, "
    "same_city, same_province or elsewhere)")


class RecommendationSchema(Schema):
    rank = fields.Int()
    unit_id = fields.Int()
    unit_name = fields.Str()
    figures = fields.Dict(metadata={"description": FIGURES_DESCRIPTION})
    reasons = fields.List(fields.Str(), metadata={"description": "the figures in words, in the ranking's order"})


class OutreachOrderSchema(Schema):
    procurement_order_id = fields.Int()
    number = fields.Str()
    submitted_at = fields.DateTime()
    status = fields.Str()
    quantity = fields.Int(metadata={"description": "of the warned product"})
    amount_fen = fields.Int(metadata={"description": "of the warned product"})


class OutreachSchema(Schema):
    id = fields.Int()
    warning_id = fields.Int()
    unit_id = fields.Int()
    rank = fields.Int()
    level = fields.Str(metadata={"description": "the warning's level when the unit was told, or after a rise"})
    figures = fields.Dict(metadata={"description": FIGURES_DESCRIPTION})
    reasons = fields.List(fields.Str())
    notified_at = fields.DateTime()
    raised_at = fields.DateTime(allow_none=True)
    told_user_count = fields.Int()
    seen_at = fields.DateTime(allow_none=True)
    answer = fields.Str(allow_none=True, metadata={"description": "ordering, declined or null"})
    answered_at = fields.DateTime(allow_none=True)
    answer_note = fields.Str()
    orders = fields.List(fields.Nested(OutreachOrderSchema))


class WarningRecommendationsSchema(Schema):
    warning_id = fields.Int()
    product_id = fields.Int()
    ranking = fields.List(fields.Nested(RecommendationSchema))
    outreach = fields.List(fields.Nested(OutreachSchema))


class RecommendationQuerySchema(Schema):
    limit = fields.Int(load_default=None, validate=validate.Range(min=1, max=50),
                       metadata={"description": "how many units (default ALERTS_RECOMMEND_TOP)"})


class UnitOutreachSchema(OutreachSchema):
    product_id = fields.Int()
    product_name = fields.Str()
    county_name = fields.Str()
    warning_status = fields.Str()
    amount_at_risk_fen = fields.Int()
    days_left = fields.Int(allow_none=True)
    suggested_quantity = fields.Int(metadata={"description": "what the one-click order puts in the cart"})
    orderable = fields.Bool(metadata={"description": "the warning is live and the product on sale"})


class UnitOutreachListSchema(Schema):
    unit_id = fields.Int()
    items = fields.List(fields.Nested(UnitOutreachSchema))


class OutreachDeclineSchema(Schema):
    note = fields.Str(load_default="", validate=validate.Length(max=500))


class WarningConversionQuerySchema(Schema):
    since = fields.Date(load_default=None, metadata={"description": "first day (Asia/Shanghai); default 89 days ago"})
    until = fields.Date(load_default=None, metadata={"description": "last day (Asia/Shanghai); default today"})


class WarningConversionRowSchema(Schema):
    level = fields.Str(allow_none=True, metadata={"description": "null on the row of every level"})
    opened = fields.Int()
    recommended = fields.Int(metadata={"description": "warnings with at least one unit told"})
    units_told = fields.Int()
    units_answered = fields.Int()
    converted = fields.Int(metadata={"description": "warnings with at least one following order"})
    conversion_percent = fields.Float(allow_none=True, metadata={"description": "converted ÷ opened × 100"})
    orders = fields.Int()
    resolved = fields.Int()
    median_hours_to_resolution = fields.Float(allow_none=True)
    median_hours_to_first_order = fields.Float(allow_none=True)


class WarningConversionSchema(Schema):
    since = fields.Date()
    until = fields.Date()
    levels = fields.List(fields.Nested(WarningConversionRowSchema))
    total = fields.Nested(WarningConversionRowSchema)


def _outreach_dict(o, orders) -> dict:
    return {"id": o.id, "warning_id": o.warning_id, "unit_id": o.unit_id, "rank": o.rank, "level": o.level.value,
            "figures": o.figures, "reasons": recommend.reasons(o.figures), "notified_at": o.notified_at,
            "raised_at": o.raised_at, "told_user_count": len(o.told_user_ids or []), "seen_at": o.seen_at,
            "answer": o.answer.value if o.answer else None, "answered_at": o.answered_at,
            "answer_note": o.answer_note, "orders": orders}


@blp.route("/warnings/<int:warning_id>/recommendations")
@require(Permission.ALERTS_MANAGE)
@blp.arguments(RecommendationQuerySchema, location="query")
@blp.response(200, WarningRecommendationsSchema)
def warning_recommendations(args, warning_id: int):
    """The buyer units recommended for a warning's product, and those told about it."""
    warning = services.get_visible(current_user, warning_id)
    year = recommend.current_year()
    ranking = recommend.recommend(warning.product_id, top=args["limit"], year=year)
    rows = outreach.warning_rows(warning)
    return {"warning_id": warning.id, "product_id": warning.product_id,
            "ranking": [{"rank": r.rank, "unit_id": r.unit_id, "unit_name": r.unit_name, "figures": r.figures(year),
                         "reasons": recommend.reasons(r.figures(year))} for r in ranking],
            "outreach": [_outreach_dict(r.outreach, r.orders) for r in rows]}


@blp.route("/outreach")
@require(Permission.UNIT_WORKSPACE)
@blp.response(200, UnitOutreachListSchema)
def unit_outreach():
    """The requests for help sent to the caller's buyer unit, live warnings first."""
    member = unit_of(current_user)
    items = []
    for r in outreach.unit_rows(member.unit_id):
        item = _outreach_dict(r.outreach, r.orders)
        item.update(product_id=r.product.id, product_name=r.product.name, county_name=r.county_name,
                    warning_status=r.warning.status.value, amount_at_risk_fen=r.warning.amount_at_risk_fen,
                    days_left=r.warning.days_left, suggested_quantity=r.suggested_quantity, orderable=r.on_sale)
        items.append(item)
    return {"unit_id": member.unit_id, "items": items}


@blp.route("/outreach/<int:outreach_id>/decline", methods=["POST"])
@require(Permission.UNIT_WORKSPACE)
@blp.arguments(OutreachDeclineSchema)
@blp.response(200, OutreachSchema)
def decline_outreach(payload, outreach_id: int):
    """Answer "not for us" for the caller's unit (a unit administrator or buyer)."""
    item = outreach.get_for_member(current_user, outreach_id)
    outreach.answer(current_user, item, OutreachAnswer.DECLINED, payload["note"])
    db.session.commit()
    return _outreach_dict(item, outreach.following_orders([item.id]).get(item.id, []))


@blp.route("/warnings/conversion")
@require(Permission.ALERTS_MANAGE)
@blp.arguments(WarningConversionQuerySchema, location="query")
@blp.response(200, WarningConversionSchema)
def conversion_report(args):
    """Warnings opened in the period that led to an order, by level, and the median time to resolution."""
    from alerts.views_outreach import report_period

    since, until = report_period({})
    report = outreach.conversion(services.visible_clause(current_user), args["since"] or since,
                                 args["until"] or until)
    rows = [*report.levels, report.total]
    out = [{"level": r.level.value if r.level else None, "opened": r.opened, "recommended": r.recommended,
            "units_told": r.units_told, "units_answered": r.units_answered, "converted": r.converted,
            "conversion_percent": r.conversion_percent, "orders": r.orders, "resolved": r.resolved,
            "median_hours_to_resolution": r.median_hours_to_resolution,
            "median_hours_to_first_order": r.median_hours_to_first_order} for r in rows]
    return {"since": report.since, "until": report.until, "levels": out[:-1], "total": out[-1]}
