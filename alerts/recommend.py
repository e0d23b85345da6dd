"""Which buyer units to ask for help when a product cannot be sold (产销对接 for a warning).

Candidates are the active buyer units with at least one active member who can order (a unit
administrator or buyer). They are ranked for a product in this order, each criterion deciding only
between units equal on the ones before it (lexicographic):

1. **Assistance relation** — the unit has an assistance relation (定点帮扶, 东西部协作, 对口帮扶) with
   the product's county of origin in force this year (``start_year <= year <= end_year``, an
   open end counting as in force). Units with one come first.
2. **Room left in this year's plan** — plan in force minus the amount counted toward it so far
   (``procurement.services.completion.counted_by_unit``, the figure of the completion pages), in
   fen, most room first; a plan already met has zero or negative room. Units without a plan for
   the year come after every unit with one.
3. **Past purchases in the category** — what the unit bought in the product's category through
   procurement orders submitted in the last ``PURCHASE_DAYS`` days (line amounts net of refunded
   quantities; rejected orders and declined or cancelled supplier parts left out), most first.
4. **Delivery distance** on the region tree between the product's origin and the unit's nearest
   active delivery address (the unit's own region when it has no active address): same county <
   same city < same province < elsewhere.

Ties after all four go to the lower unit id, so the order is total and stable. A unit for which
nothing speaks — no relation, no room, no purchases, outside the product's province — is not
recommended at all.

Everything is one statement for any number of products and units (``ROW_NUMBER() OVER
(PARTITION BY product ...)``), the same on SQLite and PostgreSQL; no query per unit or product.

That statement ranks a shortlist of units, not every unit for every product (ten thousand units
and fifty thousand warned products would be half a billion pairs). Let θ be the room left of the
``top``-th roomiest unit among those with room left. Every unit with room ≥ θ (at least ``top`` of
them) is a candidate for every product, and each ranks before any unassisted unit with less room
or no plan. A product's top ``top`` are its assisting units, best first, and then the best of the
others: with k assisting units, the top needs ``top`` − k others, and at least that many units with
room ≥ θ do not assist it. So the top is among the product's assisting units and the units with
room ≥ θ, with the same ranks as over all units. With fewer than ``top`` units with room left there
is no θ, and every unit is ranked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import aliased

from core.accounts.models import User
from core.database import utcnow
from core.extensions import db
from core.money import format_fen
from core.registry.models import Region
from procurement.models import (
    AssistanceKind,
    AssistanceRelation,
    BuyerUnit,
    UnitAddress,
    UnitMember,
    UnitPlan,
    UnitRole,
    UnitStatus,
)
from procurement.models_orders import PartStatus, ProcurementOrder, ProcurementPart, ProcurementStatus
from procurement.services.common import LOCAL_TIMEZONE
from procurement.services.completion import counted_by_unit
from shop.models import OrderLine, Product

PURCHASE_DAYS = 365
# Distance on the region tree, nearest first (the values are the sort key).
SAME_COUNTY, SAME_CITY, SAME_PROVINCE, ELSEWHERE = 0, 1, 2, 3
DISTANCE_NAMES = {SAME_COUNTY: "same_county", SAME_CITY: "same_city", SAME_PROVINCE: "same_province",
                  ELSEWHERE: "elsewhere"}
# The unit roles told about a warning: those who can put an order together.
TOLD_ROLES = (UnitRole.ADMIN, UnitRole.BUYER)


@dataclass(frozen=True)
class Recommendation:
    product_id: int
    rank: int
    unit_id: int
    unit_name: str
    assisted: bool
    assistance_kind: str | None
    county_name: str
    plan_fen: int | None
    counted_fen: int
    purchases_fen: int
    distance: int

    @property
    def room_fen(self) -> int | None:
        return None if self.plan_fen is None else self.plan_fen - self.counted_fen

    @property
    def has_plan(self) -> bool:
        return self.plan_fen is not None

    def figures(self, year: int) -> dict:
        """The score breakdown as stored with an outreach and returned by the API (JSON values)."""
        return {
            "year": year, "assisted": self.assisted, "assistance_kind": self.assistance_kind,
            "county_name": self.county_name, "plan_fen": self.plan_fen, "counted_fen": self.counted_fen,
            "room_fen": self.room_fen, "purchases_fen": self.purchases_fen, "purchase_days": PURCHASE_DAYS,
            "distance": DISTANCE_NAMES[self.distance],
        }


def top_setting() -> int:
    return int(current_app.config.get("ALERTS_RECOMMEND_TOP", 5))


def current_year(now: datetime | None = None) -> int:
    return (now or utcnow()).astimezone(LOCAL_TIMEZONE).year


def ranking_statement(product_ids: list[int], *, year: int, top: int, now: datetime) -> sa.Select:
    """The ranked (product, unit) pairs, at most ``top`` per product, in rank order (see the module docstring)."""
    county, city, province = aliased(Region, name="county"), aliased(Region, name="city"), aliased(Region,
                                                                                                  name="province")
    target = (
        sa.select(Product.id.label("product_id"), Product.category_id, Product.origin_county_id,
                  county.name.label("county_name"), county.path.label("county_path"),
                  city.path.label("city_path"), province.path.label("province_path"))
        .join(county, county.id == Product.origin_county_id)
        .outerjoin(city, city.id == county.parent_id)
        .outerjoin(province, province.id == city.parent_id)
        .where(Product.id.in_(product_ids))
    ).cte("target")  # rendered once: its IN list of product ids is long

    reachable = (sa.select(UnitMember.user_id).join(User, User.id == UnitMember.user_id)
                 .where(UnitMember.unit_id == BuyerUnit.id, UnitMember.role.in_(TOLD_ROLES), User.active.is_(True))
                 .exists())
    candidate = (sa.select(BuyerUnit.id, BuyerUnit.name)
                 .where(BuyerUnit.status == UnitStatus.ACTIVE, reachable)).subquery("candidate")

    relation = (
        sa.select(AssistanceRelation.unit_id, AssistanceRelation.county_id,
                  sa.func.min(AssistanceRelation.kind).label("kind"))
        .where(AssistanceRelation.start_year <= year,
               sa.or_(AssistanceRelation.end_year.is_(None), AssistanceRelation.end_year >= year),
               AssistanceRelation.county_id.in_(sa.select(target.c.origin_county_id)))
        .group_by(AssistanceRelation.unit_id, AssistanceRelation.county_id)
    ).subquery("relation")

    counted = counted_by_unit(year).element.cte("counted")  # read once, used by the shortlist and the ranking
    # The shortlist: a unit outside it cannot make any product's top ``top`` (see the module docstring),
    # so distances, purchases and the ranking are computed for these units only.
    room_left = (sa.select(candidate.c.id.label("unit_id"),
                           (UnitPlan.plan_fen - sa.func.coalesce(counted.c.counted_fen, 0)).label("room"))
                 .join(UnitPlan, sa.and_(UnitPlan.unit_id == candidate.c.id, UnitPlan.year == year))
                 .outerjoin(counted, counted.c.unit_id == candidate.c.id)).cte("room_left")
    threshold = (sa.select(room_left.c.room).where(room_left.c.room > 0).order_by(room_left.c.room.desc())
                 .limit(1).offset(top - 1)).scalar_subquery()  # θ: NULL with fewer than ``top`` such units

    def shortlisted(unit_id: sa.ColumnElement[int]) -> sa.ColumnElement[bool]:
        return sa.or_(threshold.is_(None),
                      unit_id.in_(sa.select(room_left.c.unit_id).where(room_left.c.room >= threshold)),
                      unit_id.in_(sa.select(relation.c.unit_id)))

    # Where a unit takes deliveries: its active addresses, or its own region when it has none.
    has_address = sa.select(UnitAddress.id).where(UnitAddress.unit_id == BuyerUnit.id, UnitAddress.active).exists()
    location = sa.union_all(
        sa.select(UnitAddress.unit_id.label("unit_id"), Region.path.label("path"))
        .join(Region, Region.id == UnitAddress.region_id).where(UnitAddress.active),
        sa.select(BuyerUnit.id, Region.path).join(Region, Region.id == BuyerUnit.region_id)
        .where(BuyerUnit.status == UnitStatus.ACTIVE, ~has_address),
    ).subquery("location")
    # A path is the chain of ids ("/1/4/17/"): being under a region is a prefix match.
    step = sa.case(
        (location.c.path.startswith(target.c.county_path), SAME_COUNTY),
        (location.c.path.startswith(target.c.city_path), SAME_CITY),
        (location.c.path.startswith(target.c.province_path), SAME_PROVINCE),
        else_=ELSEWHERE,
    )
    distance = (sa.select(target.c.product_id, location.c.unit_id, sa.func.min(step).label("distance"))
                .select_from(target).join(location, sa.true()).where(shortlisted(location.c.unit_id))
                .group_by(target.c.product_id, location.c.unit_id)).subquery("distance")

    bought = aliased(Product, name="bought")
    purchases = (
        sa.select(ProcurementOrder.unit_id, bought.category_id,
                  sa.func.sum((OrderLine.quantity - OrderLine.refunded_quantity) * OrderLine.unit_price_fen)
                  .label("amount"))
        .join(ProcurementPart, ProcurementPart.procurement_order_id == ProcurementOrder.id)
        .join(OrderLine, OrderLine.sub_order_id == ProcurementPart.sub_order_id)
        .join(bought, bought.id == OrderLine.product_id)
        .where(ProcurementOrder.submitted_at >= now - timedelta(days=PURCHASE_DAYS),
               ProcurementOrder.status != ProcurementStatus.REJECTED,
               ProcurementPart.status.not_in((PartStatus.DECLINED, PartStatus.CANCELLED)),
               bought.category_id.in_(sa.select(target.c.category_id)), shortlisted(ProcurementOrder.unit_id))
        .group_by(ProcurementOrder.unit_id, bought.category_id)
    ).subquery("purchases")

    counted_fen = sa.func.coalesce(counted.c.counted_fen, 0)
    room = UnitPlan.plan_fen - counted_fen  # NULL without a plan
    bought_fen = sa.func.coalesce(purchases.c.amount, 0)
    far = sa.func.coalesce(distance.c.distance, ELSEWHERE)
    assisted = relation.c.unit_id.is_not(None)
    rank = sa.func.row_number().over(
        partition_by=target.c.product_id,
        order_by=(sa.case((assisted, 0), else_=1), sa.case((UnitPlan.id.is_(None), 1), else_=0), room.desc(),
                  bought_fen.desc(), far, candidate.c.id),
    )
    ranked = (
        sa.select(target.c.product_id, rank.label("rank"), candidate.c.id.label("unit_id"),
                  candidate.c.name.label("unit_name"), assisted.label("assisted"), relation.c.kind.label("kind"),
                  target.c.county_name, UnitPlan.plan_fen.label("plan_fen"), counted_fen.label("counted_fen"),
                  bought_fen.label("purchases_fen"), far.label("distance"))
        .select_from(target).join(candidate, sa.true())
        .outerjoin(relation, sa.and_(relation.c.unit_id == candidate.c.id,
                                     relation.c.county_id == target.c.origin_county_id))
        .outerjoin(UnitPlan, sa.and_(UnitPlan.unit_id == candidate.c.id, UnitPlan.year == year))
        .outerjoin(counted, counted.c.unit_id == candidate.c.id)
        .outerjoin(purchases, sa.and_(purchases.c.unit_id == candidate.c.id,
                                      purchases.c.category_id == target.c.category_id))
        .outerjoin(distance, sa.and_(distance.c.product_id == target.c.product_id,
                                     distance.c.unit_id == candidate.c.id))
        .where(sa.or_(assisted, room > 0, bought_fen > 0, far < ELSEWHERE), shortlisted(candidate.c.id))
    ).subquery("ranked")
    return sa.select(ranked).where(ranked.c.rank <= top).order_by(ranked.c.product_id, ranked.c.rank)


def recommend_many(product_ids: list[int] | set[int], *, top: int | None = None, year: int | None = None,
                   now: datetime | None = None) -> dict[int, list[Recommendation]]:
    """product id → its recommended units, best first (one statement for all of them)."""
    now = now or utcnow()
    year = year or current_year(now)
    top = top_setting() if top is None else top
    ids = sorted(set(product_ids))
    out: dict[int, list[Recommendation]] = {pid: [] for pid in ids}
    if not ids or top <= 0:
        return out
    for row in db.session.execute(ranking_statement(ids, year=year, top=top, now=now)):
        out[row.product_id].append(Recommendation(
            product_id=row.product_id, rank=int(row.rank), unit_id=row.unit_id, unit_name=row.unit_name,
            assisted=bool(row.assisted), assistance_kind=row.kind, county_name=row.county_name,
            plan_fen=None if row.plan_fen is None else int(row.plan_fen), counted_fen=int(row.counted_fen),
            purchases_fen=int(row.purchases_fen), distance=int(row.distance)))
    return out


def recommend(product_id: int, *, top: int | None = None, year: int | None = None,
              now: datetime | None = None) -> list[Recommendation]:
    """The recommended units for one product, best first."""
    return recommend_many([product_id], top=top, year=year, now=now)[product_id]


# --- reasons people read ------------------------------------------------------------------------


def assistance_kind_label(value: str | None) -> str:
    labels = {AssistanceKind.PAIRED: _("paired assistance (定点帮扶)"),
              AssistanceKind.EAST_WEST: _("east–west cooperation (东西部协作)"),
              AssistanceKind.COUNTERPART: _("counterpart assistance (对口帮扶)")}
    return labels.get(value, value or "")


def distance_label(name: str) -> str:
    return {
        "same_county": _("Delivers within the product's county"),
        "same_city": _("Delivers within the product's city"),
        "same_province": _("Delivers within the product's province"),
        "elsewhere": _("Delivers outside the product's province"),
    }.get(name, name)


def reasons(figures: dict) -> list[str]:
    """The score breakdown of ``Recommendation.figures`` in words, in the ranking's order."""
    out = []
    if figures.get("assisted"):
        out.append(_("Assists %(county)s this year: %(kind)s", county=figures.get("county_name", ""),
                     kind=assistance_kind_label(figures.get("assistance_kind"))))
    room = figures.get("room_fen")
    if figures.get("plan_fen") is None:
        out.append(_("No plan for %(year)s", year=figures.get("year")))
    elif room is not None and room > 0:
        out.append(_("%(amount)s left in this year's plan", amount=format_fen(room)))
    else:
        out.append(_("This year's plan is already met"))
    if figures.get("purchases_fen"):
        out.append(_("Bought %(amount)s in this category in the last %(days)d days",
                     amount=format_fen(figures["purchases_fen"]), days=figures.get("purchase_days", PURCHASE_DAYS)))
    out.append(distance_label(figures.get("distance", "elsewhere")))
    return out
