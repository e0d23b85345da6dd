"""Procurement settings, read from the environment (listed in the README)."""

from __future__ import annotations

import os
from decimal import Decimal, InvalidOperation

from flask import Flask, current_app


def _percent_to_bp(raw: str | int | Decimal) -> int:
    """"10" or "12.5" (percent) → basis points; refuses anything outside 0–100 or finer than 0.01%."""
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation as exc:
        raise ValueError(f"PLAN_MIN_RESERVED_SHARE_PERCENT must be a percentage, not {raw!r}") from exc
    bp = value * 100
    if not value.is_finite() or bp != bp.to_integral_value() or not 0 <= bp <= 10000:
        raise ValueError(f"PLAN_MIN_RESERVED_SHARE_PERCENT must be between 0 and 100 with at most two decimals, "
                         f"not {raw!r}")
    return int(bp)


def load_settings(app: Flask) -> None:
    # The least share of a unit's canteen food budget reserved for products from
    # poverty-lifted areas; the national rule says "not less than 10%".
    app.config.setdefault("PLAN_MIN_RESERVED_SHARE_PERCENT",
                          os.environ.get("PLAN_MIN_RESERVED_SHARE_PERCENT") or "10")
    _percent_to_bp(app.config["PLAN_MIN_RESERVED_SHARE_PERCENT"])  # fail at start-up, not on the first plan
    # Which purchase channels count toward a unit's plan (canteen 食堂, union 工会, employee 职工个人);
    # every channel is still reported in its own column. And how many percentage points a unit's
    # completion may trail time progress before it is listed as lagging.
    from procurement.services.completion import (
        DEFAULT_COUNTED_CHANNELS,
        DEFAULT_LAG_POINTS,
        parse_channels,
        parse_points,
    )

    app.config.setdefault("PLAN_COUNTED_CHANNELS", os.environ.get("PLAN_COUNTED_CHANNELS") or DEFAULT_COUNTED_CHANNELS)
    app.config.setdefault("PLAN_LAG_POINTS", os.environ.get("PLAN_LAG_POINTS") or DEFAULT_LAG_POINTS)
    parse_channels(app.config["PLAN_COUNTED_CHANNELS"])
    parse_points(app.config["PLAN_LAG_POINTS"])
    # Integrity checks (procurement.services.integrity): the split-order window, how shortly before a large
    # order line a price raise is flagged and what is large, and the year-end days and share looked at.
    from procurement.services.integrity import DEFAULTS as INTEGRITY_DEFAULTS
    from procurement.services.integrity import parse_settings as parse_integrity_settings

    for name, default in INTEGRITY_DEFAULTS.items():
        app.config.setdefault(name, os.environ.get(name) or default)
    parse_integrity_settings(app.config)


def minimum_share_bp() -> int:
    return _percent_to_bp(current_app.config["PLAN_MIN_RESERVED_SHARE_PERCENT"])
