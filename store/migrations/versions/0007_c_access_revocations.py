"""access_revocations: workspaces and people the bot lost access to (an uninstall, a revoked
token): sending stops, their outbox rows are parked, their data is purged after a grace period

Revision ID: 0007_c_access_revocations
Revises: 0006_a_enrollment_notes
Create Date: 2026-12-04 21:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0007_c_access_revocations'
down_revision = '0006_a_enrollment_notes'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'access_revocations',
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('platform', sa.String(length=16), nullable=False),
        sa.Column('scope', sa.String(length=16), nullable=False),
        sa.Column('subject', sa.String(length=128), nullable=False),
        sa.Column('reasons', sa.JSON(), nullable=False),
        sa.Column('revoked_at', sa.DateTime(), nullable=False),
        sa.Column('purge_at', sa.DateTime(), nullable=False),
        sa.Column('purged_at', sa.DateTime(), nullable=True),
        sa.Column('told', sa.Integer(), nullable=False),
        sa.Column('credential', sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint('key'),
    )
    op.create_index('ix_access_revocations_purge_at', 'access_revocations', ['purge_at'])


def downgrade() -> None:
    op.drop_index('ix_access_revocations_purge_at', table_name='access_revocations')
    op.drop_table('access_revocations')
