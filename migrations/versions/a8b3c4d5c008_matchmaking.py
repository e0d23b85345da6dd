"""matchmaking: unit demands, supplier offers, matches

Revision ID: a8b3c4d5c008
Revises: a7b2c3d4c007
Create Date: 2026-11-23 14:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a8b3c4d5c008'
down_revision = 'a7b2c3d4c007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('match_demand',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('posted_by_id', sa.Integer(), nullable=True),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.BigInteger(), nullable=False),
    sa.Column('unit', sa.String(length=10), nullable=False),
    sa.Column('budget_fen', sa.BigInteger(), nullable=True),
    sa.Column('delivery_from', sa.Date(), nullable=False),
    sa.Column('delivery_to', sa.Date(), nullable=False),
    sa.Column('wished_region_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), server_default='', nullable=False),
    sa.Column('status', sa.Enum('open', 'closed', 'cancelled', name='demandstatus_values', native_enum=False, create_constraint=True, length=32), server_default='open', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('budget_fen IS NULL OR budget_fen >= 0', name=op.f('ck_match_demand_budget_not_negative')),
    sa.CheckConstraint('delivery_to >= delivery_from', name=op.f('ck_match_demand_window_ends_after_start')),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_match_demand_quantity_positive')),
    sa.ForeignKeyConstraint(['category_id'], ['category.id'], name=op.f('fk_match_demand_category_id_category'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['posted_by_id'], ['user_account.id'], name=op.f('fk_match_demand_posted_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['unit_id'], ['buyer_unit.id'], name=op.f('fk_match_demand_unit_id_buyer_unit'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['wished_region_id'], ['region.id'], name=op.f('fk_match_demand_wished_region_id_region'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_match_demand'))
    )
    with op.batch_alter_table('match_demand', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_match_demand_category_id'), ['category_id'], unique=False)
        batch_op.create_index('ix_match_demand_status_window', ['status', 'delivery_to'], unique=False)
        batch_op.create_index(batch_op.f('ix_match_demand_unit_id'), ['unit_id'], unique=False)

    op.create_table('match_offer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('posted_by_id', sa.Integer(), nullable=True),
    sa.Column('product_id', sa.Integer(), nullable=True),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('description', sa.String(length=500), server_default='', nullable=False),
    sa.Column('quantity', sa.BigInteger(), nullable=False),
    sa.Column('unit', sa.String(length=10), nullable=False),
    sa.Column('ready_on', sa.Date(), nullable=False),
    sa.Column('price_fen', sa.BigInteger(), nullable=False),
    sa.Column('origin_region_id', sa.Integer(), nullable=False),
    sa.Column('origin_county_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('open', 'closed', 'cancelled', name='offerstatus_values', native_enum=False, create_constraint=True, length=32), server_default='open', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('price_fen > 0', name=op.f('ck_match_offer_price_positive')),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_match_offer_quantity_positive')),
    sa.ForeignKeyConstraint(['category_id'], ['category.id'], name=op.f('fk_match_offer_category_id_category'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['origin_county_id'], ['region.id'], name=op.f('fk_match_offer_origin_county_id_region'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['origin_region_id'], ['region.id'], name=op.f('fk_match_offer_origin_region_id_region'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['posted_by_id'], ['user_account.id'], name=op.f('fk_match_offer_posted_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_match_offer_product_id_product'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['supplier_id'], ['supplier.id'], name=op.f('fk_match_offer_supplier_id_supplier'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_match_offer'))
    )
    with op.batch_alter_table('match_offer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_match_offer_product_id'), ['product_id'], unique=False)
        batch_op.create_index('ix_match_offer_status_category', ['status', 'category_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_match_offer_supplier_id'), ['supplier_id'], unique=False)

    op.create_table('match_match',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('demand_id', sa.Integer(), nullable=False),
    sa.Column('offer_id', sa.Integer(), nullable=True),
    sa.Column('product_id', sa.Integer(), nullable=True),
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('proposed', 'accepted_by_unit', 'accepted_by_supplier', 'accepted', 'declined', 'expired', name='matchstatus_values', native_enum=False, create_constraint=True, length=32), server_default='proposed', nullable=False),
    sa.Column('warning_id', sa.Integer(), nullable=True),
    sa.Column('unit_price_fen', sa.BigInteger(), nullable=False),
    sa.Column('order_quantity', sa.BigInteger(), nullable=False),
    sa.Column('unit_accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('unit_accepted_by_id', sa.Integer(), nullable=True),
    sa.Column('supplier_accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('supplier_accepted_by_id', sa.Integer(), nullable=True),
    sa.Column('declined_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('declined_by_id', sa.Integer(), nullable=True),
    sa.Column('decline_reason', sa.String(length=500), server_default='', nullable=False),
    sa.Column('carted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('procurement_order_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status <> 'accepted' OR (product_id IS NOT NULL AND unit_accepted_at IS NOT NULL AND (supplier_accepted_at IS NOT NULL OR offer_id IS NULL))", name=op.f('ck_match_match_accepted_by_both')),
    sa.CheckConstraint('offer_id IS NOT NULL OR product_id IS NOT NULL', name=op.f('ck_match_match_offer_or_product')),
    sa.CheckConstraint('score >= 0 AND score <= 100', name=op.f('ck_match_match_score_range')),
    sa.ForeignKeyConstraint(['declined_by_id'], ['user_account.id'], name=op.f('fk_match_match_declined_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['demand_id'], ['match_demand.id'], name=op.f('fk_match_match_demand_id_match_demand'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['offer_id'], ['match_offer.id'], name=op.f('fk_match_match_offer_id_match_offer'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['procurement_order_id'], ['procurement_order.id'], name=op.f('fk_match_match_procurement_order_id_procurement_order'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_match_match_product_id_product'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['supplier_accepted_by_id'], ['user_account.id'], name=op.f('fk_match_match_supplier_accepted_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['supplier_id'], ['supplier.id'], name=op.f('fk_match_match_supplier_id_supplier'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_accepted_by_id'], ['user_account.id'], name=op.f('fk_match_match_unit_accepted_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['warning_id'], ['alert_warning.id'], name=op.f('fk_match_match_warning_id_alert_warning'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_match_match')),
    sa.UniqueConstraint('demand_id', 'offer_id', name='uq_match_match_demand_offer')
    )
    with op.batch_alter_table('match_match', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_match_match_offer_id'), ['offer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_match_match_procurement_order_id'), ['procurement_order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_match_match_product_id'), ['product_id'], unique=False)
        batch_op.create_index('ix_match_match_status', ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_match_match_supplier_id'), ['supplier_id'], unique=False)
        batch_op.create_index('uq_match_match_demand_product', ['demand_id', 'product_id'], unique=True, postgresql_where=sa.text('offer_id IS NULL'), sqlite_where=sa.text('offer_id IS NULL'))


def downgrade():
    with op.batch_alter_table('match_match', schema=None) as batch_op:
        batch_op.drop_index('uq_match_match_demand_product', postgresql_where=sa.text('offer_id IS NULL'), sqlite_where=sa.text('offer_id IS NULL'))
        batch_op.drop_index(batch_op.f('ix_match_match_supplier_id'))
        batch_op.drop_index('ix_match_match_status')
        batch_op.drop_index(batch_op.f('ix_match_match_product_id'))
        batch_op.drop_index(batch_op.f('ix_match_match_procurement_order_id'))
        batch_op.drop_index(batch_op.f('ix_match_match_offer_id'))

    op.drop_table('match_match')
    with op.batch_alter_table('match_offer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_match_offer_supplier_id'))
        batch_op.drop_index('ix_match_offer_status_category')
        batch_op.drop_index(batch_op.f('ix_match_offer_product_id'))

    op.drop_table('match_offer')
    with op.batch_alter_table('match_demand', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_match_demand_unit_id'))
        batch_op.drop_index('ix_match_demand_status_window')
        batch_op.drop_index(batch_op.f('ix_match_demand_category_id'))

    op.drop_table('match_demand')
