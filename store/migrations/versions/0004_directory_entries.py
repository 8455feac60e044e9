"""directory: what the HR sync, Graph and Slack profiles say about a person, by e-mail (issue 15)

Revision ID: 0004_directory_entries
Revises: 0003_person_calendar
Create Date: 2026-11-30 04:10:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0004_directory_entries'
down_revision = '0003_person_calendar'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'directory',
        sa.Column('email', sa.String(length=320), nullable=False),
        sa.Column('source', sa.String(length=16), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=True),
        sa.Column('manager_email', sa.String(length=320), nullable=True),
        sa.Column('country', sa.String(length=8), nullable=True),
        sa.Column('subdivision', sa.String(length=16), nullable=True),
        sa.Column('tz', sa.String(length=64), nullable=True),
        sa.Column('work_days', sa.String(length=32), nullable=True),
        sa.Column('work_start', sa.String(length=5), nullable=True),
        sa.Column('work_end', sa.String(length=5), nullable=True),
        sa.Column('locale', sa.String(length=35), nullable=True),
        sa.Column('external_id', sa.String(length=128), nullable=True),
        sa.Column('fetched_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('email', 'source'),
    )


def downgrade() -> None:
    op.drop_table('directory')
