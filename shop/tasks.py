"""Periodic order housekeeping. Safe to overlap: rows are taken with FOR UPDATE SKIP LOCKED."""

from __future__ import annotations

from celery import shared_task

from core.extensions import db
from shop.services import orders


@shared_task(name="shop.expire_unpaid_orders")
def expire_unpaid_orders() -> int:
    """Cancel orders left unpaid past SHOP_UNPAID_ORDER_MINUTES and give their stock back."""
    try:
        cancelled = orders.expire_unpaid()
        db.session.commit()
    except Exception:
        db.session.rollback()
        orders.discard_pending_signals()
        raise
    orders.send_pending_signals()
    return len(cancelled)


@shared_task(name="shop.advance_orders")
def advance_orders() -> dict[str, int]:
    """Receive long-shipped orders and complete received ones after the refund window."""
    try:
        counts = orders.advance_by_time()
        db.session.commit()
    except Exception:
        db.session.rollback()
        orders.discard_pending_signals()
        raise
    orders.send_pending_signals()
    return counts
