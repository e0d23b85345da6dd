"""A procurement order is a shop order of kind PROCUREMENT, but it follows the procurement flow only:
the shop's consumer pages, supplier workspace and clock-driven steps leave it alone."""

from __future__ import annotations

from datetime import timedelta

from core.database import utcnow
from procurement.models_orders import PartStatus
from procurement.services import orders
from shop.models import OrderStatus
from shop.services import orders as shop_orders
from tests.procurement import factories_orders as fo
from tests.shop.factories_shop import reload


def _shipped_order():
    w = fo.world(threshold_fen=1_000_000)
    order = fo.submit(w, {w.plums: 2})
    part = fo.part_of(order, w.supplier)
    orders.confirm(w.supplier_user, part)
    orders.ship(w.supplier_user, part, carrier="顺丰速运", tracking_number="SF1234567890")
    return w, order, part


def test_the_unit_buyer_does_not_see_or_act_on_it_among_shop_orders(app, client, login, db_session):
    w, order, _part = _shipped_order()
    login(w.buyer)
    assert order.order.number not in client.get("/shop/orders/").get_data(as_text=True)
    assert client.get(f"/shop/orders/{order.order.id}").status_code == 404
    assert client.post(f"/shop/orders/{order.order.id}/cancel").status_code == 404


def test_the_supplier_ships_it_from_procurement_pages_not_the_shop_workspace(client, login, db_session):
    w, order, part = _shipped_order()
    login(w.supplier_user)
    assert order.order.number not in client.get("/shop/workspace/orders/").get_data(as_text=True)
    assert client.get(f"/shop/workspace/orders/{part.sub_order_id}").status_code == 404


def test_the_clock_never_receives_or_completes_it(db_session):
    _w, _order, part = _shipped_order()
    later = utcnow() + timedelta(days=60)
    shop_orders.advance_by_time(now=later)
    shop_orders.advance_by_time(now=later + timedelta(days=30))
    assert reload(part).status == PartStatus.SHIPPED
    assert reload(part.sub_order).status == OrderStatus.SHIPPED
