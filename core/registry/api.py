import sqlalchemy as sa
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from core.extensions import db
from core.permissions import Permission, require
from core.registry import services
from core.registry.models import Household, Region, RegionLevel

blp = Blueprint("registry_api", __name__, url_prefix="/api/v1", description="Regions and households")


class RegionSchema(Schema):
    id = fields.Int()
    code = fields.Str()
    name = fields.Str()
    level = fields.Str()
    parent_id = fields.Int(allow_none=True)
    is_poverty_lifted_county = fields.Bool()
    is_key_assistance_county = fields.Bool()


class RegionQuerySchema(Schema):
    parent_id = fields.Int(load_default=None)
    level = fields.Str(load_default=None, validate=validate.OneOf([lvl.value for lvl in RegionLevel]))


class HouseholdSchema(Schema):
    id = fields.Int()
    village_id = fields.Int()
    kind = fields.Str()
    head_name = fields.Str()
    member_count = fields.Int()
    id_number_masked = fields.Str(metadata={"description": "never the whole number"})


class HouseholdQuerySchema(Schema):
    page = fields.Int(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Int(load_default=50, validate=validate.Range(min=1, max=200))
    village_id = fields.Int(load_default=None)


class HouseholdPageSchema(Schema):
    total = fields.Int()
    page = fields.Int()
    items = fields.List(fields.Nested(HouseholdSchema))


@blp.route("/regions")
@blp.arguments(RegionQuerySchema, location="query")
@blp.response(200, RegionSchema(many=True))
def list_regions(args):
    """Regions, public: children of ``parent_id`` (provinces when absent), optionally one level."""
    stmt = sa.select(Region).order_by(Region.code)
    if args["parent_id"] is not None:
        stmt = stmt.where(Region.parent_id == args["parent_id"])
    elif args["level"] is None:
        stmt = stmt.where(Region.parent_id.is_(None))
    if args["level"]:
        stmt = stmt.where(Region.level == RegionLevel(args["level"]))
    return db.session.execute(stmt.limit(2000)).scalars().all()


@blp.route("/households")
@require(Permission.REGISTRY_VIEW)
@blp.arguments(HouseholdQuerySchema, location="query")
@blp.response(200, HouseholdPageSchema)
def list_households(args):
    """Registered households in the caller's region, ID numbers masked."""
    stmt = sa.select(Household).where(services.region_scope(current_user, Household.village_id))
    if args["village_id"]:
        stmt = stmt.where(Household.village_id == args["village_id"])
    total = db.session.execute(sa.select(sa.func.count()).select_from(stmt.subquery())).scalar_one()
    items = db.session.execute(
        stmt.order_by(Household.id).limit(args["per_page"]).offset((args["page"] - 1) * args["per_page"])
    ).scalars().all()
    return {"total": total, "page": args["page"], "items": items}
