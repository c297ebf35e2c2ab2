"""Sources, segments, participants and codebooks inside a caller's transaction, and the lookups they use."""

from __future__ import annotations

import pytest

from qualkit.errors import ConflictError
from qualkit.model import Code, Codebook, Participant
from qualkit.store.participants import participant_lookup, session_matches


def test_add_source_in_rolls_back_with_the_caller(store, small_source):
    with pytest.raises(RuntimeError), store.transaction() as session:
        store.add_source_in(session, small_source, user="ana")
        raise RuntimeError("the rest of the import failed")
    assert store.sources_df().empty and store.segments_df().empty
    with store.transaction() as session:
        source_id = store.add_source_in(session, small_source, user="ana")
    assert store.source(source_id).text == small_source.text
    assert store.events_df("source").iloc[0]["new"]["segments"] == 3


def test_segments_by_id_in_source_order(store, small_source):
    store.add_source(small_source, user="ana")
    wanted = [small_source.segments[2].id, small_source.segments[0].id]
    segments = store.segments(ids=wanted)
    assert [s.id for s in segments] == sorted(wanted) and segments[0].text == "What comes to mind?"
    assert [s.speaker for s in store.segments(source_id=small_source.id)] == ["Moderator", "Ann", "Béla"]


def test_participants_as_objects_and_as_a_versioned_table(store):
    store.upsert_participants([Participant("P1", pseudonym="Ann", aliases=["Annie"], attributes={"role": "resident"})],
                              user="ana")
    [p] = store.participants()
    assert (p.id, p.pseudonym, p.aliases, p.attributes) == ("P1", "Ann", ["Annie"], {"role": "resident"})
    assert p.guid
    frame = store.participants_df()
    assert frame[["participant", "role", "version"]].values.tolist() == [["P1", "resident", 1]]
    store.upsert_participants([Participant("P1", attributes={"role": "attending"})], user="ben",
                              expected_versions={"P1": 1})
    with pytest.raises(ConflictError, match="someone else changed P1"):
        store.upsert_participants([Participant("P1", attributes={"role": "nurse"})], user="cy",
                                  expected_versions={"P1": 1})
    assert store.participants_df()["role"].tolist() == ["attending"]


def test_speakers_are_looked_up_by_label_pseudonym_and_alias_within_their_session(store):
    store.upsert_participants([Participant("P1", pseudonym="Ann", attributes={"session": "fg1"}),
                               Participant("P2", aliases=["Ann"], attributes={"session": "fg2"}),
                               Participant("M", aliases=["Moderator"])], user="ana")
    with store.session() as session:
        fg1 = participant_lookup(session, store.project_id, "fg1_residents.txt")
        anywhere = participant_lookup(session, store.project_id, "other.txt")
    assert set(fg1) == {"P1", "Ann", "M", "Moderator"} and "P2" not in fg1
    assert "Ann" not in anywhere and {"P1", "P2", "Moderator"} <= set(anywhere)  # two Anns: not guessed
    assert session_matches("fg1", "fg1_residents.txt", None) and not session_matches("fg1", "fg10.txt", None)
    assert session_matches("a", "x.txt", {"session": "a"}) and not session_matches("", "fg1.txt", None)


def test_save_codebook_in_rolls_back_with_the_caller(store):
    with pytest.raises(RuntimeError), store.transaction() as session:
        store.save_codebook_in(session, Codebook("mini", [Code("a", "A")]), user="ana", note="first")
        raise RuntimeError("the codings could not move")
    assert store.codebook_versions().empty
    with store.transaction() as session:
        assert store.save_codebook_in(session, Codebook("mini", [Code("a", "A")]), user="ana") == 1
    assert store.settings["codebook"] == "mini" and store.codebook().ids == ["a"]


def test_the_a_of_a_later_q_and_a_interview_is_not_taken_for_the_first_ones(tmp_path):
    """Each Q/A interview's answerer is "A": a stranger's second nurse was counted as the first (group ICU)."""
    from qualkit.project import Project

    project = Project.create(f"sqlite:///{tmp_path / 'qa.qualkit.db'}", codebook=None, user="admin")
    for name, words in (("nurse_p12_icu.txt", "Nights on ICU wear me down."), ("nurse_p15_ward3.txt", "Ward 3 is calm.")):
        path = tmp_path / name
        path.write_text(f"Q: How are nights?\nA: {words}\nQ: Thanks.\nA: Thank you.\n", encoding="utf-8")
        project.import_transcripts([path], progress=False)
        project.add_speaker_participants()
    segments = project.segments(participants_only=True)
    by_source = segments.groupby("source")["participant"].unique().to_dict()
    assert list(by_source["nurse_p12_icu.txt"]) == ["A"]
    assert list(by_source["nurse_p15_ward3.txt"]) == ["A (nurse_p15_ward3)"]


def test_a_surveys_respondent_ids_are_kept_as_participants(tmp_path):
    """A stranger's survey CSV read 'id from respondent', and in the project every answer had no participant."""
    from qualkit.project import Project

    project = Project.create(f"sqlite:///{tmp_path / 's.qualkit.db'}", codebook=None, user="admin")
    path = tmp_path / "survey.csv"
    path.write_text("respondent,unit,answer\nS01,ICU,Too few of us at night.\nS02,HDU,We cover for each other.\n"
                    "S03,ICU,\n", encoding="utf-8")
    project.import_transcripts([path], progress=False)
    segments = project.segments()
    assert segments["participant"].tolist() == ["S01", "S02"]
    assert sorted(project.store.participants_df()["participant"]) == ["S01", "S02"]
    again = tmp_path / "survey2.csv"  # a respondent known already is linked, not made twice
    again.write_text("respondent,unit,answer\nS01,ICU,Still too few.\n", encoding="utf-8")
    project.import_transcripts([again], progress=False)
    assert len(project.store.participants_df()) == 2
    assert project.segments(source="survey2.csv")["participant"].tolist() == ["S01"]
