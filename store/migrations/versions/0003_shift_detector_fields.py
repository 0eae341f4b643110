"""how each alert's shift was found: the detector's statistic and threshold at confirmation, the article rate the
threshold was set for, and the method

Revision ID: 0003
Revises: 0002_i16
Create Date: 2026-11-30 04:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002_i16'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # alerts recorded before this revision keep NULL here: how they were found was not kept
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('statistic', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('threshold', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('rate_per_day', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('method', sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_column('method')
        batch_op.drop_column('rate_per_day')
        batch_op.drop_column('threshold')
        batch_op.drop_column('statistic')
