"""Synthetic buyer units for the completion dashboard's benchmark (``flask demo seed --scale N --units U``).

U units in a two-level hierarchy over the registry's real regions: for every twenty, one
city-level department (市级部门) at a city, and nineteen units below it (区县单位, state
enterprises, others) in that city's counties. Each has a buyer, a canteen address, this
year's plan (食堂 budget × reserved share) and about ``LINES_PER_UNIT`` procurement order
lines accepted (验收) this year, with their plan-ledger rows — a hundred units make ten
thousand lines, ten thousand units a million.

Everything is generated in Python and written in bulk (COPY on PostgreSQL, through the
shop's ``_BulkWriter``), never a statement per row. The ledger's maintained totals
(``procurement.models_completion``) are kept by a per-row trigger; on PostgreSQL the trigger
is switched off for the load and the totals of the new ledger rows are added in one
``INSERT … SELECT … GROUP BY … ON CONFLICT`` per total inside the same transaction: the same
sums the trigger would have added row by row (``completion.totals_drift`` is 0 afterwards,
which the tests check). On SQLite the trigger does the work.

Every order is deliver-first (先货后款), approved, shipped, received and accepted in full:
the part waits for the supplier's invoice. Reruns add nothing; a larger U adds the missing units.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from core.accounts.models import User
from core.database import utcnow
from core.demo import SeedContext
from core.demo_core import mobile_number, person_name
from core.extensions import db
from core.permissions import Role
from core.registry.models import Region, RegionLevel
from procurement.config import minimum_share_bp
from procurement.models import BuyerUnit, CanteenMode, UnitAddress, UnitMember, UnitPlan, UnitRole, UnitStatus, UnitType
from procurement.models_completion import MONTH_COLUMNS, TOTALS
from procurement.models_ledger import LedgerReason, PlanLedgerEntry, PurchaseChannel
from procurement.models_orders import (
    PartStatus,
    PaymentTerms,
    ProcurementLine,
    ProcurementOrder,
    ProcurementPart,
    ProcurementStatus,
)
from procurement.services.common import LOCAL_TIMEZONE
from shop.demo import CARRIERS, _BulkWriter
from shop.models import (
    Order,
    OrderKind,
    OrderLine,
    OrderStatus,
    Product,
    ProductStatus,
    SubOrder,
    Supplier,
    SupplierStatus,
)

SCALE_UNIT_MARK = "规模测试单位"  # synthetic units' names start with it
SCALE_UNIT_EMAIL = "unit{:05d}@scale.demo.fupin.cn"  # each synthetic unit's buyer
SCALE_UNIT_ORDER_KEY = "scale-unit-"
LINES_PER_UNIT = 100
UNITS_PER_GROUP = 20  # one city-level department heads each twenty units
UNIT_BATCH = 1_000  # units whose orders are generated and written at a time
APPROVAL_THRESHOLD_FEN = 100_000_000  # ¥1,000,000: the synthetic orders need no approver
LEDGER_TRIGGER = "plan_ledger_added"  # created by migration a5c0a1b2c005

_CHILD_TYPES = ((UnitType.COUNTY_UNIT, "区县单位", 12), (UnitType.STATE_ENTERPRISE, "国有企业", 4),
                (UnitType.ASSISTANCE_GROUP, "帮扶集团", 2), (UnitType.OTHER, "事业单位", 1))
_TABLES = ("shop_order", "sub_order", "order_line", "procurement_order", "procurement_part", "procurement_line",
           "plan_ledger_entry", "unit_plan")
_SEQUENCED = ("shop_order", "sub_order", "order_line", "procurement_order", "procurement_part", "plan_ledger_entry",
              "unit_plan")
_ORDER_COLUMNS = ("id", "number", "kind", "buyer_id", "idempotency_key", "total_fen", "recipient_name",
                  "recipient_phone", "address", "address_region_id", "created_at", "payment_due_at")
_SUB_COLUMNS = ("id", "order_id", "supplier_id", "status", "subtotal_fen", "carrier", "tracking_number", "shipped_at",
                "received_at")
_LINE_COLUMNS = ("id", "sub_order_id", "product_id", "product_name", "quantity", "unit_price_fen", "amount_fen",
                 "refunded_quantity", "created_at")
_PORDER_COLUMNS = ("id", "order_id", "unit_id", "channel", "payment_terms", "address_id", "wanted_on", "status",
                   "submitted_by_id", "submitted_at")
_PART_COLUMNS = ("id", "procurement_order_id", "sub_order_id", "supplier_id", "status", "confirmed_at", "due_extended",
                 "accepted_at", "accepted_by_id", "accepted_fen")
_PLINE_COLUMNS = ("order_line_id", "part_id", "accepted_quantity", "refused_quantity", "returned_quantity")
_LEDGER_COLUMNS = ("id", "unit_id", "year", "month", "channel", "reason", "amount_fen", "order_line_id",
                   "origin_county_id", "category_id", "recorded_at")
_PLAN_COLUMNS = ("id", "unit_id", "year", "canteen_mode", "canteen_budget_fen", "reserved_share_bp",
                 "minimum_share_bp", "declared_plan_fen", "plan_fen", "declared_at", "created_at", "updated_at")


def scale_units(ctx: SeedContext, n: int) -> None:
    """Synthetic units 1..n with buyers, addresses, this year's plans and accepted procurement orders."""
    have = _unit_numbers()
    wanted = [k for k in range(1, n + 1) if k not in have]
    if not wanted:
        return
    products = _products()
    if not products:
        return  # nothing on sale to buy
    now = utcnow()
    units = _create_units(ctx, wanted, now)
    by_supplier: dict[int, list[tuple]] = defaultdict(list)
    for product in products:
        by_supplier[product[1]].append(product)
    suppliers = sorted(by_supplier)
    postgres = db.session.connection().dialect.name == "postgresql"
    trigger = postgres and _trigger_exists()
    if trigger:
        # Per-row upserts for a million ledger rows cost minutes; the totals are added set-based below.
        db.session.execute(sa.text(f"ALTER TABLE plan_ledger_entry DISABLE TRIGGER {LEDGER_TRIGGER}"))
    with _BulkWriter(tables=_TABLES, sequenced=_SEQUENCED) as writer:
        ledger_first = writer.ids("plan_ledger_entry", 0)
        for start in range(0, len(units), UNIT_BATCH):
            _orders_batch(ctx, writer, units[start:start + UNIT_BATCH], by_supplier, suppliers, now)
    if trigger:
        add_ledger_totals(ledger_first)
        db.session.execute(sa.text(f"ALTER TABLE plan_ledger_entry ENABLE TRIGGER {LEDGER_TRIGGER}"))
    if postgres:  # fresh statistics for the benchmarks that follow
        for table in ("buyer_unit", "unit_member", "unit_address", "plan_year_total", "plan_origin_total"):
            db.session.execute(sa.text(f"ANALYZE {table}"))


def add_ledger_totals(first_id: int) -> None:
    """Add the ledger rows from ``first_id`` on to the maintained totals, one statement per total:
    the sums the ``plan_ledger_added`` trigger adds one row at a time (migration a5c0a1b2c005)."""
    for table, keys in TOTALS:
        columns = ", ".join(keys)
        by_month = table == "plan_year_total"
        amounts = ["amount_fen", *(MONTH_COLUMNS if by_month else ())]
        sums = ["SUM(amount_fen)"] + ([f"SUM(CASE WHEN month = {m} THEN amount_fen ELSE 0 END)"
                                       for m in range(1, 13)] if by_month else [])
        updates = ", ".join(f"{a} = {table}.{a} + excluded.{a}" for a in amounts)
        # Table and column names are the constants of TOTALS; the id is a bound parameter.
        db.session.execute(sa.text(
            f"INSERT INTO {table} ({columns}, {', '.join(amounts)}) "  # noqa: S608
            f"SELECT {columns}, {', '.join(sums)} FROM plan_ledger_entry WHERE id >= :first GROUP BY {columns} "
            f"ON CONFLICT ({columns}) DO UPDATE SET {updates}"), {"first": first_id})


def _trigger_exists() -> bool:
    return bool(db.session.execute(sa.text(
        "SELECT count(*) FROM pg_trigger WHERE tgname = :name AND tgrelid = 'plan_ledger_entry'::regclass"),
        {"name": LEDGER_TRIGGER}).scalar_one())


def _unit_numbers() -> dict[int, int]:
    """Synthetic unit number → id."""
    return {int(name.rsplit(" ", 1)[1]): uid for uid, name in db.session.execute(
        sa.select(BuyerUnit.id, BuyerUnit.name).where(BuyerUnit.name.startswith(SCALE_UNIT_MARK)))}


def _products() -> list[tuple]:
    """What units buy: listed products of accredited suppliers, (id, supplier, price, name, county, category)."""
    return [tuple(row) for row in db.session.execute(
        sa.select(Product.id, Product.supplier_id, Product.price_fen, Product.name, Product.origin_county_id,
                  Product.category_id)
        .join(Supplier, Supplier.id == Product.supplier_id)
        .where(Product.status == ProductStatus.LISTED, Supplier.status == SupplierStatus.APPROVED)
        .order_by(Product.id))]


def _create_units(ctx: SeedContext, numbers: list[int], now: datetime) -> list[tuple]:
    """The units ``numbers`` with their buyers and addresses, a few multi-row INSERTs:
    [(number, unit id, buyer id, address id, recipient, phone, address, region id)]."""
    from werkzeug.security import generate_password_hash

    counties = [tuple(r) for r in db.session.execute(
        sa.select(Region.id, Region.name, Region.parent_id).where(Region.level == RegionLevel.COUNTY,
                                                                 Region.parent_id.is_not(None))
        .order_by(Region.code))]
    cities = dict(db.session.execute(sa.select(Region.id, Region.name).where(
        Region.id.in_({c[2] for c in counties}))).all())
    counties_of: dict[int, list[tuple]] = defaultdict(list)
    for county in counties:
        counties_of[county[2]].append(county)
    city_ids = sorted(counties_of)
    rng = ctx.rng_for(f"scale:units:{numbers[0]}:{len(numbers)}")
    kinds = [(t, word) for t, word, w in _CHILD_TYPES for _ in range(w)]

    def place(k: int) -> tuple[bool, int, str]:
        """(heads a group?, region id, region name) of unit number k."""
        group = (k - 1) // UNITS_PER_GROUP
        city = city_ids[group % len(city_ids)]
        if (k - 1) % UNITS_PER_GROUP == 0:
            return True, city, cities[city]
        county = counties_of[city][k % len(counties_of[city])]
        return False, county[0], county[1]

    rows = {True: [], False: []}
    for k in numbers:
        heads, region_id, region_name = place(k)
        unit_type, word = (UnitType.CITY_DEPARTMENT, "消费帮扶工作专班") if heads else kinds[k % len(kinds)]
        rows[heads].append({"k": k, "name": f"{SCALE_UNIT_MARK}{region_name}{word} {k:05d}", "type": unit_type,
                            "region_id": region_id, "status": UnitStatus.ACTIVE,
                            "approval_threshold_fen": APPROVAL_THRESHOLD_FEN, "created_at": now})
    # Group heads first: the units below them point at them.
    if rows[True]:
        db.session.execute(sa.insert(BuyerUnit), [{k: v for k, v in r.items() if k != "k"} for r in rows[True]])
    ids = _unit_numbers()
    if rows[False]:
        db.session.execute(sa.insert(BuyerUnit), [
            {**{k: v for k, v in r.items() if k != "k"},
             "parent_id": ids[r["k"] - (r["k"] - 1) % UNITS_PER_GROUP]} for r in rows[False]])
        ids = _unit_numbers()
    ctx.count("synthetic buyer units", len(numbers))

    emails = {k: SCALE_UNIT_EMAIL.format(k) for k in numbers}
    names = {k: person_name(rng) for k in numbers}
    buyers = sa.select(User.email, User.id).where(User.email.in_(list(emails.values())))
    known = dict(db.session.execute(buyers).all())
    missing = [k for k in numbers if emails[k] not in known]
    if missing:
        password_hash = generate_password_hash(ctx.password)
        db.session.execute(sa.insert(User), [
            {"email": emails[k], "display_name": names[k], "password_hash": password_hash, "role": Role.UNIT_BUYER,
             "created_at": now, "password_changed_at": now} for k in missing])
        known = dict(db.session.execute(buyers).all())
    db.session.execute(sa.insert(UnitMember), [
        {"user_id": known[emails[k]], "unit_id": ids[k], "role": UnitRole.BUYER, "joined_at": now} for k in numbers])
    addresses = {}
    for k in numbers:
        _, region_id, region_name = place(k)
        addresses[k] = {"unit_id": ids[k], "name": "职工食堂", "recipient": person_name(rng),
                        "phone": mobile_number(rng), "region_id": region_id, "active": True, "created_at": now,
                        "address": f"{region_name}人民路{rng.randint(1, 400)}号 职工食堂"}
    db.session.execute(sa.insert(UnitAddress), list(addresses.values()))
    address_ids = dict(db.session.execute(
        sa.select(UnitAddress.unit_id, UnitAddress.id).where(UnitAddress.unit_id.in_([ids[k] for k in numbers]))).all())
    ctx.count("synthetic unit buyers and addresses", len(numbers))
    return [(k, ids[k], known[emails[k]], address_ids[ids[k]], addresses[k]["recipient"], addresses[k]["phone"],
             addresses[k]["address"], addresses[k]["region_id"]) for k in numbers]


def _year_start(year: int) -> datetime:
    return datetime(year, 1, 1, tzinfo=LOCAL_TIMEZONE).astimezone(UTC)


def _orders_batch(ctx: SeedContext, writer: _BulkWriter, units: list[tuple], by_supplier: dict[int, list[tuple]],
                  suppliers: list[int], now: datetime) -> None:
    """The procurement orders of ``units`` this year, their acceptance and ledger rows, and the units' plans."""
    rng = ctx.rng_for(f"scale:unit-orders:{units[0][0]}")
    rand = rng.random
    year = now.astimezone(LOCAL_TIMEZONE).year
    start = _year_start(year)
    span = max(86400.0, (now - start).total_seconds() - 86400)
    n_suppliers = len(suppliers)
    orders, subs, lines, porders, parts, ledger = [], [], [], [], [], []
    counted: dict[int, int] = defaultdict(int)
    for _k, unit_id, buyer_id, address_id, recipient, phone, address, region_id in units:
        target = max(1, round(LINES_PER_UNIT * (0.4 + 1.2 * rand())))  # busy units and quiet ones
        made = 0
        while made < target:
            accepted = start + timedelta(seconds=rand() * span)
            submitted = accepted - timedelta(days=2 + int(rand() * 9), seconds=int(rand() * 36000))
            order_local = len(orders)
            channel = PurchaseChannel.CANTEEN if rand() < 0.85 else PurchaseChannel.UNION
            chosen = [suppliers[int(rand() * n_suppliers)]]
            if rand() < 0.2:
                other = suppliers[int(rand() * n_suppliers)]
                if other != chosen[0]:
                    chosen.append(other)
            total = 0
            local_accepted = accepted.astimezone(LOCAL_TIMEZONE)
            for supplier_id in chosen:
                pool = by_supplier[supplier_id]
                count = min(len(pool), 1 + int(rand() * 6))
                first = int(rand() * len(pool))
                sub_local = len(subs)
                subtotal = 0
                for j in range(count):
                    product_id, _, price, name, county_id, category_id = pool[(first + j) % len(pool)]
                    r = rand()
                    quantity = 5 + int(rand() * 20) if r < 0.6 else 20 + int(rand() * 80) if r < 0.95 else 200
                    amount = quantity * price
                    subtotal += amount
                    lines.append((sub_local, product_id, name, quantity, price, amount, 0, submitted))
                    ledger.append((unit_id, year, local_accepted.month, channel.value, LedgerReason.ACCEPTED.value,
                                   amount, len(lines) - 1, county_id, category_id, accepted))
                    counted[unit_id] += amount
                carrier, prefix = CARRIERS[int(rand() * len(CARRIERS))]
                shipped = accepted - timedelta(hours=24 + int(rand() * 48))
                subs.append((order_local, supplier_id, OrderStatus.RECEIVED.value, subtotal, carrier,
                             f"{prefix}{100_000_000_000 + int(rand() * 899_999_999_999)}", shipped, accepted))
                parts.append((order_local, sub_local, supplier_id, submitted + timedelta(hours=2 + int(rand() * 20)),
                              accepted, buyer_id, subtotal))
                total += subtotal
                made += count
            orders.append((buyer_id, total, recipient, phone, address, region_id, submitted))
            porders.append((order_local, unit_id, channel.value, address_id,
                            submitted.astimezone(LOCAL_TIMEZONE).date() + timedelta(days=5), buyer_id, submitted))

    order0 = writer.ids("shop_order", len(orders))
    sub0 = writer.ids("sub_order", len(subs))
    line0 = writer.ids("order_line", len(lines))
    porder0 = writer.ids("procurement_order", len(porders))
    part0 = writer.ids("procurement_part", len(parts))
    ledger0 = writer.ids("plan_ledger_entry", len(ledger))
    part_of_sub = {sub_local: part0 + i for i, (_, sub_local, *_rest) in enumerate(parts)}
    plans = _plans(rng, counted, [(u[0], u[1]) for u in units], now)
    plan0 = writer.ids("unit_plan", len(plans))
    writer.write([
        (Order.__table__, _ORDER_COLUMNS, [
            (order0 + i, f"P{created.astimezone(LOCAL_TIMEZONE):%Y%m%d}{order0 + i:010d}", OrderKind.PROCUREMENT.value,
             buyer, f"{SCALE_UNIT_ORDER_KEY}{order0 + i}", total, recipient, phone, address, region_id, created, None)
            for i, (buyer, total, recipient, phone, address, region_id, created) in enumerate(orders)]),
        (SubOrder.__table__, _SUB_COLUMNS, [(sub0 + i, order0 + sub[0], *sub[1:]) for i, sub in enumerate(subs)]),
        (OrderLine.__table__, _LINE_COLUMNS, [(line0 + i, sub0 + line[0], *line[1:]) for i, line in enumerate(lines)]),
        (ProcurementOrder.__table__, _PORDER_COLUMNS, [
            (porder0 + i, order0 + o, unit_id, channel, PaymentTerms.DELIVER_FIRST.value, address_id, wanted,
             ProcurementStatus.APPROVED.value, buyer, submitted)
            for i, (o, unit_id, channel, address_id, wanted, buyer, submitted) in enumerate(porders)]),
        (ProcurementPart.__table__, _PART_COLUMNS, [
            (part0 + i, porder0 + o, sub0 + s, supplier_id, PartStatus.ACCEPTED.value, confirmed, False, accepted,
             buyer, fen) for i, (o, s, supplier_id, confirmed, accepted, buyer, fen) in enumerate(parts)]),
        (ProcurementLine.__table__, _PLINE_COLUMNS, [
            (line0 + i, part_of_sub[line[0]], line[3], 0, 0) for i, line in enumerate(lines)]),
        (PlanLedgerEntry.__table__, _LEDGER_COLUMNS, [
            (ledger0 + i, *row[:6], line0 + row[6], *row[7:]) for i, row in enumerate(ledger)]),
        (UnitPlan.__table__, _PLAN_COLUMNS, [(plan0 + i, *row) for i, row in enumerate(plans)]),
    ])
    ctx.count("synthetic procurement orders", len(porders))
    ctx.count("synthetic procurement order lines", len(lines))
    ctx.count("synthetic unit plans", len(plans))


def _plans(rng, counted: dict[int, int], units: list[tuple[int, int]], now: datetime) -> list[tuple]:
    """This year's plans of ``units`` (number, id): a canteen budget and a reserved share chosen so that
    completion ranges from well behind time progress to ahead of it; every twentieth unit has declared
    no plan yet."""
    year = now.astimezone(LOCAL_TIMEZONE).year
    today = now.astimezone(LOCAL_TIMEZONE).date()
    progress = max(0.01, (today - date(year, 1, 1)).days / (date(year + 1, 1, 1) - date(year, 1, 1)).days)
    minimum = minimum_share_bp()
    rows = []
    for number, unit_id in units:
        if number % UNITS_PER_GROUP == 0:
            continue
        pace = 0.45 + 0.9 * rng.random()  # completion ÷ time progress
        plan = max(100_000, math.ceil(counted.get(unit_id, 0) / (progress * pace)))
        share = min(10_000, minimum + rng.choice((0, 0, 0, 100, 200, 500)))
        budget = max(1, plan * 10_000 // max(1, share))
        declared = (budget * share + 5000) // 10_000
        declared_at = min(now, datetime(year, 1, 1, tzinfo=UTC) + timedelta(days=rng.randint(5, 60)))
        rows.append((unit_id, year, CanteenMode.OWN.value, budget, share, minimum, declared, declared, declared_at,
                     declared_at, declared_at))
    return rows
