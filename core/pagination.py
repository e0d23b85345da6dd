"""Page-number pagination for admin lists (bounded page sizes, clamped pages)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import request

from core.extensions import db


@dataclass
class Page:
    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def paginate(stmt: sa.Select, *, per_page: int = 20) -> Page:
    try:
        page = int(request.args.get("page", 1))
    except ValueError:
        page = 1
    total = db.session.execute(sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    rows = db.session.execute(stmt.limit(per_page).offset((page - 1) * per_page)).all()
    items = [r if len(r) > 1 else r[0] for r in rows]
    return Page(items=items, page=page, per_page=per_page, total=total)
