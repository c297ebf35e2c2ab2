"""Deciding on codings: in place and version-checked, permissions, coding by hand, memos, the queue, bulk accepts.

Runs on SQLite and on the real PostgreSQL server (the mini study on ``db_url``).
"""

from __future__ import annotations

import threading

import pandas as pd
import pytest

from qualkit.errors import ConflictError, InvalidInput, PermissionDenied, StoreError, SuggestionWithdrawn
from qualkit.review import codebook_edits, decisions
from qualkit.spans import locate_passage
from qualkit.users import Role, User

ADMIN, ANA, BEN, VIC = User("admin", Role.ADMIN), User("ana"), User("ben"), User("vic", Role.VIEWER)


def test_normal_decisions_are_in_place_logged_and_version_checked(study):
    store = study.store
    s = study.suggestion("group1.txt", 1, "administrative_burden")
    accepted = decisions.decide(store, int(s.id), "accept", actor=ANA, expected_version=int(s.version))
    assert (accepted.status, accepted.decided_by, accepted.version) == ("accepted", "ana", 2)
    with pytest.raises(ConflictError) as caught:
        decisions.decide(store, int(s.id), "reject", actor=BEN, expected_version=int(s.version))
    assert caught.value.current["status"] == "accepted" and caught.value.current["decided_by"] == "ana"
    events = store.events_df("coding", int(s.id))
    events = events[events["action"].isin(["accept", "reject"])]
    assert list(zip(events["action"], events["outcome"], events["user"], strict=True)) == [
        ("reject", "conflict", "ben"), ("accept", "ok", "ana")]
    assert events.iloc[1]["old"]["status"] == "suggested" and events.iloc[1]["new"]["status"] == "accepted"

    w = study.suggestion("group1.txt", 2, "workload")
    decisions.decide(store, int(w.id), "change", actor=ANA, code_id="emotional_exhaustion")
    rows = store.codings_df(source="group1.txt")
    rows = rows[rows["segment_id"] == w.segment_id]
    assert set(zip(rows["code_id"], rows["status"], strict=True)) == {("workload", "rejected"),
                                                                       ("emotional_exhaustion", "accepted")}
    with pytest.raises(InvalidInput, match="unknown code"):
        decisions.decide(store, int(study.suggestion("group1.txt", 3, "emotional_exhaustion").id), "change",
                      actor=ANA, code_id="nope")

    e = study.suggestion("group1.txt", 3, "emotional_exhaustion")
    text, base = e.segment_text, int(e.segment_start)
    start, end = locate_passage(text, base, "completely drained")
    adjusted = decisions.decide(store, int(e.id), "span", actor=ANA, start=start, end=end)
    assert adjusted.status == "accepted"
    source_text = store.source("group1.txt").text
    assert source_text[adjusted.start:adjusted.end] == "completely drained"


def test_viewers_change_nothing(study):
    store = study.store
    s = study.suggestion("group1.txt", 1, "administrative_burden")
    seg = study.segment("group1.txt", 1)
    with pytest.raises(PermissionDenied):
        decisions.decide(store, int(s.id), "accept", actor=VIC)
    with pytest.raises(PermissionDenied):
        decisions.add_code(store, int(seg["id"]), "workload", actor=VIC)
    with pytest.raises(PermissionDenied):
        decisions.write_memo(store, "note", actor=VIC, segment_id=int(seg["id"]))
    with pytest.raises(PermissionDenied):
        codebook_edits.update_code(store, "workload", actor=VIC, definition="x")
    with pytest.raises(PermissionDenied):
        codebook_edits.update_code(store, "workload", actor=ANA, definition="x")  # a coder needs permission
    assert store.coding(int(s.id)).status == "suggested"


def test_add_code_and_memo(study):
    store = study.store
    seg = study.segment("group2.txt", 1)
    start, end = locate_passage(seg["text"], int(seg["start"]), "go for a run")
    coding = decisions.add_code(store, int(seg["id"]), "individual_coping", actor=ANA, start=start, end=end)
    stored = store.coding(coding.id)
    assert (stored.origin, stored.status, stored.coder) == ("human", "accepted", "ana")
    assert store.source("group2.txt").text[stored.start:stored.end] == "go for a run"
    memo = decisions.write_memo(store, "coping through exercise", actor=ANA, segment_id=int(seg["id"]))
    assert store.memos_df()["text"].tolist() == ["coping through exercise"] and memo.author == "ana"


def test_what_a_coding_call_returns_is_what_was_stored_and_bad_calls_say_why(study):
    """Found by a stranger: a start without an end returned end=None; a memo on a code that does not exist was kept."""

    store = study.store
    seg = study.segment("group2.txt", 1)
    start, end = int(seg["start"]), int(seg["end"])
    coding = decisions.add_code(store, int(seg["id"]), "individual_coping", actor=ANA, start=start + 3)
    stored = store.coding(coding.id)
    assert (coding.start, coding.end) == (stored.start, stored.end) == (start + 3, end)
    with pytest.raises(StoreError, match=r"ends before it starts\. Fix: give an end after the start"):
        decisions.add_code(store, int(seg["id"]), "workload", actor=ANA, start=start + 9, end=start + 4)
    with pytest.raises(StoreError, match=f"span {start + 4}:{start + 4} is empty"):
        decisions.add_code(store, int(seg["id"]), "workload", actor=ANA, start=start + 4, end=start + 4)
    with pytest.raises(InvalidInput, match="unknown code 'nosuch'"):
        decisions.write_memo(store, "x", actor=ANA, code_id="nosuch")
    with pytest.raises(InvalidInput, match="no segment 99999"):
        decisions.write_memo(store, "x", actor=ANA, segment_id=99999)
    assert store.memos_df().empty
    with pytest.raises(StoreError, match=r"no coding 99999 .*Fix: use an id from project\.codings"):
        decisions.decide(store, 99999, "accept", actor=ANA)


def test_a_memo_can_be_edited_deleted_and_brought_back_by_its_author(study):
    """Every human action can be undone: a memo's typo corrected, a memo on the wrong turn deleted and restored."""
    store = study.store
    seg = study.segment("group1.txt", 2)
    memo = decisions.write_memo(store, "evry group mentions rotas", actor=ANA, segment_id=int(seg["id"]))
    edited = decisions.edit_memo(store, memo.id, "every group mentions rotas", actor=ANA, expected_version=1)
    assert (edited["text"], edited["version"]) == ("every group mentions rotas", 2)
    with pytest.raises(ConflictError) as stale:  # a second tab still showing version 1
        decisions.edit_memo(store, memo.id, "overwritten", actor=ANA, expected_version=1)
    assert stale.value.current["text"] == "every group mentions rotas"
    with pytest.raises(PermissionDenied, match="only its author may edit"):
        decisions.edit_memo(store, memo.id, "ben's words", actor=BEN)
    with pytest.raises(PermissionDenied):
        decisions.delete_memo(store, memo.id, actor=BEN)
    with pytest.raises(InvalidInput, match="empty"):
        decisions.edit_memo(store, memo.id, "  ", actor=ANA)

    decisions.delete_memo(store, memo.id, actor=ANA, expected_version=2)
    assert store.memos_df().empty and len(store.memos_df(withdrawn=True)) == 1
    with pytest.raises(InvalidInput, match="deleted"):
        decisions.edit_memo(store, memo.id, "x", actor=ANA)
    restored = decisions.restore_memo(store, memo.id, actor=ADMIN)  # an administrator may bring it back
    assert restored["withdrawn_at"] is None and store.memos_df()["text"].tolist() == ["every group mentions rotas"]
    events = store.events_df("memo", memo.id)
    assert list(zip(events["action"], events["user"], events["outcome"], strict=True)) == [
        ("restore", "admin", "ok"), ("delete", "ana", "ok"), ("update", "ana", "conflict"), ("update", "ana", "ok"),
        ("create", "ana", "ok")]
    assert events.iloc[3]["old"] == {"text": "evry group mentions rotas"}


def test_a_deleted_memo_does_not_keep_its_transcript_from_being_removed(study):
    store = study.store
    seg = study.segment("group2.txt", 1)
    memo = decisions.write_memo(store, "wrong transcript", actor=ANA, segment_id=int(seg["id"]))
    with pytest.raises(StoreError, match="1 memos"):
        store.remove_source("group2.txt", user="admin")
    decisions.delete_memo(store, memo.id, actor=ANA)
    assert "1 memos" not in _removal_refusal(store, "group2.txt")


def _removal_refusal(store, name: str) -> str:
    try:
        store.remove_source(name, user="admin")
    except StoreError as error:  # refused for the decisions on it, if any
        return str(error)
    return ""


def test_the_same_code_on_the_same_words_is_refused_not_stored_twice(study):
    """Seen by a new researcher: Enter on a code chip, or Change to a code the words already carry, made a copy."""
    store = study.store
    seg = study.segment("group2.txt", 1)
    start, end = locate_passage(seg["text"], int(seg["start"]), "go for a run")
    first = decisions.add_code(store, int(seg["id"]), "individual_coping", actor=ANA, start=start, end=end)
    before = len(store.codings_df())
    with pytest.raises(InvalidInput, match=r"“go for a run” is already coded individual_coping \(coding \d+\)"):
        decisions.add_code(store, int(seg["id"]), "individual_coping", actor=BEN, start=start, end=end)
    with pytest.raises(InvalidInput, match="already coded"):  # one turn of a selection across turns refuses all
        decisions.add_codes(store, [(int(study.segment("group2.txt", 3)["id"]), None, None),
                                    (int(seg["id"]), start, end)], "individual_coping", actor=ANA)
    assert len(store.codings_df()) == before
    assert decisions.add_code(store, int(seg["id"]), "individual_coping", actor=ANA, start=start,
                              end=end - 4).id != first.id  # other words: a coding of its own
    suggestion = study.suggestion("group1.txt", 1, "administrative_burden")
    whole = decisions.add_code(store, int(suggestion.segment_id), "workload", actor=ANA,
                               start=suggestion.start, end=suggestion.end)
    with pytest.raises(InvalidInput, match="already coded workload"):
        decisions.decide(store, int(suggestion.id), "change", actor=ANA, code_id="workload",
                         expected_version=suggestion.version)
    assert store.coding(suggestion.id).status == "suggested" and store.coding(whole.id).status == "accepted"


def test_queue_order_and_bulk_accept_with_conflict(study):
    store = study.store
    frame, total = decisions.review_queue(store, actor=ANA, limit=3)
    assert total == 8 and len(frame) == 3
    scores = frame["score"].tolist()
    assert scores == sorted(scores, key=lambda s: abs(s - 0.5))
    preview = decisions.bulk_accept(store, 0.85, actor=ANA, preview=True)
    assert sorted(preview["score"].tolist()) == [0.88, 0.92, 0.97]
    first = preview.iloc[0]
    decisions.decide(store, int(first.id), "reject", actor=BEN)  # someone else decides one meanwhile
    results = decisions.accept_many(store, list(zip(preview["id"], preview["version"], strict=True)), actor=ANA)
    assert sorted(results.values()) == ["accepted", "accepted", "conflict"]
    assert store.coding(int(first.id)).status == "rejected"  # not overwritten
    bulk_events = store.events_df("coding")
    assert set(bulk_events.loc[bulk_events["action"] == "bulk-accept", "outcome"]) == {"ok", "conflict"}


def test_racing_threads_exactly_one_wins(study):
    store = study.store
    target = study.suggestion("group2.txt", 2, "emotional_exhaustion")
    coding_id, version = int(target.id), int(target.version)
    people = [User(name) for name in ("ana", "ben", "admin", "cy", "dee", "eve")]
    barrier = threading.Barrier(len(people))
    outcomes: dict[str, str] = {}

    def decide(user: User) -> None:
        barrier.wait()
        try:
            decisions.decide(store, coding_id, "accept" if user.name < "c" else "reject", actor=user,
                          expected_version=version)
            outcomes[user.name] = "won"
        except ConflictError as error:
            assert error.current["version"] == version + 1
            outcomes[user.name] = "told"

    threads = [threading.Thread(target=decide, args=(user,)) for user in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes.values()) == ["told"] * 5 + ["won"]
    winner = next(name for name, outcome in outcomes.items() if outcome == "won")
    stored = store.coding(coding_id)
    assert stored.decided_by == winner and stored.version == version + 1
    events = store.events_df("coding", coding_id)
    events = events[events["action"].isin(["accept", "reject"])]
    assert len(events) == len(people)
    assert (events["outcome"] == "ok").sum() == 1 and set(events.loc[events["outcome"] == "ok", "user"]) == {winner}


def test_ranking_comes_from_the_function_given(study):
    store = study.store
    pending = store.codings_df(status="suggested")
    asked = []

    def rank(n):
        asked.append(n)
        return pd.DataFrame({"id": pending["id"][::-1].tolist(), "priority": [1.0 - i / 10 for i in range(len(pending))]})

    ranking = decisions.rank_suggestions(store, rank)
    assert asked == [len(pending)] and next(iter(ranking)) == int(pending["id"].iloc[-1])
    frame, total = decisions.review_queue(store, actor=ANA, limit=2, ranking=ranking)
    assert total == len(pending) and frame["id"].tolist() == list(ranking)[:2]
    assert decisions.rank_suggestions(store, lambda n: pending.head(0).assign(priority=[])) == {}


def test_segments_under_review_and_coding_history(study):
    store = study.store
    under = decisions.segments_under_review(store)
    assert set(store.segments_df()["id"]) == set(under)
    s = study.suggestion("group2.txt", 2, "workload")
    changed = decisions.decide(store, int(s.id), "change", actor=ANA, code_id="emotional_exhaustion")
    history = decisions.coding_history(store, int(s.id), viewer="ben")
    assert {(int(e), a) for e, a in zip(history["entity_id"], history["action"], strict=True)} >= {
        (int(s.id), "change"), (changed.id, "change")}
    assert history["id"].is_monotonic_decreasing


def test_a_category_is_not_coded_by_hand_nor_chosen_in_a_change(study):
    """A stranger coded the category 'sources' by hand: it was accepted and counted as a code of its own."""
    store = study.store
    seg = study.segment("group2.txt", 1)
    before = len(store.codings_df())
    with pytest.raises(InvalidInput, match="'systemic_drivers' is a category of the codebook") as caught:
        decisions.add_code(store, int(seg["id"]), "systemic_drivers", actor=ANA)
    assert "code one of the codes it groups (" in str(caught.value)
    suggestion = study.suggestion("group1.txt", 1, "administrative_burden")
    with pytest.raises(InvalidInput, match="is a category"):
        decisions.decide(store, int(suggestion.id), "change", actor=ANA, code_id="systemic_drivers")
    assert len(store.codings_df()) == before and store.coding(suggestion.id).status == "suggested"


def test_a_code_named_instead_of_its_id_is_refused_with_the_id(study):
    seg = study.segment("group2.txt", 1)
    with pytest.raises(InvalidInput, match="'individual_coping' is the id of the code named 'Individual coping'"):
        decisions.add_code(study.store, int(seg["id"]), "Individual coping", actor=ANA)
    with pytest.raises(InvalidInput, match="did you mean 'workload'"):
        decisions.add_code(study.store, int(seg["id"]), "workloda", actor=ANA)


def test_deciding_a_coding_as_it_already_is_is_refused_and_undo_takes_back_the_real_last_action(study):
    """A stranger's second reject of a rejected coding was logged; the next undo took back that no-op."""
    store = study.store
    first = study.suggestion("group1.txt", 1, "administrative_burden")
    decisions.decide(store, int(first.id), "reject", actor=ANA)
    second = study.suggestion("group1.txt", 2, "workload")
    decisions.decide(store, int(second.id), "accept", actor=ANA)
    events = len(store.events_df("coding"))
    with pytest.raises(InvalidInput, match=rf"coding {first.id} is already rejected \(by ana\); nothing changed"):
        decisions.decide(store, int(first.id), "reject", actor=ANA)
    assert len(store.events_df("coding")) == events
    assert decisions.last_decision(store, actor=ANA)[0] == int(second.id)


def _imported_hand_code(store, suggestion):
    """ana's hand code of a suggestion's very words, as an import of her codings stores it (beside the suggestion)."""
    from qualkit.model import Coding

    [hand_id] = store.add_codings([Coding(segment_id=int(suggestion.segment_id), code_id=suggestion.code_id,
                                       origin="human", status="accepted", coder="ana", decided_by="ana",
                                       start=int(suggestion.start), end=int(suggestion.end))],
                               user="ana", action="code")
    return store.coding(hand_id)


def test_coding_a_suggestions_very_words_by_hand_accepts_the_suggestion(study):
    """A stranger coded a suggestion's words by hand: the suggestion stayed in the queue, asking about them again."""
    store = study.store
    s = study.suggestion("group1.txt", 1, "administrative_burden")
    coded = decisions.add_code(store, int(s.segment_id), "administrative_burden", actor=ANA, start=s.start, end=s.end)
    assert (coded.id, coded.status, coded.decided_by) == (s.id, "accepted", "ana")
    same = store.codings_df(code_id="administrative_burden", segment_ids=[int(s.segment_id)])
    assert same["status"].tolist() == ["accepted"]  # one row: the words count once
    undone = decisions.revert_decision(store, int(s.id), expected_version=int(coded.version), actor=ANA)
    assert undone.status == "suggested"
    other_words = decisions.add_code(store, int(s.segment_id), "administrative_burden", actor=ANA,
                                     start=s.start, end=s.start + 4)
    assert other_words.origin == "human" and store.coding(s.id).status == "suggested"


def test_a_suggestion_on_words_already_coded_so_by_hand_is_not_accepted_a_second_time(study):
    """A stranger coded a suggestion's words by hand, then accepted the suggestion: two rows, exported twice."""
    store = study.store
    s = study.suggestion("group1.txt", 1, "administrative_burden")
    hand = _imported_hand_code(store, s)
    with pytest.raises(InvalidInput, match=rf"already coded administrative_burden \(coding {hand.id}\).*reject this"):
        decisions.decide(store, int(s.id), "accept", actor=BEN, expected_version=int(s.version))
    assert store.coding(s.id).status == "suggested"
    assert decisions.decide(store, int(s.id), "reject", actor=BEN).status == "rejected"


def test_accepting_many_skips_a_suggestion_whose_words_carry_its_code_already(study):
    store = study.store
    s = study.suggestion("group1.txt", 1, "administrative_burden")
    other = study.suggestion("group1.txt", 2, "workload")
    _imported_hand_code(store, s)
    results = decisions.accept_many(store, [(int(s.id), int(s.version)), (int(other.id), int(other.version))],
                                    actor=BEN)
    assert results == {int(s.id): "already coded", int(other.id): "accepted"}
    assert store.coding(s.id).status == "suggested"


def test_a_stale_version_of_ones_own_change_says_you_not_ones_name(study):
    """A stranger read "Not saved: coding 33 was changed by me (…) after you loaded version 1", about herself."""
    store = study.store
    s = study.suggestion("group1.txt", 1, "administrative_burden")
    decisions.decide(store, int(s.id), "reject", actor=ANA, expected_version=int(s.version))
    with pytest.raises(ConflictError, match=r"was changed by you a moment ago or in another tab \(now "):
        decisions.decide(store, int(s.id), "accept", actor=ANA, expected_version=int(s.version))
    with pytest.raises(ConflictError, match=r"was changed by ana \(now "):
        decisions.decide(store, int(s.id), "accept", actor=BEN, expected_version=int(s.version))


def test_a_change_to_a_code_suggested_on_the_same_words_leaves_no_card_asking_about_them_again(study):
    """A stranger changed a card to a code the machine also suggested on those words: that suggestion stayed in
    the queue, accepting it was refused as coded already, and the fix told her to reject it (a false "no")."""

    store = study.store
    workload = study.suggestion("group2.txt", 2, "workload")
    twin = study.suggestion("group2.txt", 2, "emotional_exhaustion")
    assert (twin.start, twin.end) == (workload.start, workload.end)
    new = decisions.decide(store, int(workload.id), "change", actor=ANA, code_id="emotional_exhaustion",
                           expected_version=int(workload.version))
    pending, _ = decisions.review_queue(store, actor=ANA, limit=100)
    assert int(twin.id) not in set(pending["id"]) and store.coding(new.id).status == "accepted"
    # A card of it still on someone's screen says what happened: ana's change, not a retrain.
    with pytest.raises(SuggestionWithdrawn, match=r"no longer there: ana withdrew it \(coded the same words by a ch"):
        store.coding(int(twin.id))
    assert store.events_df("coding").iloc[0]["old"]["why"].startswith("coded the same words by a change")
