"""The early-warning rules and their thresholds: the one documented place.

Every figure the job computes for a listed product (see ``alerts.figures``):

- ``stock``: the product's available stock;
- ``velocity_7`` / ``velocity_28``: units sold per day over the 7 and 28 whole days before the
  run's date (consumer and procurement orders alike; cancelled and refunded sub-orders and
  refunded quantities excluded);
- ``days_of_cover`` = stock ÷ the 7-day velocity (the recent pace is what the stock will meet);
- ``days_to_spoil``: days until the first lot that will not sell in time expires, lots sold
  first-expiring first (FEFO) at the 7-day pace; ``unsold_before_spoil``: the quantity left
  over when each lot expires;
- ``days_to_season_end``: days until the current harvest window (``harvest_months``) ends;
- ``velocity_drop_bp``: how much the 7-day velocity fell below the 28-day one (basis points);
- ``days_since_last_sale`` (since listing when never sold);
- ``price_vs_group_bp``: the product's price against the average price paid this month for the
  same category from the same origin province; ``group_mom_bp`` / ``group_yoy_bp``: that average
  against last month and against the same month last year.

Causes (one live warning per product and cause) and when each fires:

- ``spoilage``: some stock will not sell before it spoils. At risk: unsold quantity × price;
  days left: ``days_to_spoil``.
- ``season_end``: in season, and the days of cover exceed the days left in the harvest window.
  At risk: the stock not sold by the window's end × price; days left: ``days_to_season_end``.
- ``sales_stall``: the 7-day velocity fell at least ``sales_drop_percent`` below the 28-day one,
  or nothing sold for ``no_sale_days`` days. At risk: the whole stock × price; days left: days
  until the earliest lot expires.
- ``price_fall``: the group's average price fell at least ``price_fall_mom_percent`` month on
  month or ``price_fall_yoy_percent`` year on year. At risk and days left as for ``sales_stall``.

Level: the highest level whose amount threshold is reached AND whose days threshold is not
exceeded (red needs much money and little time); none at all: no warning.

Lifecycle (choices where the issue is silent): a warning opens at the level of the run on which
its condition has held ``open_after_runs`` consecutive runs (default 1: produce that spoils in a
week cannot wait three days for its first warning); it rises only after a higher level held
``rise_after_runs`` consecutive runs (default 3, the "three runs running" of real plans), to the
lowest level seen over those runs; it falls at once when a run computes a lower level, and
resolves by itself on the first run without risk.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from alerts.models import LEVEL_BY_SEVERITY, AlertRuleSetting, WarningCause, WarningLevel
from core import audit
from core.errors import ValidationFailed
from core.extensions import db

LEVELS = (WarningLevel.BLUE, WarningLevel.YELLOW, WarningLevel.ORANGE, WarningLevel.RED)


@dataclass(frozen=True)
class RuleSpec:
    key: str
    default: int
    label: object
    unit: object


RULE_SPECS: tuple[RuleSpec, ...] = (
    RuleSpec("amount_blue_fen", 20_000, _l("Blue (level 4): amount at risk from"), _l("fen")),
    RuleSpec("amount_yellow_fen", 100_000, _l("Yellow (level 3): amount at risk from"), _l("fen")),
    RuleSpec("amount_orange_fen", 500_000, _l("Orange (level 2): amount at risk from"), _l("fen")),
    RuleSpec("amount_red_fen", 2_000_000, _l("Red (level 1): amount at risk from"), _l("fen")),
    RuleSpec("days_blue", 45, _l("Blue (level 4): days left at most"), _l("days")),
    RuleSpec("days_yellow", 21, _l("Yellow (level 3): days left at most"), _l("days")),
    RuleSpec("days_orange", 10, _l("Orange (level 2): days left at most"), _l("days")),
    RuleSpec("days_red", 5, _l("Red (level 1): days left at most"), _l("days")),
    RuleSpec("sales_drop_percent", 50, _l("Sales stall: 7-day pace below the 28-day pace by at least"), "%"),
    RuleSpec("no_sale_days", 14, _l("Sales stall: no sale for at least"), _l("days")),
    RuleSpec("price_fall_mom_percent", 10, _l("Price fall: month on month by at least"), "%"),
    RuleSpec("price_fall_yoy_percent", 30, _l("Price fall: year on year by at least"), "%"),
    RuleSpec("open_after_runs", 1, _l("Open a warning after the condition held for"), _l("runs")),
    RuleSpec("rise_after_runs", 3, _l("Raise a level after the higher level held for"), _l("runs")),
)
SPEC_BY_KEY = {s.key: s for s in RULE_SPECS}
DEFAULTS = {s.key: s.default for s in RULE_SPECS}

# The response each level calls for (应急处置预案), named on every warning.
PLAYBOOKS = {
    WarningLevel.BLUE: "watch",  # 四级: the supplier adjusts price and channels; the region watches
    WarningLevel.YELLOW: "promote",  # 三级: urgent-sale zone, promotion to consumers
    WarningLevel.ORANGE: "mobilise_units",  # 二级: buyer units in the region are asked to order
    WarningLevel.RED: "emergency_purchase",  # 一级: emergency purchase organised by the region
}
PLAYBOOK_LABELS = {
    "watch": _l("Watch: the supplier adjusts price and sales channels"),
    "promote": _l("Promote: urgent-sale zone and consumer promotion"),
    "mobilise_units": _l("Mobilise buyer units of the region to order"),
    "emergency_purchase": _l("Emergency purchase organised by the region"),
}
CAUSE_LABELS = {
    WarningCause.SPOILAGE: _l("Will spoil before it sells"),
    WarningCause.SEASON_END: _l("Will not sell before the harvest season ends"),
    WarningCause.SALES_STALL: _l("Sales stalled"),
    WarningCause.PRICE_FALL: _l("Price fell"),
}
LEVEL_LABELS = {
    WarningLevel.BLUE: _l("Level 4 (blue)"),
    WarningLevel.YELLOW: _l("Level 3 (yellow)"),
    WarningLevel.ORANGE: _l("Level 2 (orange)"),
    WarningLevel.RED: _l("Level 1 (red)"),
}


def current() -> dict[str, int]:
    """The thresholds in force: the defaults, overridden by the administrators' settings."""
    values = dict(DEFAULTS)
    for key, value in db.session.execute(sa.select(AlertRuleSetting.key, AlertRuleSetting.value)):
        if key in values:
            values[key] = int(value)
    return values


def validate(values: dict[str, int]) -> dict[str, int]:
    """The full set of thresholds, checked as a whole; raises ValidationFailed naming the first bad field."""
    checked: dict[str, int] = {}
    for spec in RULE_SPECS:
        raw = values.get(spec.key, spec.default)
        try:
            value = int(raw)
        except (TypeError, ValueError):
            raise ValidationFailed(_("%(field)s must be a whole number.", field=spec.label), field=spec.key) from None
        if value < 0:
            raise ValidationFailed(_("%(field)s cannot be negative.", field=spec.label), field=spec.key)
        checked[spec.key] = value
    for key in ("open_after_runs", "rise_after_runs"):
        if checked[key] < 1:
            raise ValidationFailed(_("%(field)s must be at least one run.", field=SPEC_BY_KEY[key].label), field=key)
    for key in ("sales_drop_percent", "price_fall_mom_percent", "price_fall_yoy_percent"):
        if not 1 <= checked[key] <= 100:
            raise ValidationFailed(_("%(field)s must be between 1 and 100.", field=SPEC_BY_KEY[key].label), field=key)
    if checked["no_sale_days"] < 1:
        raise ValidationFailed(_("%(field)s must be at least one day.", field=SPEC_BY_KEY["no_sale_days"].label),
                               field="no_sale_days")
    amounts = [checked[f"amount_{lv}_fen"] for lv in LEVELS]
    if amounts[0] < 1 or any(a >= b for a, b in itertools.pairwise(amounts)):
        raise ValidationFailed(_("Amounts at risk must rise from blue to yellow to orange to red."),
                               field="amount_red_fen")
    days = [checked[f"days_{lv}"] for lv in LEVELS]
    if any(a <= b for a, b in itertools.pairwise(days)):
        raise ValidationFailed(_("Days left must shrink from blue to yellow to orange to red."), field="days_red")
    return checked


def save(values: dict[str, int], *, actor_id: int | None = None, reason: str | None = None) -> dict[str, int]:
    """Validate and store the thresholds (only those that differ from before are written). Flushes, no commit."""
    before = current()
    checked = validate(values)
    rows = {r.key: r for r in db.session.execute(sa.select(AlertRuleSetting)).scalars()}
    changed = {k: v for k, v in checked.items() if before[k] != v}
    for key, value in changed.items():
        if key in rows:
            rows[key].value = value
            rows[key].updated_by_id = actor_id
        else:
            db.session.add(AlertRuleSetting(key=key, value=value, updated_by_id=actor_id))
    if changed:
        audit.record("alerts.rules_changed", "alert_rule_setting", None,
                     before={k: before[k] for k in changed}, after=changed, reason=reason, actor_id=actor_id)
    db.session.flush()
    return checked


def level_for(amount_fen: int, days_left: int | None, rules: dict[str, int]) -> WarningLevel | None:
    """The highest level whose amount is reached and whose days are not exceeded; None below blue."""
    if days_left is None or amount_fen <= 0:
        return None
    best = 0
    for severity, level in enumerate(LEVELS, start=1):
        if amount_fen >= rules[f"amount_{level}_fen"] and days_left <= rules[f"days_{level}"]:
            best = severity
    return LEVEL_BY_SEVERITY.get(best)
