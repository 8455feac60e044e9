"""outbox: whose calendar a row waits for (journey_id), answers that go at once (at_once), and the
topic a newer row replaces (a manager's or leader's digest)

Revision ID: 0005_send_time
Revises: 0004_directory_entries
Create Date: 2026-11-30 03:50:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0005_send_time'
down_revision = '0004_directory_entries'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox') as batch:
        batch.add_column(sa.Column('journey_id', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('at_once', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column('topic', sa.String(length=220), nullable=True))
        batch.create_index('ix_outbox_topic', ['topic'], unique=False)
    # Rows still waiting keep the calendar of their enrollment's journey.
    op.execute("UPDATE outbox SET journey_id = (SELECT enrollments.journey_id FROM enrollments "
               "WHERE enrollments.id = outbox.enrollment_id) "
               "WHERE state IN ('pending', 'sending') AND enrollment_id IS NOT NULL")
    op.execute("UPDATE outbox SET at_once = true WHERE replaces_key IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table('outbox') as batch:
        batch.drop_index('ix_outbox_topic')
        batch.drop_column('topic')
        batch.drop_column('at_once')
        batch.drop_column('journey_id')
