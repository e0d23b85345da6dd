"""The matcher (产销对接): proposes, for every open demand, the best open offers and listed products.

One SELECT per run finds and scores every candidate pair (``candidates``): the demand's category
and everything below it (a recursive CTE), the wished origin region (a prefix match on the region
path), ready before the delivery window ends, within the budget, enough quantity, and a sales unit
that is the demand's or converts to it by weight (kg, 斤, g, 吨). The rest of a run is a constant
number of statements: read the existing matches, insert the new ones in bulk, update the scores of
those still proposed, expire what no longer qualifies, close demands whose window has passed.

The score (0–100) is the sum of documented parts, each kept as a reason with its points:

=========  ======  =========================================================================
part       points  rule
=========  ======  =========================================================================
price      20–40   within the budget: 20, plus 20 × the share of the budget left over
                   (no budget given: 20)
ready      10–20   ready (or in stock) by the window's first day: 20; ready inside the window: 10
category   5–10    the demand's own category: 10; a category below it: 5
origin     0–15    from a key assistance county (重点帮扶县): 15; a poverty-lifted county (脱贫县): 10
warning    0–15    the product is under an open early warning (its produce is at risk of going unsold)
=========  ======  =========================================================================

Open warnings are matched first: a candidate whose product has a live, shown warning (open,
acknowledged or handled) ranks before every candidate without one, whatever the scores, both when
choosing which candidates a demand gets (``PER_DEMAND`` best) and in every list of matches
(``ORDER``). Each offer or product is also proposed to its ``PER_SOURCE`` best demands, so a new
offer finds its demands even where those demands already have better proposals (both ways).

An offer's quantity counts what accepted matches already took; a listed product's its stock and
minimum order quantity. A listed product with an open offer is matched through the offer only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import aliased

from alerts import bulk
from alerts.figures import local_today
from alerts.models import SHOWN_STATUSES, Notification, Warning
from alerts.models_matching import (
    PENDING_MATCH_STATUSES,
    Demand,
    DemandStatus,
    Match,
    MatchStatus,
    Offer,
    OfferStatus,
)
from core.database import utcnow
from core.extensions import db
from core.registry.models import Region
from procurement.models import UnitMember
from shop.models import Category, Product, ProductStatus, Supplier, SupplierMember, SupplierStatus

log = logging.getLogger(__name__)

PER_DEMAND = 8  # candidates proposed to each demand
PER_SOURCE = 5  # demands each offer or listed product is proposed to
CART_MAX = 10_000  # the procurement cart takes at most this many of a product

# Grams per unit for the units that convert by weight; any other unit (箱, 袋, 盒 ...) matches only itself.
WEIGHT_GRAMS = {"kg": 1000, "公斤": 1000, "千克": 1000, "斤": 500, "g": 1, "克": 1, "吨": 1_000_000, "t": 1_000_000}


def canonical_unit(text: str) -> str:
    """"公斤" and "KG" are kg, "克" is g: one spelling per weight unit, anything else as typed."""
    raw = (text or "").strip()
    aliases = {"kg": "kg", "公斤": "kg", "千克": "kg", "g": "g", "克": "g", "t": "吨", "吨": "吨", "斤": "斤"}
    return aliases.get(raw.lower(), raw)


def _severity(level) -> sa.ColumnElement:
    return sa.case({"red": 4, "orange": 3, "yellow": 2, "blue": 1}, value=level, else_=0)


def _grams(column) -> sa.ColumnElement:
    return sa.case(*((sa.func.lower(column) == unit, grams) for unit, grams in WEIGHT_GRAMS.items()), else_=None)


def _scale(demand_unit, source_unit) -> tuple[sa.ColumnElement, sa.ColumnElement]:
    """(demand factor, source factor): demand quantity × fd = source quantity × fs; NULL when they do not convert."""
    same = demand_unit == source_unit
    return (sa.case((same, 1), else_=_grams(demand_unit)), sa.case((same, 1), else_=_grams(source_unit)))


def _category_tree(demands: sa.Select) -> sa.CTE:
    """(demand_id, category_id, depth): each demand's category and every category below it.

    Depth is capped, so a cycle in hand-edited category data cannot make the recursion run away.
    """
    base = sa.select(demands.c.id.label("demand_id"), demands.c.category_id.label("category_id"),
                     sa.literal(0, sa.Integer).label("depth"))
    tree = base.cte("demand_category_tree", recursive=True)
    child = aliased(Category)
    return tree.union_all(sa.select(tree.c.demand_id, child.id, tree.c.depth + 1)
                          .where(child.parent_id == tree.c.category_id, tree.c.depth < 10))


def _worst_warning(product_id: sa.ColumnElement[int], column: sa.ColumnElement) -> sa.ScalarSelect:
    """``column`` of the product's worst live, shown warning (NULL without one).

    A lookup by product per candidate (the index on the warning's product), not a join on a ranked
    subquery of every warning: the planner, expecting a few candidates, joined that subquery in a
    nested loop, every candidate against every warning (75 s at 100,000 products).
    """
    return (sa.select(column).where(Warning.product_id == product_id, Warning.status.in_(SHOWN_STATUSES))
            .order_by(_severity(Warning.level).desc(), Warning.id).limit(1).scalar_subquery())


def _score_columns(d, price_fen, order_qty, ready_on, depth, county, warning_id):
    """The score parts as SQL expressions (see the module docstring for the rule of each)."""
    total = price_fen * order_qty
    price = sa.case((d.c.budget_fen.is_(None), 20), (d.c.budget_fen <= 0, 0),
                    else_=20 + (20 * (d.c.budget_fen - total)) // d.c.budget_fen)
    ready = sa.case((ready_on <= d.c.delivery_from, 20), else_=10)
    category = sa.case((depth == 0, 10), else_=5)
    origin = sa.case((county.is_key_assistance_county, 15), (county.is_poverty_lifted_county, 10), else_=0)
    warning = sa.case((warning_id.is_not(None), 15), else_=0)
    return price, ready, category, origin, warning


def candidates(*, today: date, demand_id: int | None = None, offer_id: int | None = None,
               include_products: bool = True) -> sa.Select:
    """The SELECT of every qualifying (demand, offer or product) pair with its score parts and ranks."""
    demand_q = sa.select(Demand.id, Demand.category_id).where(Demand.status == DemandStatus.OPEN,
                                                              Demand.delivery_to >= today)
    if demand_id is not None:
        demand_q = demand_q.where(Demand.id == demand_id)
    demands = demand_q.subquery("open_demand")
    tree = _category_tree(demands)
    d = sa.select(Demand).subquery("d")
    wished = aliased(Region, name="wished")

    # --- offers ------------------------------------------------------------------------------
    origin = aliased(Region, name="offer_origin")
    o_county = aliased(Region, name="offer_county")
    taken = (sa.select(Match.offer_id, sa.func.sum(Match.order_quantity).label("qty"))
             .where(Match.status == MatchStatus.ACCEPTED, Match.offer_id.is_not(None))
             .group_by(Match.offer_id).subquery("taken"))
    fd, fs = _scale(d.c.unit, Offer.unit)
    o_qty = (d.c.quantity * fd + fs - 1) // fs
    available = Offer.quantity - sa.func.coalesce(taken.c.qty, 0)
    # An offer of a listed product is at the product's current price (what the procurement order charges).
    offered = aliased(Product, name="offered_product")
    o_price = sa.func.coalesce(offered.price_fen, Offer.price_fen)
    o_warning_id = _worst_warning(Offer.product_id, Warning.id)
    o_parts = _score_columns(d, o_price, o_qty, Offer.ready_on, tree.c.depth, o_county, o_warning_id)
    offers = (
        sa.select(
            d.c.id.label("demand_id"), Offer.id.label("offer_id"), Offer.product_id.label("product_id"),
            Offer.supplier_id.label("supplier_id"), o_price.label("unit_price_fen"),
            o_qty.label("order_quantity"), Offer.unit.label("source_unit"), Offer.ready_on.label("ready_on"),
            tree.c.depth.label("depth"), o_county.name.label("county_name"), o_warning_id.label("warning_id"),
            _worst_warning(Offer.product_id, Warning.level).label("level"),
            *(p.label(n) for p, n in zip(o_parts, ("p_price", "p_ready", "p_category", "p_origin", "p_warning"),
                                         strict=True)),
        )
        .select_from(d)
        .join(tree, tree.c.demand_id == d.c.id)
        .join(Offer, sa.and_(Offer.category_id == tree.c.category_id, Offer.status == OfferStatus.OPEN))
        .join(Supplier, sa.and_(Supplier.id == Offer.supplier_id, Supplier.status == SupplierStatus.APPROVED))
        .join(origin, origin.id == Offer.origin_region_id)
        .outerjoin(o_county, o_county.id == Offer.origin_county_id)
        .outerjoin(wished, wished.id == d.c.wished_region_id)
        .outerjoin(taken, taken.c.offer_id == Offer.id)
        .outerjoin(offered, offered.id == Offer.product_id)
        .where(
            sa.or_(d.c.wished_region_id.is_(None), origin.path.startswith(wished.path)),
            Offer.ready_on <= d.c.delivery_to,
            fd.is_not(None), fs.is_not(None),
            available >= o_qty,
            sa.or_(d.c.budget_fen.is_(None), o_price * o_qty <= d.c.budget_fen),
            sa.or_(Offer.product_id.is_(None), offered.status == ProductStatus.LISTED),
        )
    )
    if offer_id is not None:
        offers = offers.where(Offer.id == offer_id)
    parts = [offers]

    # --- listed products ---------------------------------------------------------------------
    if include_products and offer_id is None:
        village = aliased(Region, name="product_village")
        p_county = aliased(Region, name="product_county")
        pd, ps = _scale(d.c.unit, Product.sales_unit)
        p_qty = (d.c.quantity * pd + ps - 1) // ps
        p_warning_id = _worst_warning(Product.id, Warning.id)
        p_parts = _score_columns(d, Product.price_fen, p_qty, sa.literal(today, sa.Date), tree.c.depth, p_county,
                                 p_warning_id)
        has_offer = sa.select(Offer.id).where(Offer.product_id == Product.id, Offer.status == OfferStatus.OPEN)
        products = (
            sa.select(
                d.c.id.label("demand_id"), sa.null().label("offer_id"), Product.id.label("product_id"),
                Product.supplier_id.label("supplier_id"), Product.price_fen.label("unit_price_fen"),
                p_qty.label("order_quantity"), Product.sales_unit.label("source_unit"),
                sa.literal(today, sa.Date).label("ready_on"), tree.c.depth.label("depth"),
                p_county.name.label("county_name"), p_warning_id.label("warning_id"),
                _worst_warning(Product.id, Warning.level).label("level"),
                *(p.label(n) for p, n in zip(p_parts, ("p_price", "p_ready", "p_category", "p_origin", "p_warning"),
                                             strict=True)),
            )
            .select_from(d)
            .join(tree, tree.c.demand_id == d.c.id)
            .join(Product, sa.and_(Product.category_id == tree.c.category_id, Product.status == ProductStatus.LISTED))
            .join(Supplier, sa.and_(Supplier.id == Product.supplier_id, Supplier.status == SupplierStatus.APPROVED))
            .join(village, village.id == Product.origin_village_id)
            .join(p_county, p_county.id == Product.origin_county_id)
            .outerjoin(wished, wished.id == d.c.wished_region_id)
            .where(
                sa.or_(d.c.wished_region_id.is_(None), village.path.startswith(wished.path)),
                pd.is_not(None), ps.is_not(None),
                Product.stock >= p_qty, Product.min_order_qty <= p_qty, p_qty <= CART_MAX,
                sa.or_(d.c.budget_fen.is_(None), Product.price_fen * p_qty <= d.c.budget_fen),
                ~sa.exists(has_offer),
            )
        )
        parts.append(products)

    pairs = sa.union_all(*parts).subquery("pairs") if len(parts) > 1 else parts[0].subquery("pairs")
    score = pairs.c.p_price + pairs.c.p_ready + pairs.c.p_category + pairs.c.p_origin + pairs.c.p_warning
    warned = sa.case((pairs.c.warning_id.is_not(None), 1), else_=0)
    source_kind = sa.case((pairs.c.offer_id.is_not(None), 0), else_=1)
    source_id = sa.func.coalesce(pairs.c.offer_id, pairs.c.product_id)
    return sa.select(
        pairs, score.label("score"),
        sa.func.row_number().over(partition_by=pairs.c.demand_id,
                                  order_by=(warned.desc(), score.desc(), pairs.c.unit_price_fen, source_kind,
                                            source_id)).label("rank_in_demand"),
        sa.func.row_number().over(partition_by=(source_kind, source_id),
                                  order_by=(warned.desc(), score.desc(), pairs.c.demand_id)).label("rank_in_source"),
    )


def reasons_of(row) -> list[dict]:
    """The reasons kept with a match: codes with their points and figures; the pages word them."""
    reasons = [
        {"code": "warning", "points": row.p_warning, "level": row.level} if row.warning_id else None,
        {"code": "price", "points": row.p_price, "unit_price_fen": row.unit_price_fen,
         "total_fen": row.unit_price_fen * row.order_quantity},
        {"code": "ready", "points": row.p_ready, "ready_on": row.ready_on.isoformat()},
        {"code": "category", "points": row.p_category, "exact": row.depth == 0},
        {"code": "origin", "points": row.p_origin, "county": row.county_name or ""},
        {"code": "quantity", "points": 0, "order_quantity": row.order_quantity, "unit": row.source_unit},
    ]
    return [r for r in reasons if r is not None]


@dataclass
class MatchRun:
    proposed: int = 0
    rescored: int = 0
    expired: int = 0
    demands_closed: int = 0
    new_match_ids: list[int] = field(default_factory=list)


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def run(today: date | None = None, *, demand_id: int | None = None, offer_id: int | None = None,
        notify: bool = True) -> MatchRun:
    """Propose and re-score matches; flushes, the caller commits.

    Without ``demand_id``/``offer_id`` the whole platform is matched (the daily job); with one, only
    that demand's or that offer's pairs (on posting).
    """
    today = today or local_today()
    outcome = MatchRun()
    if demand_id is None and offer_id is None:
        outcome.demands_closed = db.session.execute(
            sa.update(Demand).where(Demand.status == DemandStatus.OPEN, Demand.delivery_to < today)
            .values(status=DemandStatus.CLOSED, closed_at=utcnow()),
            execution_options={"synchronize_session": False}).rowcount
    outcome.expired += expire_stale(today)

    rows = db.session.execute(candidates(today=today, demand_id=demand_id, offer_id=offer_id)).all()
    # Re-read: the UPDATEs above bypassed objects the session may already hold.
    existing_q = sa.select(Match).execution_options(populate_existing=True)
    if demand_id is not None:
        existing_q = existing_q.where(Match.demand_id == demand_id)
    elif offer_id is not None:
        existing_q = existing_q.where(Match.offer_id == offer_id)
    else:
        existing_q = existing_q.where(Match.demand_id.in_(
            sa.select(Demand.id).where(Demand.status == DemandStatus.OPEN)))
    existing = {(m.demand_id, m.offer_id, None if m.offer_id else m.product_id): m
                for m in db.session.execute(existing_q).scalars()}

    seen: set[tuple] = set()
    new_rows: list[dict] = []
    for row in rows:
        key = (row.demand_id, row.offer_id, None if row.offer_id else row.product_id)
        seen.add(key)
        reasons = reasons_of(_Row(row))
        match = existing.get(key)
        within = row.rank_in_source <= PER_SOURCE if offer_id is not None else (
            row.rank_in_demand <= PER_DEMAND or row.rank_in_source <= PER_SOURCE)
        if match is not None and match.status == MatchStatus.EXPIRED and within:
            # It qualifies again (back in stock, the offer reopened): proposed afresh, earlier answers cleared.
            match.status = MatchStatus.PROPOSED
            match.unit_accepted_at = match.unit_accepted_by_id = None
            match.supplier_accepted_at = match.supplier_accepted_by_id = None
            match.score = -1  # re-scored just below
            outcome.proposed += 1
        if match is None:
            if within:
                new_rows.append({
                    "demand_id": row.demand_id, "offer_id": row.offer_id,
                    "product_id": row.product_id, "supplier_id": row.supplier_id, "score": row.score,
                    "reasons": reasons, "warning_id": row.warning_id, "unit_price_fen": row.unit_price_fen,
                    "order_quantity": row.order_quantity, "status": MatchStatus.PROPOSED,
                })
        elif match.status == MatchStatus.PROPOSED and (
                match.score != row.score or match.warning_id != row.warning_id or match.reasons != reasons
                or match.unit_price_fen != row.unit_price_fen or match.order_quantity != row.order_quantity):
            match.score, match.reasons, match.warning_id = row.score, reasons, row.warning_id
            match.unit_price_fen, match.order_quantity = row.unit_price_fen, row.order_quantity
            outcome.rescored += 1
    # A proposal that no longer qualifies (sold out, repriced, the window moved) is withdrawn; one that
    # either side already accepted stays until its demand, offer or product is gone (``expire_stale``).
    for key, match in existing.items():
        if key not in seen and match.status == MatchStatus.PROPOSED:
            match.status = MatchStatus.EXPIRED
            outcome.expired += 1
    if new_rows:
        now = utcnow()
        for r in new_rows:
            r["created_at"] = r["updated_at"] = now
        try:
            with db.session.begin_nested():
                outcome.new_match_ids = bulk.insert_returning_ids(
                    Match.__table__, new_rows, dict, key=("demand_id", "offer_id", "product_id"))
        except sa.exc.IntegrityError:
            # A run on another connection proposed the same pairs a moment ago (the unique constraints
            # caught it): its proposals stand, and the next run re-scores them.
            log.info("matchmaking: concurrent run proposed the same pairs; skipped %d", len(new_rows))
            new_rows = []
        outcome.proposed += len(new_rows)
        if notify and new_rows:
            _notify_new(new_rows)
    db.session.flush()
    return outcome


class _Row:
    """A result row with ``ready_on`` as a date (SQLite gives the literal back as text through the UNION)."""

    def __init__(self, row) -> None:
        self._row = row
        self.ready_on = _as_date(row.ready_on)

    def __getattr__(self, name: str):
        return getattr(self._row, name)


def expire_stale(today: date) -> int:
    """Pending matches whose demand closed, whose offer closed, or whose product left the shelf: expired."""
    on_sale = (sa.select(Product.id).join(Supplier, Supplier.id == Product.supplier_id)
               .where(Product.status == ProductStatus.LISTED, Supplier.status == SupplierStatus.APPROVED))
    gone = sa.or_(
        Match.demand_id.in_(sa.select(Demand.id).where(sa.or_(Demand.status != DemandStatus.OPEN,
                                                             Demand.delivery_to < today))),
        Match.offer_id.in_(sa.select(Offer.id).where(Offer.status != OfferStatus.OPEN)),
        sa.and_(Match.product_id.is_not(None), Match.product_id.not_in(on_sale)),
    )
    return db.session.execute(
        sa.update(Match).where(Match.status.in_(PENDING_MATCH_STATUSES), gone)
        .values(status=MatchStatus.EXPIRED, updated_at=utcnow()),
        execution_options={"synchronize_session": False}).rowcount


def _notify_new(new_rows: list[dict]) -> None:
    """One notification per person told: the unit's members of each demand, the supplier's members."""
    from flask_babel import gettext as _

    demand_ids = sorted({r["demand_id"] for r in new_rows})
    supplier_ids = sorted({r["supplier_id"] for r in new_rows})
    unit_users = db.session.execute(
        sa.select(UnitMember.user_id).join(Demand, Demand.unit_id == UnitMember.unit_id)
        .where(Demand.id.in_(demand_ids)).distinct()).scalars().all()
    supplier_users = db.session.execute(
        sa.select(SupplierMember.user_id).where(SupplierMember.supplier_id.in_(supplier_ids))).scalars().all()
    rows = [{"user_id": uid, "text": _("New matchmaking proposals for your unit's demands."),
             "link": _path("alerts.my_demands"), "warning_id": None} for uid in unit_users]
    rows += [{"user_id": uid, "text": _("Buyer units' demands match your offers or products."),
              "link": _path("alerts.my_offers"), "warning_id": None} for uid in supplier_users]
    if rows:
        now = utcnow()
        for r in rows:
            r["created_at"] = now
        db.session.execute(sa.insert(Notification), rows)


def _path(endpoint: str, **values) -> str:
    """A page's path built without a request (the matcher also runs in the daily job)."""
    adapter = current_app.url_map.bind("localhost", script_name=current_app.config.get("APPLICATION_ROOT") or "/")
    return adapter.build(endpoint, values)
