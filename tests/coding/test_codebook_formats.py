"""The codebook-format registry: every entry writes and reads back the same codebook, found by name and suffix."""

from __future__ import annotations

from dataclasses import asdict

import pytest

from qualkit.codebook import FORMATS, codebook_format, load_codebook, save_codebook, suffixes
from qualkit.codebook.validation import fill_guids
from qualkit.errors import InvalidCodebook
from qualkit.model import Code, Codebook

BOOK = Codebook("mini", [
    Code("drivers", "Systemic drivers", codable=False, color="#336699"),
    Code("workload", "Workload", parent="drivers", definition="Too much work.\nEvery day.",
         examples=["So many patients, no time."], cues=["overloaded", "no time"]),
    Code("ehr", "EHR burden", parent="drivers", near_misses=["I like the new EHR."], patterns=[r"\bEHR\b"]),
])
fill_guids(BOOK)  # every reader gives a code without a GUID its stable default one


@pytest.mark.parametrize("fmt", FORMATS, ids=[f.name for f in FORMATS])
def test_every_format_round_trips_a_codebook(fmt, tmp_path):
    for suffix in fmt.suffixes:
        path = save_codebook(BOOK, tmp_path / f"mini{suffix}")
        assert codebook_format(path) is fmt and codebook_format(fmt.name) is fmt
        loaded = load_codebook(path, name="mini")
        assert [asdict(c) for c in loaded.codes] == [asdict(c) for c in BOOK.codes], (fmt.name, suffix)


def test_names_and_suffixes_are_unique_and_dispatch_is_by_registry():
    names = [f.name for f in FORMATS]
    assert len(names) == len(set(names)) and len(suffixes()) == len(set(suffixes()))
    assert all(s.startswith(".") and s == s.lower() for s in suffixes())
    with pytest.raises(InvalidCodebook, match=r"\.qdc"):
        save_codebook(BOOK, "codes.docx")


def test_model_codebook_load_uses_the_registry_without_the_model_importing_it():
    import ast
    import inspect

    import qualkit.model

    tree = ast.parse(inspect.getsource(qualkit.model))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | {
        a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not {m for m in imported if m and m.startswith("qualkit")}, imported
    assert Codebook.load("burnout").name == "burnout"


def test_a_parent_category_column_keeps_the_hierarchy(tmp_path):
    """A stranger's "Code / Parent category / Definition" sheet was saved flat: the column was not read."""
    path = tmp_path / "codes.csv"
    path.write_text("Code,Parent category,Definition\nMoral distress,,Knowing what is right and being unable to do it\n"
                    "Futility,Moral distress,Care felt pointless\n"
                    "Powerlessness,Moral distress,No say in decisions\nLeaving,,Plans to quit\n", encoding="utf-8")
    book = load_codebook(path)
    parents = {code.name: code.parent for code in book.codes}
    assert parents["Futility"] == parents["Powerlessness"] is not None and parents["Leaving"] is None
    assert book[parents["Futility"]].name == "Moral distress"
