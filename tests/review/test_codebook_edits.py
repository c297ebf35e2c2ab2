"""Codebook changes by the team: versions, edits, merges, splits; version-checked and one transaction each.
"""

from __future__ import annotations

import pandas as pd
import pytest

from qualkit.errors import ConflictError, InvalidInput, PermissionDenied
from qualkit.model import Code, Coding
from qualkit.review import codebook_edits, decisions
from qualkit.users import Role, User

ADMIN, ANA, BEN, VIC = User("admin", Role.ADMIN), User("ana"), User("ben"), User("vic", Role.VIEWER)


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


def test_a_merge_is_one_transaction(study):
    store = study.store
    before = store.codings_df(code_id="peer_support")["id"].tolist()
    with pytest.raises(ConflictError):  # the codebook changed since the editor loaded version 1
        codebook_edits.update_code(store, "workload", actor=ADMIN, definition="newer")
        codebook_edits.merge_codes(store, ["peer_support"], "individual_coping", actor=ADMIN, expected_version=1)
    assert store.codings_df(code_id="peer_support")["id"].tolist() == before  # nothing moved
    version, moved = codebook_edits.merge_codes(store, ["peer_support"], "individual_coping", actor=ADMIN,
                                        expected_version=2)
    assert (version, moved) == (3, len(before)) and store.codings_df(code_id="peer_support").empty


def test_a_merge_is_undone_with_every_coding_back_on_its_own_code(study):
    """Found by strangers: a merge could not be taken back; then its undo lost the suggestions it had withdrawn."""
    store = study.store
    seg = study.segment("group1.txt", 2)
    extra = store.replace_suggestions([Coding(int(seg["id"]), "peer_support", "rules", score=0.9, coder="auto"),
                                       Coding(int(seg["id"]), "individual_coping", "rules", score=0.4, coder="auto")],
                                      segment_ids=[int(seg["id"])])  # both on one turn: the merge withdraws one
    before = store.codings_df()[["id", "code_id", "status", "score", "version"]].sort_values("id").reset_index(drop=True)
    codebook_before = store.codebook()
    assert codebook_edits.last_merge(store) is None
    with pytest.raises(InvalidInput, match="no merge to undo"):
        codebook_edits.undo_merge(store, actor=ADMIN)
    codebook_edits.merge_codes(store, ["peer_support"], "individual_coping", actor=ADMIN)
    assert set(extra) - set(store.codings_df()["id"])  # one of the two was withdrawn as redundant
    assert codebook_edits.last_merge(store)["merged"] == ["peer_support"]
    with pytest.raises(PermissionDenied):
        codebook_edits.undo_merge(store, actor=BEN)
    codebook_edits.undo_merge(store, actor=ADMIN)
    after = store.codings_df()[["id", "code_id", "status", "score", "version"]].sort_values("id").reset_index(drop=True)
    assert store.codebook().ids == codebook_before.ids and codebook_edits.last_merge(store) is None
    pd.testing.assert_frame_equal(after[["id", "code_id", "status", "score"]], before[["id", "code_id", "status", "score"]])


def test_codebook_edits_are_version_checked(study):
    store = study.store
    codebook_edits.update_code(store, "workload", actor=ADMIN, definition="Ana's words.", expected_version=1)
    with pytest.raises(ConflictError) as caught:
        codebook_edits.update_code(store, "workload", actor=ADMIN, definition="Ben's words.", expected_version=1)
    assert caught.value.current["definition"] == "Ana's words." and caught.value.current["version"] == 2
    assert store.codebook()["workload"].definition == "Ana's words."


def test_a_merge_leaves_one_suggestion_per_segment_and_none_beside_a_decision(study):
    """After merging, a stranger's queue listed one turn twice and asked again about a pair she had rejected."""
    from qualkit.model import Coding

    store = study.store
    turns = store.segments_df()
    turns = turns.loc[turns["kind"] == "turn", "id"].tolist()
    both, judged = int(turns[0]), int(turns[1])
    store.add_codings([Coding(segment_id=s, code_id=c, origin="ensemble", status="suggested", score=score,
                              coder="auto") for s, c, score in (
        (both, "peer_support", 0.41), (both, "individual_coping", 0.83), (judged, "individual_coping", 0.77))])
    rejected = Coding(segment_id=judged, code_id="peer_support", origin="human", status="rejected", coder="ana",
                      decided_by="ana")
    store.add_codings([rejected])
    codebook_edits.merge_codes(store, ["individual_coping"], "peer_support", actor=ADMIN)
    pending = store.codings_df(status="suggested", code_id="peer_support")
    pending = pending.loc[pending["origin"] != "human"]
    assert not pending["segment_id"].duplicated().any()
    assert judged not in set(pending["segment_id"])  # the rejected pair is not asked again
    assert pending.loc[pending["segment_id"] == both, "score"].tolist() == [0.83]  # the stronger one stays
    assert store.coding(int(rejected.id)).status == "rejected"  # decisions stay as they were
    withdrawn = store.events_df("coding")
    assert (withdrawn["action"] == "replace").any()


def test_a_new_version_that_drops_a_coded_code_is_refused_unless_confirmed(study):
    """A stranger's file lost a code to a typo; importing it took four codings out of every analysis, silently."""
    store = study.store
    decisions.decide(store, int(study.suggestion("group1.txt", 1, "administrative_burden").id), "accept", actor=ANA)
    codebook = store.codebook()
    without = type(codebook)(codebook.name, [c for c in codebook.codes if c.id != "administrative_burden"])
    with pytest.raises(InvalidInput, match=r"leaves out codes the team has coded with: administrative_burden \(1 ") \
            as caught:
        codebook_edits.save_codebook_version(store, without, actor=ADMIN, note="imported")
    assert "tick \u201cAllow the new version to drop codes" in caught.value.render("app")  # the box, not Python
    assert "administrative_burden" in store.codebook()
    with pytest.raises(InvalidInput, match="leaves out codes"):
        codebook_edits.refuse_leaving_out_coded(store, without)  # what Project.set_codebook checks too
    codebook_edits.save_codebook_version(store, without, actor=ADMIN, note="imported", leave_out_coded=True)
    assert "administrative_burden" not in store.codebook()


def test_importing_the_same_codebook_again_saves_no_new_version(study):
    """A stranger's second click on Import saved an identical file as version 2, then 3."""
    store = study.store
    current = store.codebook()
    with pytest.raises(InvalidInput, match=f"the same as version {current.version}, so no new version was saved"):
        codebook_edits.save_codebook_version(store, type(current)("renamed", list(current.codes)), actor=ADMIN,
                                             note="imported again")
    assert store.codebook().version == current.version
