"""Core demo data: the region tree from the seeds documents, registry households, admin and consumer log-ins.

Place names and codes are the real statistical division codes (统计用区划代码)
down to county level. Townships and villages named in the seeds are used where
the seeds name them (巫山 曲尺乡, 开州 紫水乡, 奉节 白帝镇坪上村, 石柱 下路街道白鹤村, 石柱 三星乡);
the other villages are illustrative, with codes under their real county.
Households are synthetic: names are generated and ID numbers are made-up
numbers with valid check digits, never real people's.
"""

from __future__ import annotations

import sqlalchemy as sa

from core.accounts.models import User
from core.demo import SeedContext, Seeder
from core.extensions import db
from core.permissions import Role
from core.personal_data import hash_id_number, mask_id_number
from core.registry.models import Household, HouseholdKind, Region, RegionLevel
from core.registry.services import pepper

# (code, name, level, parent code, poverty-lifted county, key assistance county)
REGIONS: list[tuple[str, str, RegionLevel, str | None, bool, bool]] = [
    ("500000", "重庆市", RegionLevel.PROVINCE, None, False, False),
    ("500100", "重庆市市辖区", RegionLevel.CITY, "500000", False, False),
    ("500200", "重庆市县", RegionLevel.CITY, "500000", False, False),
    ("500101", "万州区", RegionLevel.COUNTY, "500100", True, False),
    ("500114", "黔江区", RegionLevel.COUNTY, "500100", True, False),
    ("500154", "开州区", RegionLevel.COUNTY, "500100", True, True),
    ("500156", "武隆区", RegionLevel.COUNTY, "500100", True, False),
    ("500229", "城口县", RegionLevel.COUNTY, "500200", True, True),
    ("500230", "丰都县", RegionLevel.COUNTY, "500200", True, False),
    ("500235", "云阳县", RegionLevel.COUNTY, "500200", True, False),
    ("500236", "奉节县", RegionLevel.COUNTY, "500200", True, False),
    ("500237", "巫山县", RegionLevel.COUNTY, "500200", True, False),
    ("500238", "巫溪县", RegionLevel.COUNTY, "500200", True, True),
    ("500240", "石柱土家族自治县", RegionLevel.COUNTY, "500200", True, False),
    ("500241", "秀山土家族苗族自治县", RegionLevel.COUNTY, "500200", True, False),
    ("500242", "酉阳土家族苗族自治县", RegionLevel.COUNTY, "500200", True, True),
    ("140000", "山西省", RegionLevel.PROVINCE, None, False, False),
    ("140200", "大同市", RegionLevel.CITY, "140000", False, False),
    ("140215", "云州区", RegionLevel.COUNTY, "140200", True, False),
    ("140600", "朔州市", RegionLevel.CITY, "140000", False, False),
    ("140623", "右玉县", RegionLevel.COUNTY, "140600", True, False),
    ("141000", "临汾市", RegionLevel.CITY, "140000", False, False),
    ("141028", "吉县", RegionLevel.COUNTY, "141000", True, False),
    ("530000", "云南省", RegionLevel.PROVINCE, None, False, False),
    ("530300", "曲靖市", RegionLevel.CITY, "530000", False, False),
    ("530326", "会泽县", RegionLevel.COUNTY, "530300", True, True),
    ("610000", "陕西省", RegionLevel.PROVINCE, None, False, False),
    ("610600", "延安市", RegionLevel.CITY, "610000", False, False),
    ("610629", "洛川县", RegionLevel.COUNTY, "610600", False, False),
    ("360000", "江西省", RegionLevel.PROVINCE, None, False, False),
    ("360700", "赣州市", RegionLevel.CITY, "360000", False, False),
    ("360734", "寻乌县", RegionLevel.COUNTY, "360700", True, False),
    ("620000", "甘肃省", RegionLevel.PROVINCE, None, False, False),
    ("621100", "定西市", RegionLevel.CITY, "620000", False, False),
    ("621102", "安定区", RegionLevel.COUNTY, "621100", True, False),
    ("370000", "山东省", RegionLevel.PROVINCE, None, False, False),
    ("370600", "烟台市", RegionLevel.CITY, "370000", False, False),
    ("370602", "芝罘区", RegionLevel.COUNTY, "370600", False, False),
    ("370700", "潍坊市", RegionLevel.CITY, "370000", False, False),
    ("370783", "寿光市", RegionLevel.COUNTY, "370700", False, False),
    # Where the central units sit and where consumers' parcels go: not assisted areas.
    ("110000", "北京市", RegionLevel.PROVINCE, None, False, False),
    ("110100", "北京市市辖区", RegionLevel.CITY, "110000", False, False),
    ("110101", "东城区", RegionLevel.COUNTY, "110100", False, False),
    ("110102", "西城区", RegionLevel.COUNTY, "110100", False, False),
    ("500103", "渝中区", RegionLevel.COUNTY, "500100", False, False),
    ("500105", "江北区", RegionLevel.COUNTY, "500100", False, False),
    ("500112", "渝北区", RegionLevel.COUNTY, "500100", False, False),
]

# county code -> [(township name, [village names])]
VILLAGES: dict[str, list[tuple[str, list[str]]]] = {
    "500237": [("曲尺乡", ["柑园村", "权发村"]), ("建坪乡", ["春晓村"])],
    "500154": [("紫水乡", ["义和村", "双河村"]), ("镇安镇", ["凤凰村"])],
    "500236": [("白帝镇", ["坪上村", "八阵村"])],
    "500240": [("下路街道", ["白鹤村"]), ("黄水镇", ["金花村"]), ("三星乡", ["龙井村"])],
    "500101": [("长滩镇", ["太龙村"])],
    "500114": [("濯水镇", ["蒲花村"])],
    "500156": [("仙女山街道", ["石梁子社区"])],
    "500229": [("岚天乡", ["岚溪村"])],
    "500230": [("三建乡", ["夜力坪村"])],
    "500235": [("清水土家族乡", ["岩门村"])],
    "500238": [("红池坝镇", ["茶山村"])],
    "500241": [("隘口镇", ["富裕村"])],
    "500242": [("花田乡", ["何家岩村"])],
    "140215": [("西坪镇", ["坊城新村"])],
    "140623": [("新城镇", ["西窑村"])],
    "141028": [("吉昌镇", ["太度村"])],
    "530326": [("大海乡", ["二荒箐村"])],
    "610629": [("凤栖街道", ["谷咀村"])],
    "360734": [("澄江镇", ["谢屋村"])],
    "621102": [("香泉镇", ["中庄村"])],
    "370783": [("孙家集街道", ["三元朱村"])],
}

HOUSEHOLDS_PER_VILLAGE = 12
SURNAMES = (
    "冉谭向刘陈李王张杨黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯"
    "邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟"
)
GIVEN = "大兴明华国建德发文平志秀英玉兰桂芳春霞红梅永福贵山林海云成光荣富强学军"

ADMIN_EMAIL = "admin@demo.fupin.cn"
REGIONAL_ADMIN_EMAIL = "chongqing-admin@demo.fupin.cn"
CONSUMER_EMAIL = "consumer@demo.fupin.cn"


def demo_logins() -> list[tuple[str, str]]:
    return [
        ("platform administrator", ADMIN_EMAIL),
        ("regional administrator 重庆市", REGIONAL_ADMIN_EMAIL),
        ("consumer", CONSUMER_EMAIL),
    ]


def _fake_id_number(rng, county_code: str) -> str:
    from core.personal_data import _ID_CHECK, _ID_WEIGHTS

    year = rng.randint(1950, 1995)
    body = f"{county_code}{year}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}"
    check = _ID_CHECK[sum(int(d) * w for d, w in zip(body, _ID_WEIGHTS, strict=True)) % 11]
    return body + check


def _seed_regions(ctx: SeedContext) -> dict[str, Region]:
    existing = {r.code: r for r in db.session.execute(sa.select(Region)).scalars()}
    for code, name, level, parent_code, poverty, key in REGIONS:
        if code in existing:
            continue
        region = Region(code=code, name=name, level=level, parent=existing.get(parent_code) if parent_code else None,
                        is_poverty_lifted_county=poverty, is_key_assistance_county=key)
        db.session.add(region)
        db.session.flush()
        region.path = f"{region.parent.path if region.parent else '/'}{region.id}/"
        existing[code] = region
        ctx.count("regions", 1)
    for county_code, townships in VILLAGES.items():
        county = existing[county_code]
        for t_index, (township_name, villages) in enumerate(townships, start=1):
            t_code = f"{county_code}{t_index:03d}"
            township = existing.get(t_code)
            if township is None:
                township = Region(code=t_code, name=township_name, level=RegionLevel.TOWNSHIP, parent=county)
                db.session.add(township)
                db.session.flush()
                township.path = f"{county.path}{township.id}/"
                existing[t_code] = township
                ctx.count("regions", 1)
            for v_index, village_name in enumerate(villages, start=1):
                v_code = f"{t_code}{200 + v_index:03d}"
                if v_code in existing:
                    continue
                village = Region(code=v_code, name=village_name, level=RegionLevel.VILLAGE, parent=township)
                db.session.add(village)
                db.session.flush()
                village.path = f"{township.path}{village.id}/"
                existing[v_code] = village
                ctx.count("regions", 1)
    return existing


def person_name(rng) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)


def mobile_number(rng) -> str:
    """A mobile number of the right shape, drawn at random for demo data."""
    return f"1{rng.choice('3578')}{rng.randint(0, 9)}{rng.randint(0, 99_999_999):08d}"


def _seed_households(ctx: SeedContext, regions: dict[str, Region]) -> None:
    villages = sorted((r for r in regions.values() if r.level == RegionLevel.VILLAGE), key=lambda r: r.code)
    have = set(db.session.execute(sa.select(Household.id_number_hash)).scalars())
    # A village that already has households is left alone, so that a rerun with
    # another --random-seed does not register a second set of made-up people.
    populated = set(db.session.execute(sa.select(Household.village_id).distinct()).scalars())
    rows = []
    key = pepper()
    for village in villages:
        if village.id in populated:
            continue
        county_code = village.code[:6]
        rng = ctx.rng_for(f"households:{village.code}")
        for n in range(HOUSEHOLDS_PER_VILLAGE):
            id_number = _fake_id_number(rng, county_code)
            digest = hash_id_number(id_number, key)
            kind = HouseholdKind.MONITORED if n % 4 == 3 else HouseholdKind.POVERTY_LIFTED
            name = person_name(rng)
            members = rng.randint(1, 6)
            if digest in have:
                continue
            have.add(digest)
            rows.append({"village_id": village.id, "kind": kind, "head_name": name, "member_count": members,
                         "id_number_hash": digest, "id_number_masked": mask_id_number(id_number)})
    if rows:
        db.session.execute(sa.insert(Household), rows)
        ctx.count("households", len(rows))


def ensure_user(ctx: SeedContext, email: str, name: str, role: Role, region: Region | None = None) -> User:
    user = db.session.execute(sa.select(User).where(User.email == email)).scalar_one_or_none()
    if user is None:
        user = User(email=email, display_name=name, role=role, region=region)
        user.set_password(ctx.password)
        db.session.add(user)
        db.session.flush()
        ctx.count("users", 1)
    return user


def seed_core(ctx: SeedContext) -> None:
    regions = _seed_regions(ctx)
    _seed_households(ctx, regions)
    ctx.made["regions"] = regions
    ensure_user(ctx, ADMIN_EMAIL, "平台管理员", Role.PLATFORM_ADMIN)
    ensure_user(ctx, REGIONAL_ADMIN_EMAIL, "重庆市区域管理员", Role.REGIONAL_ADMIN, regions["500000"])
    ensure_user(ctx, CONSUMER_EMAIL, "张晓梅", Role.CONSUMER)


CORE_SEEDER = Seeder(name="core", order=0, seed=seed_core, logins=demo_logins)
