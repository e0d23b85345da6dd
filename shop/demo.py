"""Shop demo data: categories, suppliers of each type with bound households, the products named
in the seeds with their stock lots, and a year of consumer orders; plus the synthetic catalog
behind ``flask demo seed --scale N``.

Places, products, seasons and the suppliers' kinds come from the seeds documents
(巫山脆李 and 巫山恋橙, 开州 鲁渝(寿光)蔬菜产业园 and its 鲁渝一号 tomatoes, 石柱黄连 and
三星香米, 万州 山东芦花鸡产业基地, 奉节 鲁渝菌棒基地, 酉阳 酉好货, 云州黄花, 吉县苹果,
右玉羊肉, 洛川苹果, 赣南脐橙, 定西马铃薯 ...). Supplier names, contacts, licence numbers
and certificate numbers are illustrative: licence numbers have the shape and check
characters of a 统一社会信用代码 but belong to no real organisation.
"""

from __future__ import annotations

import hashlib
import math
import queue
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from core.accounts.models import User
from core.database import utcnow
from core.demo import SeedContext, Seeder, upsert
from core.demo_core import CONSUMER_EMAIL, ensure_user, mobile_number, person_name
from core.extensions import db
from core.permissions import Role
from core.registry.models import Household, Region, RegionLevel
from shop.models import (
    Category,
    Certification,
    HouseholdLink,
    LinkStatus,
    LinkType,
    Order,
    OrderKind,
    OrderLine,
    OrderStatus,
    Product,
    ProductCertification,
    ProductLot,
    ProductStatus,
    SubOrder,
    Supplier,
    SupplierMember,
    SupplierStatus,
    SupplierType,
)

SUPPLIER_EMAIL = "supplier@demo.fupin.cn"
CHINA = ZoneInfo("Asia/Shanghai")
ALL_YEAR = 0b1111_1111_1111


def months(*numbers: int) -> int:
    """The harvest_months bitmask: bit m-1 set for month m."""
    return sum(1 << (m - 1) for m in numbers)


# --- Categories -------------------------------------------------------------------------------

# (code, name, name_en, children)
CATEGORIES: list[tuple[str, str, str, list[tuple[str, str, str]]]] = [
    ("grain-oil", "粮油", "Grain & oil", [
        ("grain-oil.rice", "大米", "Rice"),
        ("grain-oil.tuber", "薯类", "Potatoes & tubers"),
        ("grain-oil.oil", "食用油", "Edible oil"),
        ("grain-oil.coarse", "杂粮", "Coarse grains"),
    ]),
    ("vegetable", "蔬菜", "Vegetables", [
        ("vegetable.fruiting", "茄果类", "Tomatoes & peppers"),
        ("vegetable.leafy", "叶菜类", "Leafy & cabbage vegetables"),
        ("vegetable.mushroom", "食用菌", "Mushrooms"),
        ("vegetable.dried", "干菜", "Dried vegetables"),
    ]),
    ("fruit", "水果", "Fruit", [
        ("fruit.citrus", "柑橘类", "Citrus"),
        ("fruit.plum-peach", "李/桃", "Plums & peaches"),
        ("fruit.apple", "苹果", "Apples"),
        ("fruit.kiwi", "猕猴桃", "Kiwifruit"),
    ]),
    ("meat-egg", "畜禽肉蛋", "Meat, poultry & eggs", [
        ("meat-egg.pork", "猪肉", "Pork"),
        ("meat-egg.beef-mutton", "牛羊肉", "Beef & mutton"),
        ("meat-egg.poultry", "禽肉", "Poultry"),
        ("meat-egg.egg", "禽蛋", "Eggs"),
    ]),
    ("aquatic", "水产", "Aquatic products", [
        ("aquatic.fish", "淡水鱼", "Freshwater fish"),
        ("aquatic.shrimp", "虾蟹", "Shrimp & crab"),
    ]),
    ("tea", "茶叶", "Tea", [
        ("tea.green", "绿茶", "Green tea"),
        ("tea.black", "红茶", "Black tea"),
    ]),
    ("herb", "中药材", "Medicinal herbs", [
        ("herb.root", "根茎类", "Roots & rhizomes"),
        ("herb.flower-fruit", "花果类", "Flowers & fruits"),
    ]),
    ("processed", "特色加工", "Processed specialities", [
        ("processed.cured-meat", "腊肉腌腊", "Cured meat"),
        ("processed.soy", "豆制品", "Soy products"),
        ("processed.dried-fruit", "果干果脯", "Dried fruit"),
        ("processed.honey", "蜂蜜", "Honey"),
        ("processed.snack", "休闲食品", "Snacks"),
        ("processed.coffee", "咖啡", "Coffee"),
    ]),
]


# --- Suppliers --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SupplierSeed:
    key: str
    name: str
    type: SupplierType
    county: str  # region code
    village: str  # the village it sits in (for village collectives and farmers: the only one it draws on)
    description: str
    status: SupplierStatus = SupplierStatus.APPROVED
    contact: str | None = None  # the person the supplier is named after; others get a generated name


T = SupplierType
SUPPLIERS: list[SupplierSeed] = [
    # 巫山
    SupplierSeed("wushan-plum", "巫山县曲尺乡脆李专业合作社", T.COOPERATIVE, "500237", "柑园村",
                 "曲尺乡果农联合成立，统一技术、统一分级、统一销售巫山脆李；烟台客商打开山东市场后社员扩种。"),
    SupplierSeed("wushan-orange", "巫山县恋橙果业有限公司", T.LEADING_ENTERPRISE, "500237", "权发村",
                 "“巫山恋橙”2018年12月进入烟台，此后每年在烟台举办推介活动。"),
    SupplierSeed("wushan-dangshen", "巫山县建坪乡春晓村股份经济合作社", T.VILLAGE_COLLECTIVE, "500237", "春晓村",
                 "村集体种植基地，收益按股分红给脱贫户和监测户。"),
    # 开州
    SupplierSeed("kaizhou-veg", "开州区鲁渝(寿光)蔬菜产业园有限公司", T.LEADING_ENTERPRISE, "500154", "凤凰村",
                 "鲁渝(寿光)蔬菜现代产业园：智能化温室大棚，山东专家技术支撑，“鲁渝一号”西红柿。"),
    SupplierSeed("kaizhou-zishui", "开州区紫水乡供销合作社有限责任公司", T.COOPERATIVE, "500154", "义和村",
                 "与中国法学会共建园区消费一体化示范区，以豆文化展示、豆腐制作带动农产品销售。"),
    SupplierSeed("kaizhou-citrus", "开州区向大兴柑桔家庭农场", T.FAMILY_FARM, "500154", "双河村",
                 "开州柑桔产业顾问组指导的示范家庭农场，春橙、椪柑两季上市。", contact="向大兴"),
    SupplierSeed("kaizhou-fish", "开州区汉丰湖生态渔业专业合作社", T.COOPERATIVE, "500154", "凤凰村",
                 "汉丰湖大水面生态养殖，不投饵、冬季集中起捕。"),
    # 石柱
    SupplierSeed("shizhu-coptis", "石柱县黄水镇黄连专业合作社", T.COOPERATIVE, "500240", "金花村",
                 "黄水镇黄连种植户组成，产业顾问组推进黄连产业提质增效。"),
    SupplierSeed("shizhu-rice", "石柱土家族自治县三星香米农业开发有限公司", T.LEADING_ENTERPRISE, "500240", "龙井村",
                 "中核集团定点帮扶：三星香米品牌推广暨高标准稻田建设项目。"),
    # 万州
    SupplierSeed("wanzhou-chicken", "万州区鲁渝芦花鸡养殖有限公司", T.LEADING_ENTERPRISE, "500101", "太龙村",
                 "万州“山东芦花鸡产业基地”：鲁渝协作引进芦花鸡，林下散养。"),
    # 奉节
    SupplierSeed("fengjie-mushroom", "奉节县鲁渝菌棒产业基地有限公司", T.LEADING_ENTERPRISE, "500236", "八阵村",
                 "奉节“鲁渝东西协作菌棒产业基地”：菌棒生产和香菇种植，常年出菇。"),
    SupplierSeed("fengjie-navel", "奉节县坪上村脐橙家庭农场", T.FAMILY_FARM, "500236", "坪上村",
                 "白帝镇坪上村脐橙园，驻村第一书记帮助对接三峡集团“三峡e购”平台。"),
    # 黔江
    SupplierSeed("qianjiang-kiwi", "黔江区濯水镇猕猴桃专业合作社", T.COOPERATIVE, "500114", "蒲花村",
                 "红心猕猴桃基地，冷库分级储藏。"),
    SupplierSeed("qianjiang-pork", "黔江区蒲花村生态养殖家庭农场", T.FAMILY_FARM, "500114", "蒲花村",
                 "中信集团“保险+期货”项目参保养殖场，饲料成本有保障。"),
    # 武隆
    SupplierSeed("wulong-veg", "武隆区仙女山高山蔬菜专业合作社", T.COOPERATIVE, "500156", "石梁子社区",
                 "海拔1200米以上的高山蔬菜基地，夏秋错季上市。"),
    # 城口
    SupplierSeed("chengkou-bacon", "城口县岚天乡腊味食品有限公司", T.LEADING_ENTERPRISE, "500229", "岚溪村",
                 "收购农户生猪，柴火烟熏，传统工艺制作城口老腊肉。"),
    SupplierSeed("chengkou-honey", "谭秀英（城口县岚天乡养蜂户）", T.FARMER, "500229", "岚溪村",
                 "大巴山中华蜜蜂，自家蜂箱一年取蜜一次。", contact="谭秀英"),
    # 丰都
    SupplierSeed("fengdu-beef", "丰都县三建乡肉牛养殖专业合作社", T.COOPERATIVE, "500230", "夜力坪村",
                 "肉牛养殖和牛肉干加工，吸纳脱贫户务工。"),
    SupplierSeed("fengdu-collective", "丰都县三建乡夜力坪村股份经济合作社", T.VILLAGE_COLLECTIVE, "500230", "夜力坪村",
                 "新登记的村集体经济组织，等待认定。", SupplierStatus.PENDING),
    # 云阳
    SupplierSeed("yunyang-orange", "云阳县清水土家族乡岩门村股份经济合作社", T.VILLAGE_COLLECTIVE, "500235", "岩门村",
                 "村集体果园，中国进出口银行“农业企业贷款贴息项目”支持。"),
    # 巫溪
    SupplierSeed("wuxi-potato", "巫溪县红池坝镇茶山村洋芋家庭农场", T.FAMILY_FARM, "500238", "茶山村",
                 "高山洋芋种植，代种代收周边脱贫户的洋芋。"),
    # 秀山
    SupplierSeed("xiushan-egg", "秀山县隘口镇富裕村土鸡养殖专业合作社", T.COOPERATIVE, "500241", "富裕村",
                 "林下散养土鸡，统一防疫、统一收蛋。"),
    SupplierSeed("xiushan-tea", "秀山土家族苗族自治县隘口毛尖茶业有限公司", T.LEADING_ENTERPRISE, "500241", "富裕村",
                 "隘口镇茶园，订单收购农户鲜叶。"),
    # 酉阳
    SupplierSeed("youyang-rice", "酉阳县花田乡何家岩村股份经济合作联合社", T.VILLAGE_COLLECTIVE, "500242", "何家岩村",
                 "花田梯田贡米，通过“酉好货—致公电商扶贫平台”卖出酉阳。"),
    SupplierSeed("youyang-oil", "酉阳县油茶产业发展有限公司", T.LEADING_ENTERPRISE, "500242", "何家岩村",
                 "油茶基地和冷榨茶油加工，产品上架“酉好货”。"),
    # 山西
    SupplierSeed("yunzhou-daylily", "大同市云州区坊城新村黄花专业合作社", T.COOPERATIVE, "140215", "坊城新村",
                 "云州黄花产业强县的合作社，统一采摘、蒸制、晾晒。"),
    SupplierSeed("youyu-mutton", "右玉县玉羊肉业有限公司", T.LEADING_ENTERPRISE, "140623", "西窑村",
                 "右玉羊肉屠宰分割和冷链，订单收购养殖户活羊。"),
    SupplierSeed("jixian-apple", "吉县太度村苹果家庭农场", T.FAMILY_FARM, "141028", "太度村",
                 "吉县苹果标准化果园，有机旱作。"),
    # 云南 会泽
    SupplierSeed("huize-potato", "会泽县大海乡二荒箐村马铃薯专业合作社", T.COOPERATIVE, "530326", "二荒箐村",
                 "高海拔冷凉地区马铃薯，龙头企业绑定合作社、合作社绑定脱贫户的“双绑”机制。"),
    # 陕西 洛川
    SupplierSeed("luochuan-apple", "洛川县谷咀村苹果专业合作社", T.COOPERATIVE, "610629", "谷咀村",
                 "洛川苹果产业扶贫范例中的合作社，统一冷库储藏。"),
    # 江西 寻乌
    SupplierSeed("xunwu-navel", "寻乌县澄江镇谢屋村脐橙家庭农场", T.FAMILY_FARM, "360734", "谢屋村",
                 "赣南脐橙产区的家庭农场。"),
    SupplierSeed("xunwu-passion", "寻乌县澄江镇百香果家庭农场", T.FAMILY_FARM, "360734", "谢屋村",
                 "新申请入驻，资料审核中。", SupplierStatus.PENDING),
    # 甘肃 定西
    SupplierSeed("dingxi-potato", "定西市安定区马铃薯产业开发有限公司", T.LEADING_ENTERPRISE, "621102", "中庄村",
                 "定西马铃薯种薯繁育和商品薯销售。"),
    # 山东 寿光 (鲁菜进渝)
    SupplierSeed("shouguang-veg", "寿光市孙家集街道三元朱村蔬菜专业合作社", T.COOPERATIVE, "370783", "三元朱村",
                 "“鲁菜进渝”：寿光冬暖式大棚蔬菜直供重庆“菜篮子”。"),
]

# How the licence number starts (登记管理部门 + 机构类别 of GB 32100).
_LICENCE_PREFIX = {
    T.LEADING_ENTERPRISE: "91",  # 工商 · 企业
    T.COOPERATIVE: "93",  # 工商 · 农民专业合作社
    T.FAMILY_FARM: "92",  # 工商 · 个体工商户
    T.FARMER: "92",
    T.VILLAGE_COLLECTIVE: "N2",  # 农业农村 · 村级集体经济组织
}
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def licence_number(supplier_type: SupplierType, county_code: str, serial: int) -> str:
    """An 18-character 统一社会信用代码 with valid check characters (GB 32100-2015, GB 11714)."""
    body = "MA"
    for _ in range(6):
        serial, digit = divmod(serial, len(_USCC_CHARS))
        body += _USCC_CHARS[digit]
    org_sum = sum(_USCC_CHARS.index(c) * w for c, w in zip(body, _ORG_WEIGHTS, strict=True))
    org_check = {10: "X", 11: "0"}.get(11 - org_sum % 11, str(11 - org_sum % 11))
    code17 = _LICENCE_PREFIX[supplier_type] + county_code + body + org_check
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(code17, _USCC_WEIGHTS, strict=True))
    return code17 + _USCC_CHARS[(31 - total % 31) % 31]


def _stable_int(text: str) -> int:
    """A number that depends only on ``text``: natural keys must not change with --random-seed."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


# --- Products ---------------------------------------------------------------------------------

C = Certification


@dataclass(frozen=True)
class ProductSeed:
    supplier: str  # SupplierSeed.key
    name: str
    category: str
    village: str
    sales_unit: str
    specification: str
    price_fen: int
    shelf_life_days: int
    harvest_months: int
    certifications: tuple[Certification, ...]
    stock: int  # sales units in stock when in season
    popularity: int  # relative weight in the demo orders
    description: str
    min_order_qty: int = 1
    # A glut: a big lot close to its expiry date and almost no sales lately (滞销), for the early-warning job.
    glut: bool = False


PRODUCTS: list[ProductSeed] = [
    ProductSeed("wushan-plum", "巫山脆李", "fruit.plum-peach", "柑园村", "箱", "5斤/箱 单果25g以上", 8800, 15,
                months(6, 7, 8), (C.GEOGRAPHICAL_INDICATION, C.GREEN), 400, 40,
                "小满过后开始预售的“金果果”，果肉脆嫩、汁多化渣，冷链发货。"),
    ProductSeed("wushan-plum", "巫山脆李果脯", "processed.dried-fruit", "柑园村", "袋", "250g/袋", 2990, 270,
                months(7, 8), (), 600, 12, "用当季巫山脆李低糖腌制烘干，酸甜适口。"),
    ProductSeed("wushan-orange", "巫山恋橙", "fruit.citrus", "权发村", "箱", "5kg/箱 果径75-85mm", 6980, 60,
                months(12, 1, 2, 3), (C.GREEN,), 500, 30, "长江三峡库区晚熟脐橙，2018年12月起远销烟台。"),
    ProductSeed("wushan-dangshen", "巫山庙党", "herb.root", "春晓村", "袋", "250g/袋 干品", 6800, 730,
                months(9, 10, 11), (C.GEOGRAPHICAL_INDICATION,), 300, 6, "建坪乡高山种植的党参，切段晒干。"),
    ProductSeed("kaizhou-veg", "鲁渝一号西红柿", "vegetable.fruiting", "凤凰村", "箱", "5斤/箱", 3990, 10,
                ALL_YEAR, (C.GREEN,), 1200, 25,
                "鲁渝(寿光)蔬菜现代产业园智能温室出产，个个浑圆饱满、滋味香醇。", glut=True),
    ProductSeed("kaizhou-zishui", "紫水豆干", "processed.soy", "义和村", "袋", "500g/袋 五香味", 1980, 90,
                ALL_YEAR, (), 800, 14, "紫水乡传统手工豆腐压制卤制，真空包装。"),
    ProductSeed("kaizhou-citrus", "开州春橙", "fruit.citrus", "双河村", "箱", "5kg/箱", 5980, 45,
                months(3, 4, 5), (C.GEOGRAPHICAL_INDICATION,), 450, 22, "晚熟春橙，三月至五月挂树留鲜采摘。"),
    ProductSeed("kaizhou-citrus", "开州柑桔", "fruit.citrus", "双河村", "箱", "5kg/箱 椪柑", 4580, 40,
                months(11, 12, 1), (), 500, 24, "开州区柑桔产业重点品种，皮薄易剥。"),
    ProductSeed("kaizhou-fish", "汉丰湖生态鱼", "aquatic.fish", "凤凰村", "条", "约2kg/条 冷冻胖头鱼", 6800, 180,
                months(11, 12, 1), (), 200, 6, "汉丰湖大水面冬捕，宰杀后速冻。"),
    ProductSeed("shizhu-coptis", "石柱黄连", "herb.root", "金花村", "袋", "500g/袋 干品 鸡爪连", 16800, 730,
                months(10, 11), (C.GEOGRAPHICAL_INDICATION,), 250, 10, "黄水镇五年生黄连，秋季采挖、炕干去须。"),
    ProductSeed("shizhu-rice", "三星香米", "grain-oil.rice", "龙井村", "袋", "5kg/袋 当季新米", 7990, 365,
                months(9, 10), (C.GREEN,), 600, 26, "三星乡高标准稻田种植，中核集团帮扶打造的香米品牌。"),
    ProductSeed("wanzhou-chicken", "万州芦花鸡", "meat-egg.poultry", "太龙村", "只", "约1.5kg/只 冷冻整鸡", 12800,
                180, ALL_YEAR, (), 300, 16, "山东芦花鸡产业基地林下散养一年以上，宰杀后速冻。"),
    ProductSeed("fengjie-mushroom", "奉节鲜香菇", "vegetable.mushroom", "八阵村", "箱", "2.5kg/箱 鲜品", 4500, 7,
                ALL_YEAR, (), 600, 18, "鲁渝东西协作菌棒产业基地当日采摘，冷链发货。", glut=True),
    ProductSeed("fengjie-mushroom", "奉节干香菇", "vegetable.mushroom", "八阵村", "袋", "500g/袋 花菇", 8800, 365,
                months(10, 11, 12, 1, 2, 3, 4), (), 350, 14, "冬春季花菇低温烘干，肉厚味浓。"),
    ProductSeed("fengjie-navel", "奉节脐橙", "fruit.citrus", "坪上村", "箱", "5kg/箱 果径80mm以上", 6990, 60,
                months(11, 12, 1, 2), (C.GEOGRAPHICAL_INDICATION,), 500, 34, "白帝城下的脐橙，上架“三峡e购”。"),
    ProductSeed("qianjiang-kiwi", "黔江猕猴桃", "fruit.kiwi", "蒲花村", "箱", "3kg/箱 红心 约30枚", 7800, 60,
                months(9, 10), (C.GEOGRAPHICAL_INDICATION,), 400, 16, "红心猕猴桃，冷库储藏，收到后放软食用。"),
    ProductSeed("qianjiang-pork", "黔江土猪肉", "meat-egg.pork", "蒲花村", "份", "1kg/份 冷鲜五花肉", 6800, 7,
                ALL_YEAR, (), 300, 10, "粮食喂养一年出栏的土猪，冷鲜配送。", glut=True),
    ProductSeed("wulong-veg", "武隆高山甘蓝", "vegetable.leafy", "石梁子社区", "箱", "10斤/箱", 2980, 20,
                months(7, 8, 9, 10), (C.GREEN,), 600, 12, "仙女山高山错季蔬菜，清甜脆嫩。", min_order_qty=2),
    ProductSeed("chengkou-bacon", "城口老腊肉", "processed.cured-meat", "岚溪村", "袋", "500g/袋 柴火烟熏", 8800,
                365, months(12, 1, 2), (C.GEOGRAPHICAL_INDICATION,), 500, 28, "大巴山深处柴火慢熏，冬至前后制作。"),
    ProductSeed("chengkou-honey", "城口土蜂蜜", "processed.honey", "岚溪村", "瓶", "500g/瓶 中华蜜蜂百花蜜", 9800,
                730, months(9, 10), (), 120, 8, "大巴山中蜂百花蜜，一年只取一次成熟蜜。"),
    ProductSeed("fengdu-beef", "丰都麻辣牛肉干", "processed.snack", "夜力坪村", "袋", "200g/袋", 4280, 270,
                ALL_YEAR, (), 700, 18, "黄牛后腿肉手工撕条，麻辣味。"),
    ProductSeed("yunyang-orange", "云阳红橙", "fruit.citrus", "岩门村", "箱", "5kg/箱", 5580, 45,
                months(12, 1, 2), (), 400, 14, "村集体果园出产的红橙，果肉橙红、酸甜适中。"),
    ProductSeed("wuxi-potato", "巫溪洋芋", "grain-oil.tuber", "茶山村", "袋", "10斤/袋 黄心洋芋", 2590, 90,
                months(7, 8, 9), (), 800, 14, "红池坝高山洋芋，黄心粉糯。", min_order_qty=2),
    ProductSeed("xiushan-egg", "秀山土鸡蛋", "meat-egg.egg", "富裕村", "盒", "30枚/盒", 4800, 30,
                ALL_YEAR, (), 400, 26, "林下散养土鸡所产，每枚约45g。"),
    ProductSeed("xiushan-tea", "秀山毛尖", "tea.green", "富裕村", "盒", "250g/盒 明前", 16800, 540,
                months(3, 4), (C.ORGANIC,), 200, 8, "隘口镇高山茶园明前采摘，一芽一叶。"),
    ProductSeed("youyang-rice", "花田贡米", "grain-oil.rice", "何家岩村", "袋", "5kg/袋", 9900, 365,
                months(9, 10), (C.GREEN,), 500, 18, "何家岩梯田稻米，“酉好货—致公电商扶贫平台”热销。"),
    ProductSeed("youyang-oil", "酉阳茶油", "grain-oil.oil", "何家岩村", "瓶", "1L/瓶 冷榨山茶油", 15800, 540,
                months(10, 11), (C.ORGANIC,), 300, 10, "霜降后采摘油茶果，物理冷榨。"),
    ProductSeed("yunzhou-daylily", "云州黄花", "vegetable.dried", "坊城新村", "袋", "500g/袋 干黄花菜", 4580, 365,
                months(6, 7, 8), (C.GEOGRAPHICAL_INDICATION,), 600, 22, "大同云州区火山土种植，清晨采摘、蒸制晾晒。"),
    ProductSeed("youyu-mutton", "右玉羊肉", "meat-egg.beef-mutton", "西窑村", "份", "2kg/份 冷冻羊排", 19800, 180,
                ALL_YEAR, (C.GEOGRAPHICAL_INDICATION,), 300, 16, "右玉放牧羔羊，分割后速冻。"),
    ProductSeed("jixian-apple", "吉县苹果", "fruit.apple", "太度村", "箱", "5kg/箱 红富士 果径80mm", 7800, 150,
                months(10, 11), (C.GEOGRAPHICAL_INDICATION,), 600, 30, "吉县有机旱作苹果，冷库储藏至来年春天。"),
    ProductSeed("huize-potato", "会泽马铃薯", "grain-oil.tuber", "二荒箐村", "袋", "10斤/袋", 2380, 90,
                months(8, 9, 10), (), 700, 12, "大海乡高海拔冷凉地区种植。", min_order_qty=2),
    ProductSeed("luochuan-apple", "洛川苹果", "fruit.apple", "谷咀村", "箱", "5kg/箱 红富士 果径85mm", 8800, 150,
                months(9, 10, 11), (C.GEOGRAPHICAL_INDICATION, C.GREEN), 700, 34, "黄土高原洛川塬上的红富士。"),
    ProductSeed("xunwu-navel", "赣南脐橙（寻乌）", "fruit.citrus", "谢屋村", "箱", "5kg/箱", 6880, 60,
                months(11, 12, 1), (C.GEOGRAPHICAL_INDICATION,), 600, 34, "寻乌澄江镇脐橙，树上挂果到11月中旬采摘。"),
    ProductSeed("dingxi-potato", "定西马铃薯", "grain-oil.tuber", "中庄村", "袋", "10kg/袋 新大坪", 3980, 120,
                months(8, 9, 10), (C.GEOGRAPHICAL_INDICATION,), 800, 16, "“中国马铃薯之乡”出产，淀粉含量高。"),
    ProductSeed("shouguang-veg", "寿光蔬菜礼盒", "vegetable.fruiting", "三元朱村", "箱", "8斤/箱 彩椒黄瓜西红柿组合",
                6980, 10, ALL_YEAR, (C.GREEN,), 300, 12, "三元朱村冬暖式大棚蔬菜组合，“鲁菜进渝”。"),
]

# Demo consumers: (e-mail, name, county code of the address, address). The first is core's.
CONSUMERS: list[tuple[str, str, str, str]] = [
    (CONSUMER_EMAIL, "张晓梅", "500103", "重庆市渝中区解放碑街道民族路168号12-3"),
    ("consumer2@demo.fupin.cn", "李国华", "500105", "重庆市江北区观音桥街道建新北路66号5-2"),
    ("consumer3@demo.fupin.cn", "王秀英", "500112", "重庆市渝北区龙溪街道金山路18号3-1-6"),
    ("consumer4@demo.fupin.cn", "刘建军", "110101", "北京市东城区东四北大街107号院3号楼501"),
    ("consumer5@demo.fupin.cn", "陈春霞", "110102", "北京市西城区西直门内大街32号1号楼1203"),
    ("consumer6@demo.fupin.cn", "杨志明", "370602", "山东省烟台市芝罘区南大街88号2单元402"),
]
DEMO_ORDERS = 360
DEMO_ORDER_KEY = "demo-"  # idempotency keys of the demo orders: demo-0000 ... demo-0359
CARRIERS = (("顺丰速运", "SF"), ("中国邮政", "YZ"), ("京东物流", "JD"), ("中通快递", "ZT"))
_STAGE_KEYS = ("status", "paid_at", "shipped_at", "received_at", "completed_at", "cancelled_at")

_LINK_TYPES = {
    T.LEADING_ENTERPRISE: (LinkType.ORDER_PURCHASE, LinkType.EMPLOYMENT, LinkType.GUARANTEED_DIVIDEND,
                           LinkType.LAND_TRANSFER),
    T.COOPERATIVE: (LinkType.EQUITY_COOPERATION, LinkType.ORDER_PURCHASE, LinkType.GUARANTEED_DIVIDEND,
                    LinkType.CONTRACT_FARMING),
    T.FAMILY_FARM: (LinkType.EMPLOYMENT, LinkType.LAND_TRANSFER, LinkType.CONTRACT_FARMING),
    T.VILLAGE_COLLECTIVE: (LinkType.GUARANTEED_DIVIDEND, LinkType.EQUITY_COOPERATION),
    T.FARMER: (LinkType.ORDER_PURCHASE,),
}
_LINK_COUNT = {
    T.LEADING_ENTERPRISE: (8, 12), T.COOPERATIVE: (6, 10), T.FAMILY_FARM: (3, 5),
    T.VILLAGE_COLLECTIVE: (8, 12), T.FARMER: (1, 1),
}


# --- The realistic seed -----------------------------------------------------------------------


def _regions(ctx: SeedContext) -> dict[str, Region]:
    regions = ctx.made.get("regions")
    if regions is None:
        regions = {r.code: r for r in db.session.execute(sa.select(Region)).scalars()}
        ctx.made["regions"] = regions
    return regions


def _village(regions: dict[str, Region], county_code: str, name: str) -> Region:
    for region in regions.values():
        if region.level == RegionLevel.VILLAGE and region.code.startswith(county_code) and region.name == name:
            return region
    raise LookupError(f"no village {name} in county {county_code} (add it to core.demo_core.VILLAGES)")


def _seed_categories(ctx: SeedContext) -> dict[str, Category]:
    made: dict[str, Category] = {}
    for position, (code, name, name_en, children) in enumerate(CATEGORIES):
        parent, created = upsert(Category, {"code": code},
                                 {"name": name, "name_en": name_en, "parent_id": None, "position": position})
        ctx.count("categories", int(created))
        made[code] = parent
        for child_position, (child_code, child_name, child_en) in enumerate(children):
            child, created = upsert(Category, {"code": child_code}, {
                "name": child_name, "name_en": child_en, "parent_id": parent.id, "position": child_position})
            ctx.count("categories", int(created))
            made[child_code] = child
    return made


def _seed_suppliers(ctx: SeedContext, regions: dict[str, Region], now: datetime) -> dict[str, Supplier]:
    made: dict[str, Supplier] = {}
    for spec in SUPPLIERS:
        county = regions[spec.county]
        rng = ctx.rng_for(f"supplier:{spec.key}")
        if spec.status == SupplierStatus.APPROVED:
            accredited = datetime(2019, 3, 1, 2, tzinfo=UTC) + timedelta(days=rng.randint(0, 5 * 365),
                                                                        minutes=rng.randint(0, 600))
            created_at = accredited - timedelta(days=rng.randint(3, 20), minutes=rng.randint(0, 600))
        else:
            accredited = None
            created_at = now - timedelta(days=rng.randint(1, 6), minutes=rng.randint(0, 600))
        supplier, created = upsert(
            Supplier,
            {"licence_number": licence_number(spec.type, spec.county, _stable_int(spec.name))},
            {"name": spec.name, "type": spec.type, "county_id": county.id, "description": spec.description},
            on_create={"contact_name": spec.contact or person_name(rng), "contact_phone": mobile_number(rng),
                       "status": spec.status,
                       "created_at": created_at, "accredited_at": accredited},
        )
        ctx.count("suppliers", int(created))
        made[spec.key] = supplier
    owner = ensure_user(ctx, SUPPLIER_EMAIL, "冉春霞", Role.SUPPLIER)
    plum = made["wushan-plum"]
    if db.session.get(SupplierMember, owner.id) is None:
        db.session.add(SupplierMember(user_id=owner.id, supplier_id=plum.id, is_owner=True,
                                      joined_at=plum.accredited_at or now))
        ctx.count("supplier members", 1)
    return made


def _seed_links(ctx: SeedContext, suppliers: dict[str, Supplier], regions: dict[str, Region],
                now: datetime) -> None:
    linked = set(db.session.execute(sa.select(HouseholdLink.supplier_id).distinct()).scalars())
    village_code = {r.id: r.code for r in regions.values() if r.level == RegionLevel.VILLAGE}
    by_county: dict[str, list[int]] = {}
    by_village: dict[int, list[int]] = {}
    for household_id, village_id in db.session.execute(
        sa.select(Household.id, Household.village_id).order_by(Household.id)
    ):
        if village_id in village_code:
            by_county.setdefault(village_code[village_id][:6], []).append(household_id)
            by_village.setdefault(village_id, []).append(household_id)
    # Links start on fixed dates, not relative to today, so that a rerun draws the same ones.
    latest_start = date(2025, 6, 30)
    today = now.astimezone(CHINA).date()
    rows = []
    for spec in SUPPLIERS:
        supplier = suppliers[spec.key]
        if supplier.id in linked:
            continue  # a supplier's links are declared once; reruns must not add a second set
        rng = ctx.rng_for(f"links:{spec.key}")
        own_village = _village(regions, spec.county, spec.village)
        narrow = spec.type in (T.VILLAGE_COLLECTIVE, T.FARMER)
        pool = by_village.get(own_village.id, []) if narrow else by_county.get(spec.county, [])
        low, high = _LINK_COUNT[spec.type]
        chosen = rng.sample(pool, min(len(pool), rng.randint(low, high)))
        first_day = (supplier.accredited_at or supplier.created_at).date()
        last_day = max(first_day, latest_start)
        total = 0
        for household_id in chosen:
            share = 10_000 if spec.type == T.FARMER else rng.randint(3, 12) * 100
            if total + share > 9_000 and spec.type != T.FARMER:
                break
            total += share
            started = first_day + timedelta(days=rng.randint(0, (last_day - first_day).days))
            rows.append({"supplier_id": supplier.id, "household_id": household_id,
                         "link_type": rng.choice(_LINK_TYPES[spec.type]), "started_on": started,
                         "ended_on": None, "benefit_share_bp": share, "status": LinkStatus.ACTIVE,
                         "challenge_note": None,
                         "created_at": datetime.combine(started, datetime.min.time(), CHINA).astimezone(UTC)})
        # One ended link (history) and one an administrator questions, so both screens have something.
        if spec.key == "kaizhou-veg" and rows:
            rows[-1].update(status=LinkStatus.ENDED,
                            ended_on=min(today, rows[-1]["started_on"] + timedelta(days=400)))
        if spec.key == "kaizhou-zishui" and rows:
            rows[-1].update(status=LinkStatus.CHALLENGED,
                            challenge_note="该户已外出务工，未实际参与订单收购，待乡镇核实。")
    if rows:
        db.session.execute(sa.insert(HouseholdLink), rows)
        ctx.count("household links", len(rows))


def _last_harvest_day(harvest_months: int, today: date) -> date:
    """The latest day on or before ``today`` in a harvest month."""
    day = today
    for _ in range(366):
        if harvest_months & (1 << (day.month - 1)):
            return day
        day = day.replace(day=1) - timedelta(days=1)  # jump to the end of the previous month
    return today


def _plan_lots(spec: ProductSeed, rng, today: date) -> list[tuple[date, int, int]]:
    """The product's stock lots today: (produced_on, quantity, remaining)."""
    shelf = spec.shelf_life_days
    if spec.glut:
        # A big lot a few days from its expiry date that has barely sold.
        produced = today - timedelta(days=shelf - rng.randint(1, min(3, shelf - 1)))
        return [(produced, spec.stock + rng.randint(5, 30), spec.stock)]
    last = _last_harvest_day(spec.harvest_months, today)
    if last == today:
        # In season (or made all year): a fresh lot and an older one sold first (FEFO).
        older = today - timedelta(days=rng.randint(2, max(2, min(shelf // 2, 12))))
        fresh = today - timedelta(days=rng.randint(0, 1))
        older_left = spec.stock * rng.randint(2, 4) // 10
        return [(older, spec.stock, older_left), (fresh, spec.stock, spec.stock - older_left)]
    produced = last - timedelta(days=rng.randint(0, 10))
    if produced + timedelta(days=shelf) < today:
        return [(produced, spec.stock, 0)]  # the last harvest is sold or gone: out of stock until the next one
    left = spec.stock * rng.randint(2, 6) // 10
    return [(produced, spec.stock, max(left, 1))]


def _certificate_number(kind: Certification, key: str) -> str:
    n = _stable_int(f"{kind}:{key}")
    if kind == C.GEOGRAPHICAL_INDICATION:
        return f"AGI{n % 100_000:05d}"
    if kind == C.GREEN:
        return f"LB-{n % 90 + 10}-{n % 10_000_000_000:010d}A"
    return f"{n % 1000:03d}OP{n % 10_000_000:07d}"


def _seed_products(ctx: SeedContext, suppliers: dict[str, Supplier], categories: dict[str, Category],
                   regions: dict[str, Region], now: datetime) -> dict[str, Product]:
    today = now.astimezone(CHINA).date()
    made: dict[str, Product] = {}
    lots = []
    certs = []
    for spec in PRODUCTS:
        supplier = suppliers[spec.supplier]
        supplier_spec = next(s for s in SUPPLIERS if s.key == spec.supplier)
        village = _village(regions, supplier_spec.county, spec.village)
        rng = ctx.rng_for(f"product:{spec.supplier}:{spec.name}")
        plan = _plan_lots(spec, rng, today)
        listed_at = (supplier.accredited_at or now) + timedelta(days=rng.randint(10, 60), minutes=rng.randint(0, 900))
        product, created = upsert(
            Product, {"supplier_id": supplier.id, "name": spec.name},
            {"category_id": categories[spec.category].id, "origin_village_id": village.id,
             "origin_county_id": regions[supplier_spec.county].id, "description": spec.description,
             "sales_unit": spec.sales_unit, "specification": spec.specification,
             "min_order_qty": spec.min_order_qty, "shelf_life_days": spec.shelf_life_days,
             "harvest_months": spec.harvest_months},
            on_create={"price_fen": spec.price_fen, "status": ProductStatus.LISTED,
                       "stock": sum(remaining for _, _, remaining in plan),
                       "created_at": listed_at - timedelta(days=rng.randint(1, 3)), "updated_at": listed_at,
                       "listed_at": listed_at},
        )
        made[f"{spec.supplier}:{spec.name}"] = product
        if not created:
            continue
        ctx.count("products", 1)
        for produced, quantity, remaining in plan:
            lots.append({"product_id": product.id, "quantity": quantity, "remaining": remaining,
                         "produced_on": produced, "expires_on": produced + timedelta(days=spec.shelf_life_days),
                         "created_at": datetime.combine(produced, datetime.min.time(), CHINA).astimezone(UTC)
                         + timedelta(hours=rng.randint(8, 18))})
        for kind in spec.certifications:
            certs.append({"product_id": product.id, "kind": kind,
                          "certificate_number": _certificate_number(kind, f"{spec.supplier}:{spec.name}")})
    if lots:
        db.session.execute(sa.insert(ProductLot), lots)
        ctx.count("product lots", len(lots))
    if certs:
        db.session.execute(sa.insert(ProductCertification), certs)
        ctx.count("product certifications", len(certs))
    return made


def _available_days(spec: ProductSeed, first: date, last: date) -> set[date]:
    """The days on which the product had stock: within its shelf life after a harvest day."""
    days = set()
    last_harvest = None
    day = first - timedelta(days=spec.shelf_life_days)
    while day <= last:
        if spec.harvest_months & (1 << (day.month - 1)):
            last_harvest = day
        if day >= first and last_harvest is not None and (day - last_harvest).days <= spec.shelf_life_days:
            days.add(day)
        day += timedelta(days=1)
    return days


_MINUTE, _HOUR, _DAY = 60, 3600, 86400


def lifecycle(rand, created: datetime, now: datetime, *, unpaid: bool = False, refund_rate: float = 0.0) -> tuple:
    """(status, paid, shipped, received, completed, cancelled) of a sub-order placed at ``created``,
    as far as ``now`` lets it get. ``rand`` is a generator's random(): the scale path calls this a
    million times, so it draws floats instead of going through randint.
    """
    if unpaid:
        # Never paid: closed when the payment window ran out.
        return OrderStatus.CANCELLED, None, None, None, None, created + timedelta(minutes=30)
    paid = created + timedelta(seconds=_MINUTE + rand() * 19 * _MINUTE)
    shipped = paid + timedelta(seconds=4 * _HOUR + rand() * 36 * _HOUR)
    received = shipped + timedelta(seconds=_DAY + rand() * 3 * _DAY)
    completed = received + timedelta(seconds=2 * _HOUR + rand() * 7 * _DAY)  # confirmed by the buyer, or after 7 days
    if completed <= now:
        if refund_rate and rand() < refund_rate:
            return OrderStatus.REFUNDED, paid, shipped, received, None, None
        return OrderStatus.COMPLETED, paid, shipped, received, completed, None
    if received <= now:
        return OrderStatus.RECEIVED, paid, shipped, received, None, None
    if shipped <= now:
        return OrderStatus.SHIPPED, paid, shipped, None, None, None
    return OrderStatus.PAID, paid, None, None, None, None


def _seed_orders(ctx: SeedContext, products: dict[str, Product], regions: dict[str, Region],
                 now: datetime) -> None:
    buyers = []
    for email, name, county, address in CONSUMERS:
        user = ensure_user(ctx, email, name, Role.CONSUMER)
        buyers.append((user, name, mobile_number(ctx.rng_for(f"phone:{email}")), address, regions[county].id))
    have = set(db.session.execute(
        sa.select(Order.idempotency_key).where(Order.buyer_id.in_([b[0].id for b in buyers]),
                                               Order.idempotency_key.startswith(DEMO_ORDER_KEY))
    ).scalars())
    if len(have) >= DEMO_ORDERS:
        return
    rng = ctx.rng_for("orders")
    today = now.astimezone(CHINA).date()
    first = today - timedelta(days=364)
    specs = {f"{p.supplier}:{p.name}": p for p in PRODUCTS}
    available = {key: _available_days(spec, first, today) for key, spec in specs.items()}
    # Orders happen in Beijing daytime; sorted so that the numbers run with time.
    placed = []
    for _ in range(DEMO_ORDERS):
        moment = (datetime.combine(first + timedelta(days=rng.randrange(365)), datetime.min.time(), CHINA)
                  + timedelta(hours=rng.randint(7, 22), minutes=rng.randrange(60), seconds=rng.randrange(60)))
        if moment > now:
            moment -= timedelta(days=1)  # later today has not happened yet
        placed.append(moment.astimezone(UTC))
    placed.sort()
    sold: dict[str, int] = {}
    pending = []  # (order row, [(supplier_id, sub-order row, [line rows])])
    for i, created in enumerate(placed):
        key = f"{DEMO_ORDER_KEY}{i:04d}"
        local_day = created.astimezone(CHINA).date()
        recent = (today - local_day).days < 21
        choices = [k for k in specs if local_day in available[k]]
        weights = [specs[k].popularity * (0.04 if recent and specs[k].glut else 1) for k in choices]
        picks = [rng.choices(choices, weights=weights)[0]]
        for _ in range(rng.choices((0, 1, 2), weights=(55, 30, 15))[0]):
            # Half the time the next product comes from the same supplier's shelf.
            same = [k for k in choices if specs[k].supplier == specs[picks[0]].supplier]
            pick = rng.choice(same) if rng.random() < 0.5 else rng.choices(choices, weights=weights)[0]
            if pick not in picks:
                picks.append(pick)
        buyer, name, phone, address, region_id = buyers[rng.randrange(len(buyers))]
        by_supplier: dict[int, list[dict]] = {}
        for pick in picks:
            spec, product = specs[pick], products[pick]
            quantity = max(spec.min_order_qty, rng.choices((1, 2, 3, 5), weights=(70, 20, 7, 3))[0])
            price = spec.price_fen
            if (today - local_day).days > 60 and rng.random() < 0.15:
                price = price * rng.choice((90, 95, 105)) // 1000 * 10  # an earlier season's price, whole jiao
            by_supplier.setdefault(product.supplier_id, []).append({
                "product_id": product.id, "product_name": product.name, "quantity": quantity,
                "unit_price_fen": price, "amount_fen": quantity * price, "refunded_quantity": 0,
                "created_at": created, "_key": pick})
        subs = []
        unpaid = rng.random() < 0.02  # an unpaid checkout is cancelled as a whole
        for supplier_id, lines in by_supplier.items():
            stage = dict(zip(_STAGE_KEYS, lifecycle(rng.random, created, now, unpaid=unpaid), strict=True))
            carrier, prefix = CARRIERS[rng.randrange(len(CARRIERS))]
            shipped = stage["shipped_at"] is not None
            subs.append((supplier_id, {
                "supplier_id": supplier_id, "subtotal_fen": sum(line["amount_fen"] for line in lines),
                "carrier": carrier if shipped else None,
                "tracking_number": f"{prefix}{rng.randrange(10**11, 10**12)}" if shipped else None, **stage,
            }, lines))
            if stage["status"] != OrderStatus.CANCELLED and key not in have:
                for line in lines:
                    sold[line["_key"]] = sold.get(line["_key"], 0) + line["quantity"]
        order = {"number": f"D{created.astimezone(CHINA):%Y%m%d}{i:04d}", "kind": OrderKind.CONSUMER,
                 "buyer_id": buyer.id, "idempotency_key": key,
                 "total_fen": sum(sub[1]["subtotal_fen"] for sub in subs), "recipient_name": name,
                 "recipient_phone": phone, "address": address, "address_region_id": region_id,
                 "referral_code": None, "created_at": created, "payment_due_at": created + timedelta(minutes=30)}
        if key not in have:  # decided after drawing, so that every order is drawn the same on each run
            pending.append((order, subs))
    if not pending:
        return
    order_ids = db.session.execute(
        sa.insert(Order).returning(Order.id, sort_by_parameter_order=True), [o for o, _ in pending]
    ).scalars().all()
    sub_rows = [{"order_id": order_id, **sub} for order_id, (_, subs) in zip(order_ids, pending, strict=True)
                for _, sub, _ in subs]
    sub_ids = db.session.execute(
        sa.insert(SubOrder).returning(SubOrder.id, sort_by_parameter_order=True), sub_rows
    ).scalars().all()
    line_rows = []
    sub_lines = [lines for _, subs in pending for _, _, lines in subs]
    for sub_id, lines in zip(sub_ids, sub_lines, strict=True):
        line_rows.extend({k: v for k, v in line.items() if k != "_key"} | {"sub_order_id": sub_id} for line in lines)
    db.session.execute(sa.insert(OrderLine), line_rows)
    for key, quantity in sold.items():
        products[key].sold_quantity += quantity
    ctx.count("orders", len(order_ids))
    ctx.count("sub-orders", len(sub_ids))
    ctx.count("order lines", len(line_rows))


def seed_shop(ctx: SeedContext) -> None:
    now = utcnow()
    regions = _regions(ctx)
    categories = _seed_categories(ctx)
    suppliers = _seed_suppliers(ctx, regions, now)
    _seed_links(ctx, suppliers, regions, now)
    products = _seed_products(ctx, suppliers, categories, regions, now)
    _seed_orders(ctx, products, regions, now)
    ctx.made.update(categories=categories, suppliers=suppliers, products=products)


# --- The synthetic catalog behind --scale N ---------------------------------------------------

SCALE_MARK = "规模测试"  # synthetic suppliers' names start with it; their products are the synthetic ones
SCALE_ORDER_KEY = "scale-"
PRODUCTS_PER_SUPPLIER = 50
LINES_PER_PRODUCT = 10
SCALE_BATCH = 10_000  # products generated and written at a time

_SCALE_TYPE_WORDS = (
    (T.COOPERATIVE, "合作社", 40), (T.LEADING_ENTERPRISE, "龙头企业", 15), (T.FAMILY_FARM, "家庭农场", 25),
    (T.VILLAGE_COLLECTIVE, "村集体", 12), (T.FARMER, "农户", 8),
)

# (variety words, category, sales unit, specifications, price range in fen, shelf life days, harvest months)
_TEMPLATES: list[tuple[tuple[str, ...], str, str, tuple[str, ...], tuple[int, int], int, int]] = [
    (("脆李", "青脆李", "脆红李", "蜂糖李"), "fruit.plum-peach", "箱", ("5斤装", "10斤装", "2.5kg礼盒"),
     (3980, 12800), 15, months(6, 7, 8)),
    (("黄桃", "水蜜桃", "油桃"), "fruit.plum-peach", "箱", ("5斤装", "3kg礼盒"), (3580, 8800), 10, months(6, 7, 8)),
    (("西红柿", "番茄", "鲁渝一号西红柿", "樱桃番茄", "普罗旺斯西红柿"), "vegetable.fruiting", "箱",
     ("5斤装", "10斤装", "3kg装"), (1990, 5990), 10, ALL_YEAR),
    (("彩椒", "线椒", "黄瓜", "茄子"), "vegetable.fruiting", "箱", ("5斤装", "8斤装"), (1980, 4980), 10, ALL_YEAR),
    (("马铃薯", "土豆", "洋芋", "黄心土豆", "紫薯"), "grain-oil.tuber", "袋", ("5kg装", "10斤装", "20斤装"),
     (1590, 4990), 90, months(7, 8, 9, 10)),
    (("脐橙", "纽荷尔脐橙", "晚熟脐橙"), "fruit.citrus", "箱", ("5kg装", "10斤装", "果径80mm 5kg"),
     (4980, 9880), 60, months(11, 12, 1, 2)),
    (("柑桔", "椪柑", "春橙", "血橙", "沃柑", "红橙", "恋橙"), "fruit.citrus", "箱", ("5kg装", "10斤装"),
     (3980, 8980), 45, months(12, 1, 2, 3)),
    (("红富士苹果", "苹果", "嘎啦苹果", "冰糖心苹果"), "fruit.apple", "箱", ("5kg装", "果径80mm 10斤", "12枚礼盒"),
     (4980, 11800), 150, months(9, 10, 11)),
    (("红心猕猴桃", "猕猴桃", "黄金果猕猴桃"), "fruit.kiwi", "箱", ("3kg装", "24枚礼盒"), (4980, 9800), 60,
     months(9, 10)),
    (("黄连", "鸡爪连", "黄连片"), "herb.root", "袋", ("250g装", "500g装"), (6800, 19800), 730, months(10, 11)),
    (("党参", "庙党", "天麻", "黄芪"), "herb.root", "袋", ("250g装", "500g装"), (4800, 16800), 730, months(9, 10, 11)),
    (("香米", "贡米", "大米", "富硒大米", "稻花香米"), "grain-oil.rice", "袋", ("5kg装", "10kg装", "2.5kg装"),
     (3990, 12800), 365, months(9, 10)),
    (("山茶油", "茶籽油", "菜籽油"), "grain-oil.oil", "瓶", ("1L装", "2.5L装", "500ml装"), (3980, 19800), 540,
     months(10, 11)),
    (("小米", "荞麦", "燕麦米", "藜麦", "绿豆"), "grain-oil.coarse", "袋", ("1kg装", "2.5kg装"), (1980, 5980), 365,
     months(9, 10)),
    (("香菇", "花菇", "鲜香菇", "木耳", "平菇"), "vegetable.mushroom", "箱", ("2.5kg装", "500g干品"), (2980, 9800), 30,
     ALL_YEAR),
    (("黄花菜", "干黄花", "金针菜", "干豇豆"), "vegetable.dried", "袋", ("500g装", "250g装"), (2580, 6800), 365,
     months(6, 7, 8)),
    (("干辣椒", "朝天椒", "花椒"), "vegetable.dried", "袋", ("500g装", "250g装"), (1980, 6800), 365, months(8, 9)),
    (("高山甘蓝", "莲花白", "大白菜", "高山萝卜"), "vegetable.leafy", "箱", ("10斤装", "20斤装"), (1980, 3980), 20,
     months(7, 8, 9, 10)),
    (("老腊肉", "烟熏腊肉", "腊香肠", "腊排骨"), "processed.cured-meat", "袋", ("500g装", "1kg装"), (5800, 16800), 365,
     months(12, 1, 2)),
    (("羊肉", "羊排", "羊腿", "羔羊肉"), "meat-egg.beef-mutton", "份", ("2kg装", "1kg装"), (9800, 29800), 180,
     ALL_YEAR),
    (("黄牛肉", "牛腱子", "牛肉"), "meat-egg.beef-mutton", "份", ("1kg装", "2kg装"), (8800, 25800), 180, ALL_YEAR),
    (("土鸡", "芦花鸡", "跑山鸡", "乌鸡"), "meat-egg.poultry", "只", ("约1.5kg", "约2kg"), (6800, 16800), 180,
     ALL_YEAR),
    (("土鸡蛋", "柴鸡蛋", "绿壳鸡蛋", "鸭蛋"), "meat-egg.egg", "盒", ("30枚装", "20枚装", "60枚装"), (2980, 8800), 30,
     ALL_YEAR),
    (("土猪肉", "五花肉", "黑猪肉", "猪前腿肉"), "meat-egg.pork", "份", ("1kg装", "2kg装"), (4800, 12800), 7,
     ALL_YEAR),
    (("生态鱼", "胖头鱼", "稻田鱼", "冷水鱼"), "aquatic.fish", "条", ("约2kg", "约1.5kg"), (3980, 9800), 180,
     months(11, 12, 1)),
    (("小龙虾", "稻田虾"), "aquatic.shrimp", "盒", ("1.5kg装", "2kg装"), (6800, 15800), 180, months(5, 6, 7)),
    (("毛尖", "绿茶", "明前茶", "高山云雾茶"), "tea.green", "盒", ("250g装", "100g装"), (6800, 29800), 540,
     months(3, 4)),
    (("红茶", "工夫红茶"), "tea.black", "盒", ("250g装", "100g装"), (5800, 19800), 720, months(4, 5)),
    (("土蜂蜜", "百花蜜", "中蜂蜜", "槐花蜜"), "processed.honey", "瓶", ("500g装", "1kg装"), (5800, 16800), 730,
     months(9, 10)),
    (("豆干", "豆腐乳", "手工豆腐"), "processed.soy", "袋", ("500g装", "250g装"), (990, 3980), 90, ALL_YEAR),
    (("李子干", "柿饼", "橙子果脯", "苹果脆片"), "processed.dried-fruit", "袋", ("250g装", "500g装"), (1990, 5980),
     270, months(8, 9, 10)),
    (("牛肉干", "麻辣牛肉干", "红薯干"), "processed.snack", "袋", ("200g装", "500g装"), (1990, 8800), 270, ALL_YEAR),
    (("小粒咖啡", "咖啡豆", "挂耳咖啡"), "processed.coffee", "盒", ("500g装", "10包装"), (3980, 12800), 365,
     months(11, 12, 1)),
]
# What each county grows (the first variety word of a template above): synthetic suppliers keep to it.
_COUNTY_PRODUCE: dict[str, tuple[str, ...]] = {
    "500237": ("脆李", "柑桔", "党参", "李子干", "土蜂蜜", "老腊肉"),  # 巫山
    "500154": ("西红柿", "彩椒", "柑桔", "豆干", "生态鱼", "小龙虾", "毛尖"),  # 开州
    "500236": ("脐橙", "香菇", "土鸡", "老腊肉"),  # 奉节
    "500240": ("黄连", "香米", "干辣椒", "土蜂蜜"),  # 石柱
    "500101": ("土鸡", "土鸡蛋", "柑桔", "生态鱼"),  # 万州
    "500114": ("红心猕猴桃", "土猪肉", "脆李", "香米"),  # 黔江
    "500156": ("高山甘蓝", "马铃薯", "豆干", "老腊肉"),  # 武隆
    "500229": ("老腊肉", "土蜂蜜", "土鸡", "党参"),  # 城口
    "500230": ("黄牛肉", "牛肉干", "柑桔", "香米"),  # 丰都
    "500235": ("柑桔", "脐橙", "山茶油", "土鸡"),  # 云阳
    "500238": ("马铃薯", "老腊肉", "党参", "土蜂蜜"),  # 巫溪
    "500241": ("毛尖", "土鸡蛋", "土鸡", "香米"),  # 秀山
    "500242": ("香米", "山茶油", "红茶", "土鸡蛋"),  # 酉阳
    "140215": ("黄花菜", "小米", "马铃薯"),  # 云州
    "140623": ("羊肉", "小米", "马铃薯"),  # 右玉
    "141028": ("红富士苹果", "小米", "李子干"),  # 吉县
    "530326": ("马铃薯", "小粒咖啡", "黄牛肉", "土鸡"),  # 会泽
    "610629": ("红富士苹果", "李子干", "小米"),  # 洛川
    "360734": ("脐橙", "柑桔", "红茶"),  # 寻乌
    "621102": ("马铃薯", "党参", "小米"),  # 安定
    "370783": ("西红柿", "彩椒", "高山甘蓝", "黄桃"),  # 寿光
}
_GRADES = ("特级", "一级", "精选", "优选", "农家", "新鲜", "当季", "生态", "高山", "原产地直发", "脱贫户自产", "山地",
           "古法", "鲜采")
_PHRASES = ("产地直发，坏果包赔", "脱贫户订单收购", "合作社统一分级", "冷链配送", "当季采收", "村集体基地种植",
            "高山云雾好生态", "无添加", "东西部协作帮扶产品", "消费帮扶重点产品")


def _short(county_name: str) -> str:
    """万州区 → 万州, 石柱土家族自治县 → 石柱, 吉县 stays 吉县."""
    if "自治" in county_name:
        return county_name[:2]
    return county_name[:-1] if len(county_name) > 2 else county_name


class _BulkWriter:
    """Writes generated rows: COPY through psycopg 3 on PostgreSQL, executemany on SQLite.

    Ids are counted here, never fetched row by row: from each table's sequence on
    PostgreSQL (the sequence is moved past them at the end with setval), from max(id)
    on SQLite.

    On PostgreSQL the foreign keys of the tables written are dropped for the load and
    added back at the end, inside the same transaction: checking a million rows one by
    one costs most of the load time, while adding a constraint back checks all rows in
    one set-based pass (PostgreSQL's "Populating a Database" advice). The constraints
    come back exactly as they were, from pg_get_constraintdef. Dropping them also locks
    the tables until the commit, so nobody else takes ids from the sequences meanwhile.
    The COPY runs in a thread of its own, so that PostgreSQL loads one batch while
    Python generates the next; the main thread does not touch the connection until the
    writer is closed.
    """

    TABLES = ("product", "product_lot", "product_certification", "shop_order", "sub_order", "order_line")
    SEQUENCED = ("product", "product_lot", "shop_order", "sub_order", "order_line")

    def __init__(self, tables: tuple[str, ...] | None = None, sequenced: tuple[str, ...] | None = None) -> None:
        # Another domain's synthetic data (procurement orders) names its own tables.
        self.TABLES = tables or self.TABLES
        self.SEQUENCED = sequenced or self.SEQUENCED
        self.conn = db.session.connection()
        self.postgres = self.conn.dialect.name == "postgresql"
        self.quote = self.conn.dialect.identifier_preparer.quote
        self._suspended: list[tuple[str, str, str]] = []
        self._next: dict[str, int] = {}
        self._first: dict[str, int] = {}
        self._queue: queue.Queue | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def __enter__(self) -> _BulkWriter:
        if self.postgres:
            self._suspended = [tuple(row) for row in self.conn.execute(
                sa.text("SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
                        "WHERE contype = 'f' AND conrelid::regclass::text IN :tables ORDER BY conrelid, conname")
                .bindparams(sa.bindparam("tables", expanding=True)), {"tables": list(self.TABLES)})]
            for table, name, _ in self._suspended:
                self.conn.exec_driver_sql(f"ALTER TABLE {self.quote(table)} DROP CONSTRAINT {self.quote(name)}")
            for table in self.SEQUENCED:
                self._next[table] = self.conn.execute(
                    sa.text("SELECT nextval(pg_get_serial_sequence(:t, 'id'))"), {"t": table}).scalar_one()
            self._queue = queue.Queue(maxsize=1)
            self._thread = threading.Thread(target=self._copy_loop, name="demo-scale-copy", daemon=True)
            self._thread.start()
        else:
            for table in self.SEQUENCED:
                self._next[table] = self.conn.execute(
                    sa.text(f"SELECT coalesce(max(id), 0) + 1 FROM {self.quote(table)}")).scalar_one()  # noqa: S608 — our own table names
        self._first = dict(self._next)
        return self

    def ids(self, table: str, n: int) -> int:
        """The first of ``n`` fresh ids for ``table``."""
        first = self._next[table]
        self._next[table] = first + n
        return first

    def write(self, jobs: list[tuple[sa.Table, tuple[str, ...], list[tuple]]]) -> None:
        """Write (table, columns, rows) in order, parents before children."""
        if self._queue is None:
            for table, columns, rows in jobs:
                insert = table.insert()
                for start in range(0, len(rows), 20_000):
                    chunk = rows[start:start + 20_000]
                    self.conn.execute(insert, [dict(zip(columns, row, strict=True)) for row in chunk])
            return
        self._raise_copy_error()
        self._queue.put(jobs)

    def _copy_loop(self) -> None:
        raw = self.conn.connection.driver_connection
        while (jobs := self._queue.get()) is not None:
            if self._error is not None:
                continue  # drain: the main thread raises at its next write
            try:
                for table, columns, rows in jobs:
                    with raw.cursor() as cursor, cursor.copy(
                        f"COPY {self.quote(table.name)} ({', '.join(columns)}) FROM STDIN"
                    ) as copy:
                        for row in rows:
                            copy.write_row(row)
            except BaseException as exc:  # handed to the main thread
                self._error = exc

    def _raise_copy_error(self) -> None:
        if self._error is not None:
            raise RuntimeError("writing the synthetic rows failed") from self._error

    def __exit__(self, exc_type, exc, tb) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
        if exc_type is not None:
            return  # the transaction is rolled back, constraints included
        self._raise_copy_error()
        if not self.postgres:
            return
        for table in self.SEQUENCED:
            used = self._next[table] > self._first[table]
            self.conn.execute(sa.text("SELECT setval(pg_get_serial_sequence(:t, 'id'), :v, :called)"),
                              {"t": table, "v": self._next[table] - 1 if used else self._first[table],
                               "called": used})
        for table, name, definition in self._suspended:
            self.conn.exec_driver_sql(
                f"ALTER TABLE {self.quote(table)} ADD CONSTRAINT {self.quote(name)} {definition}")
        # Fresh statistics, so that the benchmarks that follow get realistic plans.
        for table in (*self.TABLES, "supplier", "user_account"):
            self.conn.exec_driver_sql(f"ANALYZE {self.quote(table)}")


_PRODUCT_COLUMNS = ("id", "supplier_id", "category_id", "origin_village_id", "origin_county_id", "name",
                    "description", "sales_unit", "specification", "price_fen", "stock", "min_order_qty",
                    "shelf_life_days", "harvest_months", "status", "is_urgent_sale", "sold_quantity", "created_at",
                    "updated_at", "listed_at")
_LOT_COLUMNS = ("id", "product_id", "quantity", "remaining", "produced_on", "expires_on", "created_at")
_CERT_COLUMNS = ("product_id", "kind", "certificate_number")
_ORDER_COLUMNS = ("id", "number", "kind", "buyer_id", "idempotency_key", "total_fen", "recipient_name",
                  "recipient_phone", "address", "address_region_id", "referral_code", "created_at", "payment_due_at")
_SUB_COLUMNS = ("id", "order_id", "supplier_id", "status", "subtotal_fen", "carrier", "tracking_number", "paid_at",
                "shipped_at", "received_at", "completed_at", "cancelled_at")
_LINE_COLUMNS = ("id", "sub_order_id", "product_id", "product_name", "quantity", "unit_price_fen", "amount_fen",
                 "refunded_quantity", "created_at")


def _synthetic_suppliers(ctx: SeedContext, needed: int, now: datetime) -> list[tuple[int, int, str]]:
    """Synthetic suppliers 1..needed (created where missing): [(id, county id, county code)]."""
    counties = sorted({code[:6] for code in _village_codes()})
    regions = {code: rid for code, rid in db.session.execute(
        sa.select(Region.code, Region.id).where(Region.code.in_(counties)))}
    have = {}
    for supplier_id, name in db.session.execute(
        sa.select(Supplier.id, Supplier.name).where(Supplier.name.startswith(SCALE_MARK))
    ):
        have[int(name.rsplit(" ", 1)[1])] = supplier_id
    rng = ctx.rng_for("scale:suppliers")
    kinds = [k for k, _, w in _SCALE_TYPE_WORDS for _ in range(w)]
    words = {k: word for k, word, _ in _SCALE_TYPE_WORDS}
    rows = []
    for number in range(1, needed + 1):
        kind = kinds[number * 7919 % len(kinds)]
        county = counties[number % len(counties)]
        if number in have:
            continue
        accredited = now - timedelta(days=rng.randint(400, 2000), minutes=rng.randrange(1440))
        rows.append({"name": f"{SCALE_MARK}{words[kind]} {number:04d}", "type": kind, "county_id": regions[county],
                     "licence_number": licence_number(kind, county, 10**9 + number), "contact_name": person_name(rng),
                     "contact_phone": mobile_number(rng), "description": "", "status": SupplierStatus.APPROVED,
                     "created_at": accredited - timedelta(days=rng.randint(3, 30)), "accredited_at": accredited})
    if rows:
        db.session.execute(sa.insert(Supplier), rows)
        ctx.count("synthetic suppliers", len(rows))
        created = {int(row["name"].rsplit(" ", 1)[1]) for row in rows}
        for supplier_id, name in db.session.execute(
            sa.select(Supplier.id, Supplier.name).where(Supplier.name.startswith(SCALE_MARK))
        ):
            have[int(name.rsplit(" ", 1)[1])] = supplier_id
        _synthetic_links(ctx, [(have[number], counties[number % len(counties)]) for number in sorted(created)])
    return [(have[number], regions[counties[number % len(counties)]], counties[number % len(counties)])
            for number in range(1, needed + 1)]


def _synthetic_links(ctx: SeedContext, suppliers: list[tuple[int, str]]) -> None:
    """Two to five household links for each new synthetic supplier, so that attribution has work too."""
    by_county: dict[str, list[int]] = {}
    for household_id, village_code in db.session.execute(
        sa.select(Household.id, Region.code).join(Region, Region.id == Household.village_id).order_by(Household.id)
    ):
        by_county.setdefault(village_code[:6], []).append(household_id)
    rng = ctx.rng_for("scale:links")
    types = list(LinkType)
    rows = []
    for supplier_id, county in suppliers:
        pool = by_county.get(county, [])
        for household_id in rng.sample(pool, min(len(pool), rng.randint(2, 5))):
            started = date(2021, 1, 1) + timedelta(days=rng.randrange(4 * 365))
            rows.append({"supplier_id": supplier_id, "household_id": household_id, "link_type": rng.choice(types),
                         "started_on": started, "benefit_share_bp": rng.randint(5, 20) * 100,
                         "status": LinkStatus.ACTIVE,
                         "created_at": datetime.combine(started, datetime.min.time(), CHINA).astimezone(UTC)})
    for start in range(0, len(rows), 20_000):
        db.session.execute(sa.insert(HouseholdLink), rows[start:start + 20_000])
    ctx.count("synthetic household links", len(rows))


def _village_codes() -> list[str]:
    from core.demo_core import VILLAGES

    return [f"{county}{t:03d}{200 + v:03d}" for county, townships in VILLAGES.items()
            for t, (_, villages) in enumerate(townships, start=1) for v in range(1, len(villages) + 1)]


def _synthetic_consumers(ctx: SeedContext, n: int) -> list[tuple]:
    """Shoppers for the synthetic orders: [(id, name, phone, address, region id)]; one password hash for all."""
    from werkzeug.security import generate_password_hash

    count = min(1000, max(20, n // 100))
    emails = [f"shopper{i:04d}@scale.demo.fupin.cn" for i in range(1, count + 1)]
    have = dict(db.session.execute(sa.select(User.email, User.id).where(User.email.in_(emails))).all())
    rng = ctx.rng_for("scale:consumers")
    names = [person_name(rng) for _ in emails]
    missing = [(e, name) for e, name in zip(emails, names, strict=True) if e not in have]
    if missing:
        password_hash = generate_password_hash(ctx.password)
        now = utcnow()
        db.session.execute(sa.insert(User), [
            {"email": e, "display_name": name, "password_hash": password_hash, "role": Role.CONSUMER,
             "created_at": now, "password_changed_at": now} for e, name in missing])
        ctx.count("synthetic consumers", len(missing))
        have = dict(db.session.execute(sa.select(User.email, User.id).where(User.email.in_(emails))).all())
    districts = dict(db.session.execute(sa.select(Region.code, Region.id).where(
        Region.code.in_([c for _, _, c, _ in CONSUMERS]))).all())
    streets = [(code, address.split("街道")[0] if "街道" in address else address[:6])
               for _, _, code, address in CONSUMERS]
    shoppers = []
    for e, name in zip(emails, names, strict=True):
        code, street = streets[rng.randrange(len(streets))]
        shoppers.append((have[e], name, mobile_number(rng), f"{street}{rng.randint(1, 300)}号{rng.randint(1, 30)}-"
                         f"{rng.randint(1, 8)}", districts[code]))
    return shoppers


def scale_shop(ctx: SeedContext, n: int) -> None:
    """N synthetic products over N/50 synthetic suppliers, one lot each, about 10 order lines each over a year
    (``ctx.lines_per_product`` when given).

    Rerunning with the same N adds nothing; a larger N adds the difference; a larger number of lines per
    product adds orders over the synthetic products already there until they have as many.
    """
    per_product = ctx.lines_per_product or LINES_PER_PRODUCT
    existing = db.session.execute(
        sa.select(sa.func.count(Product.id)).join(Supplier, Supplier.id == Product.supplier_id)
        .where(Supplier.name.startswith(SCALE_MARK))
    ).scalar_one()
    if existing >= n:
        if ctx.lines_per_product:
            _top_up_lines(ctx, per_product)
        return
    now = utcnow()
    suppliers = _synthetic_suppliers(ctx, math.ceil(n / PRODUCTS_PER_SUPPLIER), now)
    shoppers = _synthetic_consumers(ctx, n)
    categories = dict(db.session.execute(sa.select(Category.code, Category.id)).all())
    regions = {r.code: r for r in db.session.execute(
        sa.select(Region).where(Region.level.in_((RegionLevel.COUNTY, RegionLevel.VILLAGE)))).scalars()}
    villages_by_county: dict[int, list[tuple[int, str]]] = {}
    for code in _village_codes():
        county = regions[code[:6]]
        villages_by_county.setdefault(county.id, []).append((regions[code].id, regions[code].name))
    county_names = {r.id: r.name for r in regions.values() if r.level == RegionLevel.COUNTY}
    with _BulkWriter() as writer:
        for start in range(existing, n, SCALE_BATCH):
            _scale_batch(ctx, writer, range(start, min(n, start + SCALE_BATCH)), suppliers, shoppers, categories,
                         villages_by_county, county_names, now, per_product)
    if ctx.lines_per_product:  # products of an earlier, smaller run may have fewer lines
        _top_up_lines(ctx, per_product)


def _scale_batch(ctx: SeedContext, writer: _BulkWriter, indexes: range, suppliers: list[tuple[int, int, str]],
                 shoppers: list[tuple], categories: dict[str, int], villages_by_county: dict[int, list],
                 county_names: dict[int, str], now: datetime, per_product: int = LINES_PER_PRODUCT) -> None:
    rng = ctx.rng_for(f"scale:batch:{indexes.start}")
    templates = {t[0][0]: t for t in _TEMPLATES}
    today = now.astimezone(CHINA).date()
    products = []  # rows without id (added on writing)
    lots = []
    certs = []
    sellable: dict[int, list[int]] = {}  # supplier id -> local product indexes that can be ordered
    for local, k in enumerate(indexes):
        number = k // PRODUCTS_PER_SUPPLIER
        supplier_id, county_id, county_code = suppliers[number]
        # A supplier sells two or three of what its county grows, chosen by its number.
        produce = _COUNTY_PRODUCE[county_code]
        first_word = produce[(number + rng.randrange(2 + number % 2)) % len(produce)]
        words, category, unit, specs, (low, high), shelf, harvest = templates[first_word]
        village_id, village_name = rng.choice(villages_by_county[county_id])
        word = rng.choice(words)
        grade = rng.choice(_GRADES)
        spec = rng.choice(specs)
        county = county_names[county_id]
        price = rng.randint(low // 10, high // 10) * 10
        stock = rng.randint(20, 2000)
        roll = rng.random()
        status = ProductStatus.LISTED if roll < 0.97 else (
            ProductStatus.PENDING_REVIEW if roll < 0.99 else ProductStatus.DELISTED)
        listed_at = now - timedelta(days=rng.randint(366, 1200), seconds=rng.randrange(86400))
        produced = today - timedelta(days=rng.randint(0, max(0, min(shelf - 1, 30))))
        products.append([supplier_id, categories[category], village_id, county_id,
                         f"{_short(county)}{word} {grade} {spec}",
                         f"产自{county}{village_name}，{grade}{word}，{rng.choice(_PHRASES)}。", unit, spec, price,
                         stock, 1, shelf, harvest, status.value, False, 0, listed_at - timedelta(days=1), listed_at,
                         listed_at if status != ProductStatus.PENDING_REVIEW else None])
        lots.append([local, stock + rng.randint(0, stock), stock, produced, produced + timedelta(days=shelf),
                     datetime.combine(produced, datetime.min.time(), UTC)])
        r = rng.random()
        if r < 0.25:
            certs.append((local, C.GREEN.value, _certificate_number(C.GREEN, f"scale:{k}")))
        elif r < 0.30:
            certs.append((local, C.ORGANIC.value, _certificate_number(C.ORGANIC, f"scale:{k}")))
        if rng.random() < 0.10:
            certs.append((local, C.GEOGRAPHICAL_INDICATION.value,
                          _certificate_number(C.GEOGRAPHICAL_INDICATION, f"scale:{k}")))
        if status != ProductStatus.PENDING_REVIEW:
            sellable.setdefault(supplier_id, []).append(local)

    orders, subs, lines, sold = _synthetic_orders(rng, [p[8] for p in products], sellable, len(shoppers),
                                                  per_product * len(indexes), now)
    for local, quantity in sold.items():
        products[local][15] += quantity  # sold_quantity
    # Ids, then rows in foreign-key order.
    product0 = writer.ids("product", len(products))
    lot0 = writer.ids("product_lot", len(lots))
    _write_orders(writer, orders, subs, lines, shoppers, [product0 + i for i in range(len(products))],
                  [p[4] for p in products], before=[
                      (Product.__table__, _PRODUCT_COLUMNS, [(product0 + i, *row) for i, row in enumerate(products)]),
                      (ProductLot.__table__, _LOT_COLUMNS,
                       [(lot0 + i, product0 + row[0], *row[1:]) for i, row in enumerate(lots)]),
                      (ProductCertification.__table__, _CERT_COLUMNS,
                       [(product0 + local, *rest) for local, *rest in certs]),
                  ])
    ctx.count("synthetic products", len(products))
    ctx.count("synthetic product lots", len(lots))
    ctx.count("synthetic certifications", len(certs))
    ctx.count("synthetic orders", len(orders))
    ctx.count("synthetic sub-orders", len(subs))
    ctx.count("synthetic order lines", len(lines))


def _synthetic_orders(rng, prices: list[int], sellable: dict[int, list[int]], n_shoppers: int, target: int,
                      now: datetime) -> tuple[list, list, list, dict[int, int]]:
    """Consumer orders over a year until there are ``target`` lines, on the products whose local index
    ``sellable`` lists per supplier: (orders, sub-orders, lines, quantity sold per product index)."""
    # Orders: mostly one supplier, sometimes two; one to four lines per supplier. Plain float
    # draws and thresholds instead of randint/choices: this loop runs a million times.
    year_seconds = 365 * 86400
    sold: dict[int, int] = {}
    orders = []  # (buyer index, created)
    subs = []  # (order local, supplier id, status, subtotal, carrier, tracking, paid, shipped, received,
    #             completed, cancelled)
    lines = []  # (sub local, product local, quantity, unit price, amount, refunded, created)
    rand = rng.random
    supplier_ids = list(sellable)
    n_suppliers = len(supplier_ids)
    not_sold = (OrderStatus.CANCELLED, OrderStatus.REFUNDED)
    while supplier_ids and len(lines) < target:
        created = now - timedelta(seconds=300 + rand() * year_seconds)
        order_local = len(orders)
        orders.append((int(rand() * n_shoppers), created))
        unpaid = rand() < 0.02
        chosen = [supplier_ids[int(rand() * n_suppliers)]]
        if rand() < 0.15:
            other = supplier_ids[int(rand() * n_suppliers)]
            if other != chosen[0]:
                chosen.append(other)
        for supplier_id in chosen:
            status, paid, shipped, received, completed, cancelled = lifecycle(
                rand, created, now, unpaid=unpaid, refund_rate=0.01)
            pool = sellable[supplier_id]
            r = rand()
            count = min(len(pool), 1 if r < 0.30 else 2 if r < 0.65 else 3 if r < 0.90 else 4)
            first = int(rand() * len(pool))
            sub_local = len(subs)
            subtotal = 0
            sold_now = status not in not_sold
            for j in range(count):
                local = pool[(first + j) % len(pool)]
                price = prices[local]
                if rand() < 0.1:
                    price = max(10, price * 9 // 100 * 10)  # bought during a 10%-off promotion
                r = rand()
                quantity = 1 if r < 0.70 else 2 if r < 0.90 else 3 if r < 0.97 else 5
                amount = quantity * price
                subtotal += amount
                lines.append((sub_local, local, quantity, price, amount,
                              quantity if status == OrderStatus.REFUNDED else 0, created))
                if sold_now:
                    sold[local] = sold.get(local, 0) + quantity
            carrier, prefix = CARRIERS[int(rand() * len(CARRIERS))]
            subs.append((order_local, supplier_id, status.value, subtotal, carrier if shipped else None,
                         f"{prefix}{100_000_000_000 + int(rand() * 899_999_999_999)}" if shipped else None, paid,
                         shipped, received, completed, cancelled))

    return orders, subs, lines, sold


def _write_orders(writer: _BulkWriter, orders: list, subs: list, lines: list, shoppers: list[tuple],
                  product_ids: list[int], names: list[str], before: list | None = None) -> None:
    """Give the generated orders their ids and write them after ``before`` (the rows they point at),
    in foreign-key order. ``product_ids`` and ``names`` are indexed by the lines' product index."""
    order0 = writer.ids("shop_order", len(orders))
    sub0 = writer.ids("sub_order", len(subs))
    line0 = writer.ids("order_line", len(lines))
    totals = [0] * len(orders)
    for sub in subs:
        totals[sub[0]] += sub[3]
    order_rows = []
    for i, (buyer, created) in enumerate(orders):
        order_id = order0 + i
        shopper_id, name, phone, address, region_id = shoppers[buyer]
        order_rows.append((order_id, f"S{created.astimezone(CHINA):%Y%m%d}{order_id:010d}", OrderKind.CONSUMER.value,
                           shopper_id, f"{SCALE_ORDER_KEY}{order_id}", totals[i], name, phone, address, region_id,
                           None, created, created + timedelta(minutes=30)))
    writer.write([
        *(before or []),
        (Order.__table__, _ORDER_COLUMNS, order_rows),
        (SubOrder.__table__, _SUB_COLUMNS, [(sub0 + i, order0 + sub[0], *sub[1:]) for i, sub in enumerate(subs)]),
        (OrderLine.__table__, _LINE_COLUMNS, [(line0 + i, sub0 + sub_local, product_ids[local], names[local], *rest)
                                             for i, (sub_local, local, *rest) in enumerate(lines)]),
    ])


def _synthetic_line_count() -> int:
    """Consumer order lines of the synthetic orders (those the synthetic catalog came with)."""
    return db.session.execute(
        sa.select(sa.func.count()).select_from(OrderLine).join(SubOrder, SubOrder.id == OrderLine.sub_order_id)
        .join(Order, Order.id == SubOrder.order_id)
        .where(Order.kind == OrderKind.CONSUMER, Order.idempotency_key.startswith(SCALE_ORDER_KEY))
    ).scalar_one()


def _top_up_lines(ctx: SeedContext, per_product: int) -> None:
    """More synthetic consumer orders over the synthetic products already there, until they have
    ``per_product`` order lines each on average (``--lines-per-product`` above the earlier run's).

    Generated and written like the catalog's own orders, a batch of products at a time; the products'
    sold quantities are brought up to date in one UPDATE afterwards.
    """
    products = db.session.execute(
        sa.select(Product.id, Product.supplier_id, Product.price_fen, Product.name)
        .join(Supplier, Supplier.id == Product.supplier_id)
        .where(Supplier.name.startswith(SCALE_MARK), Product.status != ProductStatus.PENDING_REVIEW)
        .order_by(Product.id)
    ).all()
    # As many lines as the catalog's own batches would have made: per product, those in review included.
    catalog = db.session.execute(
        sa.select(sa.func.count(Product.id)).join(Supplier, Supplier.id == Product.supplier_id)
        .where(Supplier.name.startswith(SCALE_MARK))).scalar_one()
    missing = per_product * catalog - _synthetic_line_count()
    if not products or missing <= 0:
        return
    now = utcnow()
    shoppers = _synthetic_consumers(ctx, len(products))
    line_first = None
    with _BulkWriter() as writer:
        for start in range(0, len(products), SCALE_BATCH):
            batch = products[start:start + SCALE_BATCH]
            sellable: dict[int, list[int]] = {}
            for local, (_, supplier_id, _, _) in enumerate(batch):
                sellable.setdefault(supplier_id, []).append(local)
            rng = ctx.rng_for(f"scale:top-up:{per_product}:{start}")
            target = math.ceil(missing * len(batch) / len(products))
            orders, subs, lines, _ = _synthetic_orders(rng, [p.price_fen for p in batch], sellable, len(shoppers),
                                                      target, now)
            if line_first is None:
                line_first = writer.ids("order_line", 0)  # the next id, none taken
            _write_orders(writer, orders, subs, lines, shoppers, [p.id for p in batch], [p.name for p in batch])
            ctx.count("synthetic orders (more lines per product)", len(orders))
            ctx.count("synthetic order lines (more lines per product)", len(lines))
    if line_first is None:
        return
    # What the new orders sold (not cancelled or refunded), added to each product in one statement.
    sold = (sa.select(OrderLine.product_id, sa.func.sum(OrderLine.quantity).label("quantity"))
            .join(SubOrder, SubOrder.id == OrderLine.sub_order_id)
            .where(OrderLine.id >= line_first,
                   SubOrder.status.not_in((OrderStatus.CANCELLED, OrderStatus.REFUNDED)))
            .group_by(OrderLine.product_id).subquery("sold"))
    db.session.execute(
        sa.update(Product).where(Product.id == sold.c.product_id)
        .values(sold_quantity=Product.sold_quantity + sold.c.quantity),
        execution_options={"synchronize_session": False})


SEEDER = Seeder(name="shop", order=10, seed=seed_shop, scale=scale_shop,
                logins=lambda: [("supplier 巫山脆李合作社", SUPPLIER_EMAIL)])
