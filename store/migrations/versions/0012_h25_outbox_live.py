"""outbox: a partial index of the rows still to deliver (pending or sending), ordered as claimed

Sent, failed and cancelled rows have no `next_attempt_at`, and SQLite sorts NULLs first, so the
claim's ordered scan of `ix_outbox_due` walked every delivered row before the first due one: an
idle worker pass cost O(outbox). The partial index holds only the live rows, on SQLite and
PostgreSQL alike (what PostgreSQL job queues claim on).

Revision ID: 0012_h25_outbox_live
Revises: 0011_h21f_cohort_roles
Create Date: 2026-12-05 00:45:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0012_h25_outbox_live'
down_revision = '0011_h21f_cohort_roles'
branch_labels = None
depends_on = None

LIVE = sa.text("state IN ('pending', 'sending')")  # store.models.OUTBOX_LIVE, as it was then


def upgrade() -> None:
    op.create_index('ix_outbox_live', 'outbox', ['next_attempt_at', 'id'], unique=False,
                    sqlite_where=LIVE, postgresql_where=LIVE)


def downgrade() -> None:
    op.drop_index('ix_outbox_live', table_name='outbox')
