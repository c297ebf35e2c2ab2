"""Background model work in the store: a job queue, the review queue's rankings, and worker heartbeats.

The app never trains a model in its own process: it *enqueues* a job (``retrain`` after decisions,
``rank`` on a first visit, ``finetune`` on request) and a worker process (``qualkit worker``) claims
it, reports a heartbeat while it runs, and stores the result. A claim is one conditional ``UPDATE``
(``status = 'queued'`` → ``'running'``), so two workers never run the same job, on SQLite and on
PostgreSQL alike. A job whose worker stopped sending heartbeats (a crash, a kill) is put back in the
queue by the next worker (:func:`requeue_stale`), up to :data:`MAX_ATTEMPTS` tries.

Job bookkeeping is machine state, not a human decision, so it writes no events (and so does not move
the project's generation; the coding work the job does logs its own events).

Example:
    >>> from qualkit.store.repository import Store
    >>> store = Store.create("sqlite://", name="jobs")
    >>> job_id = enqueue_job(store, "rank", user="ana")
    >>> enqueue_job(store, "rank", user="ben") == job_id  # coalesced with the waiting one
    True
    >>> job = claim_job(store, "w1")
    >>> (job.id, job.kind, job.status) == (job_id, "rank", "running")
    True
    >>> finish_job(store, job.id, "w1", result={"ranked": 0})
    True
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from qualkit.errors import StoreError
from qualkit.store.repository import Store
from qualkit.store.schema import JobRow, RankingRow, WorkerRow, utcnow

STATUSES = ("queued", "running", "done", "failed")
MAX_ATTEMPTS = 3
"""A job claimed this many times without finishing (its workers kept dying) is marked failed."""
STALE_SECONDS = 30.0
"""A running job with no heartbeat for this long belongs to a dead worker."""
KEEP_RANKINGS = 5
"""Rankings kept per project (older ones are machine data nobody reads; decisions never live here)."""


@dataclass
class Job:
    """One job as read from the store.

    Example:
        >>> Job(1, "rank", {}, "queued", None, None, 0).kind
        'rank'
    """

    id: int
    kind: str
    params: dict[str, Any]
    status: str
    requested_by: str | None
    worker: str | None
    attempts: int
    progress: dict[str, Any] = field(default_factory=dict)
    result: dict[str, Any] | None = None
    error: str | None = None
    created_at: datetime | None = None
    heartbeat_at: datetime | None = None
    finished_at: datetime | None = None


def _job(row: JobRow) -> Job:
    return Job(row.id, row.kind, dict(row.params or {}), row.status, row.requested_by, row.worker, row.attempts,
               dict(row.progress or {}), row.result, row.error, row.created_at, row.heartbeat_at, row.finished_at)


def worker_name() -> str:
    """This process's worker name: ``host:pid``.

    Example:
        >>> worker_name().endswith(f":{os.getpid()}")
        True
    """
    return f"{socket.gethostname()}:{os.getpid()}"


def enqueue_job(store: Store, kind: str, params: Mapping[str, Any] | None = None, *, user: str | None,
                coalesce: bool = True) -> int:
    """Queue a job; with ``coalesce`` a job of the same kind still waiting absorbs it (returns that id).

    A waiting ``rank`` is superseded by a ``retrain`` (which ranks too).

    Example:
        >>> from qualkit.store.repository import Store
        >>> store = Store.create("sqlite://", name="q1")
        >>> enqueue_job(store, "retrain", user="ana") == enqueue_job(store, "retrain", user="ben")
        True
    """
    if not kind or len(kind) > 40:
        raise StoreError(f"bad job kind {kind!r}")
    with store.transaction() as session:
        if coalesce:
            waiting = session.scalar(select(JobRow.id).where(
                JobRow.project_id == store.project_id, JobRow.status == "queued", JobRow.kind == kind)
                .order_by(JobRow.id))
            if waiting is not None:
                return int(waiting)
            if kind == "retrain":  # a retrain also ranks: drop the waiting rank-only job
                session.execute(update(JobRow).where(
                    JobRow.project_id == store.project_id, JobRow.status == "queued", JobRow.kind == "rank")
                    .values(status="done", finished_at=utcnow(), result={"superseded": True})
                    .execution_options(synchronize_session=False))
        row = JobRow(project_id=store.project_id, kind=kind, params=dict(params or {}), status="queued",
                     requested_by=user, attempts=0, progress={}, created_at=utcnow())
        session.add(row)
        session.flush()
        return int(row.id)


def claim_job(store: Store, worker: str, kinds: Sequence[str] | None = None) -> Job | None:
    """Atomically take the oldest waiting job (of ``kinds``); None when there is none.

    The claim is ``UPDATE ... WHERE id = ? AND status = 'queued'``: of two workers racing for a job,
    exactly one gets a row count of 1; the other moves on to the next job.

    Example:
        >>> from qualkit.store.repository import Store
        >>> claim_job(Store.create("sqlite://", name="c"), "w") is None
        True
    """
    for _ in range(20):
        with store.session() as session:
            query = select(JobRow.id).where(JobRow.project_id == store.project_id, JobRow.status == "queued")
            if kinds is not None:
                query = query.where(JobRow.kind.in_(list(kinds)))
            candidate = session.scalar(query.order_by(JobRow.id).limit(1))
        if candidate is None:
            return None
        now = utcnow()
        with store.transaction() as session:
            claimed = session.execute(
                update(JobRow).where(JobRow.id == candidate, JobRow.status == "queued")
                .values(status="running", worker=worker, claimed_at=now, heartbeat_at=now,
                        attempts=JobRow.attempts + 1).execution_options(synchronize_session=False)).rowcount == 1
        if claimed:
            return job(store, int(candidate))
    return None


def job(store: Store, job_id: int) -> Job:
    """Read one job.

    Example:
        >>> from qualkit.store.repository import Store
        >>> store = Store.create("sqlite://", name="j")
        >>> job(store, enqueue_job(store, "rank", user=None)).status
        'queued'
    """
    with store.session() as session:
        row = session.get(JobRow, job_id)
        if row is None or row.project_id != store.project_id:
            raise StoreError(f"no job {job_id} in project {store.name!r}")
        return _job(row)


def heartbeat(store: Store, job_id: int, worker: str, progress: Mapping[str, Any] | None = None) -> bool:
    """Say the job is still being worked on (and how far); False if it is no longer this worker's.

    Example:
        >>> from qualkit.store.repository import Store
        >>> heartbeat(Store.create("sqlite://", name="h"), 1, "w")
        False
    """
    values: dict[str, Any] = {"heartbeat_at": utcnow()}
    if progress is not None:
        values["progress"] = dict(progress)
    with store.transaction() as session:
        return session.execute(update(JobRow).where(
            JobRow.id == job_id, JobRow.project_id == store.project_id, JobRow.status == "running",
            JobRow.worker == worker).values(**values).execution_options(synchronize_session=False)).rowcount == 1


def finish_job(store: Store, job_id: int, worker: str, *, result: Mapping[str, Any] | None = None,
               error: str | None = None) -> bool:
    """Mark the worker's job done (or failed, with ``error``); False if it was taken from this worker meanwhile.

    Example:
        >>> from qualkit.store.repository import Store
        >>> finish_job(Store.create("sqlite://", name="f"), 1, "w")
        False
    """
    with store.transaction() as session:
        return session.execute(update(JobRow).where(
            JobRow.id == job_id, JobRow.project_id == store.project_id, JobRow.status == "running",
            JobRow.worker == worker).values(
            status="failed" if error else "done", result=None if result is None else dict(result), error=error,
            finished_at=utcnow()).execution_options(synchronize_session=False)).rowcount == 1


def requeue_stale(store: Store, *, stale_seconds: float = STALE_SECONDS) -> int:
    """Put running jobs whose worker went silent back in the queue (failed after :data:`MAX_ATTEMPTS`).

    Example:
        >>> from qualkit.store.repository import Store
        >>> requeue_stale(Store.create("sqlite://", name="r"))
        0
    """
    cutoff = utcnow() - timedelta(seconds=stale_seconds)
    with store.transaction() as session:
        stale = session.execute(select(JobRow.id, JobRow.attempts).where(
            JobRow.project_id == store.project_id, JobRow.status == "running", JobRow.heartbeat_at < cutoff)).all()
        for job_id, attempts in stale:
            done = attempts >= MAX_ATTEMPTS
            session.execute(update(JobRow).where(JobRow.id == job_id, JobRow.status == "running").values(
                status="failed" if done else "queued", worker=None,
                error=f"its worker stopped {attempts} time(s) without finishing" if done else None,
                finished_at=utcnow() if done else None).execution_options(synchronize_session=False))
        return len(stale)


def jobs_df(store: Store, *, limit: int = 20):
    """The newest jobs (a DataFrame), newest first.

    Example:
        >>> from qualkit.store.repository import Store
        >>> jobs_df(Store.create("sqlite://", name="d")).empty
        True
    """
    import pandas as pd

    with store.session() as session:
        rows = session.scalars(select(JobRow).where(JobRow.project_id == store.project_id)
                               .order_by(JobRow.id.desc()).limit(limit)).all()
    columns = ["id", "kind", "status", "requested_by", "worker", "attempts", "progress", "result", "error",
               "created_at", "heartbeat_at", "finished_at"]
    return pd.DataFrame([{c: getattr(_job(r), c) for c in columns} for r in rows], columns=columns)


def work_status(store: Store) -> dict[str, Any]:
    """What the model work is doing now: ``running`` (a :class:`Job` or None), ``queued`` count, ``last`` finished job.

    Example:
        >>> from qualkit.store.repository import Store
        >>> work_status(Store.create("sqlite://", name="s"))["queued"]
        0
    """
    with store.session() as session:
        # Queued before running: a job moves queued -> running -> done, and each query sees the newest
        # commit, so read in that order a job claimed between the two reads is still seen (as queued or as
        # running); read the other way round it could be missed by both, and the work look finished.
        queued = session.scalar(select(func.count()).select_from(JobRow).where(
            JobRow.project_id == store.project_id, JobRow.status == "queued")) or 0
        running = session.scalar(select(JobRow).where(JobRow.project_id == store.project_id,
                                                      JobRow.status == "running").order_by(JobRow.id))
        last = session.scalar(select(JobRow).where(JobRow.project_id == store.project_id,
                                                   JobRow.status.in_(["done", "failed"]))
                              .order_by(JobRow.finished_at.desc(), JobRow.id.desc()).limit(1))
        return {"running": None if running is None else _job(running), "queued": int(queued),
                "last": None if last is None else _job(last)}


def save_ranking(store: Store, ranking: Mapping[int, float], *, job_id: int | None = None) -> int:
    """Store a new review-queue order (coding id -> priority); returns its version (increasing).

    Example:
        >>> from qualkit.store.repository import Store
        >>> store = Store.create("sqlite://", name="rk")
        >>> version = save_ranking(store, {7: 1.0, 3: 0.5})
        >>> latest_ranking(store) == (version, {7: 1.0, 3: 0.5})
        True
    """
    pairs = [[int(i), float(p)] for i, p in ranking.items()]
    with store.transaction() as session:
        row = RankingRow(project_id=store.project_id, job_id=job_id, count=len(pairs), ranking=pairs,
                         created_at=utcnow())
        session.add(row)
        session.flush()
        version = int(row.id)
        older = session.scalars(select(RankingRow.id).where(RankingRow.project_id == store.project_id)
                                .order_by(RankingRow.id.desc()).offset(KEEP_RANKINGS)).all()
        if older:
            session.execute(delete(RankingRow).where(RankingRow.id.in_(list(older))))
        return version


def ranking_version(store: Store) -> int:
    """The current ranking's version (0 when there is none): one cheap query, for polling.

    Example:
        >>> from qualkit.store.repository import Store
        >>> ranking_version(Store.create("sqlite://", name="rv"))
        0
    """
    with store.session() as session:
        return int(session.scalar(select(func.max(RankingRow.id)).where(
            RankingRow.project_id == store.project_id)) or 0)


def ranking_size(store: Store, version: int) -> int:
    """How many suggestions the ranking ``version`` orders (0 when it is gone), without reading it.

    Example:
        >>> from qualkit.store.repository import Store
        >>> store = Store.create("sqlite://", name="rs")
        >>> ranking_size(store, save_ranking(store, {1: 0.5, 2: 0.1}))
        2
    """
    with store.session() as session:
        return int(session.scalar(select(RankingRow.count).where(
            RankingRow.project_id == store.project_id, RankingRow.id == version)) or 0)


def retrained_since(store: Store, version: int) -> bool:
    """Whether a ranking newer than ``version`` came from retraining, not from a first ordering of the queue.

    A ``rank`` job orders a queue that had no ranking (a first visit): nothing was learned, so a page drawn
    before it has nothing to offer. A ranking a ``retrain`` (or ``finetune``) job stored, or one stored by no
    job, counts as retrained.

    Example:
        >>> from qualkit.store.repository import Store
        >>> store = Store.create("sqlite://", name="rs2")
        >>> first = enqueue_job(store, "rank", user=None)
        >>> version = save_ranking(store, {1: 0.5}, job_id=first)
        >>> retrained_since(store, 0), retrained_since(store, version)
        (False, False)
        >>> retrained_since(store, save_ranking(store, {1: 0.4}, job_id=enqueue_job(store, "retrain", user="ana")) - 1)
        True
    """
    with store.session() as session:
        job_ids = set(session.scalars(select(RankingRow.job_id).where(
            RankingRow.project_id == store.project_id, RankingRow.id > version)))
        known = dict(session.execute(select(JobRow.id, JobRow.kind).where(
            JobRow.id.in_([int(i) for i in job_ids if i is not None]))).all()) if job_ids else {}
    # A job no longer on record (or no job at all) is taken for a retrain: the banner then errs towards asking.
    return any(known.get(job_id) != "rank" for job_id in job_ids)


def latest_ranking(store: Store, version: int | None = None) -> tuple[int, dict[int, float] | None]:
    """``(version, ranking)`` of the newest ranking (or of ``version`` while it is kept); ``(0, None)`` if none.

    Example:
        >>> from qualkit.store.repository import Store
        >>> latest_ranking(Store.create("sqlite://", name="lr"))
        (0, None)
    """
    with store.session() as session:
        query = select(RankingRow).where(RankingRow.project_id == store.project_id)
        if version is not None:
            query = query.where(RankingRow.id == version)
        row = session.scalar(query.order_by(RankingRow.id.desc()).limit(1))
        if row is None:
            return 0, None
        return int(row.id), {int(i): float(p) for i, p in row.ranking}


def touch_worker(store: Store, name: str, pid: int) -> None:
    """Record that the worker ``name`` is alive now (called by the worker on every loop).

    Example:
        >>> from qualkit.store.repository import Store
        >>> store = Store.create("sqlite://", name="tw")
        >>> touch_worker(store, "host:1", 1); live_workers(store)
        ['host:1']
    """
    now = utcnow()
    with store.transaction() as session:
        done = session.execute(update(WorkerRow).where(WorkerRow.project_id == store.project_id,
                                                       WorkerRow.name == name)
                               .values(seen_at=now, pid=pid).execution_options(synchronize_session=False)).rowcount
        if not done:
            session.add(WorkerRow(project_id=store.project_id, name=name, pid=pid, started_at=now, seen_at=now))


def forget_worker(store: Store, name: str) -> None:
    """Remove a worker's heartbeat row (a clean exit).

    Example:
        >>> from qualkit.store.repository import Store
        >>> forget_worker(Store.create("sqlite://", name="fw"), "host:1")
    """
    with store.transaction() as session:
        session.execute(delete(WorkerRow).where(WorkerRow.project_id == store.project_id, WorkerRow.name == name))


def live_workers(store: Store, *, within_seconds: float = 15.0) -> list[str]:
    """Names of the workers seen in the last ``within_seconds``.

    Example:
        >>> from qualkit.store.repository import Store
        >>> live_workers(Store.create("sqlite://", name="lw"))
        []
    """
    cutoff = utcnow() - timedelta(seconds=within_seconds)
    with Session(store.engine) as session:
        return [str(n) for n in session.scalars(select(WorkerRow.name).where(
            WorkerRow.project_id == store.project_id, WorkerRow.seen_at >= cutoff).order_by(WorkerRow.name))]


__all__ = ["KEEP_RANKINGS", "MAX_ATTEMPTS", "STALE_SECONDS", "STATUSES", "Job", "claim_job", "enqueue_job",
           "finish_job", "forget_worker", "heartbeat", "job", "jobs_df", "latest_ranking", "live_workers",
           "ranking_size", "ranking_version", "requeue_stale", "retrained_since", "save_ranking", "touch_worker", "work_status", "worker_name"]
