"""Shared fixtures: a fresh project store per test on SQLite and on the real PostgreSQL server.

PostgreSQL tests run against ``$QUALKIT_TEST_POSTGRES_URL`` (default: the server on 127.0.0.1:5432,
database ``test``). Each test gets its own schema, dropped afterwards. When the server is not
reachable the PostgreSQL variants are skipped with the reason, unless ``QUALKIT_REQUIRE_POSTGRES=1``
(set by ``make test``), which turns the skip into a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpora" / "burnout_focus_groups"
# The specs and data sets beside the checkout (``../shared``); QUALKIT_SHARED_DIR points elsewhere.
SHARED = Path(os.environ.get("QUALKIT_SHARED_DIR") or ROOT.parent / "shared")
POSTGRES_URL = os.environ.get("QUALKIT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
# Automatic fine-tuning costs minutes of CPU per study: the tests that need it ask for it by name, and the
# app servers the browser tests start inherit this too.
os.environ["QUALKIT_AUTO_FINE_TUNE"] = "0"


def _postgres_admin_engine():
    from sqlalchemy import create_engine

    return create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT", pool_pre_ping=True)


def _postgres_problem() -> str | None:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed"
    try:
        engine = _postgres_admin_engine()
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
        engine.dispose()
    except Exception as error:
        return f"PostgreSQL at {POSTGRES_URL} is not reachable: {str(error).splitlines()[0]}"
    return None


@pytest.fixture(scope="session")
def demo_corpus() -> Path:
    """The bundled demo study folder (transcripts, participants.csv, gold_codings.jsonl)."""
    if not (CORPUS / "transcripts").is_dir():
        pytest.fail(f"the demo study is missing from {CORPUS}")
    return CORPUS


@pytest.fixture(scope="session")
def postgres_available() -> str | None:
    """None when PostgreSQL works, else why not."""
    return _postgres_problem()


@pytest.fixture
def postgres_url(postgres_available) -> Iterator[str]:
    """A URL whose search_path is a fresh schema, dropped after the test."""
    if postgres_available:
        if os.environ.get("QUALKIT_REQUIRE_POSTGRES") == "1":
            pytest.fail(postgres_available)
        pytest.skip(postgres_available)
    schema = f"qk_test_{uuid.uuid4().hex[:12]}"
    admin = _postgres_admin_engine()
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request, tmp_path) -> Iterator[str]:
    """A database URL for a fresh, empty store: an SQLite file, then the real PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'project.qualkit.db'}"
    else:
        yield request.getfixturevalue("postgres_url")


@pytest.fixture
def store(db_url):
    """An empty project store on each backend."""
    from qualkit.store.repository import Store

    store = Store.create(db_url, name="test")
    yield store
    store.engine.dispose()


@pytest.fixture
def sqlite_store(tmp_path):
    """An empty project store in an SQLite file (for tests that need only one backend)."""
    from qualkit.store.repository import Store

    store = Store.create(tmp_path / "project.qualkit.db", name="test")
    yield store
    store.engine.dispose()


@pytest.fixture
def small_source():
    """A hand-built source of three turns (one moderator) with exact offsets."""
    from qualkit.model import Segment, Source

    text = "Moderator: What comes to mind?\r\nAnn: Honestly? Exhaustion (laughs).\r\nBéla: Paperwork, the EHR.\r\n"
    source = Source(name="tiny.txt", text=text, format="txt", raw=text.encode("utf-8"), encoding="utf-8")

    def seg(label: str, body: str, turn: int, role: str = "participant") -> Segment:
        start = text.index(body)
        return Segment("tiny.txt", start, start + len(body), body, speaker=label, role=role, turn=turn)

    source.segments = [
        seg("Moderator", "What comes to mind?", 0, "moderator"),
        seg("Ann", "Honestly? Exhaustion (laughs).", 1),
        seg("Béla", "Paperwork, the EHR.", 2),
    ]
    return source


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory) -> Path:
    """The demo study as ``qualkit demo`` builds it (auto-coded, two sessions reviewed), built once per run.

    Tests that change it work on a copy (``shutil.copy``).
    """
    from qualkit.demo import build_demo

    path = tmp_path_factory.mktemp("demo") / "demo.qualkit.db"
    build_demo(path, echo=lambda *_: None)
    return path


# A test marked with one of these needs a real part; where the Makefile says the part is required
# (``make test`` sets these), skipping it would hide a broken set-up, so the skip becomes a failure.
REQUIRED_BY_MARKER = {
    "postgres": "QUALKIT_REQUIRE_POSTGRES",
    "browser": "QUALKIT_REQUIRE_BROWSER",
    "embeddings": "QUALKIT_REQUIRE_EMBEDDINGS",
    "bertopic": "QUALKIT_REQUIRE_BERTOPIC",
}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not report.skipped:
        return
    for marker, variable in REQUIRED_BY_MARKER.items():
        if item.get_closest_marker(marker) is not None and os.environ.get(variable) == "1":
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
            report.outcome = "failed"
            report.longrepr = f"{variable}=1 but this {marker} test was skipped: {reason}"
            return


@pytest.fixture(scope="session")
def shared_spec() -> Path:
    """``shared/spec`` (taxonomy, REFI-QDA schemas), or a skip that says where it was looked for."""
    spec = SHARED / "spec"
    if not spec.is_dir():
        pytest.skip(f"the shared specs are absent: {spec} does not exist (set QUALKIT_SHARED_DIR to the shared folder)")
    return spec
