"""Plan completion figures against a fixed data set computed by hand.

The data set (year 2025, "today" fixed at 2025-07-01 in Asia/Shanghai):

time progress = day 182 of 365 = 49.8630…% → 49.86%

Units (region chain A: province PA › city CA › county KA; chain B: province PB › county KB):

=====  =================  ==============  ==========================  ============
unit   type               region          plan 2025                   parent
=====  =================  ==============  ==========================  ============
U1     city department    CA              1,000,000 fen (¥10,000)     —
U2     county unit        KA              200,000 fen                 U1
U3     state enterprise   KA              none                        —
U4     central            PB (chain B)    500,000 fen                 —
=====  =================  ==============  ==========================  ============

Plan ledger 2025 (P1 comes from county KA, category C1; P2 from county KB, category C2):
U1 canteen +300,000 (March, P1), U1 union +100,000 (May, P2), U1 canteen refund −50,000 (June, P1),
U2 canteen +150,000 (April, P1), U3 union +80,000 (February, P2), U4 canteen +100,000 (January, P1);
and U1 canteen +999,999 in 2024, which never counts in 2025.

Shop (consumer orders; P1 = ¥39.90, P2 = ¥58.00):
- E1 names U1 as employer on 2025-02-01 (Shanghai).
  - order a: 1 × P1, completed 2025-01-15: before the link, not counted for U1 (3,990 sold to the public page)
  - order b: 2 × P1 with U1's promotion code, completed 2025-05-10, 1 refunded: employee 2 × 3,990 − 3,990 = 3,990
    (May); it is E1's own purchase, so not a help-sale
  - order c: 1 × P2 completed 2025-06-30 16:30 UTC = 2025-07-01 00:30 Shanghai → July, employee 5,800
- H (no employer) order d: 3 × P1 with U1's code, completed 2025-03-20: help-sales 11,970 (March)
- H order e: 1 × P1 with U1's code, never completed: nothing

So U1: canteen 300,000 − 50,000 = 250,000; union 100,000; employee 3,990 + 5,800 = 9,790; help-sales 11,970.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.registry import services as registry
from core.registry.models import Region, RegionLevel
from procurement.models import RegionPlan, UnitEmployee, UnitPlan, UnitType
from procurement.models_ledger import LedgerReason, PlanLedgerEntry, PurchaseChannel
from procurement.services import completion, rollups
from shop.models import HouseholdLink, LinkStatus, LinkType, OrderStatus
from tests import factories
from tests.procurement import factories_procurement as fp
from tests.shop import factories_orders, factories_shop

YEAR = 2025
TODAY = date(2025, 7, 1)


@dataclass
class DataSet:
    chain_a: dict
    chain_b: dict
    county_b: Region
    u1: object
    u2: object
    u3: object
    u4: object
    employee: object
    helper: object
    category_1: object
    category_2: object


def _shanghai(*args) -> datetime:
    return datetime(*args, tzinfo=completion.LOCAL_TIMEZONE).astimezone(UTC)


def _complete(order, at: datetime, refunded: dict | None = None) -> None:
    for sub in order.sub_orders:
        sub.status = OrderStatus.COMPLETED
        sub.completed_at = at
        for line in sub.lines:
            line.refunded_quantity = (refunded or {}).get(line.product_id, 0)
    db.session.flush()


def build() -> DataSet:
    chain_a = factories.region_chain()
    chain_b = factories.region_chain()
    county_b = chain_b[RegionLevel.COUNTY]
    u1 = fp.unit(chain_a[RegionLevel.CITY], type=UnitType.CITY_DEPARTMENT, name="甲市农业农村委",
                 promotion_code="HELPU1")
    u2 = fp.unit(chain_a[RegionLevel.COUNTY], type=UnitType.COUNTY_UNIT, name="甲县分局", parent_id=u1.id)
    u3 = fp.unit(chain_a[RegionLevel.COUNTY], type=UnitType.STATE_ENTERPRISE, name="甲县国企")
    u4 = fp.unit(chain_b[RegionLevel.PROVINCE], type=UnitType.CENTRAL, name="乙中央单位")
    fp.own_canteen_plan(u1, YEAR, 10_000_000)  # 10% of ¥100,000 = 1,000,000 fen
    fp.own_canteen_plan(u2, YEAR, 2_000_000)  # 200,000 fen
    fp.own_canteen_plan(u4, YEAR, 5_000_000)  # 500,000 fen
    fp.own_canteen_plan(u1, YEAR - 1, 10_000_000)
    db.session.add(RegionPlan(region_id=chain_a[RegionLevel.PROVINCE].id, year=YEAR, amount_fen=2_000_000,
                              reason="指导性计划"))

    supplier_a = factories.supplier(chain_a[RegionLevel.COUNTY])
    supplier_b = factories.supplier(county_b)
    idle = factories.supplier(county_b)
    cat_1, cat_2 = factories_shop.category("水果"), factories_shop.category("粮油")
    p1 = factories_shop.product(supplier_a, cat_1, chain_a[RegionLevel.VILLAGE], price_fen=3990, stock=100)
    p2 = factories_shop.product(supplier_b, cat_2, chain_b[RegionLevel.VILLAGE], price_fen=5800, stock=100)
    # Households: supplier A two live links and an ended one, B one, the idle supplier one (sold nothing).
    for sup, status in ((supplier_a, LinkStatus.ACTIVE), (supplier_a, LinkStatus.ACTIVE),
                        (supplier_a, LinkStatus.ENDED), (supplier_b, LinkStatus.ACTIVE), (idle, LinkStatus.ACTIVE)):
        village = chain_a[RegionLevel.VILLAGE] if sup is supplier_a else chain_b[RegionLevel.VILLAGE]
        db.session.add(HouseholdLink(supplier_id=sup.id, household_id=factories.household(village).id,
                                     link_type=LinkType.ORDER_PURCHASE, started_on=date(2024, 1, 1),
                                     ended_on=date(2024, 6, 1) if status == LinkStatus.ENDED else None,
                                     benefit_share_bp=1000, status=status))

    # The lines the ledger rows point at: an order that never completes, so the shop counts it nowhere.
    source = factories_orders.place(factories.UserFactory(), {p1: 1, p2: 1})
    line_of = {line.product_id: line.id for sub in source.sub_orders for line in sub.lines}

    def ledger(unit, channel, month, amount, product, year=YEAR):
        county = chain_a[RegionLevel.COUNTY].id if product is p1 else county_b.id
        db.session.add(PlanLedgerEntry(
            unit_id=unit.id, year=year, month=month, channel=channel,
            reason=LedgerReason.ACCEPTED if amount >= 0 else LedgerReason.REFUNDED, amount_fen=amount,
            order_line_id=line_of[product.id], origin_county_id=county,
            category_id=cat_1.id if product is p1 else cat_2.id))

    ledger(u1, PurchaseChannel.CANTEEN, 3, 300_000, p1)
    ledger(u1, PurchaseChannel.UNION, 5, 100_000, p2)
    ledger(u1, PurchaseChannel.CANTEEN, 6, -50_000, p1)
    ledger(u2, PurchaseChannel.CANTEEN, 4, 150_000, p1)
    ledger(u3, PurchaseChannel.UNION, 2, 80_000, p2)
    ledger(u4, PurchaseChannel.CANTEEN, 1, 100_000, p1)
    ledger(u1, PurchaseChannel.CANTEEN, 12, 999_999, p1, year=YEAR - 1)

    employee, helper = factories.UserFactory(), factories.UserFactory()
    db.session.add(UnitEmployee(user_id=employee.id, unit_id=u1.id, since=_shanghai(2025, 2, 1)))
    _complete(factories_orders.place(employee, {p1: 1}), _shanghai(2025, 1, 15, 12))
    _complete(factories_orders.place(employee, {p1: 2}, referral_code="HELPU1"), _shanghai(2025, 5, 10, 10),
              refunded={p1.id: 1})
    _complete(factories_orders.place(employee, {p2: 1}), datetime(2025, 6, 30, 16, 30, tzinfo=UTC))
    _complete(factories_orders.place(helper, {p1: 3}, referral_code="HELPU1"), _shanghai(2025, 3, 20, 9))
    factories_orders.place(helper, {p1: 1}, referral_code="HELPU1")
    db.session.flush()
    return DataSet(chain_a, chain_b, county_b, u1, u2, u3, u4, employee, helper, cat_1, cat_2)


@pytest.fixture()
def data(db_session, monkeypatch):
    monkeypatch.setattr(completion, "today", lambda: TODAY)
    return build()


def _by_id(rows):
    return {r.unit_id: r for r in rows}


def test_time_progress_is_day_of_year_over_days_in_year():
    assert completion.time_progress(2025, date(2025, 7, 1)) == Decimal("49.86")  # 182 / 365
    assert completion.time_progress(2024, date(2024, 12, 31)) == Decimal("100.00")  # 366 / 366
    assert completion.time_progress(2024, date(2025, 1, 1)) == Decimal("100.00")  # a past year
    assert completion.time_progress(2026, date(2025, 1, 1)) == Decimal("0.00")


def test_unit_figures_match_the_hand_computed_data_set(data):
    rows = _by_id(completion.unit_figures(YEAR))
    u1 = rows[data.u1.id]
    assert (u1.plan_fen, u1.canteen_fen, u1.union_fen, u1.employee_fen) == (1_000_000, 250_000, 100_000, 9_790)
    assert u1.counted_fen == 359_790  # 250,000 + 100,000 + 9,790
    assert u1.completion == Decimal("35.98")  # 359,790 / 1,000,000 = 35.979%
    assert u1.time_progress == Decimal("49.86")
    assert u1.expected_fen == 498_600  # 1,000,000 × 49.86%
    assert u1.gap_fen == 138_810  # 498,600 − 359,790
    assert u1.remaining_fen == 640_210
    assert u1.lag_points == Decimal("13.88")  # 49.86 − 35.98
    u2 = rows[data.u2.id]
    assert (u2.counted_fen, u2.completion, u2.gap_fen) == (150_000, Decimal("75.00"), -50_280)  # 99,720 − 150,000
    u3 = rows[data.u3.id]
    assert (u3.plan_fen, u3.union_fen, u3.completion, u3.gap_fen) == (None, 80_000, None, None)
    u4 = rows[data.u4.id]
    assert (u4.completion, u4.gap_fen) == (Decimal("20.00"), 149_300)  # 500,000 × 49.86% − 100,000


def test_help_sales_are_apart_and_leave_out_the_units_own_employees(data):
    u1 = _by_id(completion.unit_figures(YEAR))[data.u1.id]
    # Order d only (3 × 3,990); order b carries the code but is E1's own purchase; order e never completed.
    assert u1.help_sales_fen == 11_970
    assert u1.counted_fen == 359_790  # unchanged by help-sales
    assert u1.purchases_fen == 359_790


def test_refunds_subtract(data):
    u1 = _by_id(completion.unit_figures(YEAR))[data.u1.id]
    assert u1.canteen_fen == 300_000 - 50_000
    assert u1.employee_fen == 2 * 3990 - 3990 + 5800


def test_employee_channel_can_be_left_out_of_the_plan(data, app):
    app.config["PLAN_COUNTED_CHANNELS"] = "canteen,union"
    try:
        u1 = _by_id(completion.unit_figures(YEAR))[data.u1.id]
    finally:
        app.config["PLAN_COUNTED_CHANNELS"] = completion.DEFAULT_COUNTED_CHANNELS
    assert u1.employee_fen == 9_790  # still shown in its column
    assert u1.counted_fen == 350_000
    assert u1.completion == Decimal("35.00")
    assert u1.gap_fen == 148_600  # 498,600 − 350,000


def test_unknown_channel_names_are_refused():
    with pytest.raises(ValueError, match="unknown"):
        completion.parse_channels("canteen,uniom")


def test_months_follow_shanghai_time_and_accumulate(data):
    months = completion.monthly(YEAR, sa.literal_column("buyer_unit.id") == data.u1.id, plan_fen=1_000_000)
    counted = {m.month: m.counted_fen for m in months if m.counted_fen}
    # March canteen; May union + employee 3,990; June refund; July employee (00:30 on 1 July in Shanghai).
    assert counted == {3: 300_000, 5: 103_990, 6: -50_000, 7: 5_800}
    assert [m.cumulative_counted_fen for m in months][2:7] == [300_000, 300_000, 403_990, 353_990, 359_790]
    assert months[6].cumulative_completion == Decimal("35.98")
    assert {m.month: m.help_sales_fen for m in months if m.help_sales_fen} == {3: 11_970}


def test_region_roll_up_against_its_guiding_plan(data):
    province = data.chain_a[RegionLevel.PROVINCE]
    board = rollups.dashboard(YEAR, province)
    s = board.summary
    # U1 + U2 + U3: plans 1,000,000 + 200,000 (U3 has none); counted 359,790 + 150,000 + 80,000.
    assert (s.units, s.units_without_plan, s.plan_fen, s.counted_fen) == (3, 1, 1_200_000, 589_790)
    assert s.completion == Decimal("49.15")  # 589,790 / 1,200,000 = 49.149%
    assert s.guiding_plan_fen == 2_000_000
    assert s.guiding_completion == Decimal("29.49")  # 589,790 / 2,000,000 = 29.4895%
    units = completion.unit_figures_page(YEAR, board.scope, 1, 100).items
    assert [u.unit_id for u in units] == sorted([data.u1.id, data.u2.id, data.u3.id],
                                                key=lambda i: {data.u1.id: "甲市", data.u2.id: "甲县分",
                                                               data.u3.id: "甲县国"}[i])
    (city,) = board.children
    assert (city.label, city.counted_fen, city.units) == (data.chain_a[RegionLevel.CITY].name, 589_790, 3)
    types = {t.key: t.counted_fen for t in board.types}
    assert types == {"city_department": 359_790, "county_unit": 150_000, "state_enterprise": 80_000}
    # Where the money went: county KA 250,000 + 150,000 canteen + 3,990 employee; KB 100,000 + 80,000 + 5,800.
    counties = {c.key: c.counted_fen for c in board.counties}
    assert counties == {data.chain_a[RegionLevel.COUNTY].id: 403_990, data.county_b.id: 185_800}
    assert board.lagging_total == 1
    assert [u.unit_id for u in rollups.lagging_page(YEAR, board.scope, board.lag_points, 1, 100).items] == [data.u1.id]


def test_unit_with_its_sub_units(data):
    page = completion.unit_page(data.u1, YEAR)
    assert page.unit.counted_fen == 359_790
    assert [s.unit_id for s in page.sub_units] == [data.u2.id]
    assert page.with_sub_units.plan_fen == 1_200_000
    assert page.with_sub_units.counted_fen == 509_790


def test_lagging_units_with_their_gap_in_yuan(data):
    everywhere = rollups.lagging_units(YEAR, 10)
    ours = [u for u in everywhere if u.unit_id in {data.u1.id, data.u2.id, data.u3.id, data.u4.id}]
    # U4 trails by 29.86 points (¥1,493.00), U1 by 13.88 (¥1,388.10); U2 is ahead; U3 has no plan.
    assert [(u.unit_id, u.lag_points, u.gap_fen) for u in ours] == [
        (data.u4.id, Decimal("29.86"), 149_300), (data.u1.id, Decimal("13.88"), 138_810)]
    assert [u.unit_id for u in rollups.lagging_units(YEAR, 20, region=data.chain_b[RegionLevel.PROVINCE])] == [
        data.u4.id]
    assert rollups.lagging_units(YEAR, 30, region=data.chain_b[RegionLevel.PROVINCE]) == []


def test_lagging_units_uses_the_setting_by_default(data, app):
    app.config["PLAN_LAG_POINTS"] = "15"
    try:
        rows = rollups.lagging_units(YEAR, region=data.chain_a[RegionLevel.PROVINCE])
    finally:
        app.config["PLAN_LAG_POINTS"] = completion.DEFAULT_LAG_POINTS
    assert rows == []  # U1 trails by 13.88 points only


def test_public_figures(data):
    sold = {(s.county_id, s.category_id): s.amount_fen for s in completion.sold_by_county_category(YEAR)}
    ka, kb = data.chain_a[RegionLevel.COUNTY].id, data.county_b.id
    # KA/C1: shop a 3,990 + b 3,990 + d 11,970; ledger 300,000 − 50,000 + 150,000 + 100,000 = 500,000.
    # KB/C2: shop c 5,800; ledger 100,000 + 80,000.
    assert sold[(ka, data.category_1.id)] == 519_950
    assert sold[(kb, data.category_2.id)] == 185_800
    # Supplier A's two live links and B's one; the ended link and the idle supplier's household do not count.
    assert completion.households_reached(YEAR) == 3
    regions = {r.key: r for r in rollups.public_region_completion(YEAR)}
    assert regions[data.chain_a[RegionLevel.PROVINCE].id].guiding_completion == Decimal("29.49")


def test_no_query_per_unit(data, app):
    """The dashboard asks the database the same number of questions whatever the number of units."""
    province = data.chain_a[RegionLevel.PROVINCE]
    statements = []

    def count(*_args, **_kw):
        statements.append(1)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        rollups.dashboard(YEAR, province)
        few = len(statements)
        for i in range(5):
            fp.unit(data.chain_a[RegionLevel.COUNTY], name=f"加的单位{i}")
        statements.clear()
        rollups.dashboard(YEAR, province)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) == few


def test_a_unit_without_a_plan_is_listed_as_such(data):
    rows = _by_id(completion.unit_figures(YEAR, registry_scope(data)))
    assert rows[data.u3.id].has_plan is False
    assert db.session.execute(sa.select(sa.func.count()).select_from(UnitPlan)
                              .where(UnitPlan.unit_id == data.u3.id)).scalar_one() == 0


def registry_scope(data):
    from procurement.models import BuyerUnit

    return BuyerUnit.region_id.in_(registry.subtree_ids(data.chain_a[RegionLevel.PROVINCE]))


def test_maintained_totals_follow_the_ledger(data):
    assert completion.totals_drift() == 0
    row = db.session.execute(sa.select(PlanLedgerEntry).where(PlanLedgerEntry.unit_id == data.u3.id)).scalar_one()
    db.session.delete(row)
    db.session.flush()
    assert completion.totals_drift() == 0
    assert _by_id(completion.unit_figures(YEAR))[data.u3.id].union_fen == 0


def test_totals_count_bulk_ledger_writes(data):
    """The ledger is written with INSERT … SELECT and executemany: the totals see every row."""
    copy = sa.select(PlanLedgerEntry.unit_id, PlanLedgerEntry.year, sa.literal(8), PlanLedgerEntry.channel,
                     PlanLedgerEntry.reason, PlanLedgerEntry.amount_fen, PlanLedgerEntry.order_line_id,
                     PlanLedgerEntry.origin_county_id, PlanLedgerEntry.category_id, PlanLedgerEntry.recorded_at
                     ).where(PlanLedgerEntry.unit_id == data.u4.id)
    db.session.execute(sa.insert(PlanLedgerEntry).from_select(
        ["unit_id", "year", "month", "channel", "reason", "amount_fen", "order_line_id", "origin_county_id",
         "category_id", "recorded_at"], copy))
    assert completion.totals_drift() == 0
    months = completion.monthly(YEAR, sa.literal_column("buyer_unit.id") == data.u4.id)
    assert (months[0].canteen_fen, months[7].canteen_fen) == (100_000, 100_000)
    assert _by_id(completion.unit_figures(YEAR))[data.u4.id].canteen_fen == 200_000


def test_the_dashboards_roll_ups_equal_its_units_added_up(data):
    """Every figure the database adds up or ranks equals the per-unit figures added up and ranked in
    Python (``Figures.add``, ``Figures.lag_points``, ``Figures.gap_fen``)."""
    board = rollups.dashboard(YEAR, None)
    units = completion.unit_figures(YEAR)
    assert len(units) == board.summary.units == 4
    expected = completion.total(units, YEAR)
    assert (board.summary.plan_fen, board.summary.counted_fen, board.summary.help_sales_fen,
            board.summary.units_without_plan) == (expected.plan_fen, expected.counted_fen, expected.help_sales_fen,
                                                  expected.units_without_plan)
    for group in board.types:
        of_type = completion.total([u for u in units if u.type.value == group.key], YEAR)
        assert (group.units, group.plan_fen, group.counted_fen) == (of_type.units, of_type.plan_fen,
                                                                   of_type.counted_fen)
    assert sum(g.units for g in board.types) == 4
    for region in board.children:
        inside = completion.total([u for u in units if f"/{region.key}/" in u.region_path], YEAR)
        assert (region.units, region.plan_fen, region.counted_fen) == (inside.units, inside.plan_fen,
                                                                      inside.counted_fen)
    for points in (Decimal(0), Decimal("13.87"), Decimal("13.88"), Decimal("13.885"), Decimal(20)):
        ranked = sorted([u for u in units if u.plan_fen and u.lag_points > points],
                        key=lambda u: (-u.lag_points, -u.gap_fen, u.name))
        assert rollups.lagging_units(YEAR, points) == ranked
        assert rollups.lagging_count(YEAR, None, points) == len(ranked)
    months = completion.monthly(YEAR, None, plan_fen=board.summary.plan_fen)
    assert board.months == months
    assert sum(m.help_sales_fen for m in months) == board.summary.help_sales_fen > 0


@pytest.mark.parametrize("denominator", [1, 2, 3, 7, 400, 999_983])
def test_the_databases_rounding_of_the_lag_is_percents(db_session, denominator):
    """Half up, away from zero, in integers: the database ranks by exactly the completion shown."""
    from procurement.services.rollups import _half_up_div

    half = denominator // 2  # around every whole quotient and every half-way point
    numerators = sorted({k * denominator + r for k in (-3, -1, 0, 1, 2)
                         for r in (-half - 1, -half, -half + 1, -1, 0, 1, half - 1, half, half + 1)})
    numerators += [10_000 * 123_456_789, -10_000 * 987_654_321]
    got = db.session.execute(sa.select(*[_half_up_div(sa.literal(n, sa.BigInteger), sa.literal(
        denominator, sa.BigInteger)) for n in numerators])).one()
    assert list(got) == [int((Decimal(n) / denominator).quantize(Decimal(1), ROUND_HALF_UP)) for n in numerators]


def test_every_regions_dashboard_reads_the_all_units_total_per_county(data):
    """A platform administrator's dashboard (every unit) reads the ledger's total per county of origin;
    it equals the per-unit totals added up over every unit."""
    board = rollups.dashboard(YEAR, None, sa.true())
    assert board.counties == completion.by_origin_county(YEAR, sa.literal_column("buyer_unit.id") > 0)
    ka, kb = data.chain_a[RegionLevel.COUNTY].id, data.county_b.id
    # KA: canteen U1 250,000 + U2 150,000 + U4 100,000, employee 3,990; KB: union U1 100,000 + U3 80,000,
    # employee 5,800. U1's 999,999 of 2024 is not in 2025.
    assert {c.key: (c.canteen_fen, c.union_fen, c.employee_fen) for c in board.counties} == {
        ka: (500_000, 0, 3_990), kb: (0, 180_000, 5_800)}
