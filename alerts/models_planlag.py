"""Plan-lag warnings (计划进度滞后预警): buyer units whose plan completion trails time progress.

One warning per unit and plan year while it is live (watching, open, acknowledged, handled); the
partial unique index ``uq_alert_plan_lag_warning_live`` keeps it so, as ``uq_alert_warning_live``
does for products. Levels follow the national four-level convention of ``WarningLevel`` and are
decided by the gap in percentage points (see ``alerts.planlag``); the gap in yuan is kept beside it
to rank units of the same level. The lifecycle and its actions are those of product warnings.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from alerts.models import ActionKind, WarningLevel, WarningStatus
from core.database import str_enum, utcnow
from core.extensions import db


class PlanLagWarning(db.Model):
    __tablename__ = "alert_plan_lag_warning"
    __table_args__ = (
        sa.CheckConstraint("gap_fen >= 0", name="gap_fen_not_negative"),
        sa.CheckConstraint("gap_points >= 0 AND gap_points <= 100", name="gap_points_range"),
        sa.CheckConstraint("rise_streak >= 0 AND open_streak >= 0", name="streaks_not_negative"),
        sa.Index(
            "uq_alert_plan_lag_warning_live", "unit_id", "year", unique=True,
            postgresql_where=sa.text("status <> 'resolved'"), sqlite_where=sa.text("status <> 'resolved'"),
        ),
        sa.Index("ix_alert_plan_lag_warning_status_level", "status", "level"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("buyer_unit.id", ondelete="CASCADE"), index=True)
    year: Mapped[int]  # the plan year (calendar year, Asia/Shanghai)
    status: Mapped[WarningStatus] = mapped_column(str_enum(WarningStatus), default=WarningStatus.OPEN,
                                                  server_default=WarningStatus.OPEN.value)
    level: Mapped[WarningLevel] = mapped_column(str_enum(WarningLevel))
    # Time progress minus plan completion on the latest run, in percentage points (two decimals).
    gap_points: Mapped[Decimal] = mapped_column(sa.Numeric(5, 2))
    # Plan × time progress minus the counted amount on the latest run: the yuan the unit trails by.
    gap_fen: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    # The latest run's numbers: plan_fen, counted_fen, completion, time_progress, gap_points, gap_fen, and
    # previous_gap_points (the run before, for the trend); percentages as strings with two decimals.
    figures: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    open_streak: Mapped[int] = mapped_column(default=0, server_default="0")
    rise_streak: Mapped[int] = mapped_column(default=0, server_default="0")
    rise_floor: Mapped[int | None]
    first_run_id: Mapped[int] = mapped_column(sa.ForeignKey("alert_run.id", ondelete="RESTRICT"))
    last_run_id: Mapped[int] = mapped_column(sa.ForeignKey("alert_run.id", ondelete="RESTRICT"))
    opened_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    handled_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    unit = relationship("BuyerUnit")
    actions: Mapped[list[PlanLagAction]] = relationship(
        back_populates="warning", order_by="PlanLagAction.id", cascade="all, delete-orphan")


class PlanLagAction(db.Model):
    """An action on a plan-lag warning (acknowledge, note, respond, resolve); actor None: the job."""

    __tablename__ = "alert_plan_lag_action"

    id: Mapped[int] = mapped_column(primary_key=True)
    warning_id: Mapped[int] = mapped_column(sa.ForeignKey("alert_plan_lag_warning.id", ondelete="CASCADE"),
                                            index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    kind: Mapped[ActionKind] = mapped_column(str_enum(ActionKind))
    note: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    warning: Mapped[PlanLagWarning] = relationship(back_populates="actions")
    actor = relationship("User", foreign_keys=[actor_id])
