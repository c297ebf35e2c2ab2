"""Review logic (qualkit.review): decisions, permissions, blind double-coding, disagreements, adjudication."""

from __future__ import annotations

import pytest

from qualkit.errors import ConflictError, InvalidInput, PermissionDenied
from qualkit.model import Code
from qualkit.review import codebook_edits, decisions, double_coding, visibility
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


def test_locate_passage():
    text = "The paperwork,\r\nthe paperwork never ends."
    assert locate_passage(text, 10, "paperwork") == (14, 23)
    assert locate_passage(text, 10, "paperwork", occurrence=2) == (30, 39)
    assert locate_passage(text, 0, "paperwork, the paperwork") == (4, 29)  # CRLF collapsed by a browser
    with pytest.raises(InvalidInput, match="not in this segment"):
        locate_passage(text, 0, "EHR")
    with pytest.raises(InvalidInput, match="occurs 2 times"):
        locate_passage(text, 0, "paperwork", occurrence=3)


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


def test_blind_double_coding_end_to_end(study):
    store = study.store
    with pytest.raises(PermissionDenied):
        double_coding.assign(store, "group1.txt", ["ana", "ben"], actor=ANA)
    assert double_coding.assign(store, "group1.txt", ["ana", "ben"], actor=ADMIN) == 2
    with pytest.raises(InvalidInput, match="may code"):
        double_coding.assign(store, "group1.txt", ["vic"], actor=ADMIN)
    burden = study.suggestion("group1.txt", 1, "administrative_burden")
    workload = study.suggestion("group1.txt", 2, "workload")
    peer = study.suggestion("group1.txt", 4, "peer_support")

    # Each coder's decisions are their own rows; the suggestion stays suggested.
    decisions.decide(store, int(burden.id), "accept", actor=ANA)
    decisions.decide(store, int(workload.id), "accept", actor=ANA)
    decisions.decide(store, int(peer.id), "reject", actor=ANA)
    decisions.decide(store, int(burden.id), "accept", actor=BEN)
    decisions.decide(store, int(workload.id), "change", actor=BEN, code_id="emotional_exhaustion")
    decisions.decide(store, int(peer.id), "accept", actor=BEN)
    assert store.coding(int(burden.id)).status == "suggested"
    mine = store.codings_df(coder="ana", origin="human")
    assert set(mine["parent_id"]) == {int(burden.id), int(workload.id), int(peer.id)}

    # A bystander cannot decide, and coders cannot see each other until both are done.
    with pytest.raises(PermissionDenied, match="coded blind by ana, ben"):
        decisions.decide(store, int(burden.id), "accept", actor=ADMIN)
    view = visibility.TeamView.load(store)
    visible = visibility.visible_codings(store.codings_df(source="group1.txt"), "ana", view)
    assert "ben" not in set(visible["coder"]) and "ben" not in set(visible["decided_by"].dropna())
    assert "ben" in set(visibility.visible_codings(store.codings_df(source="group1.txt"), "admin", view)["coder"])
    queue, _ = decisions.review_queue(store, actor=ANA, limit=50)
    judged = {int(burden.id), int(workload.id), int(peer.id)}
    assert not judged & set(queue["id"])  # judged suggestions leave ana's queue
    assert {int(burden.id), int(peer.id)} - set(decisions.review_queue(store, actor=VIC, limit=50)[0]["id"]) == {
        int(burden.id), int(peer.id)}  # and nobody else's
    with pytest.raises(PermissionDenied, match="not all done"):
        double_coding.judgements(store, "group1.txt", actor=ANA)

    double_coding.mark_done(store, "group1.txt", actor=ANA)
    with pytest.raises(PermissionDenied, match="marked this transcript done"):
        decisions.decide(store, int(burden.id), "reject", actor=ANA)
    with pytest.raises(PermissionDenied):
        double_coding.adjudicate(store, int(burden.segment_id), "administrative_burden", apply=True, actor=ANA)
    double_coding.mark_done(store, "group1.txt", actor=BEN)

    frame = double_coding.judgements(store, "group1.txt", actor=ANA)
    row = lambda code: frame[frame["code_id"] == code].iloc[0]  # noqa: E731
    assert (row("administrative_burden")["ana"], row("administrative_burden")["ben"]) == ("yes", "yes")
    assert (row("workload")["ana"], row("workload")["ben"]) == ("yes", "no")
    assert (row("emotional_exhaustion")["ana"], row("emotional_exhaustion")["ben"]) == ("-", "yes")
    assert (row("peer_support")["ana"], row("peer_support")["ben"]) == ("no", "yes")
    disagreements = double_coding.disagreements(store, "group1.txt", actor=ANA)
    assert set(disagreements["code_id"]) == {"workload", "emotional_exhaustion", "peer_support"}
    summary = double_coding.agreement_summary(frame, ["ana", "ben"])
    assert summary["disagreements"] == 3 and summary["judged"] == len(frame)

    # Adjudication records consensus and keeps both originals.
    before = store.codings_df(origin="human", coder=["ana", "ben"])
    settled = double_coding.adjudicate(store, int(peer.segment_id), "peer_support", apply=True, actor=ANA, note="debrief")
    assert (settled.status, settled.decided_by) == ("accepted", "consensus")
    assert store.coding(int(peer.id)).status == "accepted"  # the suggestion itself is decided
    after = store.codings_df(origin="human", coder=["ana", "ben"])
    assert before[["id", "status", "version"]].equals(after[["id", "status", "version"]])
    with pytest.raises(ConflictError, match="already settled"):
        double_coding.adjudicate(store, int(peer.segment_id), "peer_support", apply=False, actor=BEN)
    current = store.coding(settled.id)
    changed = double_coding.adjudicate(store, int(peer.segment_id), "peer_support", apply=False, actor=BEN,
                                expected={"id": current.id, "version": current.version})
    assert changed.status == "rejected"
    new_code = double_coding.adjudicate(store, int(workload.segment_id), "emotional_exhaustion", apply=True, actor=ADMIN)
    assert (new_code.coder, new_code.origin) == ("consensus", "human")
    assert double_coding.settle_agreements(store, "group1.txt", actor=ANA) >= 3
    pending = store.codings_df(source="group1.txt", status="suggested")
    assert pending["id"].tolist() == [int(workload.id)]  # only the open disagreement; untouched ones: not applied
    frame = double_coding.judgements(store, "group1.txt", actor=ANA)
    assert frame.loc[frame["agree"], "consensus"].notna().all()
    adjudications = store.events_df("coding")
    adjudications = adjudications[adjudications["action"] == "adjudicate"]
    assert {"ana", "ben", "admin"} <= set(adjudications["user"]) and "conflict" in set(adjudications["outcome"])
    with pytest.raises(PermissionDenied, match="finished"):
        decisions.decide(store, int(workload.id), "accept", actor=ANA)


def test_codebook_changes_make_versions_and_move_codings(study):
    store = study.store
    s = study.suggestion("group1.txt", 1, "administrative_burden")
    decisions.decide(store, int(s.id), "accept", actor=ANA)
    assert codebook_edits.update_code(store, "workload", actor=ADMIN, name="Workload and hours", note="clearer") == 2
    assert store.codebook()["workload"].name == "Workload and hours"
    assert codebook_edits.add_codebook_code(store, Code("paperwork", "Paperwork", parent="systemic_drivers"),
                                    actor=ADMIN) == 3
    with pytest.raises(InvalidInput, match="already exists"):
        codebook_edits.add_codebook_code(store, Code("paperwork", "Again"), actor=ADMIN)
    decisions.add_code(store, int(s.segment_id), "paperwork", actor=ANA)
    version, moved = codebook_edits.merge_codes(store, ["paperwork"], "administrative_burden", actor=ADMIN)
    assert (version, moved) == (4, 1) and "paperwork" not in store.codebook()
    assert "paperwork" not in set(store.codings_df()["code_id"])
    assert codebook_edits.split_code(store, "workload", [("hours", "Long hours"), ("staffing", "Understaffing")],
                             actor=ADMIN) == 5
    codebook = store.codebook()
    assert not codebook["workload"].codable and codebook["hours"].parent == "workload"
    assert store.codebook_versions()["version"].tolist() == [1, 2, 3, 4, 5]
    editor = User("ana", Role.CODER, codebook_editor=True)
    assert codebook_edits.update_code(store, "hours", actor=editor, definition="Shifts of 24 hours.") == 6
