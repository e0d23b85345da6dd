"""The database backend writes only documents whose text changed (drain and rebuild alike), so that
neither leaves a dead copy of every row behind on PostgreSQL, and a rebuild still corrects everything."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from core.extensions import db
from search.backends import get_backend
from search.backends.base import SearchQuery
from search.models import SearchDocument
from search.text import parse_terms
from tests.search.factories_search import catalog

LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


@pytest.fixture()
def shop(db_session, commit):
    made = catalog()
    commit()
    # Mark every document, to see which ones are written again.
    db.session.execute(sa.update(SearchDocument).values(indexed_at=LONG_AGO))
    return made


def rewritten() -> set[int]:
    return set(db.session.execute(
        sa.select(SearchDocument.product_id).where(SearchDocument.indexed_at != LONG_AGO)).scalars())


def documents() -> dict[int, str]:
    return dict(db.session.execute(sa.select(SearchDocument.product_id, SearchDocument.name_text)).all())


def test_a_change_that_leaves_the_text_alone_rewrites_no_document(shop, commit):
    plum, tomato = shop.products["plum"], shop.products["tomato"]
    plum.stock = 3
    tomato.name = "鲁渝一号番茄"
    commit()  # the eager drain applies both changes
    assert rewritten() == {tomato.id}
    assert documents()[tomato.id] == "鲁渝一号番茄"


def test_a_rebuild_rewrites_only_what_differs_and_removes_what_is_no_longer_on_sale(shop):
    before = documents()
    plum, orange = shop.products["plum"], shop.products["orange"]
    # Past the outbox (a raw connection): only a rebuild can notice.
    connection = db.session.connection()
    connection.execute(sa.text("UPDATE product SET name = :name WHERE id = :id"),
                       {"name": "巫山脆李特级", "id": plum.id})
    connection.execute(sa.text("UPDATE product SET status = 'delisted' WHERE id = :id"), {"id": orange.id})
    db.session.expire_all()

    backend = get_backend()
    assert backend.name == "database"
    count = backend.rebuild(db.session)

    after = documents()
    assert count == len(before) - 1
    assert orange.id not in after
    assert after[plum.id] == "巫山脆李特级"
    assert rewritten() == {plum.id}
    assert backend.search(SearchQuery(terms=tuple(parse_terms("特级")))).ids == [plum.id]
    assert backend.search(SearchQuery(terms=tuple(parse_terms("恋橙")))).ids == []
    assert {pid: text for pid, text in after.items() if pid != plum.id} == {
        pid: text for pid, text in before.items() if pid not in (plum.id, orange.id)}
