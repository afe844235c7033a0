"""one unresolved ticket per conversation (replicas escalating at once open one)

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

ACTIVE = sa.text("status IN ('open', 'claimed', 'released')")


def upgrade() -> None:
    op.create_index("uq_tickets_one_active_per_conversation", "tickets", ["conversation_id"], unique=True, sqlite_where=ACTIVE, postgresql_where=ACTIVE)


def downgrade() -> None:
    op.drop_index("uq_tickets_one_active_per_conversation", "tickets")
