"""A researcher who works only in a terminal finishes a study (D46, D34): codebook set, code by hand, memos,
and settling a blind double-coded transcript's disagreements, each refusal one line with its fix, exit 2."""

from __future__ import annotations

import io
import sys

import pandas as pd
import pytest
from typer.testing import CliRunner

import qualkit as qk
from qualkit.cli import app, main

runner = CliRunner()
TALK = ("Moderator: How are the night shifts?\r\n"
        "Ann: I am exhausted, bone tired, every single week. So tired.\r\n"
        "Ben: The paperwork never ends, I chart at home\r\nevery night.\r\n")
CODEBOOK = """name: nights
codes:
  - id: fatigue
    name: Fatigue
    definition: Being tired or exhausted.
  - id: paperwork
    name: Paperwork
    definition: Documentation and charting.
"""


def qualkit(capsys, *argv: str) -> tuple[int, str, str]:
    """Run the CLI as the terminal does (``main``: errors become one line and exit 2); (exit code, out, err)."""
    with pytest.raises(SystemExit) as caught:
        main(list(argv))
    captured = capsys.readouterr()
    return caught.value.code, captured.out, captured.err


def one_line_error(code: int, err: str) -> str:
    """The error a refused command printed, checked to be one line with its fix, exit 2, no traceback."""
    assert code == 2, err
    assert "Traceback" not in err and err.startswith("error: ") and err.strip().count("\n") == 0, err
    assert ". Fix: " in err, err
    return err


@pytest.fixture
def study(tmp_path, monkeypatch):
    """A study with the two-code codebook and one CRLF transcript, made as the library would; (project, db, dir)."""
    monkeypatch.setenv("QUALKIT_EMBEDDER", "lsa")
    monkeypatch.delenv("QUALKIT_USER", raising=False)
    (tmp_path / "group1.txt").write_bytes(TALK.encode("utf-8"))
    (tmp_path / "nights.yaml").write_text(CODEBOOK, encoding="utf-8")
    path = tmp_path / "nights.qualkit.db"
    project = qk.Project.create(path, name="Nights", codebook=str(tmp_path / "nights.yaml"))
    project.import_transcripts([tmp_path / "group1.txt"], progress=False)
    yield project, str(path), tmp_path
    project.store.engine.dispose()


# ---------------------------------------------------------------- codebook set
def test_codebook_set_gives_a_new_version_and_says_what_changed(study, capsys):
    project, db, folder = study
    edited = CODEBOOK.replace("name: Fatigue", "name: Tiredness") + "  - id: sleep\n    name: Sleep\n"
    (folder / "nights2.yaml").write_text(edited, encoding="utf-8")
    code, out, _ = qualkit(capsys, "codebook", "set", str(folder / "nights2.yaml"), "--note", "sleep apart",
                           "--db", db)
    assert code == 0, out
    assert "codebook 'nights' version 2: 3 codable codes" in out
    assert "added: sleep" in out and "renamed: fatigue 'Fatigue' -> 'Tiredness'" in out and "removed" not in out
    assert project.codebook.version == 2 and project.codebook["fatigue"].name == "Tiredness"
    versions = project.history("codebook")
    assert versions.iloc[0]["new"]["note"] == "sleep apart"


def test_codebook_set_on_a_new_study_and_an_unchanged_file_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("QUALKIT_USER", raising=False)
    db = str(tmp_path / "s.qualkit.db")
    (tmp_path / "nights.yaml").write_text(CODEBOOK, encoding="utf-8")
    assert qualkit(capsys, "init", db, "--codebook", "none")[0] == 0
    code, out, _ = qualkit(capsys, "codebook", "set", str(tmp_path / "nights.yaml"), "--db", db)
    assert code == 0 and "codebook 'nights' version 1: 2 codable codes" in out
    code, out, err = qualkit(capsys, "codebook", "set", str(tmp_path / "nights.yaml"), "--db", db)
    assert "holds the same codes as 'nights' version 1, so no new version was saved" in one_line_error(code, err)
    assert qk.Project.open(db).codebook.version == 1


def test_a_codebook_leaving_out_a_code_in_use_is_refused_in_one_line_with_the_cli_option(study, capsys):
    project, db, folder = study
    turn = project.segments().iloc[2]
    project.code(int(turn["id"]), "paperwork")
    (folder / "less.yaml").write_text(CODEBOOK.split("  - id: paperwork")[0], encoding="utf-8")
    code, _, err = qualkit(capsys, "codebook", "set", str(folder / "less.yaml"), "--db", db)
    err = one_line_error(code, err)
    assert "leaves out codes the team has coded with: paperwork (1 accepted)" in err  # "(4 coded)" counted rejections
    assert "--leave-out-coded" in err and "leave_out_coded=True" not in err
    assert project.codebook.version == 1
    code, out, _ = qualkit(capsys, "codebook", "set", str(folder / "less.yaml"), "--leave-out-coded", "--db", db)
    assert code == 0 and "removed: paperwork" in out and project.codebook.ids == ["fatigue"]
    # Its codings stay on record but leave every analysis, as the option says (a stranger's left-out code was
    # still in prevalence, the report and the CSV export, under its id).
    assert "paperwork" in set(project.codings()["code_id"])
    assert "paperwork" not in set(project.prevalence(by=None).table["code_id"])
    assert "paperwork" not in project.cooccurrence().index
    code, _, _ = qualkit(capsys, "export", str(folder / "tables"), "--db", db)
    assert code == 0 and "paperwork" not in set(pd.read_csv(folder / "tables" / "prevalence.csv")["code_id"])
    assert "paperwork" in set(pd.read_csv(folder / "tables" / "codings.csv")["code_id"])
    code, _, _ = qualkit(capsys, "report", str(folder / "report.md"), "--db", db, "--n-boot", "0", "--no-figures")
    assert code == 0 and "paperwork" not in (folder / "report.md").read_text(encoding="utf-8")


# ---------------------------------------------------------------- review code
def test_review_code_finds_the_words_in_the_turn_across_a_crlf_and_undo_takes_it_back(study, capsys):
    project, db, _ = study
    code, out, err = qualkit(capsys, "review", "code", "group1.txt", "2", "paperwork", "--words",
                             "I chart at home every night", "--db", db)
    assert code == 0, err
    coding = project.codings().iloc[0]
    source = project.store.source("group1.txt")
    assert source.text[int(coding["start"]):int(coding["end"])] == "I chart at home\r\nevery night"
    assert (coding["status"], coding["origin"], coding["code_id"]) == ("accepted", "human", "paperwork")
    card = f"{coding['id']}@{coding['version']}"
    assert out.startswith(f"{card} coded paperwork: group1.txt turn 2 (Ben) “I chart at home every night”")
    assert "qualkit review undo" in err
    code, out, _ = qualkit(capsys, "review", "undo", "--db", db)
    assert code == 0 and f"{coding['id']}@" in out
    assert project.codings(status="accepted").empty


def test_review_code_without_words_codes_the_whole_turn_named_as_the_queue_names_it(study, capsys):
    project, db, _ = study
    code, out, _ = qualkit(capsys, "review", "code", "group1.txt", "1", "fatigue", "--db", db)
    assert code == 0 and "coded fatigue: group1.txt turn 1 (Ann) “I am exhausted" in out
    coding = project.codings().iloc[0]
    assert coding["segment_text"] == "I am exhausted, bone tired, every single week. So tired."
    assert (int(coding["start"]), int(coding["end"])) == (int(coding["segment_start"]), int(coding["segment_end"]))


@pytest.mark.parametrize(("arguments", "said"), [
    (["2", "paperwork", "--words", "at work"],
     "“at work” is not in group1.txt turn 2 (Ben), which reads: “The paperwork never ends, I chart at home every "
     "night.”"),
    (["1", "fatigue", "--words", "tired"], "“tired” occurs 2 times in group1.txt turn 1 (Ann), which reads: “I am"),
    (["9", "fatigue"], "group1.txt has no turn '9' (its turns are numbered 0 to 2)"),
    (["1", "fatigu"], "unknown code 'fatigu'"),
])
def test_review_code_refuses_words_not_found_found_twice_or_a_turn_not_there(study, capsys, arguments, said):
    project, db, _ = study
    code, _, err = qualkit(capsys, "review", "code", "group1.txt", *arguments, "--db", db)
    assert said in one_line_error(code, err)
    assert project.codings().empty


def test_review_code_names_an_unknown_transcript_with_a_hint(study, capsys):
    _, db, _ = study
    code, _, err = qualkit(capsys, "review", "code", "group2.txt", "1", "fatigue", "--db", db)
    err = one_line_error(code, err)
    assert "no transcript named 'group2.txt'" in err and "did you mean 'group1.txt'?" in err


# ---------------------------------------------------------------- memos
def test_memos_on_a_turn_a_transcript_and_a_code_are_written_and_listed(study, capsys):
    project, db, _ = study
    for arguments, about in ((["--transcript", "group1.txt", "--turn", "2"], "group1.txt turn 2 (Ben)"),
                             (["--transcript", "group1.txt"], "group1.txt"), (["--code", "fatigue"], "code fatigue")):
        code, out, _ = qualkit(capsys, "memo", "add", f"about {about}", *arguments, "--db", db)
        assert code == 0 and out.startswith("memo ") and out.strip().endswith(f"on {about}"), out
    memos = project.memos()
    turn = project.segments().iloc[2]
    assert memos["segment_id"].tolist()[0] == turn["id"] and memos["code_id"].tolist()[2] == "fatigue"
    assert int(memos["source_id"].tolist()[1]) == int(turn["source_id"])
    code, out, _ = qualkit(capsys, "memo", "list", "--db", db)
    assert code == 0
    for about in ("group1.txt turn 2 (Ben)", "group1.txt", "code fatigue"):
        assert f"{about}  by " in out and f"    about {about}" in out


@pytest.mark.parametrize(("arguments", "said"), [
    ([], "say what the memo is about"),
    (["--transcript", "group1.txt", "--code", "fatigue"], "say what the memo is about"),
    (["--turn", "1", "--code", "fatigue"], "--turn needs --transcript"),
    (["--transcript", "group1.txt", "--turn", "7"], "group1.txt has no turn '7'"),
    (["--code", "nope"], "unknown code 'nope'"),
])
def test_a_memo_about_nothing_or_two_things_is_refused(study, capsys, arguments, said):
    project, db, _ = study
    code, _, err = qualkit(capsys, "memo", "add", "a thought", *arguments, "--db", db)
    assert said in one_line_error(code, err)
    assert project.memos().empty


# ---------------------------------------------------------------- settling disagreements
def _users(capsys, monkeypatch, db: str) -> None:
    for name in ("ana", "ben"):
        monkeypatch.setattr(sys, "stdin", io.StringIO(f"{name}-password-long\n"))
        assert qualkit(capsys, "users", "add", name, "--password-stdin", "--db", db)[0] == 0


@pytest.fixture
def double_coded(study, capsys, monkeypatch):
    """group1.txt assigned blind to ana and ben: ana codes paperwork on turn 2 and fatigue on turn 1, ben fatigue
    only; ana is done, ben is not."""
    project, db, folder = study
    _users(capsys, monkeypatch, db)
    assert qualkit(capsys, "assign", "add", "group1.txt", "ana", "ben", "--db", db)[0] == 0
    for who, turn, code_id in (("ana", "2", "paperwork"), ("ana", "1", "fatigue"), ("ben", "1", "fatigue")):
        assert qualkit(capsys, "review", "code", "group1.txt", turn, code_id, "--db", db, "--user", who)[0] == 0
    assert qualkit(capsys, "assign", "done", "group1.txt", "--db", db, "--user", "ana")[0] == 0
    return project, db, folder


def test_disagreements_and_settling_wait_for_every_coder_and_name_who_is_not_done(double_coded, capsys):
    project, db, _ = double_coded
    code, _, err = qualkit(capsys, "assign", "disagreements", "group1.txt", "--db", db, "--user", "ana")
    err = one_line_error(code, err)
    assert "group1.txt is not finished: ben has not marked it done yet" in err
    assert "qualkit assign done group1.txt" in err
    code, _, err = qualkit(capsys, "assign", "settle", "group1.txt", "2", "paperwork", "--applies", "--db", db)
    assert "ben has not marked it done yet" in one_line_error(code, err)  # the administrator too
    assert project.codings(coder="consensus").empty


def test_settle_lists_settles_refuses_twice_and_unsettle_opens_it_again(double_coded, capsys):
    project, db, _ = double_coded
    assert qualkit(capsys, "assign", "done", "group1.txt", "--db", db, "--user", "ben")[0] == 0
    code, out, err = qualkit(capsys, "assign", "disagreements", "group1.txt", "--db", db, "--user", "ana")
    assert code == 0, err
    assert out.splitlines()[0] == "1. group1.txt turn 2 (Ben)  paperwork  ana: yes  ben: -  open"
    assert "fatigue" not in out and "1 disagreements, 1 open" in err
    code, _, err = qualkit(capsys, "assign", "settle", "group1.txt", "1", "fatigue", "--applies", "--db", db)
    assert "the coders do not disagree on fatigue in group1.txt turn 1 (Ann)" in one_line_error(code, err)

    code, out, err = qualkit(capsys, "assign", "settle", "group1.txt", "2", "paperwork", "--does-not-apply",
                             "--note", "charting at home is workload, not paperwork", "--db", db, "--user", "ana")
    assert code == 0, err
    settled = project.codings(coder="consensus").iloc[0]
    card = f"{settled['id']}@{settled['version']}"
    assert out.strip() == f"{card} settled: paperwork does not apply to group1.txt turn 2 (Ben)"
    assert settled["status"] == "rejected" and f"qualkit assign unsettle {card}" in err
    code, out, _ = qualkit(capsys, "assign", "disagreements", "group1.txt", "--db", db)
    assert f"settled: does not apply ({card})" in out

    code, _, err = qualkit(capsys, "assign", "settle", "group1.txt", "2", "paperwork", "--applies", "--db", db)
    err = one_line_error(code, err)
    assert f"is settled: does not apply ({card}); nothing was changed" in err
    assert f"qualkit assign unsettle {card}" in err

    code, out, err = qualkit(capsys, "assign", "unsettle", card, "--db", db, "--user", "ana")
    assert code == 0 and "the disagreement is open again" in out, err
    code, out, _ = qualkit(capsys, "assign", "disagreements", "group1.txt", "--db", db)
    assert out.splitlines()[0].endswith("open")
    code, _, err = qualkit(capsys, "assign", "unsettle", card, "--db", db)
    assert "is not a settled disagreement" in one_line_error(code, err)


# ---------------------------------------------------------------- the whole journey
def test_a_whole_study_in_the_terminal_from_init_to_reliability(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("QUALKIT_EMBEDDER", "lsa")
    monkeypatch.delenv("QUALKIT_USER", raising=False)
    (tmp_path / "group1.txt").write_bytes(TALK.encode("utf-8"))
    (tmp_path / "nights.yaml").write_text(CODEBOOK, encoding="utf-8")
    db = str(tmp_path / "nights.qualkit.db")

    def ok(*argv: str) -> str:
        code, out, err = qualkit(capsys, *argv, "--db", db) if argv[0] != "init" else qualkit(capsys, *argv)
        assert code == 0, f"{argv}: {err}"
        return out

    ok("init", db, "--codebook", "none")
    assert "codebook 'nights' version 1" in ok("codebook", "set", str(tmp_path / "nights.yaml"))
    ok("import", str(tmp_path / "group1.txt"), "--no-progress")
    assert "coded fatigue" in ok("review", "code", "group1.txt", "1", "fatigue", "--words", "bone tired")
    assert "on group1.txt turn 1 (Ann)" in ok("memo", "add", "tired twice", "--transcript", "group1.txt",
                                               "--turn", "1")
    _users(capsys, monkeypatch, db)
    ok("assign", "add", "group1.txt", "ana", "ben")
    ok("review", "code", "group1.txt", "2", "paperwork", "--user", "ana")
    ok("review", "code", "group1.txt", "1", "fatigue", "--words", "bone tired", "--user", "ana")
    ok("review", "code", "group1.txt", "1", "fatigue", "--words", "bone tired", "--user", "ben")
    ok("assign", "done", "group1.txt", "--user", "ana")
    ok("assign", "done", "group1.txt", "--user", "ben")
    listed = ok("assign", "disagreements", "group1.txt", "--user", "ben")
    assert listed.splitlines()[0] == "1. group1.txt turn 2 (Ben)  paperwork  ana: yes  ben: -  open"
    assert "settled: paperwork applies to group1.txt turn 2 (Ben)" in ok(
        "assign", "settle", "group1.txt", "2", "paperwork", "--applies", "--note", "ben missed it", "--user", "ben")
    assert "memo" in ok("memo", "list") and "tired twice" in ok("memo", "list")
    report = ok("reliability", "--coder", "ana", "--coder", "ben", "--n-boot", "0")
    assert "1 disagreements" in report and "settled: 1, open: 0" in report
    project = qk.Project.open(db)
    consensus = project.codings(coder="consensus")
    assert consensus[["code_id", "status"]].values.tolist() == [["paperwork", "accepted"]]
    project.store.engine.dispose()


def test_the_new_commands_are_in_the_help(capsys):
    for group, command in (("codebook", "set"), ("review", "code"), ("memo", "add"), ("memo", "list"),
                           ("assign", "disagreements"), ("assign", "settle"), ("assign", "unsettle")):
        result = runner.invoke(app, [group, "--help"])
        assert result.exit_code == 0 and command in result.output, (group, command)


def test_show_prints_the_transcript_with_the_turn_numbers_the_commands_take(study, capsys):
    """A terminal user learnt a turn's number only from the review queue or from an error."""
    _, db, _ = study
    code, out, err = qualkit(capsys, "review", "code", "group1.txt", "2", "paperwork", "--words", "chart at home every",
                             "--db", db, "--user", "ana")
    assert code == 0, err
    code, out, err = qualkit(capsys, "show", "group1.txt", "--db", db, "--user", "ana")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "group1.txt: 3 segment(s)"
    assert lines[1:] == ["    0  Moderator: How are the night shifts?",
                         "    1  Ann: I am exhausted, bone tired, every single week. So tired.",
                         "    2  Ben: The paperwork never ends, I chart at home every night.",
                         "       codes: Paperwork (accepted)"]
    code, out, _ = qualkit(capsys, "show", "group1.txt", "--from", "1", "--to", "1", "--db", db, "--user", "ana")
    assert out.splitlines()[1:] == ["    1  Ann: I am exhausted, bone tired, every single week. So tired."]
    code, _, err = qualkit(capsys, "show", "group9.txt", "--db", db, "--user", "ana")
    assert "no transcript named 'group9.txt'" in one_line_error(code, err)


def test_show_marks_a_line_nobody_said_as_unattributed(study, capsys):
    """A transcript's header line has no speaker: `show` printed "nan:" for it."""
    project, db, folder = study
    (folder / "group2.txt").write_bytes(
        b"Night shift focus group, ward 7\r\n[00:01:09] Interviewer: How are nights?\r\n[00:01:15] Ann: Tired.\r\n")
    project.import_transcripts([folder / "group2.txt"], progress=False)
    code, out, err = qualkit(capsys, "show", "group2.txt", "--db", db, "--user", "ana")
    assert code == 0, err
    assert "nan" not in out
    assert any("(unattributed) Night shift focus group, ward 7" in line for line in out.splitlines())


def test_a_hand_code_on_the_moderators_turn_is_kept_with_a_warning_that_it_counts_nowhere(study):
    """A stranger coded the interviewer's turn in a notebook: accepted without a word, absent from every result."""
    import warnings

    _, db, _ = study
    project = qk.Project.open(db, user="ana")
    segments = project.segments(source="group1.txt").set_index("speaker")
    with pytest.warns(UserWarning, match=r"not participant talk \(said by Moderator, moderator\): the code is kept"):
        kept = project.code(int(segments.loc["Moderator", "id"]), "paperwork")
    assert kept.status == "accepted"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a participant's turn: no warning
        project.code(int(segments.loc["Ben", "id"]), "paperwork")
    project.store.engine.dispose()


def test_the_warning_on_an_unattributed_line_names_its_kind_and_points_at_the_caller(tmp_path):
    """The first version said "(said by nobody, nan)" and pointed at qualkit's own decorator."""
    project = qk.Project.create(tmp_path / "s.qualkit.db", codebook="burnout", user="ana")
    (tmp_path / "g.txt").write_bytes(b"Ward 7 focus group\r\n[00:00:05] Ann: I am so tired.\r\n")
    project.import_transcripts([tmp_path / "g.txt"], progress=False)
    header = int(project.segments().iloc[0]["id"])
    with pytest.warns(UserWarning, match=r"said by nobody, unattributed\)") as caught:
        project.code(header, "emotional_exhaustion")
    assert caught[0].filename == __file__
    project.store.engine.dispose()


def test_a_suggestion_every_blind_coder_judged_awaits_nobody_in_info_suggest_and_the_qdpx_summary(study, capsys,
                                                                                                     monkeypatch):
    """A stranger's `qualkit info`, `suggest` and .qdpx export said 6 suggestions await review; the queue and the
    report said 3. The other 3 were machine rows on a blind transcript that both coders had judged in their own."""
    from qualkit.export.refi.write import qdpx_contents
    from qualkit.model import Coding

    project, db, _ = study
    _users(capsys, monkeypatch, db)
    turns = project.segments()
    judged, open_one = (int(turns.iloc[k]["id"]) for k in (1, 2))
    ids = project.store.add_codings([Coding(segment_id=s, code_id="fatigue", origin="rules", status="suggested",
                                            score=0.9) for s in (judged, open_one)])
    assert qualkit(capsys, "assign", "add", "group1.txt", "ana", "ben", "--db", db)[0] == 0
    for who, decision in (("ana", "accept"), ("ben", "reject")):
        assert qualkit(capsys, "review", decision, f"{ids[0]}@1", "--db", db, "--user", who)[0] == 0
    code, out, _ = qualkit(capsys, "info", "--db", db)
    assert code == 0 and "  suggested: 1 coding\n" in out and "suggested, judged by the blind coders: 1 coding" in out
    assert "1 suggestions not reviewed" in qdpx_contents(project.store)
    assert set(qk.Project.open(db, user="ana").review_queue()["id"]) == {ids[1]}  # as the queue had it
    code, out, _ = qualkit(capsys, "show", "group1.txt", "--db", db, "--user", "ana")
    listed = [line.strip() for line in out.splitlines() if "codes:" in line]
    # her own decision, not the suggestion she judged as if still open; the other suggestion is open
    assert code == 0 and listed == ["codes: Fatigue (accepted)", "codes: Fatigue (suggested)"], out
    # ana takes hers back: her row returns to "suggested" but is no second suggestion; ben's judgement stands
    assert qualkit(capsys, "review", "undo", "--db", db, "--user", "ana")[0] == 0
    code, out, _ = qualkit(capsys, "info", "--db", db)
    assert "  suggested: 1 coding\n" in out and "judgement undone by its blind coder: 1 coding" in out, out
    assert "suggested, judged by the blind coders: 1 coding" in out
    from qualkit.store.queries import code_counts

    assert int(code_counts(project.store)["suggested"].sum()) == 1  # the Study page's count, as info's
    assert set(qk.Project.open(db, user="ana").review_queue()["id"]) == {ids[0], ids[1]}  # hers to judge again


def test_review_code_finds_words_typed_with_a_straight_apostrophe_in_a_curly_transcript(tmp_path, monkeypatch,
                                                                                        capsys):
    """A stranger typed `won't` in a terminal; the transcript, from Word, has `won’t`: "not in ... turn 4"."""
    monkeypatch.setenv("QUALKIT_EMBEDDER", "lsa")
    monkeypatch.delenv("QUALKIT_USER", raising=False)
    talk = "Moderator: And the system?\r\nAnn: The system won\u2019t allow it, it says \u201cdenied\u201d.\r\n"
    (tmp_path / "g.txt").write_bytes(talk.encode("utf-8"))
    (tmp_path / "nights.yaml").write_text(CODEBOOK, encoding="utf-8")
    db = str(tmp_path / "n.qualkit.db")
    project = qk.Project.create(db, name="N", codebook=str(tmp_path / "nights.yaml"))
    project.import_transcripts([tmp_path / "g.txt"], progress=False)
    code, _, err = qualkit(capsys, "review", "code", "g.txt", "1", "paperwork", "--words",
                             "won't allow it, it says \"denied\"", "--db", db)
    assert code == 0, err
    coding = project.codings().iloc[0]
    text = project.store.source("g.txt").text
    assert text[int(coding["start"]):int(coding["end"])] == "won\u2019t allow it, it says \u201cdenied\u201d"
    project.store.engine.dispose()


def test_an_unknown_code_far_from_every_id_lists_the_ids_instead_of_a_wild_guess(study):
    """A stranger's `code(2, "nonexistent")` was asked "did you mean 'turnover_intent'?"."""
    from qualkit.errors import InvalidInput

    project, _, _ = study
    turn = int(project.segments().iloc[1]["id"])
    with pytest.raises(InvalidInput) as error:
        project.code(turn, "nonexistent")
    assert "did you mean" not in str(error.value)
    assert "use a code id of the project's codebook: fatigue, paperwork" in str(error.value)
    with pytest.raises(InvalidInput, match="did you mean 'fatigue'"):
        project.code(turn, "fatigeu")


def test_cli_refusals_give_a_fix_in_the_terminals_own_words(study, capsys):
    """A stranger in the terminal was told to use "project.codings() ... or the History page", to "reload", and
    got no fix at all for a misspelt transcript name."""
    project, db, _ = study
    code, _, err = qualkit(capsys, "review", "queue", "--source", "group.txt", "--db", db)
    err = one_line_error(code, err)
    assert "no source 'group.txt'" in err and "did you mean 'group1.txt'?" in err
    code, _, err = qualkit(capsys, "review", "accept", "999@1", "--db", db)
    assert code == 2 and "qualkit review queue" in err and "History page" not in err and "codings()" not in err
    turn = project.segments().iloc[1]
    coding = project.code(int(turn["id"]), "fatigue")
    assert qualkit(capsys, "review", "reject", f"{coding.id}@{coding.version}", "--db", db)[0] == 0
    code, _, err = qualkit(capsys, "review", "accept", f"{coding.id}@{coding.version}", "--db", db)
    assert code == 2 and "Fix: see its current ID@VERSION with `qualkit review queue`" in err and "reload" not in err
