"""alerts: recommended buyer units for a warning, outreach and conversion

One row per warning and buyer unit told about it (alert_outreach).

Revision ID: a6b1c2d3c006
Revises: a5c0a1b2c005
Create Date: 2026-11-23 14:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a6b1c2d3c006'
down_revision = 'a5c0a1b2c005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('alert_outreach',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('warning_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('figures', sa.JSON(), nullable=False),
    sa.Column('level', sa.Enum('blue', 'yellow', 'orange', 'red', name='warninglevel_values', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('notified_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('raised_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('told_user_ids', sa.JSON(), nullable=False),
    sa.Column('seen_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('seen_by_id', sa.Integer(), nullable=True),
    sa.Column('answer', sa.Enum('ordering', 'declined', name='outreachanswer_values', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answered_by_id', sa.Integer(), nullable=True),
    sa.Column('answer_note', sa.Text(), server_default='', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('rank >= 1', name=op.f('ck_alert_outreach_rank_positive')),
    sa.CheckConstraint('(answer IS NULL) = (answered_at IS NULL)', name=op.f('ck_alert_outreach_answer_has_time')),
    sa.ForeignKeyConstraint(['answered_by_id'], ['user_account.id'], name=op.f('fk_alert_outreach_answered_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['seen_by_id'], ['user_account.id'], name=op.f('fk_alert_outreach_seen_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['unit_id'], ['buyer_unit.id'], name=op.f('fk_alert_outreach_unit_id_buyer_unit'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['warning_id'], ['alert_warning.id'], name=op.f('fk_alert_outreach_warning_id_alert_warning'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_outreach')),
    sa.UniqueConstraint('warning_id', 'unit_id', name='uq_alert_outreach_warning_unit')
    )
    with op.batch_alter_table('alert_outreach', schema=None) as batch_op:
        batch_op.create_index('ix_alert_outreach_unit_notified', ['unit_id', 'notified_at'], unique=False)


def downgrade():
    with op.batch_alter_table('alert_outreach', schema=None) as batch_op:
        batch_op.drop_index('ix_alert_outreach_unit_notified')
    op.drop_table('alert_outreach')
