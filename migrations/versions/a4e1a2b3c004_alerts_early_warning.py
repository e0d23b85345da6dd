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
    pass


def downgrade():
    pass
