"""Writing the daily job's rows in bulk: tens of thousands of warnings, observations, outreach rows
and notifications in one run, without an ORM object or a statement per row.

``insert_rows`` streams plain dicts into a table: on PostgreSQL through ``COPY … FROM STDIN`` on the
session's own connection (same transaction), elsewhere as Core executemany in batches.
``insert_returning_ids`` also hands back the new primary keys (warnings, outreach, matches): on
PostgreSQL taken from the table's sequence in one statement before the COPY, elsewhere by batched
``INSERT … RETURNING``. ``update_rows`` sets columns by primary key: a COPYed temporary table and one
``UPDATE … FROM`` on PostgreSQL. Values pass through each column's own bind processing (enums as
their values, JSON serialised as the engine does), so the rows stored are those an ORM insert stores.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterable, Iterator

import sqlalchemy as sa

from core.extensions import db

BATCH = 2000  # rows per executemany where COPY is not available: bounds the parameter lists held


def is_postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _batches(rows: Iterable, size: int) -> Iterator[list]:
    it = iter(rows)
    while batch := list(itertools.islice(it, size)):
        yield batch


def _defaults(table: sa.Table, given: set[str]) -> dict:
    """Python-side defaults (``default=utcnow``, ``default=dict``) of the columns the rows leave out,
    evaluated once for the whole call: COPY does not run them, and one job run is one moment."""
    out = {}
    for col in table.columns:
        if col.key in given or col.default is None or not (col.default.is_scalar or col.default.is_callable):
            continue
        out[col.key] = col.default.arg if col.default.is_scalar else col.default.arg(None)
    return out


def insert_rows(table: sa.Table, rows: Iterable[dict]) -> int:
    """Insert ``rows`` (dicts with the same keys) into ``table``; returns how many. Streams: the rows
    may be a generator and are never all held at once."""
    it = iter(rows)
    first = next(it, None)
    if first is None:
        return 0
    rows = itertools.chain([first], it)
    defaults = _defaults(table, set(first))
    keys = [*first, *defaults]
    if not is_postgresql():
        n = 0
        for batch in _batches(rows, BATCH):
            db.session.execute(table.insert(), [{**defaults, **_deserialised(r)} for r in batch])
            n += len(batch)
        return n
    dialect = db.session.get_bind().dialect
    processors = [_copy_processor(table.c[k].type, dialect) for k in keys]
    conn = db.session.connection()
    cursor = conn.connection.dbapi_connection.cursor()
    preparer = dialect.identifier_preparer
    sql = (f"COPY {preparer.format_table(table)} ({', '.join(preparer.quote(table.c[k].name) for k in keys)}) "
           "FROM STDIN")
    n = 0
    try:
        with cursor, cursor.copy(sql) as copy:
            for r in rows:
                values = [r[k] if k in r else defaults[k] for k in keys]
                copy.write_row([v if p is None else p(v) for v, p in zip(values, processors, strict=True)])
                n += 1
    except dialect.loaded_dbapi.IntegrityError as err:  # as SQLAlchemy raises it: callers catch that one
        raise sa.exc.IntegrityError(sql, None, err) from err
    return n


class Serialised(str):
    """A JSON value already serialised, for a JSON column: rows that repeat the same value (outreach
    figures shared by many warnings) serialise it once."""


def _copy_processor(type_: sa.types.TypeEngine, dialect: sa.Dialect) -> Callable | None:
    """The column type's bind processing for COPY. JSON is serialised straight to its text (what
    psycopg's ``Json`` wrapper would send, without a wrapper and an adapter lookup per value: the
    outreach rows' figures made that the largest cost of writing them); None keeps the type's own
    handling."""
    processor = type_._cached_bind_processor(dialect)
    if not isinstance(type_, sa.JSON):
        return processor
    dumps = dialect._json_serializer or json.dumps

    def to_text(value):
        if value is None:
            return processor(value)
        return str(value) if type(value) is Serialised else dumps(value)

    return to_text


def _deserialised(row: dict) -> dict:
    """The row with any ``Serialised`` value as the object it stands for (Core serialises JSON itself)."""
    if not any(type(v) is Serialised for v in row.values()):
        return row
    return {k: json.loads(v) if type(v) is Serialised else v for k, v in row.items()}


def insert_returning_ids(table: sa.Table, items: list, row_of: Callable[[object], dict],
                         key: tuple[str, ...]) -> list[int]:
    """Insert one row per item (``row_of(item)``, without the primary key) and return the new ids in the
    items' order. On PostgreSQL the ids are taken from the table's sequence in one statement and the
    rows streamed through COPY; elsewhere batches of INSERT … RETURNING the id and the ``key`` columns,
    which tell the items' rows apart (the order of RETURNING rows is not the parameters' order)."""
    if not items:
        return []
    pk = table.primary_key.columns[0]
    if is_postgresql():
        ids = list(db.session.execute(
            sa.text("SELECT nextval(pg_get_serial_sequence(:table, :column)) FROM generate_series(1, :n)"),
            {"table": table.name, "column": pk.name, "n": len(items)}).scalars())
        insert_rows(table, ({pk.key: new_id, **row_of(item)} for item, new_id in zip(items, ids, strict=True)))
        return ids
    ids = []
    for batch in _batches(items, BATCH):
        rows = [_deserialised(row_of(item)) for item in batch]
        by_key = {tuple(row): new_id for new_id, *row in db.session.execute(
            table.insert().returning(pk, *(table.c[k] for k in key)), rows)}
        ids.extend(by_key[tuple(r[k] for k in key)] for r in rows)
    return ids


def update_rows(table: sa.Table, rows: Iterable[dict]) -> int:
    """Update rows of ``table`` by primary key: each dict holds the key and the columns to set (the
    same columns in every dict). On PostgreSQL the values are COPYed into a temporary table and set
    with one ``UPDATE … FROM``; elsewhere Core executemany in batches. Returns how many dicts."""
    it = iter(rows)
    first = next(it, None)
    if first is None:
        return 0
    rows = itertools.chain([first], it)
    pk = table.primary_key.columns[0]
    columns = [k for k in first if k != pk.key]
    if not is_postgresql():
        stmt = table.update().where(pk == sa.bindparam("pk_"))
        n = 0
        for batch in _batches(rows, BATCH):
            db.session.execute(stmt, [{"pk_": r[pk.key], **{k: r[k] for k in columns}} for r in batch])
            n += len(batch)
        return n
    preparer = db.session.get_bind().dialect.identifier_preparer
    temp = preparer.quote(f"bulk_{table.name}")
    names = [preparer.quote(table.c[k].name) for k in [pk.key, *columns]]
    db.session.execute(sa.text(f"CREATE TEMPORARY TABLE {temp} ON COMMIT DROP AS "  # noqa: S608 - names from the model
                               f"SELECT {', '.join(names)} FROM {preparer.format_table(table)} WITH NO DATA"))
    n = insert_rows(sa.Table(f"bulk_{table.name}", sa.MetaData(), *(sa.Column(table.c[k].name, table.c[k].type,
                                                                               key=k) for k in [pk.key, *columns])),
                    rows)
    sets = ", ".join(f"{name} = t.{name}" for name in names[1:])
    db.session.execute(sa.text(f"UPDATE {preparer.format_table(table)} SET {sets} FROM {temp} AS t "  # noqa: S608
                               f"WHERE {preparer.format_table(table)}.{names[0]} = t.{names[0]}"))
    db.session.execute(sa.text(f"DROP TABLE {temp}"))
    return n
