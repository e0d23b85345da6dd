"""shop: carts (filled in by the cart and checkout work)

Revision ID: a1c4a7e0c001
Revises: e462d269b1fc
Create Date: 2026-11-23 12:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a1c4a7e0c001'
down_revision = 'e462d269b1fc'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
