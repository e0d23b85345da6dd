"""Matchmaking (产销对接) in the JSON API under /api/v1: demands, offers, matches.

A unit's members post and read their unit's demands; a supplier's members post and read their
offers; both read the matches that concern them and accept or decline them; administrators read
those of their region. Someone else's demand, offer or match answers 404. Money is integer fen;
dates are ISO dates (Asia/Shanghai calendar days).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from alerts import services_matching
from alerts.models_matching import Demand, DemandStatus, Match, MatchStatus, Offer, OfferStatus
from core.extensions import db
from core.permissions import Permission, require

blp = Blueprint("matching_api", __name__, url_prefix="/api/v1",
                description="Matchmaking (产销对接): unit demands, supplier offers and the proposed matches")


class DemandSchema(Schema):
    id = fields.Int()
    unit_id = fields.Int()
    category_id = fields.Int()
    quantity = fields.Int()
    unit = fields.Str(metadata={"description": "the unit counted: kg, 斤, 箱 …"})
    budget_fen = fields.Int(allow_none=True, metadata={"description": "for the whole quantity; null: none given"})
    delivery_from = fields.Date()
    delivery_to = fields.Date()
    wished_region_id = fields.Int(allow_none=True)
    note = fields.Str()
    status = fields.Str(metadata={"description": "one of " + ", ".join(s.value for s in DemandStatus)})
    created_at = fields.DateTime()


class DemandCreateSchema(Schema):
    category_id = fields.Int(required=True, strict=True)
    quantity = fields.Int(required=True, strict=True, validate=validate.Range(
        min=1, max=services_matching.MAX_QUANTITY))
    unit = fields.Str(required=True, validate=validate.Length(min=1, max=10))
    budget_fen = fields.Int(load_default=None, allow_none=True, strict=True,
                            validate=validate.Range(min=0, max=services_matching.MAX_BUDGET_FEN))
    delivery_from = fields.Date(required=True)
    delivery_to = fields.Date(required=True)
    wished_region_id = fields.Int(load_default=None, allow_none=True, strict=True)
    note = fields.Str(load_default="", validate=validate.Length(max=services_matching.MAX_NOTE))


class OfferSchema(Schema):
    id = fields.Int()
    supplier_id = fields.Int()
    product_id = fields.Int(allow_none=True)
    category_id = fields.Int()
    description = fields.Str()
    quantity = fields.Int()
    unit = fields.Str()
    ready_on = fields.Date()
    price_fen = fields.Int(metadata={"description": "per unit"})
    origin_region_id = fields.Int()
    status = fields.Str(metadata={"description": "one of " + ", ".join(s.value for s in OfferStatus)})
    created_at = fields.DateTime()


class OfferCreateSchema(Schema):
    product_id = fields.Int(load_default=None, allow_none=True, strict=True,
                            metadata={"description": "one of your listed products; or give category_id, unit, "
                                                     "description and price_fen"})
    category_id = fields.Int(load_default=None, allow_none=True, strict=True)
    description = fields.Str(load_default="", validate=validate.Length(max=500))
    quantity = fields.Int(required=True, strict=True, validate=validate.Range(
        min=1, max=services_matching.MAX_QUANTITY))
    unit = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=10))
    ready_on = fields.Date(required=True)
    price_fen = fields.Int(load_default=None, allow_none=True, strict=True,
                           validate=validate.Range(min=1, max=services_matching.MAX_PRICE_FEN),
                           metadata={"description": "per unit; a listed product's price when omitted"})


class MatchSchema(Schema):
    id = fields.Int()
    demand_id = fields.Int()
    offer_id = fields.Int(allow_none=True)
    product_id = fields.Int(allow_none=True)
    supplier_id = fields.Int()
    score = fields.Int(metadata={"description": "0–100, the sum of the reasons' points"})
    reasons = fields.List(fields.Dict(), metadata={"description": "code, points and the figures behind them"})
    status = fields.Str(metadata={"description": "one of " + ", ".join(s.value for s in MatchStatus)})
    warning_id = fields.Int(allow_none=True, metadata={"description": "the product's open warning (matched first)"})
    unit_price_fen = fields.Int()
    order_quantity = fields.Int(metadata={"description": "in the offer's or product's unit"})
    procurement_order_id = fields.Int(allow_none=True)
    created_at = fields.DateTime()


def _page_schema(name: str, item: type[Schema]) -> type[Schema]:
    return Schema.from_dict({"total": fields.Int(), "items": fields.List(fields.Nested(item))}, name=name)


DemandPageSchema = _page_schema("DemandPage", DemandSchema)
OfferPageSchema = _page_schema("OfferPage", OfferSchema)
MatchPageSchema = _page_schema("MatchPage", MatchSchema)


class ListQuerySchema(Schema):
    status = fields.Str(load_default=None)
    limit = fields.Int(load_default=50, validate=validate.Range(min=1, max=200))
    offset = fields.Int(load_default=0, validate=validate.Range(min=0, max=1_000_000))


class MatchQuerySchema(ListQuerySchema):
    status = fields.Str(load_default=None, validate=validate.OneOf([s.value for s in MatchStatus]))
    demand_id = fields.Int(load_default=None)
    offer_id = fields.Int(load_default=None)


class AcceptSchema(Schema):
    product_id = fields.Int(load_default=None, allow_none=True, strict=True,
                            metadata={"description": "a supplier accepting a match on an offer without a product "
                                                     "names the listed product to order"})


class DeclineSchema(Schema):
    reason = fields.Str(load_default="", validate=validate.Length(max=500))


def _page(stmt: sa.Select, args: dict, order) -> dict:
    total = db.session.execute(sa.select(sa.func.count()).select_from(stmt.subquery())).scalar_one()
    items = db.session.execute(stmt.order_by(*order).limit(args["limit"]).offset(args["offset"])).scalars().all()
    return {"total": total, "items": items}


@blp.route("/demands")
@require(Permission.ACCOUNT)
@blp.arguments(ListQuerySchema, location="query")
@blp.response(200, DemandPageSchema)
def list_demands(args):
    """The demands the caller may see: their unit's, or (administrators) their region's; newest first."""
    stmt = services_matching.visible_demands(current_user)
    if args["status"]:
        stmt = stmt.where(Demand.status == args["status"])
    return _page(stmt, args, (Demand.id.desc(),))


@blp.route("/demands", methods=["POST"])
@require(Permission.UNIT_WORKSPACE)
@blp.arguments(DemandCreateSchema)
@blp.response(201, DemandSchema)
def create_demand(payload):
    """Post a demand for the caller's unit; the matcher proposes offers and listed products at once."""
    demand = services_matching.create_demand(current_user, **payload)
    db.session.commit()
    return demand


@blp.route("/demands/<int:demand_id>")
@require(Permission.ACCOUNT)
@blp.response(200, DemandSchema)
def get_demand(demand_id: int):
    return services_matching.get_demand(current_user, demand_id)


@blp.route("/offers")
@require(Permission.ACCOUNT)
@blp.arguments(ListQuerySchema, location="query")
@blp.response(200, OfferPageSchema)
def list_offers(args):
    """The offers the caller may see: their supplier's, or (administrators) those from their region."""
    stmt = services_matching.visible_offers(current_user)
    if args["status"]:
        stmt = stmt.where(Offer.status == args["status"])
    return _page(stmt, args, (Offer.id.desc(),))


@blp.route("/offers", methods=["POST"])
@require(Permission.SUPPLIER_WORKSPACE)
@blp.arguments(OfferCreateSchema)
@blp.response(201, OfferSchema)
def create_offer(payload):
    """Post an offer for the caller's supplier; the matcher proposes it to open demands at once."""
    offer = services_matching.create_offer(current_user, **payload)
    db.session.commit()
    return offer


@blp.route("/offers/<int:offer_id>")
@require(Permission.ACCOUNT)
@blp.response(200, OfferSchema)
def get_offer(offer_id: int):
    return services_matching.get_offer(current_user, offer_id)


@blp.route("/matches")
@require(Permission.ACCOUNT)
@blp.arguments(MatchQuerySchema, location="query")
@blp.response(200, MatchPageSchema)
def list_matches(args):
    """The matches the caller may see; those on a product under an open warning first, then the best score."""
    stmt = services_matching.visible_matches(current_user)
    if args["status"]:
        stmt = stmt.where(Match.status == args["status"])
    else:
        stmt = stmt.where(Match.status != MatchStatus.EXPIRED)
    if args["demand_id"]:
        stmt = stmt.where(Match.demand_id == args["demand_id"])
    if args["offer_id"]:
        stmt = stmt.where(Match.offer_id == args["offer_id"])
    return _page(stmt, args, services_matching.ORDER)


@blp.route("/matches/<int:match_id>/accept", methods=["POST"])
@require(Permission.ACCOUNT)
@blp.arguments(AcceptSchema)
@blp.response(200, MatchSchema)
def accept_match(payload, match_id: int):
    """Accept for the caller's side (the demand's unit or the offering supplier)."""
    match = services_matching.accept(current_user, match_id, product_id=payload["product_id"])
    db.session.commit()
    return match


@blp.route("/matches/<int:match_id>/decline", methods=["POST"])
@require(Permission.ACCOUNT)
@blp.arguments(DeclineSchema)
@blp.response(200, MatchSchema)
def decline_match(payload, match_id: int):
    """Decline for the caller's side; the match is closed for both."""
    match = services_matching.decline(current_user, match_id, reason=payload["reason"])
    db.session.commit()
    return match
