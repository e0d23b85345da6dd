"""The side ledger: employees' purchases and help-sales entered when a sub-order completes through the shop's
services and taken back when a completed one is refunded, its totals, and its drift checks.

The data set: one product at ¥39.90; buyer B works for unit E (named a day before) and orders 3 with
unit P's promotion code: E's employee purchases 11,970, P's help-sales 11,970. One item refunded after
completion: 7,980 each, in the month the sub-order completed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.database import utcnow
from core.extensions import db
from core.registry.models import RegionLevel
from procurement.models import BuyerUnit, UnitEmployee
from procurement.models_side import SideKind, SideReason, UnitSideEntry, UnitSideOriginTotal, UnitSideTotal
from procurement.services import completion, employees, side_ledger
from procurement.services.common import LOCAL_TIMEZONE
from shop.models import Order, OrderStatus, SubOrder
from shop.payments import services as payments
from shop.services import orders
from tests import factories
from tests.procurement import factories_procurement as fp
from tests.shop import factories_benefit, factories_orders, factories_shop


@dataclass
class Sale:
    employer: BuyerUnit
    promoter: BuyerUnit
    buyer: object
    admin: object
    sub_order: SubOrder
    year: int
    month: int


def _sale(*, complete: bool = True) -> Sale:
    w = factories_shop.world()
    product = factories_shop.product(w.supplier, w.category, w.village, price_fen=3990, stock=50)
    employer = fp.unit(w.chain[RegionLevel.COUNTY], name="职工单位")
    promoter = fp.unit(w.chain[RegionLevel.COUNTY], name="推广单位", promotion_code="SIDEP001")
    buyer, admin = factories.UserFactory(), factories_shop.admin()
    db.session.add(UnitEmployee(user_id=buyer.id, unit_id=employer.id, since=utcnow() - timedelta(days=1)))
    order = factories_orders.place(buyer, {product: 3}, referral_code="SIDEP001")
    start = payments.start_payment(order, "manual", success_url="", cancel_url="")
    payments.confirm_transfer(start.payment, bank_transaction=f"BANK-{order.id}", actor=admin)
    sub_order = order.sub_orders[0]
    if complete:
        factories_benefit.completed(sub_order)
    local = (sub_order.completed_at or utcnow()).astimezone(LOCAL_TIMEZONE)
    return Sale(employer, promoter, buyer, admin, sub_order, local.year, local.month)


def _figures(sale: Sale) -> dict[int, tuple[int, int]]:
    rows = completion.unit_figures(sale.year, BuyerUnit.id.in_([sale.employer.id, sale.promoter.id]))
    return {r.unit_id: (r.employee_fen, r.help_sales_fen) for r in rows}


def _entries(sale: Sale) -> list[tuple]:
    return sorted(db.session.execute(
        sa.select(UnitSideEntry.unit_id, UnitSideEntry.kind, UnitSideEntry.reason, UnitSideEntry.amount_fen,
                  UnitSideEntry.year, UnitSideEntry.month)
        .where(UnitSideEntry.unit_id.in_([sale.employer.id, sale.promoter.id]))).all())


def _refund_one(sale: Sale) -> None:
    line = sale.sub_order.lines[0]
    orders.request_refund(sale.sub_order, lines={line.id: 1}, reason="一箱坏了", actor=sale.buyer)
    orders.approve_refund(sale.sub_order, actor=sale.admin)
    db.session.flush()


def test_completion_enters_the_employee_purchase_and_the_help_sale(db_session):
    sale = _sale()
    assert _figures(sale) == {sale.employer.id: (11_970, 0), sale.promoter.id: (0, 11_970)}
    e, p, y, m = sale.employer.id, sale.promoter.id, sale.year, sale.month
    assert _entries(sale) == sorted([(e, SideKind.EMPLOYEE, SideReason.COMPLETED, 11_970, y, m),
                                     (p, SideKind.HELP_SALES, SideReason.COMPLETED, 11_970, y, m)])
    assert completion.totals_drift() == 0
    assert side_ledger.unrecorded_count(db.session.connection()) == 0


def test_nothing_is_entered_before_completion(db_session):
    sale = _sale(complete=False)
    factories_benefit.received(sale.sub_order)
    assert _entries(sale) == []
    assert _figures(sale) == {sale.employer.id: (0, 0), sale.promoter.id: (0, 0)}


def test_a_refund_after_completion_takes_back_its_share_in_the_month_of_completion(db_session):
    sale = _sale()
    _refund_one(sale)
    assert sale.sub_order.status == OrderStatus.COMPLETED
    assert _figures(sale) == {sale.employer.id: (7_980, 0), sale.promoter.id: (0, 7_980)}
    refunds = [row for row in _entries(sale) if row[2] == SideReason.REFUNDED]
    assert sorted(refunds) == sorted([(sale.employer.id, SideKind.EMPLOYEE, SideReason.REFUNDED, -3_990, sale.year,
                                       sale.month),
                                      (sale.promoter.id, SideKind.HELP_SALES, SideReason.REFUNDED, -3_990, sale.year,
                                       sale.month)])
    assert completion.totals_drift() == 0
    months = completion.monthly(sale.year, BuyerUnit.id == sale.employer.id)
    assert months[sale.month - 1].employee_fen == 7_980


def test_entries_keep_the_employer_and_the_code_of_the_completion(db_session):
    """Changed from the live computation: moving to another employer or regenerating the promotion
    code no longer takes back what the sub-order added when it completed, and a later refund is
    taken from the same units."""
    sale = _sale()
    other = fp.unit(sale.employer.region, name="新单位")
    employees.name_employer(sale.buyer, other.id)
    sale.promoter.promotion_code = "SIDEP002"
    db.session.flush()
    _refund_one(sale)
    assert _figures(sale) == {sale.employer.id: (7_980, 0), sale.promoter.id: (0, 7_980)}
    assert completion.unit_figures(sale.year, BuyerUnit.id == other.id)[0].employee_fen == 0


def test_bulk_writes_are_entered_by_record_unrecorded_once(db_session):
    """Statements past the session (the seeders' bulk writes) are caught up set-based, and only once."""
    sale = _sale()
    w = factories_shop.world()
    product = factories_shop.product(w.supplier, w.category, w.village, price_fen=1000, stock=10)
    order = factories_orders.place(factories.UserFactory(), {product: 2})
    for sub in order.sub_orders:
        sub.status, sub.completed_at = OrderStatus.COMPLETED, sale.sub_order.completed_at
    db.session.flush()
    db.session.execute(sa.update(Order).where(Order.id == order.id).values(referral_code="SIDEP001"),
                       execution_options={"synchronize_session": False})
    connection = db.session.connection()
    assert side_ledger.unrecorded_count(connection) == 1
    assert side_ledger.record_unrecorded(connection) == 1
    assert side_ledger.record_unrecorded(connection) == 0
    assert side_ledger.unrecorded_count(connection) == 0
    assert completion.totals_drift() == 0
    assert _figures(sale)[sale.promoter.id] == (0, 11_970 + 2_000)


@pytest.mark.parametrize("table", [UnitSideTotal, UnitSideOriginTotal])
def test_the_totals_follow_their_entries_and_drift_is_found(db_session, table):
    sale = _sale()
    entry = db.session.execute(sa.select(UnitSideEntry).where(UnitSideEntry.unit_id == sale.promoter.id)).scalar_one()
    db.session.delete(entry)
    db.session.flush()
    assert completion.totals_drift() == 0  # the trigger took the deleted entry off the totals
    assert _figures(sale)[sale.promoter.id] == (0, 0)
    db.session.execute(sa.update(table).where(table.unit_id == sale.employer.id)
                       .values(amount_fen=table.amount_fen + 1))
    assert completion.totals_drift() == 1
