"""Alembic environment: kstance runs migrations itself (store.engine.migrate, from open_store), on the connection it
holds."""
from alembic import context

from store.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("kstance migrations run through store.repository.open_store, which every command calls")
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True, compare_type=True)
with context.begin_transaction():
    context.run_migrations()
