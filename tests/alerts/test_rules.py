"""Each rule fires at its threshold and not just below it (default thresholds; see alerts.rules)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from alerts import job
from alerts.models import WarningCause, WarningLevel
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


def test_spoilage_sells_lots_first_expiring_first(world):
    p = world.product()
    lot(p, 10, TODAY + timedelta(days=7))
    lot(p, 50, TODAY + timedelta(days=40))
    sale(p, 7, TODAY - timedelta(days=1))  # 1 a day
    f = job.compute_figures(TODAY)[p.id]
    # The first lot sells 7 of 10 before it expires; the second sells the 33 days after, leaving 17.
    assert f.unsold_before_spoil == 3 + 17
    assert f.days_to_spoil == 7


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
        listener = lambda *a, **k: seen.append(1)  # noqa: E731
        sa.event.listen(db.engine, "before_cursor_execute", listener)
        try:
            job.compute_figures(TODAY)
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
