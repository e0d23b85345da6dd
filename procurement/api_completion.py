"""Plan completion figures in the JSON API (/api/v1), for a county's own systems to pull.

Per unit (with its months), per region (rolled up the tree, with its child regions and months),
the list of units with their figures, and the lagging units. Money is integer fen; percentages
are decimal strings with two decimals ("35.98"). Units are shown as the caller may see them
(administrators: their region; unit members: their unit, a unit administrator also its
sub-units); regions are for administrators.

The two lists (units, lagging units) come a page at a time, as the other lists of the API do:
``page`` (from 1) and ``per_page`` (default 100, at most 1,000). The answer keeps its fields
(``year``, ``items``) and adds ``total``, ``page``, ``per_page`` and ``pages``, so a client
written when the whole list came at once still reads the first page and can tell from ``total``
that there is more; past the last page ``items`` is empty.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate

from core.errors import Forbidden, NotFound
from core.extensions import db
from core.pagination import Page
from core.permissions import Permission, require
from core.registry.models import Region
from core.registry.services import user_may_see_region
from procurement.services import common, completion, rollups

blp = Blueprint("completion_api", __name__, url_prefix="/api/v1", description="Plan completion figures")

PERCENT = {"description": "percent with two decimals, as a string"}
PER_PAGE = 100
MAX_PER_PAGE = 1_000


class FiguresSchema(Schema):
    year = fields.Int()
    plan_fen = fields.Int(allow_none=True, metadata={"description": "null: no plan for the year"})
    canteen_fen = fields.Int(metadata={"description": "食堂 channel, accepted minus returned and refunded"})
    union_fen = fields.Int(metadata={"description": "工会 channel"})
    employee_fen = fields.Int(metadata={"description": "职工个人: completed purchases of the unit's employees"})
    counted_fen = fields.Int(metadata={"description": "the channels in PLAN_COUNTED_CHANNELS"})
    help_sales_fen = fields.Int(metadata={"description": "帮助销售: kept apart, never in counted_fen"})
    completion = fields.Decimal(as_string=True, allow_none=True, metadata=PERCENT)
    time_progress = fields.Decimal(as_string=True, metadata=PERCENT)
    gap_fen = fields.Int(allow_none=True, metadata={"description": "plan × time progress − counted (negative: ahead)"})
    remaining_fen = fields.Int(allow_none=True, metadata={"description": "plan − counted"})
    lag_points = fields.Decimal(as_string=True, allow_none=True,
                                metadata={"description": "time progress − completion, in points"})


class UnitFiguresSchema(FiguresSchema):
    unit_id = fields.Int()
    name = fields.Str()
    type = fields.Str()
    parent_id = fields.Int(allow_none=True)
    region_id = fields.Int()


class MonthSchema(FiguresSchema):
    month = fields.Int()
    cumulative_counted_fen = fields.Int()
    cumulative_completion = fields.Decimal(as_string=True, allow_none=True, metadata=PERCENT)


class UnitCompletionSchema(UnitFiguresSchema):
    months = fields.List(fields.Nested(MonthSchema))
    sub_units = fields.List(fields.Nested(UnitFiguresSchema))


class RegionFiguresSchema(FiguresSchema):
    region_id = fields.Int(attribute="key")
    name = fields.Str(attribute="label")
    units = fields.Int()
    units_without_plan = fields.Int()
    guiding_plan_fen = fields.Int(allow_none=True)
    guiding_completion = fields.Decimal(as_string=True, allow_none=True, metadata=PERCENT)


class RegionCompletionSchema(RegionFiguresSchema):
    children = fields.List(fields.Nested(RegionFiguresSchema))
    months = fields.List(fields.Nested(MonthSchema))


def _points_in_range(value) -> None:
    if not 0 <= value <= 100:
        raise ValidationError(_("Give a number of percentage points between 0 and 100."))


class YearQuerySchema(Schema):
    year = fields.Int(load_default=None)


class UnitListQuerySchema(YearQuerySchema):
    region_id = fields.Int(load_default=None)
    page = fields.Int(load_default=1, validate=validate.Range(min=1, max=100_000),
                      metadata={"description": "which page of the list, from 1"})
    per_page = fields.Int(load_default=PER_PAGE, validate=validate.Range(min=1, max=MAX_PER_PAGE),
                          metadata={"description": f"units per page (default {PER_PAGE}, at most {MAX_PER_PAGE})"})


class LaggingQuerySchema(UnitListQuerySchema):
    min_gap_points = fields.Decimal(load_default=None, validate=_points_in_range,
                                    metadata={"description": "percentage points, 0 to 100"})


class UnitListSchema(Schema):
    year = fields.Int()
    total = fields.Int(metadata={"description": "units in the whole list"})
    page = fields.Int()
    per_page = fields.Int()
    pages = fields.Int(metadata={"description": "pages in the whole list (at least 1)"})
    items = fields.List(fields.Nested(UnitFiguresSchema))


def _year(raw: int | None) -> int:
    return common.local_year() if raw is None else common.check_year(raw)


def _region(region_id: int) -> Region:
    region = db.session.get(Region, region_id)
    if region is None:
        raise NotFound(_("No such region."))
    if not user_may_see_region(current_user, region):
        raise Forbidden(_("This region is outside your region."))
    return region


@blp.route("/units/<int:unit_id>/completion")
@require(Permission.ACCOUNT)
@blp.arguments(YearQuerySchema, location="query")
@blp.response(200, UnitCompletionSchema)
def unit_completion(args, unit_id: int):
    """A unit's figures for the year, month by month, and its sub-units'."""
    unit = common.get_unit(unit_id)
    common.ensure_may_view(current_user, unit)
    page = completion.unit_page(unit, _year(args["year"]))
    body = {name: getattr(page.unit, name) for name in UnitCompletionSchema().fields if hasattr(page.unit, name)}
    return {**body, "type": page.unit.type.value, "months": page.months, "sub_units": page.sub_units}


@blp.route("/completion/units")
@require(Permission.ACCOUNT)
@blp.arguments(UnitListQuerySchema, location="query")
@blp.response(200, UnitListSchema)
def list_unit_completion(args):
    """Every unit the caller may see with its figures for the year (units without a plan included), by
    name, a page at a time."""
    year = _year(args["year"])
    scope = common.visible_units_clause(current_user)
    if args["region_id"] is not None:
        scope = scope & completion.region_subtree_scope(_region(args["region_id"]))
    return _list_body(year, completion.unit_figures_page(year, scope, args["page"], args["per_page"]))


def _list_body(year: int, page: Page) -> dict:
    return {"year": year, "total": page.total, "page": page.page, "per_page": page.per_page, "pages": page.pages,
            "items": page.items}


@blp.route("/completion/regions/<int:region_id>")
@require(Permission.PLANS_MANAGE)
@blp.arguments(YearQuerySchema, location="query")
@blp.response(200, RegionCompletionSchema)
def region_completion(args, region_id: int):
    """A region's units rolled up against its guiding plan, its child regions, and its months."""
    region = _region(region_id)
    board = rollups.dashboard(_year(args["year"]), region)
    return {**_region_body(board.summary), "children": [_region_body(c) for c in board.children],
            "months": board.months}


@blp.route("/completion/lagging")
@require(Permission.PLANS_MANAGE)
@blp.arguments(LaggingQuerySchema, location="query")
@blp.response(200, UnitListSchema)
def lagging(args):
    """Units whose completion trails time progress by more than ``min_gap_points`` (PLAN_LAG_POINTS by
    default), furthest behind first, with the gap in fen."""
    year = _year(args["year"])
    region = _region(args["region_id"]) if args["region_id"] is not None else current_user.region
    if region is None and not common.is_admin(current_user):
        raise Forbidden(_("Only administrators see the lagging units."))
    points = completion.lag_points_setting() if args["min_gap_points"] is None else args["min_gap_points"]
    scope = common.visible_units_clause(current_user)
    if region is not None:
        scope = scope & completion.region_subtree_scope(region)
    return _list_body(year, rollups.lagging_page(year, scope, points, args["page"], args["per_page"]))


def _region_body(figures: rollups.RegionFigures) -> dict:
    body = {name: getattr(figures, name) for name in RegionFiguresSchema().fields
            if name not in ("region_id", "name") and hasattr(figures, name)}
    return {**body, "key": figures.key, "label": figures.label}
