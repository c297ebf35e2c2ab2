"""Assignments: who codes which transcript, blind or not, done or not; every change logged."""

from __future__ import annotations

import pytest

from qualkit.errors import StoreError
from qualkit.store.assignments import (
    ASSIGNMENT_COLUMNS,
    add_assignments,
    assignments_df,
    remove_assignment,
    set_assignment_done,
)


def test_assign_mark_done_reopen_and_remove(coded):
    store, source_id = coded.store, coded.source.id
    assert assignments_df(store).empty and list(assignments_df(store).columns) == ASSIGNMENT_COLUMNS
    assert add_assignments(store, source_id, ["ana", "ben"], blind=True, user="admin") == 2
    assert add_assignments(store, source_id, ["ben", "cy"], blind=False, user="admin") == 1  # ben stays as he was
    frame = assignments_df(store).set_index("coder")
    assert frame["source"].unique().tolist() == ["tiny.txt"]
    assert frame["blind"].to_dict() == {"ana": True, "ben": True, "cy": False}
    set_assignment_done(store, source_id, "ana", done=True, user="ana")
    frame = assignments_df(store).set_index("coder")
    assert frame.at["ana", "done"] and frame.at["ana", "done_at"] is not None and not frame.at["ben", "done"]
    set_assignment_done(store, source_id, "ana", done=False, user="admin")
    assert not assignments_df(store).set_index("coder").at["ana", "done"]
    remove_assignment(store, source_id, "cy", user="admin")
    assert assignments_df(store)["coder"].tolist() == ["ana", "ben"]
    events = store.events_df("assignment")
    assert events["action"].tolist() == ["unassign", "reopen", "done", "assign", "assign", "assign"]
    assert events.iloc[0]["entity_id"] == f"{source_id}:cy"


def test_unknown_assignments_are_errors(coded):
    with pytest.raises(StoreError, match="not assigned"):
        set_assignment_done(coded.store, coded.source.id, "ana", done=True, user="ana")
    with pytest.raises(StoreError, match="not assigned"):
        remove_assignment(coded.store, coded.source.id, "ana", user="admin")
