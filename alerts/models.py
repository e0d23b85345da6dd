"""The early-warning tables: rule settings, runs, warnings and their history, notifications.

A warning is about one product and one cause (``WarningCause``). While it is live
(watching, open, acknowledged, handled) later runs update it; once resolved it
stays resolved, and a new risk opens a new warning. The partial unique index
``uq_alert_warning_live`` keeps one live warning per product and cause.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.database import str_enum, utcnow
from core.extensions import db


class WarningLevel(enum.StrEnum):
    """The national convention: 四级 blue is the lowest, 一级 red the highest."""

    BLUE = "blue"  # 四级 (蓝色)
    YELLOW = "yellow"  # 三级 (黄色)
    ORANGE = "orange"  # 二级 (橙色)
    RED = "red"  # 一级 (红色)

    @property
    def severity(self) -> int:
        return SEVERITY[self]


SEVERITY = {WarningLevel.BLUE: 1, WarningLevel.YELLOW: 2, WarningLevel.ORANGE: 3, WarningLevel.RED: 4}
LEVEL_BY_SEVERITY = {v: k for k, v in SEVERITY.items()}


class WarningCause(enum.StrEnum):
    SPOILAGE = "spoilage"  # 库存变质: stock will not sell before it spoils
    SEASON_END = "season_end"  # 产季结束: stock will not sell before the harvest window ends
    SALES_STALL = "sales_stall"  # 销售停滞: the 7-day pace dropped, or nothing sold for days
    PRICE_FALL = "price_fall"  # 价格下跌: the category's price in the origin province fell


class WarningStatus(enum.StrEnum):
    WATCHING = "watching"  # the condition holds but not yet for enough runs to open (not shown, no one told)
    OPEN = "open"  # 已预警
    ACKNOWLEDGED = "acknowledged"  # 已确认
    HANDLED = "handled"  # 已处置 (a response was taken)
    RESOLVED = "resolved"  # 已解除


LIVE_STATUSES = (WarningStatus.WATCHING, WarningStatus.OPEN, WarningStatus.ACKNOWLEDGED, WarningStatus.HANDLED)
SHOWN_STATUSES = (WarningStatus.OPEN, WarningStatus.ACKNOWLEDGED, WarningStatus.HANDLED)


class ActionKind(enum.StrEnum):
    ACKNOWLEDGE = "acknowledge"
    ASSIGN = "assign"
    NOTE = "note"
    RESPOND = "respond"  # a response was taken (应急处置)
    RESOLVE = "resolve"


class AlertRuleSetting(db.Model):
    """A threshold changed by a platform administrator; absent keys use the defaults in ``alerts.rules``."""

    __tablename__ = "alert_rule_setting"
    __table_args__ = (sa.CheckConstraint("value >= 0", name="value_not_negative"),)

    key: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    value: Mapped[int] = mapped_column(sa.BigInteger)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))


class AlertRun(db.Model):
    """One run of the job, keyed by its date (Asia/Shanghai): a second run on the same day does nothing."""

    __tablename__ = "alert_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_on: Mapped[date] = mapped_column(unique=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    products_checked: Mapped[int] = mapped_column(default=0, server_default="0")
    opened: Mapped[int] = mapped_column(default=0, server_default="0")
    raised: Mapped[int] = mapped_column(default=0, server_default="0")
    lowered: Mapped[int] = mapped_column(default=0, server_default="0")
    resolved: Mapped[int] = mapped_column(default=0, server_default="0")
    rules: Mapped[dict] = mapped_column(sa.JSON, default=dict)  # the thresholds in force for this run
    # Plan-lag warnings of buyer units (alerts.planlag): units found lagging, and what happened to their warnings.
    plan_lag_units: Mapped[int] = mapped_column(default=0, server_default="0")
    plan_lag_opened: Mapped[int] = mapped_column(default=0, server_default="0")
    plan_lag_raised: Mapped[int] = mapped_column(default=0, server_default="0")
    plan_lag_lowered: Mapped[int] = mapped_column(default=0, server_default="0")
    plan_lag_resolved: Mapped[int] = mapped_column(default=0, server_default="0")


class Warning(db.Model):  # shadows builtins.Warning inside this package only; import it by name
    __tablename__ = "alert_warning"
    __table_args__ = (
        sa.CheckConstraint("amount_at_risk_fen >= 0", name="amount_not_negative"),
        sa.CheckConstraint("rise_streak >= 0 AND open_streak >= 0", name="streaks_not_negative"),
        sa.Index(
            "uq_alert_warning_live", "product_id", "cause", unique=True,
            postgresql_where=sa.text("status <> 'resolved'"), sqlite_where=sa.text("status <> 'resolved'"),
        ),
        sa.Index("ix_alert_warning_status_level", "status", "level"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("product.id", ondelete="CASCADE"), index=True)
    cause: Mapped[WarningCause] = mapped_column(str_enum(WarningCause))
    status: Mapped[WarningStatus] = mapped_column(str_enum(WarningStatus), default=WarningStatus.OPEN,
                                                  server_default=WarningStatus.OPEN.value)
    level: Mapped[WarningLevel] = mapped_column(str_enum(WarningLevel))
    rule: Mapped[str] = mapped_column(sa.String(40))  # the rule that fired, e.g. "spoilage"
    playbook: Mapped[str] = mapped_column(sa.String(40))  # the response playbook of the level
    amount_at_risk_fen: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    days_left: Mapped[int | None]
    figures: Mapped[dict] = mapped_column(sa.JSON, default=dict)  # the numbers behind the latest run
    # Consecutive runs the condition held before opening / above the current level, and the lowest
    # severity seen in that streak (a rise goes to the level that held on every run of the streak).
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
    assignee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    product = relationship("Product")
    assignee = relationship("User", foreign_keys=[assignee_id])
    observations: Mapped[list[WarningObservation]] = relationship(
        back_populates="warning", order_by="WarningObservation.id", cascade="all, delete-orphan")
    actions: Mapped[list[WarningAction]] = relationship(
        back_populates="warning", order_by="WarningAction.id", cascade="all, delete-orphan")


class WarningObservation(db.Model):
    """The figures of one warning on one run: the trend on the board reads the last two."""

    __tablename__ = "alert_warning_observation"
    __table_args__ = (sa.UniqueConstraint("warning_id", "run_id", name="uq_alert_warning_observation_run"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    warning_id: Mapped[int] = mapped_column(sa.ForeignKey("alert_warning.id", ondelete="CASCADE"), index=True)
    run_id: Mapped[int] = mapped_column(sa.ForeignKey("alert_run.id", ondelete="CASCADE"), index=True)
    level: Mapped[WarningLevel | None] = mapped_column(str_enum(WarningLevel))  # None: the condition did not hold
    amount_at_risk_fen: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    days_left: Mapped[int | None]
    figures: Mapped[dict] = mapped_column(sa.JSON, default=dict)

    warning: Mapped[Warning] = relationship(back_populates="observations")
    run: Mapped[AlertRun] = relationship(lazy="joined")


class WarningAction(db.Model):
    __tablename__ = "alert_warning_action"

    id: Mapped[int] = mapped_column(primary_key=True)
    warning_id: Mapped[int] = mapped_column(sa.ForeignKey("alert_warning.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    kind: Mapped[ActionKind] = mapped_column(str_enum(ActionKind))
    note: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    assignee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    warning: Mapped[Warning] = relationship(back_populates="actions")
    actor = relationship("User", foreign_keys=[actor_id])
    assignee = relationship("User", foreign_keys=[assignee_id])


class Notification(db.Model):
    """An in-app message (the notification centre); e-mail goes out beside it when SMTP is configured."""

    __tablename__ = "alert_notification"
    __table_args__ = (sa.Index("ix_alert_notification_user_read", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(sa.String(500))
    link: Mapped[str] = mapped_column(sa.String(255), default="", server_default="")
    warning_id: Mapped[int | None] = mapped_column(sa.ForeignKey("alert_warning.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
