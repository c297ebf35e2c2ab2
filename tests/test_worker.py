"""The model worker: jobs are claimed exactly once, a dead worker's job is re-queued, results land in the store.

Runs on SQLite and on the real PostgreSQL server (``db_url``); the last test runs ``qualkit worker`` as a
real subprocess, as the app does.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from qualkit import worker
from qualkit.store import jobs

sys.path.insert(0, str(Path(__file__).parent))
from _mini_study import build_study


@pytest.fixture
def study(db_url):
    project = build_study(db_url, users=False)
    yield project
    project.store.engine.dispose()


def test_the_registry_names_the_coding_areas_jobs():
    assert worker.KINDS["finetune"] is worker.finetune_then_retrain_job
    assert worker.KINDS["retrain"] is worker.retrain_job and worker.KINDS["rank"] is worker.rank_job


def test_each_job_is_claimed_exactly_once_by_racing_workers(study):
    store = study.store
    ids = [jobs.enqueue_job(store, "rank", {"n": i}, user="ana", coalesce=False) for i in range(6)]
    claimed: dict[str, list[int]] = {"w1": [], "w2": [], "w3": []}
    barrier = threading.Barrier(len(claimed))

    def claim(name: str) -> None:
        barrier.wait()
        while (job := jobs.claim_job(store, name)) is not None:
            claimed[name].append(job.id)

    threads = [threading.Thread(target=claim, args=(name,)) for name in claimed]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    every = sorted(i for got in claimed.values() for i in got)
    assert every == ids  # each job once, none lost
    frame = jobs.jobs_df(store).set_index("id")
    for name, got in claimed.items():
        assert all(frame.at[i, "worker"] == name and frame.at[i, "status"] == "running" for i in got)


def test_work_status_never_misses_a_job_claimed_while_it_reads(study):
    """A worker claiming the job between work_status's two reads must not make the work look finished."""
    from sqlalchemy import event

    from qualkit.store.repository import Store

    store = study.store
    job_id = jobs.enqueue_job(store, "rank", user="ana")
    other = Store.open(str(store.engine.url.render_as_string(hide_password=False)), store.name)
    statements = []

    def claim_before_the_second_read(*_args) -> None:
        statements.append(1)
        if len(statements) == 2:
            assert jobs.claim_job(other, "racer").id == job_id

    event.listen(store.engine, "before_cursor_execute", claim_before_the_second_read)
    try:
        status = jobs.work_status(store)
    finally:
        event.remove(store.engine, "before_cursor_execute", claim_before_the_second_read)
        other.engine.dispose()
    assert len(statements) >= 2 and jobs.job(store, job_id).status == "running"
    assert status["queued"] or status["running"] is not None, status


def test_coalescing_and_a_retrain_supersedes_a_waiting_rank(study):
    store = study.store
    rank = jobs.enqueue_job(store, "rank", user=None)
    retrain = jobs.enqueue_job(store, "retrain", user="ana")
    assert jobs.enqueue_job(store, "retrain", user="ben") == retrain
    assert jobs.job(store, rank).status == "done" and jobs.job(store, rank).result == {"superseded": True}
    assert jobs.claim_job(store, "w").id == retrain
    assert jobs.enqueue_job(store, "retrain", user="ana") != retrain  # one may wait while one runs


def test_a_dead_workers_job_is_requeued_then_failed_after_max_attempts(study):
    store = study.store
    job_id = jobs.enqueue_job(store, "rank", user="ana")
    for attempt in range(1, jobs.MAX_ATTEMPTS + 1):
        job = jobs.claim_job(store, f"dead:{attempt}")
        assert (job.id, job.attempts) == (job_id, attempt)
        assert jobs.heartbeat(store, job_id, f"dead:{attempt}")
        assert not jobs.heartbeat(store, job_id, "someone-else")  # only the claiming worker beats
        time.sleep(0.05)
        assert jobs.requeue_stale(store, stale_seconds=60) == 0  # a recent heartbeat: still alive
        assert jobs.requeue_stale(store, stale_seconds=0) == 1  # silent: its worker is gone
        assert not jobs.finish_job(store, job_id, f"dead:{attempt}", result={})  # a late finish is refused
    failed = jobs.job(store, job_id)
    assert failed.status == "failed" and "stopped 3 time(s)" in failed.error
    assert jobs.claim_job(store, "w") is None


def test_run_one_records_results_and_failures(study, monkeypatch):
    monkeypatch.setitem(worker.KINDS, "boom", lambda project, params, progress: 1 / 0)
    monkeypatch.setitem(worker.KINDS, "echo", lambda project, params, progress: {"got": params["x"]})
    from qualkit.project import Project

    project = Project(study.store, user="auto")
    ok = jobs.enqueue_job(study.store, "echo", {"x": 7}, user="ana")
    bad = jobs.enqueue_job(study.store, "boom", user="ana")
    assert worker.run_one(project, "w").result == {"got": 7}
    failed = worker.run_one(project, "w")
    assert (failed.id, failed.status, failed.error) == (bad, "failed", "division by zero")
    assert jobs.job(study.store, ok).status == "done" and worker.run_one(project, "w") is None


def test_the_worker_process_recovers_a_crashed_job_and_ranks(study, db_url, tmp_path):
    store = study.store
    crashed = jobs.enqueue_job(store, "rank", user="ana")
    assert jobs.claim_job(store, "crashed-host:1").id == crashed  # claimed by a worker that then died
    env = dict(os.environ, QUALKIT_EMBEDDER="lsa")
    log = tmp_path / "worker.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "qualkit", "worker", "--db", db_url, "--project", study.name,
             "--idle-exit", "2", "--parent-pid", str(os.getpid())], env=env, stdout=out, stderr=subprocess.STDOUT)
        name = f"{os.uname().nodename}:{process.pid}"
        deadline = time.monotonic() + 60
        while jobs.live_workers(store) != [name] and time.monotonic() < deadline:
            time.sleep(0.2)
        assert jobs.live_workers(store) == [name], log.read_text()  # its heartbeat row says it is alive
        # the stale job is noticed after STALE_SECONDS; meanwhile a fresh one is run at once
        fresh = jobs.enqueue_job(store, "rank", user="ben", coalesce=False)
        deadline = time.monotonic() + 120
        while jobs.job(store, fresh).status != "done" and time.monotonic() < deadline:
            time.sleep(0.2)
        assert jobs.job(store, fresh).status == "done", log.read_text()
        assert jobs.job(store, fresh).worker == name
        process.terminate()
        process.wait(30)
    version, ranking = jobs.latest_ranking(store)
    assert version and set(ranking) == set(int(i) for i in store.codings_df(status="suggested")["id"])
    # a crashed job is re-queued by the next worker once its heartbeat is stale (on a slow machine the
    # first worker may already have passed STALE_SECONDS and recovered it itself: the same rule, earlier)
    if jobs.job(store, crashed).status != "done":  # not yet taken back and finished
        assert jobs.requeue_stale(store, stale_seconds=0) == 1
    project_worker = subprocess.run(
        [sys.executable, "-m", "qualkit", "worker", "--db", db_url, "--project", study.name, "--idle-exit", "1"],
        env=env, capture_output=True, text=True, timeout=180)
    assert project_worker.returncode == 0, project_worker.stderr
    recovered = jobs.job(store, crashed)
    assert recovered.status == "done" and recovered.attempts >= 2  # claimed again after the crash
    assert jobs.live_workers(store) == []  # a clean exit forgets its heartbeat row
