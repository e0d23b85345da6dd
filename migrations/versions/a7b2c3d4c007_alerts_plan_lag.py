"""alerts: plan-lag warnings for buyer units

Plan-lag warnings (one live per unit and year), their actions, and the plan-lag counts of a run.

Revision ID: a7b2c3d4c007
Revises: a6b1c2d3c006
Create Date: 2026-11-23 14:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7b2c3d4c007'
down_revision = 'a6b1c2d3c006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('alert_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('plan_lag_units', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('plan_lag_opened', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('plan_lag_raised', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('plan_lag_lowered', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('plan_lag_resolved', sa.Integer(), server_default='0', nullable=False))
    op.create_table('alert_plan_lag_warning',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('watching', 'open', 'acknowledged', 'handled', 'resolved', name='warningstatus_values', native_enum=False, create_constraint=True, length=32), server_default='open', nullable=False),
    sa.Column('level', sa.Enum('blue', 'yellow', 'orange', 'red', name='warninglevel_values', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('gap_points', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('gap_fen', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('figures', sa.JSON(), nullable=False),
    sa.Column('open_streak', sa.Integer(), server_default='0', nullable=False),
    sa.Column('rise_streak', sa.Integer(), server_default='0', nullable=False),
    sa.Column('rise_floor', sa.Integer(), nullable=True),
    sa.Column('first_run_id', sa.Integer(), nullable=False),
    sa.Column('last_run_id', sa.Integer(), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('handled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('gap_fen >= 0', name=op.f('ck_alert_plan_lag_warning_gap_fen_not_negative')),
    sa.CheckConstraint('gap_points >= 0 AND gap_points <= 100', name=op.f('ck_alert_plan_lag_warning_gap_points_range')),
    sa.CheckConstraint('rise_streak >= 0 AND open_streak >= 0', name=op.f('ck_alert_plan_lag_warning_streaks_not_negative')),
    sa.ForeignKeyConstraint(['first_run_id'], ['alert_run.id'], name=op.f('fk_alert_plan_lag_warning_first_run_id_alert_run'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['last_run_id'], ['alert_run.id'], name=op.f('fk_alert_plan_lag_warning_last_run_id_alert_run'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['user_account.id'], name=op.f('fk_alert_plan_lag_warning_resolved_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['unit_id'], ['buyer_unit.id'], name=op.f('fk_alert_plan_lag_warning_unit_id_buyer_unit'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_plan_lag_warning'))
    )
    with op.batch_alter_table('alert_plan_lag_warning', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_plan_lag_warning_unit_id'), ['unit_id'], unique=False)
        batch_op.create_index('ix_alert_plan_lag_warning_status_level', ['status', 'level'], unique=False)
        batch_op.create_index('uq_alert_plan_lag_warning_live', ['unit_id', 'year'], unique=True, postgresql_where=sa.text("status <> 'resolved'"), sqlite_where=sa.text("status <> 'resolved'"))
    op.create_table('alert_plan_lag_action',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('warning_id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('acknowledge', 'assign', 'note', 'respond', 'resolve', name='actionkind_values', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('note', sa.Text(), server_default='', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], name=op.f('fk_alert_plan_lag_action_actor_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['warning_id'], ['alert_plan_lag_warning.id'], name=op.f('fk_alert_plan_lag_action_warning_id_alert_plan_lag_warning'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_plan_lag_action'))
    )
    with op.batch_alter_table('alert_plan_lag_action', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_plan_lag_action_warning_id'), ['warning_id'], unique=False)


def downgrade():
    with op.batch_alter_table('alert_plan_lag_action', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alert_plan_lag_action_warning_id'))
    op.drop_table('alert_plan_lag_action')
    with op.batch_alter_table('alert_plan_lag_warning', schema=None) as batch_op:
        batch_op.drop_index('uq_alert_plan_lag_warning_live', postgresql_where=sa.text("status <> 'resolved'"), sqlite_where=sa.text("status <> 'resolved'"))
        batch_op.drop_index('ix_alert_plan_lag_warning_status_level')
        batch_op.drop_index(batch_op.f('ix_alert_plan_lag_warning_unit_id'))
    op.drop_table('alert_plan_lag_warning')
    with op.batch_alter_table('alert_run', schema=None) as batch_op:
        batch_op.drop_column('plan_lag_resolved')
        batch_op.drop_column('plan_lag_lowered')
        batch_op.drop_column('plan_lag_raised')
        batch_op.drop_column('plan_lag_opened')
        batch_op.drop_column('plan_lag_units')
