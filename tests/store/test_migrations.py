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


def test_a_study_made_before_memos_could_be_deleted_opens_with_its_memos(tmp_path):
    """A file at revision 0002 is upgraded on open; its memos stay, none of them withdrawn."""
    from qualkit.model import Memo
    from qualkit.store.repository import Store

    engine = make_engine(tmp_path / "old.db")
    migrate(engine, "0002")
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO projects (id, name, description, created_at, settings) VALUES (1, 'old', '', '2026-12-01', '{}')")
        connection.exec_driver_sql(
            "INSERT INTO memos (project_id, text, author, created_at, updated_at, version) "
            "VALUES (1, 'an old memo', 'ana', '2026-12-01', '2026-12-01', 1)")
    engine.dispose()
    store = Store.open(tmp_path / "old.db")
    assert schema_revision(store.engine) == HEAD_REVISION
    assert store.memos_df()["text"].tolist() == ["an old memo"]
    store.add_memo(Memo("a new one", author="ana"), user="ana")
    assert len(store.memos_df()) == 2
