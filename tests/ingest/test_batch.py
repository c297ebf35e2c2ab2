"""Batch import into the store (SQLite and PostgreSQL): per-file transactions, failures, participants."""

from __future__ import annotations

import pandas as pd
import pytest

import qualkit as qk
from qualkit.errors import ImportFailed
from qualkit.ingest.batch import import_transcripts

GOOD = ["interview_ir.txt", "teams.vtt", "utterances.csv"]


def test_good_files_are_stored_and_bad_ones_reported(store, data):
    paths = [data / "interview_ir.txt", data / "empty.txt", data / "teams.vtt", data / "malformed.srt",
             data / "utterances.csv"]
    with pytest.raises(ImportFailed) as caught:
        import_transcripts(store, paths, progress=False, user="ana")
    error = caught.value
    assert [f[0] for f in error.failures] == [str(data / "empty.txt"), str(data / "malformed.srt")]
    assert "empty.txt: the file is empty" in str(error) and "malformed.srt:6: malformed cue timing" in str(error)
    assert str(error).startswith("2 of 5 files failed and were not imported")
    assert [r.source for r in error.reports] == GOOD
    assert store.sources_df()["name"].tolist() == GOOD
    loaded = store.source("teams.vtt")
    assert loaded.text.startswith("Nadia Haddad: Hi all") and len(loaded.segments) == 5
    assert store.events_df(entity="source")["user"].tolist() == ["ana"] * 3


def test_a_file_failing_while_stored_leaves_nothing_behind(store, data, monkeypatch):
    original = store.log

    def failing_log(session, user, action, entity, *args, **kwargs):
        if entity == "source":
            raise RuntimeError("disk full")
        return original(session, user, action, entity, *args, **kwargs)

    monkeypatch.setattr(store, "log", failing_log)
    with pytest.raises(ImportFailed, match="unexpected RuntimeError: disk full"):
        import_transcripts(store, [data / "interview_ir.txt"], progress=False)
    monkeypatch.undo()
    assert store.sources_df().empty and store.segments_df().empty


def test_the_same_file_twice_is_skipped_the_second_time(store, data):
    assert [r.source for r in import_transcripts(store, [data / "zoom.vtt"], progress=False)] == ["zoom.vtt"]
    again = import_transcripts(store, [data / "zoom.vtt", data / "teams.vtt"], progress=False)
    assert [(r.source, r.skipped) for r in again] == [("zoom.vtt", "already imported, skipped"), ("teams.vtt", None)]
    assert sorted(store.sources_df()["name"]) == ["teams.vtt", "zoom.vtt"]
    assert len(store.events_df(entity="source")) == 2  # nothing written for the skipped file


def test_a_changed_file_of_the_same_name_still_fails(store, data, tmp_path):
    path = tmp_path / "zoom.vtt"
    path.write_bytes((data / "zoom.vtt").read_bytes())
    import_transcripts(store, [path], progress=False)
    path.write_bytes((data / "zoom.vtt").read_bytes().replace(b"Protected admin", b"Protected teaching"))
    with pytest.raises(ImportFailed, match="already in project"):
        import_transcripts(store, [path], progress=False)
    assert len(store.sources_df()) == 1


def test_the_same_interview_saved_again_with_other_line_endings_is_skipped(store, tmp_path):
    first = tmp_path / "int07.txt"
    first.write_bytes("Interviewer: How are nights?\nZo\u00eb: Long.  \nInterviewer: And?\n".encode())
    import_transcripts(store, [first], progress=False)
    again = tmp_path / "copies" / "int07_windows.txt"
    again.parent.mkdir()
    again.write_bytes(b"\xef\xbb\xbf" + "Interviewer: How are nights?\r\nZoe\u0308: Long.\r\nInterviewer: And?\r\n"
                      "\r\n".encode())
    reports = import_transcripts(store, [again], progress=False)
    assert reports[0].skipped == ("already imported (as int07.txt), skipped: it differs only in line endings, "
                                  "encoding or trailing spaces")
    assert store.sources_df()["name"].tolist() == ["int07.txt"]
    changed = tmp_path / "int08.txt"
    changed.write_text("Interviewer: How are nights?\nZo\u00eb: Short.\n", encoding="utf-8")
    assert import_transcripts(store, [changed], progress=False)[0].skipped is None


def test_the_same_interview_saved_as_docx_with_a_title_is_skipped(store, tmp_path, make_docx):
    """A stranger's focus group, imported as .txt and then as the .docx it came from (with a title line): a
    fourth session, the same people's talk counted twice, and no word."""
    first = tmp_path / "fg_nurses.txt"
    first.write_text("Moderator: How are nights?\nZo\u00eb: Long, and the rota is worse.\nJos\u00e9: Agreed.\n",
                     encoding="utf-8")
    import_transcripts(store, [first], progress=False)
    docx = make_docx("fg_nurses.docx", ["Moderator: How are nights?", "Zo\u00eb: Long, and the rota is worse.",
                                         "Jos\u00e9: Agreed."], heading="Focus group: nurses (ward 7)")
    reports = import_transcripts(store, [docx], progress=False)
    assert reports[0].skipped == ("already imported (as fg_nurses.txt), skipped: every turn is the same, speaker and "
                                  "words; only lines nobody said (a title, a heading) differ")
    assert store.sources_df()["name"].tolist() == ["fg_nurses.txt"]
    other = make_docx("fg_doctors.docx", ["Moderator: How are nights?", "Zo\u00eb: Long, and the rota is worse.",
                                          "Jos\u00e9: Not for me."], heading="Focus group: doctors")
    assert import_transcripts(store, [other], progress=False)[0].skipped is None  # one turn differs: a new session


def test_an_upload_records_no_server_path(store, data, tmp_path):
    """The app imports its temporary copy of an upload: that path would reach the REFI-QDA export as a variable."""
    copy = tmp_path / "qualkit-import-x1" / "zoom.vtt"
    copy.parent.mkdir()
    copy.write_bytes((data / "zoom.vtt").read_bytes())
    import_transcripts(store, [copy], progress=False, uploaded=True)
    import_transcripts(store, [data / "teams.vtt"], progress=False)
    assert "path" not in store.source("zoom.vtt").metadata
    assert store.source("teams.vtt").metadata["path"] == str(data / "teams.vtt")  # a researcher's own file: kept
    copy.write_bytes((data / "zoom.vtt").read_bytes().replace(b"Protected admin", b"Protected teaching"))  # another
    # upload of that name (other words: a newline more is the same transcript, skipped): still refused
    with pytest.raises(ImportFailed, match="already in project"):
        import_transcripts(store, [copy], progress=False, uploaded=True)


def test_participants_link_every_speaker_and_show_as_columns(sqlite_store, data):
    roster = pd.DataFrame({"participant_id": ["I", "R7"], "pseudonym": ["I", "R"],
                           "role": ["moderator", "nurse"], "years_in_role": ["", "12"]})
    import_transcripts(sqlite_store, [data / "interview_ir.txt"], participants=roster, progress=False)
    frame = sqlite_store.segments_df()
    turns = frame[frame["kind"] == "turn"]
    assert turns["participant"].notna().all()
    assert set(turns["speaker_role"]) == {"moderator", "participant"}
    assert turns[turns["speaker"] == "R"]["role"].unique().tolist() == ["nurse"]
    assert turns[turns["speaker"] == "R"]["years_in_role"].unique().tolist() == [12]


def test_project_facade_and_progress_on_stderr(tmp_path, data, capsys):
    project = qk.Project.create(tmp_path / "p.qualkit.db", codebook=None, user="ben")
    reports = project.import_transcripts([data / g for g in GOOD], segment_by="sentence")
    assert [r.source for r in reports] == GOOD
    assert "importing" in capsys.readouterr().err
    assert set(project.segments()["kind"]) >= {"sentence", "legend", "unattributed"}
    assert project.import_transcripts(data / "zoom.vtt", progress=False)[0].source == "zoom.vtt"
    assert project.add_participants(pd.DataFrame({"id": ["p"], "pseudonym": ["Dana Kim"]})) == 1


def test_unreadable_participants_file_stops_before_anything_is_stored(sqlite_store, data, tmp_path):
    bad = tmp_path / "participants.csv"
    bad.write_text("site\nN\n", encoding="utf-8")
    with pytest.raises(qk.InvalidInput, match="no participant id column"):
        import_transcripts(sqlite_store, [data / "zoom.vtt"], participants=bad, progress=False)
    assert sqlite_store.sources_df().empty


def test_two_files_with_one_name_in_different_folders_get_a_clear_error(sqlite_store, tmp_path):
    paths = []
    for group in ("fg1", "fg2"):
        (tmp_path / group).mkdir()
        path = tmp_path / group / "transcript.txt"
        path.write_text(f"Moderator: Welcome to {group}.\nAnn: Hi.\nModerator: Ready?\nAnn: Yes.\n", encoding="utf-8")
        paths.append(path)
    with pytest.raises(ImportFailed) as caught:
        import_transcripts(sqlite_store, paths, progress=False)
    message = str(caught.value)
    assert f"{paths[1]}: has the same file name as {paths[0]} (in this batch)" in message
    assert "Fix: rename one of the two files, e.g. fg2_transcript.txt" in message
    assert sqlite_store.sources_df()["name"].tolist() == ["transcript.txt"]
    with pytest.raises(ImportFailed) as again:
        import_transcripts(sqlite_store, [paths[1]], progress=False)
    assert f"has the same file name as {paths[0]} (already in the project)" in str(again.value)
    # A corrected copy renamed as the fix said counted the interview twice (a stranger): the fix says so.
    assert "if it is a corrected copy of the stored transcript, do not" in str(again.value)


def test_a_batch_that_stores_no_file_changes_no_participant(sqlite_store, tmp_path):
    """A corrected transcript refused for its name must not change the study's roles on the way out."""
    first = tmp_path / "fg1" / "night.txt"
    second = tmp_path / "fg2" / "night.txt"
    for path in (first, second):
        path.parent.mkdir()
        path.write_text(f"Moderator: Welcome to {path.parent.name}.\nZoë: Hi.\n", encoding="utf-8")
    roster = tmp_path / "participants.csv"
    roster.write_text("participant_id,pseudonym,role\nP1,Zoë,staff_nurse\n", encoding="utf-8")
    import_transcripts(sqlite_store, [first], participants=roster, progress=False)
    roster.write_text("participant_id,pseudonym,role\nP1,Zoë,senior_nurse\n", encoding="utf-8")
    with pytest.raises(ImportFailed, match="same file name"):
        import_transcripts(sqlite_store, [second], participants=roster, progress=False)
    assert sqlite_store.participants_df()["role"].tolist() == ["staff_nurse"]
    import_transcripts(sqlite_store, [first], participants=roster, progress=False)  # already imported: news only
    assert sqlite_store.participants_df()["role"].tolist() == ["senior_nurse"]


def test_codes_written_with_a_leading_zero_stay_as_written(sqlite_store, tmp_path):
    """Ward code 07 is not the number 7: the column stays text everywhere, and id 007 is not participant 7."""
    transcript = tmp_path / "night.txt"
    transcript.write_text("Moderator: Welcome.\nZoë: Hi.\nAli: Evening.\n", encoding="utf-8")
    roster = tmp_path / "participants.csv"
    roster.write_text("participant_id,pseudonym,unit_code,years\n007,Zoë,07,3\n7,Ali,12,10\n", encoding="utf-8")
    import_transcripts(sqlite_store, [transcript], participants=roster, progress=False)
    people = sqlite_store.participants_df().set_index("pseudonym")
    assert people.loc["Zoë", "unit_code"] == "07" and people.loc["Ali", "unit_code"] == "12"  # one type per column
    assert people.loc["Ali", "years"] == 10  # a plain number column stays a number
    assert sorted(people["participant"]) == ["007", "7"]
    survey = tmp_path / "survey.csv"
    survey.write_text("id,answer,site\n1,Too few nurses,07\n2,Long nights,12\n", encoding="utf-8")
    import_transcripts(sqlite_store, [survey], progress=False)
    rows = sqlite_store.segments_df(source="survey.csv")
    assert rows["site"].tolist() == ["07", "12"]


def test_a_docx_forced_to_be_read_as_text_is_told_to_drop_the_format_option(make_docx):
    """`qualkit import fg_nurses.docx --format txt` was told to "give it its real extension (.docx)": it had it."""
    from qualkit.errors import InvalidTranscript
    from qualkit.ingest import read_transcript

    path = make_docx("fg_nurses.docx", ["Ann: Nights are long."])
    with pytest.raises(InvalidTranscript, match=r"Fix: leave out the format option: a \.docx file is read as \.docx"):
        read_transcript(path, format="txt")
