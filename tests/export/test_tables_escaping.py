"""Formula escaping on every sheet-writing path: categorical columns, indexes, look-alikes, leading space."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from _build import CODEBOOK, live_in_excel, runnable_formula, source_from_turns

from qualkit.export.tables import (
    escape_cell,
    escape_frame,
    export_tables,
    starts_like_formula,
    write_csvs,
    write_workbook,
)
from qualkit.model import Coding, Participant
from qualkit.store.repository import Store

LOOKALIKES = [" =1+1", "\u00a0=1", "\u200b=1", "\ufeff@SUM(A1)", "\uff1d1+1", "\uff0b1", "\uff0d1", "\uff20A1",
              "\ufe661", "\u22121+1", "  \uff1dHYPERLINK(\"http://x\")", "\n=1"]
SAFE = ["fine = ok", "— I mean, nights", "– well", "(laughs) =)", "", "a.m."]


@pytest.mark.parametrize("value", LOOKALIKES)
def test_leading_space_and_lookalike_signs_are_escaped(value):
    assert starts_like_formula(value) and escape_cell(value) == "'" + value


@pytest.mark.parametrize("value", SAFE)
def test_prose_is_left_alone(value):
    assert escape_cell(value) == value


def _tricky_frame() -> pd.DataFrame:
    frame = pd.DataFrame({
        "category": pd.Categorical(["=A1", "ok", "\uff1d2"]),
        "string": pd.array([" =cmd", "fine", None], dtype="string"),
        "object": ["@x", "y", "\u22121"],
        "number": [-1, 2, 3],
    }, index=pd.CategoricalIndex(["=idx", "b", "c"], name="=name"))
    return frame



def test_escape_frame_covers_categorical_string_object_columns_and_the_index():
    safe = escape_frame(_tricky_frame())
    assert safe["category"].tolist() == ["'=A1", "ok", "'\uff1d2"]
    assert safe["string"].tolist()[:2] == ["' =cmd", "fine"]
    assert safe["object"].tolist() == ["'@x", "y", "'\u22121"]
    assert safe["number"].tolist() == [-1, 2, 3]
    assert safe.index.tolist() == ["'=idx", "b", "c"] and safe.index.name == "'=name"
    multi = pd.DataFrame({"v": [1, 2]}, index=pd.MultiIndex.from_tuples([("=a", "x"), ("b", "+y")]))
    assert escape_frame(multi).index.tolist() == [("'=a", "x"), ("b", "'+y")]
    columns = pd.DataFrame([[1]], columns=pd.MultiIndex.from_tuples([("=top", "-low")]))
    assert escape_frame(columns).columns.tolist() == [("'=top", "'-low")]


def _csv_cells(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return [cell for row in csv.reader(handle) for cell in row]


def _xlsx_cells(path: Path) -> list[openpyxl.cell.Cell]:
    book = openpyxl.load_workbook(path)
    return [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]


def test_csv_and_workbook_writers_never_hold_a_live_formula(tmp_path):
    frame = _tricky_frame()
    csv_path = write_csvs(tmp_path / "csv", {"t": frame})[0]
    cells = _csv_cells(csv_path)
    assert "'=A1" in cells and "'=idx" in cells and not any(runnable_formula(c) for c in cells)
    workbook = write_workbook(tmp_path / "t.xlsx", {"t": frame})
    cells = _xlsx_cells(workbook)
    assert not any(live_in_excel(c) for c in cells)
    assert {"=A1", "=idx", " =cmd", "\u22121"} <= {c.value for c in cells}  # the words unchanged


def test_project_exports_escape_categorical_participant_attributes_and_coded_text(tmp_path):
    store = Store.create("sqlite://", name="p")
    store.save_codebook(CODEBOOK, user="ana")
    store.upsert_participants([Participant("Ann", attributes={"role": "=HYPERLINK(\"http://evil\")",
                                                              "site": "\uff1dcmd"})])
    source = source_from_turns("g.txt", [("Ann", " =1+1 said the pager", "participant")], "\n")
    store.add_source(source)
    store.add_codings([Coding(source.segments[0].id, "workload", status="accepted", coder="ana")])
    workbook = export_tables(store, tmp_path / "study.xlsx", by="role")
    cells = _xlsx_cells(workbook)
    assert not any(live_in_excel(c) for c in cells)
    assert "=HYPERLINK(\"http://evil\")" in {c.value for c in cells}
    folder = export_tables(store, tmp_path / "csv", format="csv", by="role")
    for path in folder.iterdir():
        assert not any(runnable_formula(c) for c in _csv_cells(path)), path.name


def test_cli_out_files_are_escaped(tmp_path):
    from typer.testing import CliRunner

    from qualkit.cli import app

    store = Store.create(tmp_path / "p.qualkit.db", name="p")
    store.save_codebook(CODEBOOK, user="ana")
    store.upsert_participants([Participant("Ann", attributes={"role": "=evil()"})])
    source = source_from_turns("g.txt", [("Ann", "@SUM(A1) at night", "participant")], "\n")
    store.add_source(source)
    store.add_codings([Coding(source.segments[0].id, "workload", status="accepted", coder="ana")])
    runner = CliRunner()
    for out in ("prev.csv", "prev.xlsx", "quotes.csv"):
        what = ["quotes", "--code", "workload"] if out.startswith("quotes") else ["prevalence"]
        result = runner.invoke(app, ["analyze", *what, "--db", str(tmp_path / "p.qualkit.db"), "--min-cell", "1",
                                     "--out", str(tmp_path / out)])  # one person: a group shown only without the guard
        assert result.exit_code == 0, result.output
        if out.endswith(".csv"):
            cells = _csv_cells(tmp_path / out)
            assert not any(runnable_formula(c) for c in cells), out
            assert any(isinstance(c, str) and c.startswith("'") for c in cells), out
        else:
            cells = _xlsx_cells(tmp_path / out)
            assert not any(live_in_excel(c) for c in cells), out
            assert "=evil()" in {c.value for c in cells}, out
    store.engine.dispose()
