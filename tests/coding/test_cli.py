"""The batch CLI contract: qualkit autocode / evaluate / codebook, and their one-line errors."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from qualkit.cli import app

runner = CliRunner()
ROWS = [
    {"id": "r1", "text": "Honestly the paperwork never ends, I chart every night.", "speaker": "Ann", "group": "fg1"},
    {"id": "r2", "text": "I never felt isolated here."},
    {"id": "r3", "text": "So exhausted, nothing left in the tank.", "role": "moderator"},
    {"id": "r0", "text": "We had a lovely barbecue for the unit."},
]


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _run(*args):
    return runner.invoke(app, [*args, "--embedder", "lsa", "--no-progress"] if args[0] == "autocode" else list(args))


def test_autocode_writes_jsonl_in_input_order(tmp_path):
    out = tmp_path / "out.jsonl"
    result = _run("autocode", "--codebook", "burnout", "--input", str(_jsonl(tmp_path / "in.jsonl", ROWS)),
                  "--output", str(out))
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in records] == ["r1", "r2", "r3", "r0"]
    assert set(records[0]) == {"id", "codes", "scores"} and len(records[0]["scores"]) == 24
    assert "administrative_burden" in records[0]["codes"]
    assert "isolation" not in records[1]["codes"]
    assert records[2]["codes"] == []  # moderator rows are not coded
    assert all(0 <= v <= 1 for r in records for v in r["scores"].values())


def test_moderator_speakers_and_marks_are_not_coded_by_default(tmp_path):
    rows = [{"id": "m1", "speaker": "Moderator", "text": "So much paperwork, right? Charting every night?"},
            {"id": "m2", "speaker": "Interviewer 2", "text": "Are you exhausted? Burned out?"},
            {"id": "m3", "speaker": "I", "text": "Tell me about the paperwork."},
            {"id": "p1", "speaker": "P1", "text": "Paperwork every night, charting until midnight."},
            {"id": "x1", "speaker": "P2", "text": "(laughs) [crosstalk]"}]
    src, out = _jsonl(tmp_path / "in.jsonl", rows), tmp_path / "out.jsonl"
    assert _run("autocode", "--codebook", "burnout", "--input", str(src), "--output", str(out)).exit_code == 0
    codes = {r["id"]: r["codes"] for r in map(json.loads, out.read_text().splitlines())}
    assert codes["m1"] == codes["m2"] == codes["m3"] == codes["x1"] == []
    assert "administrative_burden" in codes["p1"]
    everyone = tmp_path / "everyone.jsonl"
    assert _run("autocode", "--codebook", "burnout", "--input", str(src), "--output", str(everyone),
                "--code-moderators").exit_code == 0
    codes = {r["id"]: r["codes"] for r in map(json.loads, everyone.read_text().splitlines())}
    assert "administrative_burden" in codes["m1"] and codes["x1"] == []


def test_jsonl_texts_may_hold_unicode_line_separators(tmp_path):
    from qualkit.coding.io import read_rows

    texts = ["one\u2028two", "three\u2029four", "five\x85six", "seven\x0ceight"]
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps({"id": str(i), "text": t}, ensure_ascii=False) + "\n"
                            for i, t in enumerate(texts)), encoding="utf-8")
    rows = read_rows(path)
    assert [r.text for r in rows] == texts and [r.line for r in rows] == [1, 2, 3, 4]


def test_autocode_csv_input_training_and_top_k(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("id,text\na,\"Charting, notes and forms all evening\"\nb,We went bowling\n", encoding="utf-8")
    train = _jsonl(tmp_path / "train.jsonl", [
        {"id": f"t{i}", "text": t, "codes": c} for i, (t, c) in enumerate([
            ("Forms and notes until late", ["administrative_burden"]), ("Bowling with the team", [])] * 4)])
    out = tmp_path / "out.jsonl"
    result = _run("autocode", "--codebook", "burnout", "--input", str(src), "--output", str(out),
                  "--train", str(train), "--top-k", "2")
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [len(r["codes"]) for r in records] == [2, 2]
    assert records[0]["codes"][0] == "administrative_burden"
    high = tmp_path / "high.jsonl"
    assert _run("autocode", "--codebook", "burnout", "--input", str(src), "--output", str(high),
                "--threshold", "1.0").exit_code == 0
    assert all(json.loads(line)["codes"] == [] for line in high.read_text().splitlines())


def test_codebook_from_a_file(tmp_path):
    book = tmp_path / "tags.csv"
    book.write_text("tag,description,number of highlights\nPaperwork,Forms and charting,3\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    src = _jsonl(tmp_path / "in.jsonl", ROWS[:1])
    assert _run("autocode", "--codebook", str(book), "--input", str(src), "--output", str(out)).exit_code == 0
    assert set(json.loads(out.read_text())["scores"]) == {"Paperwork"}


@pytest.mark.parametrize(("content", "message"), [
    ('{"id": "a", "text": "fine"}\n{"id": "b", "text": \n', "in.jsonl:2: not valid JSON"),
    ('{"id": "a", "text": "fine"}\n\n{"text": "no id"}\n', "in.jsonl:3: the row has no id"),
    ('{"id": "a", "text": 5}\n', 'in.jsonl:1: row \'a\' has no "text" string'),
    ('{"id": "a", "text": "x"}\n{"id": "a", "text": "y"}\n', "in.jsonl:2: duplicate id 'a' (first on line 1)"),
])
def test_malformed_input_rows_name_their_line(tmp_path, content, message):
    src = tmp_path / "in.jsonl"
    src.write_text(content, encoding="utf-8")
    result = _run("autocode", "--codebook", "burnout", "--input", str(src), "--output", str(tmp_path / "o.jsonl"))
    assert result.exit_code != 0
    assert message in str(result.exception) or message in result.output


def test_unknown_code_in_training_rows_names_its_line(tmp_path):
    train = _jsonl(tmp_path / "train.jsonl", [{"id": "1", "text": "x", "codes": ["workload"]},
                                              {"id": "2", "text": "y", "codes": ["work_load"]}])
    result = _run("autocode", "--codebook", "burnout", "--input", str(_jsonl(tmp_path / "in.jsonl", ROWS)),
                  "--output", str(tmp_path / "o.jsonl"), "--train", str(train))
    assert result.exit_code != 0
    text = str(result.exception)
    assert "train.jsonl:2: row '2' names the unknown code 'work_load'" in text and "did you mean 'workload'" in text


def test_a_category_in_training_rows_is_not_codable(tmp_path):
    train = _jsonl(tmp_path / "train.jsonl", [{"id": "1", "text": "x", "codes": ["systemic_drivers"]}])
    result = _run("autocode", "--codebook", "burnout", "--input", str(_jsonl(tmp_path / "in.jsonl", ROWS)),
                  "--output", str(tmp_path / "o.jsonl"), "--train", str(train))
    assert result.exit_code != 0
    assert "train.jsonl:1: row '1' names 'systemic_drivers', a category of the codebook that is not codable" \
        in str(result.exception)


def test_errors_print_one_line_and_exit_2(tmp_path):
    import subprocess
    import sys

    src = tmp_path / "in.jsonl"
    src.write_text('{"id": 1, "text": "ok"}\nnot json\n', encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "qualkit.cli", "autocode", "--codebook", "burnout", "--input",
                           str(src), "--output", str(tmp_path / "o.jsonl"), "--embedder", "lsa"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].startswith(f"error: {src}:2: not valid JSON")
    assert "Traceback" not in done.stderr


def test_top_k_and_threshold_exclude_each_other(tmp_path):
    result = _run("autocode", "--codebook", "burnout", "--input", str(_jsonl(tmp_path / "in.jsonl", ROWS)),
                  "--output", str(tmp_path / "o.jsonl"), "--top-k", "1", "--threshold", "0.5")
    assert result.exit_code != 0 and "exclude each other" in str(result.exception)


def test_evaluate_prints_a_table_and_writes_csv(tmp_path):
    gold = _jsonl(tmp_path / "gold.jsonl", [{"id": "1", "codes": ["a"]}, {"id": "2", "codes": ["b"]},
                                            {"id": "3", "codes": ["a", "b"]}])
    pred = _jsonl(tmp_path / "pred.jsonl", [{"id": "1", "codes": ["a"], "scores": {}},
                                            {"id": "2", "codes": ["a"], "scores": {}}])
    out = tmp_path / "metrics.csv"
    result = runner.invoke(app, ["evaluate", "--gold", str(gold), "--pred", str(pred), "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert "micro" in result.output and "macro" in result.output and "kappa" in result.output
    import pandas as pd

    table = pd.read_csv(out).set_index("code")
    assert table.loc["a", "precision"] == 0.5 and table.loc["a", "recall"] == 0.5
    assert table.loc["b", "support"] == 2 and table.loc["b", "recall"] == 0
    default = runner.invoke(app, ["evaluate", "--gold", str(gold), "--pred", str(pred)])
    assert default.exit_code == 0 and (tmp_path / "pred.metrics.csv").exists()


def test_evaluate_refuses_predictions_of_other_rows_instead_of_scoring_them(tmp_path):
    """A stranger scored a survey's predictions against interview gold: F1 0, AC1 0.84, exit status 0."""
    gold = _jsonl(tmp_path / "gold.jsonl", [{"id": "t1", "codes": ["a"]}, {"id": "t2", "codes": []}])
    pred = _jsonl(tmp_path / "pred.jsonl", [{"id": "S001", "codes": ["a"], "scores": {}}])
    out = tmp_path / "metrics.csv"
    result = runner.invoke(app, ["evaluate", "--gold", str(gold), "--pred", str(pred), "--output", str(out)])
    assert result.exit_code != 0 and not out.exists()
    assert "none of the 2 gold items is in pred.jsonl (e.g. gold 't1', predicted 'S001')" in str(result.exception)


def test_autocode_then_evaluate_against_gold_keyed_by_source_and_turn(tmp_path, monkeypatch):
    """A stranger's rows had ids ("fg2-1") and their gold file source and turn: evaluate found no item in common;
    rows without an id were refused."""
    monkeypatch.setenv("QUALKIT_EMBEDDER", "lsa")
    rows = [{"id": f"fg2-{t}", "source": "fg2.vtt", "turn": t, "text": text} for t, text in enumerate(
        ["I am exhausted after every night shift.", "The paperwork never ends, I chart at home.",
         "My colleagues cover for me when I am drowning."])]
    ids = _jsonl(tmp_path / "rows.jsonl", rows)
    bare = _jsonl(tmp_path / "bare.jsonl", [{k: v for k, v in row.items() if k != "id"} for row in rows])
    gold = _jsonl(tmp_path / "gold.jsonl", [{"source": "fg2.vtt", "turn": t, "codes": []} for t in range(3)])
    for name, given in (("ids", ids), ("bare", bare)):
        pred = tmp_path / f"{name}.pred.jsonl"
        coded = runner.invoke(app, ["autocode", "--input", str(given), "--output", str(pred), "--codebook", "burnout"])
        assert coded.exit_code == 0, coded.output
        first = json.loads(pred.read_text(encoding="utf-8").splitlines()[0])
        assert (first["source"], first["turn"]) == ("fg2.vtt", 0)
        assert first["id"] == ("fg2-0" if name == "ids" else "fg2.vtt#0")
        scored = runner.invoke(app, ["evaluate", "--gold", str(gold), "--pred", str(pred)])
        assert scored.exit_code == 0, scored.output
        assert "have no prediction" not in scored.output


def test_codebook_commands(tmp_path):
    assert "burnout" in runner.invoke(app, ["codebook", "list"]).output
    converted = tmp_path / "b.qdc"
    assert runner.invoke(app, ["codebook", "convert", "burnout", str(converted)]).exit_code == 0
    assert "ok (29 codes, 24 codable" in runner.invoke(app, ["codebook", "check", str(converted)]).output
    bad = tmp_path / "bad.yaml"
    bad.write_text("codes:\n  - id: a\n    name: A\n    parent: b\n", encoding="utf-8")
    result = runner.invoke(app, ["codebook", "check", str(bad)])
    assert result.exit_code == 2 and f"{bad}:4:" in result.output


def test_codebook_check_warns_of_a_cue_that_matches_a_very_common_word(tmp_path):
    """A stranger's cue "gone" matched every "go" ("No, you go."), and the check said ok."""
    book = tmp_path / "leaving.yaml"
    book.write_text("codes:\n  - id: intention_to_leave\n    name: Intention to leave\n"
                    "    cues: [gone, quit, handed in my notice]\n", encoding="utf-8")
    result = runner.invoke(app, ["codebook", "check", str(book)])
    assert result.exit_code == 0 and "ok (1 code," in result.output
    assert "warning: intention_to_leave: the cue 'gone' matches every form of 'go'" in result.output
    assert "'quit'" not in result.output


def test_a_survey_csv_with_its_own_column_names_is_coded_with_one_warning_naming_the_guess(tmp_path):
    """A stranger's survey export (Respondent, Answer) was refused with "line 2: the row has no id"."""
    src = tmp_path / "survey.csv"
    src.write_text("Respondent,Answer\nr1,\"So exhausted, nothing left in the tank.\"\nr2,Fine.\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    with pytest.warns(UserWarning) as said:
        result = _run("autocode", "--codebook", "burnout", "--input", str(src), "--output", str(out))
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == ["r1", "r2"]
    guesses = [str(w.message) for w in said if "columns guessed" in str(w.message)]
    assert guesses == ["survey.csv: columns guessed: id from 'Respondent', text from 'Answer'; name them 'id' and "
                       "'text' in the file if that is wrong"]


def test_a_csv_with_no_id_column_names_the_columns_it_has(tmp_path):
    src = tmp_path / "scores.csv"
    src.write_text("who,score\nr1,3\n", encoding="utf-8")
    result = _run("autocode", "--codebook", "burnout", "--input", str(src), "--output", str(tmp_path / "o.jsonl"))
    assert result.exit_code != 0
    assert "scores.csv:1: no 'id' column among ['who', 'score']" in str(result.exception)
    assert not (tmp_path / "o.jsonl").exists() and not (tmp_path / "o.jsonl.partial").exists()
