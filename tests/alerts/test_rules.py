"""Each rule fires at its threshold and not just below it (default thresholds; see alerts.rules)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from alerts import job, rules
from alerts.models import WarningCause, WarningLevel
from core.extensions import db
from tests.alerts.conftest import TODAY
from tests.alerts.factories_alerts import at, lot, sale


def _levels(product) -> dict[WarningCause, WarningLevel | None]:
    f = job.compute_figures(TODAY)[product.id]
    from alerts import rules

    return {s.cause: s.level for s in job.signals_for(f, rules.current())}


@pytest.mark.parametrize(("quantity", "expected"), [(20, WarningLevel.BLUE), (19, None)])
def test_spoilage_fires_when_the_unsold_amount_reaches_blue(world, quantity, expected):
    # 1000 fen × 20 units = 20,000 fen: exactly the blue amount; nothing sells.
    p = world.product()
    lot(p, quantity, TODAY + timedelta(days=10))
    assert _levels(p)[WarningCause.SPOILAGE] == expected


def test_spoilage_does_not_fire_when_the_pace_sells_the_stock_in_time(world):
    p = world.product()
    lot(p, 20, TODAY + timedelta(days=10))
    sale(p, 14, TODAY - timedelta(days=3))  # 2 a day: 20 sold in 10 days
    figures = job.compute_figures(TODAY)[p.id]
    assert figures.unsold_before_spoil == 0
    assert _levels(p)[WarningCause.SPOILAGE] is None


def test_a_weeks_sales_are_read_one_standard_error_high(world, db_session):
    p = world.product()
    lot(p, 60, TODAY + timedelta(days=5))  # within the red days: no pace margin
    sale(p, 49, TODAY - timedelta(days=1))  # 7 a day as counted; 56 (49 + √49) a week: 8 a day
    assert job.compute_figures(TODAY)[p.id].unsold_before_spoil == 60 - 8 * 5
    rules.save({**rules.current(), "pace_error_percent": 0})
    assert job.compute_figures(TODAY)[p.id].unsold_before_spoil == 60 - 7 * 5
    rules.save({**rules.current(), "pace_error_percent": 200})  # 49 + 2 × 7 = 63 a week: 9 a day
    assert job.compute_figures(TODAY)[p.id].unsold_before_spoil == 60 - 9 * 5


def test_nothing_sold_is_read_as_nothing(world):
    p = world.product()
    lot(p, 20, TODAY + timedelta(days=5))
    assert job.compute_figures(TODAY)[p.id].unsold_before_spoil == 20


def test_spoilage_sells_lots_first_expiring_first(world, db_session):
    rules.save({**rules.current(), "pace_margin_percent": 0, "pace_error_percent": 0})
    p = world.product()
    lot(p, 10, TODAY + timedelta(days=7))
    lot(p, 50, TODAY + timedelta(days=40))
    sale(p, 7, TODAY - timedelta(days=1))  # 1 a day
    f = job.compute_figures(TODAY)[p.id]
    # The first lot sells 7 of 10 before it expires; the second sells the 33 days after, leaving 17.
    assert f.unsold_before_spoil == 3 + 17
    assert f.days_to_spoil == 7


def test_spoilage_beyond_the_red_days_allows_a_faster_pace(world, db_session):
    rules.save({**rules.current(), "pace_error_percent": 0})  # the margin alone, as counted
    p = world.product()
    lot(p, 10, TODAY + timedelta(days=5))
    lot(p, 10, TODAY + timedelta(days=7))
    lot(p, 50, TODAY + timedelta(days=40))
    sale(p, 7, TODAY - timedelta(days=1))  # 1 a day; 1.2 a day (pace_margin_percent 20) beyond 5 days
    f = job.compute_figures(TODAY)[p.id]
    # 5 sell by day 5 (5 left); 8 by day 7, 3 of them from the second lot (7 left); 48 by day 40 (10 left).
    assert (f.unsold_before_spoil, f.days_to_spoil) == (5 + 7 + 10, 5)


def test_a_far_spoil_day_is_judged_at_the_steadier_pace(world, db_session):
    rules.save({**rules.current(), "pace_error_percent": 0})  # the margin alone, as counted
    p = world.product()
    lot(p, 60, TODAY + timedelta(days=20))
    sale(p, 35, TODAY - timedelta(days=20))  # 28-day pace: 42 in 28 days, 1.5 a day
    sale(p, 7, TODAY - timedelta(days=1))  # 7-day pace: 1 a day
    f = job.compute_figures(TODAY)[p.id]
    # At 1.2 a day 24 of 60 sell in 20 days (36 left); at 1.8 a day 36 (24 left).
    assert (f.unsold_before_spoil, f.unsold_before_spoil_steady) == (36, 24)
    (sig,) = [s for s in job.signals_for(f, rules.current()) if s.cause == WarningCause.SPOILAGE]
    assert (sig.amount_fen, sig.days_left) == (24 * 1000, 20)  # 20 days > steady_pace_after_days (14)
    assert job.signals_for(f, {**rules.current(), "steady_pace_after_days": 20})[0].amount_fen == 36 * 1000


@pytest.mark.parametrize(("days", "expected"), [(5, WarningLevel.RED), (6, WarningLevel.ORANGE),
                                                (10, WarningLevel.ORANGE), (11, WarningLevel.YELLOW)])
def test_the_level_needs_the_amount_and_few_enough_days(world, days, expected):
    p = world.product(price_fen=10_000)
    lot(p, 200, TODAY + timedelta(days=days))  # 2,000,000 fen at risk: the red amount
    assert _levels(p)[WarningCause.SPOILAGE] == expected


@pytest.mark.parametrize(("harvest_months", "expected"), [(1 << 5, WarningLevel.YELLOW), (1 << 0, None)])
def test_season_end_fires_when_the_stock_outlives_the_harvest_window(world, harvest_months, expected):
    # In season (June only): 15 days left in the window, 100 units × 1000 fen unsold by then.
    p = world.product(harvest_months=harvest_months)
    lot(p, 100, TODAY + timedelta(days=40))
    assert _levels(p)[WarningCause.SEASON_END] == expected


@pytest.mark.parametrize(("sold_7", "fires"), [(3, True), (4, False)])
def test_sales_stall_fires_when_the_7_day_pace_drops_by_half(world, sold_7, fires):
    p = world.product()
    lot(p, 30, TODAY + timedelta(days=30))
    sale(p, 24 - sold_7, TODAY - timedelta(days=20))
    sale(p, sold_7, TODAY - timedelta(days=2))
    f = job.compute_figures(TODAY)[p.id]
    assert (f.velocity_drop_bp >= 5000) is fires
    assert (_levels(p)[WarningCause.SALES_STALL] is not None) is fires


@pytest.mark.parametrize(("days", "fires"), [(14, True), (13, False)])
def test_sales_stall_fires_after_days_without_a_sale(world, days, fires):
    p = world.product(listed_at=at(TODAY - timedelta(days=days)))
    lot(p, 30, TODAY + timedelta(days=30))
    assert job.compute_figures(TODAY)[p.id].days_since_last_sale == days
    assert (_levels(p)[WarningCause.SALES_STALL] is not None) is fires


def test_cancelled_and_refunded_orders_do_not_count_as_sales(world):
    from shop.models import OrderStatus

    p = world.product()
    sale(p, 5, TODAY - timedelta(days=1), status=OrderStatus.CANCELLED)
    sale(p, 5, TODAY - timedelta(days=1), status=OrderStatus.REFUNDED)
    sale(p, 2, TODAY - timedelta(days=1), status=OrderStatus.PAID)
    sale(p, 3, TODAY, status=OrderStatus.PAID)  # today is not over: not counted yet
    f = job.compute_figures(TODAY)[p.id]
    assert (f.sold_7, f.sold_28) == (2, 2)


@pytest.mark.parametrize(("now_price", "fires"), [(900, True), (910, False)])
def test_price_fall_fires_when_the_category_price_falls_month_on_month(world, now_price, fires):
    other = world.product()
    sale(other, 10, TODAY - timedelta(days=45), unit_price_fen=1000)  # last month
    sale(other, 10, TODAY - timedelta(days=5), unit_price_fen=now_price)  # this month
    p = world.product()
    lot(p, 30, TODAY + timedelta(days=30))
    f = job.compute_figures(TODAY)[p.id]
    assert f.group_mom_bp == (now_price - 1000) * 10000 // 1000
    assert (_levels(p)[WarningCause.PRICE_FALL] is not None) is fires


def test_price_fall_year_on_year(world):
    other = world.product()
    sale(other, 10, TODAY - timedelta(days=370), unit_price_fen=2000)
    sale(other, 10, TODAY - timedelta(days=5), unit_price_fen=1000)
    p = world.product()
    lot(p, 30, TODAY + timedelta(days=30))
    f = job.compute_figures(TODAY)[p.id]
    assert f.group_yoy_bp == -5000 and f.group_mom_bp is None
    assert f.price_vs_group_bp == 0
    assert _levels(p)[WarningCause.PRICE_FALL] is not None


def test_the_figures_take_the_same_number_of_statements_for_any_number_of_products(world, db_session):
    import sqlalchemy as sa

    from core.extensions import db

    def count_statements() -> int:
        seen = []
        thresholds = rules.current()  # the job reads them once for the whole run
        listener = lambda *a, **k: seen.append(1)  # noqa: E731
        sa.event.listen(db.engine, "before_cursor_execute", listener)
        try:
            job.compute_figures(TODAY, thresholds)
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", listener)
        return len(seen)

    p = world.product()
    lot(p, 5, TODAY + timedelta(days=3))
    sale(p, 1, TODAY - timedelta(days=2))
    few = count_statements()
    for _ in range(8):
        q = world.product()
        lot(q, 5, TODAY + timedelta(days=3))
        sale(q, 1, TODAY - timedelta(days=2))
    assert count_statements() == few <= 5


def _expired(product, quantity: int, days_ago: int, *, sold: int = 0):
    """A lot that expired ``days_ago`` days ago: ``sold`` units went to an order, the rest was written off."""
    from shop.models_orders import OrderLineLot

    row = lot(product, quantity, TODAY - timedelta(days=days_ago))
    row.remaining, product.stock = 0, product.stock - quantity
    if sold:
        line = sale(product, sold, TODAY - timedelta(days=days_ago + 7))  # before the 7-day pace
        db.session.add(OrderLineLot(order_line_id=line.id, lot_id=row.id, quantity=sold))
    db.session.flush()
    return row


def test_spoilage_weighs_what_the_spell_already_lost_with_what_the_stock_on_hand_will(world):
    # 1000 fen a unit: 10 on hand will rot (10,000 fen, below blue) after 15 written off (15,000 fen).
    p = world.product()
    _expired(p, 20, 4, sold=5)
    lot(p, 10, TODAY + timedelta(days=3))
    f = job.compute_figures(TODAY)[p.id]
    assert (f.spoiled_in_spell, f.unsold_before_spoil) == (15, 10)
    (signal,) = [s for s in job.signals_for(f, rules.current()) if s.cause == WarningCause.SPOILAGE]
    assert (signal.level, signal.amount_fen) == (WarningLevel.BLUE, 10_000)  # the amount at risk stays ahead


def test_a_lot_that_sold_out_ends_the_spell_and_past_losses_alone_do_not_warn(world):
    p = world.product()
    _expired(p, 30, 20)  # lost 30, but before a lot that sold out
    _expired(p, 10, 12, sold=10)
    _expired(p, 5, 2)
    lot(p, 10, TODAY + timedelta(days=3))
    f = job.compute_figures(TODAY)[p.id]
    assert f.spoiled_in_spell == 5 and _levels(p)[WarningCause.SPOILAGE] is None  # 15,000 fen
    sold_out = world.product()
    _expired(sold_out, 40, 1)
    lot(sold_out, 10, TODAY + timedelta(days=20))
    sale(sold_out, 7, TODAY - timedelta(days=1))  # one a day: the ten on hand sell in time
    assert _levels(sold_out)[WarningCause.SPOILAGE] is None
