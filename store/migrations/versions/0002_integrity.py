"""integrity under faults: implausible dates kept with their problem, page retries, the writer lease

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 21:20:00
"""
from datetime import date, datetime, timedelta, timezone

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('date_problem', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('fetch_attempts', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('retry_after', sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_articles_retry_after'), ['retry_after'], unique=False)
    op.create_table('writer_lease',
    sa.Column('name', sa.String(length=16), nullable=False),
    sa.Column('owner', sa.String(length=256), nullable=False),
    sa.Column('what', sa.String(length=64), nullable=False),
    sa.Column('acquired', sa.DateTime(), nullable=False),
    sa.Column('heartbeat', sa.DateTime(), nullable=False),
    sa.Column('expires', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    # Stores written before this revision may hold impossible dates (0001-01-01, 9999-12-31) that broke every
    # later run: move them out of `published`, with their problem, as new articles are stored.
    earliest = date(1990, 1, 1)
    latest = datetime.now(timezone.utc).date() + timedelta(days=2)
    articles = sa.table('articles', sa.column('published', sa.Date()), sa.column('date_problem', sa.Text()))
    for cond, why in ((articles.c.published < earliest, f"before {earliest.isoformat()}"),
                      (articles.c.published > latest, "more than two days ahead of the migration")):
        op.execute(articles.update().where(cond).values(
            date_problem=sa.literal(f"implausible publication date ({why}): ") + sa.cast(articles.c.published, sa.String()),
            published=None))


def downgrade() -> None:
    op.drop_table('writer_lease')
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_articles_retry_after'))
        batch_op.drop_column('retry_after')
        batch_op.drop_column('fetch_attempts')
        batch_op.drop_column('date_problem')
