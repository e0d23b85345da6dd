"""Reviews and benefit attribution test data: orders walked through the real services, household links."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from core.accounts.models import User
from core.extensions import db
from core.registry.models import Household, RegionLevel
from shop.models import HouseholdLink, LinkStatus, LinkType, Order, OrderLine, Product, SubOrder, Supplier
from shop.models_orders import Payment
from shop.payments import services as payments
from shop.services import orders
from tests import factories
from tests.shop import factories_orders, factories_shop


def link(supplier: Supplier, household: Household, share_bp: int, *, status: LinkStatus = LinkStatus.ACTIVE,
         started_on: date = date(2025, 1, 1), ended_on: date | None = None) -> HouseholdLink:
    row = HouseholdLink(supplier_id=supplier.id, household_id=household.id, link_type=LinkType.ORDER_PURCHASE,
                        started_on=started_on, ended_on=ended_on, benefit_share_bp=share_bp, status=status)
    db.session.add(row)
    db.session.flush()
    return row


def paid_order(buyer: User, quantities: dict, admin: User | None = None) -> tuple[Order, Payment]:
    """An order placed through checkout and paid by a confirmed bank transfer."""
    order = factories_orders.place(buyer, quantities)
    start = payments.start_payment(order, "manual", success_url="", cancel_url="")
    payments.confirm_transfer(start.payment, bank_transaction=f"BANK-{order.id}",
                              actor=admin or factories_shop.admin())
    return order, start.payment


def received(sub_order: SubOrder) -> SubOrder:
    orders.ship(sub_order, carrier="邮政EMS", tracking_number=f"EMS{sub_order.id:06d}")
    orders.confirm_receipt(sub_order)
    return sub_order


def completed(sub_order: SubOrder) -> SubOrder:
    received(sub_order)
    orders.complete(sub_order)
    return sub_order


@dataclass
class PlumWorld:
    """The fixed data set: a ¥123.45 line (3 × ¥41.15) of a supplier bound to two households, one at 30%
    (4 people), one at 20% (2 people); plus links that must not count: challenged, not yet started, ended."""

    world: factories_shop.World
    product: Product
    buyer: User
    admin: User
    first: Household
    second: Household
    order: Order
    payment: Payment

    @property
    def sub_order(self) -> SubOrder:
        return self.order.sub_orders[0]

    @property
    def line(self) -> OrderLine:
        return self.sub_order.lines[0]


def plum_world(county_flags: dict | None = None) -> PlumWorld:
    w = factories_shop.world(county_flags=county_flags)
    village = w.chain[RegionLevel.VILLAGE]
    product = factories_shop.product(w.supplier, w.category, village, price_fen=4115, stock=30, name="巫山脆李")
    first = factories.household(village, members=4)
    second = factories.household(village, members=2)
    link(w.supplier, first, 3000)
    link(w.supplier, second, 2000)
    link(w.supplier, factories.household(village, members=5), 1000, status=LinkStatus.CHALLENGED)
    link(w.supplier, factories.household(village, members=3), 1000, started_on=date(2099, 1, 1))
    link(w.supplier, factories.household(village, members=3), 1000, status=LinkStatus.ENDED,
         started_on=date(2024, 1, 1), ended_on=date(2024, 12, 31))
    buyer, admin = factories.UserFactory(), factories_shop.admin()
    order, payment = paid_order(buyer, {product: 3}, admin)
    return PlumWorld(world=w, product=product, buyer=buyer, admin=admin, first=first, second=second, order=order,
                     payment=payment)


def role_matrix_samples(chain: dict) -> dict:
    """URL samples for tests/core/test_role_matrix.py inside ``chain``: a received order line (of a buyer
    who is none of the matrix's users, so reviewing it is refused as not found) and a review to moderate."""
    from shop.models_benefit import ProductReview

    county, village = chain[RegionLevel.COUNTY], chain[RegionLevel.VILLAGE]
    seller = factories.supplier(county)
    item = factories_shop.product(seller, factories_shop.category(), village, stock=5)
    buyer = factories.UserFactory()
    order, _payment = paid_order(buyer, {item: 2}, factories_shop.admin())
    sub_order = received(order.sub_orders[0])
    line = sub_order.lines[0]
    review = ProductReview(order_line_id=line.id, buyer_id=buyer.id, product_id=item.id, rating=4, text="很甜")
    db.session.add(review)
    db.session.flush()
    return {
        "shop.review_line:line_id": line.id,
        "shop_reviews_api.post_review:line_id": line.id,
        "shop.review_moderate:review_id": review.id,
        "shop.review_moderate:action": "hide",
    }
