"""procurement: the side ledger of employees' purchases and help-sales, with its maintained totals;
the plan ledger's total per county of origin

An append-only entry per completed consumer order line that counts as a unit's employee purchase
(职工个人) or help-sale (帮助销售), and per later refund; totals per unit, year and kind (with
months) and per unit, year, kind and county of origin, kept by triggers on the entries as the
plan ledger's are. See procurement/models_side.py. Existing completed orders are entered here,
set-based, before the triggers exist; the totals are then added up once.

The plan ledger gets a third maintained total, per year, county of origin and channel for all
units (plan_county_total): its triggers (migration a5c0a1b2c005) are rewritten with a third upsert.

Revision ID: a9c4d5e6c009
Revises: a8b3c4d5c008
Create Date: 2026-11-23 17:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a9c4d5e6c009'
down_revision = 'a8b3c4d5c008'
branch_labels = None
depends_on = None


TOTALS = (
    ("unit_side_total", ("unit_id", "year", "kind"), True),
    ("unit_side_origin_total", ("unit_id", "year", "kind", "origin_county_id"), False),
)
MONTHS = [f"m{m:02d}" for m in range(1, 13)]
# The plan ledger's totals before (a5c0a1b2c005) and after this revision.
LEDGER_TOTALS = (
    ("plan_year_total", ("unit_id", "year", "channel"), True),
    ("plan_origin_total", ("unit_id", "year", "origin_county_id", "category_id", "channel"), False),
)
COUNTY_TOTAL = ("plan_county_total", ("year", "origin_county_id", "channel"), False)
COLUMNS = "unit_id, kind, year, month, reason, amount_fen, order_line_id, origin_county_id, recorded_at"


def _kind():
    return sa.Enum('employee', 'help_sales', name='sidekind_values', native_enum=False, create_constraint=True,
                   length=32)


def _upserts(sign: str, totals=TOTALS) -> str:
    """One statement per total adding ``sign`` × the entry's amount (the same SQL on both databases)."""
    row = "NEW" if sign == "+" else "OLD"
    statements = []
    for table, keys, by_month in totals:
        columns = ", ".join(keys)
        amounts = ["amount_fen", *(MONTHS if by_month else [])]
        values = [f"{row}.{k}" for k in keys] + [f"{sign}{row}.amount_fen"]
        if by_month:
            values += [f"CASE WHEN {row}.month = {i} THEN {sign}{row}.amount_fen ELSE 0 END"
                       for i in range(1, 13)]
        updates = ", ".join(f"{a} = {table}.{a} + excluded.{a}" for a in amounts)
        statements.append(
            f"INSERT INTO {table} ({columns}, {', '.join(amounts)}) VALUES ({', '.join(values)}) "
            f"ON CONFLICT ({columns}) DO UPDATE SET {updates};"
        )
    return "\n".join(statements)


def _existing_entries(postgres: bool) -> list[str]:
    """The completed consumer lines as procurement.services.side_ledger enters them (its
    ``completion_selects``), written out here so the migration does not depend on the code."""
    if postgres:
        year = "CAST(EXTRACT(YEAR FROM timezone('Asia/Shanghai', so.completed_at)) AS INTEGER)"
        month = "CAST(EXTRACT(MONTH FROM timezone('Asia/Shanghai', so.completed_at)) AS INTEGER)"
        now = "now()"
    else:  # SQLite: Shanghai is UTC+8 all year
        year = "CAST(strftime('%Y', so.completed_at, '+8 hours') AS INTEGER)"
        month = "CAST(strftime('%m', so.completed_at, '+8 hours') AS INTEGER)"
        now = "datetime('now')"
    net = "(ol.quantity - ol.refunded_quantity) * ol.unit_price_fen"
    lines = ("FROM order_line ol JOIN sub_order so ON so.id = ol.sub_order_id "
             "JOIN shop_order o ON o.id = so.order_id JOIN product p ON p.id = ol.product_id ")
    where = f"o.kind = 'consumer' AND so.completed_at IS NOT NULL AND {net} > 0"
    return [
        f"INSERT INTO unit_side_entry ({COLUMNS}) "
        f"SELECT e.unit_id, 'employee', {year}, {month}, 'completed', {net}, ol.id, p.origin_county_id, {now} "
        f"{lines}JOIN unit_employee e ON e.user_id = o.buyer_id AND e.since <= so.completed_at WHERE {where}",
        f"INSERT INTO unit_side_entry ({COLUMNS}) "
        f"SELECT u.id, 'help_sales', {year}, {month}, 'completed', {net}, ol.id, p.origin_county_id, {now} "
        f"{lines}JOIN buyer_unit u ON u.promotion_code = o.referral_code "
        f"LEFT JOIN unit_employee own ON own.user_id = o.buyer_id AND own.unit_id = u.id "
        f"AND own.since <= so.completed_at WHERE {where} AND own.user_id IS NULL",
    ]


def _channel():
    return sa.Enum('canteen', 'union', name='purchasechannel_values', native_enum=False, create_constraint=True,
                   length=32)


def _ledger_triggers(totals) -> None:
    """(Re)create the plan ledger's triggers adding each row to ``totals``."""
    postgres = op.get_bind().dialect.name == "postgresql"
    for name, sign, event in (("added", "+", "INSERT"), ("removed", "-", "DELETE")):
        row = "NEW" if sign == "+" else "OLD"
        if postgres:
            op.execute(f"CREATE OR REPLACE FUNCTION plan_ledger_{name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
                       f"BEGIN\n{_upserts(sign, totals)}\nRETURN {row};\nEND $$")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS plan_ledger_{name}")
            op.execute(f"CREATE TRIGGER plan_ledger_{name} AFTER {event} ON plan_ledger_entry "
                       f"FOR EACH ROW BEGIN\n{_upserts(sign, totals)}\nEND")


def upgrade():
    op.create_table('plan_county_total',
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('origin_county_id', sa.Integer(), nullable=False),
    sa.Column('channel', _channel(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['origin_county_id'], ['region.id'], name=op.f('fk_plan_county_total_origin_county_id_region'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('year', 'origin_county_id', 'channel', name=op.f('pk_plan_county_total'))
    )
    op.execute("INSERT INTO plan_county_total (year, origin_county_id, channel, amount_fen) "
               "SELECT year, origin_county_id, channel, SUM(amount_fen) FROM plan_ledger_entry "
               "GROUP BY year, origin_county_id, channel")
    _ledger_triggers((*LEDGER_TOTALS, COUNTY_TOTAL))

    op.create_table('unit_side_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('kind', _kind(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('month', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Enum('completed', 'refunded', name='sidereason_values', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('order_line_id', sa.Integer(), nullable=False),
    sa.Column('origin_county_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(reason = 'completed' AND amount_fen >= 0) OR (reason <> 'completed' AND amount_fen <= 0)", name=op.f('ck_unit_side_entry_sign_matches_reason')),
    sa.CheckConstraint('month >= 1 AND month <= 12', name=op.f('ck_unit_side_entry_month_range')),
    sa.ForeignKeyConstraint(['order_line_id'], ['order_line.id'], name=op.f('fk_unit_side_entry_order_line_id_order_line'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['origin_county_id'], ['region.id'], name=op.f('fk_unit_side_entry_origin_county_id_region'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['unit_id'], ['buyer_unit.id'], name=op.f('fk_unit_side_entry_unit_id_buyer_unit'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unit_side_entry'))
    )
    with op.batch_alter_table('unit_side_entry', schema=None) as batch_op:
        batch_op.create_index('ix_unit_side_entry_line_kind', ['order_line_id', 'kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_unit_side_entry_unit_id'), ['unit_id'], unique=False)

    op.create_table('unit_side_total',
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('kind', _kind(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), server_default='0', nullable=False),
    *[sa.Column(m, sa.BigInteger(), server_default='0', nullable=False) for m in MONTHS],
    sa.ForeignKeyConstraint(['unit_id'], ['buyer_unit.id'], name=op.f('fk_unit_side_total_unit_id_buyer_unit'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('unit_id', 'year', 'kind', name=op.f('pk_unit_side_total'))
    )
    with op.batch_alter_table('unit_side_total', schema=None) as batch_op:
        batch_op.create_index('ix_unit_side_total_year', ['year'], unique=False)

    op.create_table('unit_side_origin_total',
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('kind', _kind(), nullable=False),
    sa.Column('origin_county_id', sa.Integer(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['origin_county_id'], ['region.id'], name=op.f('fk_unit_side_origin_total_origin_county_id_region'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['buyer_unit.id'], name=op.f('fk_unit_side_origin_total_unit_id_buyer_unit'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('unit_id', 'year', 'kind', 'origin_county_id', name=op.f('pk_unit_side_origin_total'))
    )
    with op.batch_alter_table('unit_side_origin_total', schema=None) as batch_op:
        batch_op.create_index('ix_unit_side_origin_total_year_county', ['year', 'origin_county_id'], unique=False)

    # Existing completed orders, set-based, then their totals once; the triggers come after, so the
    # load is not added twice (and not row by row).
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in _existing_entries(postgres):
        op.execute(statement)
    for table, keys, by_month in TOTALS:
        columns = ", ".join(keys)
        months = "".join(f", {m}" for m in MONTHS) if by_month else ""
        sums = "".join(f", SUM(CASE WHEN month = {i} THEN amount_fen ELSE 0 END)" for i in range(1, 13)) \
            if by_month else ""
        op.execute(f"INSERT INTO {table} ({columns}, amount_fen{months}) "
                   f"SELECT {columns}, SUM(amount_fen){sums} FROM unit_side_entry GROUP BY {columns}")
    for name, sign, event in (("added", "+", "INSERT"), ("removed", "-", "DELETE")):
        row = "NEW" if sign == "+" else "OLD"
        if postgres:
            op.execute(f"CREATE FUNCTION unit_side_{name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
                       f"BEGIN\n{_upserts(sign)}\nRETURN {row};\nEND $$")
            op.execute(f"CREATE TRIGGER unit_side_{name} AFTER {event} ON unit_side_entry "
                       f"FOR EACH ROW EXECUTE FUNCTION unit_side_{name}()")
        else:
            op.execute(f"CREATE TRIGGER unit_side_{name} AFTER {event} ON unit_side_entry "
                       f"FOR EACH ROW BEGIN\n{_upserts(sign)}\nEND")


def downgrade():
    _ledger_triggers(LEDGER_TOTALS)
    op.drop_table('plan_county_total')
    postgres = op.get_bind().dialect.name == "postgresql"
    for name in ("added", "removed"):
        if postgres:
            op.execute(f"DROP TRIGGER IF EXISTS unit_side_{name} ON unit_side_entry")
            op.execute(f"DROP FUNCTION IF EXISTS unit_side_{name}()")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS unit_side_{name}")
    with op.batch_alter_table('unit_side_origin_total', schema=None) as batch_op:
        batch_op.drop_index('ix_unit_side_origin_total_year_county')
    op.drop_table('unit_side_origin_total')
    with op.batch_alter_table('unit_side_total', schema=None) as batch_op:
        batch_op.drop_index('ix_unit_side_total_year')
    op.drop_table('unit_side_total')
    with op.batch_alter_table('unit_side_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_unit_side_entry_unit_id'))
        batch_op.drop_index('ix_unit_side_entry_line_kind')
    op.drop_table('unit_side_entry')
