"""The Alembic migrations create exactly the schema the code declares, on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from qualkit.store.engine import HEAD_REVISION, make_engine, migrate, schema_revision
from qualkit.store.schema import Base


def test_migration_matches_declared_schema(db_url):
    engine = make_engine(db_url)
    assert schema_revision(engine) is None
    migrate(engine)
    assert schema_revision(engine) == HEAD_REVISION
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert diff == []


def test_migrate_twice_is_harmless(tmp_path):
    engine = make_engine(tmp_path / "twice.db")
    migrate(engine)
    migrate(engine)
    assert schema_revision(engine) == HEAD_REVISION


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path):
    engine = make_engine(tmp_path / "wal.db")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
