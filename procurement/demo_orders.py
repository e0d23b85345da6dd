"""Procurement demo data beyond the units: who acts for each unit, its canteens, its plans for this year
and last year, the regions' guiding plans (指导性计划), and a year of procurement orders at every step
of their life, so that completion figures, charts, the transparency page and plan-lag warnings show
real numbers on first start.

Plans (万元, budget × reserved share): central units 6–29, the Chongqing units 22.5 and 26, 烟台市 a
figure the administrators set (30). 中央外办 has declared nothing for this year (last year it did);
重庆市乡村振兴局 eats at the canteen of 重庆市农业农村委员会, which reports it; 开州区乡村振兴局 has no
canteen. Guiding plans: 重庆市 50万元 — the seeds' 50亿元 (32.6亿元 done by the end of June = 65.2%)
at 1:10,000, just above its units' plans (48.5万元); 北京市 (the central units) 150万元, 烟台市 30万元
and 开州区 3万元, each at or above the plans of the units in it. Figures are illustrative.

Orders: each unit buys at its own pace (completion ÷ time progress, from 0.55 to 1.15) over the last
twelve months — canteen orders on working days, union (工会) gifts before the Spring Festival, the
Dragon Boat and the Mid-Autumn festivals — mostly from the counties it assists. What happened is
derived from random delays between the steps: old orders are settled, recent ones wait at each step;
a few are rejected by the approver, declined by the supplier or accepted only in part. The demo unit
also gets one order waiting at every step, whatever the dates.

``procurement.services.orders`` moves one order at a time and stamps every step with the present
time, so the rows it would write are written here in bulk with their past times: the same shop
order, sub-orders and lines, procurement order, parts, acceptance lines, payments, and plan-ledger
rows (one per accepted line, in the local month of the acceptance, as ``ledger.write_acceptance``
writes them; the maintained totals follow by the ledger's trigger). Settled sub-orders are completed
in the shop (their products' sold quantity grows; the benefit-attribution seeder attributes them);
orders still in flight hold their stock in the product lots, first-expiring first, never more than a
small share of a product's stock. The orders are written once: a rerun adds nothing.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from core.accounts.models import User
from core.database import utcnow
from core.demo import SeedContext, upsert
from core.demo_core import ADMIN_EMAIL, ensure_user, mobile_number, person_name
from core.extensions import db
from core.registry.models import Region
from procurement.config import minimum_share_bp
from procurement.demo import APPROVER_EMAIL, ASSISTANCE, BUYER_EMAIL, BUYER_UNIT, UNIT_ADMIN_EMAIL
from procurement.models import BuyerUnit, CanteenMode, RegionPlan, UnitAddress, UnitMember, UnitPlan, UnitRole
from procurement.models_ledger import LedgerReason, PlanLedgerEntry, PurchaseChannel
from procurement.models_orders import (
    PartStatus,
    PaymentMethod,
    PaymentTerms,
    ProcurementLine,
    ProcurementOrder,
    ProcurementPart,
    ProcurementPayment,
    ProcurementStatus,
)
from procurement.services.common import LOCAL_TIMEZONE, PLATFORM_ROLE, amount_for_share
from procurement.services.orders import FINAL_PART_STATES, PAY_FIRST_DAYS
from shop.demo import CARRIERS, PRODUCTS, _available_days
from shop.models import Order, OrderKind, OrderLine, OrderStatus, Product, ProductLot, ProductStatus, SubOrder
from shop.models_orders import OrderLineLot

ORDER_KEY = "procdemo-"  # idempotency keys of the demo procurement orders: procdemo-0000 …
WAN = 1_000_000  # fen in 1万元

# --- plans ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanSeed:
    """One unit's plan for one year: a declaration (canteen mode, budget in 万元, share in %) or an
    administrator's figure (万元, with its reason)."""

    mode: CanteenMode | None
    budget_wan: int = 0
    share_percent: int = 0
    host: str | None = None
    admin_wan: int | None = None
    reason: str | None = None


def own(budget_wan: int, share_percent: int) -> PlanSeed:
    return PlanSeed(CanteenMode.OWN, budget_wan, share_percent)


NONE = PlanSeed(CanteenMode.NONE)
YANTAI_REASON = "鲁渝协作年度消费帮扶任务（演示数据：由平台管理员按协作协议录入）"

# unit → (this year's plan, last year's plan); None: nothing declared for that year.
PLANS: dict[str, tuple[PlanSeed | None, PlanSeed | None]] = {
    "致公党中央": (own(90, 12), own(85, 12)),
    "水利部": (own(240, 12), own(230, 12)),
    "中央外办": (None, own(60, 10)),  # has not declared for this year yet
    "中国中信集团有限公司": (own(160, 10), own(150, 10)),
    "中国农业银行": (own(200, 12), own(190, 12)),
    "中国核工业集团有限公司": (own(180, 10), own(170, 10)),
    "中国长江三峡集团有限公司": (own(150, 15), own(140, 15)),
    "中国法学会": (own(60, 10), own(55, 10)),
    "中国进出口银行": (own(120, 10), own(110, 10)),
    "烟台市": (PlanSeed(None, admin_wan=30, reason=YANTAI_REASON), PlanSeed(None, admin_wan=28, reason=YANTAI_REASON)),
    BUYER_UNIT: (own(150, 15), own(140, 15)),
    "重庆市乡村振兴局": (PlanSeed(CanteenMode.SHARED, host=BUYER_UNIT),) * 2,
    "开州区乡村振兴局": (NONE, NONE),
    "重庆农村商业银行股份有限公司": (own(260, 10), own(250, 10)),
}
UNIT_WITHOUT_PLAN = "中央外办"

# region code → (this year's guiding plan, last year's, in 万元), reason.
GUIDING_PLANS: dict[str, tuple[int, int, str]] = {
    "500000": (50, 48, "演示数据：全市指导性计划50亿元（截至6月底完成32.6亿元，占65.2%）按1:10000缩小"),
    "500154": (3, 3, "演示数据：开州区年度消费帮扶指导性计划"),
    "370600": (30, 28, "演示数据：鲁渝协作烟台市年度消费帮扶任务"),
    "110000": (150, 140, "演示数据：在京中央单位定点帮扶采购指导额"),
}

# --- who buys, where, how -------------------------------------------------------------------------


@dataclass(frozen=True)
class BuyerSeed:
    """How a unit buys: ``pace`` is the share of this year's plan it buys in twelve months (completion
    ÷ time progress); units with no plan figure buy ``yearly_wan`` instead. ``union`` is the share of
    money spent on union (工会) gifts, ``pay_first`` the share of orders paid before delivery."""

    pace: float
    union: float
    pay_first: float
    canteen: str  # (first) canteen name
    county: str  # region code of the canteen's address
    street: str
    yearly_wan: float = 0


BUYERS: dict[str, BuyerSeed] = {
    "致公党中央": BuyerSeed(0.65, 0.25, 0.2, "机关食堂", "110102", "西城区示例胡同 12 号"),
    "水利部": BuyerSeed(1.0, 0.2, 0.3, "机关第一食堂", "110102", "西城区示例大街 2 号"),
    "中央外办": BuyerSeed(0, 1.0, 0.5, "机关食堂", "110101", "东城区示例街 8 号", yearly_wan=1.5),
    "中国中信集团有限公司": BuyerSeed(1.05, 0.25, 0.4, "总部员工餐厅", "110101", "东城区示例北大街 20 号"),
    "中国农业银行": BuyerSeed(0.95, 0.2, 0.4, "总行职工食堂", "110101", "东城区示例门内大街 69 号"),
    "中国核工业集团有限公司": BuyerSeed(0.9, 0.2, 0.3, "总部食堂", "110102", "西城区示例路 1 号"),
    "中国长江三峡集团有限公司": BuyerSeed(1.15, 0.2, 0.3, "北京总部食堂", "110102", "西城区示例路 6 号"),
    "中国法学会": BuyerSeed(1.0, 0.3, 0.2, "机关食堂", "110101", "东城区示例巷 5 号"),
    "中国进出口银行": BuyerSeed(0.55, 0.25, 0.4, "总行员工餐厅", "110102", "西城区示例大街 30 号"),
    "烟台市": BuyerSeed(0.85, 0.3, 0.3, "市直机关食堂", "370602", "芝罘区示例路 88 号"),
    BUYER_UNIT: BuyerSeed(0.72, 0.2, 0.3, "机关食堂", "500103", "渝中区示例路 1 号（演示地址）"),
    "重庆市乡村振兴局": BuyerSeed(0, 1.0, 0.3, "机关食堂（与市农业农村委共用）", "500103", "渝中区示例路 1 号",
                             yearly_wan=2),
    "开州区乡村振兴局": BuyerSeed(0, 1.0, 0.3, "区级机关食堂代收点", "500154", "开州区汉丰街道示例路 16 号",
                             yearly_wan=2.5),
    "重庆农村商业银行股份有限公司": BuyerSeed(0.95, 0.25, 0.4, "总行职工食堂", "500112", "渝北区示例大道 36 号"),
}
# The demo unit's second canteen (its first is the one every unit has above).
SECOND_CANTEEN = ("农业科技园区食堂", "500112", "渝北区示例路 18 号 农业科技园区")

# Categories a canteen buys, and those a union buys as festival gifts (category code prefixes).
CANTEEN_CATEGORIES = ("grain-oil", "vegetable", "meat-egg", "aquatic", "processed.soy", "fruit")
UNION_CATEGORIES = ("tea", "processed.honey", "processed.cured-meat", "processed.dried-fruit", "processed.snack",
                    "fruit.citrus", "fruit.apple", "fruit.kiwi", "grain-oil.rice", "grain-oil.oil", "vegetable.dried",
                    "vegetable.mushroom")
# (first month, first day, last month, last day): the weeks before 春节, 端午 and 中秋/国庆.
FESTIVALS = ((1, 6, 1, 26), (5, 18, 6, 8), (9, 1, 9, 24))

REJECTIONS = ("本月食堂预算已基本用完，请下月再报。", "数量偏多，请按就餐人数调整后重新提交。",
              "工会慰问品标准需先经工会委员会讨论，暂不采购。")
DECLINES = ("产地连续降雨，本批次无法按期供货。", "冷链车辆检修，无法在期望日期送达。",
            "该规格已售完，请改选其他规格。")
REFUSALS = ("运输途中压损，拒收破损部分。", "部分规格不符合约定，按合格数量验收。", "数量短少，按实收数量验收。")
APPROVALS = ("同意。", "同意，按食堂计划采购。", None, None)

MINUTE, HOUR, DAY = 60, 3600, 86400
# Recent orders take their stock from today's lots; at most this share of a product's stock, and
# never the last RESERVE_KEEP units of it.
RECENT_DAYS = 45
GOLDEN = 0.6180339887
RESERVE_SHARE = 0.2
RESERVE_KEEP = 60


# --- people, addresses, plans -----------------------------------------------------------------------


@dataclass
class Staff:
    buyer_ids: list[int]  # who submit and accept (the first most often)
    approver_id: int  # who decides on orders above the threshold (never one they placed)
    admin_id: int  # the unit's administrator, who declares its plan


def _seed_people(ctx: SeedContext, units: dict[str, BuyerUnit]) -> dict[str, Staff]:
    """The demo unit's administrator; for every other buying unit an administrator (who declares the
    plan and approves) and a buyer. They share one password hash (computed once)."""
    demo = units[BUYER_UNIT]
    admin = ensure_user(ctx, UNIT_ADMIN_EMAIL, "陈国庆", PLATFORM_ROLE[UnitRole.ADMIN])
    if db.session.get(UnitMember, admin.id) is None:
        db.session.add(UnitMember(user_id=admin.id, unit_id=demo.id, role=UnitRole.ADMIN))
        db.session.flush()
        ctx.count("unit members", 1)
    wanted: dict[str, tuple[str, str, UnitRole, BuyerUnit]] = {}
    for name in BUYERS:
        unit = units[name]
        if name == BUYER_UNIT:
            continue
        code = (unit.promotion_code or f"unit{unit.id}").lower()
        rng = ctx.rng_for(f"unit-staff:{name}")
        for role, suffix in ((UnitRole.ADMIN, "admin"), (UnitRole.BUYER, "buyer")):
            wanted[f"{code}-{suffix}@demo.fupin.cn"] = (person_name(rng), name, role, unit)
    known = dict(db.session.execute(sa.select(User.email, User.id).where(User.email.in_(list(wanted)))).all())
    missing = [email for email in wanted if email not in known]
    if missing:
        users = [User(email=email, display_name=wanted[email][0], role=PLATFORM_ROLE[wanted[email][2]])
                 for email in missing]
        users[0].set_password(ctx.password)
        for user in users[1:]:
            user.password_hash = users[0].password_hash
        db.session.add_all(users)
        db.session.flush()
        ctx.count("users", len(users))
        known.update({u.email: u.id for u in users})
    members = set(db.session.execute(sa.select(UnitMember.user_id).where(UnitMember.user_id.in_(known.values())))
                  .scalars())
    new = [UnitMember(user_id=known[email], unit_id=unit.id, role=role)
           for email, (_, _, role, unit) in wanted.items() if known[email] not in members]
    if new:
        db.session.add_all(new)
        db.session.flush()
        ctx.count("unit members", len(new))
    by_email = dict(db.session.execute(sa.select(User.email, User.id).where(
        User.email.in_((BUYER_EMAIL, APPROVER_EMAIL)))).all())
    # The demo unit's administrator places an order now and then; its approver decides.
    staff = {BUYER_UNIT: Staff([by_email[BUYER_EMAIL], admin.id], by_email[APPROVER_EMAIL], admin.id)}
    for email, (_, name, role, _) in wanted.items():
        entry = staff.setdefault(name, Staff([], 0, 0))
        if role == UnitRole.ADMIN:
            entry.approver_id = entry.admin_id = known[email]
        else:
            entry.buyer_ids.append(known[email])
    return staff


@dataclass(frozen=True)
class Address:
    id: int
    recipient: str
    phone: str
    address: str
    region_id: int


def _seed_addresses(ctx: SeedContext, units: dict[str, BuyerUnit], regions: dict[str, Region]
                    ) -> dict[str, list[Address]]:
    """Every buying unit's canteen; the demo unit has two. The phone is stored whole for the carrier
    and shown masked (``mask_phone``) on every page. Streets are illustrative."""
    made: dict[str, list[Address]] = {}
    for name, spec in BUYERS.items():
        places = [(spec.canteen, spec.county, spec.street)]
        if name == BUYER_UNIT:
            places.append(SECOND_CANTEEN)
        for canteen, county, street in places:
            rng = ctx.rng_for(f"unit-address:{name}:{canteen}")
            row, created = upsert(UnitAddress, {"unit_id": units[name].id, "name": canteen, "active": True}, {},
                                  on_create={"recipient": person_name(rng), "phone": mobile_number(rng),
                                             "address": street, "region_id": regions[county].id})
            ctx.count("unit addresses", int(created))
            made.setdefault(name, []).append(Address(row.id, row.recipient, row.phone, row.address, row.region_id))
    return made


def _declared_at(rng, year: int, now: datetime) -> datetime:
    """Plans are declared early in the year, on a working day in office hours (never in the future)."""
    moment = datetime(year, 1, 8, 9, tzinfo=LOCAL_TIMEZONE) + timedelta(days=rng.randint(0, 45),
                                                                        minutes=rng.randint(0, 480))
    return min(moment.astimezone(UTC), now - timedelta(hours=1))


def _seed_plans(ctx: SeedContext, units: dict[str, BuyerUnit], staff: dict[str, Staff], admin_id: int,
                this_year: int, now: datetime) -> None:
    """This year's and last year's plans, as ``plans.declare_plan`` and ``plans.set_plan_figure`` would
    leave them; a plan that exists (declared or changed by someone) is left as it is."""
    minimum = minimum_share_bp()
    for name, by_year in PLANS.items():
        unit = units[name]
        for year, seed in zip((this_year, this_year - 1), by_year, strict=True):
            if seed is None:
                continue
            at = _declared_at(ctx.rng_for(f"plan:{name}:{year}"), year, now)
            values: dict = {"canteen_mode": seed.mode, "created_at": at, "updated_at": at, "declared_at": None,
                            "canteen_budget_fen": None, "reserved_share_bp": None, "minimum_share_bp": None,
                            "host_unit_id": None, "declared_plan_fen": None, "admin_plan_fen": None,
                            "admin_reason": None}
            if seed.mode is not None:
                values.update(declared_at=at, declared_plan_fen=0, updated_by_id=staff[name].admin_id)
            if seed.mode == CanteenMode.OWN:
                share = max(minimum, seed.share_percent * 100)
                budget = seed.budget_wan * WAN
                values.update(canteen_budget_fen=budget, reserved_share_bp=share, minimum_share_bp=minimum,
                              declared_plan_fen=amount_for_share(budget, share))
            elif seed.mode == CanteenMode.SHARED:
                values.update(host_unit_id=units[seed.host].id)
            if seed.admin_wan is not None:
                values.update(admin_plan_fen=seed.admin_wan * WAN, admin_reason=seed.reason, updated_by_id=admin_id)
            values["plan_fen"] = (values["admin_plan_fen"] if values["admin_plan_fen"] is not None
                                  else values["declared_plan_fen"] or 0)
            _, created = upsert(UnitPlan, {"unit_id": unit.id, "year": year}, {}, on_create=values)
            ctx.count("unit plans", int(created))


def _seed_guiding_plans(ctx: SeedContext, regions: dict[str, Region], admin_id: int, this_year: int,
                        now: datetime) -> None:
    for code, (this_wan, last_wan, reason) in GUIDING_PLANS.items():
        for year, amount in ((this_year, this_wan), (this_year - 1, last_wan)):
            at = _declared_at(ctx.rng_for(f"guiding-plan:{code}:{year}"), year, now)
            _, created = upsert(RegionPlan, {"region_id": regions[code].id, "year": year}, {}, on_create={
                "amount_fen": amount * WAN, "reason": reason, "updated_by_id": admin_id, "created_at": at,
                "updated_at": at})
            ctx.count("guiding plans", int(created))


# --- the orders: drafted in Python, then written in a handful of bulk statements -------------------


@dataclass
class LineDraft:
    product: Product
    quantity: int
    reserved: bool = False  # took from today's spare stock (a recent order)
    refused: int = 0
    refusal_reason: str | None = None

    @property
    def amount(self) -> int:
        return self.quantity * self.product.price_fen


@dataclass
class PartDraft:
    supplier_id: int
    lines: list[LineDraft]
    status: PartStatus = PartStatus.AWAITING_CONFIRMATION
    times: dict[str, datetime] = field(default_factory=dict)  # confirm, pay, ship, accept, invoice, settle, decline
    decline_reason: str | None = None

    @property
    def subtotal(self) -> int:
        return sum(line.amount for line in self.lines)

    @property
    def accepted_fen(self) -> int:
        return sum((line.quantity - line.refused) * line.product.price_fen for line in self.lines)


@dataclass
class OrderDraft:
    unit: str
    channel: PurchaseChannel
    terms: PaymentTerms
    submitted: datetime
    submitted_by: int
    address: Address
    wanted_on: date
    parts: list[PartDraft]
    status: ProcurementStatus = ProcurementStatus.APPROVED
    decided_by: int | None = None
    decided_at: datetime | None = None
    comment: str | None = None
    closed_at: datetime | None = None

    @property
    def total(self) -> int:
        return sum(part.subtotal for part in self.parts)


@dataclass
class Catalog:
    """The demo products a unit may buy on a given day, and what today's lots can still spare."""

    products: dict[str, Product]  # "supplier key:name" → product (listed, of an accredited supplier)
    seeds: dict[str, object]  # same keys → shop.demo.ProductSeed
    available: dict[str, set[date]]
    spare: dict[int, int]  # product id → units recent orders may still take from today's lots
    county_code: dict[int, str]  # region id → code

    def choices(self, day: date, categories: tuple[str, ...], recent: bool) -> list[str]:
        return [k for k, p in self.products.items()
                if day in self.available[k] and self.seeds[k].category.startswith(categories)
                and not (recent and (self.seeds[k].glut or self.spare[p.id] < p.min_order_qty))]


def _catalog(ctx: SeedContext, today: date) -> Catalog:
    from shop.models import Supplier, SupplierStatus

    products = {k: p for k, p in (ctx.made.get("products") or {}).items()
                if p.status == ProductStatus.LISTED}
    approved = set(db.session.execute(sa.select(Supplier.id).where(
        Supplier.status == SupplierStatus.APPROVED, Supplier.id.in_({p.supplier_id for p in products.values()})
    )).scalars())
    products = {k: p for k, p in products.items() if p.supplier_id in approved}
    seeds = {f"{s.supplier}:{s.name}": s for s in PRODUCTS}
    first = today - timedelta(days=366)
    available = {k: _available_days(seeds[k], first, today) for k in products}
    spare = {p.id: max(0, min(int(p.stock * RESERVE_SHARE), p.stock - RESERVE_KEEP)) for p in products.values()}
    codes = dict(db.session.execute(sa.select(Region.id, Region.code).where(
        Region.id.in_({p.origin_county_id for p in products.values()}))).all())
    return Catalog(products, seeds, available, spare, codes)


def _working_moment(rng, day: date, now: datetime) -> datetime:
    """Office hours on ``day`` (a weekend moves to the Friday before), before ``now``."""
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    moment = datetime(day.year, day.month, day.day, 8, 30, tzinfo=LOCAL_TIMEZONE) + timedelta(
        minutes=rng.randint(0, 9 * 60))
    moment = moment.astimezone(UTC)
    if moment > now - timedelta(minutes=20):
        moment = now - timedelta(minutes=rng.randint(20, 180))
    return moment


def _festival_days(first: date, last: date) -> list[date]:
    days = []
    for year in (first.year, last.year):
        for m1, d1, m2, d2 in FESTIVALS:
            day, end = date(year, m1, d1), date(year, m2, d2)
            while day <= end:
                if first <= day <= last:
                    days.append(day)
                day += timedelta(days=1)
    return sorted(set(days))


def _draw_lines(rng, catalog: Catalog, day: date, channel: PurchaseChannel, budget_fen: int, favoured: set[str],
                recent: bool) -> list[tuple[str, int, bool]]:
    """[(product key, quantity, reserved)] worth about ``budget_fen``: mostly from one supplier's shelf, from the
    counties the unit assists when they have something in season."""
    categories = CANTEEN_CATEGORIES if channel == PurchaseChannel.CANTEEN else UNION_CATEGORIES
    choices = catalog.choices(day, categories, recent)
    if not choices:
        return []
    weights = [catalog.seeds[k].popularity * (4 if catalog.county_code[catalog.products[k].origin_county_id]
                                              in favoured else 1) for k in choices]
    if channel == PurchaseChannel.UNION:
        count = rng.choices((1, 2), weights=(80, 20))[0]
    else:
        count = rng.choices((1, 2, 3, 4), weights=(30, 35, 25, 10))[0]
    picks: list[str] = [rng.choices(choices, weights=weights)[0]]
    for _ in range(count - 1):
        supplier = catalog.products[picks[0]].supplier_id
        same = [k for k in choices if catalog.products[k].supplier_id == supplier and k not in picks]
        pick = rng.choice(same) if same and rng.random() < 0.6 else rng.choices(choices, weights=weights)[0]
        if pick not in picks:
            picks.append(pick)
    lines = []
    for key in picks:
        product = catalog.products[key]
        share = budget_fen / len(picks) * rng.uniform(0.6, 1.4)
        quantity = max(product.min_order_qty, round(share / product.price_fen))
        if recent:
            quantity = min(quantity, catalog.spare[product.id])
            if quantity < product.min_order_qty:
                continue
            catalog.spare[product.id] -= quantity
        lines.append((key, quantity, recent))
    return lines


# Steps of a part after approval, in order, per payment terms (see procurement.services.orders).
STEPS = {
    PaymentTerms.PAY_FIRST: ("confirm", "pay", "ship", "accept", "invoice"),
    PaymentTerms.DELIVER_FIRST: ("confirm", "ship", "accept", "invoice", "pay"),
}
STATUS_AFTER = {
    PaymentTerms.PAY_FIRST: {"confirm": PartStatus.CONFIRMED, "pay": PartStatus.PAID, "ship": PartStatus.SHIPPED,
                             "accept": PartStatus.ACCEPTED, "invoice": PartStatus.SETTLED},
    PaymentTerms.DELIVER_FIRST: {"confirm": PartStatus.CONFIRMED, "ship": PartStatus.SHIPPED,
                                 "accept": PartStatus.ACCEPTED, "invoice": PartStatus.INVOICED,
                                 "pay": PartStatus.SETTLED},
}
DELAYS = {  # seconds after the previous step: (least, most)
    "decide": (1 * HOUR, 30 * HOUR),
    "confirm": (1 * HOUR, 36 * HOUR),
    "pay": (1 * DAY, 12 * DAY),  # pay-first: paid before shipping; deliver-first: after the invoice
    "ship": (4 * HOUR, 48 * HOUR),
    "accept": (12 * HOUR, 72 * HOUR),
    "invoice": (1 * DAY, 10 * DAY),
}
# What the demo unit's showcase orders stop at: (stage, days ago, channel, terms, above the threshold).
SHOWCASE = (
    ("awaiting_approval", 0.3, PurchaseChannel.CANTEEN, PaymentTerms.DELIVER_FIRST, True),
    ("awaiting_approval", 1.2, PurchaseChannel.UNION, PaymentTerms.PAY_FIRST, True),
    ("awaiting_confirmation", 0.8, PurchaseChannel.CANTEEN, PaymentTerms.DELIVER_FIRST, False),
    ("confirm", 3, PurchaseChannel.CANTEEN, PaymentTerms.PAY_FIRST, False),
    ("pay", 6, PurchaseChannel.CANTEEN, PaymentTerms.PAY_FIRST, True),
    ("ship", 4, PurchaseChannel.CANTEEN, PaymentTerms.DELIVER_FIRST, False),
    ("accept", 8, PurchaseChannel.CANTEEN, PaymentTerms.DELIVER_FIRST, True),  # accepted in part
    ("invoice", 16, PurchaseChannel.CANTEEN, PaymentTerms.DELIVER_FIRST, True),
    ("rejected", 20, PurchaseChannel.CANTEEN, PaymentTerms.DELIVER_FIRST, True),
    ("declined", 12, PurchaseChannel.CANTEEN, PaymentTerms.DELIVER_FIRST, False),
)


def _delay(rng, step: str) -> timedelta:
    low, high = DELAYS[step]
    return timedelta(seconds=rng.randint(low, high))


def _live(draft: OrderDraft, rng, staff: Staff, threshold: int, now: datetime, stop: str | None = None) -> None:
    """Decide what happened to ``draft`` by ``now`` (or up to the showcase step ``stop``): approval,
    each part's steps, partial acceptance, the order's closing."""
    needs_approval = draft.total > threshold
    start = draft.submitted
    rejected = stop == "rejected" or (stop is None and needs_approval and rng.random() < 0.04)
    if needs_approval:
        decided = start + _delay(rng, "decide")
        if stop == "awaiting_approval" or decided > now:
            draft.status = ProcurementStatus.PENDING_APPROVAL
            for part in draft.parts:
                part.status = PartStatus.AWAITING_APPROVAL
            return
        draft.decided_by, draft.decided_at = staff.approver_id, decided
        if rejected:
            draft.status, draft.comment = ProcurementStatus.REJECTED, rng.choice(REJECTIONS)
            for part in draft.parts:
                part.status = PartStatus.CANCELLED
                part.times["cancel"] = decided
            return
        draft.comment = rng.choice(APPROVALS)
        start = decided
    steps = STEPS[draft.terms]
    for part in draft.parts:
        at = start
        part.status = PartStatus.AWAITING_CONFIRMATION
        if stop == "awaiting_confirmation":
            continue
        declined = stop == "declined" or (stop is None and rng.random() < 0.02)
        partial = stop == "accept" or rng.random() < 0.06
        for step in steps:
            at = at + _delay(rng, step)
            if at > now:
                break
            if declined:
                part.status, part.decline_reason = PartStatus.DECLINED, rng.choice(DECLINES)
                part.times["decline"] = at
                break
            part.times[step] = at
            part.status = STATUS_AFTER[draft.terms][step]
            if step == "accept" and partial:
                line = max(part.lines, key=lambda x: x.quantity)
                if line.quantity > 1:
                    line.refused = rng.randint(1, max(1, line.quantity // 8))
                    line.refusal_reason = rng.choice(REFUSALS)
            if step == stop:
                break
    finals = [p for p in draft.parts if p.status in (PartStatus.SETTLED, PartStatus.DECLINED)]
    if len(finals) == len(draft.parts):
        draft.status = ProcurementStatus.CLOSED
        draft.closed_at = max(p.times.get("invoice" if draft.terms == PaymentTerms.PAY_FIRST else "pay")
                              or p.times["decline"] for p in draft.parts)


def _shift_to(draft_times: list[datetime], now: datetime) -> timedelta:
    """How many whole days to move a showcase order back so that its last step lies before ``now``
    (whole days keep every step at its time of day)."""
    latest = max(draft_times)
    if latest <= now - timedelta(minutes=30):
        return timedelta(0)
    return timedelta(days=(latest - now).days + 1)


def _draft_orders(ctx: SeedContext, units: dict[str, BuyerUnit], staff: dict[str, Staff],
                  addresses: dict[str, list[Address]], catalog: Catalog, now: datetime) -> list[OrderDraft]:
    today = now.astimezone(LOCAL_TIMEZONE).date()
    first = today - timedelta(days=364)
    festivals = _festival_days(first, today - timedelta(days=1))
    favoured: dict[str, set[str]] = defaultdict(set)
    for name, counties, _kind, _start in ASSISTANCE:
        favoured[name].update(counties)
    favoured[BUYER_UNIT] = {code for code in catalog.county_code.values() if code.startswith("50")}
    drafts: list[OrderDraft] = []
    # The demo unit first: its showcase orders take from today's spare stock before anyone else.
    for name, spec in sorted(BUYERS.items(), key=lambda item: item[0] != BUYER_UNIT):
        unit = units[name]
        rng = ctx.rng_for(f"procurement-orders:{name}")
        plan = PLANS[name][0]
        plan_fen = (plan.admin_wan * WAN if plan and plan.admin_wan is not None
                    else amount_for_share(plan.budget_wan * WAN, plan.share_percent * 100)
                    if plan and plan.mode == CanteenMode.OWN else 0)
        target = int(spec.pace * plan_fen) if plan_fen else int(spec.yearly_wan * WAN)
        targets = {PurchaseChannel.UNION: int(target * spec.union)}
        targets[PurchaseChannel.CANTEEN] = target - targets[PurchaseChannel.UNION]
        people = staff[name]

        def draft(channel: PurchaseChannel, day: date, budget: int, terms: PaymentTerms | None = None,
                  rng=rng, people=people, name=name, spec=spec) -> OrderDraft | None:
            submitted = _working_moment(rng, day, now)
            local_day = submitted.astimezone(LOCAL_TIMEZONE).date()
            recent = (today - local_day).days < RECENT_DAYS
            lines = _draw_lines(rng, catalog, local_day, channel, budget, favoured[name], recent)
            if not lines:
                return None
            by_supplier: dict[int, list[LineDraft]] = defaultdict(list)
            for key, quantity, reserved in lines:
                product = catalog.products[key]
                by_supplier[product.supplier_id].append(LineDraft(product, quantity, reserved))
            address = addresses[name][rng.randrange(len(addresses[name]))] if channel == PurchaseChannel.CANTEEN \
                else addresses[name][0]
            submitter = people.buyer_ids[0] if rng.random() < 0.8 else people.buyer_ids[-1]
            terms = terms or (PaymentTerms.PAY_FIRST if rng.random() < spec.pay_first else PaymentTerms.DELIVER_FIRST)
            return OrderDraft(unit=name, channel=channel, terms=terms, submitted=submitted, submitted_by=submitter,
                              address=address, wanted_on=local_day + timedelta(days=rng.randint(2, 7)),
                              parts=[PartDraft(s, by_supplier[s]) for s in sorted(by_supplier)])

        if name == BUYER_UNIT:  # first, while today's lots have the most to spare
            for stop, days_ago, channel, terms, big in SHOWCASE:
                order = _showcase(rng, draft, people, unit.approval_threshold_fen, now, stop, days_ago, channel,
                                  terms, big, catalog)
                if order is not None:
                    drafts.append(order)
        for channel, amount in targets.items():
            size = max(2_000 * 100, plan_fen // 40) if channel == PurchaseChannel.CANTEEN else max(
                6_000 * 100, plan_fen // 8)
            bought, tries, offset = 0, 0, rng.random()
            while bought < amount and tries < 400:
                tries += 1
                # Canteen orders spread evenly over the year whatever their number (a golden-ratio sequence:
                # plain random days leave whole months empty for a unit with twenty orders); gifts cluster
                # before the festivals.
                spread = int((offset + tries * GOLDEN) % 1 * 364) + rng.randint(-3, 3)
                day = (first + timedelta(days=min(363, max(0, spread))) if channel == PurchaseChannel.CANTEEN
                       else rng.choice(festivals))
                budget = min(int(size * rng.uniform(0.4, 1.6)), amount - bought + size // 4)
                order = draft(channel, day, max(budget, 20_000))
                if order is None:
                    continue
                _live(order, rng, people, unit.approval_threshold_fen, now)
                _give_back(catalog, order)
                drafts.append(order)
                bought += order.total if order.status != ProcurementStatus.REJECTED else 0
    drafts.sort(key=lambda d: d.submitted)
    return drafts


def _showcase(rng, draft, people: Staff, threshold: int, now: datetime, stop: str, days_ago: float,
              channel: PurchaseChannel, terms: PaymentTerms, big: bool, catalog: Catalog) -> OrderDraft | None:
    """One of the demo unit's orders that waits at ``stop``: placed about ``days_ago`` days ago, above
    the approval threshold or not (``big``), its steps moved back in time so that the last lies before now."""
    day = (now - timedelta(days=days_ago)).astimezone(LOCAL_TIMEZONE).date()
    budget = threshold * 3 // 2 if big else threshold * 2 // 5
    for _ in range(20):
        order = draft(channel, day, budget, terms)
        if order is None:
            continue
        if (order.total > threshold) == big:
            break
        _give_back(catalog, order, everything=True)
    else:
        return None
    order.submitted = min(order.submitted, now - timedelta(days=days_ago))
    _live(order, rng, people, threshold, now + timedelta(days=90), stop=stop)
    times = [order.submitted, *(t for p in order.parts for t in p.times.values())]
    if order.decided_at:
        times.append(order.decided_at)
    _move_back(order, _shift_to(times, now))
    _give_back(catalog, order)
    return order


def _give_back(catalog: Catalog, order: OrderDraft, *, everything: bool = False) -> None:
    """Only orders still in flight hold stock today: what the others took from the spare share goes back."""
    for part in order.parts:
        if everything or part.status in FINAL_PART_STATES:
            for line in part.lines:
                if line.reserved:
                    catalog.spare[line.product.id] += line.quantity
                    line.reserved = False


def _move_back(order: OrderDraft, shift: timedelta) -> None:
    if not shift:
        return
    order.submitted -= shift
    order.wanted_on = max(order.wanted_on - timedelta(days=shift.days), order.submitted.astimezone(
        LOCAL_TIMEZONE).date() + timedelta(days=1))
    if order.decided_at:
        order.decided_at -= shift
    if order.closed_at:
        order.closed_at -= shift
    for part in order.parts:
        part.times = {k: v - shift for k, v in part.times.items()}


def _local(moment: datetime) -> date:
    return moment.astimezone(LOCAL_TIMEZONE).date()


def _write(ctx: SeedContext, drafts: list[OrderDraft], units: dict[str, BuyerUnit]) -> None:
    """The drafts as the services would have left them, in one multi-row INSERT per table."""
    if not drafts:
        return
    rng = ctx.rng_for("procurement-orders:write")
    order_ids = db.session.execute(sa.insert(Order).returning(Order.id, sort_by_parameter_order=True), [
        {"number": f"P{_local(d.submitted):%Y%m%d}{i:04d}", "kind": OrderKind.PROCUREMENT,
         "buyer_id": d.submitted_by, "idempotency_key": f"{ORDER_KEY}{i:04d}", "total_fen": d.total,
         "recipient_name": d.address.recipient, "recipient_phone": d.address.phone, "address": d.address.address,
         "address_region_id": d.address.region_id, "referral_code": None, "created_at": d.submitted,
         "payment_due_at": None} for i, d in enumerate(drafts)]).scalars().all()
    parts = [(d, p) for d in drafts for p in d.parts]
    order_of = {id(d): oid for d, oid in zip(drafts, order_ids, strict=True)}
    sub_rows = []
    for d, p in parts:
        t = p.times
        shipped = "ship" in t
        carrier, prefix = CARRIERS[rng.randrange(len(CARRIERS))]
        settled = t.get("invoice") if d.terms == PaymentTerms.PAY_FIRST and p.status == PartStatus.SETTLED else (
            t.get("pay") if p.status == PartStatus.SETTLED else None)
        status = {PartStatus.AWAITING_APPROVAL: OrderStatus.PENDING_PAYMENT,
                  PartStatus.AWAITING_CONFIRMATION: OrderStatus.PENDING_PAYMENT,
                  PartStatus.CANCELLED: OrderStatus.CANCELLED, PartStatus.DECLINED: OrderStatus.CANCELLED,
                  PartStatus.CONFIRMED: OrderStatus.PAID, PartStatus.PAID: OrderStatus.PAID,
                  PartStatus.SHIPPED: OrderStatus.SHIPPED, PartStatus.ACCEPTED: OrderStatus.RECEIVED,
                  PartStatus.INVOICED: OrderStatus.RECEIVED, PartStatus.SETTLED: OrderStatus.COMPLETED}[p.status]
        sub_rows.append({
            "order_id": order_of[id(d)], "supplier_id": p.supplier_id, "status": status, "subtotal_fen": p.subtotal,
            "carrier": carrier if shipped else None,
            "tracking_number": f"{prefix}{rng.randrange(10**11, 10**12)}" if shipped else None,
            # The confirmed contract stands in for the shop's payment (procurement.services.orders.confirm).
            "paid_at": t.get("confirm"), "shipped_at": t.get("ship"), "received_at": t.get("accept"),
            "completed_at": settled, "cancelled_at": t.get("cancel") or t.get("decline")})
    sub_ids = db.session.execute(sa.insert(SubOrder).returning(SubOrder.id, sort_by_parameter_order=True),
                                 sub_rows).scalars().all()
    line_rows = [{"sub_order_id": sub_id, "product_id": line.product.id, "product_name": line.product.name,
                  "quantity": line.quantity, "unit_price_fen": line.product.price_fen, "amount_fen": line.amount,
                  "refunded_quantity": line.refused, "created_at": d.submitted}
                 for sub_id, (d, p) in zip(sub_ids, parts, strict=True) for line in p.lines]
    line_ids = db.session.execute(sa.insert(OrderLine).returning(OrderLine.id, sort_by_parameter_order=True),
                                  line_rows).scalars().all()
    porder_ids = db.session.execute(
        sa.insert(ProcurementOrder).returning(ProcurementOrder.id, sort_by_parameter_order=True), [
            {"order_id": order_of[id(d)], "unit_id": units[d.unit].id, "channel": d.channel,
             "payment_terms": d.terms, "address_id": d.address.id, "wanted_on": d.wanted_on, "status": d.status,
             "submitted_by_id": d.submitted_by, "submitted_at": d.submitted, "decided_by_id": d.decided_by,
             "decided_at": d.decided_at, "decision_comment": d.comment, "closed_at": d.closed_at}
            for d in drafts]).scalars().all()
    porder_of = {id(d): pid for d, pid in zip(drafts, porder_ids, strict=True)}
    part_rows = []
    for serial, ((d, p), sub_id) in enumerate(zip(parts, sub_ids, strict=True)):
        t = p.times
        accepted = "accept" in t
        invoice_at = t.get("invoice")
        part_rows.append({
            "procurement_order_id": porder_of[id(d)], "sub_order_id": sub_id, "supplier_id": p.supplier_id,
            "status": p.status, "decline_reason": p.decline_reason, "confirmed_at": t.get("confirm"),
            "payment_due_on": _local(t["confirm"]) + timedelta(days=PAY_FIRST_DAYS)
            if d.terms == PaymentTerms.PAY_FIRST and "confirm" in t else None,
            "due_extended": False, "accepted_at": t.get("accept"),
            "accepted_by_id": d.submitted_by if accepted else None,
            "accepted_fen": p.accepted_fen if accepted else 0,
            "invoice_number": f"{_local(invoice_at):%y}500000{serial + 1:012d}" if invoice_at else None,
            "invoice_amount_fen": p.accepted_fen if invoice_at else None,
            "invoice_date": _local(invoice_at) if invoice_at else None,
            "invoice_file_key": None, "invoice_file_name": None, "invoiced_at": invoice_at,
            "settled_at": (t.get("invoice") if d.terms == PaymentTerms.PAY_FIRST else t.get("pay"))
            if p.status == PartStatus.SETTLED else None})
    part_ids = db.session.execute(
        sa.insert(ProcurementPart).returning(ProcurementPart.id, sort_by_parameter_order=True),
        part_rows).scalars().all()

    # Acceptance lines, ledger rows, payments, stock, sold quantities.
    accept_rows, ledger_rows, payment_rows, reserve, sold = [], [], [], [], defaultdict(int)
    lines_iter = iter(line_ids)
    for serial, ((d, p), part_id) in enumerate(zip(parts, part_ids, strict=True)):
        t = p.times
        unit_id = units[d.unit].id
        for line in p.lines:
            line_id = next(lines_iter)
            if "accept" in t:
                kept = line.quantity - line.refused
                accept_rows.append({"order_line_id": line_id, "part_id": part_id, "accepted_quantity": kept,
                                    "refused_quantity": line.refused, "refusal_reason": line.refusal_reason,
                                    "returned_quantity": 0})
                if kept:
                    local = t["accept"].astimezone(LOCAL_TIMEZONE)
                    ledger_rows.append({
                        "unit_id": unit_id, "year": local.year, "month": local.month, "channel": d.channel,
                        "reason": LedgerReason.ACCEPTED, "amount_fen": kept * line.product.price_fen,
                        "order_line_id": line_id, "origin_county_id": line.product.origin_county_id,
                        "category_id": line.product.category_id, "recorded_at": t["accept"]})
            if p.status == PartStatus.SETTLED:
                sold[line.product.id] += line.quantity  # shop.services.orders.complete counts the whole line
            elif p.status not in (PartStatus.CANCELLED, PartStatus.DECLINED):
                reserve.append((line_id, line.product.id, line.quantity))
        pay_step = "pay"
        if pay_step in t:
            amount = p.subtotal if d.terms == PaymentTerms.PAY_FIRST else p.accepted_fen
            card = amount <= 500_000 and rng.random() < 0.3
            method = PaymentMethod.OFFICIAL_CARD if card else PaymentMethod.BANK_TRANSFER
            payment_rows.append({
                "part_id": part_id, "method": method, "amount_fen": amount, "paid_on": _local(t[pay_step]),
                "reference": f"{'GWK' if card else 'TR'}{_local(t[pay_step]):%Y%m%d}{serial + 1:06d}",
                "recorded_by_id": d.submitted_by, "recorded_at": t[pay_step]})
    if accept_rows:
        db.session.execute(sa.insert(ProcurementLine), accept_rows)
    if ledger_rows:
        db.session.execute(sa.insert(PlanLedgerEntry), ledger_rows)
    if payment_rows:
        db.session.execute(sa.insert(ProcurementPayment), payment_rows)
    _reserve(reserve)
    if sold:
        product_table = Product.__table__
        db.session.execute(
            sa.update(product_table).where(product_table.c.id == sa.bindparam("pid"))
            .values(sold_quantity=product_table.c.sold_quantity + sa.bindparam("q")),
            [{"pid": pid, "q": q} for pid, q in sold.items()])
    db.session.expire_all()  # Core statements changed products and lots behind the loaded objects
    ctx.count("procurement orders", len(drafts))
    ctx.count("procurement order lines", len(line_ids))
    ctx.count("plan ledger rows", len(ledger_rows))


def _reserve(lines: list[tuple[int, int, int]]) -> None:
    """Orders in flight hold their stock, first-expiring lots first (``shop.services.orders.reserve_stock``
    for many lines at once): lots, products and the lines' allocations in three statements."""
    if not lines:
        return
    lots: dict[int, list[list[int]]] = defaultdict(list)
    for lot_id, product_id, remaining in db.session.execute(
        sa.select(ProductLot.id, ProductLot.product_id, ProductLot.remaining)
        .where(ProductLot.product_id.in_(sorted({p for _, p, _ in lines})), ProductLot.remaining > 0)
        .order_by(ProductLot.expires_on, ProductLot.id)
    ):
        lots[product_id].append([lot_id, remaining])
    allocations, taken_lots, taken_products = [], defaultdict(int), defaultdict(int)
    for line_id, product_id, quantity in lines:
        need = quantity
        for lot in lots[product_id]:
            if need == 0:
                break
            take = min(need, lot[1])
            if take:
                lot[1] -= take
                need -= take
                allocations.append({"order_line_id": line_id, "lot_id": lot[0], "quantity": take})
                taken_lots[lot[0]] += take
        if need:  # the catalog's spare share makes this impossible; refuse rather than oversell
            raise RuntimeError(f"demo procurement orders would oversell product {product_id}")
        taken_products[product_id] += quantity
    lot_table, product_table = ProductLot.__table__, Product.__table__
    db.session.execute(sa.update(lot_table).where(lot_table.c.id == sa.bindparam("lid"))
                       .values(remaining=lot_table.c.remaining - sa.bindparam("q")),
                       [{"lid": k, "q": v} for k, v in taken_lots.items()])
    db.session.execute(sa.update(product_table).where(product_table.c.id == sa.bindparam("pid"))
                       .values(stock=product_table.c.stock - sa.bindparam("q")),
                       [{"pid": k, "q": v} for k, v in taken_products.items()])
    db.session.execute(sa.insert(OrderLineLot), allocations)


def seed_demo_orders(ctx: SeedContext, units: dict[str, BuyerUnit]) -> None:
    """People, addresses, plans, guiding plans and a year of procurement orders (see the module docstring)."""
    now = utcnow()
    this_year = now.astimezone(LOCAL_TIMEZONE).year
    regions = ctx.made.get("regions") or {r.code: r for r in db.session.execute(sa.select(Region)).scalars()}
    admin_id = db.session.execute(sa.select(User.id).where(User.email == ADMIN_EMAIL)).scalar_one_or_none()
    staff = _seed_people(ctx, units)
    addresses = _seed_addresses(ctx, units, regions)
    _seed_plans(ctx, units, staff, admin_id, this_year, now)
    _seed_guiding_plans(ctx, regions, admin_id, this_year, now)
    if db.session.execute(sa.select(Order.id).where(Order.idempotency_key.startswith(ORDER_KEY)).limit(1)).first():
        return  # written once, as a whole; a rerun adds nothing
    catalog = _catalog(ctx, now.astimezone(LOCAL_TIMEZONE).date())
    if not catalog.products:
        return
    drafts = _draft_orders(ctx, units, staff, addresses, catalog, now)
    _write(ctx, drafts, units)
