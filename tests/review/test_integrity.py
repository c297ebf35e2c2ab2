"""No silent lost updates and no half-done decisions: refreshes, changes and participant edits.

Runs on SQLite and on the real PostgreSQL server.
"""

from __future__ import annotations

import pytest

from qualkit.errors import ConflictError, StoreError
from qualkit.model import Coding, Participant
from qualkit.review import decisions, double_coding
from qualkit.users import Role, User

ADMIN, ANA, BEN, VIC = User("admin", Role.ADMIN), User("ana"), User("ben"), User("vic", Role.VIEWER)


def _pending(store):
    return store.codings_df(status="suggested").set_index("id")


def test_refreshing_suggestions_keeps_rows_and_versions(study):
    store = study.store
    before = _pending(store)
    decided = int(study.suggestion("group1.txt", 1, "administrative_burden").id)
    store.decide(decided, "accept", user="ana")
    keep = before.drop(index=decided)
    dropped = int(keep.index[0])  # the retrained coder no longer proposes this one
    refreshed = [Coding(int(r.segment_id), r.code_id, "ensemble", score=0.5, coder="auto", rationale="retrained",
                        evidence=[(int(r.segment_start), int(r.segment_start) + 3)], codebook_version=1)
                 for r in keep.drop(index=dropped).itertuples()]
    segment = study.segment("group2.txt", 3)
    refreshed.append(Coding(int(segment["id"]), "individual_coping", "learned", score=0.7, coder="auto"))
    # the accepted one is proposed again too: it must stay accepted, untouched
    accepted_row = store.coding(decided)
    refreshed.append(Coding(accepted_row.segment_id, accepted_row.code_id, "ensemble", score=0.1, coder="auto"))
    ids = store.replace_suggestions(refreshed, segment_ids=store.segments_df()["id"].tolist(), user="auto")
    after = _pending(store)
    kept = sorted(set(keep.index) - {dropped})
    assert sorted(set(after.index) & set(before.index)) == kept  # same rows
    assert ids[:len(kept)] == [int(i) for i in keep.drop(index=dropped).index]
    assert (after.loc[kept, "version"] == before.loc[kept, "version"]).all()  # a rescore is no human change
    assert set(after.loc[kept, "score"]) == {0.5} and set(after.loc[kept, "rationale"]) == {"retrained"}
    assert set(after.loc[kept, "origin"]) == {"ensemble"}
    assert dropped not in after.index and len(after) == len(kept) + 1  # one new suggestion
    assert store.coding(decided).status == "accepted" and store.coding(decided).version == 2
    events = store.events_df("coding")
    replaced = events[events["action"] == "replace"].iloc[0]
    assert replaced["old"]["ids"] == [dropped] and replaced["old"]["suggestions_removed"] == 1
    # the row is gone: the log says what it was (a stranger could not tell which codes a retrain withdrew)
    assert replaced["old"]["withdrawn"] == [{"id": dropped, "segment_id": int(before.loc[dropped, "segment_id"]),
                                             "code_id": before.loc[dropped, "code_id"]}]
    assert events[events["action"] == "rescore"].iloc[0]["new"]["count"] == len(kept)
    # deciding the withdrawn one (a card still on screen, an id listed before) says what became of it
    with pytest.raises(StoreError, match=rf"suggestion {dropped} is no longer there: the machine coder withdrew it"):
        decisions.decide(store, dropped, "accept", actor=BEN)
    # a card drawn before the refresh still decides: same id, same version
    target = kept[0]
    decision = decisions.decide(store, target, "reject", actor=BEN, expected_version=int(before.at[target, "version"]))
    assert decision.status == "rejected"


def test_a_change_is_one_transaction(study):
    store = study.store
    s = study.suggestion("group1.txt", 2, "workload")
    with pytest.raises(StoreError, match="outside segment"):
        store.decide(int(s.id), "change", user="ana", code_id="peer_support", start=0, end=10_000)
    assert store.coding(int(s.id)).status == "suggested"  # not left rejected without its replacement
    assert store.codings_df(origin="human").empty
    changed = store.decide(int(s.id), "change", user="ana", code_id="peer_support", expected_version=int(s.version))
    assert store.coding(int(s.id)).status == "rejected" and changed.parent_id == int(s.id)
    with pytest.raises(ConflictError):  # a second, stale change saves nothing at all
        store.decide(int(s.id), "change", user="ben", code_id="individual_coping", expected_version=int(s.version))
    assert store.codings_df(origin="human")["code_id"].tolist() == ["peer_support"]


def test_a_blind_change_is_one_transaction(study):
    store = study.store
    double_coding.assign(store, "group1.txt", ["ana", "ben"], actor=ADMIN)
    s = study.suggestion("group1.txt", 2, "workload")
    with pytest.raises(StoreError, match="outside segment"):
        decisions.decide(store, int(s.id), "change", actor=ANA, code_id="peer_support", start=0, end=10_000)
    assert store.codings_df(origin="human", coder="ana").empty  # not only "workload: no" left behind
    decisions.decide(store, int(s.id), "change", actor=ANA, code_id="peer_support")
    own = store.codings_df(origin="human", coder="ana")
    assert sorted(zip(own["code_id"], own["status"], strict=True)) == [("peer_support", "accepted"),
                                                                        ("workload", "rejected")]


def test_participant_edits_are_version_checked(study):
    store = study.store
    store.upsert_participants([Participant("P1", attributes={"role": "resident"})], user="setup")
    loaded = dict(zip(store.participants_df()["participant"], store.participants_df()["version"], strict=True))
    store.upsert_participants([Participant("P1", attributes={"role": "attending"})], user="ana",
                              expected_versions={"P1": loaded["P1"]})
    with pytest.raises(ConflictError) as caught:
        store.upsert_participants([Participant("P1", attributes={"role": "staff"}), Participant("P2")], user="ben",
                                  expected_versions={"P1": loaded["P1"], "P2": None})
    assert caught.value.current["participants"]["P1"]["role"] == "attending"
    assert "attending" in caught.value.message
    frame = store.participants_df()
    assert frame["participant"].tolist() == ["P1"] and frame["role"].tolist() == ["attending"]  # nothing saved
    events = store.events_df("participant")
    assert "conflict" in set(events["outcome"])


def test_a_refresh_keeps_a_suggestion_whose_decision_was_undone(study):
    """Seen by a new researcher: reject, revert in History, and the worker's refresh deleted the card it restored."""
    store = study.store
    before = _pending(store)
    target, untouched, adjusted = (int(i) for i in before.index[:3])
    row = store.coding(adjusted)
    moved = store.decide(adjusted, "span", user="ana", start=row.start + 1, end=row.end)  # still pending, by hand
    rejected = decisions.decide(store, target, "reject", actor=ANA, expected_version=int(before.at[target, "version"]))
    restored = decisions.revert_decision(store, target, expected_version=rejected.version, actor=ANA)
    assert restored.status == "suggested"
    # the retrained coder proposes none of the three any more: the untouched one goes, the two people acted on stay
    others = [Coding(int(r.segment_id), r.code_id, "ensemble", score=0.5, coder="auto")
              for r in before.drop(index=[target, untouched, adjusted]).itertuples()]
    store.replace_suggestions(others, segment_ids=store.segments_df()["id"].tolist(), user="auto")
    after = _pending(store)
    assert target in after.index and untouched not in after.index
    assert adjusted in after.index and after.at[adjusted, "start"] == moved.start
    assert after.at[target, "version"] == restored.version
    again = decisions.revert_decision(store, target, expected_version=restored.version, actor=ANA)  # redo stays possible
    assert again.status == "rejected"
