"""Shared, long-lived objects for every session of the app (``st.cache_resource``).

Engines and opened stores are thread-safe and never mutated after creation, so one per database
URL (and project) serves every user. :class:`WorkerLauncher` is the one coordinating object: it holds
no data, only a lock and the handle of the ``qualkit worker`` process it started; the model work itself
runs there, queued in the store (:mod:`qualkit.store.jobs`), so two people clicking at once queue one
retraining, not two, and no page waits on a model.

Example:
    >>> engine = engine_for("sqlite://")  # doctest: +SKIP
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import streamlit as st

from qualkit.errors import QualkitError
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



class WorkerLauncher:
    """Starts (at most one at a time) the ``qualkit worker`` process that does a project's model work.

    The Streamlit server never trains a model: it queues jobs in the store and makes sure a worker
    is alive. A worker seen by the store in the last seconds (started by this server, another one,
    or by hand) counts; otherwise a new one is started as a subprocess that stops when idle for
    :data:`WORKER_IDLE_EXIT` seconds or when this server process is gone.

    Example:
        >>> WorkerLauncher("sqlite:///study.qualkit.db", "pilot").process is None
        True
    """

    def __init__(self, url: str, project: str) -> None:
        self.url, self.project = url, project
        self._lock = threading.Lock()
        self.process: subprocess.Popen | None = None
        self.started = 0

    def alive(self) -> bool:
        """True while the subprocess this server started still runs."""
        return self.process is not None and self.process.poll() is None

    def ensure(self, store: Store) -> bool:
        """Start a worker unless one is alive; True when one was started now."""
        from qualkit.store.jobs import live_workers

        with self._lock:
            if self.alive() or live_workers(store):
                return False
            command = [sys.executable, "-m", "qualkit", "worker", "--db", self.url, "--project", self.project,
                       "--idle-exit", str(WORKER_IDLE_EXIT), "--parent-pid", str(os.getpid())]
            log = open(os.devnull, "wb")  # noqa: SIM115 - the child owns it
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            start_new_session=True)
            self.started += 1
            return True

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the subprocess this server started (tests; a worker otherwise stops by itself when idle)."""
        with self._lock:
            process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)


WORKER_IDLE_EXIT = 600
"""Seconds a worker started by the app waits for a job before it stops (models stay loaded meanwhile)."""


@st.cache_resource(show_spinner=False, on_release=lambda launcher: launcher.stop())
def worker_for(url: str, project: str) -> WorkerLauncher:
    """The project's worker launcher, shared by every session of this server.

    Example:
        >>> worker_for(url, "pilot").alive()  # doctest: +SKIP
        False
    """
    return WorkerLauncher(url, project)


@st.cache_resource(show_spinner=False)
def session_secret() -> str:
    """The key that signs log-in session cookies: ``$QUALKIT_SESSION_SECRET``, else one kept for this machine.

    The machine's key is made once, at random, in the user's cache folder (``session-secret``, readable
    by its owner only), so a restarted server still knows the tabs that were open: before, a restart
    logged every tab out on its next click and dropped what the click was saving (a typed memo). Set the
    variable when several servers share a database. Where the folder cannot be written, the key lasts
    until the server stops.

    Example:
        >>> len(session_secret()) >= 32  # doctest: +SKIP
        True
    """
    import secrets

    configured = os.environ.get("QUALKIT_SESSION_SECRET")
    if configured:
        return configured
    from qualkit.embeddings import cache_dir

    path = cache_dir() / "session-secret"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # made before (or by another server on this machine just now)
            kept = path.read_text(encoding="ascii").strip()
            if len(kept) >= 32:
                return kept
            raise OSError(f"{path} is damaged") from None
        secret = secrets.token_urlsafe(32)
        with os.fdopen(handle, "w", encoding="ascii") as out:
            out.write(secret)
        return secret
    except OSError:
        return secrets.token_urlsafe(32)


def settle_ms() -> int:
    """How long (ms) a queue card must have been the highlighted one before A or X decides it.

    ``QUALKIT_QUEUE_SETTLE_MS`` sets it (600 unless set): a slow shared machine may want more. A value that is
    not a whole number of milliseconds is an error naming the variable.

    Example:
        >>> settle_ms() >= 0
        True
    """
    raw = os.environ.get("QUALKIT_QUEUE_SETTLE_MS", "600").strip()
    if not raw.isdigit():
        raise QualkitError(f"QUALKIT_QUEUE_SETTLE_MS={raw!r} is not a whole number of milliseconds (e.g. 600)")
    return int(raw)


def retraining_enabled() -> bool:
    """Retrain and rank in a worker process unless ``QUALKIT_APP_RETRAIN=0`` (tests, benchmarks, slow machines).

    Example:
        >>> isinstance(retraining_enabled(), bool)
        True
    """
    return os.environ.get("QUALKIT_APP_RETRAIN", "1") != "0"
