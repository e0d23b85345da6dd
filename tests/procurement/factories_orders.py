"""Procurement-order test data: a unit with its people and an address, two suppliers with listed products,
and orders placed through the real services."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from core.accounts.models import User
from core.registry.models import RegionLevel
from procurement.models import BuyerUnit, UnitAddress, UnitRole
from procurement.models_orders import ProcurementOrder
from procurement.services import orders
from procurement.services.common import LOCAL_TIMEZONE
from shop.models import Product, Supplier
from tests import factories
from tests.procurement import factories_procurement as fp
from tests.shop import factories_shop as fs


def today() -> date:
    return datetime.now(LOCAL_TIMEZONE).date()


@dataclass
class OrderWorld:
    unit_world: fp.World
    address: UnitAddress
    supplier: Supplier
    supplier_user: User
    other_supplier: Supplier
    other_supplier_user: User
    plums: Product  # 39.90 each, from ``supplier``
    oranges: Product  # 58.00 each, from ``other_supplier``

    @property
    def unit(self) -> BuyerUnit:
        return self.unit_world.unit

    @property
    def buyer(self) -> User:
        return self.unit_world.buyer

    @property
    def approver(self) -> User:
        return self.unit_world.approver

    @property
    def unit_admin(self) -> User:
        return self.unit_world.unit_admin

    @property
    def chain(self) -> dict:
        return self.unit_world.chain


def world(threshold_fen: int = 0) -> OrderWorld:
    uw = fp.world()
    uw.unit.approval_threshold_fen = threshold_fen
    county, village = uw.chain[RegionLevel.COUNTY], uw.chain[RegionLevel.VILLAGE]
    cat = fs.category()
    supplier, other = factories.supplier(county), factories.supplier(county)
    plums = fs.product(supplier, cat, village, price_fen=3990, stock=100, name="巫山脆李")
    oranges = fs.product(other, cat, village, price_fen=5800, stock=50, name="奉节脐橙")
    return OrderWorld(unit_world=uw, address=fp.address(uw.unit, county), supplier=supplier,
                      supplier_user=fs.member(supplier), other_supplier=other, other_supplier_user=fs.member(other),
                      plums=plums, oranges=oranges)


def submit(w: OrderWorld, quantities: dict | None = None, *, actor=None, **kw) -> ProcurementOrder:
    quantities = quantities if quantities is not None else {w.plums: 10, w.oranges: 5}
    return orders.submit(
        actor or w.buyer, items={p.id: q for p, q in quantities.items()}, address_id=kw.pop("address_id", w.address.id),
        wanted_on=kw.pop("wanted_on", today() + timedelta(days=7)), channel=kw.pop("channel", "canteen"),
        payment_terms=kw.pop("payment_terms", "deliver_first"), idempotency_key=kw.pop("idempotency_key",
                                                                                      uuid.uuid4().hex), **kw,
    )


def part_of(order: ProcurementOrder, supplier: Supplier):
    return next(p for p in order.parts if p.supplier_id == supplier.id)


def role_matrix_samples(chain: dict) -> dict:
    """URL parameter samples for tests/core/test_role_matrix.py: a procurement order of a unit inside
    ``chain`` (the regional administrator's region) with one supplier part."""
    uw = fp.World(chain=chain, unit=(u := fp.unit(chain[RegionLevel.CITY])), unit_admin=fp.member(u, UnitRole.ADMIN),
                  buyer=fp.member(u), approver=fp.member(u, UnitRole.APPROVER))
    county, village = chain[RegionLevel.COUNTY], chain[RegionLevel.VILLAGE]
    supplier = factories.supplier(county)
    item = fs.product(supplier, fs.category(), village, price_fen=1000, stock=10)
    w = OrderWorld(unit_world=uw, address=fp.address(u, county), supplier=supplier, supplier_user=fs.member(supplier),
                   other_supplier=supplier, other_supplier_user=fs.member(supplier), plums=item, oranges=item)
    order = submit(w, {item: 2})
    return {
        "procurement_order_id": order.id,
        "part_id": order.parts[0].id,
        "procurement.order_decision:action": "approve",
        "procurement.unit_part_action:action": "accept",
        "procurement.supplier_part_action:action": "confirm",
    }
