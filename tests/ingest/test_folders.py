"""A study folder's codebook, participants list, coding records and qualkit outputs are not imported as transcripts."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from _cli import run

from qualkit.ingest.folders import select_transcripts, what_table
from qualkit.project import Project


def _study_folder(folder):
    folder.mkdir()
    (folder / "int01.txt").write_text("Interviewer: Your role?\nP1: I am an FY2.\n", encoding="utf-8")
    (folder / "codebook.csv").write_text("Code,Description,Inclusion,Exclusion,Example quote\n"
                                         "workload,Too much work,any load,,\"I never stop\"\n", encoding="utf-8")
    (folder / "participants.csv").write_text("participant_id,role,grade,session\nP1,doctor,FY2,int01\n",
                                             encoding="utf-8")
    (folder / "coder2.csv").write_text("source,turn,codes\nint01.txt,1,workload\n", encoding="utf-8")
    (folder / "notes.md").write_text("# pilot\n\n## Methods\n\nTranscripts of 1 sessions were analysed with "
                                     "qualkit 0.1.0 (offline).\n", encoding="utf-8")
    (folder / "survey.csv").write_text("respondent,role,answer\nR1,nurse,Too many nights\n", encoding="utf-8")
    return folder


def test_a_folder_import_passes_over_the_codebook_participants_codings_and_qualkit_outputs(tmp_path, capsys):
    folder = _study_folder(tmp_path / "study")
    Project.create("sqlite://", codebook=None).export(folder / "export.xlsx")
    db = str(tmp_path / "s.qualkit.db")
    assert run(["init", db, "--codebook", "none"], capsys)[0] == 0
    code, out, err = run(["import", str(folder), "--db", db, "--participants", str(folder / "participants.csv"),
                          "--no-progress"], capsys)
    assert code == 0, err
    sources = Project.open(db).store.sources_df()["name"].tolist()
    assert sorted(sources) == ["int01.txt", "survey.csv"]
    for name in ("codebook.csv", "participants.csv", "coder2.csv", "notes.md", "export.xlsx"):
        line = next(line for line in out.splitlines() if line.startswith(f"{name}: "))
        assert "not a transcript; not imported" in line, line
    assert "codebook.csv: a codebook" in out and "coder2.csv: a codings table" in out
    assert "imported 2 file(s)" in out and "5 other file(s) of the folders not imported" in out


def test_a_file_named_on_its_own_is_imported_as_asked(tmp_path):
    folder = _study_folder(tmp_path / "study")
    project = Project.create("sqlite://", codebook=None)
    assert [p.name for p in select_transcripts([folder / "codebook.csv"]).files] == ["codebook.csv"]
    reports = project.import_transcripts([folder], progress=False)
    assert {r.source: bool(r.skipped) for r in reports} == {
        "codebook.csv": True, "coder2.csv": True, "int01.txt": False, "notes.md": True, "participants.csv": True,
        "survey.csv": False}


def test_what_a_table_is_by_its_headers():
    assert what_table(["code", "name", "definition", "examples", "parent"]) == "codebook"
    assert what_table(["Speaker label", "Pseudonym", "Grade"]) == "participants list"
    assert what_table(["speaker", "text"]) is None
    assert what_table(["Respondent ID", "Role", "What makes your job hardest?"]) is None


def test_a_folder_import_names_the_files_qualkit_cannot_read(tmp_path, capsys):
    folder = tmp_path / "study"
    folder.mkdir()
    (folder / "int14.txt").write_text("Interviewer: Why?\nP1: Nights.\n", encoding="utf-8")
    for name in ("int15.pdf", "int16.rtf", "int17.doc"):
        (folder / name).write_bytes(b"%binary")
    db = str(tmp_path / "s.qualkit.db")
    assert run(["init", db, "--codebook", "none"], capsys)[0] == 0
    code, out, err = run(["import", str(folder), "--db", db, "--no-progress"], capsys)
    assert code == 0, err
    assert ("skipped 3 files qualkit cannot read: int15.pdf, int16.rtf, int17.doc (save them as .docx or .txt)"
            in out.splitlines())
    assert "imported 1 file(s)" in out
    project = Project.create("sqlite://", codebook=None)
    with pytest.warns(UserWarning, match="skipped 3 files qualkit cannot read: int15.pdf, int16.rtf, int17.doc"):
        reports = project.import_transcripts(folder, progress=False)
    why = {r.source: r.skipped for r in reports}
    assert why["int14.txt"] is None and why["int15.pdf"].startswith("qualkit cannot read .pdf files; not imported")
