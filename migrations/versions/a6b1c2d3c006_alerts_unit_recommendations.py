"""alerts: recommended buyer units for a warning, outreach and conversion

(A slot reserved in the chain; filled by the work it names.)

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
    pass


def downgrade():
    pass
