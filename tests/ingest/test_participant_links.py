"""A participant's attributes reach a segment only through a real link (same session rule as the store's)."""

from __future__ import annotations

import qualkit as qk
from qualkit.project import Project

ROSTER = "participant_id,role,grade,site,session\nP1,foundation doctor,FY2,St Aidan's,int01\n"


def _study(tmp_path, db_url: str = "sqlite://"):
    (tmp_path / "participants.csv").write_text(ROSTER, encoding="utf-8")
    (tmp_path / "int01.txt").write_text("Interviewer: Your role?\nP1: I am an FY2.\n", encoding="utf-8")
    (tmp_path / "int21_consultant.txt").write_text("Interviewer: Your role?\nP1: I am a consultant.\n",
                                                   encoding="utf-8")
    project = Project.create(db_url, codebook=None)
    project.import_transcripts([tmp_path / "int01.txt", tmp_path / "int21_consultant.txt"],
                               participants=tmp_path / "participants.csv", progress=False)
    return project


def test_a_same_labelled_participant_of_another_session_lends_no_attributes(tmp_path):
    roster = qk.read_participants(_write(tmp_path))
    (tmp_path / "int21_consultant.txt").write_text("Interviewer: Your role?\nP1: I am a consultant.\n",
                                                   encoding="utf-8")
    source = qk.read_transcript(tmp_path / "int21_consultant.txt", participants=roster)
    p1 = next(s for s in source.segments if s.speaker == "P1")
    assert p1.participant is None and "grade" not in p1.attributes and "session" not in p1.attributes
    warning = next(w for w in source.import_report.warnings if "session" in w)
    assert "'P1'" in warning and "int21_consultant.txt" in warning and "'int01'" in warning


def test_stored_segments_take_participant_attributes_only_through_the_link(tmp_path):
    project = _study(tmp_path)
    theirs = project.segments(source="int21_consultant.txt")
    p1 = theirs[theirs["speaker"] == "P1"].iloc[0]
    assert p1["participant"] is None or p1["participant"] != p1["participant"]  # None or NaN: not linked
    for column in ("grade", "site", "session"):
        assert column not in theirs or theirs[column].isna().all(), column
    ours = project.segments(source="int01.txt")
    assert ours[ours["speaker"] == "P1"]["grade"].tolist() == ["FY2"]


def test_a_later_participants_file_replaces_the_attributes_it_gave(tmp_path):
    project = _study(tmp_path)
    (tmp_path / "participants.csv").write_text("participant_id,role,grade,session\nP1,foundation doctor,FY1,int01\n",
                                               encoding="utf-8")
    project.add_participants(tmp_path / "participants.csv")
    ours = project.segments(source="int01.txt")
    turn = ours[ours["speaker"] == "P1"].iloc[0]
    assert turn["grade"] == "FY1"
    assert "site" not in ours or ours["site"].isna().all()  # the column removed from participants is gone
    stored = project.store.segments(source_id=int(turn["source_id"]))
    assert next(s for s in stored if s.speaker == "P1").attributes["grade"] == "FY1"


def _write(tmp_path):
    path = tmp_path / "participants.csv"
    path.write_text(ROSTER, encoding="utf-8")
    return path


def test_the_store_does_not_link_them_either_before_the_other_session_is_imported(tmp_path):
    roster = _write(tmp_path)
    (tmp_path / "int21_consultant.txt").write_text("Interviewer: Your role?\nP1: I am a consultant.\n",
                                                   encoding="utf-8")
    project = Project.create("sqlite://", codebook=None)
    project.import_transcripts([tmp_path / "int21_consultant.txt"], participants=roster, progress=False)
    theirs = project.segments(source="int21_consultant.txt")
    assert theirs["participant"].isna().all() and ("grade" not in theirs or theirs["grade"].isna().all())
    project.add_participants(tmp_path / "participants.csv")  # linking again later keeps them apart too
    assert project.segments(source="int21_consultant.txt")["participant"].isna().all()
    assert project.add_speaker_participants() == ["P1 (int21_consultant)"]


def test_a_later_file_read_against_the_studys_participants_says_why_a_known_name_is_not_linked(tmp_path):
    """A stranger imported Fiona's follow-up interview (int01b_…) after the participants file: her turns stayed
    unlinked and nothing said so, because only an import given a participants file read the session rule."""
    project = _study(tmp_path)
    (tmp_path / "int01b_followup.txt").write_text("Interviewer: Still an FY2?\nP1: Yes, and tired.\n", encoding="utf-8")
    [report] = project.import_transcripts([tmp_path / "int01b_followup.txt"], progress=False)
    warning = next(w for w in report.warnings if "session" in w)
    assert "'P1'" in warning and "int01b_followup.txt" in warning and "clear their session" in warning
    later = project.segments(source="int01b_followup.txt")
    p1 = later[later["speaker"] == "P1"].iloc[0]
    assert p1["participant"] is None or p1["participant"] != p1["participant"]  # the rule itself is unchanged
