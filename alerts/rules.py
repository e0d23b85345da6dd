"""The early-warning rules and their thresholds: the one documented place.

Every figure the job computes for a listed product (see ``alerts.figures``):

- ``stock``: the product's available stock;
- ``velocity_7`` / ``velocity_28``: units sold per day over the 7 and 28 whole days before the
  run's date (consumer and procurement orders alike; cancelled and refunded sub-orders and
  refunded quantities excluded);
- ``days_of_cover`` = stock ÷ the 7-day velocity (the recent pace is what the stock will meet);
- ``days_to_spoil``: days until the first lot that will not sell in time expires, lots sold
  first-expiring first (FEFO) at the 7-day pace (at the pace since the stock was produced when
  all of it is younger than a week and nothing older sold that week; none on its first day);
  ``unsold_before_spoil``: the quantity left over when each lot expires; ``days_to_spoil_steady``
  and ``unsold_before_spoil_steady``: the same at the larger of that pace and the 28-day one;
- ``days_to_season_end``: days until the current harvest window (``harvest_months``) ends;
- ``velocity_drop_bp``: how much the 7-day velocity fell below the 28-day one (basis points);
- ``days_since_last_sale`` (since listing when never sold);
- ``price_vs_group_bp``: the product's price against the average price paid this month for the
  same category from the same origin province; ``group_mom_bp`` / ``group_yoy_bp``: that average
  against last month and against the same month last year.

Causes (one live warning per product and cause) and when each fires:

- ``spoilage``: some stock will not sell before it spoils. At risk: unsold quantity × price;
  days left: ``days_to_spoil``. A spoil day more than ``steady_pace_after_days`` days off (default
  14) is judged by the same forecast at the steadier pace, the larger of the 7-day and the 28-day
  one (``days_to_spoil_steady``, ``unsold_before_spoil_steady``): a week of slow sales is evidence
  for the next two weeks, not for the next five; within the two weeks the recent pace decides, so
  a lasting collapse still warns in time. The forecast also gives lots expiring more than
  ``days_red`` days away a pace ``pace_margin_percent`` faster (default 20): a few days' sales are
  as good as known, weeks of them are not, and a shortfall of a few units weeks ahead is noise.
  Before either, the week's sales are taken at ``pace_error_percent`` (default 100) of one standard
  error above what was counted — √(units sold), as for counts of independent purchases: 49 units
  sold in a week are read as 56, 9 as 12, none as none. A week of 30 to 80 units of fruit is a
  noisy measure of demand (±11–18 %), and a forecast that calls stock lost on the strength of a
  slow week was, on the simulation, the commonest false warning.
  The level weighs the whole spell of spoilage, not only the stock
  on hand: the amount at risk plus ``spoiled_in_spell`` × price, the units the latest run of expired
  lots already lost (lots that each left stock unsold, back to one that sold out, within 28 days).
  Leafy greens cut every two or three days hold only a few days' stock at a time: a collapse in
  their demand loses a little on every harvest, and the warning must see the losses add up.
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
week cannot wait three days for its first warning) when its days left are at most
``steady_pace_after_days``, and ``open_far_after_runs`` runs (default 2) when they are further off:
a loss weeks away can wait a day to be confirmed, and a forecast that crosses a threshold for a
single day (a slow day's sales, one late order) then tells no one; it rises only after a higher level held
``rise_after_runs`` consecutive runs (default 3, the "three runs running" of real plans), to the
lowest level seen over those runs; it falls at once when a run computes a lower level, and
resolves by itself once its condition has been absent for ``resolve_after_runs`` consecutive runs
(default 3). Until then it stays open at its level, takes each run's figures, and the run's
observation has no level; a run at risk in between starts the count again, and no second warning
opens. A forecast that hovers at a threshold would otherwise resolve and reopen the warning day
after day, telling the same people the same thing each time; three days is less than the red days
left (5), so a real end of the risk is still recognised within the week. A warning of a product no
longer listed resolves at once, and a watching warning whose condition lapses is dropped at once.

Plan-lag warnings of buyer units (``alerts.planlag``) use the same two streak settings; their level
comes from the gap in points above the ``plan_lag_*_points`` thresholds (blue: PLAN_LAG_POINTS).
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
from procurement.services.completion import lag_points_setting

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
    RuleSpec("steady_pace_after_days", 14, _l("Spoilage further off than this is judged at the steadier pace"),
             _l("days")),  # and waits open_far_after_runs runs before its warning opens
    RuleSpec("pace_margin_percent", 20, _l("Spoilage: count only what would not sell at a pace faster by"), "%"),
    RuleSpec("pace_error_percent", 100, _l("Spoilage: allow for chance in a week's sales, in per cent of their "
                                           "standard error (the square root of the units sold)"), "%"),
    RuleSpec("open_after_runs", 1, _l("Open a warning after the condition held for"), _l("runs")),
    RuleSpec("open_far_after_runs", 2, _l("Open a warning further off than the steadier-pace days after"),
             _l("runs")),
    RuleSpec("rise_after_runs", 3, _l("Raise a level after the higher level held for"), _l("runs")),
    RuleSpec("resolve_after_runs", 3, _l("Resolve a warning after its condition was absent for"), _l("runs")),
    # Plan-lag warnings of buyer units (alerts.planlag): blue opens above PLAN_LAG_POINTS, these raise it.
    RuleSpec("plan_lag_yellow_points", 20, _l("Plan lag yellow (level 3): behind time progress by more than"),
             _l("points")),
    RuleSpec("plan_lag_orange_points", 30, _l("Plan lag orange (level 2): behind time progress by more than"),
             _l("points")),
    RuleSpec("plan_lag_red_points", 40, _l("Plan lag red (level 1): behind time progress by more than"),
             _l("points")),
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
    for key in ("open_after_runs", "open_far_after_runs", "rise_after_runs", "resolve_after_runs"):
        if checked[key] < 1:
            raise ValidationFailed(_("%(field)s must be at least one run.", field=SPEC_BY_KEY[key].label), field=key)
    for key in ("sales_drop_percent", "price_fall_mom_percent", "price_fall_yoy_percent"):
        if not 1 <= checked[key] <= 100:
            raise ValidationFailed(_("%(field)s must be between 1 and 100.", field=SPEC_BY_KEY[key].label), field=key)
    if checked["pace_margin_percent"] > 100:
        raise ValidationFailed(_("%(field)s must be at most 100.", field=SPEC_BY_KEY["pace_margin_percent"].label),
                               field="pace_margin_percent")
    if checked["pace_error_percent"] > 300:
        raise ValidationFailed(_("%(field)s must be at most 300.", field=SPEC_BY_KEY["pace_error_percent"].label),
                               field="pace_error_percent")
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
    _validate_plan_lag(checked)
    return checked


def _validate_plan_lag(checked: dict[str, int]) -> None:
    """Plan-lag points rise from blue (PLAN_LAG_POINTS, a setting) to yellow, orange and red, at most 100."""
    points = [checked[f"plan_lag_{lv}_points"] for lv in LEVELS[1:]]
    if points[-1] > 100:
        raise ValidationFailed(_("%(field)s must be at most 100.", field=SPEC_BY_KEY["plan_lag_red_points"].label),
                               field="plan_lag_red_points")
    if points[0] <= lag_points_setting() or any(a >= b for a, b in itertools.pairwise(points)):
        raise ValidationFailed(_("Plan-lag points must rise from blue (PLAN_LAG_POINTS, now %(blue)s) to yellow to "
                                 "orange to red.", blue=lag_points_setting()), field="plan_lag_red_points")


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


def runs_to_open(days_left: int | None, rules: dict[str, int]) -> int:
    """Consecutive runs a condition must hold before its warning opens: more when the loss is far off."""
    if days_left is not None and days_left <= rules["steady_pace_after_days"]:
        return rules["open_after_runs"]
    return max(rules["open_after_runs"], rules["open_far_after_runs"])


def level_for(amount_fen: int, days_left: int | None, rules: dict[str, int]) -> WarningLevel | None:
    """The highest level whose amount is reached and whose days are not exceeded; None below blue."""
    if days_left is None or amount_fen <= 0:
        return None
    best = 0
    for severity, level in enumerate(LEVELS, start=1):
        if amount_fen >= rules[f"amount_{level}_fen"] and days_left <= rules[f"days_{level}"]:
            best = severity
    return LEVEL_BY_SEVERITY.get(best)
