"""Actions shared by several pages (run from button callbacks), and queuing the model work for the worker.

Retraining and ranking never run in the Streamlit server: a decision queues a ``retrain`` job in the
store and makes sure a ``qualkit worker`` process is alive (:mod:`qualkit.worker`); the review queue
reads the ranking the worker stored. A click therefore never waits on a model.

Example:
    >>> schedule_retrain(store, "ana")  # doctest: +SKIP
    True
"""

from __future__ import annotations

from typing import Any

from qualkit.app import resources, state
from qualkit.project import Project
from qualkit.store import jobs
from qualkit.store.repository import Store


def model_work_available() -> bool:
    """True when the coding area's models exist and background work is not switched off.

    Example:
        >>> isinstance(model_work_available(), bool)
        True
    """
    return resources.retraining_enabled() and hasattr(Project, "autocode") and hasattr(Project, "review_queue")


def queue_job(store: Store, kind: str, user_name: str | None, params: dict[str, Any] | None = None) -> int | None:
    """Queue a model job for the worker (coalesced with a waiting one of its kind) and make sure one runs.

    Example:
        >>> queue_job(store, "finetune", "admin", {"seed": 0})  # doctest: +SKIP
        12
    """
    url = state.db_url()
    if not url or not model_work_available():
        return None
    job_id = jobs.enqueue_job(store, kind, params, user=user_name)
    resources.worker_for(url, store.name).ensure(store)
    return job_id


def schedule_retrain(store: Store, user_name: str) -> bool:
    """After a decision: queue retraining, refreshing suggestions and re-ranking, for the worker process.

    Never blocks the click. The refresh covers the transcripts still under review; a suggestion
    proposed again keeps its id and version, so the cards on screen stay valid, and the review queue
    offers the new order instead of swapping cards. Returns True when the work was queued.
    """
    return queue_job(store, "retrain", user_name) is not None


def ensure_ranking(store: Store) -> None:
    """Queue a ranking of the review queue when none exists and none is under way (a first visit)."""
    url = state.db_url()
    if not url or not model_work_available():
        return
    if jobs.ranking_version(store):
        return
    status = jobs.work_status(store)
    last = status["last"]
    if status["running"] is None and not status["queued"] and not (last is not None and last.status == "failed"):
        queue_job(store, "rank", None)
    elif status["running"] is not None or status["queued"]:
        resources.worker_for(url, store.name).ensure(store)  # a queued job needs a live worker


def work_status(store: Store) -> dict[str, Any]:
    """What the worker is doing for the project (:func:`qualkit.store.jobs.work_status`)."""
    return jobs.work_status(store)
