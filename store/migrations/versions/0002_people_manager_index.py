"""index people.manager_id (senior-leader digests find a leader's managers by it)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 19:20:00
"""
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(op.f('ix_people_manager_id'), 'people', ['manager_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_people_manager_id'), table_name='people')
