"""Celery tasks: thin wrappers around ``search.indexing`` (STYLE habit 8).

``drain_search_outbox`` is enqueued after every commit that wrote outbox rows, and by beat
every minute as a safety net; the lease makes overlapping runs harmless (the second finds
the lease taken and retries later). ``reconcile_search_index`` runs daily and queues any
product whose index entry drifted from the database (e.g. after raw SQL writes).
"""

from __future__ import annotations

import logging

from celery import shared_task

from search import indexing
from search.errors import SearchUnavailable

log = logging.getLogger(__name__)

DRAIN_TASK = "search.drain_outbox"
RECONCILE_TASK = "search.reconcile_index"


@shared_task(bind=True, name=DRAIN_TASK, max_retries=6, ignore_result=True)
def drain_search_outbox(self) -> dict:
    try:
        report = indexing.drain_outbox()
    except SearchUnavailable as exc:
        # 10 s, 20 s, 40 s … 5 min; after that beat's periodic drain takes over.
        raise self.retry(exc=exc, countdown=min(300, 10 * 2**self.request.retries)) from exc
    if report.busy and not self.request.is_eager:
        raise self.retry(countdown=15, max_retries=3)
    if report.refused:
        log.error("search: %d products refused by the index (see `flask search status`)", len(report.refused))
    return {"rows": report.rows, "indexed": report.indexed, "removed": report.removed, "busy": report.busy}


@shared_task(name=RECONCILE_TASK, ignore_result=True)
def reconcile_search_index() -> int:
    return len(indexing.reconcile())
