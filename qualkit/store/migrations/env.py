"""Alembic environment: qualkit passes its own connection in ``config.attributes['connection']``."""

from alembic import context

from qualkit.store.schema import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - qualkit always passes a connection
    raise RuntimeError("run migrations through qualkit.store.engine.migrate()")

context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
