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

    def _seed(*, scale: int | None = None, random_seed: int = 20260701) -> SeedContext:
        ctx = SeedContext(rng=random.Random(random_seed), password="demo-password")
        run_seeders([CORE_SEEDER, *app.extensions["demo_seeders"]], ctx, scale=scale)
        db.session.expire_all()
        return ctx

    return _seed


def _counts() -> dict[str, int]:
    return {table.name: db.session.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            for table in db.metadata.sorted_tables}


def _scalars(stmt) -> list:
    return list(db.session.execute(stmt).scalars())


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
    orders = _scalars(sa.select(Order))
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
    sold = dict(db.session.execute(
        sa.select(OrderLine.product_id, sa.func.sum(OrderLine.quantity)).join(SubOrder)
        .where(SubOrder.status != OrderStatus.CANCELLED).group_by(OrderLine.product_id)).all())
    for product in _scalars(sa.select(Product)):
        assert product.sold_quantity == sold.get(product.id, 0), product.name


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
