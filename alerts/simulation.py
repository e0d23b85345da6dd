"""Synthetic seasons with a known outcome, and the early-warning job measured over them.

``plan_season`` draws a season from a seed: products of three kinds (leafy vegetables that keep
days, fruit that keeps weeks, milled grain that keeps months), their harvests as lots, and each
day's true demand as consumer orders (a base rate, a weekly pattern, noise, and shocks: a demand
collapse for some products, a short dip or a surge for others). The suppliers harvest what they
planned from the base rate; nobody reacts to the warnings. ``play`` sells the lots first-expiring
first against that demand: that is the ground truth (what each lot sold, what was left when it
expired, the day it spoiled), and it is fixed before the job runs once.

``simulate`` writes the season day by day through the shop's own tables and runs the real job
every morning: the day's harvests arrive and expired leftovers are written off, ``job.run(date)``
runs (it reads the sales up to yesterday and the stock as it is that morning, as the 06:00 beat
run does), then the day's orders are written. ``measure`` compares the warnings with the truth.

Day numbers: day 0 is the first day with order records; the job first runs on ``WARMUP_DAYS``
(after four weeks of sales, its longest window) and last on ``days - 1``. Harvests and sales
before day 0 are played too (``first_day`` is negative) so that the stock on day 0 is what a
going concern holds; those lots are written with their remaining quantity of day 0.
"""

from __future__ import annotations

import bisect
import math
import random
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from alerts.models import AlertRun, Warning, WarningCause, WarningStatus
from core.extensions import db
from shop.models import Category, Order, OrderKind, OrderLine, OrderStatus, Product, ProductLot, ProductStatus, SubOrder
from shop.models_orders import OrderLineLot

LOCAL = ZoneInfo("Asia/Shanghai")
WARMUP_DAYS = 28  # sales written before the job's first run: its 28-day velocity is then real
TAIL_DAYS = 60  # truth played past the last run: a warning on the last day may be about stock 45 days out
# An episode counts as spoilage when at least this much stock value rots (¥200): smaller leftovers
# are the ordinary shrinkage of fresh produce, not the unsold harvest (滞销) that warnings exist for.
MATERIAL_FEN = 20_000
WEEKLY = (0.9, 0.9, 0.95, 1.0, 1.1, 1.15, 1.0)  # Monday … Sunday; mean 1
NOISE_SIGMA = 0.25  # day-to-day log-normal noise on the demand rate, before Poisson noise
CANCELLED_SHARE = 0.03  # orders cancelled before payment: written, and excluded by the job


@dataclass(frozen=True)
class Kind:
    key: str
    category: str
    unit: str
    names: tuple[str, ...]
    shelf_life: tuple[int, int]  # days, drawn per product
    harvest_every: tuple[int, int]  # days between harvests (lots)
    base_demand: tuple[int, int]  # units a day
    price_fen: tuple[int, int]
    order_size: int  # an order takes 1 … order_size units


KINDS = {k.key: k for k in (
    Kind("leafy", "叶菜类", "斤", ("小白菜", "菠菜", "生菜", "油麦菜", "空心菜", "莴笋尖"), (5, 9), (2, 3), (10, 30),
         (300, 800), 4),
    Kind("fruit", "水果", "箱", ("巫山脆李", "奉节脐橙", "吉县苹果", "开州春橙", "巫山恋橙"), (20, 40), (7, 7), (4, 12),
         (3000, 9000), 2),
    Kind("grain", "粮油", "袋", ("三星香米", "酉阳贡米", "石柱高山大米", "定西马铃薯粉条"), (150, 300), (30, 30),
         (3, 10), (2500, 6000), 3),
)}


# --- the plan and the truth ---------------------------------------------------------------------


@dataclass
class PlannedLot:
    produced: int  # harvest day: the lot is in stock from that morning
    quantity: int  # what the grower planned; with ``top_up``, the stock to reach after the harvest
    expires: int  # produced + shelf life: unsellable from that day on, and what is left spoils that day


@dataclass
class ProductPlan:
    key: int
    kind: str
    name: str
    price_fen: int
    shelf_life_days: int
    harvest_months: int
    lots: list[PlannedLot]
    orders: dict[int, list[int]]  # day → the sizes of the orders buyers want that day (the true demand)
    shock: str = ""  # "collapse", "dip", "surge" or ""
    # Leafy vegetables are cut, and grain milled, to replace what sold: the harvest brings the stock up to
    # the planned quantity (nothing when the unsold stock already reaches it). Fruit ripens when it
    # ripens: its harvests are what the orchard gives.
    top_up: bool = False


@dataclass
class Season:
    seed: int
    start: date  # the date of day 0
    days: int  # the job runs on days WARMUP_DAYS … days - 1
    first_day: int  # the first day played (negative: before the records begin)
    plans: list[ProductPlan]

    @property
    def last_day(self) -> int:
        return self.days - 1 + TAIL_DAYS

    def date_of(self, day: int) -> date:
        return self.start + timedelta(days=day)


@dataclass
class LotOutcome:
    product_key: int
    index: int
    produced: int
    expires: int
    quantity: int
    sold: int = 0
    spoiled: int = 0
    spoil_day: int | None = None  # the expiry day when something was left, else None
    opening: int = 0  # remaining on the morning of day 0 (after that day's write-offs), for lots made before


@dataclass
class Truth:
    lots: dict[int, list[LotOutcome]]
    # product key → day → the orders filled that day, each as [(lot index, quantity), ...]
    sales: dict[int, dict[int, list[list[tuple[int, int]]]]]


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 200:  # the normal approximation is exact enough there, and O(1)
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _months_mask(first: date, last: date) -> int:
    mask, day = 0, first.replace(day=1)
    while day <= last:
        mask |= 1 << (day.month - 1)
        day = (day + timedelta(days=32)).replace(day=1)
    return mask


def plan_season(products: int, days: int, seed: int, start: date = date(2026, 3, 2)) -> Season:
    """Draw a season; the same arguments always give the same season (one random stream per product)."""
    if products < 1:
        raise ValueError("a season needs at least one product")
    if days < WARMUP_DAYS + 14:
        raise ValueError(f"a season needs at least {WARMUP_DAYS + 14} days: {WARMUP_DAYS} of history, then two weeks")
    kinds = list(KINDS.values())
    first_day = -max(k.shelf_life[1] for k in kinds)
    # A seeded generator on purpose: the season must be the same on every rerun (not a secret).
    plans = [_plan_product(key, kinds[key % len(kinds)], random.Random(f"alerts-simulation-{seed}-{key}"),  # noqa: S311
                           days, first_day, start) for key in range(products)]
    return Season(seed=seed, start=start, days=days, first_day=first_day, plans=plans)


def _plan_product(key: int, kind: Kind, rng: random.Random, days: int, first_day: int, start: date) -> ProductPlan:
    last_day = days - 1 + TAIL_DAYS
    shelf = rng.randint(*kind.shelf_life)
    every = rng.randint(*kind.harvest_every)
    base = rng.uniform(*kind.base_demand)
    margin = rng.uniform(0.0, 0.15)  # what the grower plants above the expected demand
    price = rng.randrange(kind.price_fen[0], kind.price_fen[1] + 1, 10)
    name = f"{rng.choice(kind.names)}（模拟{key + 1}号）"
    if kind.key == "fruit":  # one harvest window of 8 to 16 weeks
        season_from = rng.randint(-60, days - 56)
        season_to = season_from + rng.randint(56, 112)
        months = _months_mask(start + timedelta(days=season_from), start + timedelta(days=season_to))
    else:
        season_from, season_to = first_day, last_day
        months = 0xFFF if kind.key == "leafy" else (1 << 8) | (1 << 9)  # greenhouse all year; rice in Sep–Oct
    phase = rng.randrange(every)
    lots = [PlannedLot(day, max(1, round(base * every * (1 + margin))), day + shelf)
            for day in range(first_day + phase, last_day + 1, every) if season_from <= day <= season_to]

    # Shocks: what the grower did not plan for.
    factor = [1.0] * (last_day - first_day + 1)
    u, shock = rng.random(), ""
    if u < 0.3:
        shock = "collapse"  # the market goes: a cheaper glut elsewhere, a buyer lost, a food scare
        begin = rng.randint(-shelf // 2, days - 14)
        end = last_day + 1 if rng.random() < 0.5 else begin + rng.randint(21, 60)
        level = rng.uniform(0.05, 0.4)
    elif u < 0.45:
        shock = "dip"  # a holiday, roads closed by rain
        begin = rng.randint(0, days - 1)
        end, level = begin + rng.randint(3, 10), rng.uniform(0.5, 0.8)
    elif u < 0.55:
        shock = "surge"  # a promotion, a unit's bulk purchase
        begin = rng.randint(0, days - 1)
        end, level = begin + rng.randint(5, 20), rng.uniform(1.5, 2.5)
    if shock:
        for day in range(max(begin, first_day), min(end, last_day + 1)):
            factor[day - first_day] = level

    orders: dict[int, list[int]] = {}
    mu = -NOISE_SIGMA ** 2 / 2  # the log-normal noise has mean 1
    for day in range(first_day, last_day + 1):
        weekday = (start + timedelta(days=day)).weekday()
        rate = base * WEEKLY[weekday] * factor[day - first_day] * rng.lognormvariate(mu, NOISE_SIGMA)
        units, sizes = _poisson(rng, rate), []
        while units > 0:
            size = min(units, rng.randint(1, kind.order_size))
            sizes.append(size)
            units -= size
        orders[day] = sizes
    return ProductPlan(key, kind.key, name, price, shelf, months, lots, orders, shock, top_up=kind.key != "fruit")


def play(plans: list[ProductPlan], first_day: int, last_day: int) -> Truth:
    """Sell every product's lots first-expiring first against its true demand, day by day.

    Each morning the lots expiring that day spoil with whatever is left and the day's harvest
    arrives; then the day's orders are filled in turn while stock lasts (an order larger than what
    is left is cut to it, as a buyer lowers the quantity the shop refuses).
    """
    truth = Truth(lots={}, sales={})
    for plan in plans:
        outcomes: list[LotOutcome] = []
        remaining: list[int] = []
        live: list[tuple[int, int]] = []  # (expires, index), kept sorted: first-expiring first
        by_day: dict[int, list[list[tuple[int, int]]]] = defaultdict(list)
        harvests = defaultdict(list)
        for lot in plan.lots:
            harvests[lot.produced].append(lot)
        for day in range(first_day, last_day + 1):
            while live and live[0][0] <= day:
                _exp, i = live.pop(0)
                if remaining[i]:
                    outcomes[i].spoiled, outcomes[i].spoil_day, remaining[i] = remaining[i], day, 0
            for lot in harvests.get(day, []):
                quantity = lot.quantity - sum(remaining[i] for _e, i in live) if plan.top_up else lot.quantity
                if quantity > 0:
                    outcomes.append(LotOutcome(plan.key, len(outcomes), day, lot.expires, quantity))
                    remaining.append(quantity)
                    bisect.insort(live, (lot.expires, len(outcomes) - 1))
            if day == 0:
                for o in outcomes:
                    o.opening = remaining[o.index] if o.produced < 0 else 0
            for size in plan.orders.get(day, []):
                filled, need = [], size
                for _exp, i in live:
                    take = min(need, remaining[i])
                    if take:
                        filled.append((i, take))
                        remaining[i] -= take
                        outcomes[i].sold += take
                        need -= take
                    if not need:
                        break
                if not filled:
                    break  # sold out for the day
                by_day[day].append(filled)
            live = [(e, i) for e, i in live if remaining[i]]
        truth.lots[plan.key] = outcomes
        truth.sales[plan.key] = dict(by_day)
    return truth


# --- episodes: what a warning should have seen coming --------------------------------------------


@dataclass
class Episode:
    """A run of consecutive lots (first-expiring-first order) that each left something to rot."""

    product_key: int
    kind: str
    events: list[tuple[int, int]]  # (spoil day, value in fen), in order
    material_day: int | None  # the day the rotten value reached MATERIAL_FEN; None: it never did


def episodes(season: Season, truth: Truth) -> list[Episode]:
    out = []
    for plan in season.plans:
        current: list[tuple[int, int]] = []
        for lot in [*sorted(truth.lots[plan.key], key=lambda o: (o.expires, o.index)), None]:
            if lot is not None and lot.spoiled:
                current.append((lot.spoil_day, lot.spoiled * plan.price_fen))
                continue
            if current:
                total, material = 0, None
                for day, value in current:
                    total += value
                    if material is None and total >= MATERIAL_FEN:
                        material = day
                out.append(Episode(plan.key, plan.kind, current, material))
                current = []
    return out


# --- writing the season through the shop's tables, and the job every morning ----------------------


@dataclass
class Observed:
    """A warning as the driver saw it after each run (the job stamps real clock times, not simulated days)."""

    warning_id: int
    product_key: int
    cause: WarningCause
    opened_day: int
    days_left: int | None  # what it said when it opened: the stock spoils in this many days
    resolved_day: int | None = None

    def horizon(self, last_day: int) -> int:
        """The last day on which spoilage proves it right: while live, or until the day it named."""
        live_until = self.resolved_day if self.resolved_day is not None else last_day
        return max(live_until, self.opened_day + (self.days_left or 0))


@dataclass
class _World:
    product_ids: dict[int, int]  # plan key → product id
    supplier_of: dict[str, int]  # kind → supplier id
    buyer_ids: list[int]
    lot_ids: dict[tuple[int, int], int] = field(default_factory=dict)  # (plan key, lot index) → lot id
    stock: dict[int, int] = field(default_factory=dict)  # plan key → the product's stock as written
    orders_written: int = 0


def _at(day: date, hours: float) -> datetime:
    return datetime.combine(day, time(0), LOCAL).astimezone(UTC) + timedelta(hours=hours)


def _build_world(season: Season, truth: Truth) -> _World:
    """One county, a supplier per kind, a category per kind, the products, and buyers who cannot log in."""
    from core.accounts.models import User
    from core.permissions import Role
    from core.registry.models import RegionLevel
    from core.registry.services import create_region
    from shop.models import Supplier, SupplierStatus, SupplierType

    province = create_region(code="990000", name="模拟省", level=RegionLevel.PROVINCE, parent=None)
    city = create_region(code="990100", name="模拟市", level=RegionLevel.CITY, parent=province)
    county = create_region(code="990101", name="模拟县", level=RegionLevel.COUNTY, parent=city, poverty_lifted=True)
    town = create_region(code="990101001", name="模拟镇", level=RegionLevel.TOWNSHIP, parent=county)
    village = create_region(code="990101001001", name="模拟村", level=RegionLevel.VILLAGE, parent=town)
    listed_at = _at(season.date_of(season.first_day), 9)
    suppliers, categories = {}, {}
    for n, kind in enumerate(KINDS.values(), start=1):
        suppliers[kind.key] = Supplier(
            name=f"模拟{kind.category}合作社", type=SupplierType.COOPERATIVE, county_id=county.id,
            licence_number=f"SIMULATION{season.seed:08d}{n}", contact_name="模拟联系人", contact_phone="13800000000",
            status=SupplierStatus.APPROVED, accredited_at=listed_at)
        categories[kind.key] = Category(code=f"simulation-{kind.key}", name=f"模拟{kind.category}", position=900 + n)
    # "!" is no hash werkzeug can match: nobody can log in as a simulated buyer (inactive as well).
    buyers = [User(email=f"buyer{i}.seed{season.seed}@simulation.invalid", display_name=f"模拟买家{i}",
                   password_hash="!", role=Role.CONSUMER, active=False)  # noqa: S106
              for i in range(1, 25)]
    db.session.add_all([*suppliers.values(), *categories.values(), *buyers])
    db.session.flush()
    products = {}
    for plan in season.plans:
        products[plan.key] = Product(
            supplier_id=suppliers[plan.kind].id, category_id=categories[plan.kind].id, origin_village_id=village.id,
            origin_county_id=county.id, name=plan.name, sales_unit=KINDS[plan.kind].unit, price_fen=plan.price_fen,
            stock=0, shelf_life_days=plan.shelf_life_days, harvest_months=plan.harvest_months,
            status=ProductStatus.LISTED, listed_at=listed_at, created_at=listed_at)
    db.session.add_all(products.values())
    db.session.flush()
    return _World(product_ids={k: p.id for k, p in products.items()},
                  supplier_of={k: s.id for k, s in suppliers.items()}, buyer_ids=[u.id for u in buyers],
                  stock=dict.fromkeys(products, 0))


def _insert_returning_ids(table: sa.Table, rows: list[dict]) -> list[int]:
    if not rows:
        return []
    return list(db.session.execute(
        sa.insert(table).returning(table.c.id, sort_by_parameter_order=True), rows).scalars())


def _morning(season: Season, truth: Truth, world: _World, day: int) -> None:
    """Write off what spoils today (报损), put today's harvests into stock, move yesterday's orders on."""
    on = season.date_of(day)
    lot_table = ProductLot.__table__
    spoiled = [(o, world.lot_ids[(k, o.index)]) for k, lots in truth.lots.items() for o in lots
               if o.spoil_day == day and (k, o.index) in world.lot_ids]
    if spoiled:
        # The effect of shop.services.products.write_off_lot, set-based (the service takes one lot and an actor).
        db.session.execute(sa.update(lot_table).where(lot_table.c.id == sa.bindparam("lot_id"))
                           .values(remaining=0), [{"lot_id": lot_id} for _o, lot_id in spoiled])
    for o, _lot_id in spoiled:
        world.stock[o.product_key] -= o.spoiled
    arriving = [(k, o) for k, lots in truth.lots.items() for o in lots
                if (o.produced == day or (day == 0 and o.produced < 0 and o.opening))]
    ids = _insert_returning_ids(lot_table, [
        {"product_id": world.product_ids[k], "quantity": o.quantity,
         "remaining": o.opening if o.produced < 0 else o.quantity,
         "produced_on": season.date_of(o.produced), "expires_on": season.date_of(o.expires),
         "created_at": _at(season.date_of(max(o.produced, 0)), 6)} for k, o in arriving])
    for (k, o), lot_id in zip(arriving, ids, strict=True):
        world.lot_ids[(k, o.index)] = lot_id
        world.stock[k] += o.opening if o.produced < 0 else o.quantity
    if spoiled or arriving:
        touched = {o.product_key for o, _i in spoiled} | {k for k, _o in arriving}
        db.session.execute(sa.update(Product), [{"id": world.product_ids[k], "stock": world.stock[k]}
                                                for k in sorted(touched)])
    # The order life, set-based: shipped the day after payment, received two days later, completed
    # after the seven-day refund window (SHOP_COMPLETE_AFTER_DAYS).
    sub = SubOrder.__table__
    mine = sub.c.supplier_id.in_(sorted(world.supplier_of.values()))
    for status, stamp, target, target_stamp, after in (
        (OrderStatus.RECEIVED, sub.c.received_at, OrderStatus.COMPLETED, "completed_at", 7),
        (OrderStatus.SHIPPED, sub.c.shipped_at, OrderStatus.RECEIVED, "received_at", 2),
        (OrderStatus.PAID, sub.c.paid_at, OrderStatus.SHIPPED, "shipped_at", 1),
    ):
        due = _at(on - timedelta(days=after - 1), 0)
        db.session.execute(sa.update(sub).where(mine, sub.c.status == status, stamp < due)
                           .values({"status": target, target_stamp: _at(on, 3)}))


def _sales(season: Season, truth: Truth, world: _World, day: int) -> None:
    """Today's orders: paid consumer orders that took their lots first-expiring first, and a few cancelled ones."""
    on = season.date_of(day)
    rng = random.Random(f"alerts-simulation-orders-{season.seed}-{day}")  # noqa: S311 - reproducible, not a secret
    orders, subs, lines, allocations = [], [], [], []
    sold: dict[int, int] = defaultdict(int)
    for plan in season.plans:
        filled = truth.sales[plan.key].get(day, [])
        wanted = [(f, OrderStatus.PAID) for f in filled]
        wanted += [(f, OrderStatus.CANCELLED) for f in filled if rng.random() < CANCELLED_SHARE]
        for n, (parts, status) in enumerate(wanted):
            world.orders_written += 1
            number = world.orders_written
            quantity = sum(q for _i, q in parts)
            created = _at(on, 8 + 13 * n / max(1, len(wanted)))  # spread over 08:00–21:00
            amount = quantity * plan.price_fen
            orders.append({"number": f"SIM{season.seed % 10**6:06d}{number:012d}", "kind": OrderKind.CONSUMER,
                           "buyer_id": rng.choice(world.buyer_ids), "idempotency_key": f"simulation-{number}",
                           "total_fen": amount, "recipient_name": "模拟收货人", "recipient_phone": "13800000000",
                           "address": "模拟省模拟市模拟县模拟路1号", "created_at": created,
                           "payment_due_at": created + timedelta(minutes=30)})
            paid = status == OrderStatus.PAID
            subs.append({"supplier_id": world.supplier_of[plan.kind], "status": status, "subtotal_fen": amount,
                         "paid_at": created + timedelta(minutes=2) if paid else None,
                         "cancelled_at": None if paid else created + timedelta(minutes=30)})
            lines.append({"product_id": world.product_ids[plan.key], "product_name": plan.name,
                          "quantity": quantity, "unit_price_fen": plan.price_fen, "amount_fen": amount,
                          "created_at": created})
            allocations.append([(world.lot_ids[(plan.key, i)], q) for i, q in parts] if paid else [])
            if paid:
                sold[plan.key] += quantity
    order_ids = _insert_returning_ids(Order.__table__, orders)
    for row, order_id in zip(subs, order_ids, strict=True):
        row["order_id"] = order_id
    sub_ids = _insert_returning_ids(SubOrder.__table__, subs)
    for row, sub_id in zip(lines, sub_ids, strict=True):
        row["sub_order_id"] = sub_id
    line_ids = _insert_returning_ids(OrderLine.__table__, lines)
    taken = [{"order_line_id": line_id, "lot_id": lot_id, "quantity": q}
             for line_id, parts in zip(line_ids, allocations, strict=True) for lot_id, q in parts]
    if taken:
        db.session.execute(sa.insert(OrderLineLot.__table__), taken)
        per_lot: dict[int, int] = defaultdict(int)
        for row in taken:
            per_lot[row["lot_id"]] += row["quantity"]
        lot_table = ProductLot.__table__  # the shop's reserve_stock, set-based over the day's orders
        db.session.execute(sa.update(lot_table).where(lot_table.c.id == sa.bindparam("lot_id"))
                           .values(remaining=lot_table.c.remaining - sa.bindparam("take")),
                           [{"lot_id": k, "take": v} for k, v in sorted(per_lot.items())])
    if sold:
        for key, quantity in sold.items():
            world.stock[key] -= quantity
        db.session.execute(sa.update(Product), [
            {"id": world.product_ids[k], "stock": world.stock[k]} for k in sorted(sold)])


def simulate(season: Season, truth: Truth) -> list[Observed]:
    """Write the season day by day and run the job every morning from WARMUP_DAYS on; commits every day.

    Returns every warning that opened (reached ``open``), with the days it opened and resolved.
    """
    from alerts import job

    world = _build_world(season, truth)
    key_of = {pid: key for key, pid in world.product_ids.items()}
    seen: dict[int, Observed] = {}
    for day in range(0, season.days):
        _morning(season, truth, world, day)
        if day >= WARMUP_DAYS:
            outcome = job.run(season.date_of(day))
            for wid, pid, cause, status, days_left in db.session.execute(
                sa.select(Warning.id, Warning.product_id, Warning.cause, Warning.status, Warning.days_left)
                .where(Warning.last_run_id == outcome.run.id)
            ):
                if pid not in key_of:
                    continue
                if wid not in seen and status != WarningStatus.WATCHING:
                    seen[wid] = Observed(wid, key_of[pid], WarningCause(cause), day, days_left)
                if status == WarningStatus.RESOLVED and wid in seen and seen[wid].resolved_day is None:
                    seen[wid].resolved_day = day
        _sales(season, truth, world, day)
        db.session.commit()
    return sorted(seen.values(), key=lambda w: w.warning_id)


# --- the measure ----------------------------------------------------------------------------------


@dataclass
class Score:
    label: str
    episodes: int  # material spoilage episodes the job could have seen (spoiled after its first run)
    predicted: int
    warnings: int  # warnings opened
    true_warnings: int  # of them, those followed by real spoilage while they were live
    leads: list[int]

    @property
    def recall(self) -> float | None:
        return self.predicted / self.episodes if self.episodes else None

    @property
    def precision(self) -> float | None:
        return self.true_warnings / self.warnings if self.warnings else None

    @property
    def median_lead(self) -> float | None:
        return statistics.median(self.leads) if self.leads else None


def measure(season: Season, truth: Truth, warnings: list[Observed], causes: set[WarningCause] | None = None,
            label: str = "", kind: str | None = None) -> Score:
    """Recall, precision and lead time of the warnings of ``causes`` (all when None) against the truth.

    - An episode is predicted when a warning on its product was open before the episode's
      material day (the day the rotten value reached MATERIAL_FEN) and still live that morning;
      its lead time is that day minus the day the warning opened.
    - A warning is true when some lot of a material episode of its product spoiled after the day it
      opened and no later than the day it resolved (the end of the truth when still live) or the day
      it named when it opened (days left), whichever is later: a warning withdrawn too early was
      still right about what it said.
    - Episodes count when their material day falls after the job's first run and within its runs.
    """
    chosen = [w for w in warnings if causes is None or w.cause in causes]
    by_product: dict[int, list[Observed]] = defaultdict(list)
    for w in chosen:
        by_product[w.product_key].append(w)
    kinds = {p.key: p.kind for p in season.plans}
    material = [e for e in episodes(season, truth) if e.material_day is not None]
    spoil_days: dict[int, list[int]] = defaultdict(list)
    for e in material:
        spoil_days[e.product_key].extend(day for day, _v in e.events)
    counted = [e for e in material if WARMUP_DAYS < e.material_day <= season.days - 1
               and (kind is None or e.kind == kind)]
    leads = []
    for e in counted:
        live = [w for w in by_product[e.product_key] if w.opened_day < e.material_day
                and (w.resolved_day is None or w.resolved_day >= e.material_day)]
        if live:
            leads.append(e.material_day - min(w.opened_day for w in live))
    judged = [w for w in chosen if kind is None or kinds[w.product_key] == kind]
    true = sum(1 for w in judged if any(
        w.opened_day < day <= w.horizon(season.last_day) for day in spoil_days[w.product_key]))
    return Score(label, len(counted), len(leads), len(judged), true, leads)


def report(season: Season, truth: Truth, warnings: list[Observed]) -> tuple[list[Score], str]:
    """The scores (spoilage warnings, any cause, spoilage by kind) and the table the command prints."""
    spoilage = {WarningCause.SPOILAGE}
    scores = [measure(season, truth, warnings, spoilage, "spoilage warnings"),
              measure(season, truth, warnings, None, "warnings of any cause"),
              *(measure(season, truth, warnings, spoilage, f"  spoilage, {k}", kind=k) for k in KINDS)]
    shocks = defaultdict(int)
    for plan in season.plans:
        shocks[plan.shock or "none"] += 1

    def fmt(value: float | None, spec: str) -> str:
        return "-" if value is None else format(value, spec)

    first = season.date_of(WARMUP_DAYS)
    lines = [
        f"early-warning simulation: seed {season.seed}, {len(season.plans)} products "
        f"({', '.join(f'{n} {s}' for s, n in sorted(shocks.items()))}), "
        f"job run daily from {first} to {season.date_of(season.days - 1)}",
        f"a spoilage episode: consecutive lots left unsold at expiry, at least ¥{MATERIAL_FEN // 100} in all",
        "",
        f"{'':24}{'episodes':>9}{'predicted':>10}{'recall':>8}{'warnings':>9}{'true':>6}{'precision':>10}"
        f"{'median lead (days)':>20}",
    ]
    for s in scores:
        lines.append(f"{s.label:24}{s.episodes:>9}{s.predicted:>10}{fmt(s.recall, '.2f'):>8}{s.warnings:>9}"
                     f"{s.true_warnings:>6}{fmt(s.precision, '.2f'):>10}{fmt(s.median_lead, '.1f'):>20}")
    return scores, "\n".join(lines)


def run_season(products: int, days: int, seed: int, start: date = date(2026, 3, 2)) -> tuple[list[Score], str]:
    """Plan, play, write and measure one season (the ``flask alerts simulate`` command)."""
    season = plan_season(products, days, seed, start)
    truth = play(season.plans, season.first_day, season.last_day)
    warnings = simulate(season, truth)
    return report(season, truth, warnings)


def database_is_empty() -> bool:
    """No product and no run of the job yet: the simulated ones will be the only ones.

    The command refuses anything else: the job reads every listed product, so on a real database it
    would warn (and e-mail) real people about real stock on simulated dates.
    """
    return (db.session.execute(sa.select(Product.id).limit(1)).first() is None
            and db.session.execute(sa.select(AlertRun.id).limit(1)).first() is None)
