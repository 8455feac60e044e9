"""enrollments and outbox: indexes that keep admin `status` cheap at any size

The overview counted enrollments per (cohort, journey, status) by reading the whole table and
counted failed deliveries per cohort by reading the whole outbox. At 100,000 people each `status`
cost a quarter of a second of database time on PostgreSQL, and a few admins asking at once slowed
delivery for everyone. `ix_enrollments_overview` answers the counts from the index (and replaces
the single-column cohort index, its prefix); `ix_outbox_failed` holds only the failed rows.

Revision ID: 0013_status_overview_indexes
Revises: 0012_h25_outbox_live
Create Date: 2026-12-05 09:50:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0013_status_overview_indexes'
down_revision = '0012_h25_outbox_live'
branch_labels = None
depends_on = None

FAILED = sa.text("state = 'failed'")  # store.models.OUTBOX_FAILED, as it is now


def upgrade() -> None:
    op.create_index('ix_enrollments_overview', 'enrollments', ['cohort', 'journey_id', 'status'], unique=False)
    op.drop_index('ix_enrollments_cohort', table_name='enrollments')
    op.create_index('ix_outbox_failed', 'outbox', ['enrollment_id'], unique=False,
                    sqlite_where=FAILED, postgresql_where=FAILED)


def downgrade() -> None:
    op.drop_index('ix_outbox_failed', table_name='outbox')
    op.create_index('ix_enrollments_cohort', 'enrollments', ['cohort'], unique=False)
    op.drop_index('ix_enrollments_overview', table_name='enrollments')
