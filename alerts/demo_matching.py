"""Matchmaking demo data: three demands of the demo unit (重庆市农业农村委员会, buyer@demo.fupin.cn)
and an offer of the demo supplier (巫山县曲尺乡脆李专业合作社, supplier@demo.fupin.cn), then one run
of the matcher, so the demo opens on proposed matches both ways.

Idempotent: demands and the offer are found again by their unit or supplier and their text; their
dates are set only when first made (relative to that day). The quantities and budgets are illustrative.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from alerts import matching
from alerts.figures import local_today
from alerts.models_matching import Demand, Offer
from core.demo import SeedContext, Seeder, upsert
from core.extensions import db
from core.registry.models import Region
from procurement.demo import BUYER_EMAIL, BUYER_UNIT
from procurement.models import BuyerUnit
from shop.demo import SUPPLIER_EMAIL
from shop.models import Category, Product, Supplier, SupplierMember

# (note, category code, quantity, unit, budget in fen, window from/to in days from today, wished origin code)
DEMANDS = [
    ("机关食堂冬季蔬菜：番茄、香菇等，冷链送到食堂。", "vegetable", 120, "箱", 600_000, 3, 21, "500000"),
    ("工会慰问品：果干果脯，每袋 250g 以上。", "processed.dried-fruit", 300, "袋", 900_000, 5, 40, None),
    ("食堂水果：当季柑橘类优先，重庆脱贫区县产。", "fruit", 200, "箱", 2_000_000, 7, 45, "500000"),
]
OFFER_PRODUCT = "巫山脆李果脯"
OFFER_TEXT = "今年新制脆李果脯，合作社统一烘干包装，可开具发票，量大可分批送。"


def seed_matching(ctx: SeedContext) -> None:
    today = local_today()
    unit = db.session.execute(sa.select(BuyerUnit).where(BuyerUnit.name == BUYER_UNIT)).scalar_one_or_none()
    categories = {c.code: c for c in db.session.execute(sa.select(Category)).scalars()}
    from core.accounts.models import User

    buyer = db.session.execute(sa.select(User).where(User.email == BUYER_EMAIL)).scalar_one_or_none()
    posted = 0
    if unit is not None:
        for note, code, quantity, unit_text, budget, start, end, region_code in DEMANDS:
            if code not in categories:
                continue
            region_id = None
            if region_code:
                region_id = db.session.execute(sa.select(Region.id).where(Region.code == region_code)).scalar()
            _, created = upsert(Demand, {"unit_id": unit.id, "note": note}, {
                "category_id": categories[code].id, "quantity": quantity, "unit": unit_text, "budget_fen": budget,
                "wished_region_id": region_id,
            }, on_create={"posted_by_id": buyer.id if buyer else None,
                          "delivery_from": today + timedelta(days=start), "delivery_to": today + timedelta(days=end)})
            ctx.count("matchmaking demands", int(created))
            posted += int(created)

    owner = db.session.execute(sa.select(User).where(User.email == SUPPLIER_EMAIL)).scalar_one_or_none()
    member = db.session.get(SupplierMember, owner.id) if owner else None
    if member is not None:
        product = db.session.execute(sa.select(Product).where(
            Product.supplier_id == member.supplier_id, Product.name == OFFER_PRODUCT)).scalar_one_or_none()
        supplier = db.session.get(Supplier, member.supplier_id)
        if product is not None:
            _, created = upsert(Offer, {"supplier_id": supplier.id, "description": OFFER_TEXT}, {
                "product_id": product.id, "category_id": product.category_id, "quantity": 500,
                "unit": product.sales_unit, "price_fen": product.price_fen,
                "origin_region_id": product.origin_village_id, "origin_county_id": product.origin_county_id,
            }, on_create={"posted_by_id": owner.id, "ready_on": today + timedelta(days=3)})
            ctx.count("matchmaking offers", int(created))
            posted += int(created)
    if posted:  # as posting does; afterwards the daily job re-runs the matcher, not a second seed
        db.session.flush()
        ctx.count("matchmaking proposals", matching.run(today, notify=False).proposed)


SEEDER = Seeder(name="matchmaking", order=60, seed=seed_matching)
