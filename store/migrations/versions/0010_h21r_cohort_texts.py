"""cohort_texts: text the L&D lead wrote for a cohort's report (the edited "What to change")

Revision ID: 0010_h21r_cohort_texts
Revises: 0009_h24_digest_kind
Create Date: 2026-12-05 00:40:00
"""
import sqlalchemy as sa
from alembic import op

import store.models

revision = '0010_h21r_cohort_texts'
down_revision = '0009_h24_digest_kind'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'cohort_texts',
        sa.Column('cohort', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('updated_at', store.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('cohort', 'kind'),
    )


def downgrade() -> None:
    op.drop_table('cohort_texts')
