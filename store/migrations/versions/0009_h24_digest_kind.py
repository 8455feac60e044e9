"""digests.kind: a manager's weekly digest or a senior leader's brief and digest, as a column
instead of a "leader:" prefix in journey_id (the rows that had it are moved over)

Revision ID: 0009_h24_digest_kind
Revises: 0008_interview_slots
Create Date: 2026-12-04 21:30:00
"""
import sqlalchemy as sa
from alembic import op

import store.models

revision = '0009_h24_digest_kind'
down_revision = '0008_interview_slots'
branch_labels = None
depends_on = None


def _table(name: str, with_kind: bool) -> None:
    op.create_table(
        name,
        sa.Column('manager_id', sa.String(length=64), nullable=False),
        sa.Column('journey_id', sa.String(length=64), nullable=False),
        *([sa.Column('kind', sa.String(length=16), server_default='manager', nullable=False)] if with_kind else []),
        sa.Column('next_at', store.models.UTCDateTime(), nullable=True),
        sa.Column('sent', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['manager_id'], ['people.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('manager_id', 'journey_id', *(['kind'] if with_kind else [])),
    )


def _swap(new: str) -> None:
    """The primary key changes: copy into a new table and put it in the old one's place (SQLite
    and PostgreSQL alike)."""
    op.drop_index('ix_digests_next_at', table_name='digests')
    op.drop_table('digests')
    op.rename_table(new, 'digests')
    op.create_index('ix_digests_next_at', 'digests', ['next_at'], unique=False)


def upgrade() -> None:
    _table('digests_h24', with_kind=True)
    op.execute("INSERT INTO digests_h24 (manager_id, journey_id, kind, next_at, sent) "
               "SELECT manager_id, "
               "CASE WHEN journey_id LIKE 'leader:%' THEN substr(journey_id, 8) ELSE journey_id END, "
               "CASE WHEN journey_id LIKE 'leader:%' THEN 'leader' ELSE 'manager' END, next_at, sent FROM digests")
    _swap('digests_h24')


def downgrade() -> None:
    _table('digests_h24', with_kind=False)
    op.execute("INSERT INTO digests_h24 (manager_id, journey_id, next_at, sent) "
               "SELECT manager_id, CASE WHEN kind = 'leader' THEN 'leader:' || journey_id ELSE journey_id END, "
               "next_at, sent FROM digests")
    _swap('digests_h24')
