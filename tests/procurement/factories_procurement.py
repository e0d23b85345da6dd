"""Procurement test data: units with members of each unit role, administrators, addresses and plans."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from core.accounts.models import User
from core.extensions import db
from core.permissions import Role
from core.registry.models import Region, RegionLevel
from procurement.models import BuyerUnit, CanteenMode, UnitAddress, UnitMember, UnitPlan, UnitRole, UnitStatus
from procurement.services.common import PLATFORM_ROLE
from tests import factories

_n = itertools.count(1)


def admin(region: Region | None = None) -> User:
    """A regional administrator of ``region``, or a platform administrator when no region is given."""
    if region is None:
        return factories.UserFactory(role=Role.PLATFORM_ADMIN)
    return factories.UserFactory(role=Role.REGIONAL_ADMIN, region=region)


def member(unit: BuyerUnit, role: UnitRole = UnitRole.BUYER) -> User:
    user = factories.UserFactory(role=PLATFORM_ROLE[role])
    db.session.add(UnitMember(user_id=user.id, unit_id=unit.id, role=role))
    db.session.flush()
    return user


def unit(region: Region, **kw) -> BuyerUnit:
    return factories.buyer_unit(region, **kw)


def address(u: BuyerUnit, region: Region, name: str | None = None, phone: str = "13912345678") -> UnitAddress:
    row = UnitAddress(unit_id=u.id, name=name or f"第{next(_n)}食堂", recipient="李师傅", phone=phone,
                      address="人民路 1 号", region_id=region.id)
    db.session.add(row)
    db.session.flush()
    return row


def own_canteen_plan(u: BuyerUnit, year: int, budget_fen: int, share_bp: int = 1000) -> UnitPlan:
    declared = (budget_fen * share_bp + 5000) // 10000
    row = UnitPlan(unit_id=u.id, year=year, canteen_mode=CanteenMode.OWN, canteen_budget_fen=budget_fen,
                   reserved_share_bp=share_bp, minimum_share_bp=1000, declared_plan_fen=declared, plan_fen=declared)
    db.session.add(row)
    db.session.flush()
    return row


@dataclass
class World:
    """A region chain with an active unit, its administrator, a buyer and an approver."""

    chain: dict
    unit: BuyerUnit
    unit_admin: User
    buyer: User
    approver: User

    @property
    def province(self) -> Region:
        return self.chain[RegionLevel.PROVINCE]

    @property
    def city(self) -> Region:
        return self.chain[RegionLevel.CITY]

    @property
    def county(self) -> Region:
        return self.chain[RegionLevel.COUNTY]


def world(status: UnitStatus = UnitStatus.ACTIVE) -> World:
    chain = factories.region_chain()
    u = unit(chain[RegionLevel.CITY], status=status)
    return World(chain=chain, unit=u, unit_admin=member(u, UnitRole.ADMIN), buyer=member(u, UnitRole.BUYER),
                 approver=member(u, UnitRole.APPROVER))


def role_matrix_samples(chain: dict) -> dict:
    """URL parameter samples for tests/core/test_role_matrix.py: a unit in ``chain`` with a member, an
    address and an assistance relation, all inside the regional administrator's region."""
    from procurement.models import AssistanceKind, AssistanceRelation
    from procurement.services.common import local_year

    u = unit(chain[RegionLevel.CITY])
    person = member(u, UnitRole.BUYER)
    place = address(u, chain[RegionLevel.COUNTY])
    relation = AssistanceRelation(unit_id=u.id, county_id=chain[RegionLevel.COUNTY].id, kind=AssistanceKind.PAIRED,
                                  start_year=2021)
    db.session.add(relation)
    db.session.flush()
    return {
        "unit_id": u.id,
        "year": local_year(),
        "member_id": person.id,
        "address_id": place.id,
        "relation_id": relation.id,
        "procurement.unit_decision:action": "approve",
    }
