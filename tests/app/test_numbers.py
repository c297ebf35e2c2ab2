"""One set of numbers: app, Project, CLI and report give the same prevalence; every count opens its passages."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from qualkit.app.components.apptest import component_data
from qualkit.model import Code, Participant

ROLES = {"Ana": "resident", "Béla": "resident", "Chris": "attending", "Dee": "attending", "Eli": "attending"}


@pytest.fixture
def coded(quiet_study):
    """The mini study with roles, a codable parent with a sub-code, accepted codings (own and sub-code) and a code
    nobody applied."""
    store, project = quiet_study.store, quiet_study.project
    store.upsert_participants([Participant(n, attributes={"role": r}) for n, r in ROLES.items()], user="setup")
    book = store.codebook()
    book.codes.append(Code("debriefing", "Debriefing", parent="peer_support", definition="Talking cases through."))
    book.codes.append(Code("isolation", "Isolation", definition="Feeling alone at work."))
    project.set_codebook(book, note="add a sub-code")
    for row in store.codings_df().itertuples():
        store.decide(int(row.id), "accept", user="ana")
    chris = quiet_study.segment("group1.txt", 4)  # "we debrief after hard cases": already peer_support
    dee = quiet_study.segment("group2.txt", 3)  # Dee's turn 1 has an accepted peer_support suggestion
    project.user = "ana"
    project.code(int(chris["id"]), "debriefing")
    project.code(int(dee["id"]), "debriefing")
    # Two residents and three attendings: shown role by role here (the guard is checked below, and in
    # tests/analysis/test_small_cells.py).
    store.update_settings(user="admin", min_cell=1)
    return quiet_study


def _numbers(table: pd.DataFrame) -> pd.DataFrame:
    return (table[["code_id", "group", "segments", "segments_pct", "speakers"]].astype(
        {"segments": int, "speakers": int, "segments_pct": float}).sort_values(["code_id", "group"])
        .reset_index(drop=True))


def test_app_project_cli_and_report_agree_and_label_rollups(coded, apptest, helpers, tmp_path):
    from qualkit.cli import app
    from qualkit.export.report import collect_report, render_html

    project = coded.project
    notebook = project.prevalence(by="role")
    table = notebook.table.set_index(["code_id", "group"])
    # Peer support itself on Chris's and Dee's first turns; + sub-codes adds Dee's debriefing: the rows differ.
    assert table.loc[("peer_support", "attending"), "segments"] == 2
    assert table.loc[("peer_support+", "attending"), "segments"] == 3
    assert table.loc[("peer_support+", "attending"), "code_name"] == "Peer support + sub-codes"
    # A code nobody applied is a row of zeros (an absent code is a finding), on every surface below.
    assert table.loc["isolation", "segments"].tolist() == [0, 0]
    assert table.loc[("systemic_drivers+", "resident"), "code_name"] == "Systemic drivers + sub-codes"

    out = tmp_path / "prevalence.csv"
    result = CliRunner().invoke(app, ["analyze", "prevalence", "--db", coded.url, "--by", "role", "--out", str(out)])
    assert result.exit_code == 0, result.output
    pd.testing.assert_frame_equal(_numbers(pd.read_csv(out)), _numbers(notebook.table))

    report = collect_report(coded.store, by="role", n_boot=0, figures=False)
    pd.testing.assert_frame_equal(_numbers(report.results["prevalence"].table), _numbers(notebook.table))
    # The Excel sheet too (it had no roll-up rows, so a category read 0 there).
    workbook = project.export(tmp_path / "tables.xlsx", by="role")
    pd.testing.assert_frame_equal(_numbers(pd.read_excel(workbook, sheet_name="prevalence")), _numbers(notebook.table))
    html = render_html(report, tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Peer support + sub-codes" in html and "3 (75%)" in html  # 3 of the attendings' 4 segments

    at = apptest("ana", "analysis")
    helpers.assert_ok(at)
    at.selectbox(key="an_by").select("role").run()
    shown = at.dataframe(key="an_cells").value.set_index("code")
    for row in notebook.table.itertuples():
        assert shown.loc[row.code_name, row.group] == f"{row.segments} ({row.segments_pct:.1f}%)"
    assert "Peer support + sub-codes" in shown.index and "Peer support" in shown.index
    assert shown.loc["Isolation"].tolist() == ["0 (0.0%)", "0 (0.0%)"]


def test_every_count_opens_its_passages_with_a_link_to_the_transcript(coded, apptest, helpers):
    notebook = coded.project.prevalence(by="role").table
    at = apptest("ana", "analysis")
    at.selectbox(key="an_by").select("role").run()
    codes = list(dict.fromkeys(notebook["code_id"]))
    row = codes.index("peer_support+")
    at.session_state["an_cells"] = {"selection": {"rows": [], "columns": [], "cells": [[row, "attending"]]}}
    at.run()
    helpers.assert_ok(at)
    assert at.selectbox(key="an_code").value == "peer_support+" and at.selectbox(key="an_group").value == "attending"
    passages = component_data(at, "an_passages_text")["passages"]
    assert len(passages) == 3 and "**Peer support + sub-codes · attending** — 3 passages" in helpers.texts(at)
    assert {p["label"] for p in passages} == {"Attending, group1.txt", "Attending, group2.txt"}  # by role, never a name
    expected = coded.project.passages("peer_support+", by="role", group="attending")
    assert sorted(int(str(p["id"]).rsplit("-", 1)[1]) for p in passages) == sorted(expected["segment_id"])
    links = [e for e in at.get("page_link")]
    assert len(links) == 3 and all("transcript" in e.proto.page for e in links)
    first = expected.iloc[0]
    assert any(f"segment={int(first['segment_id'])}" in str(e.proto) or str(int(first["segment_id"])) in str(e.proto)
               for e in links)

    # A co-occurrence cell: segments coded with both.
    matrix = coded.project.cooccurrence()
    codes = [str(c) for c in matrix.index]
    a, b = codes.index("peer_support"), "Debriefing (debriefing)"
    at.session_state["an_co_cells"] = {"selection": {"rows": [], "columns": [], "cells": [[a, b]]}}
    at.run()
    helpers.assert_ok(at)
    both = component_data(at, "an_co_passages_text")["passages"]
    assert len(both) == int(matrix.loc["peer_support", "debriefing"]) == 1


def test_analysis_page_keeps_the_studys_minimum_cell_size_and_says_so(coded, apptest, helpers):
    """With the default minimum cell size, the two residents are no column of their own; an info line says why.
    The attendings join them: a resident column left out would be the overall figures minus the attendings'."""
    coded.store.update_settings(user="admin", min_cell=3)
    other = "Other (groups of fewer than 3 people, with attending)"
    notebook = coded.project.prevalence(by="role")
    assert set(notebook.table["group"]) == {other}
    at = apptest("ana", "analysis")
    at.selectbox(key="an_by").select("role").run()
    helpers.assert_ok(at)
    shown = at.dataframe(key="an_cells").value
    assert other in shown.columns and "resident" not in shown.columns and "attending" not in shown.columns
    info = " ".join(str(e.value) for e in at.info)
    assert f"role: resident has fewer than 3 people, so it is shown together with attending as \u201c{other}\u201d" in info
    assert not any("fewer than 3 people" in str(e.value) for e in at.warning)
    assert not {"Ana", "Béla"} & set(info.replace(",", " ").split())


def test_transcript_link_opens_that_place(coded, helpers):
    from streamlit.testing.v1 import AppTest

    seg = coded.segment("group2.txt", 2)
    at = AppTest.from_file(str(helpers.APP), default_timeout=30)
    at.session_state["qk_user"] = "ana"
    at.query_params.update({"source": str(int(seg["source_id"])), "segment": str(int(seg["id"]))})
    at.run()
    at.switch_page("qualkit/app/pages/transcript.py").run()
    helpers.assert_ok(at)
    assert at.selectbox(key="tx_source").value == "group2.txt"
    assert at.selectbox(key="tx_segment").value == int(seg["id"])
    assert "Opened at turn #2, Eli" in helpers.texts(at)
    # Taken out of the address once followed: a tab reconnecting after a restart must not follow it again and
    # move the memo panel back to the linked turn.
    assert "segment" not in at.query_params and "source" not in at.query_params
    other = coded.segment("group2.txt", 1)
    at.selectbox(key="tx_segment").select(int(other["id"])).run()
    assert at.selectbox(key="tx_segment").value == int(other["id"])


def test_the_studys_minimum_cell_size_is_set_on_the_analysis_page(coded, apptest, helpers):
    """It could be changed only from Python; an administrator sets it here, and everyone's figures follow."""
    coded.store.update_settings(user="admin", min_cell=3)
    coder = apptest("ana", "analysis")
    coder.selectbox(key="an_by").select("role").run()
    assert not [n for n in coder.number_input if n.key == "an_min_cell"]  # a coder does not set the study's rule
    at = apptest("admin", "analysis")
    at.selectbox(key="an_by").select("role").run()
    at.number_input(key="an_min_cell").set_value(1)
    at.button(key="an_min_cell_save").click().run()
    helpers.assert_ok(at)
    assert coded.project.min_cell == 1 and "Every group is shown" in helpers.texts(at)
    assert "resident" in at.dataframe(key="an_cells").value.columns
    assert coded.store.events_df().iloc[0]["user"] == "admin"  # who changed the rule, and when, is on record
