"""The event log: a fixed vocabulary, old rows still read, filters, the generation, events of no project."""

from __future__ import annotations

import pytest

from qualkit.errors import ConflictError, StoreError
from qualkit.store.base import StaleVersion
from qualkit.store.event_types import EventAction, EventEntity, EventOutcome, checked_action, event_row
from qualkit.store.events import engine_of, global_events_df, log_global
from qualkit.store.schema import EventRow


def test_the_vocabulary_is_the_strings_the_log_always_stored():
    assert EventAction.BULK_ACCEPT == "bulk-accept" and EventAction("session-start") is EventAction.SESSION_START
    assert {e.value for e in EventEntity} >= {"project", "source", "coding", "memo", "assignment", "theme_run"}
    assert [o.value for o in EventOutcome] == ["ok", "conflict", "denied", "locked"]
    assert checked_action("accept") == "accept"
    with pytest.raises(StoreError, match="'dance' is not an event action") as caught:
        checked_action("dance")
    assert "EventAction" in caught.value.fix


def test_log_refuses_words_outside_the_vocabulary_and_writes_nothing(store):
    before = len(store.events_df())
    for action, entity, outcome in (("dance", "coding", "ok"), ("accept", "spreadsheet", "ok"),
                                    ("accept", "coding", "maybe")):
        with pytest.raises(StoreError, match="is not an event"), store.transaction() as session:
            store.log(session, "ana", action, entity, 1, outcome=outcome)
    assert len(store.events_df()) == before


def test_rows_written_as_plain_strings_read_back_the_same(store):
    with store.transaction() as session:  # an event row as older versions wrote it, no enum involved
        session.add(EventRow(project_id=store.project_id, user="ana", action="accept", entity="coding",
                             entity_id="7", old={"status": "suggested"}, new={"status": "accepted"}, outcome="ok"))
        store.log(session, "ben", EventAction.REJECT, EventEntity.CODING, 7, outcome=EventOutcome.CONFLICT)
    events = store.events_df("coding", 7)
    assert events[["user", "action", "outcome"]].values.tolist() == [["ben", "reject", "conflict"],
                                                                    ["ana", "accept", "ok"]]
    assert {type(a) for a in events["action"]} == {str}
    assert EventAction(events["action"].iloc[1]) is EventAction.ACCEPT


def test_events_filter_by_entity_and_limit_newest_first(store):
    with store.transaction() as session:
        for n in range(3):
            store.log(session, "ana", "note", "project", store.project_id, new={"n": n})
        store.log(session, "ana", "note", "source", 5)
    assert store.events_df("project", store.project_id, limit=2)["new"].tolist() == [{"n": 2}, {"n": 1}]
    assert store.events_df("source")["entity_id"].tolist() == ["5"]
    assert store.events_df()["action"].iloc[-1] == "create"  # the project's creation comes first


def test_generation_moves_with_every_write(store):
    first = store.generation()
    store.update_settings(user="ana", colour="blue")
    second = store.generation()
    assert second > first
    assert store.generation() == second  # a read changes nothing


def test_events_of_no_project_stay_out_of_the_project_log(store):
    with store.transaction() as session:
        log_global(session, "admin", "create", "user", "ana", new={"role": "coder"})
        log_global(session, "ana", "login", "user", "ana", outcome="denied")
    frame = global_events_df(store, entity="user")
    assert frame[["action", "outcome"]].values.tolist() == [["login", "denied"], ["create", "ok"]]
    assert global_events_df(store.engine, limit=1)["action"].tolist() == ["login"]
    assert "login" not in set(store.events_df()["action"])
    assert engine_of(store) is store.engine and engine_of(store.engine) is store.engine


def test_event_row_keeps_json_safe_values():
    row = event_row(1, "ana", "update", "participant", "P1", old={"ages": (30, 40)}, new={"ok": {True}})
    assert (row.entity_id, row.old, row.new) == ("P1", {"ages": [30, 40]}, {"ok": [True]})


def test_checked_transaction_rolls_back_logs_the_conflict_and_raises(store):
    with pytest.raises(ConflictError, match="changed meanwhile") as caught, store.checked_transaction() as session:
        store.log(session, "ana", "note", "project", store.project_id)  # rolled back with the rest
        raise StaleVersion("changed meanwhile", current={"version": 3}, user="ana", action="accept",
                           coding_id=9, expected=2, changes={"status": "accepted"})
    assert caught.value.current == {"version": 3}
    events = store.events_df()
    assert "note" not in set(events["action"])
    conflict = events.iloc[0]
    assert (conflict["action"], conflict["entity_id"], conflict["outcome"]) == ("accept", "9", "conflict")
    assert conflict["old"] == {"expected_version": 2} and conflict["new"] == {"status": "accepted"}


def test_a_read_session_sees_committed_rows(store):
    store.update_settings(user="ana", colour="green")
    with store.session() as session:
        assert session.get(EventRow, store.generation()).action == "update"
