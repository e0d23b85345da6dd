"""Outreach test data: buyer units around a product, plans, counted amounts, procurement orders, warnings."""

from __future__ import annotations

import itertools
import uuid
from datetime import date, datetime, timedelta

from alerts.models import AlertRun, Warning, WarningCause, WarningLevel, WarningStatus
from alerts.models_outreach import Outreach
from core.database import utcnow
from core.extensions import db
from core.registry import services as registry
from core.registry.models import Region, RegionLevel
from procurement.models import AssistanceKind, AssistanceRelation, BuyerUnit, UnitRole
from procurement.models_ledger import LedgerReason, PlanLedgerEntry, PurchaseChannel
from procurement.models_orders import ProcurementOrder
from procurement.services import orders
from procurement.services.common import LOCAL_TIMEZONE
from shop.models import Product
from tests import factories
from tests.alerts.factories_alerts import sale
from tests.procurement import factories_procurement as fp
from tests.shop import factories_shop

_n = itertools.count(1)


def region_under(parent: Region, level: RegionLevel) -> Region:
    n = next(_n)
    return registry.create_region(code=f"6{n:05d}", name=f"旁邻{level.value}{n}", level=level, parent=parent)


def unit(region: Region, *, members: bool = True, **kw) -> BuyerUnit:
    """An active unit with an administrator and a buyer (the people told), unless ``members`` is False."""
    u = fp.unit(region, **kw)
    if members:
        fp.member(u, UnitRole.ADMIN)
        fp.member(u, UnitRole.BUYER)
    return u


def relation(u: BuyerUnit, county: Region, *, start_year: int = 2021, end_year: int | None = None,
             kind: AssistanceKind = AssistanceKind.PAIRED) -> AssistanceRelation:
    row = AssistanceRelation(unit_id=u.id, county_id=county.id, kind=kind, start_year=start_year, end_year=end_year)
    db.session.add(row)
    db.session.flush()
    return row


def plan(u: BuyerUnit, year: int, plan_fen: int):
    """A plan of exactly ``plan_fen`` (own canteen with a 10% share of ten times the figure)."""
    return fp.own_canteen_plan(u, year, plan_fen * 10)


def counted(u: BuyerUnit, year: int, amount_fen: int, product: Product) -> PlanLedgerEntry:
    """An accepted canteen amount counted toward the unit's plan (the ledger's triggers keep the totals)."""
    line = sale(product, 1, date(year, 1, 10))
    row = PlanLedgerEntry(unit_id=u.id, year=year, month=1, channel=PurchaseChannel.CANTEEN,
                          reason=LedgerReason.ACCEPTED, amount_fen=amount_fen, order_line_id=line.id,
                          origin_county_id=product.origin_county_id, category_id=product.category_id)
    db.session.add(row)
    db.session.flush()
    return row


def buyer_of(u: BuyerUnit):
    from procurement.models import UnitMember

    return next(m.user for m in db.session.query(UnitMember).filter_by(unit_id=u.id, role=UnitRole.BUYER))


def procurement_order(u: BuyerUnit, items: dict[Product, int], *, submitted_at: datetime | None = None,
                      address=None) -> ProcurementOrder:
    """A procurement order of ``u`` through the real service (stock must be there)."""
    address = address or fp.address(u, db.session.get(Region, u.region_id))
    order = orders.submit(buyer_of(u), items={p.id: q for p, q in items.items()}, address_id=address.id,
                          wanted_on=datetime.now(LOCAL_TIMEZONE).date() + timedelta(days=7), channel="canteen",
                          payment_terms="deliver_first", idempotency_key=uuid.uuid4().hex)
    if submitted_at is not None:
        order.submitted_at = submitted_at
        db.session.flush()
    return order


def warning(product: Product, *, level: WarningLevel = WarningLevel.RED, opened_at: datetime | None = None,
            resolved_at: datetime | None = None, amount_fen: int = 200_000, days_left: int = 5) -> Warning:
    run = AlertRun(run_on=date(1980, 1, 1) + timedelta(days=next(_n)))  # apart from the other factories' runs
    db.session.add(run)
    db.session.flush()
    row = Warning(product_id=product.id, cause=WarningCause.SPOILAGE,
                  status=WarningStatus.RESOLVED if resolved_at else WarningStatus.OPEN, level=level, rule="spoilage",
                  playbook="promote", amount_at_risk_fen=0 if resolved_at else amount_fen, days_left=days_left,
                  figures={}, first_run_id=run.id, last_run_id=run.id, opened_at=opened_at or utcnow(),
                  resolved_at=resolved_at)
    db.session.add(row)
    db.session.flush()
    return row


def outreach(w: Warning, u: BuyerUnit, *, notified_at: datetime | None = None, rank: int = 1) -> Outreach:
    row = Outreach(warning_id=w.id, unit_id=u.id, rank=rank, level=w.level, notified_at=notified_at or utcnow(),
                   told_user_ids=[], figures={"year": 2026, "assisted": False, "plan_fen": None, "counted_fen": 0,
                                              "room_fen": None, "purchases_fen": 0, "distance": "same_province"})
    db.session.add(row)
    db.session.flush()
    return row


def role_matrix_samples(chain: dict) -> dict:
    """URL parameter samples for tests/core/test_role_matrix.py: an outreach of a unit inside ``chain``."""
    seller = factories.supplier(chain[RegionLevel.COUNTY])
    item = factories_shop.product(seller, factories_shop.category(), chain[RegionLevel.VILLAGE], stock=5)
    u = unit(chain[RegionLevel.CITY])
    return {"outreach_id": outreach(warning(item), u).id}
