"""Undo: every decision is taken back as a NEW event, version-checked, nothing deleted, blind rules kept.

Runs on SQLite and on the real PostgreSQL server (the mini study on ``db_url``).
"""

from __future__ import annotations

import pytest

from qualkit.errors import ConflictError, InvalidInput, PermissionDenied
from qualkit.project import Project
from qualkit.review import decisions, double_coding
from qualkit.spans import locate_passage
from qualkit.users import Role, User

ADMIN, ANA, BEN, VIC = User("admin", Role.ADMIN), User("ana"), User("ben"), User("vic", Role.VIEWER)


def _queue_ids(store, actor):
    frame, _ = decisions.review_queue(store, actor=actor, limit=100)
    return set(int(i) for i in frame["id"])


def test_undo_accept_and_reject_puts_the_card_back_as_a_new_event(study):
    store = study.store
    s = study.suggestion("group1.txt", 1, "administrative_burden")
    rows_before = len(store.codings_df())
    accepted = decisions.decide(store, int(s.id), "accept", actor=ANA, expected_version=int(s.version))
    assert int(s.id) not in _queue_ids(store, ANA)
    back = decisions.revert_decision(store, int(s.id), expected_version=accepted.version, actor=ANA)
    assert (back.status, back.decided_by, back.version) == ("suggested", None, accepted.version + 1)
    assert int(s.id) in _queue_ids(store, ANA)  # the card is back in the queue
    events = store.events_df("coding", int(s.id))
    assert events["action"].tolist()[:2] == ["revert", "accept"]  # both on record, newest first
    revert = events.iloc[0]
    assert revert["user"] == "ana" and revert["old"]["status"] == "accepted" and revert["new"]["status"] == "suggested"
    assert revert["new"]["reverts_event"] == int(events.iloc[1]["id"])
    assert len(store.codings_df()) == rows_before  # nothing deleted, nothing added

    rejected = decisions.decide(store, int(s.id), "reject", actor=BEN, expected_version=back.version)
    assert decisions.revert_decision(store, int(s.id), expected_version=rejected.version, actor=BEN).status == "suggested"
    # undoing an undo redoes
    again = decisions.revert_decision(store, int(s.id), expected_version=rejected.version + 1, actor=BEN)
    assert (again.status, again.decided_by) == ("rejected", "ben")


def test_undo_span_change_and_hand_coding(study):
    store = study.store
    e = study.suggestion("group1.txt", 3, "emotional_exhaustion")
    start, end = locate_passage(e.segment_text, int(e.segment_start), "completely drained")
    adjusted = decisions.decide(store, int(e.id), "span", actor=ANA, start=start, end=end)
    restored = decisions.revert_decision(store, int(e.id), expected_version=adjusted.version, actor=ANA)
    assert (restored.status, restored.start, restored.end) == ("suggested", int(e.start), int(e.end))

    w = study.suggestion("group1.txt", 2, "workload")
    new = decisions.decide(store, int(w.id), "change", actor=ANA, code_id="emotional_exhaustion")
    assert store.coding(int(w.id)).status == "rejected"
    decisions.revert_decision(store, new.id, expected_version=new.version, actor=ANA)  # from the new code's row
    assert store.coding(int(w.id)).status == "suggested"  # the suggestion is pending again
    assert store.coding(new.id).status == "rejected"  # the new code's row stays on record
    assert int(w.id) in _queue_ids(store, ANA)

    seg = study.segment("group2.txt", 1)
    coded = decisions.add_code(store, int(seg["id"]), "individual_coping", actor=ANA)
    removed = decisions.revert_decision(store, coded.id, expected_version=coded.version, actor=ANA)
    assert removed.status == "rejected" and store.coding(coded.id).origin == "human"


def test_undo_is_version_checked_and_viewers_are_refused(study):
    store = study.store
    s = study.suggestion("group2.txt", 2, "emotional_exhaustion")
    accepted = decisions.decide(store, int(s.id), "accept", actor=ANA)
    with pytest.raises(PermissionDenied):
        decisions.revert_decision(store, int(s.id), expected_version=accepted.version, actor=VIC)
    with pytest.raises(ConflictError, match="nothing was undone"):
        decisions.revert_decision(store, int(s.id), expected_version=accepted.version - 1, actor=ANA)
    assert store.coding(int(s.id)).status == "accepted"
    other = study.suggestion("group2.txt", 2, "workload")
    with pytest.raises(InvalidInput, match="no decision to undo"):
        decisions.revert_decision(store, int(other.id), expected_version=int(other.version), actor=ANA)
    assert store.coding(int(other.id)).status == "suggested"


def test_project_undo_takes_back_the_users_newest_standing_decision(study):
    store = study.store
    project = Project(store, user="ana")
    first = study.suggestion("group1.txt", 1, "administrative_burden")
    second = study.suggestion("group1.txt", 2, "workload")
    project.accept(int(first.id))
    project.reject(int(second.id))
    assert project.undo().id == int(second.id)
    assert store.coding(int(second.id)).status == "suggested"
    assert project.undo().id == int(first.id)  # the stack goes on: the next newest decision
    assert store.coding(int(first.id)).status == "suggested"
    assert project.undo() is None  # reverts are not themselves undone by undo
    third = study.suggestion("group2.txt", 2, "workload")
    project.accept(int(third.id))
    assert project.revert(int(third.id)).status == "suggested"


def test_blind_undo_keeps_the_rules(blind):
    store = blind.store
    peer = blind.peer
    own = store.codings_df(origin="human")
    ana_row = own[(own["coder"] == "ana") & (own["parent_id"] == peer.id)].iloc[0]
    ben_row = own[(own["coder"] == "ben") & (own["parent_id"] == peer.id)].iloc[0]
    assert int(peer.id) not in _queue_ids(store, ANA)
    # ana cannot undo ben's hidden judgement, nor decide on the shared suggestion itself
    with pytest.raises(PermissionDenied, match="only your own"):
        decisions.revert_decision(store, int(ben_row.id), expected_version=int(ben_row.version), actor=ANA)
    with pytest.raises(PermissionDenied):
        decisions.revert_decision(store, int(peer.id), expected_version=int(peer.version), actor=ANA)
    back = decisions.revert_decision(store, int(ana_row.id), expected_version=int(ana_row.version), actor=ANA)
    assert (back.status, back.decided_by) == ("suggested", None)  # not judged: neither yes nor no
    assert int(peer.id) in _queue_ids(store, ANA)  # the card is back in ana's queue
    assert int(peer.id) not in _queue_ids(store, BEN)  # ben's own judgement stands
    assert store.coding(int(ben_row.id)).status == "accepted" and store.coding(int(peer.id)).status == "suggested"
    # deciding again updates the same own row
    decisions.decide(store, int(peer.id), "accept", actor=ANA)
    assert store.coding(int(ana_row.id)).status == "accepted"
    # ben does not see ana's undo in the history
    history = decisions.coding_history(store, int(peer.id), viewer="ben")
    assert "ana" not in set(history["user"])
    # once done, the transcript is closed to undo too
    double_coding.mark_done(store, "group1.txt", actor=ANA)
    row = store.coding(int(ana_row.id))
    with pytest.raises(PermissionDenied, match="done"):
        decisions.revert_decision(store, row.id, expected_version=row.version, actor=ANA)


def test_blind_change_undoes_both_own_rows(blind):
    store = blind.store
    w = blind.suggestion("group1.txt", 2, "workload")
    new = decisions.decide(store, int(w.id), "change", actor=ANA, code_id="emotional_exhaustion")
    mine = store.codings_df(origin="human", coder="ana")
    mine = mine[mine["parent_id"] == w.id]
    assert set(zip(mine["code_id"], mine["status"], strict=True)) == {("workload", "rejected"),
                                                                       ("emotional_exhaustion", "accepted")}
    decisions.revert_decision(store, new.id, expected_version=new.version, actor=ANA)
    mine = store.codings_df(origin="human", coder="ana")
    mine = mine[mine["parent_id"] == w.id]
    # the judgement of the suggestion is "not judged yet"; the new code's row is taken back by its coder (as a
    # hand code removed is), not a suggestion awaiting review that no queue shows
    assert set(zip(mine["code_id"], mine["status"], mine["decided_by"].fillna(""), strict=True)) == {
        ("workload", "suggested", ""), ("emotional_exhaustion", "rejected", "ana")}
    assert int(w.id) in _queue_ids(store, ANA)


def test_undo_goes_back_step_by_step_on_one_coding(study):
    """Adjust, then remove, then undo twice: the remove and then the adjustment are taken back (the second undo
    went to an older decision on another coding, and the adjustment could not be undone at all)."""
    project = Project.open(study.url, user="ana")
    other = study.suggestion("group1.txt", 4, "peer_support")
    decisions.decide(study.store, int(other.id), "reject", actor=ANA, expected_version=int(other.version))
    seg = study.segment("group2.txt", 1)
    coded = project.code(int(seg["id"]), "individual_coping")
    start, end = int(coded.start), int(coded.start) + 10
    project.adjust(coded.id, start, end)
    project.reject(coded.id)  # "remove" on the Transcript page
    assert project.undo().status == "accepted"  # the remove taken back, the adjusted extent kept
    assert (study.store.coding(coded.id).start, study.store.coding(coded.id).end) == (start, end)
    back = project.undo()  # then the adjustment
    assert (back.id, back.status, back.start, back.end) == (coded.id, "accepted", int(coded.start), int(coded.end))
    assert study.store.coding(int(other.id)).status == "rejected"  # the older decision elsewhere still stands
    assert project.undo().status == "rejected"  # then the hand code itself, withdrawn and kept on record
    assert project.undo().status == "suggested" and study.store.coding(int(other.id)).status == "suggested"
    assert project.undo() is None


def test_a_hand_code_undone_is_no_judgement_in_reliability(study):
    """A stranger accepted a suggestion, hand-coded a few words of the same turn with the same code and undid that
    mis-click: reliability then counted her "no" on the turn (n 0, kappa 0) though her accept stood."""
    store = study.store
    s = study.suggestion("group1.txt", 2, "workload")
    decisions.decide(store, int(s.id), "accept", actor=ANA, expected_version=int(s.version))
    start, end = locate_passage(s.segment_text, int(s.segment_start), "short-staffed")
    slip = decisions.add_code(store, int(s.segment_id), "workload", actor=ANA, start=start, end=end)
    decisions.revert_decision(store, slip.id, expected_version=slip.version, actor=ANA)  # the mis-click undone
    assert store.coding(slip.id).status == "rejected"  # kept on record
    start, end = locate_passage(s.segment_text, int(s.segment_start), "double the patients")
    decisions.add_code(store, int(s.segment_id), "workload", actor=BEN, start=start, end=end)
    result = Project.open(study.url, user="admin").reliability(["ana", "ben"], codes=["workload"], n_boot=0)
    row = result.per_code.set_index("code_id").loc["workload"]
    assert row[["n_ana", "n_ben"]].tolist() == [1, 1] and result.disagreements.empty


def test_a_hand_code_undone_lets_the_suggestion_it_replaced_come_back(study):
    """A stranger hand-coded a few words of a turn the machine had suggested the same code for; the retrain withdrew
    the suggestion, and undoing her hand code left the turn with no code and no suggestion at all."""
    from qualkit.model import Coding

    store = study.store
    s = study.suggestion("group1.txt", 5, "administrative_burden")
    start, end = locate_passage(s.segment_text, int(s.segment_start), "paperwork")
    hand = decisions.add_code(store, int(s.segment_id), "administrative_burden", actor=ANA, start=start, end=end)
    again = Coding(int(s.segment_id), "administrative_burden", "rules", score=0.5)
    store.replace_suggestions([], segment_ids=[int(s.segment_id)])  # the retrain after the hand code withdraws it
    assert store.codings_df(status="suggested", segment_ids=[int(s.segment_id)]).empty
    decisions.revert_decision(store, hand.id, expected_version=hand.version, actor=ANA)
    store.replace_suggestions([again], segment_ids=[int(s.segment_id)])  # the retrain after the undo
    pending = store.codings_df(status="suggested", segment_ids=[int(s.segment_id)])
    assert pending["code_id"].tolist() == ["administrative_burden"]


def _counts_everywhere(store, user="ana"):
    """What each table says of the study's codings: the Study page, project.codings(), the codings sheet, the report."""
    import re

    from qualkit.export.report import methods_paragraph
    from qualkit.export.tables import tidy_codings
    from qualkit.review.visibility import code_counts

    study_page = code_counts(store, viewer=user)
    codings = Project(store, user=user).codings()
    sheet = tidy_codings(store)["status"].value_counts()
    text = methods_paragraph(store, store.codebook(), store.codings_df(), store.segments_df(), by=None,
                             include_suggested=False)
    said = re.search(r"(\d+) suggestions? awaiting review and (\d+) rejected coding", text)
    taken_back = re.search(r"(\d+) codings? taken back", text)
    return {
        "study page": (int(study_page["suggested"].sum()), int(study_page["rejected"].sum())),
        "project.codings()": (int(((codings["status"] == "rejected") & ~codings["removed"]).sum()),
                              int(codings["removed"].sum())),
        "codings sheet": (int(sheet.get("rejected", 0)), int(sheet.get("removed", 0))),
        "report": (int(said.group(1)), int(said.group(2)), int(taken_back.group(1)) if taken_back else 0),
    }


def test_an_undone_change_restores_the_suggestion_and_every_table_agrees(study):
    """F's study: after undoing a "Change" the Study page said "Rejected 5" where the report said 4 rejected and
    one hand coding removed: the new code's row, taken back by the undo, was counted as a rejection."""
    store = study.store
    for turn, code in ((1, "administrative_burden"), (4, "peer_support"), (5, "administrative_burden")):
        s = study.suggestion("group1.txt", turn, code)
        decisions.decide(store, int(s.id), "reject", actor=ANA, expected_version=int(s.version))
    w = study.suggestion("group1.txt", 2, "workload")
    before = _counts_everywhere(store)
    new = decisions.decide(store, int(w.id), "change", actor=ANA, code_id="emotional_exhaustion",
                           expected_version=int(w.version))
    decisions.revert_decision(store, new.id, expected_version=new.version, actor=ANA)
    back = store.coding(int(w.id))
    assert (back.status, back.decided_by, back.code_id) == ("suggested", None, "workload")
    assert int(w.id) in _queue_ids(store, ANA)
    counts = _counts_everywhere(store)
    assert counts["study page"] == before["study page"] == (5, 3)  # 3 rejections, not 4
    assert counts["project.codings()"] == counts["codings sheet"] == (3, 1)  # the new row: taken back, on record
    assert counts["report"] == (5, 3, 1)
    # the undo is an event of its own, with who and when; the change stays on record
    events = store.events_df("coding", new.id)
    assert events["action"].tolist()[:2] == ["revert", "change"] and events["user"].iloc[0] == "ana"


def test_an_undone_blind_change_is_no_suggestion_awaiting_review(blind):
    """Undoing a blind "change" put the new code's own row back to "suggested": a suggestion no queue showed,
    counted as awaiting review on the Study page and in the report (9 where the queue had 8)."""
    store = blind.store
    w = blind.suggestion("group1.txt", 2, "workload")
    before = _counts_everywhere(store)
    queue_before = decisions.review_queue(store, actor=ANA, limit=100)[1]
    new = decisions.decide(store, int(w.id), "change", actor=ANA, code_id="emotional_exhaustion")
    decisions.revert_decision(store, new.id, expected_version=new.version, actor=ANA)
    assert decisions.review_queue(store, actor=ANA, limit=100)[1] == queue_before
    counts = _counts_everywhere(store)
    assert counts["study page"] == before["study page"]
    assert counts["report"][:2] == before["report"][:2] and counts["report"][2] == before["report"][2] + 1
    assert counts["project.codings()"][1] == counts["codings sheet"][1] == before["codings sheet"][1] + 1
    assert store.coding(new.id).status == "rejected" and store.coding(new.id).decided_by == "ana"


def test_undoing_a_change_puts_back_the_suggestion_it_withdrew_and_a_redo_withdraws_it_again(study):
    """A change to a code the machine also suggested on those words withdrew that suggestion; the undo left it
    gone, so the state before the change did not come back. Undoing the undo (from History) redid only half of
    the change: the new code accepted, and the suggestion it had rejected pending in the queue again."""
    store = study.store
    workload = study.suggestion("group2.txt", 2, "workload")
    exhausted = study.suggestion("group2.txt", 2, "emotional_exhaustion")
    before = store.codings_df().set_index("id")[["code_id", "status", "start", "end", "score", "version"]]
    new = decisions.decide(store, int(workload.id), "change", actor=ANA, code_id="emotional_exhaustion",
                           expected_version=int(workload.version))
    assert int(exhausted.id) not in set(store.codings_df()["id"])  # withdrawn: the words carry the code now
    decisions.revert_decision(store, new.id, expected_version=new.version, actor=ANA)
    after = store.codings_df().set_index("id")
    assert after.loc[int(exhausted.id), "score"] == exhausted.score  # back as it was, with its id
    assert after.loc[after.index != new.id, before.columns].drop(columns="version").equals(
        before.drop(columns="version"))
    assert {int(workload.id), int(exhausted.id)} <= _queue_ids(store, ANA)
    # undoing the undo does the change again, whole
    decisions.revert_decision(store, new.id, expected_version=store.coding(new.id).version, actor=ANA)
    assert (store.coding(new.id).status, store.coding(int(workload.id)).status) == ("accepted", "rejected")
    assert not {int(workload.id), int(exhausted.id)} & _queue_ids(store, ANA)
    # and undoing that takes it back whole again
    decisions.revert_decision(store, new.id, expected_version=store.coding(new.id).version, actor=ANA)
    assert (store.coding(new.id).status, store.coding(int(workload.id)).status) == ("rejected", "suggested")
    assert {int(workload.id), int(exhausted.id)} <= _queue_ids(store, ANA)
    assert store.events_df("coding")["action"].tolist().count("revert") >= 6  # every step on record
