"""Shared, long-lived objects for every session of the app (``st.cache_resource``).

Engines and opened stores are thread-safe and never mutated after creation, so one per database
URL (and project) serves every user. :class:`Retrainer` is the one coordinating object: it holds
no data, only a lock and the background thread that retrains the learned coder, so two people
clicking at once start one retraining, not two.

Example:
    >>> engine = engine_for("sqlite://")  # doctest: +SKIP
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Any

import streamlit as st

from qualkit.store.engine import Engine, make_engine
from qualkit.store.repository import Store


def _dispose(engine: Engine) -> None:
    engine.dispose()


@st.cache_resource(show_spinner=False, on_release=_dispose)
def engine_for(url: str) -> Engine:
    """One SQLAlchemy engine (connection pool) per database URL, shared by all sessions.

    Example:
        >>> engine_for("sqlite://").dialect.name  # doctest: +SKIP
        'sqlite'
    """
    return make_engine(url)


@st.cache_resource(show_spinner=False)
def store_for(url: str, project: str) -> Store:
    """The opened project store (schema checked and migrated once per process).

    Example:
        >>> store_for(url, "Burnout focus groups").name  # doctest: +SKIP
        'Burnout focus groups'
    """
    return Store.open(engine_for(url), project)


class Retrainer:
    """Runs model work for one project in one background thread: retraining, then ranking the queue.

    A request while a run is going replaces the pending one (a retrain request wins over a
    rank-only one), so the newest decisions are always learned from and clicks never wait. The
    latest ranking (coding id -> priority) is kept for the review queue.

    Example:
        >>> r = Retrainer()
        >>> r.request(lambda: {7: 1.0}, kind="rank") and r.wait(5) and r.ranking
        {7: 1.0}
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pending: tuple[Callable[[], Any], str] | None = None
        self.kind: str | None = None
        self.runs = 0
        self.ranking: dict[int, float] | None = None
        self.ranking_version = 0
        self.last_finished: float | None = None
        self.last_error: str | None = None
        self.last_summary: str | None = None

    @property
    def running(self) -> bool:
        """True while a job runs."""
        with self._lock:
            return self._thread is not None

    def request(self, job: Callable[[], Any], *, kind: str = "retrain") -> bool:
        """Run ``job`` in the background (its dict result becomes the ranking); True if it started now."""
        with self._lock:
            if self._thread is not None:
                if self._pending is None or kind == "retrain" or self._pending[1] != "retrain":
                    self._pending = (job, kind)
                return False
            self.kind = kind
            self._thread = threading.Thread(target=self._loop, args=(job,), name="qualkit-retrain", daemon=True)
            self._thread.start()
            return True

    def wait(self, timeout: float = 60.0) -> bool:
        """Wait until no job runs (for tests and benchmarks); True if idle in time."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running:
                return True
            time.sleep(0.05)
        return False

    def _loop(self, job: Callable[[], Any]) -> None:
        while True:
            try:
                result = job()
                if isinstance(result, dict):
                    self.ranking = result
                    self.ranking_version += 1
                    self.last_summary = f"{len(result)} suggestions ranked"
                self.last_error = None
            except Exception as error:  # shown in the app; a failed retrain must not break reviewing
                self.last_error = str(error).splitlines()[0] if str(error) else type(error).__name__
            self.runs += 1
            self.last_finished = time.time()
            with self._lock:
                if self._pending is not None:
                    job, self.kind = self._pending
                    self._pending = None
                    continue
                self._thread = None
                self.kind = None
                return


@st.cache_resource(show_spinner=False)
def retrainer_for(url: str, project: str) -> Retrainer:
    """The project's background retrainer, shared by every session of this server.

    Example:
        >>> retrainer_for(url, "pilot").running  # doctest: +SKIP
        False
    """
    return Retrainer()


@st.cache_resource(show_spinner=False)
def model_project(url: str, project: str):
    """The project object that holds the loaded models and the fitted coder (used only by the retrainer).

    The coding area caches models on the :class:`~qualkit.project.Project` instance, so one long-lived
    instance per project keeps MiniLM and the fitted coder loaded across decisions. Its machine
    suggestions are made as ``auto``.

    Example:
        >>> model_project(url, "pilot").user  # doctest: +SKIP
        'auto'
    """
    from qualkit.project import Project

    return Project(store_for(url, project), user="auto")


@st.cache_resource(show_spinner=False)
def session_secret() -> str:
    """The key that signs log-in session cookies: ``$QUALKIT_SESSION_SECRET``, or a random one per server process.

    With the random key, remembered log-ins last until the server restarts; set the variable (to a
    long random string) for log-ins that survive restarts, or when several servers share a database.

    Example:
        >>> len(session_secret()) >= 32  # doctest: +SKIP
        True
    """
    import secrets

    return os.environ.get("QUALKIT_SESSION_SECRET") or secrets.token_urlsafe(32)


def retraining_enabled() -> bool:
    """Retrain and rank in the background unless ``QUALKIT_APP_RETRAIN=0`` (tests, benchmarks, slow machines).

    Example:
        >>> isinstance(retraining_enabled(), bool)
        True
    """
    return os.environ.get("QUALKIT_APP_RETRAIN", "1") != "0"
