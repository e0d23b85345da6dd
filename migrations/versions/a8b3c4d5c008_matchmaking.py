"""matchmaking: unit demands, supplier offers, matches

(A slot reserved in the chain; filled by the work it names.)

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
    pass


def downgrade():
    pass
