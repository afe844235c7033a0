"""operations: SLA timers and once-per-period jobs

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 12:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def _text(length: int | None = None):
    return sqlmodel.sql.sqltypes.AutoString(length=length) if length else sqlmodel.sql.sqltypes.AutoString()


def upgrade() -> None:
    op.create_table('sla_timers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', _text(40), nullable=False),
    sa.Column('kind', _text(40), nullable=False),
    sa.Column('step', sa.Integer(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('notify', _text(255), nullable=True),
    sa.Column('status', _text(20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('claimed_by', _text(120), nullable=True),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('fired_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('text', _text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ticket_id', 'kind', 'step', name='uq_sla_timers_ticket_kind_step')
    )
    with op.batch_alter_table('sla_timers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sla_timers_ticket_id'), ['ticket_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sla_timers_due_at'), ['due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_sla_timers_status'), ['status'], unique=False)

    op.create_table('ops_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job', _text(40), nullable=False),
    sa.Column('period', _text(40), nullable=False),
    sa.Column('worker', _text(120), nullable=False),
    sa.Column('status', _text(20), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('job', 'period', name='uq_ops_runs_job_period')
    )


def downgrade() -> None:
    op.drop_table('ops_runs')
    with op.batch_alter_table('sla_timers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sla_timers_status'))
        batch_op.drop_index(batch_op.f('ix_sla_timers_due_at'))
        batch_op.drop_index(batch_op.f('ix_sla_timers_ticket_id'))
    op.drop_table('sla_timers')
