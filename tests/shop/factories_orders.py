"""Orders placed through the real checkout service, for the order and payment tests."""

from __future__ import annotations

import itertools
import uuid

from shop.models import Order
from shop.services import checkout
from tests import factories
from tests.shop import factories_shop

_n = itertools.count(1)


def place(buyer, quantities: dict, **kw) -> Order:
    return checkout.place_order(
        buyer=buyer,
        items={p.id if hasattr(p, "id") else p: q for p, q in quantities.items()},
        recipient_name=kw.pop("recipient_name", "张晓梅"),
        recipient_phone=kw.pop("recipient_phone", "13812345678"),
        address=kw.pop("address", "重庆市渝中区解放碑街道民族路100号"),
        idempotency_key=kw.pop("idempotency_key", uuid.uuid4().hex),
        **kw,
    )


def two_supplier_world():
    """Two accredited suppliers in one county, each with a listed product in stock."""
    w = factories_shop.world()
    other = factories.supplier(w.county)
    plums = factories_shop.product(w.supplier, w.category, w.village, price_fen=3990, stock=50, name="巫山脆李")
    oranges = factories_shop.product(other, w.category, w.village, price_fen=5800, stock=30, name="巫山恋橙")
    buyer = factories.UserFactory()
    return w, plums, oranges, buyer
