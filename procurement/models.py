"""Buyer units (采购单位), their members, delivery addresses and assistance relations to counties;
annual unit plans and regional guiding plans (指导性计划); and the employee link (职工个人).

Money is integer fen (BIGINT where region-sized sums may pass 21 million yuan); shares are basis points.
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.database import str_enum, utcnow
from core.extensions import db


class UnitType(enum.StrEnum):
    CENTRAL = "central"  # 中央单位
    PROVINCIAL_DEPARTMENT = "provincial_department"  # 省级部门
    CITY_DEPARTMENT = "city_department"  # 市级部门
    COUNTY_UNIT = "county_unit"  # 区县单位
    STATE_ENTERPRISE = "state_enterprise"  # 国有企业
    ASSISTANCE_GROUP = "assistance_group"  # 帮扶集团
    EAST_WEST_CITY = "east_west_city"  # 东西部协作城市
    OTHER = "other"  # 其他


class UnitStatus(enum.StrEnum):
    PENDING = "pending"  # 待审核: registration awaiting an administrator
    ACTIVE = "active"  # 正常
    REJECTED = "rejected"  # 未通过
    SUSPENDED = "suspended"  # 暂停


class BuyerUnit(db.Model):
    __tablename__ = "buyer_unit"
    __table_args__ = (sa.CheckConstraint("approval_threshold_fen >= 0", name="threshold_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    type: Mapped[UnitType] = mapped_column(str_enum(UnitType))
    region_id: Mapped[int] = mapped_column(sa.ForeignKey("region.id", ondelete="RESTRICT"), index=True)
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("buyer_unit.id", ondelete="RESTRICT"), index=True)
    status: Mapped[UnitStatus] = mapped_column(
        str_enum(UnitStatus), default=UnitStatus.PENDING, server_default=UnitStatus.PENDING.value
    )
    # Orders above this amount wait for an approver (审批人).
    approval_threshold_fen: Mapped[int] = mapped_column(default=0, server_default="0")
    # 帮助销售 promotion code handed out by the unit.
    promotion_code: Mapped[str | None] = mapped_column(sa.String(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Why an administrator rejected or suspended the unit (the unit reads it).
    status_reason: Mapped[str | None] = mapped_column(sa.Text)

    region = relationship("Region")
    parent: Mapped[BuyerUnit | None] = relationship(remote_side=[id])
    members: Mapped[list[UnitMember]] = relationship(back_populates="unit")
    assistance: Mapped[list[AssistanceRelation]] = relationship(back_populates="unit")


class UnitRole(enum.StrEnum):
    ADMIN = "admin"  # 单位管理员
    BUYER = "buyer"  # 采购员
    APPROVER = "approver"  # 审批人


class UnitMember(db.Model):
    """A user acting for a buyer unit; a user belongs to at most one unit."""

    __tablename__ = "unit_member"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("buyer_unit.id", ondelete="CASCADE"), index=True)
    role: Mapped[UnitRole] = mapped_column(str_enum(UnitRole))
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)

    unit: Mapped[BuyerUnit] = relationship(back_populates="members")
    user = relationship("User")


class AssistanceKind(enum.StrEnum):
    PAIRED = "paired"  # 定点帮扶
    EAST_WEST = "east_west"  # 东西部协作
    COUNTERPART = "counterpart"  # 对口帮扶


class AssistanceRelation(db.Model):
    __tablename__ = "assistance_relation"
    __table_args__ = (
        sa.CheckConstraint("end_year IS NULL OR end_year >= start_year", name="ends_after_start"),
        sa.UniqueConstraint("unit_id", "county_id", "kind", "start_year", name="uq_assistance_relation"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("buyer_unit.id", ondelete="CASCADE"), index=True)
    county_id: Mapped[int] = mapped_column(sa.ForeignKey("region.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[AssistanceKind] = mapped_column(str_enum(AssistanceKind))
    start_year: Mapped[int]
    end_year: Mapped[int | None]

    unit: Mapped[BuyerUnit] = relationship(back_populates="assistance")
    county = relationship("Region")


# --- additions for units, plans and the employee link (additive only: new tables and nullable columns) ---


class UnitAddress(db.Model):
    """A delivery address of a unit, usually one of its canteens (食堂).

    Addresses are retired rather than deleted: procurement orders will point at them.
    The phone is stored for the carrier and only ever shown masked.
    """

    __tablename__ = "unit_address"
    __table_args__ = (
        # One live address of a given name per unit; retired ones stay for history.
        sa.Index("uq_unit_address_live_name", "unit_id", "name", unique=True,
                 postgresql_where=sa.text("active"), sqlite_where=sa.text("active")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("buyer_unit.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    recipient: Mapped[str] = mapped_column(sa.String(40))
    phone: Mapped[str] = mapped_column(sa.String(20))
    address: Mapped[str] = mapped_column(sa.String(255))
    region_id: Mapped[int] = mapped_column(sa.ForeignKey("region.id", ondelete="RESTRICT"), index=True)
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    unit: Mapped[BuyerUnit] = relationship()
    region = relationship("Region")


class CanteenMode(enum.StrEnum):
    OWN = "own"  # 自有食堂: the unit reports its canteen food budget
    NONE = "none"  # 无食堂
    SHARED = "shared"  # 共用食堂: another unit (the host) reports the shared canteen once


class UnitPlan(db.Model):
    """A unit's consumption-assistance plan (帮扶采购计划) for one calendar year.

    The unit declares its canteen food budget and the share it reserves for
    products from poverty-lifted areas (at least the minimum share in force when
    it declared, kept in ``minimum_share_bp``); or it declares that it has no
    canteen, or shares the canteen of a host unit. An administrator may set the
    figure directly; that figure then wins. ``plan_fen`` is the figure in force,
    kept as a column so that lists and roll-ups are plain sums.

    Shares are basis points (1/10000): 1000 is 10%.
    """

    __tablename__ = "unit_plan"
    __table_args__ = (
        sa.UniqueConstraint("unit_id", "year", name="uq_unit_plan_unit_year"),
        sa.CheckConstraint("year >= 2000 AND year <= 2100", name="year_range"),
        sa.CheckConstraint("canteen_budget_fen IS NULL OR canteen_budget_fen >= 0", name="budget_not_negative"),
        sa.CheckConstraint("minimum_share_bp IS NULL OR (minimum_share_bp >= 0 AND minimum_share_bp <= 10000)",
                           name="minimum_share_range"),
        sa.CheckConstraint(
            "reserved_share_bp IS NULL OR (minimum_share_bp IS NOT NULL AND reserved_share_bp >= minimum_share_bp"
            " AND reserved_share_bp <= 10000)",
            name="reserved_share_range",
        ),
        sa.CheckConstraint("declared_plan_fen IS NULL OR declared_plan_fen >= 0", name="declared_not_negative"),
        sa.CheckConstraint("admin_plan_fen IS NULL OR admin_plan_fen >= 0", name="admin_figure_not_negative"),
        sa.CheckConstraint("plan_fen >= 0", name="plan_not_negative"),
        sa.CheckConstraint("plan_fen = COALESCE(admin_plan_fen, declared_plan_fen, 0)", name="plan_in_force"),
        # The declared amount is the budget times the share, rounded half up to a fen.
        sa.CheckConstraint(
            "canteen_mode IS NULL OR canteen_mode <> 'own'"
            " OR declared_plan_fen = (canteen_budget_fen * reserved_share_bp + 5000) / 10000",
            name="declared_is_budget_times_share",
        ),
        sa.CheckConstraint(
            "(canteen_mode IS NULL AND canteen_budget_fen IS NULL AND reserved_share_bp IS NULL"
            "  AND host_unit_id IS NULL AND declared_plan_fen IS NULL)"
            " OR (canteen_mode = 'own' AND canteen_budget_fen IS NOT NULL AND reserved_share_bp IS NOT NULL"
            "  AND host_unit_id IS NULL AND declared_plan_fen IS NOT NULL)"
            " OR (canteen_mode = 'none' AND canteen_budget_fen IS NULL AND reserved_share_bp IS NULL"
            "  AND host_unit_id IS NULL AND declared_plan_fen = 0)"
            " OR (canteen_mode = 'shared' AND canteen_budget_fen IS NULL AND reserved_share_bp IS NULL"
            "  AND host_unit_id IS NOT NULL AND declared_plan_fen = 0)",
            name="declaration_consistent",
        ),
        sa.CheckConstraint("host_unit_id IS NULL OR host_unit_id <> unit_id", name="host_is_another_unit"),
        sa.CheckConstraint("admin_plan_fen IS NULL OR admin_reason IS NOT NULL", name="admin_figure_has_reason"),
        sa.CheckConstraint("canteen_mode IS NOT NULL OR admin_plan_fen IS NOT NULL", name="declared_or_set"),
        sa.Index("ix_unit_plan_year_unit", "year", "unit_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Indexed by the unique (unit_id, year) constraint.
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("buyer_unit.id", ondelete="CASCADE"))
    year: Mapped[int]
    canteen_mode: Mapped[CanteenMode | None] = mapped_column(str_enum(CanteenMode, 16))
    canteen_budget_fen: Mapped[int | None] = mapped_column(sa.BigInteger)  # 食堂食材采购预算
    reserved_share_bp: Mapped[int | None]  # 预留份额
    minimum_share_bp: Mapped[int | None]  # the minimum share in force when the unit declared
    host_unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("buyer_unit.id", ondelete="RESTRICT"), index=True)
    declared_plan_fen: Mapped[int | None] = mapped_column(sa.BigInteger)
    admin_plan_fen: Mapped[int | None] = mapped_column(sa.BigInteger)
    admin_reason: Mapped[str | None] = mapped_column(sa.Text)
    plan_fen: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    declared_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))

    unit: Mapped[BuyerUnit] = relationship(foreign_keys=[unit_id])
    host_unit: Mapped[BuyerUnit | None] = relationship(foreign_keys=[host_unit_id])


class RegionPlan(db.Model):
    """A region's guiding plan (指导性计划) for one year, set by an administrator."""

    __tablename__ = "region_plan"
    __table_args__ = (
        sa.UniqueConstraint("region_id", "year", name="uq_region_plan_region_year"),
        sa.CheckConstraint("year >= 2000 AND year <= 2100", name="year_range"),
        sa.CheckConstraint("amount_fen >= 0", name="amount_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(sa.ForeignKey("region.id", ondelete="RESTRICT"), index=True)
    year: Mapped[int]
    amount_fen: Mapped[int] = mapped_column(sa.BigInteger)
    reason: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))

    region = relationship("Region")


class UnitEmployee(db.Model):
    """A consumer names the buyer unit they work for (one unit per person).

    Their completed shop purchases are the unit's employee-personal channel (职工个人).
    """

    __tablename__ = "unit_employee"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("buyer_unit.id", ondelete="CASCADE"), index=True)
    since: Mapped[datetime] = mapped_column(default=utcnow)

    unit: Mapped[BuyerUnit] = relationship()
    user = relationship("User")
