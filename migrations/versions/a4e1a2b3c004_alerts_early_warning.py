"""alerts: early-warning rules, runs and warnings

Revision ID: a4e1a2b3c004
Revises: a3d0c1e2c003
Create Date: 2026-11-23 12:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a4e1a2b3c004'
down_revision = 'a3d0c1e2c003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('alert_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_on', sa.Date(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('products_checked', sa.Integer(), server_default='0', nullable=False),
    sa.Column('opened', sa.Integer(), server_default='0', nullable=False),
    sa.Column('raised', sa.Integer(), server_default='0', nullable=False),
    sa.Column('lowered', sa.Integer(), server_default='0', nullable=False),
    sa.Column('resolved', sa.Integer(), server_default='0', nullable=False),
    sa.Column('rules', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_run')),
    sa.UniqueConstraint('run_on', name=op.f('uq_alert_run_run_on'))
    )
    op.create_table('alert_rule_setting',
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('value >= 0', name=op.f('ck_alert_rule_setting_value_not_negative')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user_account.id'], name=op.f('fk_alert_rule_setting_updated_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_alert_rule_setting'))
    )
    op.create_table('alert_warning',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('cause', sa.Enum('spoilage', 'season_end', 'sales_stall', 'price_fall', name='warningcause_values', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('status', sa.Enum('watching', 'open', 'acknowledged', 'handled', 'resolved', name='warningstatus_values', native_enum=False, create_constraint=True, length=32), server_default='open', nullable=False),
    sa.Column('level', sa.Enum('blue', 'yellow', 'orange', 'red', name='warninglevel_values', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('rule', sa.String(length=40), nullable=False),
    sa.Column('playbook', sa.String(length=40), nullable=False),
    sa.Column('amount_at_risk_fen', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('days_left', sa.Integer(), nullable=True),
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
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_at_risk_fen >= 0', name=op.f('ck_alert_warning_amount_not_negative')),
    sa.CheckConstraint('rise_streak >= 0 AND open_streak >= 0', name=op.f('ck_alert_warning_streaks_not_negative')),
    sa.ForeignKeyConstraint(['assignee_id'], ['user_account.id'], name=op.f('fk_alert_warning_assignee_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['first_run_id'], ['alert_run.id'], name=op.f('fk_alert_warning_first_run_id_alert_run'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['last_run_id'], ['alert_run.id'], name=op.f('fk_alert_warning_last_run_id_alert_run'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_alert_warning_product_id_product'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['user_account.id'], name=op.f('fk_alert_warning_resolved_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_warning'))
    )
    with op.batch_alter_table('alert_warning', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_warning_product_id'), ['product_id'], unique=False)
        batch_op.create_index('ix_alert_warning_status_level', ['status', 'level'], unique=False)
        batch_op.create_index('uq_alert_warning_live', ['product_id', 'cause'], unique=True, postgresql_where=sa.text("status <> 'resolved'"), sqlite_where=sa.text("status <> 'resolved'"))
    op.create_table('alert_notification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.String(length=500), nullable=False),
    sa.Column('link', sa.String(length=255), server_default='', nullable=False),
    sa.Column('warning_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_alert_notification_user_id_user_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['warning_id'], ['alert_warning.id'], name=op.f('fk_alert_notification_warning_id_alert_warning'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_notification'))
    )
    with op.batch_alter_table('alert_notification', schema=None) as batch_op:
        batch_op.create_index('ix_alert_notification_user_read', ['user_id', 'read_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_alert_notification_warning_id'), ['warning_id'], unique=False)
    op.create_table('alert_warning_action',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('warning_id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('acknowledge', 'assign', 'note', 'respond', 'resolve', name='actionkind_values', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('note', sa.Text(), server_default='', nullable=False),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], name=op.f('fk_alert_warning_action_actor_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['assignee_id'], ['user_account.id'], name=op.f('fk_alert_warning_action_assignee_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['warning_id'], ['alert_warning.id'], name=op.f('fk_alert_warning_action_warning_id_alert_warning'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_warning_action'))
    )
    with op.batch_alter_table('alert_warning_action', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_warning_action_warning_id'), ['warning_id'], unique=False)
    op.create_table('alert_warning_observation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('warning_id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.Enum('blue', 'yellow', 'orange', 'red', name='warninglevel_values', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('amount_at_risk_fen', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('days_left', sa.Integer(), nullable=True),
    sa.Column('figures', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['alert_run.id'], name=op.f('fk_alert_warning_observation_run_id_alert_run'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['warning_id'], ['alert_warning.id'], name=op.f('fk_alert_warning_observation_warning_id_alert_warning'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_warning_observation')),
    sa.UniqueConstraint('warning_id', 'run_id', name='uq_alert_warning_observation_run')
    )
    with op.batch_alter_table('alert_warning_observation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_warning_observation_run_id'), ['run_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_alert_warning_observation_warning_id'), ['warning_id'], unique=False)



def downgrade():
    with op.batch_alter_table('alert_warning_observation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alert_warning_observation_warning_id'))
        batch_op.drop_index(batch_op.f('ix_alert_warning_observation_run_id'))
    op.drop_table('alert_warning_observation')
    with op.batch_alter_table('alert_warning_action', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alert_warning_action_warning_id'))
    op.drop_table('alert_warning_action')
    with op.batch_alter_table('alert_notification', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alert_notification_warning_id'))
        batch_op.drop_index('ix_alert_notification_user_read')
    op.drop_table('alert_notification')
    with op.batch_alter_table('alert_warning', schema=None) as batch_op:
        batch_op.drop_index('uq_alert_warning_live', postgresql_where=sa.text("status <> 'resolved'"), sqlite_where=sa.text("status <> 'resolved'"))
        batch_op.drop_index('ix_alert_warning_status_level')
        batch_op.drop_index(batch_op.f('ix_alert_warning_product_id'))
    op.drop_table('alert_warning')
    op.drop_table('alert_rule_setting')
    op.drop_table('alert_run')

