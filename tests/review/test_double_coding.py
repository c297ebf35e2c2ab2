"""Blind double-coding: assignments, own rows, judgements, disagreements, adjudication, settling agreements.
"""

from __future__ import annotations

import pandas as pd
import pytest

from qualkit.errors import ConflictError, InvalidInput, PermissionDenied
from qualkit.review import decisions, double_coding, visibility
from qualkit.users import Role, User

ADMIN, ANA, BEN, VIC = User("admin", Role.ADMIN), User("ana"), User("ben"), User("vic", Role.VIEWER)


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
    with pytest.raises(PermissionDenied, match="ana, ben have not marked it done yet"):
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
    summary = double_coding.agreement_summary(frame)
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
    # settled "no": ben's own accepted row stays on record but no longer counts in the analyses and the report
    assert store.codings_df(origin="human", coder="ben", code_id="peer_support")["status"].tolist() == ["accepted"]
    counted = study.project.prevalence(by=None, rollup=False).table.set_index("code_id")
    before_peer = counted.loc["peer_support", "segments"] if "peer_support" in counted.index else 0
    double_coding.adjudicate(store, int(peer.segment_id), "peer_support", apply=True, actor=ANA,
                             expected={"id": changed.id, "version": changed.version})
    counted = study.project.prevalence(by=None, rollup=False).table.set_index("code_id")
    assert counted.loc["peer_support", "segments"] == before_peer + 1  # and a settled "yes" counts once
    changed = double_coding.adjudicate(store, int(peer.segment_id), "peer_support", apply=False, actor=BEN,
                                       expected={"id": changed.id, "version": changed.version + 1})
    # ... nor is it an exemplar quote of the code (seen in a team's Word report)
    assert int(peer.segment_id) not in set(study.project.quotes("peer_support", n=50)["segment_id"])
    with pytest.raises(InvalidInput, match="no code 'peer_suport' in the codebook"):
        study.project.quotes("peer_suport")
    new_code = double_coding.adjudicate(store, int(workload.segment_id), "emotional_exhaustion", apply=True, actor=ADMIN)
    assert (new_code.coder, new_code.origin) == ("consensus", "human")
    shown = double_coding.judgements(store, "group1.txt", actor=ANA)
    figures = double_coding.agreement_summary(shown)
    open_agreements = int((shown["agree"] & shown["consensus"].isna()).sum())
    recorded = double_coding.settle_agreements(store, "group1.txt", actor=ANA)
    assert len(recorded) == open_agreements >= 1
    # recording what the coders agreed on is no new agreement: the figures stay as they were
    after = double_coding.agreement_summary(double_coding.judgements(store, "group1.txt", actor=ANA))
    assert after == figures
    for coding in recorded:  # and each record can be taken back (the app's one Undo does this for all)
        double_coding.unsettle(store, int(coding.id), actor=ANA, expected_version=int(coding.version))
    again = double_coding.judgements(store, "group1.txt", actor=ANA)
    assert int((again["agree"] & again["consensus"].isna()).sum()) == open_agreements
    recorded = double_coding.settle_agreements(store, "group1.txt", actor=ANA)
    # The report says how the one disagreement still open (workload) is counted, and how many remain.
    from qualkit.export.report import collect_report

    texts = " ".join(b.text for b in collect_report(store, by=None, n_boot=0, figures=False).blocks if b.text)
    assert "1 disagreement between coders is not settled yet" in texts
    assert "3 segment-code disagreements, 1 of them not settled yet" in texts
    # ... and compares the two coders assigned, as the Reliability page does: consensus is no third coder
    assert "coded by ana (human), ben (human);" in texts and "consensus (human)" not in texts
    # Found by a stranger: recording the agreements also "settled" suggestions neither coder had seen, as
    # agreements, and the figures changed. They stay suggestions; only judged pairs are counted or settled.
    pending = store.codings_df(source="group1.txt", status="suggested")
    assert int(workload.id) in set(pending["id"])
    consensus = store.codings_df(source="group1.txt")
    consensus = consensus[consensus["decided_by"] == "consensus"]
    judged = double_coding.judgements(store, "group1.txt", actor=ANA)
    assert set(zip(consensus["segment_id"], consensus["code_id"], strict=True)) <= set(
        zip(judged["segment_id"], judged["code_id"], strict=True))
    frame = double_coding.judgements(store, "group1.txt", actor=ANA)
    assert frame.loc[frame["agree"], "consensus"].notna().all()
    adjudications = store.events_df("coding")
    adjudications = adjudications[adjudications["action"] == "adjudicate"]
    assert {"ana", "ben", "admin"} <= set(adjudications["user"]) and "conflict" in set(adjudications["outcome"])
    with pytest.raises(PermissionDenied, match="finished"):
        decisions.decide(store, int(workload.id), "accept", actor=ANA)


def test_assignments_are_listed_and_can_be_taken_back(study):
    store = study.store
    assert double_coding.assignments(store).empty
    double_coding.assign(store, "group2.txt", ["ana", "ben"], actor=ADMIN, blind=False)
    assert double_coding.assignments(store)[["source", "coder", "blind"]].values.tolist() == [
        ["group2.txt", "ana", False], ["group2.txt", "ben", False]]
    with pytest.raises(PermissionDenied):
        double_coding.unassign(store, "group2.txt", "ben", actor=ANA)
    double_coding.unassign(store, "group2.txt", "ben", actor=ADMIN)
    assert double_coding.assignments(store)["coder"].tolist() == ["ana"]
    with pytest.raises(InvalidInput, match="no transcript"):
        double_coding.assign(store, "group9.txt", ["ana"], actor=ADMIN)
    with pytest.raises(PermissionDenied):
        double_coding.mark_done(store, "group2.txt", actor=ANA, coder="ben")  # only an administrator, for others


def test_blind_coding_stays_independent_of_the_learned_coder(blind):
    """Seen by a team: the worker retrained on ana's blind decisions and removed a suggestion from ben's queue."""
    import qualkit as qk
    from qualkit.coding.workflow import attach_resources, blind_in_progress, judged_labels

    store = blind.store
    project = qk.Project(store, user="admin")
    attach_resources(project, embedder="lsa")
    group1 = int(store.source("group1.txt").id)
    assert blind_in_progress(store) == {group1}
    codes = [c.id for c in project.codebook.codable_codes]
    segment = int(blind.peer.segment_id)
    assert judged_labels(store, [segment], codes) == [None]  # neither coder's blind judgement teaches the model

    def suggestions_on_group1():
        rows = store.codings_df(status="suggested")
        rows = rows.loc[rows["source_id"] == group1]
        return sorted(zip(rows["id"], rows["version"], rows["code_id"], strict=True))

    before = suggestions_on_group1()
    project.autocode(progress=False, fine_tune=False)  # what the worker does after decisions elsewhere
    assert suggestions_on_group1() == before  # both coders judge the same suggestions

    double_coding.mark_done(store, "group1.txt", actor=ANA)
    double_coding.mark_done(store, "group1.txt", actor=BEN)
    assert blind_in_progress(store) == set()
    assert judged_labels(store, [segment], codes)[0] is not None  # once both are done, the decisions count

    # A transcript assigned blind that nobody has begun still gets suggestions to review.
    from qualkit.coding.workflow import untouched_segments

    double_coding.assign(store, "group2.txt", ["ana", "ben"], actor=ADMIN)
    group2 = set(store.segments_df(source="group2.txt")["id"].astype(int))
    assert not group2 & untouched_segments(store)
    # A finished one gets no new suggestions: nobody may decide them there (a team saw orphans on a settled
    # transcript, counted as awaiting review, with no card in any queue).
    finished = set(store.segments_df(source="group1.txt")["id"].astype(int))
    assert finished <= untouched_segments(store)
    before = suggestions_on_group1()
    project.autocode(progress=False, fine_tune=False)
    assert suggestions_on_group1() == before


def test_settling_an_agreement_keeps_both_coders_words(study):
    """Seen by a team: ana and ben coded different words of one turn alike; the consensus kept only ben's."""
    store = study.store
    double_coding.assign(store, "group1.txt", ["ana", "ben"], actor=ADMIN)
    segment = study.segment("group1.txt", 3)
    text, start = segment["text"], int(segment["start"])
    first, second = text.index("completely"), text.index("running")
    decisions.add_code(store, int(segment["id"]), "emotional_exhaustion", actor=ANA, start=start + first,
                       end=start + first + len("completely drained"))
    decisions.add_code(store, int(segment["id"]), "emotional_exhaustion", actor=BEN, start=start + second,
                       end=start + second + len("running on empty"))
    for coder in (ANA, BEN):
        double_coding.mark_done(store, "group1.txt", actor=coder)
    double_coding.settle_agreements(store, "group1.txt", actor=ADMIN)
    settled = store.codings_df(code_id="emotional_exhaustion", status="accepted")
    settled = settled[(settled["decided_by"] == "consensus") & (settled["segment_id"] == int(segment["id"]))]
    source = store.source("group1.txt").text
    assert source[int(settled["start"].iloc[0]):int(settled["end"].iloc[0])] == \
        "completely drained, running on empty"


def test_decisions_taken_before_a_blind_assignment_are_hidden_from_its_coders(study):
    """An administrator's earlier accept and memo on a transcript would anchor both blind coders: hidden until done."""
    store = study.store
    accepted = study.suggestion("group1.txt", 1, "administrative_burden")
    decisions.decide(store, int(accepted.id), "accept", actor=ADMIN)
    from qualkit.model import Memo

    store.add_memo(Memo("Admin thinks this is about the EHR.", author="admin", segment_id=int(accepted.segment_id)))
    assert double_coding.blind_note(store, "group1.txt", ["ana", "ben"]).startswith(" Decisions admin took on it")
    double_coding.assign(store, "group1.txt", ["ana", "ben"], actor=ADMIN)
    view = visibility.TeamView.load(store)
    assert view.hidden_map("ana") == {int(accepted.source_id): {"admin", "ben"}}
    rows = store.codings_df(source="group1.txt")
    # The admin's accept is not told: a blind coder sees the suggestion as it was before it, to judge afresh
    # (shown as "decided by admin (accepted)", with no buttons, it told them and blocked them).
    shown = visibility.visible_codings(rows, "ana", view).set_index("id")
    assert shown.loc[int(accepted.id), "status"] == "suggested" and pd.isna(shown.loc[int(accepted.id), "decided_by"])
    assert int(accepted.id) in set(visibility.visible_codings(rows, "admin", view)["id"])  # the admin sees all
    memos = store.memos_df()
    assert visibility.visible_memos(store, memos, "ana", view).empty and len(visibility.visible_memos(
        store, memos, "admin", view)) == 1
    # Found by a stranger: the suggestion decided before was not offered to the blind coders, so their
    # reliability figures covered only what was left over. Each judges it afresh, in their own row.
    for coder in (ANA, BEN):
        queue, _ = decisions.review_queue(store, actor=coder, source_id=int(accepted.source_id), limit=500)
        assert int(accepted.id) in set(queue["id"]), coder
    own = decisions.decide(store, int(accepted.id), "reject", actor=ANA)
    assert (own.coder, own.status, store.coding(int(accepted.id)).status) == ("ana", "rejected", "accepted")
    queue, _ = decisions.review_queue(store, actor=ANA, source_id=int(accepted.source_id), limit=500)
    assert int(accepted.id) not in set(queue["id"])
    double_coding.mark_done(store, "group1.txt", actor=ANA)
    double_coding.mark_done(store, "group1.txt", actor=BEN)
    view = visibility.TeamView.load(store)
    assert not view.hidden_map("ana")  # once both are done, everything shows again


def test_undoing_a_blind_decision_by_the_suggestion_id_names_the_coders_own_row(study):
    """accept(21) returns ben's own row 42; revert(21) said 'you can undo only your own judgements'."""
    store = study.store
    double_coding.assign(store, "group1.txt", ["ana", "ben"], actor=ADMIN)
    suggestion = study.suggestion("group1.txt", 1, "administrative_burden")
    own = decisions.decide(store, int(suggestion.id), "accept", actor=BEN)
    assert own.id != int(suggestion.id)
    with pytest.raises(PermissionDenied, match=f"your decision on it is coding {own.id}"):
        decisions.revert_decision(store, int(suggestion.id), actor=BEN, expected_version=int(suggestion.version))
    assert decisions.revert_decision(store, int(own.id), actor=BEN, expected_version=own.version).status == "suggested"


def test_a_blind_hand_code_undone_leaves_the_queue_alone_and_blind_rejections_stay_rejections(study):
    """A stranger pressed U after coding a passage by hand on a blind transcript: it came back as a card to
    accept. And the report called the blind coders' rejections "hand codings removed again"."""
    from qualkit.export.report import coder_table, methods_paragraph
    from qualkit.model import withdrawn_by_author

    store = study.store
    double_coding.assign(store, "group1.txt", ["ana", "ben"], actor=ADMIN)
    seg = store.segments_df(source="group1.txt")
    seg = seg[seg["speaker_role"] == "participant"].iloc[0]
    hand = decisions.add_code(store, int(seg["id"]), "workload", actor=ANA)
    undone = decisions.revert_decision(store, int(hand.id), actor=ANA, expected_version=hand.version)
    assert undone.status == "rejected"  # withdrawn and kept on record, not a suggestion
    queue, _ = decisions.review_queue(store, actor=ANA)
    assert int(hand.id) not in set(queue["id"])
    suggestion = study.suggestion("group1.txt", 2, "workload")
    own = decisions.decide(store, int(suggestion.id), "reject", actor=ANA)
    codings = store.codings_df()
    withdrawn = dict(zip(codings["id"], withdrawn_by_author(codings), strict=True))
    assert withdrawn[int(hand.id)] and not withdrawn[int(own.id)]
    assert coder_table(codings).set_index("coder").loc["ana", ["rejected", "removed"]].tolist() == [1, 1]
    accept = study.suggestion("group1.txt", 1, "administrative_burden")
    decisions.decide(store, int(accept.id), "accept", actor=ANA)
    codings = store.codings_df()
    waiting = int((codings["status"] == "suggested").sum()) - 2  # the two ana judged are not waiting
    accepted = int((codings["status"] == "accepted").sum())
    machine = int(((codings["status"] == "accepted") & (codings["origin"] != "human")).sum()) + 1
    text = methods_paragraph(store, store.codebook(), codings, store.segments_df(), by=None, include_suggested=False)
    assert accepted == machine == 1  # ana's own row accepting a suggestion is an accepted machine suggestion
    assert (f"1 accepted coding (1 of them accepted machine suggestions), {waiting} suggestions awaiting review and "
            "1 rejected coding") in text
    assert ("1 coding taken back by the coder who made it (a hand code removed, or a change undone) is kept on "
            "record and not counted.") in text


def test_a_settlement_can_be_taken_back_and_the_disagreement_is_open_again(study):
    """Found by a stranger: settling a disagreement could not be undone, only settled the other way."""
    store = study.store
    _finish_with_a_disagreement(store)
    open_before = double_coding.disagreements(store, "group1.txt", actor=ADMIN)
    row = open_before.iloc[0]
    settled = double_coding.adjudicate(store, int(row.segment_id), row.code_id, apply=True, actor=ADMIN)
    assert settled.decided_by == "consensus"
    again = double_coding.disagreements(store, "group1.txt", actor=ADMIN)
    assert again.loc[(again["segment_id"] == row.segment_id) & (again["code_id"] == row.code_id),
                     "consensus"].tolist() == ["accepted"]
    with pytest.raises(PermissionDenied):
        double_coding.unsettle(store, int(settled.id), actor=VIC)
    back = double_coding.unsettle(store, int(settled.id), actor=ADMIN, expected_version=int(settled.version))
    assert back.decided_by != "consensus"
    after = double_coding.disagreements(store, "group1.txt", actor=ADMIN)
    pd.testing.assert_frame_equal(after[["segment_id", "code_id", "consensus"]],
                                  open_before[["segment_id", "code_id", "consensus"]])
    assert store.events_df("coding", int(settled.id)).iloc[0]["action"] == "revert"
    with pytest.raises(InvalidInput, match="not a settled disagreement"):
        double_coding.unsettle(store, int(settled.id), actor=ADMIN)


def _finish_with_a_disagreement(store) -> None:
    """ana applies a code on group1 that ben does not; both mark the transcript done."""
    double_coding.assign(store, "group1.txt", ["ana", "ben"], actor=ADMIN)
    seg = store.segments_df(source="group1.txt")
    seg = seg[seg["speaker_role"] == "participant"].iloc[0]
    decisions.add_code(store, int(seg["id"]), "workload", actor=ANA)
    for coder in (ANA, BEN):
        double_coding.mark_done(store, "group1.txt", actor=coder)


def test_a_coder_takes_back_done_while_the_other_still_codes_but_not_after(study):
    """Found by a stranger: a coder who pressed done too early could not take it back."""
    store = study.store
    double_coding.assign(store, "group1.txt", ["ana", "ben"], actor=ADMIN)
    double_coding.mark_done(store, "group1.txt", actor=ANA)
    double_coding.mark_done(store, "group1.txt", actor=ANA, done=False)
    assert not visibility.TeamView.load(store).is_done("ana", int(store.source("group1.txt", with_raw=False).id))
    with pytest.raises(PermissionDenied):
        double_coding.mark_done(store, "group1.txt", actor=ANA, coder="ben", done=False)  # only one's own
    for coder in (ANA, BEN):
        double_coding.mark_done(store, "group1.txt", actor=coder)
    with pytest.raises(PermissionDenied, match="every coder of this transcript is done"):
        double_coding.mark_done(store, "group1.txt", actor=ANA, done=False)
    double_coding.mark_done(store, "group1.txt", actor=ADMIN, coder="ana", done=False)  # an administrator may


def test_reliability_refuses_a_transcript_still_coded_blind_and_names_an_unknown_one(study):
    """Found by a stranger: 82 % agreement with a coder who had not started; 'nite2.vtt' blamed the coder names."""
    store = study.store
    double_coding.assign(store, "group1.txt", ["ana", "ben"], actor=ADMIN)
    decisions.add_code(store, int(study.segment("group1.txt", 2)["id"]), "workload", actor=ANA)
    double_coding.mark_done(store, "group1.txt", actor=ANA)
    with pytest.raises(InvalidInput, match=r"group1.txt is still being coded blind \(ben not done yet\)"):
        study.project.reliability(["ana", "ben"], sources="group1.txt", n_boot=0)
    with pytest.raises(InvalidInput, match=r"no transcript named 'grup1.txt'.*did you mean 'group1.txt'"):
        study.project.reliability(["ana", "ben"], sources=["grup1.txt"], n_boot=0)
    decisions.add_code(store, int(study.segment("group1.txt", 2)["id"]), "workload", actor=BEN)
    double_coding.mark_done(store, "group1.txt", actor=BEN)
    assert len(study.project.reliability(["ana", "ben"], sources="group1.txt", n_boot=0).per_code)


def test_a_blind_coder_may_compare_a_finished_transcript_while_another_is_still_blind(study):
    """Found by a stranger: ana, done with group1.txt, was refused its agreement because group2.txt was still open,
    by a message that named no transcript."""
    import qualkit as qk

    store = study.store
    for source in ("group1.txt", "group2.txt"):
        double_coding.assign(store, source, ["ana", "ben"], actor=ADMIN)
    for coder in (ANA, BEN):
        decisions.add_code(store, int(study.segment("group1.txt", 2)["id"]), "workload", actor=coder)
        double_coding.mark_done(store, "group1.txt", actor=coder)
    as_ana = qk.Project(store, user="ana")
    assert len(as_ana.reliability(["ana", "ben"], sources="group1.txt", n_boot=0).per_code)
    # by default, the transcripts both double-coded and marked done: group1.txt alone
    assert as_ana.reliability(["ana", "ben"], n_boot=0).settings["sources"] == ["group1.txt"]
    with pytest.raises(InvalidInput, match=r"group2\.txt is still being coded blind") as refused:
        as_ana.reliability(["ana", "ben"], sources=["group1.txt", "group2.txt"], n_boot=0)
    assert "leave it out of sources" in refused.value.fix


def test_a_finished_transcript_where_one_coder_applied_no_code_stays_in_the_default_figures(study):
    """Found by a methodologist: ben finished group2.txt having applied no code, and the default reliability
    left the transcript out (pooled kappa 0.700 instead of 0.629 over every finished transcript)."""
    store = study.store
    for source in ("group1.txt", "group2.txt"):
        double_coding.assign(store, source, ["ana", "ben"], actor=ADMIN)
    for coder in (ANA, BEN):
        decisions.add_code(store, int(study.segment("group1.txt", 2)["id"]), "workload", actor=coder)
    decisions.add_code(store, int(study.segment("group2.txt", 2)["id"]), "workload", actor=ANA)
    for source in ("group1.txt", "group2.txt"):
        for coder in (ANA, BEN):
            double_coding.mark_done(store, source, actor=coder)
    result = study.project.reliability(["ana", "ben"], n_boot=0)
    assert result.settings["sources"] == ["group1.txt", "group2.txt"]
    assert "in 2 transcripts every coder double-coded and marked done" in result.statement
    assert int(result.per_code.set_index("code_id").loc["workload", "units"]) == 2


def test_a_blind_coders_own_row_keeps_the_suggestions_evidence(study):
    """Found by a stranger: blind coders' accepted codings had no evidence, so the report's quote for the code
    opened a 300-word turn at its start, on something else."""
    store = study.store
    double_coding.assign(store, "group1.txt", ["ana", "ben"], actor=ADMIN)
    burden = study.suggestion("group1.txt", 1, "administrative_burden")
    assert burden.evidence
    own = decisions.decide(store, int(burden.id), "accept", actor=ANA)
    assert [tuple(e) for e in store.coding(int(own.id)).evidence] == [tuple(e) for e in burden.evidence]
    changed = decisions.decide(store, int(burden.id), "change", actor=BEN, code_id="workload")
    assert store.coding(int(changed.id)).evidence == []  # the cue words of another code are not its evidence


def test_a_suggestion_judged_blind_no_longer_counts_as_awaiting_review_for_those_who_may_see_the_judgement(study):
    """A stranger's Study page said 18 suggestions where the report said 13: blind judgements left them counted."""
    store = study.store
    double_coding.assign(store, "group1.txt", ["ana", "ben"], actor=ADMIN)
    target = study.suggestion("group1.txt", 1, "administrative_burden")

    def waiting(viewer: str) -> int:
        counts = visibility.code_counts(store, viewer=viewer).set_index("code_id")
        return int(counts.loc["administrative_burden", "suggested"])

    before = {who: waiting(who) for who in ("ana", "ben", "admin")}
    # every pending suggestion counts for the blind coders too (SQL's NULL logic dropped those on group1)
    assert before == {"ana": 2, "ben": 2, "admin": 2}
    decisions.decide(store, int(target.id), "accept", actor=ANA)
    assert waiting("ana") == before["ana"] - 1 and waiting("admin") == before["admin"] - 1
    assert waiting("ben") == before["ben"]  # ana's judgement stays hidden from ben, its count too


def test_a_blind_coders_press_on_a_card_they_judged_already_is_refused_not_flipped(study):
    """A stranger's X on card 4, then A meant for card 9: the A also reached card 4, and her own "reject" was
    stored as an "accept" without a word (the suggestion's version does not change when a blind coder judges it)."""
    store = study.store
    double_coding.assign(store, "group1.txt", ["ana", "ben"], actor=ADMIN)
    peer = study.suggestion("group1.txt", 4, "peer_support")
    seen = int(peer.version)
    decisions.decide(store, int(peer.id), "reject", actor=ANA, expected_version=seen)
    with pytest.raises(ConflictError, match=rf"you judged suggestion {peer.id} already \(rejected\); this decision "
                                            "was not saved"):
        decisions.decide(store, int(peer.id), "accept", actor=ANA, expected_version=seen)
    with pytest.raises(ConflictError, match=r"judged .* already"):
        decisions.decide(store, int(peer.id), "change", actor=ANA, expected_version=seen, code_id="workload")
    own = store.codings_df(coder="ana", origin="human")
    assert own[["code_id", "status"]].values.tolist() == [["peer_support", "rejected"]]
    undo = decisions.last_decision(store, actor=ANA)
    decisions.revert_decision(store, undo.coding_id, expected_version=undo.version, actor=ANA)  # not judged yet, again
    assert decisions.decide(store, int(peer.id), "accept", actor=ANA, expected_version=seen).status == "accepted"
    assert decisions.decide(store, int(peer.id), "accept", actor=BEN, expected_version=seen).status == "accepted"


def test_prevalence_says_how_many_disagreements_are_not_settled_yet(study):
    """A stranger's prevalence counted either coder's codes where the coders disagreed, and said so only in the
    report's methods: a count read alone (notebook, `qualkit analyze`, the Analysis page) hid it."""
    from qualkit.project import Project

    store = study.store
    project = Project.open(study.url, user="admin")
    assert project.prevalence(by=None).notes == []
    _finish_with_a_disagreement(store)
    assert double_coding.unsettled_count(store, actor=ADMIN) == 1
    result = project.prevalence(by=None)
    assert result.notes == ["1 disagreement between double-coders is not settled yet; until settled, a passage "
                            "counts for a code when either coder applied it (settle them on the Double coding page, "
                            "or with `qualkit assign settle`)."]
    assert result.settings["unsettled_disagreements"] == 1 and "Note: 1 disagreement" in repr(result)
    row = double_coding.disagreements(store, "group1.txt", actor=ADMIN).iloc[0]
    double_coding.adjudicate(store, int(row.segment_id), row.code_id, apply=False, actor=ADMIN)
    assert project.prevalence(by=None).notes == []


def test_a_blind_coder_widens_her_own_hand_code_after_rejecting_the_machines_suggestion_there(blind):
    """A stranger coding blind rejected the machine's suggestion on a turn, later coded some of its words by hand,
    and could not widen that code to the whole turn: "you judged suggestion 93 already (rejected)", naming his own
    hand code, with no way forward."""
    store = blind.store
    s = blind.suggestion("group1.txt", 1, "administrative_burden")
    decisions.decide(store, int(s.id), "reject", actor=ANA, expected_version=int(s.version))
    start, end = store.coding(int(s.id)).start, store.coding(int(s.id)).start + 8
    hand = decisions.add_code(store, int(s.segment_id), "administrative_burden", actor=ANA, start=start, end=end)
    wider = decisions.decide(store, hand.id, "span", actor=ANA, expected_version=hand.version,
                             start=int(s.segment_start), end=int(s.segment_end))
    assert (wider.id, wider.status, wider.start, wider.end) == (hand.id, "accepted", int(s.segment_start),
                                                                int(s.segment_end))
    mine = store.codings_df(coder="ana", origin="human", code_id="administrative_burden")
    assert sorted(mine["status"]) == ["accepted", "rejected"]  # her judgement of the suggestion stays as it was


def test_reliability_is_measured_on_the_double_coded_transcripts_not_on_turns_shared_out(study):
    """A team double-coded one transcript and shared out another turn by turn: the Reliability page and the report
    counted the shared one's turns as disagreements nobody could settle (kappa -0.08 for one code)."""
    from qualkit.export.report import collect_report
    from qualkit.project import Project

    store = study.store
    _finish_with_a_disagreement(store)  # group1 double-coded, both done
    turn = study.segment("group2.txt", 1)
    decisions.add_code(store, int(turn["id"]), "peer_support", actor=BEN)  # ordinary coding of group2 by ben
    other = study.segment("group2.txt", 3)
    decisions.add_code(store, int(other["id"]), "workload", actor=ANA)  # ... and another turn by ana
    result = Project.open(study.url, user="admin").reliability(["ana", "ben"], n_boot=0)
    assert set(result.disagreements["source"]) == {"group1.txt"}
    assert "in 1 transcript" in result.statement
    report = collect_report(store, n_boot=0, figures=False)
    assert set(report.results["reliability"].disagreements["source"]) == {"group1.txt"}


def test_settling_or_comparing_before_every_coder_is_done_names_who_is_not_done(study):
    """D34: "only a finished double-coded transcript can be adjudicated" left the adjudicator guessing whom to ask."""
    store = study.store
    double_coding.assign(store, "group1.txt", ["ana", "ben"], actor=ADMIN)
    segment = int(study.suggestion("group1.txt", 1, "administrative_burden").segment_id)
    double_coding.mark_done(store, "group1.txt", actor=ANA)
    with pytest.raises(PermissionDenied, match=r"group1.txt is not finished: ben has not marked it done") as caught:
        double_coding.adjudicate(store, segment, "workload", apply=True, actor=ADMIN)
    assert "qualkit assign done group1.txt" in caught.value.render("cli") and "ana" not in caught.value.message
    with pytest.raises(PermissionDenied, match=r"ben has not marked it done"):
        double_coding.disagreements(store, "group1.txt", actor=ANA)
    with pytest.raises(PermissionDenied, match="not assigned to coders"):
        double_coding.adjudicate(store, int(study.suggestion("group2.txt", 2, "workload").segment_id), "workload",
                                 apply=True, actor=ADMIN)


def test_disagreements_of_a_finished_transcript_nobody_coded_keep_their_columns(study):
    """Library bug found with `qualkit assign disagreements`: with nothing judged the frame had no columns at all
    (an empty object "agree" column used as a mask selects columns), so ``frame["segment_id"]`` raised KeyError."""
    store = study.store
    double_coding.assign(store, "group1.txt", ["ana", "ben"], actor=ADMIN)
    for coder in (ANA, BEN):
        double_coding.mark_done(store, "group1.txt", actor=coder)
    frame = double_coding.disagreements(store, "group1.txt", actor=ADMIN)
    assert frame.empty and {"segment_id", "code_id", "ana", "ben", "consensus"} <= set(frame.columns)
    assert double_coding.settle_agreements(store, "group1.txt", actor=ADMIN) == []
