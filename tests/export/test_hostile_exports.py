"""Issue 16 finding 4: every export path escapes hostile text (formula injection, raw HTML in reports).

The payloads are the ones the attack battery used: code ids and transcript text such as
``=HYPERLINK("http://x","click")`` and ``=cmd|' /C calc'!A0``, and ``<script>`` in transcripts and code
names. The library, the CLI and the app's codings CSV share one CSV writer (``qualkit.export.tables.write_csv``).
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))
from _build import live_in_excel, runnable_formula, source_from_turns

import qualkit as qk
from qualkit.cli import app
from qualkit.export.tables import write_csv
from qualkit.model import Code, Codebook

HYPERLINK = '=HYPERLINK("http://x","click")'
CMD = "=cmd|' /C calc'!A0"
SCRIPT = "<script>alert('x')</script>"



@pytest.fixture
def hostile(tmp_path):
    """A project whose code ids, code names and transcript carry the payloads, with accepted codings."""
    project = qk.Project.create(tmp_path / "h.qualkit.db", name="hostile", codebook=None, user="ana")
    project.set_codebook(Codebook("evil", [
        Code(HYPERLINK, f"{SCRIPT} name", definition=CMD),
        Code(CMD, "=1+1", definition="@SUM(A1)"),
        Code("workload", "Workload"),
    ]))
    source = source_from_turns("g1.txt", [
        ("Moderator", "Tell me.", "moderator"),
        ("Ann", f"{HYPERLINK} and {SCRIPT} too", "participant"),
        ("Bob", f"{CMD} then {SCRIPT}", "participant"),
    ], "\n")
    project.store.add_sources([source], user="ana")
    for segment in source.segments[1:]:
        project.code(segment.id, HYPERLINK)
        project.code(segment.id, CMD)
    yield project
    project.store.engine.dispose()


def _csv_cells(data: bytes) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(data.decode("utf-8-sig"))) for cell in row]


def test_the_one_csv_writer_escapes_the_payloads():
    import pandas as pd

    data = write_csv(pd.DataFrame({"code_id": [HYPERLINK, CMD], "n": [-1, 2]}))
    cells = _csv_cells(data)
    assert f"'{HYPERLINK}" in cells and f"'{CMD}" in cells and "-1" in cells
    assert not any(runnable_formula(c) for c in cells)


def test_library_csv_and_excel_exports_escape(hostile, tmp_path):
    folder = hostile.export(tmp_path / "tables", "csv")
    cells = [c for f in folder.glob("*.csv") for c in _csv_cells(f.read_bytes())]
    assert f"'{HYPERLINK}" in cells and f"'{CMD}" in cells
    assert not [c for c in cells if runnable_formula(c)]
    workbook = openpyxl.load_workbook(hostile.export(tmp_path / "t.xlsx"))
    cells = [c for sheet in workbook for row in sheet.iter_rows() for c in row]
    assert HYPERLINK in {c.value for c in cells} and not [c for c in cells if live_in_excel(c)]


def test_cli_export_and_analysis_out_escape(hostile, tmp_path):
    db = str(hostile.store.engine.url.database)
    runner = CliRunner()
    result = runner.invoke(app, ["export", str(tmp_path / "cli"), "--db", db, "--format", "csv"])
    assert result.exit_code == 0, result.output
    cells = _csv_cells((tmp_path / "cli" / "codings.csv").read_bytes())
    assert f"'{HYPERLINK}" in cells and not [c for c in cells if runnable_formula(c)]
    out = tmp_path / "prev.csv"
    result = runner.invoke(app, ["analyze", "prevalence", "--db", db, "--by", "none", "--out", str(out)])
    assert result.exit_code == 0, result.output
    cells = _csv_cells(out.read_bytes())
    assert f"'{HYPERLINK}" in cells and not [c for c in cells if runnable_formula(c)]


@pytest.mark.parametrize("suffix", ["md", "html"])
def test_reports_escape_script_in_transcripts_and_code_names(hostile, tmp_path, suffix):
    text = hostile.report(tmp_path / f"r.{suffix}", figures=False, n_boot=0).read_text(encoding="utf-8")
    assert "<script" not in text.lower()
    assert "&lt;script&gt;" in text  # the text is there, inert


def test_markdown_report_keeps_no_live_link_from_user_text(tmp_path):
    from qualkit.export.report import Report, render_markdown

    report = Report("[t](javascript:alert(1))")
    report.add("quote", "see ![x](http://tracker/x.png) <img src=x onerror=alert(1)>", attribution="<b>Ann</b>")
    text = render_markdown(report, tmp_path / "r.md").read_text(encoding="utf-8")
    assert "](" not in text.replace("\\](", "") and "<img" not in text and "<b>" not in text


def test_codebook_workbook_holds_formulas_as_text(tmp_path):
    from qualkit.codebook import codebook_to_excel, load_codebook

    book = Codebook("evil", [Code("a", HYPERLINK, definition=CMD)])
    path = codebook_to_excel(book, tmp_path / "cb.xlsx")
    cells = [c for row in openpyxl.load_workbook(path).active.iter_rows() for c in row]
    assert not [c for c in cells if c.data_type == "f"]
    assert load_codebook(str(path))["a"].name == HYPERLINK  # still the same text when read back
