"""The transactional outbox: every product change is written down in the transaction that makes it.

Why session events and not the shop's signals: ``shop.signals`` are sent after the commit,
so a crash between the commit and the signal would lose the change. Here the outbox row is
inserted by the same flush as the change, commits or rolls back with it, and is drained by
a Celery task enqueued *after* the commit (``after_commit``); if the broker is down then,
the periodic drain finds the row later. Nothing is lost, and nothing is indexed that was
rolled back.

What is caught
- ORM unit-of-work changes (``after_flush``): products created, changed or deleted; their
  certifications; suppliers (name, type, accreditation status), categories (name, parent) and
  regions (name, parent, key assistance flag), which fan out set-based to their products.
- ORM-enabled bulk statements (``do_orm_execute``): ``session.execute(update(Product)...)`` as the
  shop's stock refresh does, ``delete(...)``, and bulk UPDATE by primary key. The affected ids
  are selected with the statement's own WHERE, in the same transaction, just before it runs.

What is not: statements run on a raw connection (``db.session.connection().execute``,
``engine.begin()``), which no session event sees, and bulk INSERTs of new products. The
shop's demo scale seeder writes products that way (COPY); the search seeder rebuilds the
index after it, and the daily reconcile task finds any drift. A shop service that starts
writing products on a raw connection must also call ``record_products(session, ids)``.
"""

from __future__ import annotations

import logging
import time

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import BinaryExpression, BindParameter

from core.database import UTCDateTime, utcnow
from core.registry.models import Region
from search.models import SearchOutbox
from shop.models import Category, Product, ProductCertification, Supplier

log = logging.getLogger(__name__)

PENDING = "search_outbox_pending"  # session.info flag: rows written in the current transaction
PUBLISH_PAUSE_SECONDS = 30.0  # after the broker refused a drain task, leave it to beat for this long
_publish_paused_until = 0.0

# Attributes of related rows that appear in a product's index entry.
_FANOUT_ATTRIBUTES = {
    Supplier: ("name", "type", "status"),
    Category: ("name", "parent_id"),
    Region: ("name", "parent_id", "path", "is_key_assistance_county"),
}


def record_products(session: Session, product_ids, reason: str = "product") -> None:
    """Write outbox rows for ``product_ids`` in the session's current transaction."""
    ids = sorted({int(i) for i in product_ids if i is not None})
    if not ids:
        return
    now = utcnow()
    session.connection().execute(
        sa.insert(SearchOutbox.__table__),
        [{"product_id": i, "reason": reason, "created_at": now, "attempts": 0} for i in ids],
    )
    session.info[PENDING] = True


def record_select(session: Session, product_ids: sa.Select, reason: str, params: dict | None = None) -> None:
    """Write outbox rows for every product id ``product_ids`` selects (one INSERT … SELECT).

    ``params`` are the values of named bind parameters in ``product_ids`` (a caller's WHERE clause).
    """
    ids = product_ids.subquery()
    session.connection().execute(
        sa.insert(SearchOutbox.__table__).from_select(
            ["product_id", "reason", "created_at", "attempts"],
            sa.select(ids.c[0], sa.literal(reason), sa.literal(utcnow(), UTCDateTime()), sa.literal(0)),
        ),
        params or {},
    )
    session.info[PENDING] = True


def _changed(obj, attributes) -> bool:
    state = sa.inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in attributes)


def _after_flush(session: Session, flush_context) -> None:
    # In after_flush, new/dirty/deleted and attribute histories still describe this flush,
    # and new rows already have their ids.
    products: set[int] = set()
    fanout: dict[type, set[int]] = {Supplier: set(), Category: set(), Region: set()}
    for obj in session.new:
        if isinstance(obj, Product):
            products.add(obj.id)
        elif isinstance(obj, ProductCertification):
            products.add(obj.product_id)
    for obj in session.dirty:
        if isinstance(obj, Product | ProductCertification):
            if session.is_modified(obj, include_collections=False):
                products.add(obj.id if isinstance(obj, Product) else obj.product_id)
        elif isinstance(obj, Supplier | Category | Region) and _changed(obj, _FANOUT_ATTRIBUTES[type(obj)]):
            fanout[type(obj)].add(obj.id)
    for obj in session.deleted:
        if isinstance(obj, Product):
            products.add(obj.id)
        elif isinstance(obj, ProductCertification):
            products.add(obj.product_id)
    if products:
        record_products(session, products)
    if fanout[Supplier]:
        record_select(session, sa.select(Product.id).where(Product.supplier_id.in_(fanout[Supplier])), "supplier")
    if fanout[Category]:
        record_select(session, sa.select(Product.id).where(Product.category_id.in_(
            _category_subtree(session, fanout[Category]))), "category")
    if fanout[Region]:
        paths = list(session.execute(sa.select(Region.path).where(Region.id.in_(fanout[Region]))).scalars())
        under = sa.select(Region.id).where(sa.or_(*[Region.path.startswith(p, autoescape=True) for p in paths]))
        record_select(session, sa.select(Product.id).where(
            sa.or_(Product.origin_county_id.in_(under), Product.origin_village_id.in_(under))), "region")


def _category_subtree(session: Session, ids: set[int]) -> set[int]:
    rows = session.execute(sa.select(Category.id, Category.parent_id)).all()
    children: dict[int, list[int]] = {}
    for cid, parent in rows:
        if parent is not None:
            children.setdefault(parent, []).append(cid)
    found: set[int] = set()
    todo = list(ids)
    while todo:
        cid = todo.pop()
        if cid not in found:
            found.add(cid)
            todo.extend(children.get(cid, []))
    return found


def _affected(table: sa.Table, where) -> sa.Select | None:
    """The ids of the products a bulk UPDATE/DELETE on ``table`` touches, or None if none can be."""
    def scoped(select: sa.Select) -> sa.Select:
        return select.where(where) if where is not None else select

    name = table.name
    if name == Product.__tablename__:
        return scoped(sa.select(Product.id))
    if name == ProductCertification.__tablename__:
        return scoped(sa.select(ProductCertification.product_id))
    if name == Supplier.__tablename__:
        return sa.select(Product.id).where(Product.supplier_id.in_(scoped(sa.select(Supplier.id))))
    if name == Category.__tablename__:
        return sa.select(Product.id).where(Product.category_id.in_(scoped(sa.select(Category.id))))
    if name == Region.__tablename__:
        under = scoped(sa.select(Region.id))
        return sa.select(Product.id).where(sa.or_(Product.origin_county_id.in_(under),
                                                  Product.origin_village_id.in_(under)))
    return None


def _do_orm_execute(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete):
        return
    statement = state.statement
    table = getattr(statement, "table", None)
    if table is None or table.name not in _WATCHED_TABLES:
        return
    params = state.parameters
    where = statement.whereclause
    many = isinstance(params, list | tuple) and len(params) > 0
    if many and where is None and "id" in params[0]:
        # ORM bulk UPDATE by primary key: session.execute(update(Product), [{"id": 1, ...}, ...]).
        if table.name == Product.__tablename__:
            record_products(state.session, [p["id"] for p in params], "bulk")
        return
    selected = _affected(table, where)
    if selected is None:
        return
    if not many:
        record_select(state.session, selected, "bulk", params if isinstance(params, dict) else None)
        return
    # executemany with our own bind names, e.g. update(product).where(product.c.id == bindparam("pid")).
    key = _id_parameter(table, where)
    if key is not None and table.name == Product.__tablename__:
        record_products(state.session, [p[key] for p in params], "bulk")
        return
    for one in params:
        record_select(state.session, selected, "bulk", one)


def _id_parameter(table: sa.Table, where) -> str | None:
    """The bind name when ``where`` is exactly ``<table>.id == :name``."""
    if not isinstance(where, BinaryExpression) or where.operator is not operators.eq:
        return None
    left, right = where.left, where.right
    if isinstance(left, BindParameter):
        left, right = right, left
    if (isinstance(right, BindParameter) and getattr(left, "key", None) == "id"
            and getattr(getattr(left, "table", None), "name", None) == table.name):
        return right.key
    return None


_WATCHED_TABLES = {m.__tablename__ for m in (Product, ProductCertification, Supplier, Category, Region)}


def _after_commit(session: Session) -> None:
    if session.info.pop(PENDING, False):
        enqueue_drain()


def _after_rollback(session: Session) -> None:
    session.info.pop(PENDING, None)


def enqueue_drain() -> None:
    """Ask a worker to drain the outbox. Never fails the caller: the periodic drain is the safety net.

    With ``task_always_eager`` (tests, or CELERY_TASK_ALWAYS_EAGER) the drain runs right here,
    in the current application context: an eager task would push a context of its own whose
    teardown closes the very session whose commit called us.
    """
    global _publish_paused_until
    from flask import current_app

    from search import indexing
    from search.tasks import drain_search_outbox

    try:
        if current_app.extensions["celery"].conf.task_always_eager:
            indexing.drain_outbox()
        elif time.monotonic() >= _publish_paused_until:
            drain_search_outbox.apply_async(retry=False)
    except Exception:  # broker down, or (eager) the engine down: the rows wait in the outbox
        if not current_app.extensions["celery"].conf.task_always_eager:
            # Each attempt on a dead broker costs its client's connection timeout; do not make
            # every following commit wait for it too.
            _publish_paused_until = time.monotonic() + PUBLISH_PAUSE_SECONDS
        log.warning("search: the outbox drain could not run now; the periodic drain will catch up", exc_info=True)


_LISTENERS = (
    ("after_flush", _after_flush),
    ("do_orm_execute", _do_orm_execute),
    ("after_commit", _after_commit),
    ("after_rollback", _after_rollback),
)


def install() -> None:
    """Listen on every Session (the application's, the tests', the workers'); idempotent."""
    for name, listener in _LISTENERS:
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)
