"""Accounts: users, their platform role, and API tokens for machine clients."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from core.database import str_enum, utcnow
from core.extensions import db
from core.permissions import Role


class User(UserMixin, db.Model):
    __tablename__ = "user_account"
    __table_args__ = (
        sa.CheckConstraint(
            "(role = 'regional_admin') = (region_id IS NOT NULL)",
            name="regional_admin_has_region",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(80))
    phone: Mapped[str | None] = mapped_column(sa.String(20))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[Role] = mapped_column(str_enum(Role), default=Role.CONSUMER, server_default=Role.CONSUMER.value)
    # Only regional administrators carry a region: the root of the subtree they see.
    region_id: Mapped[int | None] = mapped_column(sa.ForeignKey("region.id", ondelete="RESTRICT"), index=True)
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    locale: Mapped[str | None] = mapped_column(sa.String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    password_changed_at: Mapped[datetime] = mapped_column(default=utcnow)

    region = relationship("Region", lazy="joined")
    api_tokens: Mapped[list[ApiToken]] = relationship(back_populates="user", cascade="all, delete-orphan")

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    def set_password(self, password: str) -> None:
        # werkzeug's default is scrypt: memory-hard and slow on purpose.
        self.password_hash = generate_password_hash(password)
        self.password_changed_at = utcnow()

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class ApiToken(db.Model):
    """A bearer token for machine clients. Only its SHA-256 is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    prefix: Mapped[str] = mapped_column(sa.String(12))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(back_populates="api_tokens")

    @staticmethod
    def digest(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @classmethod
    def issue(cls, user: User, name: str) -> tuple[ApiToken, str]:
        token = "mkt_" + secrets.token_urlsafe(32)
        row = cls(user=user, name=name, token_hash=cls.digest(token), prefix=token[:10])
        return row, token
