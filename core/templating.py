"""Template filters and globals: money, local time, masking, permissions, navigation."""

from __future__ import annotations

from flask import Flask, current_app
from flask_babel import format_datetime, get_locale
from flask_babel import lazy_gettext as _l

from core.money import format_fen, format_fen_wan
from core.permissions import Permission, can
from core.personal_data import mask_id_number, mask_phone

ROLE_LABELS = {
    "consumer": _l("Consumer"),
    "supplier": _l("Supplier member"),
    "unit_buyer": _l("Unit buyer"),
    "unit_approver": _l("Unit approver"),
    "platform_admin": _l("Platform administrator"),
    "regional_admin": _l("Regional administrator"),
}
LEVEL_LABELS = {
    "province": _l("Province"),
    "city": _l("City"),
    "county": _l("County"),
    "township": _l("Township"),
    "village": _l("Village"),
}
KIND_LABELS = {"poverty_lifted": _l("Poverty-lifted household"), "monitored": _l("Monitored household")}


def _label(table):
    return lambda value: table.get(getattr(value, "value", value), value)


def nav_items() -> list[dict]:
    """Navigation entries the current user may open; domains add theirs at start-up."""
    return [item for item in current_app.extensions.get("nav_items", []) if item["permission"] is None
            or can(item["permission"])]


def init_app(app: Flask) -> None:
    app.extensions.setdefault("nav_items", [])
    app.jinja_env.filters["fen"] = format_fen
    app.jinja_env.filters["fen_wan"] = format_fen_wan
    # Babel's format_datetime renders in BABEL_DEFAULT_TIMEZONE (Asia/Shanghai).
    app.jinja_env.filters["local_dt"] = lambda dt, fmt="yyyy-MM-dd HH:mm": format_datetime(dt, fmt) if dt else "—"
    app.jinja_env.filters["mask_phone"] = mask_phone
    app.jinja_env.filters["mask_id"] = mask_id_number
    app.jinja_env.globals.update(
        can=can, Permission=Permission, get_locale=get_locale, nav_items=nav_items, role_label=_label(ROLE_LABELS),
        level_label=_label(LEVEL_LABELS), kind_label=_label(KIND_LABELS),
    )


def add_nav_item(app: Flask, endpoint: str, label, permission: Permission | None = None, order: int = 50) -> None:
    items = app.extensions.setdefault("nav_items", [])
    items.append({"endpoint": endpoint, "label": label, "permission": permission, "order": order})
    items.sort(key=lambda i: i["order"])
