"""Small helpers the procurement views share: select-box choices, the year argument, error display."""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash, request
from sqlalchemy.orm import aliased
from wtforms.fields.choices import SelectChoice

from core.errors import DomainError
from core.extensions import db
from core.registry.models import Region, RegionLevel
from core.registry.services import region_scope
from procurement.services.common import is_admin, local_year, plan_years


def attach_error(form, err: DomainError, aliases: dict[str, str] | None = None) -> None:
    """Show a service's error beside the field it names, or as a message at the top of the page."""
    name = (aliases or {}).get(err.field or "", err.field)
    target = getattr(form, name, None) if (form is not None and name) else None
    if target is not None and hasattr(target, "errors"):
        target.errors = [*target.errors, err.message]
    else:
        flash(err.message, "error")


def region_choices(user, levels=(RegionLevel.PROVINCE, RegionLevel.CITY, RegionLevel.COUNTY)
                   ) -> list[SelectChoice]:
    """Provinces, cities and counties as "province › city › county", limited to an administrator's
    region (everyone else may choose any), in one query."""
    stmt = sa.select(Region.id, Region.name, Region.path).where(Region.level.in_(levels)).order_by(Region.path)
    if is_admin(user):
        stmt = stmt.where(region_scope(user, Region.id))
    rows = db.session.execute(stmt).all()
    names = {rid: name for rid, name, _path in rows}
    choices = []
    for rid, _name, path in rows:
        chain = [names[int(p)] for p in path.strip("/").split("/") if p and int(p) in names]
        choices.append(SelectChoice(rid, " › ".join(chain)))
    return sorted(choices, key=lambda c: c.label)


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


def year_arg() -> int:
    """The ?year= of a list page, clamped to the years plans exist for (this year by default)."""
    years = plan_years()
    try:
        year = int(request.args.get("year", local_year()))
    except ValueError:
        year = local_year()
    return min(max(year, years.start), years.stop - 1)
