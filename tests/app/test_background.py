"""Background model work runs in a ``qualkit worker`` process, never in the Streamlit server; a click never waits."""

from __future__ import annotations

import os

from qualkit.project import Project
from qualkit.store import jobs


def test_decision_queues_a_retrain_that_the_worker_process_runs(study, apptest, helpers, monkeypatch):
    if not (hasattr(Project, "autocode") and hasattr(Project, "review_queue")):
        import pytest

        pytest.skip("the coding area (autocode, review_queue) is not installed")
    from qualkit.app import resources

    at = apptest("ana", "queue")
    helpers.assert_ok(at)
    launcher = resources.worker_for(study.url, study.project.name)
    assert launcher.alive() and launcher.process.pid != os.getpid()  # a separate process does the work
    study.settle(at)
    # the first visit's ranking, stored by the worker
    assert jobs.ranking_version(study.store) > 0, jobs.jobs_df(study.store).to_dict("records")
    first = next(b.key for b in at.button if b.key.startswith("acc_"))
    at.button(key=first).click().run()  # returns at once; the retraining is only queued
    helpers.assert_ok(at)
    assert study.store.coding(int(first.split("_")[1])).status == "accepted"
    queued = jobs.jobs_df(study.store)
    assert "retrain" in set(queued["kind"])
    study.settle(at)
    done = jobs.jobs_df(study.store)
    retrain = done[done["kind"] == "retrain"].iloc[0]
    assert retrain["status"] == "done", retrain.to_dict()
    assert retrain["worker"].endswith(f":{launcher.process.pid}")  # run by the worker process, not this one
    assert launcher.started == 1  # one worker for the whole session
    assert "auto" in set(study.store.codings_df(status="suggested")["coder"])
    helpers.assert_ok(at)
