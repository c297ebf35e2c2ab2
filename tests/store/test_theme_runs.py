"""Theme runs in the store: insert, read, list, overwrite only at the version read, and log a refused change."""

from __future__ import annotations

import pytest

from qualkit.errors import StoreError
from qualkit.store.theme_runs import RUN_COLUMNS, insert_run, run_conflict, run_record, runs_df, write_run_in

PAYLOAD = {"summary": {"documents": 40, "themes": 3, "outlier_share": 0.1}, "themes": [{"id": 0}]}


def test_runs_round_trip_and_list(store):
    with pytest.raises(StoreError, match="no theme runs yet"):
        run_record(store)
    first = insert_run(store, name="first", settings={"engine": "sklearn", "embedder": "lsa"},
                       versions={"qualkit": "1"}, payload=PAYLOAD, arrays=b"npz-bytes", user="ana")
    second = insert_run(store, name="second", settings={}, versions={}, payload={"summary": {}}, arrays=b"", user="ben")
    assert run_record(store)["id"] == second
    run = run_record(store, first)
    assert (run["version"], run["settings"]["engine"], run["payload"], run["arrays"]) == (1, "sklearn", PAYLOAD,
                                                                                          b"npz-bytes")
    with pytest.raises(StoreError, match=f"no theme run {second + 1}"):
        run_record(store, second + 1)
    frame = runs_df(store)
    assert list(frame.columns) == RUN_COLUMNS and frame["name"].tolist() == ["first", "second"]
    assert frame.iloc[0][["engine", "embedder", "themes", "created_by"]].tolist() == ["sklearn", "lsa", 3, "ana"]
    assert store.events_df("theme_run")["action"].tolist() == ["create", "create"]


def test_an_overwrite_needs_the_version_read(store):
    run_id = insert_run(store, name="", settings={}, versions={}, payload=PAYLOAD, arrays=b"", user="ana")
    edited = {**PAYLOAD, "summary": {**PAYLOAD["summary"], "themes": 2}}
    with store.transaction() as session:
        assert write_run_in(store, session, run_id, payload=edited, arrays=b"x", version=1, user="ana",
                            action="merge", edit={"action": "merge", "themes": [0, 1]})
    with store.transaction() as session:
        assert not write_run_in(store, session, run_id, payload=PAYLOAD, arrays=b"", version=1, user="ben",
                                action="rename", edit={"action": "rename"})
    error = run_conflict(store, run_id, user="ben", action="rename", version=1, edit={"action": "rename"})
    assert error.current["version"] == 2 and "changed by someone else" in str(error)
    assert run_record(store, run_id)["payload"]["summary"]["themes"] == 2
    events = store.events_df("theme_run", run_id)
    assert list(zip(events["action"], events["outcome"], strict=True)) == [("rename", "conflict"), ("merge", "ok"),
                                                                           ("create", "ok")]
    assert events.iloc[1]["old"]["themes"] == 3 and events.iloc[1]["new"]["edit"]["themes"] == [0, 1]
    with pytest.raises(StoreError, match="no theme run"), store.transaction() as session:
        write_run_in(store, session, run_id + 1, payload=PAYLOAD, arrays=b"", version=1, user="ana", action="merge",
                     edit={})
