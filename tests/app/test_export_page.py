"""The Export page: the codings CSV is formula-escaped (issue 16 finding 4), and a stale file is never offered
(issue 12 observation 7)."""

from __future__ import annotations

import csv
import io

from qualkit.errors import InvalidInput
from qualkit.export.tables import starts_like_formula
from qualkit.model import Code
from qualkit.project import Project
from qualkit.review import codebook_edits, decisions
from qualkit.users import Role, User

HYPERLINK = '=HYPERLINK("http://x","click")'
CMD = "=cmd|' /C calc'!A0"


def test_codings_csv_escapes_formulas(quiet_study, apptest, helpers):
    store, admin = quiet_study.store, User("admin", Role.ADMIN)
    codebook = store.codebook()
    codebook_edits.save_codebook_version(
        store, codebook.__class__(codebook.name, [*codebook.codes, Code(HYPERLINK, CMD), Code(CMD, "cmd")],
                                  version=codebook.version), actor=admin, note="hostile codes")
    segment = quiet_study.segment("group1.txt", 1)
    decisions.add_code(store, int(segment["id"]), HYPERLINK, actor=admin)
    decisions.add_code(store, int(segment["id"]), CMD, actor=admin)
    at = apptest("admin", "export")
    at.button(key="ex_csv").click().run()
    helpers.assert_ok(at)
    data = at.session_state["ex_csv_data"]
    cells = [c for row in csv.reader(io.StringIO(data.decode("utf-8-sig"))) for c in row]
    assert f"'{HYPERLINK}" in cells and f"'{CMD}" in cells
    assert not [c for c in cells if starts_like_formula(c) and not c.lstrip("-").replace(".", "").isdigit()]


def _downloads(at) -> list[str]:
    return [b.label for b in at.get("download_button")]


def test_no_stale_download_after_a_new_choice_or_a_failed_export(quiet_study, apptest, helpers, monkeypatch):
    at = apptest("admin", "export")
    at.selectbox(key="ex_format").select("Excel workbook").run()
    at.button(key="ex_run").click().run(timeout=60)
    helpers.assert_ok(at)
    assert "Download Mini_burnout_study.xlsx" in _downloads(at)
    # another format chosen: the workbook made for the old choice is not offered for it
    at.selectbox(key="ex_format").select("REFI-QDA codebook (.qdc)").run()
    assert not [d for d in _downloads(at) if d != "Download codings.csv"]
    # a new export that fails leaves no download of the previous file behind
    at.selectbox(key="ex_format").select("Excel workbook").run()

    def fail(self, *args, **kwargs):
        raise InvalidInput("the disk is full")

    monkeypatch.setattr(Project, "export", fail)
    at.button(key="ex_run").click().run(timeout=60)
    assert "the disk is full" in helpers.texts(at)
    assert "ex_file" not in at.session_state
    assert not [d for d in _downloads(at) if d != "Download codings.csv"]


def test_codings_csv_belongs_to_its_statuses(quiet_study, apptest, helpers):
    at = apptest("admin", "export")
    at.button(key="ex_csv").click().run()
    assert _downloads(at) == ["Download codings.csv"]
    at.multiselect(key="ex_status").select("rejected").run()
    assert _downloads(at) == []  # the CSV made for "accepted" is not offered for "accepted + rejected"


def test_the_workbook_prevalence_sheet_is_grouped_by_the_attribute_chosen(quiet_study, apptest, helpers):
    """F could only get prevalence by role in the workbook; she compares sites. Small sites stay hidden."""
    import pandas as pd

    from qualkit.model import Participant

    people = [("Ana", "resident", "North"), ("Béla", "nurse", "North"), ("Chris", "resident", "South"),
              ("Dee", "nurse", "South"), ("Eli", "resident", "South")]
    quiet_study.store.upsert_participants([Participant(name, aliases=[name], attributes={"role": role, "site": site})
                                           for name, role, site in people], user="admin")
    at = apptest("admin", "export")
    at.selectbox(key="ex_format").select("Excel workbook").run()
    by = at.selectbox(key="ex_by")
    assert by.value == "role" and {"role", "site"} <= set(by.options)  # role by default, as before
    by.select("site").run()
    at.button(key="ex_run").click().run(timeout=60)
    helpers.assert_ok(at)
    data = io.BytesIO(at.session_state["ex_file"][1])
    about = dict(pd.read_excel(data, sheet_name="about").values.tolist())
    assert about["prevalence by"] == "site"
    assert about["small groups"].startswith("site: North")  # 2 people: below the study's minimum of 3
    groups = set(pd.read_excel(data, sheet_name="prevalence")["group"])
    assert groups == set(quiet_study.project.prevalence(by="site").table["group"]) and "North" not in groups
    at.selectbox(key="ex_format").select("REFI-QDA codebook (.qdc)").run()
    assert "ex_by" not in {s.key for s in at.selectbox}  # a codebook has no prevalence table
