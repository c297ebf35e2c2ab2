"""`qualkit import` and `qualkit deidentify` from the command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from _cli import run


def test_import_prints_the_report(tmp_path, data, capsys):
    db = str(tmp_path / "s.qualkit.db")
    assert run(["init", db, "--codebook", "none"], capsys)[0] == 0
    aliases = tmp_path / "aliases.json"
    aliases.write_text(json.dumps({"Dr Smith": "Dr Smith"}), encoding="utf-8")
    code, out, _ = run(["import", str(data / "aliases.txt"), str(data / "podcast_webpage.txt"), "--db", db,
                        "--aliases", str(aliases), "--no-progress"], capsys)
    assert code == 0
    assert "aliases.txt (txt, utf-8)" in out and "  Dr Smith: 3 turns" in out
    assert "proposed merge: 'SAM RIVERA' -> 'Sam Rivera'" in out
    assert "  moderators: Jordan Lee" in out and "unattributed: 'Skip to main content'" in out
    assert "imported 2 file(s)" in out


def test_import_failure_is_one_line_and_exit_2(tmp_path, data, capsys):
    db = str(tmp_path / "s.qualkit.db")
    run(["init", db, "--codebook", "none"], capsys)
    code, out, err = run(["import", str(data / "zoom.vtt"), str(data / "stray_text.vtt"), "--db", db,
                          "--no-progress"], capsys)
    assert code == 2
    assert "zoom.vtt (vtt, utf-8)" in out
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "1 of 2 files failed" in lines[0] and "stray_text.vtt:6:" in lines[0]


def test_rerunning_a_batch_skips_what_is_already_imported_and_exits_0(tmp_path, data, capsys):
    """Issue 16 finding 7: resuming a batch after a crash says "already imported, skipped" and exits 0."""
    db = str(tmp_path / "s.qualkit.db")
    run(["init", db, "--codebook", "none"], capsys)
    folder = tmp_path / "batch"
    folder.mkdir()
    for name in ("zoom.vtt", "teams.vtt", "interview_ir.txt"):
        (folder / name).write_bytes((data / name).read_bytes())
    assert run(["import", str(folder / "zoom.vtt"), "--db", db, "--no-progress"], capsys)[0] == 0  # then a crash
    code, out, err = run(["import", str(folder), "--db", db, "--no-progress"], capsys)
    assert code == 0, err
    assert "zoom.vtt: already imported, skipped" in out
    assert "imported 2 file(s) into project" in out and "1 already imported, skipped" in out
    code, out, _ = run(["import", str(folder), "--db", db, "--no-progress"], capsys)
    assert code == 0 and out.count("already imported, skipped") == 4  # three lines and the total


def test_import_dry_run_folder_and_options(tmp_path, data, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.csv").write_bytes((data / "survey.csv").read_bytes())
    (folder / "notes.json").write_text("{}", encoding="utf-8")
    code, out, _ = run(["import", str(folder), "--dry-run", "--text-column", "What keeps you going?",
                        "--segment-by", "sentence"], capsys)
    assert code == 0 and "a.csv (csv, utf-8): 3 segments" in out
    code, _, err = run(["import", str(data / "aliases.txt"), "--dry-run", "--aliases", "{not json"], capsys)
    assert code == 2 and "not valid JSON" in err


def test_dry_run_reports_an_unexpected_reader_failure_in_one_line(data, capsys, monkeypatch):
    import qualkit.ingest

    real = qualkit.ingest.read_transcript

    def flaky(path, **options):
        if path.name == "zoom.vtt":
            raise KeyError("speaker")
        return real(path, **options)

    monkeypatch.setattr(qualkit.ingest, "read_transcript", flaky)
    code, out, err = run(["import", str(data / "zoom.vtt"), str(data / "teams.vtt"), "--dry-run"], capsys)
    assert code == 2 and "teams.vtt (vtt, utf-8)" in out and "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "1 of 2 files failed" in lines[0]
    assert "zoom.vtt: unexpected KeyError: 'speaker'. Fix: please report this file" in lines[0]


def test_deidentify_command(tmp_path, data, capsys):
    out_dir, key = tmp_path / "out", tmp_path / "secure" / "key.json"
    key.parent.mkdir()
    roster = tmp_path / "roster.csv"
    roster.write_text("participant_id,pseudonym\nR1,Jill Smith, MD\n".replace("Jill Smith, MD", '"Jill Smith, MD"'),
                      encoding="utf-8")
    code, out, _ = run(["deidentify", str(data / "aliases.txt"), "--out", str(out_dir), "--key", str(key),
                        "--participants", str(roster), "--no-ner"], capsys)
    assert code == 0, out
    text = (out_dir / "aliases.deid.txt").read_text(encoding="utf-8")
    assert "Smith" not in text and "Ben Ode" not in text and "[R1]: Depleted." in text  # the study's own code
    assert json.loads(key.read_text(encoding="utf-8"))["[R1]"]["participant"] == "R1"
    # the report holds the originals with their context: it is a key too, so it goes beside the key
    assert sorted(p.name for p in out_dir.iterdir()) == ["aliases.deid.txt", "participants.deid.csv"]
    assert "Smith" not in (out_dir / "participants.deid.csv").read_text(encoding="utf-8")
    report = key.with_name("key.report.csv").read_text(encoding="utf-8")
    assert "original" in report.splitlines()[0] and "Jill Smith, MD" in report
    code, _, err = run(["deidentify", str(data / "aliases.txt"), "--out", str(out_dir), "--key",
                        str(out_dir / "key.json")], capsys)
    assert code == 2 and "same folder" in err
    code, _, err = run(["deidentify", str(data / "aliases.txt"), "--out", str(out_dir), "--key", str(key),
                        "--report", str(out_dir / "sub" / "report.csv")], capsys)
    assert code == 2 and "replacement report would sit in the same folder" in err


def test_deidentified_transcripts_import_linked_to_their_participants(tmp_path, capsys):
    """A stranger's de-identified transcripts lost every participant link: [P01] matched nobody in the roster.
    Then her P05 became [P03], the code of another participant, and P3 (a role code kept in the text) was not listed."""
    import qualkit as qk

    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "night1.txt").write_text(
        "Moderator: How are nights?\r\nJill Smith: Long. Dr Okafor never calls back 😩\r\n"
        "Omar Haddad: Jill is right, nobody comes.\r\nP3: And the porters are short too.\r\n"
        "Ann Lee: Nights are fine for me.\r\n", encoding="utf-8")
    roster = tmp_path / "roster.csv"
    roster.write_text("participant_id,pseudonym,role,site\nP05,Jill Smith,nurse,North\nP03,P3,manager,South\n"
                      "P07,Omar Haddad,porter,South\nhelen,Helen Wu,cleaner,North\n", encoding="utf-8")
    out_dir, key = tmp_path / "out", tmp_path / "secure" / "key.json"
    code, out, _ = run(["deidentify", str(tmp_path / "raw"), "--out", str(out_dir), "--key", str(key),
                        "--participants", str(roster), "--no-ner"], capsys)
    assert code == 0 and f"--participants {out_dir / 'participants.deid.csv'}" in out
    text = (out_dir / "night1.deid.txt").read_text(encoding="utf-8")
    assert "[P05]: Long." in text and "[P07]: [P05] is right" in text and "P3: And the porters" in text
    assert "[P01]: Nights are fine" in text  # no participant: a number no participant's code uses
    listed = (out_dir / "participants.deid.csv").read_text(encoding="utf-8-sig")
    assert listed.splitlines() == ["participant_id,pseudonym,aliases,role,site", "P05,P05,[P05],nurse,North",
                                   "P03,P3,,manager,South", "P07,P07,[P07],porter,South"]  # Helen said nothing
    db = str(tmp_path / "s.qualkit.db")
    assert run(["init", db, "--codebook", "none"], capsys)[0] == 0
    code, out, err = run(["import", str(out_dir), "--db", db, "--participants", str(out_dir / "participants.deid.csv"),
                          "--no-progress"], capsys)
    assert code == 0, out + err
    segments = qk.Project.open(db).segments()
    talk = segments.loc[~segments["speaker"].isin(["Moderator", "P01"])]
    assert sorted(zip(talk["speaker"], talk["participant"], talk["role"], strict=True)) == [
        ("P05", "P05", "nurse"), ("P07", "P07", "porter"), ("P3", "P03", "manager")]


def test_deidentify_says_when_no_ner_pipeline_found_names(tmp_path, data, capsys):
    """A stranger took the output for de-identified: spaCy had no trained pipeline, so NER did nothing, unsaid."""
    import spacy.util

    out_dir, key = tmp_path / "out", tmp_path / "secure" / "key.json"
    code, _, err = run(["deidentify", str(data / "aliases.txt"), "--out", str(out_dir), "--key", str(key)], capsys)
    assert code == 0
    said = "note: no trained spaCy pipeline is installed" in err
    assert said == (not spacy.util.get_installed_models())
    code, _, err = run(["deidentify", str(data / "aliases.txt"), "--out", str(out_dir), "--key", str(key),
                        "--no-ner"], capsys)
    assert "no trained spaCy pipeline" not in err  # asked for no NER: nothing to say


def test_deidentify_is_all_or_nothing_when_a_later_file_fails(tmp_path, data, capsys):
    out_dir, key = tmp_path / "out", tmp_path / "secure" / "key.json"
    code, _, err = run(["deidentify", str(data / "aliases.txt"), str(data / "empty.txt"), "--out", str(out_dir),
                        "--key", str(key), "--no-ner"], capsys)
    assert code == 2 and "empty.txt: the file is empty" in err
    assert not out_dir.exists() and not key.exists() and not key.with_name("key.report.csv").exists()


def test_deidentify_refuses_two_files_that_would_share_an_output(tmp_path, capsys):
    for folder in ("fg1", "fg2"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "group.txt").write_text("Ann: Hi.\nBo: Hey.\nAnn: Ok.\n", encoding="utf-8")
    out_dir = tmp_path / "out"
    code, _, err = run(["deidentify", str(tmp_path / "fg1" / "group.txt"), str(tmp_path / "fg2" / "group.txt"),
                        "--out", str(out_dir), "--key", str(tmp_path / "key.json"), "--no-ner"], capsys)
    assert code == 2 and "fg1/group.txt and " in err and "rename one" in err
    assert not out_dir.exists()


@pytest.mark.parametrize("argv", [["import", "--help"], ["deidentify", "--help"]])
def test_help(argv, capsys):
    assert run(argv, capsys)[0] == 0
