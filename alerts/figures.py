"""The figures of the early-warning job: what every listed product looks like today.

``compute_figures(today)`` reads all listed products in four set-based statements (products with
their origin province, sales aggregates, stock lots, category prices by origin province) and
computes the rest in one pass in Python; ``signals_for`` turns one product's figures into a level
per cause. ``alerts.rules`` says what each figure means and when each cause fires.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from alerts import rules as rules_mod
from alerts.models import WarningCause, WarningLevel
from core.extensions import db
from core.registry.models import Region
from shop.models import OrderLine, OrderStatus, Product, ProductLot, ProductStatus, SubOrder
from shop.models_orders import OrderLineLot

LOCAL = ZoneInfo("Asia/Shanghai")
EXCLUDED_STATUSES = (OrderStatus.CANCELLED, OrderStatus.REFUNDED)
PRICE_WINDOW_DAYS = 30  # "this month": the 30 days before the run; last month and last year: the same span earlier
SPELL_DAYS = 28  # how far back the spoilage already suffered in the current spell is looked for (see _spells)


def local_today() -> date:
    return datetime.now(LOCAL).date()


def _start_of(day: date) -> datetime:
    """Midnight in Asia/Shanghai of ``day``, as a UTC datetime."""
    return datetime.combine(day, time(0), LOCAL).astimezone(UTC)


@dataclass
class Figures:
    product_id: int
    supplier_id: int
    county_id: int
    price_fen: int
    stock: int
    sold_7: int = 0
    sold_28: int = 0
    days_since_last_sale: int | None = None
    days_to_spoil: int | None = None
    unsold_before_spoil: int = 0
    days_to_spoil_steady: int | None = None
    unsold_before_spoil_steady: int = 0
    spoiled_in_spell: int = 0
    earliest_expiry_days: int | None = None
    days_to_season_end: int | None = None
    unsold_before_season_end: int = 0
    velocity_drop_bp: int | None = None
    price_vs_group_bp: int | None = None
    group_mom_bp: int | None = None
    group_yoy_bp: int | None = None

    def as_dict(self) -> dict:
        d = {k: v for k, v in vars(self).items() if k not in ("product_id", "supplier_id", "county_id")}
        d["velocity_7_x100"] = self.sold_7 * 100 // 7  # units/day × 100, kept integral
        d["velocity_28_x100"] = self.sold_28 * 100 // 28
        d["days_of_cover"] = None if not self.sold_7 else self.stock * 7 // self.sold_7
        return d


@dataclass
class Signal:
    cause: WarningCause
    level: WarningLevel | None
    amount_fen: int
    days_left: int | None


# --- the figures ------------------------------------------------------------------------------


def _season_days_left(mask: int, today: date) -> int | None:
    """Days from ``today`` to the last day of the current harvest window; None out of season or all year."""
    if not mask & (1 << (today.month - 1)) or mask == 0xFFF:
        return None
    year, month = today.year, today.month
    for _step in range(12):
        nxt_year, nxt_month = (year + 1, 1) if month == 12 else (year, month + 1)
        if not mask & (1 << (nxt_month - 1)):
            break
        year, month = nxt_year, nxt_month
    last_day = (date(year + (month == 12), month % 12 + 1, 1)) - timedelta(days=1)
    return (last_day - today).days


def compute_figures(today: date, rules: dict[str, int] | None = None) -> dict[int, Figures]:
    """Every listed product's figures, read in four set-based statements (``rules``: those in force when None)."""
    rules = rules or rules_mod.current()
    margin = (rules["pace_margin_percent"], rules["days_red"])
    error_percent = rules["pace_error_percent"]
    end = _start_of(today)
    d7, d28 = end - timedelta(days=7), end - timedelta(days=28)
    county, city = aliased(Region), aliased(Region)
    rows = db.session.execute(
        sa.select(Product.id, Product.supplier_id, Product.category_id, Product.origin_county_id, city.parent_id,
                  Product.price_fen, Product.stock, Product.shelf_life_days, Product.harvest_months,
                  Product.listed_at)
        .join(county, county.id == Product.origin_county_id).join(city, city.id == county.parent_id)
        .where(Product.status == ProductStatus.LISTED)
    ).all()
    figures: dict[int, Figures] = {}
    meta: dict[int, tuple] = {}
    for pid, supplier_id, category_id, county_id, province_id, price, stock, shelf, harvest, listed_at in rows:
        figures[pid] = Figures(pid, supplier_id, county_id, price, stock)
        meta[pid] = (category_id, province_id, shelf, harvest, listed_at)

    listed = Product.status == ProductStatus.LISTED
    sold = OrderLine.quantity - OrderLine.refunded_quantity
    sales = db.session.execute(
        sa.select(OrderLine.product_id,
                  sa.func.sum(sa.case((OrderLine.created_at >= d7, sold), else_=0)),
                  sa.func.sum(sa.case((OrderLine.created_at >= d28, sold), else_=0)),
                  sa.func.max(OrderLine.created_at),
                  sa.func.min(sa.case((OrderLine.created_at >= d7, OrderLine.created_at))))
        .join(SubOrder, SubOrder.id == OrderLine.sub_order_id).join(Product, Product.id == OrderLine.product_id)
        .where(listed, SubOrder.status.not_in(EXCLUDED_STATUSES), OrderLine.created_at < end,
               # A year back is enough for "days since the last sale": older ones fall back to the listing date.
               OrderLine.created_at >= end - timedelta(days=365),
               OrderLine.refunded_quantity < OrderLine.quantity)
        .group_by(OrderLine.product_id)
    ).all()
    last_sale: dict[int, datetime] = {}
    first_sale_7: dict[int, date] = {}
    for pid, s7, s28, last, first7 in sales:
        f = figures.get(pid)
        if f is None:
            continue
        f.sold_7, f.sold_28 = int(s7 or 0), int(s28 or 0)
        if first7 is not None:
            first_sale_7[pid] = (first7 if first7.tzinfo else first7.replace(tzinfo=UTC)).astimezone(LOCAL).date()
        if last is not None:
            last_sale[pid] = last if last.tzinfo else last.replace(tzinfo=UTC)

    lots: dict[int, list[tuple[int, date]]] = defaultdict(list)
    oldest_stock: dict[int, date] = {}  # when the oldest lot still in stock was produced
    for pid, remaining, expires_on, produced_on in db.session.execute(
        sa.select(ProductLot.product_id, ProductLot.remaining, ProductLot.expires_on, ProductLot.produced_on)
        .join(Product, Product.id == ProductLot.product_id).where(listed, ProductLot.remaining > 0)
        .order_by(ProductLot.product_id, ProductLot.expires_on, ProductLot.id)
    ):
        lots[pid].append((remaining, expires_on))
        oldest_stock[pid] = min(produced_on, oldest_stock.get(pid, produced_on))

    groups = _price_groups(end)
    for pid, spoiled in _spells(today).items():
        if pid in figures:
            figures[pid].spoiled_in_spell = spoiled

    for pid, f in figures.items():
        category_id, province_id, shelf, harvest, listed_at = meta[pid]
        since = last_sale.get(pid) or listed_at
        if since is not None:
            f.days_since_last_sale = max(0, (today - since.astimezone(LOCAL).date()).days)
        if f.sold_28:
            f.velocity_drop_bp = max(0, 10000 - f.sold_7 * 4 * 10000 // f.sold_28)
        _spoilage(f, lots.get(pid, []), shelf, today,
                  _pace_days(today, oldest_stock.get(pid), first_sale_7.get(pid)), margin, error_percent)
        days = _season_days_left(harvest, today)
        if days is not None and f.stock > 0:
            f.days_to_season_end = days
            # Only stock that outlives the season is at risk from its end; shorter-lived stock is spoilage's.
            if f.earliest_expiry_days is not None and days < f.earliest_expiry_days:
                f.unsold_before_season_end = max(0, f.stock - f.sold_7 * days // 7)
        now_avg, prev_avg, year_avg = (groups.get((category_id, province_id, p)) for p in ("now", "prev", "year"))
        if now_avg:
            f.price_vs_group_bp = (f.price_fen - now_avg) * 10000 // now_avg
            if prev_avg:
                f.group_mom_bp = (now_avg - prev_avg) * 10000 // prev_avg
            if year_avg:
                f.group_yoy_bp = (now_avg - year_avg) * 10000 // year_avg
    return figures


def _pace_days(today: date, oldest_stock: date | None, first_sale: date | None) -> int:
    """Over how many of the last 7 days the stock on hand could have sold.

    Stock cannot sell before it is produced: when all of it is younger than a week and nothing sold
    in the week before it came (a new season's first harvest, a product back in stock), its pace is
    what sold since it came, not a week's sales spread over days it did not exist; on the day it
    came there is no pace yet (0).
    """
    if oldest_stock is None or (today - oldest_stock).days >= 7:
        return 7
    if first_sale is not None and first_sale < oldest_stock:  # older stock sold this week: the week counts
        return 7
    return max(0, (today - oldest_stock).days)


def _spoilage(f: Figures, lots: list[tuple[int, date]], shelf_life_days: int, today: date, pace_days: int = 7,
              margin: tuple[int, int] = (0, 0), error_percent: int = 0) -> None:
    """Sell the lots first-expiring first at the recent pace; what is left when a lot expires spoils.

    The pace is the 7-day one, or what sold over ``pace_days`` when the stock is younger (see
    ``_pace_days``); with no day on sale yet there is nothing to judge, and nothing is forecast.
    The same forecast at the steadier pace (the larger of that and the 28-day one) gives
    ``days_to_spoil_steady`` and ``unsold_before_spoil_steady``: what a far-off spoil day is judged by.
    The week's count is first read ``error_percent`` of its standard error high (√count: chance in
    who happened to buy that week). Lots expiring more than ``margin[1]`` days away are given a pace
    ``margin[0]`` per cent faster:
    a few days' sales are as good as known, weeks of them are not.
    """
    in_lots = sum(q for q, _e in lots)
    if f.stock > in_lots:  # stock recorded without a lot: assume it was produced today
        lots = [*lots, (f.stock - in_lots, today + timedelta(days=shelf_life_days))]
    if lots:
        f.earliest_expiry_days = max(0, (lots[0][1] - today).days)
    if not pace_days:
        return
    # Paces kept integral: units per day × 28 × pace_days.
    # The week's count read ``error_percent`` of a standard error (√count) high: chance in a week's sales.
    sold = f.sold_7 + math.isqrt(f.sold_7 * error_percent * error_percent // 10_000)
    recent, steady = sold * 28, max(sold * 28, f.sold_28 * pace_days)
    scale = 28 * pace_days
    f.unsold_before_spoil, f.days_to_spoil = _forecast(lots, recent, scale, today, margin)
    f.unsold_before_spoil_steady, f.days_to_spoil_steady = _forecast(lots, steady, scale, today, margin)


def _forecast(lots: list[tuple[int, date]], pace: int, scale: int, today: date,
              margin: tuple[int, int]) -> tuple[int, int | None]:
    """(units left unsold at expiry, days until the first lot with some) selling ``pace / scale`` units a day."""
    consumed = unsold = 0
    first = None
    percent, near_days = margin
    for remaining, expires_on in lots:
        days = max(0, (expires_on - today).days)
        capacity = pace * days * (100 + (percent if days > near_days else 0)) // (scale * 100) - consumed
        sold = min(remaining, max(0, capacity))
        consumed += sold
        if remaining > sold:
            unsold += remaining - sold
            if first is None:
                first = days
    return unsold, first


def _spells(today: date) -> dict[int, int]:
    """Units lost from the latest spell of expired lots that each left stock unsold, by listed product.

    A lot that has expired lost what neither sold nor is still in it (written off, 报损): its quantity
    less its remaining stock less what orders took from it (a cancelled order's share is put back
    and no longer counted). Lots that expired in the last ``SPELL_DAYS`` days are walked from the
    latest back, summing those losses until a lot that lost nothing (it sold out: the spell began
    after it). Lots expiring today or earlier that still hold stock are in the forecast instead.
    """
    taken = (sa.select(OrderLineLot.lot_id, sa.func.sum(OrderLineLot.quantity).label("taken"))
             .join(ProductLot, ProductLot.id == OrderLineLot.lot_id)
             .where(ProductLot.expires_on <= today, ProductLot.expires_on > today - timedelta(days=SPELL_DAYS))
             .group_by(OrderLineLot.lot_id).subquery())
    rows = db.session.execute(
        sa.select(ProductLot.product_id,
                  ProductLot.quantity - ProductLot.remaining - sa.func.coalesce(taken.c.taken, 0))
        .join(Product, Product.id == ProductLot.product_id).outerjoin(taken, taken.c.lot_id == ProductLot.id)
        .where(Product.status == ProductStatus.LISTED, ProductLot.expires_on <= today,
               ProductLot.expires_on > today - timedelta(days=SPELL_DAYS))
        .order_by(ProductLot.product_id, ProductLot.expires_on.desc(), ProductLot.id.desc())
    )
    out: dict[int, int] = {}
    ended: set[int] = set()
    for pid, lost in rows:
        if pid in ended:
            continue
        if lost is None or lost <= 0:
            ended.add(pid)
            continue
        out[pid] = out.get(pid, 0) + int(lost)
    return out


def _price_groups(end: datetime) -> dict[tuple[int, int, str], int]:
    """Average price paid (fen per unit) by category and origin province, for three 30-day windows."""
    span = timedelta(days=PRICE_WINDOW_DAYS)
    now0, prev0 = end - span, end - 2 * span
    year_end = end - timedelta(days=365)
    year0 = year_end - span
    county, city = aliased(Region), aliased(Region)
    period = sa.case(
        (OrderLine.created_at >= now0, sa.literal("now")),
        (OrderLine.created_at >= prev0, sa.literal("prev")),
        else_=sa.literal("year"),
    ).label("period")
    stmt = (
        sa.select(Product.category_id, city.parent_id, period, sa.func.sum(OrderLine.amount_fen),
                  sa.func.sum(OrderLine.quantity))
        .join(Product, Product.id == OrderLine.product_id)
        .join(county, county.id == Product.origin_county_id).join(city, city.id == county.parent_id)
        .join(SubOrder, SubOrder.id == OrderLine.sub_order_id)
        .where(SubOrder.status.not_in(EXCLUDED_STATUSES), OrderLine.created_at < end,
               sa.or_(OrderLine.created_at >= prev0,
                      sa.and_(OrderLine.created_at >= year0, OrderLine.created_at < year_end)))
        .group_by(Product.category_id, city.parent_id, period)
    )
    return {(cat, prov, p): int(amount) // int(qty) for cat, prov, p, amount, qty in db.session.execute(stmt) if qty}


def signals_for(f: Figures, rules: dict[str, int]) -> list[Signal]:
    """What each cause says about one product's figures (level None: no risk from that cause)."""
    out = []
    unsold, days_to_spoil = f.unsold_before_spoil, f.days_to_spoil
    if days_to_spoil is not None and days_to_spoil > rules["steady_pace_after_days"]:
        # A spoil day far off is judged at the steadier pace: a week's dip is no proof for a month ahead.
        unsold, days_to_spoil = f.unsold_before_spoil_steady, f.days_to_spoil_steady
    amount = unsold * f.price_fen
    # The level weighs the whole spell: what its earlier lots already lost, and what the stock on hand will.
    spell = amount + f.spoiled_in_spell * f.price_fen if amount else 0
    out.append(Signal(WarningCause.SPOILAGE, rules_mod.level_for(spell, days_to_spoil, rules), amount,
                      days_to_spoil))
    amount = f.unsold_before_season_end * f.price_fen
    out.append(Signal(WarningCause.SEASON_END, rules_mod.level_for(amount, f.days_to_season_end, rules), amount,
                      f.days_to_season_end))
    stock_value = f.stock * f.price_fen
    stalled = f.stock > 0 and (
        (f.velocity_drop_bp is not None and f.velocity_drop_bp >= rules["sales_drop_percent"] * 100)
        or (f.days_since_last_sale is not None and f.days_since_last_sale >= rules["no_sale_days"])
    )
    out.append(Signal(WarningCause.SALES_STALL,
                      rules_mod.level_for(stock_value, f.earliest_expiry_days, rules) if stalled else None,
                      stock_value if stalled else 0, f.earliest_expiry_days))
    fell = f.stock > 0 and (
        (f.group_mom_bp is not None and f.group_mom_bp <= -rules["price_fall_mom_percent"] * 100)
        or (f.group_yoy_bp is not None and f.group_yoy_bp <= -rules["price_fall_yoy_percent"] * 100)
    )
    out.append(Signal(WarningCause.PRICE_FALL,
                      rules_mod.level_for(stock_value, f.earliest_expiry_days, rules) if fell else None,
                      stock_value if fell else 0, f.earliest_expiry_days))
    return out
