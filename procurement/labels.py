"""Display names of procurement's enums, translated with Babel (the Chinese terms live beside the enums)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from procurement.models import AssistanceKind, CanteenMode, UnitRole, UnitStatus, UnitType

UNIT_TYPE = {
    UnitType.CENTRAL: _l("Central unit"),
    UnitType.PROVINCIAL_DEPARTMENT: _l("Provincial department"),
    UnitType.CITY_DEPARTMENT: _l("City department"),
    UnitType.COUNTY_UNIT: _l("County unit"),
    UnitType.STATE_ENTERPRISE: _l("State-owned enterprise"),
    UnitType.ASSISTANCE_GROUP: _l("Assistance group"),
    UnitType.EAST_WEST_CITY: _l("East–west cooperation city"),
    UnitType.OTHER: _l("Other"),
}
UNIT_STATUS = {
    UnitStatus.PENDING: _l("Awaiting approval"),
    UnitStatus.ACTIVE: _l("Active"),
    UnitStatus.REJECTED: _l("Rejected"),
    UnitStatus.SUSPENDED: _l("Suspended"),
}
UNIT_ROLE = {
    UnitRole.ADMIN: _l("Unit administrator"),
    UnitRole.BUYER: _l("Buyer"),
    UnitRole.APPROVER: _l("Approver"),
}
ASSISTANCE_KIND = {
    AssistanceKind.PAIRED: _l("Paired assistance"),
    AssistanceKind.EAST_WEST: _l("East–west cooperation"),
    AssistanceKind.COUNTERPART: _l("Counterpart assistance"),
}
CANTEEN_MODE = {
    CanteenMode.OWN: _l("Own canteen"),
    CanteenMode.NONE: _l("No canteen"),
    CanteenMode.SHARED: _l("Shares another unit's canteen"),
}
# The status of a unit's plan for a year, as lists show it.
PLAN_STATUS = {
    "missing": _l("No plan"),
    "own": _l("Declared: own canteen"),
    "none": _l("Declared: no canteen"),
    "shared": _l("Declared: shared canteen"),
    "admin": _l("Set by an administrator"),
}


def label(table: dict, value) -> str:
    if value is None:
        return "—"
    try:
        return table[value]
    except KeyError:
        return str(getattr(value, "value", value))
