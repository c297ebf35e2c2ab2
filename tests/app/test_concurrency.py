"""Two people deciding the same coding at once: exactly one wins, the other is told, the log has both.

Runs on SQLite (WAL) and on the real PostgreSQL server (the ``db_url`` fixture).
"""

from __future__ import annotations


def test_two_sessions_decide_the_same_suggestion(study_on, apptest, helpers):
    ana = apptest("ana", "queue")
    study_on.settle(ana)  # the first visit ranks the queue in the worker; ana's cards stay as she loaded them
    ben = apptest("ben", "queue")
    helpers.assert_ok(ana)
    helpers.assert_ok(ben)
    first_ana = next(b.key for b in ana.button if b.key.startswith("acc_"))
    assert first_ana in [b.key for b in ben.button]  # ben's page shows the same card
    coding_id = int(first_ana.split("_")[1])

    ana.button(key=first_ana).click().run()
    ben.button(key=f"rej_{coding_id}").click().run()  # ben's card still shows the version he loaded
    helpers.assert_ok(ana)
    helpers.assert_ok(ben)

    stored = study_on.store.coding(coding_id)
    assert (stored.status, stored.decided_by, stored.version) == ("accepted", "ana", 2)
    warnings = [str(w.value) for w in ben.warning]
    assert any(w.startswith("Your reject was not applied: ana accepted ") for w in warnings), warnings
    events = study_on.store.events_df("coding", coding_id)
    attempts = events[events["action"].isin(["accept", "reject"])]
    assert sorted(zip(attempts["user"], attempts["action"], attempts["outcome"], strict=True)) == [
        ("ana", "accept", "ok"), ("ben", "reject", "conflict")]
    # After the message ben's page shows the current state: the card is gone from his queue.
    assert f"acc_{coding_id}" not in [b.key for b in ben.button]
