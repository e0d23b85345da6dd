"""Procurement demo data: the nine central units and the counties they assist, 烟台 ↔ 巫山 (鲁渝协作),
a few Chongqing budget units with the demo buyer and approver, and the demo orders that
arrived with a unit's promotion code (帮助销售).

The central units and their paired counties are those of seed 001 (2021, 定点帮扶重庆).
Thresholds and promotion codes are illustrative.
"""

from __future__ import annotations

import sqlalchemy as sa

from core.demo import SeedContext, Seeder, upsert
from core.demo_core import ensure_user
from core.extensions import db
from core.permissions import Role
from core.registry.models import Region
from procurement.models import (
    AssistanceKind,
    AssistanceRelation,
    BuyerUnit,
    UnitMember,
    UnitRole,
    UnitStatus,
    UnitType,
)
from shop.demo import DEMO_ORDER_KEY, SCALE_ORDER_KEY
from shop.models import Order

BUYER_EMAIL = "buyer@demo.fupin.cn"
APPROVER_EMAIL = "approver@demo.fupin.cn"
UNIT_ADMIN_EMAIL = "unit-admin@demo.fupin.cn"  # the demo unit's administrator (procurement.demo_orders)
BUYER_UNIT = "重庆市农业农村委员会"


# (name, type, region code, parent unit, approval threshold in fen, promotion code, status)
UNITS: list[tuple[str, UnitType, str, str | None, int, str | None, UnitStatus]] = [
    ("致公党中央", UnitType.CENTRAL, "110000", None, 5_000_000, "BJ-ZGDZY", UnitStatus.ACTIVE),
    ("水利部", UnitType.CENTRAL, "110000", None, 5_000_000, "BJ-SLB", UnitStatus.ACTIVE),
    ("中央外办", UnitType.CENTRAL, "110000", None, 5_000_000, "BJ-ZYWB", UnitStatus.ACTIVE),
    ("中国中信集团有限公司", UnitType.CENTRAL, "110000", None, 10_000_000, "BJ-CITIC", UnitStatus.ACTIVE),
    ("中国农业银行", UnitType.CENTRAL, "110000", None, 10_000_000, "BJ-ABC", UnitStatus.ACTIVE),
    ("中国核工业集团有限公司", UnitType.CENTRAL, "110000", None, 10_000_000, "BJ-CNNC", UnitStatus.ACTIVE),
    ("中国长江三峡集团有限公司", UnitType.CENTRAL, "110000", None, 10_000_000, "BJ-CTG", UnitStatus.ACTIVE),
    ("中国法学会", UnitType.CENTRAL, "110000", None, 5_000_000, "BJ-CLS", UnitStatus.ACTIVE),
    ("中国进出口银行", UnitType.CENTRAL, "110000", None, 10_000_000, "BJ-EXIM", UnitStatus.ACTIVE),
    ("烟台市", UnitType.EAST_WEST_CITY, "370600", None, 20_000_000, "SD-YANTAI", UnitStatus.ACTIVE),
    (BUYER_UNIT, UnitType.PROVINCIAL_DEPARTMENT, "500000", None, 500_000, "CQ-NYNCW", UnitStatus.ACTIVE),
    ("重庆市乡村振兴局", UnitType.PROVINCIAL_DEPARTMENT, "500000", None, 500_000, "CQ-XCZXJ", UnitStatus.ACTIVE),
    ("开州区乡村振兴局", UnitType.COUNTY_UNIT, "500154", "重庆市乡村振兴局", 200_000, "CQ-KZ-XCZXJ",
     UnitStatus.ACTIVE),
    ("重庆农村商业银行股份有限公司", UnitType.STATE_ENTERPRISE, "500000", None, 2_000_000, "CQ-CQRCB",
     UnitStatus.ACTIVE),
    # A registration waiting in the administrators' queue.
    ("开州区紫水乡人民政府", UnitType.COUNTY_UNIT, "500154", "开州区乡村振兴局", 100_000, None, UnitStatus.PENDING),
]

# (unit, county codes, kind, start year). 中央外办 is one of the nine but the seeds do not say
# which county it assists (only that it trained local cadres), so it has no relation here.
ASSISTANCE: list[tuple[str, tuple[str, ...], AssistanceKind, int]] = [
    # 万州 武隆 丰都 城口 巫溪
    ("水利部", ("500101", "500156", "500230", "500229", "500238"), AssistanceKind.PAIRED, 2021),
    ("中国核工业集团有限公司", ("500240",), AssistanceKind.PAIRED, 2021),  # 石柱
    ("中国中信集团有限公司", ("500114",), AssistanceKind.PAIRED, 2021),  # 黔江
    ("中国进出口银行", ("500235",), AssistanceKind.PAIRED, 2021),  # 云阳
    ("中国农业银行", ("500241",), AssistanceKind.PAIRED, 2021),  # 秀山
    ("致公党中央", ("500242",), AssistanceKind.PAIRED, 2021),  # 酉阳
    ("中国法学会", ("500154",), AssistanceKind.PAIRED, 2021),  # 开州
    ("中国长江三峡集团有限公司", ("500236",), AssistanceKind.PAIRED, 2021),  # 奉节
    ("烟台市", ("500237",), AssistanceKind.EAST_WEST, 2018),  # 巫山: 巫山恋橙 entered 烟台 in December 2018
]

# Every n-th demo order arrived with a promotion code; which unit's is decided by the order number.
REFERRAL_EVERY = 4
REFERRAL_CODES = ("CQ-NYNCW", "CQ-XCZXJ", "BJ-SLB", "BJ-CLS", "SD-YANTAI", "CQ-CQRCB", "BJ-ZGDZY")


def _seed_units(ctx: SeedContext) -> dict[str, BuyerUnit]:
    regions = ctx.made.get("regions") or {r.code: r for r in db.session.execute(sa.select(Region)).scalars()}
    made: dict[str, BuyerUnit] = {}
    for name, unit_type, region_code, parent, threshold, code, status in UNITS:
        unit, created = upsert(BuyerUnit, {"name": name}, {
            "type": unit_type, "region_id": regions[region_code].id,
            "parent_id": made[parent].id if parent else None, "approval_threshold_fen": threshold,
            "promotion_code": code,
        }, on_create={"status": status})
        ctx.count("buyer units", int(created))
        made[name] = unit
    for unit_name, counties, kind, start_year in ASSISTANCE:
        for county in counties:
            _, created = upsert(AssistanceRelation, {
                "unit_id": made[unit_name].id, "county_id": regions[county].id, "kind": kind,
                "start_year": start_year}, {"end_year": None})
            ctx.count("assistance relations", int(created))
    return made


def _seed_members(ctx: SeedContext, units: dict[str, BuyerUnit]) -> None:
    unit = units[BUYER_UNIT]
    for email, name, role, unit_role in (
        (BUYER_EMAIL, "周明", Role.UNIT_BUYER, UnitRole.BUYER),
        (APPROVER_EMAIL, "刘贵芳", Role.UNIT_APPROVER, UnitRole.APPROVER),
    ):
        user = ensure_user(ctx, email, name, role)
        if db.session.get(UnitMember, user.id) is None:
            db.session.add(UnitMember(user_id=user.id, unit_id=unit.id, role=unit_role))
            db.session.flush()
            ctx.count("unit members", 1)


def _mark_referred_orders(ctx: SeedContext) -> None:
    """帮助销售: some demo consumer orders came through a unit's promotion code.

    Decided by the order's own key, so a rerun sets the same code on the same
    orders and leaves the others alone.
    """
    rows = db.session.execute(
        sa.select(Order.id, Order.idempotency_key)
        .where(Order.idempotency_key.startswith(DEMO_ORDER_KEY), Order.referral_code.is_(None))
    ).all()
    by_code: dict[str, list[int]] = {}
    for order_id, key in rows:
        n = int(key.removeprefix(DEMO_ORDER_KEY))
        if n % REFERRAL_EVERY == 0:
            by_code.setdefault(REFERRAL_CODES[(n // REFERRAL_EVERY) % len(REFERRAL_CODES)], []).append(order_id)
    for code, ids in by_code.items():
        db.session.execute(sa.update(Order).where(Order.id.in_(ids)).values(referral_code=code),
                           execution_options={"synchronize_session": False})
        ctx.count("orders with a promotion code", len(ids))


def seed_procurement(ctx: SeedContext) -> None:
    units = _seed_units(ctx)
    _seed_members(ctx, units)
    _mark_referred_orders(ctx)
    from procurement.demo_orders import seed_demo_orders  # plans, canteens, a year of procurement orders

    seed_demo_orders(ctx, units)
    ctx.made["units"] = units
    _enter_side_ledger(ctx)


def _enter_side_ledger(ctx: SeedContext) -> None:
    """Employees' purchases and help-sales of the orders written in bulk (past the session hook that
    enters them in the application), one INSERT … SELECT per kind; a rerun enters nothing twice."""
    from procurement.services.side_ledger import record_unrecorded

    ctx.count("side ledger entries (employees' purchases, help-sales)", record_unrecorded(db.session.connection()))


def scale_procurement(ctx: SeedContext, n: int) -> None:
    """One synthetic order in ten arrived with a unit's promotion code (one set-based UPDATE); with
    ``--units``, the synthetic buyer units and their procurement orders (``procurement.demo_units``);
    then the side ledger of the new orders (set-based, its totals too)."""
    codes = REFERRAL_CODES
    case = sa.case(*((Order.id % len(codes) == i, code) for i, code in enumerate(codes)))
    result = db.session.execute(
        sa.update(Order)
        .where(Order.idempotency_key.startswith(SCALE_ORDER_KEY), Order.referral_code.is_(None),
               Order.id % 10 == 0)
        .values(referral_code=case),
        execution_options={"synchronize_session": False},
    )
    ctx.count("synthetic orders with a promotion code", result.rowcount)
    if ctx.units:
        from procurement.demo_units import scale_units

        scale_units(ctx, ctx.units)
    _enter_side_ledger(ctx)


SEEDER = Seeder(name="procurement", order=20, seed=seed_procurement, scale=scale_procurement,
                logins=lambda: [("unit buyer", BUYER_EMAIL), ("unit approver", APPROVER_EMAIL),
                                ("unit administrator", UNIT_ADMIN_EMAIL)])
