"""procurement: completion summaries, integrity flags

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


def upgrade():
    pass


def downgrade():
    pass
