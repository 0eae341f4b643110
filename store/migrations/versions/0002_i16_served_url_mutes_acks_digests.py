"""served URL of each article (the link people get; `url` stays the canonical dedup key), muted targets,
muted and acknowledged alerts, daily digests

Revision ID: 0002_i16
Revises: 0002 (0002_integrity)
Create Date: 2026-11-29 21:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0002_i16'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('served_url', sa.String(length=2048), nullable=True))
    # stored before this column: the address the feed or archive listed is the best link known
    op.execute("UPDATE articles SET served_url = original_url WHERE served_url IS NULL")
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('muted', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('acked_at', sa.DateTime(), nullable=True))
    op.create_table('mutes',
    sa.Column('actor', sa.String(length=2), nullable=False),
    sa.Column('until', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('actor')
    )
    op.create_table('digests',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('channel', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('day', 'channel')
    )


def downgrade() -> None:
    op.drop_table('digests')
    op.drop_table('mutes')
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_column('acked_at')
        batch_op.drop_column('muted')
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.drop_column('served_url')
