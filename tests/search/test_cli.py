"""``flask search status | reindex | drain`` on the database backend."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core.extensions import db
from search.models import SearchDocument, SearchOutbox
from shop.models import Product
from tests.search.factories_search import catalog


@pytest.fixture()
def shop(db_session, commit):
    made = catalog()
    commit()
    return made


@pytest.fixture()
def flask_search(app):
    runner = app.test_cli_runner()

    def run(*args):
        return runner.invoke(args=["search", *args])

    return run


def test_status_reports_a_clean_index(shop, flask_search):
    result = flask_search("status")
    assert result.exit_code == 0, result.output
    assert "backend: database" in result.output
    assert "products on sale: 6; documents in the index: 6" in result.output
    assert "the index matches the database" in result.output


def test_status_reports_drift_from_writes_that_bypass_the_session_and_fix_queues_them(shop, flask_search):
    plum, box = shop.products["plum"].id, shop.products["box"].id
    # Raw statements on the connection: no session event sees them, so no outbox row is written.
    connection = db.session.connection()
    connection.execute(sa.update(Product.__table__).where(Product.__table__.c.id == plum).values(name="巫山脆李王"))
    connection.execute(sa.delete(SearchDocument.__table__).where(SearchDocument.__table__.c.product_id == box))
    assert db.session.execute(sa.select(sa.func.count()).select_from(SearchOutbox)).scalar_one() == 0
    db.session.expire_all()  # what a fresh process would see

    result = flask_search("status")
    assert result.exit_code == 1
    assert f"missing from the index: 1 {box}" in result.output
    assert f"out of date: 1 {plum}" in result.output

    fixed = flask_search("status", "--fix")
    assert "queued 2 products for re-indexing" in fixed.output
    after = flask_search("status")
    assert after.exit_code == 0, after.output


def test_reindex_and_drain(shop, flask_search):
    db.session.execute(sa.delete(SearchDocument))
    result = flask_search("reindex")
    assert result.exit_code == 0, result.output
    assert "indexed 6 products" in result.output
    assert flask_search("status").exit_code == 0
    drained = flask_search("drain")
    assert drained.exit_code == 0
    assert "0 outbox rows" in drained.output
