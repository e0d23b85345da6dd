"""factory_boy factories. Regions go through the registry service so that their paths are right."""

from __future__ import annotations

import itertools

import factory
from werkzeug.security import generate_password_hash

from core.accounts.models import User
from core.extensions import db
from core.permissions import Role
from core.registry import services as registry
from core.registry.models import Household, HouseholdKind, Region, RegionLevel
from procurement.models import BuyerUnit, UnitMember, UnitRole, UnitStatus, UnitType
from shop.models import Supplier, SupplierMember, SupplierStatus, SupplierType

PASSWORD = "test-password-1"
# A cheap hash keeps the suite fast; production uses werkzeug's default scrypt.
PASSWORD_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
_codes = itertools.count(1)


class Base(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "flush"


class UserFactory(Base):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    display_name = factory.Sequence(lambda n: f"用户{n}")
    password_hash = PASSWORD_HASH
    role = Role.CONSUMER


def region_chain(county_flags: dict | None = None) -> dict[RegionLevel, Region]:
    """A fresh province → city → county → township → village chain with unique codes."""
    n = next(_codes)
    chain: dict[RegionLevel, Region] = {}
    province = registry.create_region(code=f"9{n:05d}", name=f"测试省{n}", level=RegionLevel.PROVINCE, parent=None)
    chain[RegionLevel.PROVINCE] = province
    city = registry.create_region(code=f"8{n:05d}", name=f"测试市{n}", level=RegionLevel.CITY, parent=province)
    chain[RegionLevel.CITY] = city
    flags = county_flags or {}
    county = registry.create_region(code=f"7{n:05d}", name=f"测试县{n}", level=RegionLevel.COUNTY, parent=city,
                                    poverty_lifted=flags.get("poverty_lifted", True),
                                    key_assistance=flags.get("key_assistance", False))
    chain[RegionLevel.COUNTY] = county
    township = registry.create_region(code=f"7{n:05d}001", name=f"测试镇{n}", level=RegionLevel.TOWNSHIP,
                                      parent=county)
    chain[RegionLevel.TOWNSHIP] = township
    village = registry.create_region(code=f"7{n:05d}001201", name=f"测试村{n}", level=RegionLevel.VILLAGE,
                                     parent=township)
    chain[RegionLevel.VILLAGE] = village
    return chain


def valid_id_number(seed: int, area: str = "500237") -> str:
    from core.personal_data import _ID_CHECK, _ID_WEIGHTS

    body = f"{area}1970{(seed % 12) + 1:02d}{(seed % 28) + 1:02d}{seed % 1000:03d}"
    return body + _ID_CHECK[sum(int(d) * w for d, w in zip(body, _ID_WEIGHTS, strict=True)) % 11]


_households = itertools.count(1)


def household(village: Region, kind: HouseholdKind = HouseholdKind.POVERTY_LIFTED, members: int = 3) -> Household:
    n = next(_households)
    return registry.register_household(village=village, kind=kind, head_name=f"户主{n}", member_count=members,
                                       id_number=valid_id_number(n * 7919))


def supplier(county: Region, status: SupplierStatus = SupplierStatus.APPROVED, **kw) -> Supplier:
    n = next(_codes)
    row = Supplier(name=kw.pop("name", f"测试合作社{n}"), type=kw.pop("type", SupplierType.COOPERATIVE),
                   county_id=county.id, licence_number=f"93500237MA{n:08d}", contact_name="联系人",
                   contact_phone="13800138000", status=status, **kw)
    db.session.add(row)
    db.session.flush()
    return row


def buyer_unit(region: Region, **kw) -> BuyerUnit:
    n = next(_codes)
    row = BuyerUnit(name=kw.pop("name", f"测试单位{n}"), type=kw.pop("type", UnitType.CITY_DEPARTMENT),
                    region_id=region.id, status=kw.pop("status", UnitStatus.ACTIVE), **kw)
    db.session.add(row)
    db.session.flush()
    return row


def user_with_role(role: Role | str, region: Region | None = None) -> User:
    """A user of ``role`` with whatever the role needs: a region, a supplier, a unit."""
    role = Role(role)
    chain = None
    if role in (Role.REGIONAL_ADMIN, Role.SUPPLIER, Role.UNIT_BUYER, Role.UNIT_APPROVER) and region is None:
        chain = region_chain()
        region = chain[RegionLevel.PROVINCE]
    user = UserFactory(role=role, region=region if role == Role.REGIONAL_ADMIN else None)
    if role == Role.SUPPLIER:
        county = chain[RegionLevel.COUNTY] if chain else region
        db.session.add(SupplierMember(user_id=user.id, supplier_id=supplier(county).id, is_owner=True))
    elif role in (Role.UNIT_BUYER, Role.UNIT_APPROVER):
        unit = buyer_unit(region)
        unit_role = UnitRole.BUYER if role == Role.UNIT_BUYER else UnitRole.APPROVER
        db.session.add(UnitMember(user_id=user.id, unit_id=unit.id, role=unit_role))
    db.session.flush()
    return user
