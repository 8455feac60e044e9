"""cohort_roles (a cohort's facilitator and when their brief or progress is due) and endorsements
(a senior leader's endorsement of a journey, quoted in their people's welcome)

Revision ID: 0011_h21f_cohort_roles
Revises: 0010_h21r_cohort_texts
Create Date: 2026-12-05 00:30:00
"""
import sqlalchemy as sa
from alembic import op

import store.models

revision = '0011_h21f_cohort_roles'
down_revision = '0010_h21r_cohort_texts'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'cohort_roles',
        sa.Column('journey_id', sa.String(length=64), nullable=False),
        sa.Column('cohort', sa.String(length=120), nullable=False),
        sa.Column('role', sa.String(length=16), nullable=False),
        sa.Column('person_id', sa.String(length=64), nullable=False),
        sa.Column('assigned_at', store.models.UTCDateTime(), nullable=False),
        sa.Column('stage', sa.String(length=16), nullable=False),
        sa.Column('next_at', store.models.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['person_id'], ['people.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('journey_id', 'cohort', 'role'),
    )
    op.create_index('ix_cohort_roles_person_id', 'cohort_roles', ['person_id'], unique=False)
    op.create_index('ix_cohort_roles_next_at', 'cohort_roles', ['next_at'], unique=False)
    op.create_table(
        'endorsements',
        sa.Column('leader_id', sa.String(length=64), nullable=False),
        sa.Column('journey_id', sa.String(length=64), nullable=False),
        sa.Column('text', sa.Text(), nullable=True),
        sa.Column('at', store.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['leader_id'], ['people.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('leader_id', 'journey_id'),
    )


def downgrade() -> None:
    op.drop_table('endorsements')
    op.drop_index('ix_cohort_roles_next_at', table_name='cohort_roles')
    op.drop_index('ix_cohort_roles_person_id', table_name='cohort_roles')
    op.drop_table('cohort_roles')
