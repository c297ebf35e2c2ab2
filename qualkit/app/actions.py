"""Actions shared by several pages (run from button callbacks), and the background model work.

Example:
    >>> schedule_retrain(store, "ana")  # doctest: +SKIP
"""

from __future__ import annotations

from qualkit.app import resources, state
from qualkit.project import Project
from qualkit.review import decisions
from qualkit.store.repository import Store


def model_work_available() -> bool:
    """True when the coding area's models exist and background work is not switched off.

    Example:
        >>> isinstance(model_work_available(), bool)
        True
    """
    return resources.retraining_enabled() and hasattr(Project, "autocode") and hasattr(Project, "review_queue")


def schedule_retrain(store: Store, user_name: str) -> bool:
    """After a decision: retrain the learned coder, refresh suggestions and re-rank the queue, in the background.

    Never blocks the click. The refresh covers the transcripts still under review (those with
    suggestions awaiting a decision): a suggestion proposed again keeps its id and version, so the
    cards on screen stay valid, and the queue reloads itself when the work is done. Returns True when
    the work was started or queued.
    """
    url = state.db_url()
    if not url or not model_work_available():
        return False
    model = resources.model_project(url, store.name)

    def job() -> dict[int, float] | None:
        segment_ids = decisions.segments_under_review(model.store)
        if segment_ids:
            model.autocode(segment_ids=segment_ids, progress=False)
        return decisions.rank_suggestions(model.store, model.review_queue)

    resources.retrainer_for(url, store.name).request(job, kind="retrain")
    return True


def ensure_ranking(store: Store) -> None:
    """Start ranking the queue in the background if no ranking exists yet (first visit after start-up)."""
    url = state.db_url()
    if not url or not model_work_available():
        return
    retrainer = resources.retrainer_for(url, store.name)
    if retrainer.ranking is None and not retrainer.running and retrainer.last_error is None:
        model = resources.model_project(url, store.name)
        retrainer.request(lambda: decisions.rank_suggestions(model.store, model.review_queue), kind="rank")
