"""interview_slots: interview times held on the interviewer's calendar (one row per quarter hour,
unique per interviewer) until the candidate answers or the hold expires

Revision ID: 0008_interview_slots
Revises: 0007_c_access_revocations
Create Date: 2026-12-04 21:30:00
"""
import sqlalchemy as sa
from alembic import op

from store.models import UTCDateTime

revision = '0008_interview_slots'
down_revision = '0007_c_access_revocations'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'interview_slots',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('interviewer_id', sa.String(length=64), nullable=False),
        sa.Column('cell_at', UTCDateTime(), nullable=False),
        sa.Column('slot_at', UTCDateTime(), nullable=False),
        sa.Column('enrollment_id', sa.String(length=64), nullable=False),
        sa.Column('state', sa.String(length=8), nullable=False),
        sa.Column('expires_at', UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('interviewer_id', 'cell_at', name='uq_interview_slots_cell'),
    )
    op.create_index('ix_interview_slots_enrollment_id', 'interview_slots', ['enrollment_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_interview_slots_enrollment_id', table_name='interview_slots')
    op.drop_table('interview_slots')
