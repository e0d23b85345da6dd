"""Writing the side ledger (``procurement.models_side``): employees' purchases and help-sales.

When it is written. A sub-order completes and a completed one is refunded inside one of the shop's
transactions (``shop.services.orders.complete`` and ``approve_refund``); the shop's blinker
signals for them are sent only after the commit, so a receiver would write in a transaction of
its own and a crash in between would lose the figure. Procurement therefore listens on the
session instead (``install``, as search's outbox does): after each flush it looks at the
sub-orders whose ``completed_at`` was set and the order lines whose ``refunded_quantity``
changed, and writes their entries with one INSERT … SELECT each, in the same transaction. The
shop imports nothing of procurement.

What is caught: ORM changes (the shop's services, the tests' factories). What is not: bulk
statements and COPY (the demo and bench seeders, a migration), which call
``record_unrecorded`` afterwards — the same INSERT … SELECT over everything not yet entered.
``unrecorded_count`` says how many lines the current facts would enter that have no entry (0
when nothing was missed); ``completion.totals_drift`` checks the totals against the entries.

Both writes are idempotent: a completion enters a line's kind only if it has no entry of that
kind yet, and a refund enters the difference between the line's net amount now and what its
entries already add up to.
"""

from __future__ import annotations

import itertools

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.util import identity_key

from core.database import UTCDateTime, utcnow
from procurement.models import BuyerUnit, UnitEmployee
from procurement.models_completion import MONTH_COLUMNS
from procurement.models_side import SIDE_TOTALS, SideKind, SideReason, UnitSideEntry
from shop.models import Order, OrderKind, OrderLine, Product, SubOrder

ENTRY_COLUMNS = ["unit_id", "kind", "year", "month", "reason", "amount_fen", "order_line_id", "origin_county_id",
                 "recorded_at"]
TRIGGERS = ("unit_side_added", "unit_side_removed")  # created by migration a9c4d5e6c009


def local_year_month(column, dialect: str) -> tuple[sa.ColumnElement[int], sa.ColumnElement[int]]:
    """The Asia/Shanghai year and month of a UTC timestamp column. SQLite has no time zones:
    Shanghai is UTC+8 all year (no daylight saving since 1991)."""
    if dialect == "postgresql":
        local = sa.func.timezone("Asia/Shanghai", column)
        return sa.cast(sa.extract("year", local), sa.Integer), sa.cast(sa.extract("month", local), sa.Integer)
    return (sa.cast(sa.func.strftime("%Y", column, "+8 hours"), sa.Integer),
            sa.cast(sa.func.strftime("%m", column, "+8 hours"), sa.Integer))


def _net_amount():
    return (OrderLine.quantity - OrderLine.refunded_quantity) * OrderLine.unit_price_fen


def _not_entered(kind: SideKind):
    entered = aliased(UnitSideEntry, name="entered")
    return ~sa.exists().where(entered.order_line_id == OrderLine.id, entered.kind == kind)


def completion_selects(dialect: str, where: sa.ColumnElement[bool] | None = None) -> list[sa.Select]:
    """The entries the current facts give completed consumer lines that have none yet (one SELECT per
    kind, in ``ENTRY_COLUMNS`` order): the buyer's employer named by the completion, and the unit
    whose promotion code the order carries unless the buyer is its own employee."""
    year, month = local_year_month(SubOrder.completed_at, dialect)
    now = sa.literal(utcnow(), UTCDateTime())

    def base(unit_id, kind: SideKind) -> sa.Select:
        stmt = (sa.select(unit_id, sa.literal(kind.value), year, month, sa.literal(SideReason.COMPLETED.value),
                          _net_amount(), OrderLine.id, Product.origin_county_id, now)
                .select_from(OrderLine)
                .join(SubOrder, SubOrder.id == OrderLine.sub_order_id)
                .join(Order, Order.id == SubOrder.order_id)
                .join(Product, Product.id == OrderLine.product_id)
                .where(Order.kind == OrderKind.CONSUMER, SubOrder.completed_at.is_not(None), _net_amount() > 0,
                       _not_entered(kind)))
        return stmt if where is None else stmt.where(where)

    employee = base(UnitEmployee.unit_id, SideKind.EMPLOYEE).join(
        UnitEmployee, sa.and_(UnitEmployee.user_id == Order.buyer_id, UnitEmployee.since <= SubOrder.completed_at))
    promoter = aliased(BuyerUnit, name="promoter")
    own = aliased(UnitEmployee, name="own_employee")
    helped = (base(promoter.id, SideKind.HELP_SALES)
              .join(promoter, promoter.promotion_code == Order.referral_code)
              .outerjoin(own, sa.and_(own.user_id == Order.buyer_id, own.unit_id == promoter.id,
                                      own.since <= SubOrder.completed_at))
              .where(own.user_id.is_(None)))
    return [employee, helped]


def record_completions(connection: sa.Connection, sub_order_ids) -> None:
    """Enter the lines of the completed sub-orders ``sub_order_ids`` (those not entered yet)."""
    ids = sorted(set(sub_order_ids))
    if not ids:
        return
    for select in completion_selects(connection.dialect.name, SubOrder.id.in_(ids)):
        connection.execute(sa.insert(UnitSideEntry).from_select(ENTRY_COLUMNS, select))


def record_refunds(connection: sa.Connection, order_line_ids) -> None:
    """For each entered line of ``order_line_ids`` and kind, enter what its net amount now lacks from
    what its entries add up to (negative after a refund), against the completion's unit, county and month."""
    ids = sorted(set(order_line_ids))
    if not ids:
        return
    entered = (sa.select(UnitSideEntry.order_line_id, UnitSideEntry.kind,
                         sa.func.sum(UnitSideEntry.amount_fen).label("amount"))
               .where(UnitSideEntry.order_line_id.in_(ids))
               .group_by(UnitSideEntry.order_line_id, UnitSideEntry.kind).subquery("entered"))
    difference = _net_amount() - entered.c.amount
    select = (sa.select(UnitSideEntry.unit_id, UnitSideEntry.kind, UnitSideEntry.year, UnitSideEntry.month,
                        sa.literal(SideReason.REFUNDED.value), difference, UnitSideEntry.order_line_id,
                        UnitSideEntry.origin_county_id, sa.literal(utcnow(), UTCDateTime()))
              .join(OrderLine, OrderLine.id == UnitSideEntry.order_line_id)
              .join(entered, sa.and_(entered.c.order_line_id == UnitSideEntry.order_line_id,
                                     entered.c.kind == UnitSideEntry.kind))
              .where(UnitSideEntry.order_line_id.in_(ids), UnitSideEntry.reason == SideReason.COMPLETED,
                     difference != 0))
    connection.execute(sa.insert(UnitSideEntry).from_select(ENTRY_COLUMNS, select))


# --- the session hook -------------------------------------------------------------------------------


def _after_flush(session: Session, _context) -> None:
    completed: set[int] = set()
    refunded: set[int] = set()
    for obj in itertools.chain(session.new, session.dirty):
        if isinstance(obj, SubOrder):
            if obj.completed_at is not None and sa.inspect(obj).attrs.completed_at.history.added:
                completed.add(obj.id)
        elif isinstance(obj, OrderLine):
            if obj in session.new:
                # A line added to a sub-order that is already complete (a factory writing a finished sale).
                sub = session.identity_map.get(identity_key(SubOrder, obj.sub_order_id))
                if sub is not None and sub.completed_at is not None:
                    completed.add(sub.id)
            elif sa.inspect(obj).attrs.refunded_quantity.history.has_changes():
                refunded.add(obj.id)
    if completed or refunded:
        connection = session.connection()
        record_completions(connection, completed)
        record_refunds(connection, refunded)


def install() -> None:
    """Listen on every Session (the application's, the tests', the workers'); idempotent."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)


# --- bulk: seeders and repair ------------------------------------------------------------------------


def add_totals(connection: sa.Connection, first_id: int) -> None:
    """Add the entries from ``first_id`` on to the totals, one INSERT … SELECT … GROUP BY … ON CONFLICT
    per total: the sums the ``unit_side_added`` trigger adds one row at a time."""
    for table, keys, by_month in SIDE_TOTALS:
        columns = ", ".join(keys)
        amounts = ["amount_fen", *(MONTH_COLUMNS if by_month else ())]
        sums = ["SUM(amount_fen)"] + ([f"SUM(CASE WHEN month = {m} THEN amount_fen ELSE 0 END)"
                                       for m in range(1, 13)] if by_month else [])
        updates = ", ".join(f"{a} = {table}.{a} + excluded.{a}" for a in amounts)
        # Table and column names are the constants of SIDE_TOTALS; the id is a bound parameter.
        connection.execute(sa.text(
            f"INSERT INTO {table} ({columns}, {', '.join(amounts)}) "  # noqa: S608
            f"SELECT {columns}, {', '.join(sums)} FROM unit_side_entry WHERE id >= :first GROUP BY {columns} "
            f"ON CONFLICT ({columns}) DO UPDATE SET {updates}"), {"first": first_id})


def record_unrecorded(connection: sa.Connection) -> int:
    """Enter every completed line not entered yet (after a bulk load); returns how many entries.

    On PostgreSQL the per-row triggers are switched off for the load and the new entries' totals are
    added set-based in the same transaction (the same sums); on SQLite the triggers do it."""
    postgres = connection.dialect.name == "postgresql"
    first = int(connection.execute(sa.select(sa.func.coalesce(sa.func.max(UnitSideEntry.id), 0))).scalar_one()) + 1
    if postgres:
        for name in TRIGGERS:
            connection.execute(sa.text(f"ALTER TABLE unit_side_entry DISABLE TRIGGER {name}"))
    for select in completion_selects(connection.dialect.name):
        connection.execute(sa.insert(UnitSideEntry).from_select(ENTRY_COLUMNS, select))
    # Counted, not taken from the cursor: drivers do not all report an INSERT … SELECT's row count.
    written = int(connection.execute(sa.select(sa.func.count()).select_from(UnitSideEntry)
                                     .where(UnitSideEntry.id >= first)).scalar_one())
    if postgres:
        add_totals(connection, first)
        for name in TRIGGERS:
            connection.execute(sa.text(f"ALTER TABLE unit_side_entry ENABLE TRIGGER {name}"))
        if written:  # fresh statistics for the dashboards that read the totals next
            for table, _keys, _months in SIDE_TOTALS:
                connection.execute(sa.text(f"ANALYZE {table}"))
    return written


def unrecorded_count(connection: sa.Connection) -> int:
    """How many (line, kind) entries the current facts give that are missing (0: nothing was missed)."""
    return sum(int(connection.execute(sa.select(sa.func.count()).select_from(select.subquery())).scalar_one())
               for select in completion_selects(connection.dialect.name))
