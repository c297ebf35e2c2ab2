"""CSV and Excel exports: one workbook with the project's tables, formula injection escaped."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from _build import build_project

from qualkit.export.tables import escape_cell, escape_frame, export_tables, write_csvs, write_workbook
from qualkit.model import Coding
from qualkit.store.repository import Store

DANGEROUS = ["=HYPERLINK(\"http://evil\",\"x\")", "+1+1", "-2+3", "@SUM(A1:A2)", "\t=1", "\r=1"]


@pytest.mark.parametrize("value", DANGEROUS)
def test_formula_like_text_is_escaped(value):
    assert escape_cell(value) == "'" + value


def test_numbers_and_plain_text_are_untouched():
    assert escape_cell(-3.5) == -3.5 and escape_cell("fine = ok") == "fine = ok" and escape_cell(None) is None
    frame = escape_frame(pd.DataFrame({"=col": ["=1", "x"], "n": [-1, 2]}))
    assert list(frame.columns) == ["'=col", "n"] and frame["n"].tolist() == [-1, 2]


def test_workbook_cells_are_text_never_formulas(tmp_path):
    frame = pd.DataFrame({"text": DANGEROUS, "bad\x01chars": ["a\x07b"] * len(DANGEROUS)})
    out = write_workbook(tmp_path / "t.xlsx", {"codings": frame})
    sheet = openpyxl.load_workbook(out)["codings"]
    values = [sheet.cell(row=r, column=1) for r in range(2, len(DANGEROUS) + 2)]
    # The words as written, in string cells with the quote prefix (a stranger saw "'+1 to what ..." in Excel).
    assert [c.value for c in values] == DANGEROUS and all(c.data_type == "s" and c.quotePrefix for c in values)
    assert sheet.cell(row=2, column=2).value == "a\ufffdb"
    csv_path = write_csvs(tmp_path / "csv", {"codings": frame})[0]
    with csv_path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert [row[0] for row in rows[1:]] == ["'" + v for v in DANGEROUS]
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_project_workbook_has_the_four_tables_and_escapes_coded_text(tmp_path):
    store = Store.create("sqlite://", name="p")
    info = build_project(store)
    g2 = info["sources"][1]
    # A participant who says something that looks like a formula.
    segment = g2.segments[1]
    store.add_codings([Coding(segment.id, "workload", status="accepted", coder="ana")])
    store.update_settings(user="ana", min_cell=1)  # groups of one or two people: what these sheets are checked with
    out = export_tables(store, tmp_path / "study.xlsx")
    book = openpyxl.load_workbook(out)
    assert {"about", "codings", "codebook", "prevalence", "prevalence_tests", "cooccurrence"} <= set(book.sheetnames)
    codings = pd.read_excel(out, sheet_name="codings")
    assert {"coding_id", "source", "speaker", "role", "code_id", "code_name", "status", "coder", "coded_text",
            "start", "end"} <= set(codings.columns)
    assert set(codings["status"]) == {"accepted", "suggested", "rejected"}
    assert "Exhaustion" in set(codings["coded_text"])
    prevalence = pd.read_excel(out, sheet_name="prevalence")
    assert set(prevalence["group"]) == {"resident", "staff", "attending"}
    codebook = pd.read_excel(out, sheet_name="codebook")
    assert codebook["code_id"].tolist() == ["drivers", "workload", "ehr", "exhaustion"]
    co = pd.read_excel(out, sheet_name="cooccurrence", index_col=0)
    assert co.loc["workload", "exhaustion"] >= 1
    # Memos and participants travel in the workbook too, not only in the .qdpx.
    memos = pd.read_excel(out, sheet_name="memos")
    assert sorted(memos["text"]) == sorted(store.memos_df()["text"])
    assert set(memos["on"]) <= {"a turn", "a transcript", "a code", "the project"} and "a turn" in set(memos["on"])
    people = pd.read_excel(out, sheet_name="participants", dtype=str)
    assert set(people["participant"]) == {p.id for p in store.participants()}
    assert "cues" in codebook.columns
    folder = export_tables(store, tmp_path / "csv", format="csv")
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        f"{n}.csv" for n in ("about", "codings", "codebook", "prevalence", "prevalence_tests", "cooccurrence",
                             "memos", "participants"))


def test_formula_in_a_transcript_is_escaped_in_the_export(tmp_path):
    from _build import CODEBOOK, source_from_turns

    store = Store.create("sqlite://", name="p")
    store.save_codebook(CODEBOOK)
    source = source_from_turns("evil.txt", [("Ann", "=cmd|' /C calc'!A0", "participant")], "\n")
    store.add_source(source)
    store.add_codings([Coding(source.segments[0].id, "workload", status="accepted", coder="ana")])
    out = export_tables(store, tmp_path / "evil.xlsx")
    sheet = openpyxl.load_workbook(out)["codings"]
    cells = [c for row in sheet.iter_rows() for c in row if isinstance(c.value, str) and "calc" in c.value]
    assert cells and all(c.value.startswith("=") and c.data_type == "s" and c.quotePrefix for c in cells)


def test_ids_and_turns_are_whole_numbers_in_the_csv(tmp_path):
    """A stranger's codings.csv read parent_id "1.0": a column of ids with gaps was written as floats."""
    store = Store.create("sqlite://", name="p")
    info = build_project(store)
    segment = info["sources"][0].segments[1]
    first = store.codings_df().iloc[0]
    store.add_codings([Coding(segment.id, "workload", status="accepted", coder="ana", parent_id=int(first["id"]))])
    folder = export_tables(store, tmp_path / "csv", format="csv")
    with open(folder / "codings.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    parents = [r["parent_id"] for r in rows if r["parent_id"]]
    assert parents == [str(int(first["id"]))]
    assert all(r["turn"] == "" or r["turn"].isdigit() for r in rows)


def test_a_quote_that_starts_like_a_formula_keeps_its_words_in_the_workbook(tmp_path):
    """A stranger's codings sheet showed "'+1 to what the others said…": the defence changed the words."""
    from _build import CODEBOOK, source_from_turns

    words = "+1 to what the others said… the rota is the problem"
    store = Store.create("sqlite://", name="p")
    store.save_codebook(CODEBOOK)
    source = source_from_turns("g.txt", [("Ann", words, "participant")], "\n")
    store.add_source(source)
    store.add_codings([Coding(source.segments[0].id, "workload", status="accepted", coder="ana")])
    book = openpyxl.load_workbook(export_tables(store, tmp_path / "study.xlsx"))
    cells = [c for row in book["codings"].iter_rows() for c in row if isinstance(c.value, str) and "rota" in c.value]
    assert cells and all(c.value == words and c.data_type == "s" and c.quotePrefix for c in cells)
    about = dict(pd.read_excel(tmp_path / "study.xlsx", sheet_name="about").itertuples(index=False))
    assert "put a ' before it" in about["text starting with = + - or @"]
    folder = export_tables(store, tmp_path / "csv", format="csv")  # the CSV keeps its apostrophe, and says so
    with (folder / "codings.csv").open(encoding="utf-8-sig", newline="") as handle:
        assert "'" + words in [cell for row in csv.reader(handle) for cell in row]
    with (folder / "about.csv").open(encoding="utf-8-sig", newline="") as handle:
        assert "text starting with = + - or @" in dict(csv.reader(handle))


def test_whole_numbers_with_gaps_are_written_as_whole_numbers(tmp_path):
    """A team's codings.csv showed years_in_role 12 as 12.0 (an interviewer had none, so pandas made it a float)."""
    from qualkit.export.tables import write_csv

    frame = pd.DataFrame({"participant": ["P1", "INT"], "years_in_role": [12.0, None], "score": [0.5, 1.0]})
    text = write_csv(frame, tmp_path / "c.csv").read_text(encoding="utf-8-sig")
    assert "P1,12,0.5" in text and "12.0" not in text
    back = pd.read_excel(write_workbook(tmp_path / "c.xlsx", {"codings": frame}))
    assert back.loc[0, "years_in_role"] == 12 and back.loc[0, "score"] == 0.5


def test_the_codings_table_gives_the_recording_time_of_each_coded_turn(tmp_path):
    """A stranger's timestamps were read at import but reached neither the Excel sheet nor the quotes: the way back
    to the audio was lost."""
    import qualkit as qk
    from qualkit.export.tables import tidy_codings

    vtt = tmp_path / "huddle.vtt"
    vtt.write_text("WEBVTT\n\n00:00:01.000 --> 00:00:04.000\n<v Omar>We never get a break on nights.\n\n"
                   "00:03:12.000 --> 00:03:15.000\n<v Lena>The rota has three gaps again.\n", encoding="utf-8")
    project = qk.Project.create(tmp_path / "s.qualkit.db", codebook="burnout", user="ana")
    project.import_transcripts([vtt], progress=False)
    second = project.segments().sort_values("start").iloc[1]
    project.code(int(second["id"]), project.codebook.codable_codes[0].id)
    table = tidy_codings(project.store)
    project.store.engine.dispose()
    assert table["time"].tolist() == ["3:12"]
    assert list(table.columns).index("time") == list(table.columns).index("turn") + 1
