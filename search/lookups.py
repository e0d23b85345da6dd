"""Reference rows a search answer names things with: categories and regions, read as plain rows.

A search answer names a page of products, their origins and the facets' categories and places.
Reading those as ORM objects (an identity map entry and instance state for each of a hundred or
so rows) cost more than the queries themselves; these read only the columns named, as rows,
and a search reads the regions it needs once for its hits and its origin facet together.
"""

from __future__ import annotations

import sqlalchemy as sa

from core.extensions import db
from core.registry.models import Region
from shop.models import Category

REGION_COLUMNS = (Region.id, Region.name, Region.level, Region.parent_id, Region.path, Region.code,
                  Region.is_key_assistance_county)


def categories() -> list[sa.Row]:
    """Every category (id, name, parent_id, position), in display order."""
    return list(db.session.execute(
        sa.select(Category.id, Category.name, Category.parent_id, Category.position)
        .order_by(Category.position, Category.id)
    ))


def regions_with_ancestors(ids: set[int], known: dict[int, sa.Row] | None = None) -> dict[int, sa.Row]:
    """The regions ``ids`` and all their ancestors (from their materialised paths), adding to ``known``."""
    found = dict(known or {})
    missing = set(ids) - set(found)
    if missing:
        found.update({r.id: r for r in db.session.execute(sa.select(*REGION_COLUMNS).where(Region.id.in_(missing)))})
    ancestors = {int(x) for i in ids if i in found for x in found[i].path.strip("/").split("/") if x} - set(found)
    if ancestors:
        found.update({r.id: r for r in db.session.execute(
            sa.select(*REGION_COLUMNS).where(Region.id.in_(ancestors)))})
    return found
