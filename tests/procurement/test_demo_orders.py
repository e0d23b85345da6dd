"""``flask demo seed``: plans, guiding plans, the demo unit's people and canteens, and a year of procurement
orders whose plan ledger and completion figures add up to the accepted lines."""

from __future__ import annotations

import io
import json
import random
import re
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from core.accounts.models import User
from core.database import utcnow
from core.demo import SeedContext, run_seeders
from core.demo_core import CORE_SEEDER
from core.extensions import db
from core.registry.models import Region
from procurement.demo import BUYER_UNIT, SEEDER, UNIT_ADMIN_EMAIL
from procurement.demo_orders import GUIDING_PLANS, ORDER_KEY, UNIT_WITHOUT_PLAN
from procurement.models import (
    BuyerUnit,
    RegionPlan,
    UnitAddress,
    UnitMember,
    UnitPlan,
    UnitRole,
    UnitStatus,
)
from procurement.models_ledger import PlanLedgerEntry
from procurement.models_orders import (
    PartStatus,
    PaymentTerms,
    ProcurementLine,
    ProcurementOrder,
    ProcurementPart,
    ProcurementPayment,
    ProcurementStatus,
)
from procurement.services import completion, rollups
from procurement.services.common import LOCAL_TIMEZONE
from shop.models import Order, OrderKind, OrderLine, OrderStatus, Product, ProductLot, SubOrder
from shop.models_orders import OrderLineLot
from tests.factories import PASSWORD_HASH


@pytest.fixture()
def seed(app, db_session, monkeypatch):
    """Run the demo seeders as ``flask demo seed`` does, inside the test's transaction."""
    monkeypatch.setattr("core.accounts.models.generate_password_hash", lambda password: PASSWORD_HASH)

    def _seed(random_seed: int = 20260701) -> SeedContext:
        ctx = SeedContext(rng=random.Random(random_seed), password="demo-password")
        run_seeders([CORE_SEEDER, *app.extensions["demo_seeders"]], ctx)
        db.session.expire_all()
        return ctx

    return _seed


def _all(stmt) -> list:
    return list(db.session.execute(stmt).scalars())


def _unit(name: str) -> BuyerUnit:
    return db.session.execute(sa.select(BuyerUnit).where(BuyerUnit.name == name)).scalar_one()


def test_active_units_have_plans_this_year_except_one_and_regions_guiding_plans_fit(seed):
    seed()
    year = completion.today().year
    active = _all(sa.select(BuyerUnit).where(BuyerUnit.status == UnitStatus.ACTIVE))
    assert len(active) >= 12
    plans = {p.unit_id: p for p in _all(sa.select(UnitPlan).where(UnitPlan.year == year))}
    without = [u.name for u in active if u.id not in plans]
    assert without == [UNIT_WITHOUT_PLAN]
    last_year = {p.unit_id for p in _all(sa.select(UnitPlan).where(UnitPlan.year == year - 1))}
    assert {u.id for u in active} <= last_year
    statuses = defaultdict(list)
    for plan in plans.values():
        statuses["admin" if plan.admin_plan_fen is not None else plan.canteen_mode.value].append(plan)
    assert len(statuses["none"]) == 1 and len(statuses["shared"]) == 1 and len(statuses["admin"]) == 1
    assert statuses["shared"][0].host_unit_id == _unit(BUYER_UNIT).id
    for plan in statuses["own"]:
        assert plan.reserved_share_bp >= plan.minimum_share_bp >= 1000
        assert 500_000 * 100 <= plan.canteen_budget_fen <= 5_000_000 * 100  # 50万 to 500万 yuan
        assert plan.plan_fen == plan.declared_plan_fen > 0
        assert plan.declared_at <= utcnow()

    # Every guiding plan covers at least the plans of the units in its region, and its completion is sane.
    guiding = _all(sa.select(RegionPlan).where(RegionPlan.year == year))
    assert {g.region.code for g in guiding} == set(GUIDING_PLANS)
    for region in rollups.public_region_completion(year):
        assert region.guiding_plan_fen >= (region.plan_fen or 0), region.label
        # Near time progress: units buy through the year, some ahead and some behind (any date of the year).
        assert region.guiding_completion <= Decimal(150), region.label
        if region.time_progress >= 15:
            assert region.guiding_completion >= region.time_progress * Decimal("0.4"), region.label
    chongqing = db.session.execute(sa.select(RegionPlan).join(Region).where(
        Region.code == "500000", RegionPlan.year == year)).scalar_one()
    assert chongqing.amount_fen == 500_000 * 100 and "65.2%" in chongqing.reason


def test_the_demo_unit_has_an_administrator_two_canteens_and_a_threshold(seed, client, login):
    seed()
    unit = _unit(BUYER_UNIT)
    admin = db.session.execute(sa.select(User).where(User.email == UNIT_ADMIN_EMAIL)).scalar_one()
    assert db.session.get(UnitMember, admin.id).role == UnitRole.ADMIN
    assert db.session.get(UnitMember, admin.id).unit_id == unit.id
    assert ("unit administrator", UNIT_ADMIN_EMAIL) in SEEDER.logins()
    assert unit.approval_threshold_fen == 500_000
    canteens = _all(sa.select(UnitAddress).where(UnitAddress.unit_id == unit.id, UnitAddress.active.is_(True)))
    assert len(canteens) == 2 and all(re.fullmatch(r"1\d{10}", a.phone) for a in canteens)
    login(admin)
    page = client.get("/procurement/unit/addresses").get_data(as_text=True)
    for address in canteens:
        assert address.name in page
        assert address.phone not in page  # shown masked only
        assert f"{address.phone[:3]}****{address.phone[-4:]}" in page
    # Every unit that buys has a canteen to deliver to and people to place and approve orders.
    buying = set(_all(sa.select(ProcurementOrder.unit_id).distinct()))
    with_address = set(_all(sa.select(UnitAddress.unit_id).distinct()))
    assert len(buying) >= 12 and buying <= with_address


def test_a_year_of_procurement_orders_at_every_step(seed):
    seed()
    now = utcnow()
    orders = _all(sa.select(ProcurementOrder).join(Order).where(Order.idempotency_key.startswith(ORDER_KEY)))
    assert 200 <= len(orders) <= 600
    submitted = [o.submitted_at for o in orders]
    assert max(submitted) <= now and min(submitted) >= now - timedelta(days=366)
    assert max(submitted) - min(submitted) >= timedelta(days=300)
    assert len({o.unit_id for o in orders}) >= 10
    assert {o.channel.value for o in orders} == {"canteen", "union"}
    assert {o.payment_terms for o in orders} == set(PaymentTerms)
    assert {o.status for o in orders} == set(ProcurementStatus)
    months = {o.submitted_at.astimezone(LOCAL_TIMEZONE).strftime("%Y-%m") for o in orders}
    assert len(months) >= 12
    parts = [p for o in orders for p in o.parts]
    settled = [p for p in parts if p.status == PartStatus.SETTLED]
    assert len(settled) > 0.8 * len(parts)
    # Every step is waited at somewhere, and the demo unit shows each of them to its buyer.
    demo = _unit(BUYER_UNIT).id
    demo_statuses = {p.status for o in orders if o.unit_id == demo for p in o.parts}
    assert set(PartStatus) <= demo_statuses | {PartStatus.CANCELLED}
    assert set(PartStatus) <= {p.status for p in parts}
    partly = [line for p in parts for line in p.lines if line.refused_quantity]
    assert partly and all(line.refusal_reason and line.accepted_quantity > 0 for line in partly)
    assert any(p.status in (PartStatus.ACCEPTED, PartStatus.INVOICED) and any(li.refused_quantity for li in p.lines)
               for p in parts)
    # Waiting for the approver: a handful, so the approver's queue fits on one page.
    waiting = [o for o in orders if o.status == ProcurementStatus.PENDING_APPROVAL and o.unit_id == demo]
    assert 1 <= len(waiting) <= 5

    for order in orders:
        shop_order = order.order
        assert shop_order.kind == OrderKind.PROCUREMENT and shop_order.payment_due_at is None
        assert shop_order.total_fen == sum(s.subtotal_fen for s in shop_order.sub_orders) > 0
        above = shop_order.total_fen > order.unit.approval_threshold_fen
        waits = order.status == ProcurementStatus.PENDING_APPROVAL
        assert (order.decided_at is not None) == (above and not waits) and (above or not waits)
        if order.decided_by_id is not None:
            assert order.decided_by_id != order.submitted_by_id
        if order.status == ProcurementStatus.REJECTED:
            assert order.decision_comment and {p.status for p in order.parts} == {PartStatus.CANCELLED}
        if order.status == ProcurementStatus.CLOSED:
            assert order.closed_at and all(p.status in (PartStatus.SETTLED, PartStatus.DECLINED) for p in order.parts)
        for part in order.parts:
            _check_part(order, part, now)


_SHOP_STATUS = {
    PartStatus.AWAITING_APPROVAL: OrderStatus.PENDING_PAYMENT, PartStatus.AWAITING_CONFIRMATION:
    OrderStatus.PENDING_PAYMENT, PartStatus.CANCELLED: OrderStatus.CANCELLED, PartStatus.DECLINED:
    OrderStatus.CANCELLED, PartStatus.CONFIRMED: OrderStatus.PAID, PartStatus.PAID: OrderStatus.PAID,
    PartStatus.SHIPPED: OrderStatus.SHIPPED, PartStatus.ACCEPTED: OrderStatus.RECEIVED,
    PartStatus.INVOICED: OrderStatus.RECEIVED, PartStatus.SETTLED: OrderStatus.COMPLETED,
}


def _check_part(order: ProcurementOrder, part: ProcurementPart, now) -> None:
    """The part is where the services would have left it, its times in order and in the past."""
    sub = part.sub_order
    assert sub.status == _SHOP_STATUS[part.status], part.status
    assert sub.supplier_id == part.supplier_id == sub.lines[0].product.supplier_id
    times = [order.submitted_at, part.confirmed_at, sub.shipped_at, part.accepted_at, part.invoiced_at,
             part.settled_at]
    present = [t for t in times if t is not None]
    assert present == sorted(present) and present[-1] <= now
    if part.status == PartStatus.DECLINED:
        assert part.decline_reason
    accepted = part.status in (PartStatus.ACCEPTED, PartStatus.INVOICED, PartStatus.SETTLED)
    assert (part.accepted_at is not None) == accepted == (len(part.lines) == len(sub.lines))
    if accepted:
        assert part.accepted_fen == sum(li.accepted_quantity * li.order_line.unit_price_fen for li in part.lines)
        for line in part.lines:
            assert line.accepted_quantity + line.refused_quantity == line.order_line.quantity
            assert line.order_line.refunded_quantity == line.refused_quantity
    if part.invoice_number:
        assert part.invoice_amount_fen == part.accepted_fen
    if part.status == PartStatus.SETTLED:
        assert sub.completed_at == part.settled_at
    payment = part.payment
    if order.payment_terms == PaymentTerms.PAY_FIRST and part.status in (
            PartStatus.PAID, PartStatus.SHIPPED, PartStatus.ACCEPTED, PartStatus.SETTLED):
        assert payment is not None and payment.amount_fen == sub.subtotal_fen
        assert part.payment_due_on is not None
    elif order.payment_terms == PaymentTerms.DELIVER_FIRST and part.status == PartStatus.SETTLED:
        assert payment is not None and payment.amount_fen == part.invoice_amount_fen
    else:
        assert payment is None


def test_completion_figures_equal_the_accepted_lines_not_returned(seed):
    seed()
    rows = db.session.execute(
        sa.select(ProcurementOrder.unit_id, ProcurementOrder.channel, ProcurementPart.accepted_at,
                  (ProcurementLine.accepted_quantity - ProcurementLine.returned_quantity) * OrderLine.unit_price_fen)
        .join(ProcurementPart, ProcurementPart.procurement_order_id == ProcurementOrder.id)
        .join(ProcurementLine, ProcurementLine.part_id == ProcurementPart.id)
        .join(OrderLine, OrderLine.id == ProcurementLine.order_line_id)).all()
    assert rows
    expected: dict[tuple[int, int, str], int] = defaultdict(int)
    for unit_id, channel, at, amount in rows:
        expected[(at.astimezone(LOCAL_TIMEZONE).year, unit_id, channel.value)] += amount
    year = completion.today().year
    for y in (year, year - 1):
        figures = completion.unit_figures(y)
        assert {(f.unit_id, "canteen"): f.canteen_fen for f in figures if f.canteen_fen} == {
            (u, c): v for (yy, u, c), v in expected.items() if yy == y and c == "canteen" and v}
        assert {(f.unit_id, "union"): f.union_fen for f in figures if f.union_fen} == {
            (u, c): v for (yy, u, c), v in expected.items() if yy == y and c == "union" and v}
    this_year = {f.unit_id: f for f in completion.unit_figures(year)}
    last_year = completion.unit_figures(year - 1)
    twelve_months = sum(f.counted_fen for f in [*this_year.values(), *last_year])
    assert twelve_months > 1_000_000 * 100  # more than ¥1,000,000 over the twelve months
    # The ledger holds one row per accepted line, in the local month of its acceptance; its totals follow.
    ledger = db.session.execute(sa.select(PlanLedgerEntry.order_line_id, PlanLedgerEntry.year, PlanLedgerEntry.month,
                                          PlanLedgerEntry.recorded_at, PlanLedgerEntry.amount_fen)).all()
    assert len(ledger) == len({row[0] for row in ledger}) == len(rows)
    for _line, y, m, at, amount in ledger:
        local = at.astimezone(LOCAL_TIMEZONE)
        assert (local.year, local.month) == (y, m) and amount > 0
    assert completion.totals_drift() == 0
    # Some units trail time progress far enough for a plan-lag warning, some are ahead (once the year is
    # far enough on for a lag of ten points to be possible).
    if completion.time_progress(year) >= 25:
        lagging = rollups.lagging_units(year, 10)
        assert 1 <= len(lagging) < len(this_year)
        assert any(f.lag_points is not None and f.lag_points < 0 for f in this_year.values())


def test_orders_in_flight_hold_stock_without_emptying_the_demo_products(seed):
    seed()
    in_flight = db.session.execute(
        sa.select(OrderLine.id, OrderLine.quantity).join(SubOrder, SubOrder.id == OrderLine.sub_order_id)
        .join(Order, Order.id == SubOrder.order_id)
        .where(Order.kind == OrderKind.PROCUREMENT,
               SubOrder.status.in_((OrderStatus.PENDING_PAYMENT, OrderStatus.PAID, OrderStatus.SHIPPED,
                                    OrderStatus.RECEIVED)))).all()
    assert in_flight
    allocated = dict(db.session.execute(
        sa.select(OrderLineLot.order_line_id, sa.func.sum(OrderLineLot.quantity))
        .join(OrderLine, OrderLine.id == OrderLineLot.order_line_id)
        .join(SubOrder, SubOrder.id == OrderLine.sub_order_id).join(Order, Order.id == SubOrder.order_id)
        .where(Order.kind == OrderKind.PROCUREMENT).group_by(OrderLineLot.order_line_id)).all())
    assert allocated == dict(in_flight)
    for product in _all(sa.select(Product)):
        assert product.stock == sum(lot.remaining for lot in product.lots), product.name
    plum = db.session.execute(sa.select(Product).where(Product.name == "巫山脆李果脯")).scalar_one()
    assert plum.stock >= 100
    held = dict(db.session.execute(
        sa.select(ProductLot.product_id, sa.func.sum(OrderLineLot.quantity))
        .join(ProductLot, ProductLot.id == OrderLineLot.lot_id).group_by(ProductLot.product_id)).all())
    for product_id, quantity in held.items():
        product = db.session.get(Product, product_id)
        assert product.stock >= 50 and quantity <= product.stock, product.name
    # Settled procurement counts in the products' sold quantity, as the shop's completion adds it.
    sold = defaultdict(int)
    for product_id, quantity, kind, status in db.session.execute(
            sa.select(OrderLine.product_id, OrderLine.quantity, Order.kind, SubOrder.status)
            .join(SubOrder, SubOrder.id == OrderLine.sub_order_id).join(Order, Order.id == SubOrder.order_id)):
        if (kind == OrderKind.CONSUMER and status != OrderStatus.CANCELLED) or status == OrderStatus.COMPLETED:
            sold[product_id] += quantity
    for product in _all(sa.select(Product)):
        assert product.sold_quantity == sold.get(product.id, 0), product.name


def _counts() -> dict[str, int]:
    return {table.name: db.session.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            for table in db.metadata.sorted_tables}


def test_seeding_again_adds_no_plan_order_or_ledger_row(seed):
    seed()
    before = _counts()
    assert before["procurement_order"] > 0 and before["plan_ledger_entry"] > 0 and before["unit_plan"] > 0
    stock = db.session.execute(sa.select(Product.id, Product.stock, Product.sold_quantity).order_by(Product.id)).all()
    seed()
    seed(random_seed=7)
    assert _counts() == before
    assert db.session.execute(
        sa.select(Product.id, Product.stock, Product.sold_quantity).order_by(Product.id)).all() == stock
    assert db.session.execute(sa.select(sa.func.count()).select_from(ProcurementPayment)).scalar_one() == before[
        "procurement_payment"]


def _chart(html: str, chart_id: str) -> dict:
    found = re.search(rf'<script type="application/json" id="{chart_id}-data">(.*?)</script>', html, re.S)
    assert found, chart_id
    return json.loads(found.group(1))


def test_the_completion_pages_show_the_demo_figures_and_the_export_agrees(seed, client, login):
    from openpyxl import load_workbook

    seed()
    year = completion.today().year
    early = completion.time_progress(year) < 5  # the first days of January: last year's figures instead
    year -= early
    admin = db.session.execute(sa.select(User).where(User.email == "admin@demo.fupin.cn")).scalar_one()
    login(admin)
    page = client.get(f"/procurement/admin/completion?year={year}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    months = _chart(html, "months-chart")
    assert sum(Decimal(v) for v in months["counted"]) > 0
    assert any(v not in (None, "0.00") for v in _chart(html, "regions-chart")["completion"])
    book = load_workbook(io.BytesIO(client.get(f"/procurement/admin/completion.xlsx?year={year}").data), read_only=True)
    header, *rows = list(book["By unit"].iter_rows(values_only=True))
    in_file = {row[0]: dict(zip(header, row, strict=True)) for row in rows if row[0] != "Total"}
    figures = completion.unit_figures(year)
    assert len(in_file) == len(figures)
    for f in figures:
        row = in_file[f.name]
        assert Decimal(str(row["Counted toward the plan (yuan)"])) == Decimal(f.counted_fen) / 100, f.name
        assert row["Plan (yuan)"] == ("—" if f.plan_fen is None else pytest.approx(f.plan_fen / 100)), f.name
        shown = f"¥{Decimal(f.counted_fen) / 100:,.2f}"
        assert shown in html, f.name  # the same figure on the page

    buyer = db.session.execute(sa.select(User).where(User.email == "buyer@demo.fupin.cn")).scalar_one()
    login(buyer)
    html = client.get(f"/procurement/unit/completion?year={year}").get_data(as_text=True)
    assert sum(Decimal(v) for v in _chart(html, "months-chart")["counted"]) > 0
    own = next(f for f in figures if f.name == BUYER_UNIT)
    assert own.counted_fen > 0 and f"{own.completion}%" in html

    html = client.get("/transparency").get_data(as_text=True)
    public = _chart(html, "regions-chart")
    assert len(public["categories"]) == len(GUIDING_PLANS)
    assert early or all(Decimal(v) > 0 for v in public["completion"])
