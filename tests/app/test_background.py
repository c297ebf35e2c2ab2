"""Background model work: retraining after decisions and ranking the queue never block a click."""

from __future__ import annotations

import threading

from qualkit.app.resources import Retrainer
from qualkit.project import Project


def test_retrainer_coalesces_requests_and_keeps_the_ranking():
    retrainer = Retrainer()
    gate, calls = threading.Event(), []

    def slow():
        gate.wait(5)
        calls.append("slow")

    assert retrainer.request(slow) is True
    assert retrainer.request(lambda: calls.append("rank") or {1: 0.5}, kind="rank") is False
    assert retrainer.request(lambda: calls.append("retrain") or {2: 0.9}) is False  # replaces the pending one
    assert retrainer.request(lambda: calls.append("rank2") or {3: 0.1}, kind="rank") is False  # retrain wins
    gate.set()
    assert retrainer.wait(10)
    assert calls == ["slow", "retrain"] and retrainer.ranking == {2: 0.9} and retrainer.ranking_version == 1
    retrainer.request(lambda: 1 / 0)
    assert retrainer.wait(10) and retrainer.last_error == "division by zero"
    assert retrainer.ranking == {2: 0.9}  # a failure keeps the last good ranking


def test_decision_retrains_and_ranks_in_the_background(study, apptest, helpers, monkeypatch):
    if not (hasattr(Project, "autocode") and hasattr(Project, "review_queue")):
        import pytest

        pytest.skip("the coding area (autocode, review_queue) is not installed")
    from qualkit.app import resources

    monkeypatch.setenv("QUALKIT_APP_RETRAIN", "1")
    monkeypatch.setenv("QUALKIT_EMBEDDER", "lsa")  # fast and offline; MiniLM is exercised by the coding tests
    at = apptest("ana", "queue")
    helpers.assert_ok(at)
    retrainer = resources.retrainer_for(study.url, study.project.name)
    assert retrainer.wait(120), "ranking did not finish"
    assert retrainer.last_error is None and retrainer.ranking is not None
    first = next(b.key for b in at.button if b.key.startswith("acc_"))
    at.button(key=first).click().run()  # returns at once; the retraining runs in a thread
    helpers.assert_ok(at)
    assert study.store.coding(int(first.split("_")[1])).status == "accepted"
    assert retrainer.wait(120), "retraining did not finish"
    assert retrainer.last_error is None and retrainer.runs >= 2
    at.run()
    helpers.assert_ok(at)
    assert "most informative first" in helpers.texts(at)
    assert "auto" in set(study.store.codings_df(status="suggested")["coder"])
