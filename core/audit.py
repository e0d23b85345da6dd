"""The audit log of sensitive actions: who, what, when, before and after.

``record`` adds an entry to the current session so that it commits (or rolls
back) with the change it describes. Values must already be free of personal
data: pass masked forms, never whole ID or phone numbers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.database import utcnow
from core.extensions import db


class AuditEntry(db.Model):
    __tablename__ = "audit_entry"
    __table_args__ = (sa.Index("ix_audit_entry_target", "target_type", "target_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    action: Mapped[str] = mapped_column(sa.String(64), index=True)
    target_type: Mapped[str] = mapped_column(sa.String(64))
    target_id: Mapped[str | None] = mapped_column(sa.String(64))
    before: Mapped[dict | None] = mapped_column(sa.JSON)
    after: Mapped[dict | None] = mapped_column(sa.JSON)
    reason: Mapped[str | None] = mapped_column(sa.Text)
    request_id: Mapped[str | None] = mapped_column(sa.String(36))

    actor = relationship("User")


def record(
    action: str,
    target_type: str,
    target_id: Any = None,
    *,
    before: dict | None = None,
    after: dict | None = None,
    reason: str | None = None,
    actor_id: int | None = None,
) -> AuditEntry:
    if actor_id is None and has_request_context() and current_user.is_authenticated:
        actor_id = current_user.id
    entry = AuditEntry(
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        before=before,
        after=after,
        reason=reason,
        actor_id=actor_id,
        request_id=getattr(request, "request_id", None) if has_request_context() else None,
    )
    db.session.add(entry)
    return entry
