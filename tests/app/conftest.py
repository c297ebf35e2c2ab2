"""Fixtures for the review app: a small study built by hand, the real demo study, users, AppTest helpers.

The mini study (``tests/_mini_study.py``, shared with the review tests) does not depend on the other
areas (ingestion, coders). ``demo_study`` is a copy of the real demo (``qualkit.demo.build_demo``, built
once per session), which has what hand-made data lacks (unattributed lines, .docx and .vtt sources).
The app runs with background retraining ON (in a ``qualkit worker`` subprocess), as in real use;
``study.settle(at)`` waits for the queued jobs to finish.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app.py"
sys.path.insert(0, str(ROOT / "tests"))
from _mini_study import PASSWORDS, PROJECT, MiniStudy, build_source, build_study  # noqa: E402


class Study(MiniStudy):
    """The mini study served to the app."""

    def settle(self, at=None):
        """Wait for the worker's jobs, then rerun ``at``."""
        settle_app(self.url, self.project.name)
        if at is not None:
            at.run()
        return at


def settle_app(url: str, project: str, timeout: float = 180) -> None:
    """Wait until the project's model jobs (run by the worker process the app started) are all finished."""
    import time

    from qualkit.store import jobs
    from qualkit.store.repository import Store

    store = Store.open(url, project)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = jobs.work_status(store)
            if status["running"] is None and not status["queued"]:
                return
            time.sleep(0.2)
        raise AssertionError(f"background model work did not finish: {jobs.jobs_df(store).to_dict('records')}")
    finally:
        store.engine.dispose()


def _serve(monkeypatch, url: str) -> None:
    """Serve ``url`` to the app with background retraining ON (LSA: fast and offline), as in real use."""
    monkeypatch.setenv("QUALKIT_DATABASE_URL", url)
    monkeypatch.setenv("QUALKIT_APP_RETRAIN", "1")
    monkeypatch.setenv("QUALKIT_EMBEDDER", "lsa")


@pytest.fixture
def study(tmp_path, monkeypatch) -> Study:
    """The mini study in an SQLite file, served to the app through ``QUALKIT_DATABASE_URL``."""
    url = f"sqlite:///{tmp_path / 'study.qualkit.db'}"
    project = build_study(url)
    _serve(monkeypatch, url)
    yield Study(url, project)
    _release_app(url, project.name)
    project.store.engine.dispose()


@pytest.fixture
def quiet_study(tmp_path, monkeypatch) -> Study:
    """The mini study with background retraining off: for tests that count exact suggestions."""
    url = f"sqlite:///{tmp_path / 'study.qualkit.db'}"
    project = build_study(url)
    _serve(monkeypatch, url)
    monkeypatch.setenv("QUALKIT_APP_RETRAIN", "0")
    yield Study(url, project)
    _release_app(url, project.name)
    project.store.engine.dispose()


@pytest.fixture
def study_on(db_url, monkeypatch) -> Study:
    """The mini study on SQLite and on PostgreSQL (for the concurrency tests)."""
    project = build_study(db_url)
    _serve(monkeypatch, db_url)
    yield Study(db_url, project)
    _release_app(db_url, project.name)
    project.store.engine.dispose()


def build_demo_copy(tmp_path_factory) -> Path:
    """The demo study as ``qualkit demo`` builds it (with the LSA embedder, for speed), built once per session."""
    from qualkit.demo import build_demo

    path = tmp_path_factory.mktemp("app-demo") / "demo.qualkit.db"
    previous = os.environ.get("QUALKIT_EMBEDDER")
    os.environ["QUALKIT_EMBEDDER"] = "lsa"
    try:
        build_demo(path, echo=lambda *_: None)
    finally:
        if previous is None:
            os.environ.pop("QUALKIT_EMBEDDER", None)
        else:
            os.environ["QUALKIT_EMBEDDER"] = previous
    return path


@pytest.fixture(scope="session")
def app_demo_db(tmp_path_factory) -> Path:
    """The real demo study (``qualkit.demo.build_demo``), built once per test session; tests use copies."""
    return build_demo_copy(tmp_path_factory)


@pytest.fixture
def demo_study(app_demo_db, tmp_path, monkeypatch) -> Study:
    """A copy of the real demo study served to the app, retraining on."""
    import shutil

    from qualkit.demo import DEMO_NAME
    from qualkit.project import Project

    path = tmp_path / "demo.qualkit.db"
    shutil.copy(app_demo_db, path)
    url = f"sqlite:///{path}"
    _serve(monkeypatch, url)
    project = Project.open(url, DEMO_NAME, user="setup")
    yield Study(url, project)
    _release_app(url, DEMO_NAME)
    project.store.engine.dispose()


def _release_app(url: str, project: str) -> None:
    """Stop the worker the app started, drop the app's caches and engines.

    A retrain the test's decisions queued is of no further use to it: waiting for it took 5–30 s per test (a third
    of the app tests' time), and the study is thrown away. A test that needs the worker's result waits for it
    itself (:func:`settle_app`).
    """
    import streamlit as st

    from qualkit.app import resources

    resources.worker_for(url, project).stop()
    st.cache_resource.clear()
    st.cache_data.clear()


def app_test(user: str | None = None, page: str | None = None, *, timeout: float = 30):
    """An AppTest of ``app.py``, logged in as ``user`` (set in session state) and on ``page``, already run."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=timeout)
    if user is not None:
        at.session_state["qk_user"] = user
    at.run()
    if page is not None:
        at.switch_page(f"qualkit/app/pages/{page}.py").run()
    return at


def assert_ok(at) -> None:
    """The run raised no exception."""
    assert not at.exception, [e.value for e in at.exception]


def texts(at) -> str:
    """Every markdown, caption, info, success, warning and error text of the last run, joined."""
    parts = []
    for kind in ("markdown", "caption", "info", "success", "warning", "error", "title", "header", "subheader"):
        parts += [str(e.value) for e in getattr(at, kind)]
    return "\n".join(parts)


def login_env(url: str) -> dict[str, str]:
    """Environment for a subprocess app server on ``url``: background retraining on, LSA embedder."""
    env = dict(os.environ)
    env.update(QUALKIT_DATABASE_URL=url, QUALKIT_APP_RETRAIN="1", QUALKIT_EMBEDDER="lsa")
    return env


@pytest.fixture
def apptest():
    """The :func:`app_test` helper (test modules cannot import conftest under importlib mode)."""
    return app_test


@pytest.fixture
def helpers():
    """Helper functions for the app tests: ``assert_ok``, ``texts``, ``build_study``, ``PASSWORDS``."""
    from types import SimpleNamespace

    return SimpleNamespace(assert_ok=assert_ok, texts=texts, build_study=build_study, build_source=build_source,
                           PASSWORDS=PASSWORDS, PROJECT=PROJECT, ROOT=ROOT, APP=APP, login_env=login_env,
                           settle_app=settle_app)
