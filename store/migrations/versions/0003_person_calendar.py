"""people: their own working days, hours and locale (per-person calendars, issue 15)

Revision ID: 0003_person_calendar
Revises: 0002
Create Date: 2026-11-30 03:50:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0003_person_calendar'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('people') as batch:
        batch.add_column(sa.Column('work_days', sa.String(length=32), nullable=True))
        batch.add_column(sa.Column('work_start', sa.String(length=5), nullable=True))
        batch.add_column(sa.Column('work_end', sa.String(length=5), nullable=True))
        batch.add_column(sa.Column('locale', sa.String(length=35), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('people') as batch:
        batch.drop_column('locale')
        batch.drop_column('work_end')
        batch.drop_column('work_start')
        batch.drop_column('work_days')
