"""Small helpers the shop's views share: choices for select boxes and form error display."""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash
from sqlalchemy.orm import aliased
from wtforms.fields.choices import SelectChoice

from core.errors import DomainError
from core.extensions import db
from core.registry.models import Region, RegionLevel
from shop.models import Category, Supplier


def attach_error(form, err: DomainError) -> None:
    """Show a service's error beside the field it names, or as a message at the top of the page."""
    target = getattr(form, err.field, None) if (form is not None and err.field) else None
    if target is not None and hasattr(target, "errors"):
        target.errors = [*target.errors, err.message]
    else:
        flash(err.message, "error")


def county_choices() -> list[SelectChoice]:
    """Every county of the registry as "province › city › county", in one query."""
    city, province = aliased(Region), aliased(Region)
    rows = db.session.execute(
        sa.select(Region.id, province.name, city.name, Region.name)
        .join(city, city.id == Region.parent_id)
        .join(province, province.id == city.parent_id)
        .where(Region.level == RegionLevel.COUNTY)
        .order_by(Region.code)
    ).all()
    return [SelectChoice(rid, f"{p} › {c} › {n}") for rid, p, c, n in rows]


def village_choices(supplier: Supplier) -> list[SelectChoice]:
    """The villages of the supplier's county as "township › village", in one query."""
    township = aliased(Region)
    rows = db.session.execute(
        sa.select(Region.id, township.name, Region.name)
        .join(township, township.id == Region.parent_id)
        .where(Region.level == RegionLevel.VILLAGE,
               Region.path.startswith(supplier.county.path, autoescape=True))
        .order_by(Region.code)
    ).all()
    return [SelectChoice(rid, f"{t} › {v}") for rid, t, v in rows]


def category_choices() -> list[SelectChoice]:
    rows = db.session.execute(sa.select(Category).order_by(Category.position, Category.id)).scalars().all()
    children: dict[int | None, list[Category]] = {}
    for c in rows:
        children.setdefault(c.parent_id, []).append(c)
    out: list[SelectChoice] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for c in children.get(parent_id, []):
            if len(out) > len(rows):
                return  # a cycle in hand-edited data
            out.append(SelectChoice(c.id, "— " * depth + c.name))
            walk(c.id, depth + 1)

    walk(None, 0)
    return out
