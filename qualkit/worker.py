"""The model worker: a separate process that retrains the learned coder, ranks the review queue and fine-tunes.

The app (and anyone else) only queues jobs in the store (:mod:`qualkit.store.jobs`); ``qualkit worker``
claims them one at a time, sends a heartbeat every :data:`HEARTBEAT_SECONDS` while a job runs, and
stores the results: fresh suggestions (through the coding workflow, which logs its own events) and the
queue's ranking. A crashed worker's job is re-queued by the next worker. The Streamlit server never
trains a model, so no page waits on one.

A job kind is a function ``fn(project, params, progress) -> dict`` in :data:`KINDS`; ``progress`` is
``(done, total, message)``.

Example:
    >>> sorted(KINDS)
    ['finetune', 'rank', 'retrain']

    $ qualkit worker --db study.qualkit.db --project "Burnout focus groups" --idle-exit 600
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from qualkit.coding.workflow import finetune_job, tuning_due
from qualkit.progress import Progress
from qualkit.project import Project
from qualkit.review import decisions
from qualkit.store import jobs
from qualkit.store.repository import Store

HEARTBEAT_SECONDS = 2.0
POLL_SECONDS = 0.5



def rank_job(project: Project, params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Job kind ``"rank"``: order the pending suggestions by what teaches the coder most, store the ranking.

    Example:
        >>> rank_job(Project.create("sqlite://", user="auto"), {}, lambda *a: None)["ranked"]
        0
    """
    progress(0, 1, "ranking the review queue")
    ranking = decisions.rank_suggestions(project.store, project.review_queue)
    version = jobs.save_ranking(project.store, ranking, job_id=params.get("_job_id"))
    progress(1, 1, "ranked")
    return {"ranked": len(ranking), "ranking_version": version}


def retrain_job(project: Project, params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Job kind ``"retrain"``: retrain on the decisions so far, refresh the suggestions under review, re-rank.

    Only undecided machine suggestions on transcripts still under review are refreshed (a human
    decision is never touched); each keeps its id and version and gets its new score, even below the
    threshold (a retrain withdraws only one whose code left the codebook).

    Example:
        >>> retrain_job(Project.create("sqlite://", user="auto"), {}, lambda *a: None)["suggested"]
        0
    """
    segment_ids = decisions.segments_under_review(project.store)
    suggested = len(project.autocode(segment_ids=segment_ids, progress=progress, fine_tune=False)) if segment_ids else 0
    result = {"suggested": suggested, **rank_job(project, params, progress)}
    if tuning_due(project):  # its own job, so fresh suggestions never wait minutes for the tuning
        result["finetune_job"] = jobs.enqueue_job(project.store, "finetune", {"seed": 0, "auto": True}, user=None)
    return result


def finetune_then_retrain_job(project: Project, params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Job kind ``"finetune"``: tune the encoder on the study, then refresh the suggestions with it.

    Example:
        >>> finetune_then_retrain_job(Project.create("sqlite://", user="auto"), {"auto": True}, lambda *a: None)
        {'skipped': 'tuning is no longer due (tuned on these decisions already, or switched off)'}
    """
    tuned = finetune_job(project, params, progress)
    if "skipped" in tuned:
        return tuned
    return {**tuned, **retrain_job(project, {k: v for k, v in params.items() if k == "_job_id"}, progress)}


KINDS: dict[str, Callable[[Project, dict[str, Any], Progress], dict[str, Any]]] = {
    "retrain": retrain_job,
    "rank": rank_job,
    "finetune": finetune_then_retrain_job,
}
"""Job kind -> ``fn(project, params, progress) -> dict``."""


def _alive(pid: int | None) -> bool:
    if not pid:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def run_one(project: Project, name: str) -> jobs.Job | None:
    """Claim and run one waiting job of the project; returns it as finished (None when nothing waits).

    Example:
        >>> run_one(Project.create("sqlite://", user="auto"), "w") is None
        True
    """
    store = project.store
    job = jobs.claim_job(store, name, kinds=sorted(KINDS))
    if job is None:
        return None
    stop = threading.Event()
    state: dict[str, Any] = {}

    def beat() -> None:
        while not stop.wait(HEARTBEAT_SECONDS):
            jobs.heartbeat(store, job.id, name, state.get("progress"))
            jobs.touch_worker(store, name, os.getpid())

    def progress(done: int, total: int, message: str) -> None:
        state["progress"] = {"done": int(done), "total": int(total), "message": str(message)}

    beater = threading.Thread(target=beat, name=f"qualkit-heartbeat-{job.id}", daemon=True)
    beater.start()
    try:
        result = KINDS[job.kind](project, {**job.params, "_job_id": job.id}, progress)
    except Exception as error:  # a failed job is recorded; the worker goes on with the next one
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        stop.set()
        beater.join()
        jobs.finish_job(store, job.id, name, error=message)
    else:
        stop.set()
        beater.join()
        jobs.finish_job(store, job.id, name, result=result)
    return jobs.job(store, job.id)


def serve(url: str, project_name: str | None, *, idle_exit: float | None = None, parent_pid: int | None = None,
          name: str | None = None, log: Callable[[str], None] | None = None) -> int:
    """Work on the project's jobs until idle for ``idle_exit`` seconds or ``parent_pid`` is gone; returns jobs run.

    Example:
        >>> serve("study.qualkit.db", "Burnout focus groups", idle_exit=60)  # doctest: +SKIP
        3
    """
    name = name or jobs.worker_name()
    project = Project(Store.open(url, project_name), user="auto")
    store = project.store
    project_name = store.name
    say = log or (lambda _message: None)
    done = 0
    idle_since = time.monotonic()
    say(f"worker {name} serving {project_name!r}")
    if threading.current_thread() is threading.main_thread():
        # Stopped by the app or an administrator: leave through `finally`, so the heartbeat row goes at once
        # (a job cut short stays claimed and is re-queued once its heartbeat is stale, as after a crash).
        signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(0))
    try:
        while True:
            jobs.touch_worker(store, name, os.getpid())
            requeued = jobs.requeue_stale(store)
            if requeued:
                say(f"re-queued {requeued} job(s) of a worker that stopped")
            finished = run_one(project, name)
            if finished is not None:
                done += 1
                idle_since = time.monotonic()
                say(f"job {finished.id} ({finished.kind}): {finished.status}"
                    + (f" — {finished.error}" if finished.error else ""))
                continue
            if parent_pid is not None and not _alive(parent_pid):
                say("the app that started this worker is gone; stopping")
                break
            if idle_exit is not None and time.monotonic() - idle_since > idle_exit:
                break
            time.sleep(POLL_SECONDS)
    finally:
        jobs.forget_worker(store, name)
        store.engine.dispose()
    return done


__all__ = ["HEARTBEAT_SECONDS", "KINDS", "rank_job", "retrain_job", "run_one", "serve"]
