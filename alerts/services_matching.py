"""Matchmaking rules: posting demands and offers, who sees what, answering a match, and ordering it.

Who sees what: a unit's members their unit's demands and the matches proposed for them; a
supplier's members their offers and the matches on their offers and listed products; administrators
the demands of units in their region, the offers from their region, and matches touching either
(platform administrators everything). Someone else's demand, offer or match answers 404.

Acceptance (``TRANSITIONS``): each side answers once. A match on an offer is agreed when both
the unit and the supplier accepted, in either order. A match on a listed product needs only the
unit: the listing is already the supplier's standing offer at its listed price (the supplier may
still decline the proposal while it waits, or accept it first). An agreed match is ordered by the
unit's buyer with "下单": the product and quantity go into the procurement cart, where the buyer
chooses the address and date and submits as usual; the submitted order is linked back to the match
by ``link_orders`` when procurement announces the submission (``procurement.signals.order_submitted``):
the unit's first procurement order with that product submitted after 下单.
Services flush; the caller commits.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from alerts import matching
from alerts.figures import local_today
from alerts.models import Notification
from alerts.models_matching import (
    PENDING_MATCH_STATUSES,
    Demand,
    DemandStatus,
    Match,
    MatchStatus,
    Offer,
    OfferStatus,
)
from alerts.services import supplier_id_of
from core import audit
from core.database import utcnow
from core.errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationFailed
from core.extensions import db
from core.money import format_fen
from core.permissions import Role
from core.registry.models import Region, RegionLevel
from core.registry.services import region_scope
from procurement.models import BuyerUnit, UnitMember, UnitRole
from procurement.models_orders import ProcurementOrder
from procurement.services import common
from shop.models import (
    Category,
    Order,
    OrderLine,
    Product,
    ProductStatus,
    SubOrder,
    Supplier,
    SupplierMember,
    SupplierStatus,
)
from shop.services.catalog import descendant_ids

MAX_QUANTITY = 1_000_000  # units of one demand or offer: more is a typing mistake
MAX_BUDGET_FEN = 10_000_000_000  # 1亿元 for one demand
MAX_PRICE_FEN = 100_000_000  # 100万元 per unit
MAX_DAYS_AHEAD = 366
MAX_NOTE = 1000
IS_ADMIN = (Role.PLATFORM_ADMIN, Role.REGIONAL_ADMIN)

# (side, from) → to. "unit" on a proposed listed-product match goes straight to ACCEPTED (see the docstring).
TRANSITIONS: dict[tuple[str, MatchStatus], MatchStatus] = {
    ("unit", MatchStatus.PROPOSED): MatchStatus.ACCEPTED_BY_UNIT,
    ("unit", MatchStatus.ACCEPTED_BY_SUPPLIER): MatchStatus.ACCEPTED,
    ("supplier", MatchStatus.PROPOSED): MatchStatus.ACCEPTED_BY_SUPPLIER,
    ("supplier", MatchStatus.ACCEPTED_BY_UNIT): MatchStatus.ACCEPTED,
}
DECLINABLE = PENDING_MATCH_STATUSES
# Lists put matches on products under an open warning first, then the best score.
ORDER = (Match.warning_id.is_(None), Match.score.desc(), Match.id)


# --- who is who ---------------------------------------------------------------------------------


def unit_member_of(user) -> UnitMember | None:
    return common.membership_of(user) if user.role in (Role.UNIT_BUYER, Role.UNIT_APPROVER) else None


def _unit_member(user) -> UnitMember:
    member = unit_member_of(user)
    if member is None:
        raise NotFound(_("Your account does not belong to a buyer unit."))
    return member


def _supplier(user) -> Supplier:
    supplier_id = supplier_id_of(user)
    if supplier_id is None:
        raise NotFound(_("Your account does not belong to a supplier."))
    return db.session.get(Supplier, supplier_id)


def demand_clause(user) -> sa.ColumnElement[bool]:
    """WHERE over Demand joined to BuyerUnit: the demands ``user`` may see."""
    if user.role in IS_ADMIN:
        return region_scope(user, BuyerUnit.region_id)
    member = unit_member_of(user)
    return Demand.unit_id == member.unit_id if member is not None else sa.false()


def offer_clause(user) -> sa.ColumnElement[bool]:
    """WHERE over Offer: the offers ``user`` may see."""
    if user.role in IS_ADMIN:
        return region_scope(user, Offer.origin_region_id)
    supplier_id = supplier_id_of(user)
    return Offer.supplier_id == supplier_id if supplier_id is not None else sa.false()


def match_clause(user) -> sa.ColumnElement[bool]:
    """WHERE over Match joined to Demand, BuyerUnit and Supplier: the matches ``user`` may see."""
    if user.role in IS_ADMIN:
        return sa.or_(region_scope(user, BuyerUnit.region_id), region_scope(user, Supplier.county_id))
    member = unit_member_of(user)
    if member is not None:
        return Demand.unit_id == member.unit_id
    supplier_id = supplier_id_of(user)
    return Match.supplier_id == supplier_id if supplier_id is not None else sa.false()


def visible_demands(user) -> sa.Select:
    return sa.select(Demand).join(BuyerUnit, BuyerUnit.id == Demand.unit_id).where(demand_clause(user))


def visible_offers(user) -> sa.Select:
    return sa.select(Offer).where(offer_clause(user))


def visible_matches(user) -> sa.Select:
    return (sa.select(Match).join(Demand, Demand.id == Match.demand_id)
            .join(BuyerUnit, BuyerUnit.id == Demand.unit_id).join(Supplier, Supplier.id == Match.supplier_id)
            .where(match_clause(user)))


def get_demand(user, demand_id: int) -> Demand:
    demand = db.session.execute(visible_demands(user).where(Demand.id == demand_id)).scalar_one_or_none()
    if demand is None:
        raise NotFound(_("No such demand."))
    return demand


def get_offer(user, offer_id: int) -> Offer:
    offer = db.session.execute(visible_offers(user).where(Offer.id == offer_id)).scalar_one_or_none()
    if offer is None:
        raise NotFound(_("No such offer."))
    return offer


def get_match(user, match_id: int, *, for_update: bool = False) -> Match:
    stmt = visible_matches(user).where(Match.id == match_id)
    if for_update:
        stmt = stmt.with_for_update(of=Match)
    match = db.session.execute(stmt).scalar_one_or_none()
    if match is None:
        raise NotFound(_("No such match."))
    return match


# --- posting ------------------------------------------------------------------------------------


def _quantity(value, field: str = "quantity") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_QUANTITY:
        raise ValidationFailed(_("Give a whole quantity from 1 to %(max)s.", max=f"{MAX_QUANTITY:,}"), field=field)
    return value


def _unit_text(value: str | None) -> str:
    text = matching.canonical_unit(value or "")
    if not text or len(text) > 10 or re.search(r"\s", text):
        raise ValidationFailed(_("Give the unit counted, for example kg, 斤 or 箱 (up to 10 characters)."),
                               field="unit")
    return text


def _text(value: str | None, field: str, max_length: int) -> str:
    text = (value or "").strip()
    if len(text) > max_length:
        raise ValidationFailed(_("Keep this under %(n)d characters.", n=max_length), field=field)
    return text


def _category(category_id) -> Category:
    category = db.session.get(Category, category_id) if isinstance(category_id, int) else None
    if category is None:
        raise ValidationFailed(_("Choose a category."), field="category_id")
    return category


def create_demand(user, *, category_id: int, quantity: int, unit: str, budget_fen: int | None,
                  delivery_from: date, delivery_to: date, wished_region_id: int | None = None, note: str = "",
                  today: date | None = None) -> Demand:
    """A unit member posts a demand (采购需求); refused whole when any part is wrong."""
    member = _unit_member(user)
    common.ensure_active(member.unit)
    today = today or local_today()
    category = _category(category_id)
    quantity = _quantity(quantity)
    unit = _unit_text(unit)
    if budget_fen is not None and (isinstance(budget_fen, bool) or not isinstance(budget_fen, int)
                                   or not 0 <= budget_fen <= MAX_BUDGET_FEN):
        raise ValidationFailed(_("A budget is from ¥0 to ¥100,000,000."), field="budget_fen")
    if not isinstance(delivery_from, date) or delivery_from < today:
        raise ValidationFailed(_("The delivery window cannot start in the past."), field="delivery_from")
    if not isinstance(delivery_to, date) or delivery_to < delivery_from:
        raise ValidationFailed(_("The delivery window must end on or after its first day."), field="delivery_to")
    if delivery_to > today + timedelta(days=MAX_DAYS_AHEAD):
        raise ValidationFailed(_("The delivery window must end within a year."), field="delivery_to")
    wished = None
    if wished_region_id is not None:
        wished = db.session.get(Region, wished_region_id) if isinstance(wished_region_id, int) else None
        if wished is None:
            raise ValidationFailed(_("No such region."), field="wished_region_id")
    demand = Demand(unit_id=member.unit_id, posted_by_id=user.id, category_id=category.id, quantity=quantity,
                    unit=unit, budget_fen=budget_fen, delivery_from=delivery_from, delivery_to=delivery_to,
                    wished_region_id=wished.id if wished else None, note=_text(note, "note", MAX_NOTE))
    db.session.add(demand)
    db.session.flush()
    audit.record("matchmaking.demand_post", "match_demand", demand.id, after={
        "unit_id": demand.unit_id, "category_id": category.id, "quantity": quantity, "unit": unit,
        "budget_fen": budget_fen, "delivery_from": delivery_from.isoformat(), "delivery_to": delivery_to.isoformat(),
        "wished_region_id": demand.wished_region_id}, actor_id=user.id)
    matching.run(today, demand_id=demand.id)
    return demand


def create_offer(user, *, product_id: int | None = None, category_id: int | None = None, description: str = "",
                 quantity: int, unit: str | None = None, ready_on: date, price_fen: int | None = None,
                 today: date | None = None) -> Offer:
    """A supplier member posts an offer (供货信息): a listed product of theirs, or a category and a description."""
    supplier = _supplier(user)
    if supplier.status != SupplierStatus.APPROVED:
        raise Forbidden(_("Only an accredited supplier posts offers."))
    today = today or local_today()
    quantity = _quantity(quantity)
    description = _text(description, "description", 500)
    if product_id is not None:
        product = db.session.get(Product, product_id) if isinstance(product_id, int) else None
        if product is None or product.supplier_id != supplier.id or product.status != ProductStatus.LISTED:
            raise ValidationFailed(_("Choose one of your listed products."), field="product_id")
        category_id, unit = product.category_id, product.sales_unit
        origin_id, county_id = product.origin_village_id, product.origin_county_id
        # The procurement order charges the listed price, so an offer of a listed product is at that price.
        if price_fen is not None and price_fen != product.price_fen:
            raise ValidationFailed(_("An offer of a listed product is at its listed price (%(price)s); change the "
                                     "listing to offer another price.", price=format_fen(product.price_fen)),
                                   field="price_fen")
        price_fen = product.price_fen
    else:
        product = None
        _category(category_id)
        unit = _unit_text(unit)
        if len(description) < 2:
            raise ValidationFailed(_("Say what you offer (variety, grade, packing)."), field="description")
        county = db.session.get(Region, supplier.county_id)
        origin_id, county_id = county.id, county.id if county.level == RegionLevel.COUNTY else None
    if isinstance(price_fen, bool) or not isinstance(price_fen, int) or not 1 <= price_fen <= MAX_PRICE_FEN:
        raise ValidationFailed(_("Give a price per unit from ¥0.01 to ¥1,000,000."), field="price_fen")
    if not isinstance(ready_on, date) or not today <= ready_on <= today + timedelta(days=MAX_DAYS_AHEAD):
        raise ValidationFailed(_("Give the day it is ready, from today to a year ahead."), field="ready_on")
    offer = Offer(supplier_id=supplier.id, posted_by_id=user.id, product_id=product.id if product else None,
                  category_id=category_id, description=description, quantity=quantity, unit=unit, ready_on=ready_on,
                  price_fen=price_fen, origin_region_id=origin_id, origin_county_id=county_id)
    db.session.add(offer)
    db.session.flush()
    audit.record("matchmaking.offer_post", "match_offer", offer.id, after={
        "supplier_id": supplier.id, "product_id": offer.product_id, "category_id": category_id,
        "quantity": quantity, "unit": unit, "price_fen": price_fen, "ready_on": ready_on.isoformat()},
        actor_id=user.id)
    # The product is now matched through the offer: its direct proposals give way to the offer's.
    if product is not None:
        db.session.execute(
            sa.update(Match).where(Match.product_id == product.id, Match.offer_id.is_(None),
                                   Match.status == MatchStatus.PROPOSED)
            .values(status=MatchStatus.EXPIRED, updated_at=utcnow()),
            execution_options={"synchronize_session": False})
    matching.run(today, offer_id=offer.id)
    return offer


def cancel_demand(user, demand_id: int) -> Demand:
    demand = get_demand(user, demand_id)
    member = unit_member_of(user)
    if member is None or member.unit_id != demand.unit_id:
        raise Forbidden(_("Only the unit's members withdraw its demands."))
    if demand.status != DemandStatus.OPEN:
        raise InvalidTransition(_("This demand is no longer open."))
    demand.status, demand.closed_at = DemandStatus.CANCELLED, utcnow()
    audit.record("matchmaking.demand_cancel", "match_demand", demand.id, before={"status": "open"},
                 after={"status": "cancelled"}, actor_id=user.id)
    db.session.flush()
    matching.expire_stale(local_today())
    return demand


def cancel_offer(user, offer_id: int) -> Offer:
    offer = get_offer(user, offer_id)
    if supplier_id_of(user) != offer.supplier_id:
        raise Forbidden(_("Only the supplier's members withdraw its offers."))
    if offer.status != OfferStatus.OPEN:
        raise InvalidTransition(_("This offer is no longer open."))
    offer.status, offer.closed_at = OfferStatus.CANCELLED, utcnow()
    audit.record("matchmaking.offer_cancel", "match_offer", offer.id, before={"status": "open"},
                 after={"status": "cancelled"}, actor_id=user.id)
    db.session.flush()
    matching.expire_stale(local_today())
    return offer


# --- answering a match --------------------------------------------------------------------------


def side_of(user, match: Match) -> str | None:
    """"unit", "supplier", or None (an administrator looks but does not answer)."""
    member = unit_member_of(user)
    if member is not None and member.unit_id == match.demand.unit_id:
        return "unit"
    if supplier_id_of(user) == match.supplier_id:
        return "supplier"
    return None


def _side(user, match: Match, expected: str | None) -> str:
    side = side_of(user, match)
    if side is None or (expected is not None and side != expected):
        raise NotFound(_("No such match."))
    return side


def _still_live(match: Match) -> None:
    """The demand, the offer and the product must still be there to agree on."""
    if match.demand.status != DemandStatus.OPEN or match.demand.delivery_to < local_today():
        raise Conflict(_("The demand is no longer open."))
    if match.offer is not None and match.offer.status != OfferStatus.OPEN:
        raise Conflict(_("The offer is no longer open."))
    if match.product_id is not None and not _on_sale(match.product_id):
        raise Conflict(_("The product is no longer on sale."))


def _on_sale(product_id: int) -> bool:
    return db.session.execute(
        sa.select(Product.id).join(Supplier, Supplier.id == Product.supplier_id)
        .where(Product.id == product_id, Product.status == ProductStatus.LISTED,
               Supplier.status == SupplierStatus.APPROVED)).first() is not None


def _product_for_offer(match: Match, product_id) -> Product:
    """A supplier accepting a match on an offer with no product names the listed product to order."""
    product = db.session.get(Product, product_id) if isinstance(product_id, int) else None
    if product is None:
        raise ValidationFailed(_("Choose the listed product the unit will order."), field="product_id")
    subtree = set(descendant_ids(match.demand.category))
    if (product.supplier_id != match.supplier_id or product.status != ProductStatus.LISTED
            or product.category_id not in subtree):
        raise ValidationFailed(_("Choose one of your listed products in the demand's category."), field="product_id")
    if matching.canonical_unit(product.sales_unit) != matching.canonical_unit(match.offer.unit):
        raise ValidationFailed(_("The product is sold by %(unit)s; the offer counts %(offer_unit)s.",
                                 unit=product.sales_unit, offer_unit=match.offer.unit), field="product_id")
    return product


def accept(user, match_id: int, *, side: str | None = None, product_id: int | None = None) -> Match:
    """``user`` accepts the match for their side; both sides (or the unit, on a listed product) make it agreed."""
    match = get_match(user, match_id, for_update=True)
    side = _side(user, match, side)
    to = TRANSITIONS.get((side, match.status))
    if to is None:
        raise InvalidTransition(_("This match cannot be accepted now (it is %(status)s).", status=match.status.value))
    _still_live(match)
    if side == "unit" and match.offer_id is None:
        to = MatchStatus.ACCEPTED  # a listed product is the supplier's standing offer
    before = {"status": match.status.value, "product_id": match.product_id}
    now = utcnow()
    if side == "supplier":
        if match.product_id is None:
            product = _product_for_offer(match, product_id)
            # What the unit will pay: the procurement order charges the listed price.
            match.product_id, match.unit_price_fen = product.id, product.price_fen
        match.supplier_accepted_at, match.supplier_accepted_by_id = now, user.id
    else:
        if to == MatchStatus.ACCEPTED and match.product_id is None:
            raise Conflict(_("The supplier has not named the product yet."))
        match.unit_accepted_at, match.unit_accepted_by_id = now, user.id
    match.status = to
    db.session.flush()
    audit.record("matchmaking.match_accept", "match_match", match.id, before=before,
                 after={"status": to.value, "side": side, "product_id": match.product_id}, actor_id=user.id)
    if to == MatchStatus.ACCEPTED and match.offer is not None:
        _close_offer_when_taken(match.offer)
    _tell_other_side(match, side)
    db.session.flush()
    return match


def decline(user, match_id: int, *, side: str | None = None, reason: str = "") -> Match:
    match = get_match(user, match_id, for_update=True)
    side = _side(user, match, side)
    if match.status not in DECLINABLE:
        raise InvalidTransition(_("This match cannot be declined now (it is %(status)s).", status=match.status.value))
    reason = _text(reason, "reason", 500)
    before = match.status.value
    match.status, match.declined_at, match.declined_by_id, match.decline_reason = (
        MatchStatus.DECLINED, utcnow(), user.id, reason)
    audit.record("matchmaking.match_decline", "match_match", match.id, before={"status": before},
                 after={"status": "declined", "side": side}, reason=reason or None, actor_id=user.id)
    _tell_other_side(match, side)
    db.session.flush()
    return match


def _close_offer_when_taken(offer: Offer) -> None:
    db.session.flush()
    taken = db.session.execute(sa.select(sa.func.coalesce(sa.func.sum(Match.order_quantity), 0)).where(
        Match.offer_id == offer.id, Match.status == MatchStatus.ACCEPTED)).scalar_one()
    if taken >= offer.quantity and offer.status == OfferStatus.OPEN:
        offer.status, offer.closed_at = OfferStatus.CLOSED, utcnow()
        db.session.flush()
        matching.expire_stale(local_today())


def _tell_other_side(match: Match, side: str) -> None:
    if side == "unit":
        users = sa.select(SupplierMember.user_id).where(SupplierMember.supplier_id == match.supplier_id)
        link = matching._path("alerts.my_offers")
    else:
        users = sa.select(UnitMember.user_id).where(UnitMember.unit_id == match.demand.unit_id)
        link = matching._path("alerts.my_demands")
    texts = {
        MatchStatus.ACCEPTED: _("A matchmaking proposal is agreed by both sides; the unit can now order it."),
        MatchStatus.DECLINED: _("A matchmaking proposal was declined by the other side."),
    }
    text = texts.get(match.status, _("The other side accepted a matchmaking proposal; your answer is awaited."))
    rows = [{"user_id": uid, "text": text, "link": link, "warning_id": None, "created_at": utcnow()}
            for uid in db.session.execute(users).scalars()]
    if rows:
        db.session.execute(sa.insert(Notification), rows)


# --- ordering an agreed match -------------------------------------------------------------------


def prepare_order(user, match_id: int) -> tuple[int, int]:
    """下单: check that ``user`` may order the agreed match; returns (product id, quantity) for the cart."""
    match = get_match(user, match_id, for_update=True)
    _side(user, match, "unit")
    member = _unit_member(user)
    if member.role not in (UnitRole.BUYER, UnitRole.ADMIN):
        raise Forbidden(_("Only a buyer or the unit's administrator places procurement orders."))
    if match.status != MatchStatus.ACCEPTED:
        raise InvalidTransition(_("Only a match both sides agreed on can be ordered."))
    if match.procurement_order_id is not None:
        raise Conflict(_("This match is already ordered."))
    if not _on_sale(match.product_id):
        raise Conflict(_("The product is no longer on sale."))
    if match.order_quantity > matching.CART_MAX:
        raise Conflict(_("The procurement cart takes at most %(n)s of a product; order it in parts.",
                         n=f"{matching.CART_MAX:,}"))
    match.carted_at = utcnow()
    audit.record("matchmaking.match_cart", "match_match", match.id,
                 after={"product_id": match.product_id, "quantity": match.order_quantity}, actor_id=user.id)
    db.session.flush()
    return match.product_id, match.order_quantity


def link_orders(unit_id: int | None = None) -> int:
    """Link agreed, carted matches to the procurement order that followed (one UPDATE).

    The order is the unit's first procurement order submitted at or after 下单 that contains the
    match's product. Works whichever way the order was submitted (page or API).
    """
    demand_unit = sa.select(Demand.unit_id).where(Demand.id == Match.demand_id).scalar_subquery()
    first_order = (
        sa.select(sa.func.min(ProcurementOrder.id))
        .join(Order, Order.id == ProcurementOrder.order_id)
        .join(SubOrder, SubOrder.order_id == Order.id)
        .join(OrderLine, OrderLine.sub_order_id == SubOrder.id)
        .where(ProcurementOrder.unit_id == demand_unit, OrderLine.product_id == Match.product_id,
               ProcurementOrder.submitted_at >= Match.carted_at)
        .scalar_subquery()
    )
    stmt = sa.update(Match).where(Match.status == MatchStatus.ACCEPTED, Match.carted_at.is_not(None),
                                  Match.procurement_order_id.is_(None))
    if unit_id is not None:
        stmt = stmt.where(Match.demand_id.in_(sa.select(Demand.id).where(Demand.unit_id == unit_id)))
    return db.session.execute(stmt.where(first_order.is_not(None)).values(procurement_order_id=first_order),
                              execution_options={"synchronize_session": False}).rowcount


# --- reading ------------------------------------------------------------------------------------


def matches_for_demands(demand_ids: list[int]) -> dict[int, list[Match]]:
    """demand id → its matches worth showing (not expired), warned first, best first; one query."""
    if not demand_ids:
        return {}
    rows = db.session.execute(
        sa.select(Match).where(Match.demand_id.in_(demand_ids), Match.status != MatchStatus.EXPIRED)
        .options(sa.orm.joinedload(Match.product), sa.orm.joinedload(Match.offer),
                 sa.orm.joinedload(Match.supplier))
        .order_by(*ORDER).execution_options(populate_existing=True)).scalars().all()
    out: dict[int, list[Match]] = {}
    for m in rows:
        out.setdefault(m.demand_id, []).append(m)
    return out


def supplier_matches(supplier_id: int) -> list[Match]:
    """The supplier's matches worth showing (on its offers and listed products), warned first, best first."""
    return list(db.session.execute(
        sa.select(Match).where(Match.supplier_id == supplier_id, Match.status != MatchStatus.EXPIRED)
        .options(sa.orm.joinedload(Match.product), sa.orm.joinedload(Match.offer),
                 sa.orm.joinedload(Match.demand).joinedload(Demand.buyer_unit),
                 sa.orm.joinedload(Match.demand).joinedload(Demand.category))
        .order_by(*ORDER).limit(300).execution_options(populate_existing=True)).scalars())


def listed_products_of(supplier_id: int) -> list[Product]:
    return list(db.session.execute(sa.select(Product).where(
        Product.supplier_id == supplier_id, Product.status == ProductStatus.LISTED).order_by(Product.name)).scalars())
