"""shop: reviews and benefit attribution

Revision ID: a2b3e4f5c002
Revises: a1c4a7e0c001
Create Date: 2026-11-23 12:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a2b3e4f5c002'
down_revision = 'a1c4a7e0c001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('benefit_attribution',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_line_id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=False),
    sa.Column('county_id', sa.Integer(), nullable=False),
    sa.Column('share_bp', sa.Integer(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.Enum('attributed', 'reversed', name='attributionreason_values', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('refund_request_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(reason = 'attributed' AND amount_fen > 0) OR (reason = 'reversed' AND amount_fen < 0)", name=op.f('ck_benefit_attribution_sign_matches_reason')),
    sa.CheckConstraint('share_bp > 0 AND share_bp <= 10000', name=op.f('ck_benefit_attribution_share_range')),
    sa.ForeignKeyConstraint(['county_id'], ['region.id'], name=op.f('fk_benefit_attribution_county_id_region'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], name=op.f('fk_benefit_attribution_household_id_household'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['order_line_id'], ['order_line.id'], name=op.f('fk_benefit_attribution_order_line_id_order_line'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_benefit_attribution_product_id_product'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['refund_request_id'], ['refund_request.id'], name=op.f('fk_benefit_attribution_refund_request_id_refund_request'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['supplier_id'], ['supplier.id'], name=op.f('fk_benefit_attribution_supplier_id_supplier'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['village_id'], ['region.id'], name=op.f('fk_benefit_attribution_village_id_region'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_benefit_attribution'))
    )
    with op.batch_alter_table('benefit_attribution', schema=None) as batch_op:
        batch_op.create_index('ix_benefit_attribution_county_household', ['county_id', 'household_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_benefit_attribution_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_benefit_attribution_household_id'), ['household_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_benefit_attribution_order_line_id'), ['order_line_id'], unique=False)
        batch_op.create_index('ix_benefit_attribution_product_household', ['product_id', 'household_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_benefit_attribution_refund_request_id'), ['refund_request_id'], unique=False)
        batch_op.create_index('ix_benefit_attribution_supplier_household', ['supplier_id', 'household_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_benefit_attribution_village_id'), ['village_id'], unique=False)
        # A line is attributed to a household once.
        batch_op.create_index('uq_benefit_attribution_once', ['order_line_id', 'household_id'], unique=True, postgresql_where=sa.text("reason = 'attributed'"), sqlite_where=sa.text("reason = 'attributed'"))

    op.create_table('product_review',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_line_id', sa.Integer(), nullable=False),
    sa.Column('buyer_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('rating', sa.Integer(), nullable=False),
    sa.Column('text', sa.String(length=500), server_default='', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('is_hidden', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('hidden_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('hidden_by_id', sa.Integer(), nullable=True),
    sa.Column('hidden_reason', sa.String(length=500), nullable=True),
    sa.CheckConstraint('length(text) <= 500', name=op.f('ck_product_review_text_length')),
    sa.CheckConstraint('rating >= 1 AND rating <= 5', name=op.f('ck_product_review_rating_range')),
    sa.ForeignKeyConstraint(['buyer_id'], ['user_account.id'], name=op.f('fk_product_review_buyer_id_user_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['hidden_by_id'], ['user_account.id'], name=op.f('fk_product_review_hidden_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['order_line_id'], ['order_line.id'], name=op.f('fk_product_review_order_line_id_order_line'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_product_review_product_id_product'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_product_review')),
    sa.UniqueConstraint('order_line_id', name=op.f('uq_product_review_order_line_id'))
    )
    with op.batch_alter_table('product_review', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_product_review_buyer_id'), ['buyer_id'], unique=False)
        batch_op.create_index('ix_product_review_product_visible', ['product_id', 'is_hidden', 'created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('product_review', schema=None) as batch_op:
        batch_op.drop_index('ix_product_review_product_visible')
        batch_op.drop_index(batch_op.f('ix_product_review_buyer_id'))

    op.drop_table('product_review')
    with op.batch_alter_table('benefit_attribution', schema=None) as batch_op:
        batch_op.drop_index('uq_benefit_attribution_once', postgresql_where=sa.text("reason = 'attributed'"), sqlite_where=sa.text("reason = 'attributed'"))
        batch_op.drop_index(batch_op.f('ix_benefit_attribution_village_id'))
        batch_op.drop_index('ix_benefit_attribution_supplier_household')
        batch_op.drop_index(batch_op.f('ix_benefit_attribution_refund_request_id'))
        batch_op.drop_index('ix_benefit_attribution_product_household')
        batch_op.drop_index(batch_op.f('ix_benefit_attribution_order_line_id'))
        batch_op.drop_index(batch_op.f('ix_benefit_attribution_household_id'))
        batch_op.drop_index(batch_op.f('ix_benefit_attribution_created_at'))
        batch_op.drop_index('ix_benefit_attribution_county_household')

    op.drop_table('benefit_attribution')
