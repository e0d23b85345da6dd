"""``flask demo seed``: the realistic data set from the seeds, its idempotence, and ``--scale``."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.accounts.models import User
from core.database import utcnow
from core.demo import SeedContext, run_seeders
from core.demo_core import CORE_SEEDER
from core.extensions import db
from procurement.demo import APPROVER_EMAIL, BUYER_EMAIL
from procurement.models import AssistanceKind, AssistanceRelation, BuyerUnit, UnitMember, UnitRole, UnitType
from shop.demo import SCALE_MARK, SUPPLIER_EMAIL, months
from shop.models import (
    Certification,
    LinkStatus,
    Order,
    OrderKind,
    OrderLine,
    OrderStatus,
    Product,
    ProductCertification,
    ProductLot,
    SubOrder,
    Supplier,
    SupplierMember,
    SupplierStatus,
    SupplierType,
)
from tests.factories import PASSWORD_HASH

CENTRAL_UNITS = {
    "致公党中央": {"500242"},  # 酉阳
    "水利部": {"500101", "500156", "500230", "500229", "500238"},  # 万州 武隆 丰都 城口 巫溪
    "中央外办": set(),  # the seeds do not name its county
    "中国中信集团有限公司": {"500114"},  # 黔江
    "中国农业银行": {"500241"},  # 秀山
    "中国核工业集团有限公司": {"500240"},  # 石柱
    "中国长江三峡集团有限公司": {"500236"},  # 奉节
    "中国法学会": {"500154"},  # 开州
    "中国进出口银行": {"500235"},  # 云阳
}


@pytest.fixture()
def seed(app, db_session, monkeypatch):
    """Run the demo seeders as ``flask demo seed`` does, inside the test's transaction."""
    # The demo log-ins would otherwise each pay for a real scrypt hash.
    monkeypatch.setattr("core.accounts.models.generate_password_hash", lambda password: PASSWORD_HASH)

    def _seed(*, scale: int | None = None, random_seed: int = 20260701, units: int | None = None,
              lines_per_product: int | None = None) -> SeedContext:
        ctx = SeedContext(rng=random.Random(random_seed), password="demo-password", units=units,
                          lines_per_product=lines_per_product)
        run_seeders([CORE_SEEDER, *app.extensions["demo_seeders"]], ctx, scale=scale)
        db.session.expire_all()
        return ctx

    return _seed


def _counts() -> dict[str, int]:
    return {table.name: db.session.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            for table in db.metadata.sorted_tables}


def _scalars(stmt) -> list:
    return list(db.session.execute(stmt).scalars())


def _side_ledger_matches_the_orders() -> None:
    """Employees' purchases and help-sales in the side ledger's totals equal what the orders say, computed
    here line by line the way the figures were computed live before the side ledger (set-based seeding
    must enter exactly those); nothing is left unentered and the totals equal their entries."""
    from collections import defaultdict

    from procurement.models import UnitEmployee
    from procurement.models_side import UnitSideTotal
    from procurement.services import completion, side_ledger
    from procurement.services.common import LOCAL_TIMEZONE

    codes = dict(db.session.execute(sa.select(BuyerUnit.promotion_code, BuyerUnit.id)
                                    .where(BuyerUnit.promotion_code.is_not(None))).all())
    employers = {user: (unit, since) for user, unit, since in db.session.execute(
        sa.select(UnitEmployee.user_id, UnitEmployee.unit_id, UnitEmployee.since)).all()}
    expected: dict[tuple, int] = defaultdict(int)
    for buyer, code, completed_at, amount in db.session.execute(
            sa.select(Order.buyer_id, Order.referral_code, SubOrder.completed_at,
                      (OrderLine.quantity - OrderLine.refunded_quantity) * OrderLine.unit_price_fen)
            .select_from(OrderLine).join(SubOrder).join(Order)
            .where(Order.kind == OrderKind.CONSUMER, SubOrder.completed_at.is_not(None))):
        year = completed_at.astimezone(LOCAL_TIMEZONE).year
        employer, since = employers.get(buyer, (None, None))
        employee_of = employer if employer is not None and since <= completed_at else None
        if employee_of is not None:
            expected[(employee_of, year, "employee")] += amount
        if code in codes and codes[code] != employee_of:
            expected[(codes[code], year, "help_sales")] += amount
    totals = {(unit, year, kind.value): amount for unit, year, kind, amount in db.session.execute(
        sa.select(UnitSideTotal.unit_id, UnitSideTotal.year, UnitSideTotal.kind, UnitSideTotal.amount_fen))}
    assert {k: v for k, v in totals.items() if v} == {k: v for k, v in expected.items() if v}
    assert any(kind == "help_sales" for _unit, _year, kind in totals)
    assert side_ledger.unrecorded_count(db.session.connection()) == 0
    assert completion.totals_drift() == 0


def test_seed_creates_the_products_named_in_the_seeds(seed):
    seed()
    names = set(_scalars(sa.select(Product.name)))
    assert {"巫山脆李", "巫山恋橙", "鲁渝一号西红柿", "石柱黄连", "开州柑桔", "云州黄花", "吉县苹果", "右玉羊肉",
            "洛川苹果", "赣南脐橙（寻乌）", "定西马铃薯", "三星香米", "万州芦花鸡", "奉节鲜香菇", "花田贡米",
            "酉阳茶油", "秀山土鸡蛋", "城口老腊肉", "巫溪洋芋", "会泽马铃薯", "寿光蔬菜礼盒"} <= names
    assert 25 <= len(names) <= 40

    def product(name: str) -> Product:
        return db.session.execute(sa.select(Product).where(Product.name == name)).scalar_one()

    assert product("巫山脆李").harvest_months == months(6, 7, 8)
    assert product("开州柑桔").harvest_months == months(11, 12, 1)
    assert product("巫山恋橙").harvest_months == months(12, 1, 2, 3)
    for name in ("巫山脆李", "石柱黄连"):
        kinds = set(_scalars(sa.select(ProductCertification.kind).where(
            ProductCertification.product_id == product(name).id)))
        assert Certification.GEOGRAPHICAL_INDICATION in kinds
    plum = product("巫山脆李")
    assert plum.origin_county.code == "500237" and plum.origin_village.code.startswith("500237")
    assert plum.supplier.name == "巫山县曲尺乡脆李专业合作社"


def test_every_product_keeps_its_stock_in_lots_within_shelf_life(seed):
    seed()
    today = utcnow().date()
    for product in _scalars(sa.select(Product)):
        lots = product.lots
        assert lots, product.name
        assert product.stock == sum(lot.remaining for lot in lots), product.name
        assert product.price_fen > 0 and isinstance(product.price_fen, int)
        for lot in lots:
            assert lot.expires_on - lot.produced_on == timedelta(days=product.shelf_life_days)
            assert lot.remaining == 0 or lot.expires_on >= today - timedelta(days=1), product.name
    # Something for the early-warning job: a big lot about to spoil.
    soon = _scalars(sa.select(ProductLot).where(ProductLot.remaining >= 100,
                                                ProductLot.expires_on <= today + timedelta(days=4)))
    assert soon


def test_suppliers_of_every_type_with_household_links(seed):
    seed()
    suppliers = _scalars(sa.select(Supplier))
    assert {s.type for s in suppliers} == set(SupplierType)
    assert {s.status for s in suppliers} == {SupplierStatus.APPROVED, SupplierStatus.PENDING}
    for supplier in suppliers:
        assert len(supplier.licence_number) == 18
        live = [link for link in supplier.household_links if link.status != LinkStatus.ENDED]
        assert live, supplier.name
        assert sum(link.benefit_share_bp for link in live) <= 10_000
        for link in supplier.household_links:
            assert link.household.village.path.startswith(supplier.county.path), supplier.name
    member = db.session.execute(
        sa.select(SupplierMember).join(User, User.id == SupplierMember.user_id).where(User.email == SUPPLIER_EMAIL)
    ).scalar_one()
    assert member.is_owner and member.supplier.name == "巫山县曲尺乡脆李专业合作社"


def test_the_nine_central_units_and_their_paired_counties(seed):
    seed()
    units = {u.name: u for u in _scalars(sa.select(BuyerUnit).where(BuyerUnit.type == UnitType.CENTRAL))}
    assert set(units) == set(CENTRAL_UNITS)
    for name, counties in CENTRAL_UNITS.items():
        relations = units[name].assistance
        assert {r.county.code for r in relations} == counties, name
        assert all(r.kind == AssistanceKind.PAIRED and r.start_year == 2021 for r in relations)
        assert units[name].region.code == "110000"
    assert len(units["水利部"].assistance) == 5

    yantai = db.session.execute(sa.select(BuyerUnit).where(BuyerUnit.name == "烟台市")).scalar_one()
    assert yantai.type == UnitType.EAST_WEST_CITY and yantai.region.code == "370600"
    relation = db.session.execute(
        sa.select(AssistanceRelation).where(AssistanceRelation.unit_id == yantai.id)).scalar_one()
    assert (relation.county.name, relation.kind, relation.start_year) == ("巫山县", AssistanceKind.EAST_WEST, 2018)

    members = _scalars(sa.select(UnitMember).join(User, User.id == UnitMember.user_id)
                       .where(User.email.in_((BUYER_EMAIL, APPROVER_EMAIL))))
    assert {m.role for m in members} == {UnitRole.BUYER, UnitRole.APPROVER}
    assert len({m.unit_id for m in members}) == 1
    unit = members[0].unit
    assert unit.region.code == "500000" and unit.approval_threshold_fen > 0 and unit.promotion_code
    county_unit = db.session.execute(sa.select(BuyerUnit).where(BuyerUnit.name == "开州区乡村振兴局")).scalar_one()
    assert county_unit.parent is not None and county_unit.region.code == "500154"


def test_a_year_of_consumer_orders_adds_up(seed):
    seed()
    now = utcnow()
    orders = _scalars(sa.select(Order).where(Order.kind == OrderKind.CONSUMER))
    assert 300 <= len(orders) <= 500
    assert len({o.number for o in orders}) == len(orders)
    for order in orders:
        assert now - timedelta(days=366) <= order.created_at <= now
        assert order.total_fen == sum(sub.subtotal_fen for sub in order.sub_orders)
        assert len({sub.supplier_id for sub in order.sub_orders}) == len(order.sub_orders)
        for sub in order.sub_orders:
            assert sub.subtotal_fen == sum(line.amount_fen for line in sub.lines)
            assert all(line.product.supplier_id == sub.supplier_id for line in sub.lines)
            assert all(line.amount_fen == line.quantity * line.unit_price_fen for line in sub.lines)
            if sub.status == OrderStatus.COMPLETED:
                assert order.created_at < sub.paid_at < sub.shipped_at < sub.received_at < sub.completed_at <= now
    statuses = [sub.status for order in orders for sub in order.sub_orders]
    assert statuses.count(OrderStatus.COMPLETED) > 0.9 * len(statuses)
    # 帮助销售: some came with a unit's promotion code, and every code belongs to a unit.
    codes = {o.referral_code for o in orders if o.referral_code}
    assert codes and codes <= set(_scalars(sa.select(BuyerUnit.promotion_code)))
    # Consumer orders count once not cancelled; the demo procurement orders once settled (the shop's completion).
    sold = dict(db.session.execute(
        sa.select(OrderLine.product_id, sa.func.sum(OrderLine.quantity))
        .join(SubOrder, SubOrder.id == OrderLine.sub_order_id).join(Order, Order.id == SubOrder.order_id)
        .where(sa.or_(sa.and_(Order.kind == OrderKind.CONSUMER, SubOrder.status != OrderStatus.CANCELLED),
                      SubOrder.status == OrderStatus.COMPLETED))
        .group_by(OrderLine.product_id)).all())
    for product in _scalars(sa.select(Product)):
        assert product.sold_quantity == sold.get(product.id, 0), product.name
    _side_ledger_matches_the_orders()


def test_seeding_twice_changes_nothing(seed):
    seed()
    before = _counts()
    products = db.session.execute(
        sa.select(Product.name, Product.price_fen, Product.stock, Product.sold_quantity).order_by(Product.id)).all()
    seed()
    assert _counts() == before
    seed(random_seed=7)  # another --random-seed must not add a second set of anything either
    assert _counts() == before
    assert db.session.execute(
        sa.select(Product.name, Product.price_fen, Product.stock, Product.sold_quantity).order_by(Product.id)
    ).all() == products


def test_scale_adds_synthetic_products_with_about_ten_order_lines_each(seed):
    seed()
    before = _counts()
    seed(scale=300)
    synthetic = (sa.select(Product.id).join(Supplier, Supplier.id == Product.supplier_id)
                 .where(Supplier.name.startswith(SCALE_MARK)))
    assert db.session.execute(sa.select(sa.func.count()).select_from(synthetic.subquery())).scalar_one() == 300
    lines = db.session.execute(
        sa.select(OrderLine.quantity, OrderLine.unit_price_fen, OrderLine.amount_fen)
        .where(OrderLine.product_id.in_(synthetic))).all()
    assert 2_700 <= len(lines) <= 3_300
    assert all(amount == quantity * price for quantity, price, amount in lines)
    assert _counts()["shop_order"] > before["shop_order"] + 1_000
    # Sub-orders add up and belong to the supplier of their lines.
    mismatched = db.session.execute(
        sa.select(sa.func.count()).select_from(SubOrder).where(
            SubOrder.subtotal_fen != sa.select(sa.func.coalesce(sa.func.sum(OrderLine.amount_fen), 0))
            .where(OrderLine.sub_order_id == SubOrder.id).scalar_subquery())
    ).scalar_one()
    assert mismatched == 0
    stock_mismatch = db.session.execute(
        sa.select(sa.func.count()).select_from(Product).where(
            Product.stock != sa.select(sa.func.sum(ProductLot.remaining))
            .where(ProductLot.product_id == Product.id).scalar_subquery())
    ).scalar_one()
    assert stock_mismatch == 0

    unlinked = db.session.execute(
        sa.select(sa.func.count()).select_from(Supplier).where(
            Supplier.name.startswith(SCALE_MARK), ~Supplier.household_links.any())).scalar_one()
    assert unlinked == 0

    after = _counts()
    seed(scale=300)  # the synthetic products are already there: nothing is added
    assert _counts() == after


def test_the_command_line_seeds_and_scales(app, seed):
    result = app.test_cli_runner().invoke(args=["demo", "seed", "--scale", "20"])
    assert result.exit_code == 0, result.output
    assert "synthetic products: 20" in result.output
    assert SUPPLIER_EMAIL in result.output


def test_scale_leaves_ids_and_constraints_usable(seed):
    seed(scale=60)
    # The sequences were moved past the ids the generator wrote: the next ordinary insert works.
    plum = db.session.execute(sa.select(Product).where(Product.name == "巫山脆李")).scalar_one()
    copy = Product(supplier_id=plum.supplier_id, category_id=plum.category_id, origin_village_id=plum.origin_village_id,
                   origin_county_id=plum.origin_county_id, name="巫山脆李 礼盒", sales_unit="箱", price_fen=12800,
                   shelf_life_days=15)
    db.session.add(copy)
    db.session.flush()
    assert copy.id > db.session.execute(sa.select(sa.func.max(OrderLine.product_id))).scalar_one()
    if db.engine.dialect.name == "postgresql":
        foreign_keys = db.session.execute(sa.text(
            "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND convalidated "
            "AND conrelid::regclass::text IN ('product', 'order_line', 'sub_order', 'shop_order')")).scalar_one()
        assert foreign_keys >= 10


def test_a_synthetic_step_runs_beside_the_steps_it_does_not_read(app):
    """With ``parallel``, the search-like step starts once the shop-like step is done and works while
    the attribution-like step runs: the attribution step waits for it, so run one after the other
    it would time out."""
    import threading

    from core.demo import Seeder

    indexed = threading.Event()
    events = []

    def shop(ctx, n):
        events.append("shop")

    def attribution(ctx, n):
        events.append("attribution started")
        assert indexed.wait(timeout=10), "the search step did not run alongside"
        events.append("attribution done")

    def search(ctx, n):
        events.append("search")
        indexed.set()

    def nothing(ctx):
        pass

    seeders = [Seeder("shop", 10, nothing, shop), Seeder("attribution", 80, nothing, attribution),
               Seeder("search", 90, nothing, search, scale_reads_up_to=10)]
    ctx = SeedContext(rng=random.Random(1), password="demo-password")
    with app.app_context():
        run_seeders(seeders, ctx, scale=1, parallel=True)
    assert events[0] == "shop" and events[-1] == "attribution done" and "search" in events
    assert set(ctx.seconds) >= {"shop (synthetic)", "attribution (synthetic)", "search (synthetic, alongside)"}

    events.clear()
    indexed.set()  # one after the other (tests, SQLite): the declared order
    with app.app_context():
        run_seeders(seeders, ctx, scale=1)
    assert events == ["shop", "attribution started", "attribution done", "search"]


SCALED_TABLES = ("buyer_unit", "unit_member", "unit_address", "unit_plan", "user_account", "shop_order", "sub_order",
                 "order_line", "procurement_order", "procurement_part", "procurement_line", "plan_ledger_entry",
                 "plan_year_total", "plan_origin_total", "product", "unit_side_entry", "unit_side_total",
                 "unit_side_origin_total")


def _scaled_counts() -> dict[str, int]:
    """Row counts of what the --units and --lines-per-product data write."""
    return {name: n for name, n in _counts().items() if name in SCALED_TABLES}


def _synthetic_consumer_lines() -> int:
    return db.session.execute(
        sa.select(sa.func.count()).select_from(OrderLine).join(SubOrder).join(Order)
        .where(Order.kind == OrderKind.CONSUMER, Order.idempotency_key.startswith("scale-"))).scalar_one()


def test_lines_per_product_adds_consumer_orders_to_the_synthetic_products_already_there(seed):
    seed(scale=100)
    assert 1_000 <= _synthetic_consumer_lines() < 1_100
    seed(scale=100, lines_per_product=20)
    lines = _synthetic_consumer_lines()
    assert 2_000 <= lines < 2_150
    # The products' sold quantities follow their new orders (cancelled and refunded ones left out).
    sold = dict(db.session.execute(
        sa.select(OrderLine.product_id, sa.func.sum(OrderLine.quantity)).join(SubOrder)
        .where(SubOrder.status.not_in((OrderStatus.CANCELLED, OrderStatus.REFUNDED))).group_by(OrderLine.product_id)
    ).all())
    synthetic = _scalars(sa.select(Product).join(Supplier).where(Supplier.name.startswith(SCALE_MARK)))
    assert all(p.sold_quantity == sold.get(p.id, 0) for p in synthetic)
    _side_ledger_matches_the_orders()
    before = _scaled_counts()
    seed(scale=100, lines_per_product=20)  # as many lines as asked for already: nothing is added
    seed(scale=100)
    assert _scaled_counts() == before


def test_units_come_with_plans_and_procurement_lines_whose_ledger_adds_up(seed):
    from procurement.demo_units import SCALE_UNIT_MARK
    from procurement.models import UnitAddress, UnitPlan
    from procurement.models_completion import PlanYearTotal
    from procurement.models_ledger import PlanLedgerEntry
    from procurement.models_orders import ProcurementLine, ProcurementOrder, ProcurementPart
    from procurement.services import completion

    seed(scale=200, units=30)
    units = _scalars(sa.select(BuyerUnit).where(BuyerUnit.name.startswith(SCALE_UNIT_MARK)).order_by(BuyerUnit.name))
    assert len(units) == 30
    heads = [u for u in units if u.parent_id is None]
    assert len(heads) == 2 and {u.type for u in heads} == {UnitType.CITY_DEPARTMENT}
    assert all(u.parent_id in {h.id for h in heads} for u in units if u.parent_id is not None)
    assert all(u.region.parent_id == u.parent.region_id for u in units if u.parent is not None)  # counties below
    unit_ids = [u.id for u in units]
    year = completion.today().year
    plans = _scalars(sa.select(UnitPlan).where(UnitPlan.unit_id.in_(unit_ids), UnitPlan.year == year))
    assert len(plans) == 29  # unit 20 has not declared yet
    assert all(p.plan_fen > 0 for p in plans)
    members = _scalars(sa.select(UnitMember).where(UnitMember.unit_id.in_(unit_ids)))
    assert len(members) == 30 and {m.role for m in members} == {UnitRole.BUYER}
    assert db.session.execute(sa.select(sa.func.count()).select_from(UnitAddress)
                              .where(UnitAddress.unit_id.in_(unit_ids))).scalar_one() == 30

    # Every procurement line accepted in full, one ledger row each, in this year.
    line_amounts = dict(db.session.execute(
        sa.select(ProcurementOrder.unit_id, sa.func.sum(ProcurementLine.accepted_quantity * OrderLine.unit_price_fen))
        .join(ProcurementPart, ProcurementPart.procurement_order_id == ProcurementOrder.id)
        .join(ProcurementLine, ProcurementLine.part_id == ProcurementPart.id)
        .join(OrderLine, OrderLine.id == ProcurementLine.order_line_id)
        .where(ProcurementOrder.unit_id.in_(unit_ids)).group_by(ProcurementOrder.unit_id)).all())
    lines = db.session.execute(sa.select(sa.func.count()).select_from(ProcurementLine)).scalar_one()
    assert 30 * 40 <= lines <= 30 * 170
    ledger = dict(db.session.execute(
        sa.select(PlanLedgerEntry.unit_id, sa.func.sum(PlanLedgerEntry.amount_fen))
        .where(PlanLedgerEntry.unit_id.in_(unit_ids), PlanLedgerEntry.year == year)
        .group_by(PlanLedgerEntry.unit_id)).all())
    assert ledger == line_amounts and len(ledger) == 30
    assert db.session.execute(sa.select(sa.func.count()).select_from(PlanLedgerEntry)).scalar_one() == lines
    # The maintained totals equal the ledger (on PostgreSQL they were added set-based, the trigger off).
    assert completion.totals_drift() == 0
    totals = dict(db.session.execute(
        sa.select(PlanYearTotal.unit_id, sa.func.sum(PlanYearTotal.amount_fen))
        .where(PlanYearTotal.year == year, PlanYearTotal.unit_id.in_(unit_ids)).group_by(PlanYearTotal.unit_id)).all())
    assert totals == ledger
    # The orders are whole: shop totals add up, every part accepted for its sub-order's amount.
    for order in _scalars(sa.select(ProcurementOrder).where(ProcurementOrder.unit_id.in_(unit_ids)).limit(50)):
        assert order.order.kind == OrderKind.PROCUREMENT
        assert order.order.total_fen == sum(sub.subtotal_fen for sub in order.order.sub_orders)
        for part in order.parts:
            assert part.accepted_fen == part.sub_order.subtotal_fen == sum(line.amount_fen
                                                                            for line in part.sub_order.lines)
    # The dashboard reads them: a plan and counted purchases for each unit that declared.
    figures = {f.unit_id: f for f in completion.unit_figures(year, BuyerUnit.id.in_(unit_ids))}
    assert sum(1 for f in figures.values() if f.has_plan) == 29
    assert all(figures[uid].canteen_fen + figures[uid].union_fen == amount for uid, amount in ledger.items())

    before = _scaled_counts()
    seed(scale=200, units=30)  # running it twice adds nothing
    assert _scaled_counts() == before
    seed(scale=200, units=32)  # a larger figure adds the missing units only
    assert db.session.execute(sa.select(sa.func.count()).select_from(BuyerUnit)
                              .where(BuyerUnit.name.startswith(SCALE_UNIT_MARK))).scalar_one() == 32
    assert completion.totals_drift() == 0
    _side_ledger_matches_the_orders()


def test_the_command_line_takes_units_and_lines_per_product_only_with_scale(app):
    result = app.test_cli_runner().invoke(args=["demo", "seed", "--units", "5"])
    assert result.exit_code == 2 and "give --scale too" in result.output
