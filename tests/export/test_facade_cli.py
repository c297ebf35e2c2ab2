"""The notebook facade (qk.Project) and the CLI for analysis, reliability, export, report and import."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))
from _build import build_project

import qualkit as qk
from qualkit.cli import app, main


@pytest.fixture
def project(tmp_path):
    p = qk.Project.create(tmp_path / "p.qualkit.db", name="Pilot", codebook=None, user="ana")
    build_project(p.store)
    p.set_min_cell(1)  # one or two people per role: shown group by group here (the guard has its own tests)
    yield p
    p.store.engine.dispose()


def test_facade_runs_every_analysis(project):
    prev = project.prevalence(by="role")
    assert set(prev.table["group"]) == {"resident", "staff", "attending"}
    assert "code_name" in prev.table  # the project's codebook names the codes
    assert project.cooccurrence().loc["workload", "exhaustion"] == 1
    assert project.cooccurrence(window=1).shape[0] == project.cooccurrence().shape[0]
    assert not project.saturation().empty
    assert project.distinctive_words(by="role", min_count=1).columns.tolist()[:2] == ["group", "word"]
    quotes = project.quotes("exhaustion", n=2)
    assert quotes["quote"].tolist()[0] in {"Exhaustion", "夜 shifts are brutal."}
    rel = project.reliability(["ana", "ben"], n_boot=20)
    assert {c.name for c in rel.coders} == {"ana", "ben"} and not rel.per_code.empty
    assert qk.reliability is not None and qk.cohen_kappa([1, 0], [1, 0]) == 1.0


def test_facade_exports_and_imports(project, tmp_path):
    qdpx = project.export(tmp_path / "pilot.qdpx")
    assert zipfile.is_zipfile(qdpx)
    assert project.export(tmp_path / "codebook.qdc").read_bytes().startswith(b"<?xml")
    assert project.export(tmp_path / "tables.xlsx").exists()
    assert (project.export(tmp_path / "tables") / "codings.csv").exists()
    assert project.report(tmp_path / "report.md", n_boot=20).exists()
    with pytest.raises(qk.InvalidInput, match="cannot export"):
        project.export(tmp_path / "x.pdf")
    copy = qk.Project.import_qdpx(qdpx, tmp_path / "copy.qualkit.db")
    assert copy.name == "Pilot" and copy.import_report.sources == 2
    beside = qk.Project.import_qdpx(qdpx)
    assert Path(beside.store.engine.url.database) == qdpx.with_suffix(".qualkit.db")
    empty = qk.Project.create(tmp_path / "into.qualkit.db", name="Into", codebook=None, user="ana")
    same = qk.Project.import_qdpx(qdpx, into=empty)
    assert same is empty and len(empty.sources()) == 2
    for p in (copy, beside, empty):
        p.store.engine.dispose()


def test_cli_commands(project, tmp_path):
    runner = CliRunner()
    db = str(project.store.engine.url.database)

    def run(*args: str) -> str:
        result = runner.invoke(app, [*args, "--db", db])
        assert result.exit_code == 0, result.output
        return result.output

    assert "resident" in run("analyze", "prevalence", "--by", "role")
    assert "Tests per code" in run("analyze", "prevalence")
    assert "workload" in run("analyze", "cooccurrence", "--window", "1")
    assert "g2.txt" in run("analyze", "saturation")
    assert "Resident, group 1" in run("analyze", "quotes", "--code", "exhaustion")
    run("analyze", "prevalence", "--out", str(tmp_path / "prev.csv"))
    assert pd.read_csv(tmp_path / "prev.csv", encoding="utf-8-sig")["group"].nunique() == 3
    output = run("reliability", "--coder", "ana", "--coder", "ben", "--n-boot", "20",
                 "--disagreements", str(tmp_path / "dis.csv"))
    assert "no coder coded were excluded" in output and (tmp_path / "dis.csv").exists()
    written = run("export", str(tmp_path / "cli.qdpx"))
    assert "wrote" in written and ": holds " in written and "memos" in written  # what the file holds
    assert "wrote" in run("report", str(tmp_path / "cli.html"), "--n-boot", "20", "--no-figures")
    result = runner.invoke(app, ["import-qdpx", str(tmp_path / "cli.qdpx"), "--db", str(tmp_path / "new.db")])
    assert result.exit_code == 0 and "imported Pilot: 2 sources" in result.output


def test_cli_errors_are_one_line_with_exit_status_2(project, tmp_path, capsys):
    db = str(project.store.engine.url.database)
    with pytest.raises(SystemExit) as exit_info:
        main(["analyze", "quotes", "--db", db])
    assert exit_info.value.code == 2
    assert "quotes need a code" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["reliability", "--coder", "ana", "--coder", "nobody", "--db", db])
    assert exit_info.value.code == 2
    (tmp_path / "bad.qdpx").write_bytes(b"not a zip")
    with pytest.raises(SystemExit) as exit_info:
        main(["import-qdpx", str(tmp_path / "bad.qdpx"), "--db", str(tmp_path / "never.db")])
    assert exit_info.value.code == 2
    assert "not a zip" in capsys.readouterr().err
    assert not (tmp_path / "never.db").exists()


def test_cli_reliability_prints_intervals_per_code(project):
    runner = CliRunner()
    result = runner.invoke(app, ["reliability", "--coder", "ana", "--coder", "ben", "--n-boot", "200",
                                 "--db", str(project.store.engine.url.database)])
    assert result.exit_code == 0, result.output
    table = result.output.split("\n\n")[-2] if "disagreements" in result.output else result.output
    header = next(line for line in table.splitlines() if "cohen_kappa" in line)
    assert "cohen_kappa_low" not in header
    rows = [line for line in table.splitlines() if line.strip().startswith(("workload", "ehr", "exhaustion"))]
    assert rows and all("[" in row and "]" in row for row in rows)  # value [low, high] or n/a per statistic
    assert "Units judged" in result.output


def test_analyze_prevalence_of_a_survey_with_no_roles_counts_everyone_together(tmp_path):
    """A stranger's `qualkit analyze prevalence` on a survey: "error: no attribute 'role' on the segments"."""
    survey = tmp_path / "survey.csv"
    survey.write_text("Response ID,Staff group,What is hardest?\nR1,Nurse,Too much paperwork\nR2,Porter,Lifting\n",
                      encoding="utf-8")
    project = qk.Project.create(tmp_path / "s.qualkit.db", name="Survey", user="ana")
    project.import_transcripts(survey, progress=False)
    answer = project.segments().iloc[0]
    project.code(int(answer["id"]), project.codebook.codable_codes[0].id)
    db = str(tmp_path / "s.qualkit.db")
    result = CliRunner().invoke(app, ["analyze", "prevalence", "--db", db, "--user", "ana"])
    assert result.exit_code == 0, result.output
    assert "all" in result.output and "role" not in result.output
    by_group = CliRunner().invoke(app, ["analyze", "prevalence", "--db", db, "--user", "ana", "--by", "Staff group"])
    assert by_group.exit_code == 0 and "Nurse" in by_group.output
    project.store.engine.dispose()


def test_cli_export_and_report_say_what_they_write_before_the_wait(project, tmp_path, capsys):
    """A stranger's export and report printed nothing for 3-18 s, and read as hung."""
    db = str(project.store.engine.url.database)
    for command in (["export", str(tmp_path / "out.xlsx")], ["report", str(tmp_path / "r.md"), "--n-boot", "20"]):
        with pytest.raises(SystemExit) as exit_info:
            main([*command, "--db", db])
        assert exit_info.value.code == 0
        captured = capsys.readouterr()
        assert captured.err.startswith(f"writing {'the report ' if command[0] == 'report' else ''}{command[1]}")
        assert captured.out.startswith("wrote ")


def test_output_files_in_a_missing_folder_are_refused_before_the_work(project, tmp_path, capsys):
    """A bare 'No such file or directory', after a thousand bootstrap resamples."""
    db = str(project.store.engine.url.database)
    for command in (["analyze", "prevalence", "--out", str(tmp_path / "nope" / "p.csv")],
                    ["reliability", "--coder", "ana", "--coder", "ben", "--out", str(tmp_path / "nope" / "r.csv")],
                    ["reliability", "--coder", "ana", "--coder", "ben", "--disagreements",
                     str(tmp_path / "nope" / "d.csv")]):
        with pytest.raises(SystemExit) as exit_info:
            main([*command, "--db", db])
        captured = capsys.readouterr()
        assert exit_info.value.code == 2 and "no folder" in captured.err and "Fix: create the folder" in captured.err
        assert "cohen" not in captured.out.lower()  # refused before the statistics were computed and printed


def test_analysis_outputs_say_when_they_replace_a_file_and_refuse_one_file_for_two(project, tmp_path):
    """``analyze --out`` and ``reliability --disagreements`` replaced a researcher's file without a word."""
    db = str(project.store.engine.url.database)
    target = tmp_path / "prevalence.csv"
    first = runner_invoke(["analyze", "prevalence", "--db", db, "--out", str(target)])
    assert first.exit_code == 0 and "replaced" not in first.output
    again = runner_invoke(["analyze", "prevalence", "--db", db, "--out", str(target)])
    assert again.exit_code == 0 and f"wrote {target} (replaced the file that was there)" in again.output
    same = tmp_path / "both.csv"
    both = runner_invoke(["reliability", "--coder", "ana", "--coder", "ben", "--db", db, "--out", str(same),
                          "--disagreements", str(same)])
    assert "named for two outputs" in str(both.exception) and not same.exists()


def runner_invoke(arguments):
    return CliRunner().invoke(app, [*arguments, "--user", "ana"])
