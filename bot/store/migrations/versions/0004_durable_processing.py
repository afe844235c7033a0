"""durable processing: the inbox, the delivery log, and the owner of an event marker

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_text = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "inbox",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", _text(length=255), nullable=False, unique=True),
        sa.Column("platform", _text(length=20), nullable=False),
        sa.Column("kind", _text(length=40), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", _text(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("owner", _text(length=255), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", _text(length=500), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_inbox_status", "inbox", ["status"])
    op.create_table(
        "deliveries",
        sa.Column("key", _text(length=255), primary_key=True),
        sa.Column("platform", _text(length=20), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("begun_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
    )
    with op.batch_alter_table("inbound_events") as batch:
        batch.add_column(sa.Column("owner", _text(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inbound_events") as batch:
        batch.drop_column("owner")
    op.drop_table("deliveries")
    op.drop_index("ix_inbox_status", "inbox")
    op.drop_table("inbox")
