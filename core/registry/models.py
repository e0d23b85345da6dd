"""The region tree and the household registry (脱贫户 / 监测户)."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.database import str_enum, utcnow
from core.extensions import db


class RegionLevel(enum.StrEnum):
    PROVINCE = "province"  # 省
    CITY = "city"  # 市
    COUNTY = "county"  # 区县
    TOWNSHIP = "township"  # 乡镇
    VILLAGE = "village"  # 村

    @property
    def depth(self) -> int:
        return list(RegionLevel).index(self)


class Region(db.Model):
    """A node of the administrative tree.

    ``path`` is the materialised path of ids ("/1/4/17/"), so a subtree is one
    indexed prefix match instead of a recursive walk.
    """

    __tablename__ = "region"
    __table_args__ = (
        sa.CheckConstraint(
            "(level = 'county') OR (NOT is_poverty_lifted_county AND NOT is_key_assistance_county)",
            name="county_flags_only_on_counties",
        ),
        sa.CheckConstraint("(level = 'province') = (parent_id IS NULL)", name="only_provinces_are_roots"),
        sa.Index("ix_region_path_prefix", "path", postgresql_ops={"path": "text_pattern_ops"}),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # 统计用区划代码: 6 digits down to county, 9 for township, 12 for village.
    code: Mapped[str] = mapped_column(sa.String(12), unique=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    level: Mapped[RegionLevel] = mapped_column(str_enum(RegionLevel, 16))
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("region.id", ondelete="RESTRICT"), index=True)
    path: Mapped[str] = mapped_column(sa.String(200), default="")
    is_poverty_lifted_county: Mapped[bool] = mapped_column(default=False, server_default=sa.false())  # 脱贫县
    is_key_assistance_county: Mapped[bool] = mapped_column(default=False, server_default=sa.false())  # 重点帮扶县
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    parent: Mapped[Region | None] = relationship(remote_side=[id])

    def __repr__(self) -> str:
        return f"<Region {self.code} {self.name}>"


class HouseholdKind(enum.StrEnum):
    POVERTY_LIFTED = "poverty_lifted"  # 脱贫户
    MONITORED = "monitored"  # 监测户 (防止返贫监测对象)


class Household(db.Model):
    """A registered household. The head's ID number is kept only as a keyed hash and a masked form."""

    __tablename__ = "household"
    __table_args__ = (
        sa.CheckConstraint("member_count >= 1 AND member_count <= 30", name="member_count_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(sa.ForeignKey("region.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[HouseholdKind] = mapped_column(str_enum(HouseholdKind))
    head_name: Mapped[str] = mapped_column(sa.String(40))
    member_count: Mapped[int]
    id_number_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    id_number_masked: Mapped[str] = mapped_column(sa.String(18))
    phone: Mapped[str | None] = mapped_column(sa.String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    village: Mapped[Region] = relationship()
