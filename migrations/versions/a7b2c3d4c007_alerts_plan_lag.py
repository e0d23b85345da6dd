"""alerts: plan-lag warnings for buyer units

(A slot reserved in the chain; filled by the work it names.)

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
    pass


def downgrade():
    pass
