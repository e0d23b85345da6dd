"""Keeping the index true: draining the outbox, rebuilding, comparing index and database.

All three hold the one ``search_lease``, so they never interleave: a drain never writes
an old state over a newer one, and a rebuild never misses a change (changes made while it
runs wait in the outbox and are drained into the new index once it is live).

They work in a session of their own, bound to whatever the application's session is
bound to (the engine; the test's connection in tests), because a drain may be started
from an ``after_commit`` hook, where the committing session can no longer run SQL.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.database import utcnow
from core.errors import Conflict
from core.extensions import db
from search.backends import get_backend
from search.backends.base import DriftReport, SearchBackend
from search.documents import build_documents, iter_documents
from search.models import SearchLease, SearchOutbox

log = logging.getLogger(__name__)

LEASE = "index"
DRAIN_LEASE_SECONDS = 300
REBUILD_LEASE_SECONDS = 2 * 3600
BATCH_SIZE = 500
MAX_ATTEMPTS = 10  # a document the engine refused this often stays in the outbox, reported by `status`


@contextmanager
def work_session() -> Iterator[Session]:
    session = Session(bind=db.session.get_bind(), join_transaction_mode="create_savepoint",
                      expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()


# --- the lease ---------------------------------------------------------------------------------


def acquire_lease(session: Session, holder: str, seconds: int) -> bool:
    now = utcnow()
    taken = session.execute(
        sa.update(SearchLease)
        .where(SearchLease.name == LEASE,
               sa.or_(SearchLease.holder.is_(None), SearchLease.expires_at < now, SearchLease.holder == holder))
        .values(holder=holder, expires_at=now + timedelta(seconds=seconds))
        .execution_options(synchronize_session=False)
    ).rowcount
    if not taken:
        exists = session.execute(sa.select(SearchLease.name).where(SearchLease.name == LEASE)).first()
        if exists:
            session.rollback()
            return False
        try:  # the migration creates the row; this only covers a database built some other way
            session.add(SearchLease(name=LEASE, holder=holder, expires_at=now + timedelta(seconds=seconds)))
            session.flush()
        except IntegrityError:
            session.rollback()
            return False
    session.commit()
    return True


def release_lease(session: Session, holder: str) -> None:
    try:
        session.rollback()
        session.execute(
            sa.update(SearchLease).where(SearchLease.name == LEASE, SearchLease.holder == holder)
            .values(holder=None, expires_at=None).execution_options(synchronize_session=False)
        )
        session.commit()
    except Exception:  # the database itself is gone; the lease expires on its own
        log.warning("search: could not release the index lease; it expires by itself", exc_info=True)


# --- draining ------------------------------------------------------------------------------------


@dataclass
class DrainReport:
    busy: bool = False  # someone else holds the lease; the rows wait for them or the next drain
    rows: int = 0
    indexed: int = 0
    removed: int = 0
    refused: dict[int, str] = field(default_factory=dict)
    order: list[int] = field(default_factory=list)  # product ids in the order they were written


def drain_outbox(*, backend: SearchBackend | None = None, batch_size: int = BATCH_SIZE) -> DrainReport:
    """Bring the index up to date with every outbox row, oldest first.

    Each batch is one transaction: the backend writes the products' current state, then the
    batch's rows are deleted. If the backend fails as a whole (unreachable, overloaded), the
    transaction rolls back, the rows stay, and SearchUnavailable propagates to the task, which
    retries. A product changed several times in a batch is written once, in the position of
    its latest change; the state written is always the one read inside the transaction, so an
    older state can never overwrite a newer one.
    """
    backend = backend or get_backend()
    holder = f"drain:{uuid.uuid4().hex[:16]}"
    report = DrainReport()
    with work_session() as session:
        if not acquire_lease(session, holder, DRAIN_LEASE_SECONDS):
            report.busy = True
            return report
        try:
            last_id = 0
            while True:
                rows = session.execute(
                    sa.select(SearchOutbox.id, SearchOutbox.product_id)
                    .where(SearchOutbox.id > last_id, SearchOutbox.attempts < MAX_ATTEMPTS)
                    .order_by(SearchOutbox.id).limit(batch_size)
                ).all()
                if not rows:
                    break
                last_id = rows[-1].id
                ordered = list(dict.fromkeys(r.product_id for r in reversed(rows)))[::-1]
                docs = build_documents(session, ordered)
                outcome = backend.apply(session, [(i, docs.get(i)) for i in ordered])
                done = [r.id for r in rows if r.product_id not in outcome.failed]
                if done:
                    session.execute(sa.delete(SearchOutbox).where(SearchOutbox.id.in_(done))
                                    .execution_options(synchronize_session=False))
                for product_id, reason in outcome.failed.items():
                    session.execute(
                        sa.update(SearchOutbox).where(SearchOutbox.product_id == product_id,
                                                      SearchOutbox.id <= last_id)
                        .values(attempts=SearchOutbox.attempts + 1, last_error=reason[:500])
                        .execution_options(synchronize_session=False)
                    )
                    log.error("search: the index refused product %s: %s", product_id, reason)
                session.execute(
                    sa.update(SearchLease).where(SearchLease.name == LEASE, SearchLease.holder == holder)
                    .values(expires_at=utcnow() + timedelta(seconds=DRAIN_LEASE_SECONDS))
                    .execution_options(synchronize_session=False)
                )
                session.commit()
                report.rows += len(rows)
                report.indexed += sum(1 for i in ordered if i in docs and i not in outcome.failed)
                report.removed += sum(1 for i in ordered if i not in docs)
                report.refused.update(outcome.failed)
                report.order.extend(ordered)
        except BaseException:
            session.rollback()
            raise
        finally:
            release_lease(session, holder)
    return report


# --- rebuilding ------------------------------------------------------------------------------------


def reindex(*, backend: SearchBackend | None = None, progress=None) -> int:
    """Rebuild the whole index and make it live at once; searching keeps working meanwhile.

    Elasticsearch: a new index behind the alias, swapped when complete. Database: every
    document rewritten in one transaction, which readers see only when it commits.
    """
    from search.outbox import enqueue_drain

    backend = backend or get_backend()
    holder = f"rebuild:{uuid.uuid4().hex[:16]}"
    with work_session() as session:
        if not acquire_lease(session, holder, REBUILD_LEASE_SECONDS):
            raise Conflict(_("The search index is being updated right now. Please try again in a minute."))
        try:
            count = backend.rebuild(session, progress)
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            release_lease(session, holder)
    enqueue_drain()  # what changed during the rebuild waited in the outbox
    return count


# --- comparing ---------------------------------------------------------------------------------------


@dataclass
class IndexStatus:
    backend: str
    drift: DriftReport
    pending: int  # outbox rows waiting
    oldest_pending: datetime | None
    stuck: dict[int, str]  # product id → last error, for rows refused MAX_ATTEMPTS times
    lease_holder: str | None
    lease_expires_at: datetime | None
    catching_up: list[int]  # drifted ids that have an outbox row waiting

    @property
    def unexplained(self) -> list[int]:
        return sorted(set(self.drift.drifted) - set(self.catching_up))

    @property
    def healthy(self) -> bool:
        return not self.unexplained and not self.stuck


def index_status(*, backend: SearchBackend | None = None) -> IndexStatus:
    backend = backend or get_backend()
    session = db.session
    expected: dict[int, str] = {}
    for batch in iter_documents(session):
        for doc in batch:
            expected[doc.product_id] = backend.expected_fingerprint(doc)
    actual = backend.fingerprints(session)
    both = expected.keys() & actual.keys()
    drift = DriftReport(
        expected=len(expected), indexed=len(actual),
        missing=sorted(expected.keys() - actual.keys()), extra=sorted(actual.keys() - expected.keys()),
        stale=sorted(i for i in both if expected[i] != actual[i]),
    )
    pending, oldest = session.execute(
        sa.select(sa.func.count(), sa.func.min(SearchOutbox.created_at)).where(SearchOutbox.attempts < MAX_ATTEMPTS)
    ).one()
    stuck = dict(session.execute(
        sa.select(SearchOutbox.product_id, SearchOutbox.last_error).where(SearchOutbox.attempts >= MAX_ATTEMPTS)
    ).all())
    waiting = set(session.execute(
        sa.select(SearchOutbox.product_id).where(SearchOutbox.product_id.in_(drift.drifted))
    ).scalars()) if drift.drifted else set()
    lease = session.get(SearchLease, LEASE)
    return IndexStatus(
        backend=backend.name, drift=drift, pending=pending, oldest_pending=oldest,
        stuck={k: v or "" for k, v in stuck.items()},
        lease_holder=lease.holder if lease else None, lease_expires_at=lease.expires_at if lease else None,
        catching_up=sorted(waiting),
    )


def reconcile(*, backend: SearchBackend | None = None) -> list[int]:
    """Queue every product whose index entry differs from the database; return their ids."""
    from search.outbox import record_products

    status = index_status(backend=backend)
    ids = status.unexplained
    if ids:
        record_products(db.session, ids, "reconcile")
        db.session.commit()  # after_commit enqueues the drain
    return ids
