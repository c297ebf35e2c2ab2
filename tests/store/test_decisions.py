"""Team decisions in the store: bulk accepts, coders' own judgements, consensus, moving codings to a code."""

from __future__ import annotations

import pytest

from qualkit.errors import ConflictError, StoreError
from qualkit.model import Code, Codebook
from qualkit.store.decisions import (
    CONSENSUS,
    bulk_set_status,
    merge_codes,
    own_rows,
    recode,
    recode_in,
    set_consensus,
    set_own_decision,
    set_own_decisions,
)


def test_bulk_set_status_skips_what_changed_and_logs_both(coded):
    store = coded.store
    first, second = coded.ids[(1, "exhaustion")], coded.ids[(2, "workload")]
    store.decide(second, "reject", user="ben")  # now at version 2
    decided, conflicted = bulk_set_status(store, [(first, 1), (second, 1)], "accepted", user="ana")
    assert (decided, conflicted) == ([first], [second])
    assert store.coding(first).decided_by == "ana" and store.coding(second).status == "rejected"
    events = store.events_df("coding")
    bulk = events[events["action"] == "bulk-accept"].set_index("entity_id")["outcome"].to_dict()
    assert bulk == {str(first): "ok", str(second): "conflict"}
    with pytest.raises(StoreError, match="not an event action"):
        bulk_set_status(store, [(first, 2)], "accepted", user="ana", action="approve")
    assert bulk_set_status(store, [], "accepted", user="ana") == ([], [])


def test_own_judgements_leave_the_suggestion_and_update_in_place(coded):
    store = coded.store
    suggestion = store.coding(coded.ids[(1, "exhaustion")])
    mine = set_own_decision(store, suggestion=suggestion, code_id="exhaustion", status="accepted", user="ana",
                            action="accept")
    assert (mine.coder, mine.origin, mine.parent_id, mine.status) == ("ana", "human", suggestion.id, "accepted")
    assert store.coding(suggestion.id).status == "suggested"
    again = set_own_decision(store, suggestion=suggestion, code_id="exhaustion", status="rejected", user="ana",
                             action="reject")
    assert (again.id, again.status, again.version) == (mine.id, "rejected", 2)
    assert [r.id for r in own_rows(store, coder="ana", segment_id=suggestion.segment_id)] == [mine.id]
    assert own_rows(store, coder="ana", segment_id=suggestion.segment_id, code_id="support") == []
    assert own_rows(store, coder="ben", segment_id=suggestion.segment_id) == []


def test_several_own_judgements_are_one_transaction(coded):
    store = coded.store
    suggestion = store.coding(coded.ids[(1, "exhaustion")])
    segment = coded.segment(1)
    with pytest.raises(StoreError, match="outside segment"):
        set_own_decisions(store, suggestion=suggestion, user="ana", decisions=[
            ("exhaustion", "rejected", None, None, "change"),
            ("support", "accepted", segment.start, segment.end + 5, "change")])
    assert own_rows(store, coder="ana", segment_id=segment.id) == []
    done = set_own_decisions(store, suggestion=suggestion, user="ana", decisions=[
        ("exhaustion", "rejected", None, None, "change"), ("support", "accepted", None, None, "change")])
    assert [(c.code_id, c.status) for c in done] == [("exhaustion", "rejected"), ("support", "accepted")]


def test_consensus_decides_the_suggestion_or_adds_a_row_and_guards_a_settlement(coded):
    store = coded.store
    segment = coded.segment(1)
    settled = set_consensus(store, segment_id=segment.id, code_id="exhaustion", apply=True, user="ana", note="agreed")
    assert settled.id == coded.ids[(1, "exhaustion")]
    assert (settled.status, settled.decided_by, settled.version) == ("accepted", CONSENSUS, 2)
    added = set_consensus(store, segment_id=segment.id, code_id="workload", apply=False, user="ben")
    assert (added.coder, added.origin, added.status) == (CONSENSUS, "human", "rejected")
    with pytest.raises(ConflictError, match="already settled"):
        set_consensus(store, segment_id=segment.id, code_id="exhaustion", apply=False, user="ben")
    changed = set_consensus(store, segment_id=segment.id, code_id="exhaustion", apply=False, user="ben",
                            expected={"id": settled.id, "version": 2})
    assert (changed.status, changed.version) == ("rejected", 3)
    events = store.events_df("coding", settled.id)
    assert events[events["action"] == "adjudicate"]["outcome"].tolist() == ["ok", "conflict", "ok"]
    assert set(events.loc[events["action"] == "adjudicate", "user"]) == {"ana", "ben"}  # the real people
    with pytest.raises(StoreError, match="outside segment"):
        set_consensus(store, segment_id=segment.id, code_id="support", apply=True, user="ana", start=0, end=3)


def test_recode_moves_codings_and_bumps_versions(coded):
    store = coded.store
    assert recode(store, ["exhaustion"], "workload", user="admin", codebook_version=2) == 2
    frame = store.codings_df(code_id="workload").set_index("id")
    moved = coded.ids[(1, "exhaustion")]
    assert frame.loc[moved, "version"] == 2 and frame.loc[moved, "codebook_version"] == 2
    # Turn 2 had workload (0.75) and exhaustion (0.3) suggested: one suggestion of workload stays, the stronger.
    assert coded.ids[(2, "exhaustion")] not in frame.index and coded.ids[(2, "workload")] in frame.index
    assert {"recode", "replace"} <= set(store.events_df("coding")["action"])
    assert recode(store, ["nothing"], "workload", user="admin") == 0
    with pytest.raises(RuntimeError), store.transaction() as session:  # recode_in lives and dies with the caller
        recode_in(store, session, ["support"], "workload", user="admin")
        raise RuntimeError("the rest of the change failed")
    assert coded.ids[(1, "support")] in set(store.codings_df(code_id="support")["id"])


def test_merge_is_one_transaction(coded):
    store = coded.store
    without = Codebook("mini", [Code("workload", "Workload"), Code("support", "Support")])
    with pytest.raises(ConflictError):
        merge_codes(store, ["exhaustion"], "workload", without, user="admin", note="merge", expected_version=7)
    assert len(store.codings_df(code_id="exhaustion")) == 2 and store.codebook().version == 1
    version, moved = merge_codes(store, ["exhaustion"], "workload", without, user="admin", note="merge",
                                 expected_version=1)
    assert (version, moved, without.version) == (2, 2, 2)
    assert store.codings_df(code_id="exhaustion").empty and store.codebook().ids == ["workload", "support"]
