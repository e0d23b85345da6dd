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
    pass


def downgrade():
    pass
