"""The declarative base, column types shared by every domain, and engine set-up."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from functools import partial

import sqlalchemy as sa
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, registry

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator):
    """Timezone-aware datetimes stored as UTC on every engine.

    SQLite has no time zone support, so values come back naive; they are
    re-tagged as UTC here so the rest of the code only ever sees aware values.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    # Given as one registry: SQLAlchemy 2.1 refuses a per-base type map beside it.
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime()},
    )


def str_enum(enum_cls: type[enum.Enum], length: int = 32) -> sa.Enum:
    """An enum stored as its values in a VARCHAR with a named CHECK constraint.

    No native PostgreSQL enum types: adding a value is then a plain migration.
    """
    return sa.Enum(
        enum_cls,
        native_enum=False,
        length=length,
        values_callable=lambda e: [m.value for m in e],
        create_constraint=True,
        name=f"{enum_cls.__name__.lower()}_values",
        validate_strings=True,
    )


def configure_engine(engine: Engine, *, random_page_cost: float | None = None) -> None:
    """SQLite needs a few settings to behave like a real transactional database; PostgreSQL sessions
    get the planner's cost of a random page read (``PG_RANDOM_PAGE_COST``).

    Applied to the application's own engine only (not to the Celery broker's).
    """
    if engine.dialect.name == "postgresql" and random_page_cost is not None:
        event.listen(engine, "connect", partial(_postgresql_session, random_page_cost=random_page_cost))
    if engine.dialect.name != "sqlite":
        return
    event.listen(engine, "connect", _sqlite_pragmas)
    event.listen(engine, "begin", _sqlite_begin)


def _postgresql_session(dbapi_connection, connection_record, *, random_page_cost: float) -> None:
    # Committed at once: a SET left in the connection's first transaction would be undone when the
    # pool rolls that transaction back.
    with dbapi_connection.cursor() as cur:
        cur.execute(f"SET random_page_cost = {float(random_page_cost)}")
    dbapi_connection.commit()


def _sqlite_pragmas(dbapi_connection, connection_record):
    # Let SQLAlchemy emit BEGIN itself so that SAVEPOINTs and real transactions
    # work with pysqlite (the driver otherwise opens transactions lazily).
    dbapi_connection.isolation_level = None
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def _sqlite_begin(conn):
    conn.exec_driver_sql("BEGIN")
