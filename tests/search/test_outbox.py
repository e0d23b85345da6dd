"""The transactional outbox: written with the change, gone with a rollback, drained after commit,
and kept — in order — while the broker is unreachable, until the periodic drain catches up."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core.extensions import db
from search import indexing, outbox
from search.models import SearchDocument, SearchOutbox
from search.tasks import drain_search_outbox
from shop.models import Certification, Product, ProductCertification, ProductStatus, SupplierStatus
from tests.search.factories_search import catalog, product
from tests.search.fake_es import closed_port_url


def pending() -> list[tuple[int, str]]:
    return [tuple(r) for r in db.session.execute(
        sa.select(SearchOutbox.product_id, SearchOutbox.reason).order_by(SearchOutbox.id)).all()]


def names(client, **params) -> set[str]:
    return {h["name"] for h in client.get("/api/v1/search", query_string=params).get_json()["hits"]}


@pytest.fixture()
def shop(db_session, commit):
    made = catalog()
    commit()
    return made


def test_new_products_are_recorded_by_the_flush_that_creates_them(db_session):
    made = catalog()  # flushed, not committed
    assert {pid for pid, _ in pending()} == {p.id for p in made.products.values()}


def test_the_commit_drains_the_outbox_into_the_index(shop):
    assert pending() == []
    indexed = set(db.session.execute(sa.select(SearchDocument.product_id)).scalars())
    assert indexed == set(shop.ids("plum", "dried", "orange", "tomato", "box", "potato"))


def test_a_rolled_back_change_leaves_no_outbox_row(shop):
    savepoint = db.session.begin_nested()
    shop.products["plum"].price_fen = 100
    db.session.flush()
    assert pending() == [(shop.products["plum"].id, "product")]
    savepoint.rollback()
    assert pending() == []


def test_bulk_updates_are_recorded_with_their_own_where_clause(shop):
    wushan = shop.suppliers["wushan"].id
    db.session.execute(sa.update(Product).where(Product.supplier_id == wushan).values(stock=0))
    assert sorted(pending()) == sorted((i, "bulk") for i in shop.ids("plum", "dried", "orange", "delisted"))
    db.session.rollback()
    db.session.execute(sa.update(Product), [{"id": shop.products["tomato"].id, "stock": 5},
                                            {"id": shop.products["box"].id, "stock": 6}])
    assert sorted(pending()) == sorted((i, "bulk") for i in shop.ids("tomato", "box"))


def test_core_executemany_updates_with_own_bind_names_are_recorded(shop):
    table = Product.__table__
    # The shop's order completion: update(product).where(product.c.id == :pid), many parameter sets.
    db.session.execute(
        sa.update(table).where(table.c.id == sa.bindparam("pid"))
        .values(sold_quantity=table.c.sold_quantity + sa.bindparam("q")),
        [{"pid": shop.products["plum"].id, "q": 1}, {"pid": shop.products["box"].id, "q": 2}],
    )
    assert sorted(pending()) == sorted((i, "bulk") for i in shop.ids("plum", "box"))
    db.session.rollback()
    # Any other WHERE with bind names: one INSERT … SELECT per parameter set.
    db.session.execute(
        sa.update(table).where(table.c.supplier_id == sa.bindparam("sid")).values(stock=sa.bindparam("n")),
        [{"sid": shop.suppliers["dingxi"].id, "n": 1}, {"sid": shop.suppliers["shouguang"].id, "n": 2}],
    )
    assert sorted(pending()) == sorted((i, "bulk") for i in shop.ids("potato", "box"))
    db.session.rollback()
    db.session.execute(sa.update(table).where(table.c.id.in_(sa.bindparam("ids", expanding=True))).values(stock=0),
                       {"ids": shop.ids("tomato", "dried")})
    assert sorted(pending()) == sorted((i, "bulk") for i in shop.ids("tomato", "dried"))


def test_certifications_suppliers_categories_and_regions_fan_out_to_their_products(shop, client, commit):
    plum = shop.products["plum"]
    plum.certifications.append(ProductCertification(kind=Certification.ORGANIC))
    db.session.flush()
    assert pending() == [(plum.id, "product")]
    commit()

    shop.suppliers["kaizhou"].status = SupplierStatus.SUSPENDED
    db.session.flush()
    assert pending() == [(shop.products["tomato"].id, "supplier")]
    commit()
    assert "鲁渝一号西红柿" not in names(client, q="西红柿")

    shop.categories["fruiting"].name = "鲜果菜"
    db.session.flush()
    assert {pid for pid, reason in pending() if reason == "category"} == set(shop.ids("tomato", "box"))
    commit()
    assert names(client, q="鲜果菜") == {"寿光蔬菜礼盒"}

    shop.places["shouguang"]["county"].is_key_assistance_county = True
    db.session.flush()
    assert pending() == [(shop.products["box"].id, "region")]
    commit()

    shop.places["wushan"]["province"].name = "重庆"
    db.session.flush()
    assert {pid for pid, _ in pending()} == set(shop.ids("plum", "dried", "orange", "tomato", "delisted", "hidden"))


def test_an_unrelated_change_to_a_supplier_records_nothing(shop):
    shop.suppliers["wushan"].contact_phone = "13900000000"
    db.session.flush()
    assert pending() == []


def test_a_deleted_product_leaves_the_index(shop, commit):
    box = shop.products["box"]
    box_id = box.id
    db.session.delete(box)
    commit()
    assert db.session.get(SearchDocument, box_id) is None
    assert pending() == []


@pytest.fixture()
def broker_down(app):
    """Celery as in production (tasks published, not run inline), to a broker nobody listens on."""
    celery = app.extensions["celery"]
    saved = {key: celery.conf[key] for key in ("task_always_eager", "broker_url", "broker_transport_options")}
    celery.conf.update(task_always_eager=False, broker_url=closed_port_url().replace("http", "redis") + "/0",
                       broker_transport_options={"max_retries": 0})
    celery.pool.force_close_all()
    celery._pool = None
    yield
    celery.conf.update(saved)
    celery.pool.force_close_all()
    celery._pool = None


def test_changes_made_while_the_broker_is_down_wait_and_are_indexed_in_order_when_it_is_back(
        app, client, shop, commit, broker_down, caplog):
    ids = {key: p.id for key, p in shop.products.items()}
    shop.products["plum"].name = "巫山脆李（礼盒装）"
    commit()
    shop.products["orange"].status = ProductStatus.DELISTED
    commit()
    db.session.execute(sa.update(Product).where(Product.id == ids["tomato"]).values(name="鲁渝一号番茄"))
    commit()
    new = product(shop.suppliers["dingxi"], shop.categories["tuber"], shop.places["dingxi"], "定西土豆粉")
    commit()
    assert "the periodic drain will catch up" in caplog.text
    # Nothing was lost and the order of the changes is kept.
    assert [pid for pid, _ in pending()] == [ids["plum"], ids["orange"], ids["tomato"], new.id]
    # Text the index has not seen yet is not found (facts like being on sale are read live).
    assert names(client, q="礼盒装") == set()
    assert names(client, q="土豆粉") == set()

    # The broker is back (the fixture's teardown would restore it; do it now): beat's drain runs.
    celery = app.extensions["celery"]
    celery.conf.update(task_always_eager=True)
    commit()  # end the test session's read transaction: the task's app context closes that session
    result = drain_search_outbox.apply().get()
    assert result == {"rows": 4, "indexed": 3, "removed": 1, "busy": False}
    assert pending() == []
    assert names(client, q="礼盒装") == {"巫山脆李（礼盒装）"}
    assert names(client, q="土豆粉") == {"定西土豆粉"}
    assert names(client, q="番茄") >= {"鲁渝一号番茄"}
    assert "巫山恋橙" not in names(client, q="巫山")


def test_an_outbox_drain_holding_the_lease_makes_a_second_one_wait(shop):
    with indexing.work_session() as session:
        assert indexing.acquire_lease(session, "someone-else", 60)
    shop.products["plum"].price_fen = 1234
    db.session.flush()
    report = indexing.drain_outbox()
    assert report.busy and len(pending()) == 1
    with indexing.work_session() as session:
        indexing.release_lease(session, "someone-else")
    assert indexing.drain_outbox().rows == 1
    assert pending() == []


def test_a_commit_with_search_work_only_enqueues_once(shop, commit):
    db.session.info.pop(outbox.PENDING, None)
    shop.products["plum"].stock = 3
    db.session.flush()
    assert db.session.info.get(outbox.PENDING) is True
    commit()
    assert outbox.PENDING not in db.session.info
