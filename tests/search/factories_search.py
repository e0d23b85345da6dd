"""A fixed catalog for the search tests: real place and product names from the seeds.

Regions are made through the registry service (right paths); codes start with 5 so they
never meet tests.factories' codes. Everything is flushed, not committed: the test's
transaction is rolled back afterwards.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from core.extensions import db
from core.registry import services as registry
from core.registry.models import Region, RegionLevel
from search.service import current_month
from shop.models import (
    Category,
    Certification,
    Product,
    ProductCertification,
    ProductStatus,
    Supplier,
    SupplierStatus,
    SupplierType,
)
from tests import factories

_codes = itertools.count(1)
_category_codes = itertools.count(1)
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def county_chain(province: str, city: str, county: str, village: str, *, key: bool = False,
                 parents: dict[str, Region] | None = None) -> dict[str, Region]:
    """province → city → county → township → village; reuses province and city given in ``parents``."""
    parents = {} if parents is None else parents
    n = next(_codes) % 100  # codes of 6 digits: 5nn000 province, 5nn100 city, 5nn101 county
    prov = parents.get(province) or registry.create_region(code=f"5{n:02d}000", name=province,
                                                           level=RegionLevel.PROVINCE, parent=None)
    parents[province] = prov
    city_row = parents.get(province + city) or registry.create_region(
        code=f"5{n:02d}100", name=city, level=RegionLevel.CITY, parent=prov)
    parents[province + city] = city_row
    county_row = registry.create_region(code=f"5{n:02d}101", name=county,
                                        level=RegionLevel.COUNTY, parent=city_row, poverty_lifted=True,
                                        key_assistance=key)
    township = registry.create_region(code=f"{county_row.code}001", name=f"{county[:2]}镇",
                                      level=RegionLevel.TOWNSHIP, parent=county_row)
    village_row = registry.create_region(code=f"{county_row.code}001201", name=village,
                                         level=RegionLevel.VILLAGE, parent=township)
    return {"province": prov, "city": city_row, "county": county_row, "village": village_row}


def category(name: str, parent: Category | None = None) -> Category:
    row = Category(code=f"search-test-{next(_category_codes)}", name=name, parent_id=parent.id if parent else None)
    db.session.add(row)
    db.session.flush()
    return row


def product(supplier: Supplier, cat: Category, place: dict[str, Region], name: str, *, price_fen: int = 5000,
            sold: int = 0, urgent: bool = False, in_season: bool = False, description: str = "",
            certifications: tuple[Certification, ...] = (), status: ProductStatus = ProductStatus.LISTED,
            listed_days_ago: int = 10, specification: str = "") -> Product:
    month_bit = 1 << (current_month() - 1)
    row = Product(
        supplier_id=supplier.id, category_id=cat.id, origin_village_id=place["village"].id,
        origin_county_id=place["county"].id, name=name, description=description, sales_unit="箱",
        specification=specification, price_fen=price_fen, stock=100, shelf_life_days=30,
        harvest_months=month_bit if in_season else 0, status=status, is_urgent_sale=urgent, sold_quantity=sold,
        listed_at=EPOCH + timedelta(days=365 - listed_days_ago),
    )
    row.certifications = [ProductCertification(kind=kind) for kind in certifications]
    db.session.add(row)
    db.session.flush()
    return row


@dataclass
class Catalog:
    places: dict[str, dict[str, Region]] = field(default_factory=dict)
    categories: dict[str, Category] = field(default_factory=dict)
    suppliers: dict[str, Supplier] = field(default_factory=dict)
    products: dict[str, Product] = field(default_factory=dict)

    def ids(self, *keys: str) -> list[int]:
        return [self.products[k].id for k in keys]


def catalog() -> Catalog:
    """Eight products, six of them on sale.

    | key      | name            | county (key assistance) | category  | price | sold | notes                |
    |----------|-----------------|--------------------------|-----------|-------|------|----------------------|
    | plum     | 巫山脆李         | 巫山县 (yes)              | 李子      | 88.00 | 40   | in season, GI+green  |
    | dried    | 巫山脆李果脯      | 巫山县 (yes)              | 果脯      | 29.90 | 12   |                      |
    | orange   | 巫山恋橙         | 巫山县 (yes)              | 柑橘      | 69.80 | 30   | green                |
    | tomato   | 鲁渝一号西红柿    | 开州区 (no)               | 茄果类    | 39.90 | 25   | urgent sale, green   |
    | box      | 寿光蔬菜礼盒      | 寿光市 (no)               | 茄果类    | 69.80 | 12   | 西红柿 in description  |
    | potato   | 定西马铃薯       | 安定区 (yes)              | 薯类      | 39.80 | 16   | GI, family farm      |
    | delisted | 巫山脆李礼盒      | 巫山县                    | 李子      |       |      | delisted             |
    | hidden   | 脆李干           | 巫山县                    | 果脯      |       |      | supplier suspended   |
    """
    c = Catalog()
    shared: dict[str, Region] = {}
    c.places["wushan"] = county_chain("重庆市", "重庆市辖县", "巫山县", "柑园村", key=True, parents=shared)
    c.places["kaizhou"] = county_chain("重庆市", "重庆市辖区", "开州区", "凤凰村", parents=shared)
    c.places["shouguang"] = county_chain("山东省", "潍坊市", "寿光市", "三元朱村", parents=shared)
    c.places["dingxi"] = county_chain("甘肃省", "定西市", "安定区", "中庄村", key=True, parents=shared)

    fruit = c.categories["fruit"] = category("水果")
    c.categories["plum"] = category("李子", fruit)
    c.categories["citrus"] = category("柑橘", fruit)
    veg = c.categories["veg"] = category("蔬菜")
    c.categories["fruiting"] = category("茄果类", veg)
    grain = c.categories["grain"] = category("粮油")
    c.categories["tuber"] = category("薯类", grain)
    processed = c.categories["processed"] = category("加工食品")
    c.categories["dried"] = category("果脯", processed)

    c.suppliers["wushan"] = factories.supplier(c.places["wushan"]["county"], name="巫山县曲尺乡果品专业合作社")
    c.suppliers["kaizhou"] = factories.supplier(c.places["kaizhou"]["county"], name="开州区鲁渝蔬菜产业园",
                                                type=SupplierType.LEADING_ENTERPRISE)
    c.suppliers["shouguang"] = factories.supplier(c.places["shouguang"]["county"], name="寿光市三元朱村蔬菜合作社")
    c.suppliers["dingxi"] = factories.supplier(c.places["dingxi"]["county"], name="安定区中庄家庭农场",
                                               type=SupplierType.FAMILY_FARM)
    c.suppliers["suspended"] = factories.supplier(c.places["wushan"]["county"], name="巫山县某商贸公司",
                                                  status=SupplierStatus.SUSPENDED)

    C = Certification
    p = c.products
    p["plum"] = product(c.suppliers["wushan"], c.categories["plum"], c.places["wushan"], "巫山脆李",
                        price_fen=8800, sold=40, in_season=True, certifications=(C.GEOGRAPHICAL_INDICATION, C.GREEN),
                        description="小满过后开始预售的“金果果”，果肉脆嫩、汁多化渣。", specification="5斤/箱",
                        listed_days_ago=30)
    p["dried"] = product(c.suppliers["wushan"], c.categories["dried"], c.places["wushan"], "巫山脆李果脯",
                         price_fen=2990, sold=12, description="用当季巫山脆李低糖腌制烘干。", listed_days_ago=20)
    p["orange"] = product(c.suppliers["wushan"], c.categories["citrus"], c.places["wushan"], "巫山恋橙",
                          price_fen=6980, sold=30, certifications=(C.GREEN,), listed_days_ago=40)
    p["tomato"] = product(c.suppliers["kaizhou"], c.categories["fruiting"], c.places["kaizhou"], "鲁渝一号西红柿",
                          price_fen=3990, sold=25, urgent=True, certifications=(C.GREEN,),
                          description="鲁渝(寿光)蔬菜现代产业园智能温室出产。", listed_days_ago=5)
    p["box"] = product(c.suppliers["shouguang"], c.categories["fruiting"], c.places["shouguang"], "寿光蔬菜礼盒",
                       price_fen=6980, sold=12, description="冬暖式大棚彩椒黄瓜西红柿组合。", listed_days_ago=15)
    p["potato"] = product(c.suppliers["dingxi"], c.categories["tuber"], c.places["dingxi"], "定西马铃薯",
                          price_fen=3980, sold=16, certifications=(C.GEOGRAPHICAL_INDICATION,), listed_days_ago=8)
    p["delisted"] = product(c.suppliers["wushan"], c.categories["plum"], c.places["wushan"], "巫山脆李礼盒",
                            status=ProductStatus.DELISTED)
    p["hidden"] = product(c.suppliers["suspended"], c.categories["dried"], c.places["wushan"], "脆李干")
    return c


def ranking_catalog() -> Catalog:
    """Six products around 蜂糖李 whose order pins the ranking rule (search/README.md):

    name matches beat everything else, and among them the boosts order them —
    key county and urgent sale (×1.56) > urgent sale (×1.3) > key county (×1.2) > none,
    although the unboosted one sells best. A category-only match with both boosts
    (40 × 1.56) still comes after every name match, and a description match last.
    """
    c = Catalog()
    shared: dict[str, Region] = {}
    plain = county_chain("贵州省", "黔南州", "长顺县", "广顺村", parents=shared)
    key = county_chain("贵州省", "安顺市", "镇宁县", "六马村", key=True, parents=shared)
    fruit = category("水果")
    plum = category("李子", fruit)
    special = category("蜂糖李专区", fruit)
    farm = factories.supplier(plain["county"], name="长顺县农场")
    keyfarm = factories.supplier(key["county"], name="镇宁县合作社")
    p = c.products
    p["none"] = product(farm, plum, plain, "蜂糖李（甲）", sold=100)
    p["key"] = product(keyfarm, plum, key, "蜂糖李（乙）", sold=10)
    p["urgent"] = product(farm, plum, plain, "蜂糖李（丙）", sold=5, urgent=True)
    p["both"] = product(keyfarm, plum, key, "蜂糖李（丁）", sold=1, urgent=True)
    p["category"] = product(keyfarm, special, key, "六马村鲜果", sold=500, urgent=True)
    p["description"] = product(keyfarm, plum, key, "镇宁李子", sold=900, urgent=True, description="精选蜂糖李。")
    return c


RANKED = ["both", "urgent", "key", "none", "category", "description"]
