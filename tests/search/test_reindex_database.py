"""Rebuilding the database backend's index while another connection keeps searching.

This test commits for real (a second connection must see the data) and removes what it
made afterwards; it does not use the rolled-back ``db_session`` of the other tests.
"""

from __future__ import annotations

import threading
import time

import sqlalchemy as sa

from core.extensions import db
from core.registry.models import Region
from search import indexing
from search.backends.base import SearchQuery
from search.backends.database import DatabaseBackend
from search.models import SearchDocument, SearchOutbox
from search.text import parse_terms
from shop.models import Category, Product, ProductCertification, Supplier
from tests.search.factories_search import catalog


def _made_ids(made) -> dict[str, list[int]]:
    provinces = [chain["province"].path for chain in made.places.values()]
    regions = db.session.execute(
        sa.select(Region.id, Region.level).where(sa.or_(*[Region.path.startswith(p) for p in provinces]))
    ).all()
    return {
        "products": [p.id for p in made.products.values()],
        "suppliers": [s.id for s in made.suppliers.values()],
        "categories": [c.id for c in made.categories.values()],
        # Deepest first: villages before townships before counties ...
        "regions": [rid for rid, level in sorted(regions, key=lambda r: -r[1].depth)],
    }


def _remove(ids: dict[str, list[int]]) -> None:
    db.session.execute(sa.delete(ProductCertification).where(ProductCertification.product_id.in_(ids["products"])))
    db.session.execute(sa.delete(Product).where(Product.id.in_(ids["products"])))
    db.session.execute(sa.delete(Supplier).where(Supplier.id.in_(ids["suppliers"])))
    for category_id in sorted(ids["categories"], reverse=True):  # children were made after their parents
        db.session.execute(sa.delete(Category).where(Category.id == category_id))
    for region_id in ids["regions"]:
        db.session.execute(sa.delete(Region).where(Region.id == region_id))
    db.session.commit()
    db.session.execute(sa.delete(SearchOutbox))
    db.session.execute(sa.delete(SearchDocument))
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(sa.text("DELETE FROM search_fts"))
    db.session.commit()


def test_searching_keeps_answering_while_the_database_index_is_rebuilt(app):
    with app.app_context():
        made = catalog()
        ids = _made_ids(made)
        db.session.commit()  # the eager drain indexes the products
    try:
        backend = DatabaseBackend()
        query = SearchQuery(terms=tuple(parse_terms("巫山")))
        totals: list[int] = []
        errors: list[BaseException] = []
        done = threading.Event()

        def keep_searching():
            with app.app_context():
                while not done.is_set():
                    try:
                        totals.append(backend.search(query).total)
                    except BaseException as exc:  # recorded and asserted below
                        errors.append(exc)
                    db.session.rollback()  # a fresh snapshot for every search
                    time.sleep(0.002)

        thread = threading.Thread(target=keep_searching)
        thread.start()
        rebuilt = []
        try:
            with app.app_context():
                for _ in range(15):
                    rebuilt.append(indexing.reindex())
        finally:
            done.set()
            thread.join(10)
        assert errors == []
        assert rebuilt == [6] * 15
        assert len(totals) >= 15
        assert set(totals) == {3}  # never an empty or half-built index
    finally:
        with app.app_context():
            _remove(ids)
