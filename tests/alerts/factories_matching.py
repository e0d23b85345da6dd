"""Matchmaking test data for the role matrix: a demand, an offer and a proposed match inside a region chain."""

from __future__ import annotations

from alerts.models_matching import Demand, Match, Offer
from core.extensions import db
from core.registry.models import RegionLevel
from procurement.services.common import local_year
from tests import factories
from tests.shop import factories_shop


def role_matrix_samples(chain: dict) -> dict:
    """URL parameter samples for tests/core/test_role_matrix.py: demand_id, offer_id, match_id, all inside ``chain``
    and belonging to nobody the matrix logs in as (so owners' checks answer 404, never 403)."""
    from datetime import date

    unit = factories.buyer_unit(chain[RegionLevel.CITY])
    seller = factories.supplier(chain[RegionLevel.COUNTY])
    category = factories_shop.category()
    item = factories_shop.product(seller, category, chain[RegionLevel.VILLAGE], stock=50)
    year = local_year()
    demand = Demand(unit_id=unit.id, category_id=category.id, quantity=5, unit=item.sales_unit, budget_fen=None,
                    delivery_from=date(year + 1, 1, 10), delivery_to=date(year + 1, 1, 20))
    offer = Offer(supplier_id=seller.id, product_id=item.id, category_id=category.id, quantity=10,
                  unit=item.sales_unit, ready_on=date(year + 1, 1, 1), price_fen=item.price_fen,
                  origin_region_id=item.origin_village_id, origin_county_id=item.origin_county_id)
    db.session.add_all([demand, offer])
    db.session.flush()
    match = Match(demand_id=demand.id, offer_id=offer.id, product_id=item.id, supplier_id=seller.id, score=50,
                  reasons=[], unit_price_fen=item.price_fen, order_quantity=5)
    db.session.add(match)
    db.session.flush()
    return {"demand_id": demand.id, "offer_id": offer.id, "match_id": match.id}
