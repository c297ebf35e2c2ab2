"""Codings written inside a caller's transaction, and version-checked updates of one or several steps."""

from __future__ import annotations

import pytest

from qualkit.errors import ConflictError, StoreError
from qualkit.model import Coding


def test_insert_codings_in_lives_and_dies_with_the_callers_transaction(coded):
    store = coded.store
    segment = coded.segment(2)
    with pytest.raises(RuntimeError), store.transaction() as session:
        store.insert_codings_in(session, [Coding(segment.id, "support", coder="ana")], user="ana", action="code")
        raise RuntimeError("the other half failed")
    assert store.codings_df(code_id="support", coder="ana").empty
    kept = Coding(segment.id, "support", coder="ana")
    with store.transaction() as session:
        ids = store.insert_codings_in(session, [kept], user="ana", action="code", details={"why": "test"})
    assert ids == [kept.id] and kept.version == 1
    stored = store.coding(kept.id)
    assert (stored.start, stored.end) == (segment.start, segment.end)  # the whole segment by default
    event = store.events_df("coding", kept.id).iloc[0]
    assert event["action"] == "code" and event["new"]["why"] == "test"


def test_update_coding_checks_fields_status_and_version(coded):
    store = coded.store
    coding_id = coded.ids[(1, "support")]
    updated = store.update_coding(coding_id, user="ana", expected_version=1, action="accept", status="accepted",
                                  rationale="clear")
    assert (updated.status, updated.decided_by, updated.rationale, updated.version) == ("accepted", "ana", "clear", 2)
    with pytest.raises(ConflictError):
        store.update_coding(coding_id, user="ben", expected_version=1, status="rejected")
    with pytest.raises(StoreError, match="cannot change"):
        store.update_coding(coding_id, user="ana", coder="eve")
    with pytest.raises(StoreError, match="unknown status"):
        store.update_coding(coding_id, user="ana", status="maybe")
    with pytest.raises(StoreError, match="no coding"):
        store.update_coding(999_999, user="ana", status="accepted")


def test_several_updates_in_one_checked_transaction_are_all_or_nothing(coded):
    store, ids = coded.store, coded.ids
    with pytest.raises(ConflictError), store.checked_transaction() as session:
        store.update_coding_in(session, ids[(1, "exhaustion")], user="ana", action="accept", status="accepted")
        store.update_coding_in(session, ids[(1, "support")], user="ana", expected_version=5, action="reject",
                               status="rejected")
    assert store.coding(ids[(1, "exhaustion")]).status == "suggested"  # the first step was rolled back too
    with store.checked_transaction() as session:
        store.update_coding_in(session, ids[(1, "exhaustion")], user="ana", action="accept", status="accepted")
        store.update_coding_in(session, ids[(1, "support")], user="ana", action="reject", status="rejected")
    assert [store.coding(ids[k]).status for k in ((1, "exhaustion"), (1, "support"))] == ["accepted", "rejected"]


def test_a_span_of_fractional_offsets_is_refused_before_anything_is_stored(coded):
    """A stranger's ``p.code(5, code, start=296.0, end=303.5)`` was stored, and every export failed afterwards."""
    store = coded.store
    segment = coded.segment(2)
    with pytest.raises(StoreError, match=r"span end .* is not a whole number of characters"):
        store.add_codings([Coding(segment.id, "support", coder="ana", start=segment.start,
                                  end=segment.start + 2.5)], user="ana")
    assert store.codings_df(code_id="support", coder="ana").empty
