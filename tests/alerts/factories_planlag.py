"""Plan-lag test data: units with a plan and a chosen counted amount, their people, and a warning
for the role matrix.

On ``DAY_146`` (2026-05-26, the 146th day of 365) time progress is exactly 40.00%; with a plan of
1,000,000 fen every 100 fen counted is 0.01 point of completion, so a gap can be set to the hundredth.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date

from alerts.models import AlertRun, WarningLevel, WarningStatus
from alerts.models_planlag import PlanLagWarning
from core.extensions import db
from core.registry.models import Region, RegionLevel
from procurement.models import BuyerUnit, UnitPlan, UnitRole
from procurement.models_ledger import LedgerReason, PlanLedgerEntry, PurchaseChannel
from shop.models import ProductStatus
from tests import factories
from tests.alerts.factories_alerts import sale
from tests.procurement import factories_procurement as fp
from tests.shop import factories_shop

DAY_146 = date(2026, 5, 26)
PLAN_FEN = 1_000_000
_n = itertools.count(1)


def plan(unit: BuyerUnit, year: int = 2026, plan_fen: int = PLAN_FEN) -> UnitPlan:
    """An own-canteen plan of ``plan_fen``: a budget ten times as large, 10% reserved."""
    return fp.own_canteen_plan(unit, year, plan_fen * 10, share_bp=1000)


@dataclass
class Ledger:
    """Counted amounts written as plan-ledger rows (the way acceptance writes them)."""

    chain: dict
    line_id: int = 0
    category_id: int = 0
    county_id: int = 0

    def add(self, unit: BuyerUnit, amount_fen: int, *, year: int = 2026, month: int = 3) -> None:
        if not self.line_id:
            seller = factories.supplier(self.chain[RegionLevel.COUNTY])
            cat = factories_shop.category()
            item = factories_shop.product(seller, cat, self.chain[RegionLevel.VILLAGE], status=ProductStatus.DELISTED)
            self.line_id, self.category_id = sale(item, 1, DAY_146).id, cat.id
            self.county_id = self.chain[RegionLevel.COUNTY].id
        db.session.add(PlanLedgerEntry(
            unit_id=unit.id, year=year, month=month, channel=PurchaseChannel.CANTEEN,
            reason=LedgerReason.ACCEPTED if amount_fen >= 0 else LedgerReason.REFUNDED, amount_fen=amount_fen,
            order_line_id=self.line_id, origin_county_id=self.county_id, category_id=self.category_id))
        db.session.flush()


@dataclass
class LagWorld:
    """Two provinces: unit ``unit`` (in province A's city) with an administrator and a buyer, a second
    unit ``other`` in the same city with its own administrator, a unit ``far`` in province B; the
    regional administrators of A and B and a platform administrator."""

    chain: dict
    chain_b: dict
    unit: BuyerUnit
    unit_admin: object
    buyer: object
    other: BuyerUnit
    other_admin: object
    far: BuyerUnit
    admin_a: object
    admin_b: object
    platform_admin: object
    ledger: Ledger = field(init=False)

    def __post_init__(self):
        self.ledger = Ledger(self.chain)

    @property
    def province(self) -> Region:
        return self.chain[RegionLevel.PROVINCE]


def lag_world() -> LagWorld:
    chain, chain_b = factories.region_chain(), factories.region_chain()
    unit = fp.unit(chain[RegionLevel.CITY], name="巫山县农业农村委")
    other = fp.unit(chain[RegionLevel.CITY], name="巫山县教委")
    far = fp.unit(chain_b[RegionLevel.CITY], name="开州区卫健委")
    return LagWorld(
        chain=chain, chain_b=chain_b, unit=unit, unit_admin=fp.member(unit, UnitRole.ADMIN),
        buyer=fp.member(unit, UnitRole.BUYER), other=other, other_admin=fp.member(other, UnitRole.ADMIN),
        far=far, admin_a=fp.admin(chain[RegionLevel.PROVINCE]), admin_b=fp.admin(chain_b[RegionLevel.PROVINCE]),
        platform_admin=fp.admin(None))


def role_matrix_samples(chain: dict) -> dict:
    """URL parameter samples for tests/core/test_role_matrix.py: an open plan-lag warning of a unit in
    ``chain`` (inside the regional administrator's region)."""
    unit = fp.unit(chain[RegionLevel.CITY])
    run = AlertRun(run_on=date(2002, 1, next(_n) % 28 + 1))
    db.session.add(run)
    db.session.flush()
    warning = PlanLagWarning(unit_id=unit.id, year=2002, status=WarningStatus.OPEN, level=WarningLevel.BLUE,
                             gap_points=12, gap_fen=120_000, figures={}, first_run_id=run.id, last_run_id=run.id)
    db.session.add(warning)
    db.session.flush()
    return {"plan_lag_warning_id": warning.id}
