"""Outreach to buyer units about a warning (产品滞销求助): who was recommended, told and answered.

One row per warning and unit (``uq_alert_outreach_warning_unit``): the job tells a unit once about a
warning; when the warning rises, units not yet told get a row of their own and the rows of units
already told record the rise (``level``, ``raised_at``) without telling them again.

The procurement orders that followed are not stored: ``alerts.outreach`` finds them in one
statement (an order of the unit containing the product, submitted after the unit was told).
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from alerts.models import Warning, WarningLevel
from core.database import str_enum, utcnow
from core.extensions import db


class OutreachAnswer(enum.StrEnum):
    ORDERING = "ordering"  # 去下单: a member put the product in the procurement cart from the outreach
    DECLINED = "declined"  # 暂不需要: a member answered that the unit will not buy it


class Outreach(db.Model):
    __tablename__ = "alert_outreach"
    __table_args__ = (
        sa.UniqueConstraint("warning_id", "unit_id", name="uq_alert_outreach_warning_unit"),
        sa.CheckConstraint("rank >= 1", name="rank_positive"),
        sa.CheckConstraint("(answer IS NULL) = (answered_at IS NULL)", name="answer_has_time"),
        sa.Index("ix_alert_outreach_unit_notified", "unit_id", "notified_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Indexed by the unique (warning_id, unit_id) constraint.
    warning_id: Mapped[int] = mapped_column(sa.ForeignKey("alert_warning.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("buyer_unit.id", ondelete="CASCADE"))
    rank: Mapped[int]  # 1 = the first recommendation when the unit was told
    # The score breakdown when the unit was told (see ``alerts.recommend.Recommendation.figures``).
    figures: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    level: Mapped[WarningLevel] = mapped_column(str_enum(WarningLevel))  # the warning's level, updated on a rise
    notified_at: Mapped[datetime] = mapped_column(default=utcnow)
    raised_at: Mapped[datetime | None]  # the warning rose after the unit was told
    told_user_ids: Mapped[list] = mapped_column(sa.JSON, default=list)  # the members notified
    seen_at: Mapped[datetime | None]  # a member first opened the unit's outreach list after it arrived
    seen_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    answer: Mapped[OutreachAnswer | None] = mapped_column(str_enum(OutreachAnswer))
    answered_at: Mapped[datetime | None]
    answered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    answer_note: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    warning: Mapped[Warning] = relationship()
    unit = relationship("BuyerUnit")
    seen_by = relationship("User", foreign_keys=[seen_by_id])
    answered_by = relationship("User", foreign_keys=[answered_by_id])
