"""message details (kind, sources, ticket, internal flag) and the card's message id on tickets

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False, server_default="message"))
        batch.add_column(sa.Column("sources", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("ticket_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))
        batch.add_column(sa.Column("internal", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("card_message_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True))
        batch.create_index("ix_tickets_card_message_id", ["card_message_id"])


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.drop_index("ix_tickets_card_message_id")
        batch.drop_column("card_message_id")
    with op.batch_alter_table("messages") as batch:
        for name in ("internal", "ticket_id", "sources", "kind"):
            batch.drop_column(name)
