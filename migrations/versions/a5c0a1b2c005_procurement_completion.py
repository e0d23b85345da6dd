"""procurement: completion summaries, integrity flags

Maintained totals of the plan ledger (per unit and year with its months; per unit, county of origin
and category),
kept by triggers on plan_ledger_entry; see procurement/models_completion.py.

Revision ID: a5c0a1b2c005
Revises: a4e1a2b3c004
Create Date: 2026-11-23 12:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a5c0a1b2c005'
down_revision = 'a4e1a2b3c004'
branch_labels = None
depends_on = None


# Each total: its table, its key columns (the ledger's columns of the same names), and whether it
# spreads the amount over month columns m01 … m12 as well.
TOTALS = (
    ("plan_year_total", ("unit_id", "year", "channel"), True),
    ("plan_origin_total", ("unit_id", "year", "origin_county_id", "category_id", "channel"), False),
)
MONTHS = [f"m{m:02d}" for m in range(1, 13)]


def _channel():
    return sa.Enum('canteen', 'union', name='purchasechannel_values', native_enum=False, create_constraint=True,
                   length=32)


def _upserts(sign: str) -> str:
    """One statement per total adding ``sign`` × the ledger row's amount (the same SQL on both databases)."""
    row = "NEW" if sign == "+" else "OLD"
    statements = []
    for table, keys, by_month in TOTALS:
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


def upgrade():
    op.create_table('plan_origin_total',
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('origin_county_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('channel', _channel(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['category.id'], name=op.f('fk_plan_origin_total_category_id_category'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['origin_county_id'], ['region.id'], name=op.f('fk_plan_origin_total_origin_county_id_region'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['buyer_unit.id'], name=op.f('fk_plan_origin_total_unit_id_buyer_unit'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('unit_id', 'year', 'origin_county_id', 'category_id', 'channel', name=op.f('pk_plan_origin_total'))
    )
    with op.batch_alter_table('plan_origin_total', schema=None) as batch_op:
        batch_op.create_index('ix_plan_origin_total_year_county', ['year', 'origin_county_id'], unique=False)

    op.create_table('plan_year_total',
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('channel', _channel(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), server_default='0', nullable=False),
    *[sa.Column(m, sa.BigInteger(), server_default='0', nullable=False) for m in MONTHS],
    sa.ForeignKeyConstraint(['unit_id'], ['buyer_unit.id'], name=op.f('fk_plan_year_total_unit_id_buyer_unit'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('unit_id', 'year', 'channel', name=op.f('pk_plan_year_total'))
    )
    with op.batch_alter_table('plan_year_total', schema=None) as batch_op:
        batch_op.create_index('ix_plan_year_total_year', ['year'], unique=False)

    # The totals follow the append-only ledger inside the same transaction (triggers, so that
    # bulk INSERT … SELECT writes are counted too); existing ledger rows are added up once here.
    for table, keys, by_month in TOTALS:
        columns = ", ".join(keys)
        months = "".join(f", {m}" for m in MONTHS) if by_month else ""
        sums = "".join(f", SUM(CASE WHEN month = {i} THEN amount_fen ELSE 0 END)" for i in range(1, 13)) \
            if by_month else ""
        op.execute(f"INSERT INTO {table} ({columns}, amount_fen{months}) "
                   f"SELECT {columns}, SUM(amount_fen){sums} FROM plan_ledger_entry GROUP BY {columns}")
    if op.get_bind().dialect.name == "postgresql":
        for name, sign, event in (("added", "+", "INSERT"), ("removed", "-", "DELETE")):
            row = "NEW" if sign == "+" else "OLD"
            op.execute(f"CREATE FUNCTION plan_ledger_{name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
                       f"BEGIN\n{_upserts(sign)}\nRETURN {row};\nEND $$")
            op.execute(f"CREATE TRIGGER plan_ledger_{name} AFTER {event} ON plan_ledger_entry "
                       f"FOR EACH ROW EXECUTE FUNCTION plan_ledger_{name}()")
    else:
        for name, sign, event in (("added", "+", "INSERT"), ("removed", "-", "DELETE")):
            op.execute(f"CREATE TRIGGER plan_ledger_{name} AFTER {event} ON plan_ledger_entry "
                       f"FOR EACH ROW BEGIN\n{_upserts(sign)}\nEND")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for name in ("added", "removed"):
            op.execute(f"DROP TRIGGER IF EXISTS plan_ledger_{name} ON plan_ledger_entry")
            op.execute(f"DROP FUNCTION IF EXISTS plan_ledger_{name}()")
    else:
        for name in ("added", "removed"):
            op.execute(f"DROP TRIGGER IF EXISTS plan_ledger_{name}")
    with op.batch_alter_table('plan_year_total', schema=None) as batch_op:
        batch_op.drop_index('ix_plan_year_total_year')
    op.drop_table('plan_year_total')
    with op.batch_alter_table('plan_origin_total', schema=None) as batch_op:
        batch_op.drop_index('ix_plan_origin_total_year_county')
    op.drop_table('plan_origin_total')
