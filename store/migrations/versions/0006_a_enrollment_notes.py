"""enrollments.notes: the before phase joined up (line-of-sight answers, consent to share them,
the expectation the manager recorded); erased with the enrollment by `forget`

Revision ID: 0006_a_enrollment_notes
Revises: 0005_send_time
Create Date: 2026-11-30 07:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0006_a_enrollment_notes'
down_revision = '0005_send_time'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('enrollments') as batch:
        batch.add_column(sa.Column('notes', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('enrollments') as batch:
        batch.drop_column('notes')
