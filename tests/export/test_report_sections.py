"""Report details: machine-coder settings in the methods, coder origins, and sections that say "nothing yet"."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from _build import CODEBOOK, PARTICIPANTS, source_from_turns

from qualkit import __version__
from qualkit.export.report import (
    coder_table,
    collect_report,
    machine_coder_runs,
    machine_coder_text,
    render_markdown,
)
from qualkit.model import Coding
from qualkit.project import Project
from qualkit.store.repository import Store

SECTIONS = ("Prevalence by role", "Co-occurring codes", "Saturation", "Exemplar quotes")


def _section_paragraphs(report) -> dict[str, list[str]]:
    """The paragraphs under each heading."""
    out: dict[str, list[str]] = {}
    current = None
    for block in report.blocks:
        if block.kind == "heading":
            current = block.text
            out.setdefault(current, [])
        elif block.kind == "paragraph" and current is not None:
            out[current].append(block.text)
    return out


def test_methods_report_the_machine_coder_settings_that_autocoding_recorded(tmp_path, monkeypatch):
    monkeypatch.setenv("QUALKIT_EMBEDDER", "lsa")  # the offline fallback, whatever is installed
    project = Project.create(tmp_path / "p.qualkit.db", name="pilot", codebook="burnout", user="ana")
    store = project.store
    store.add_source(source_from_turns("g1.txt", [
        ("Moderator", "What wears you down?", "moderator"),
        ("Ann", "I am completely exhausted and burned out after every night shift.", "participant"),
        ("Bo", "Charting and the inbox eat my evenings; the EHR clicks never end.", "participant"),
        ("Cy", "Twelve patients, no time for lunch, the workload is crushing.", "participant"),
    ], "\n"), user="ana")
    suggested = project.autocode(progress=False)
    assert suggested  # the run made suggestions, so it logged a suggest event
    runs = machine_coder_runs(store)
    assert len(runs) == 1
    run = runs[0]
    assert run["embedder"] == "tfidf-lsa" and run["codebook_version"] == 1 and run["qualkit_version"] == __version__
    from qualkit.coding.ensemble import AutoCoder

    defaults = AutoCoder("burnout").get_params(deep=False)  # the workflow fits a default AutoCoder
    assert "codebook" not in run["params"] and run["params"]["prior_strength"] == defaults["prior_strength"]
    methods = next(b.text for b in collect_report(store, n_boot=0, figures=False).blocks if b.kind == "paragraph")
    assert "TF-IDF/LSA fallback" in methods
    assert f"prior_strength {defaults['prior_strength']}" in methods
    assert f"similarity_weight {defaults['similarity_weight']}" in methods
    assert f"qualkit {__version__} with codebook \u201cburnout\u201d version 1" in methods


def test_methods_say_when_machine_settings_were_not_recorded():
    assert "were not recorded" in machine_coder_text([], ["auto"])
    assert machine_coder_text([], []) == ""
    text = machine_coder_text([{"embedder": "all-MiniLM-L6-v2", "params": {"thresholds": 0.4}, "codebook": "b",
                                "codebook_version": 3, "qualkit_version": "9", "thresholds": None}], ["auto"])
    assert "all-MiniLM-L6-v2 sentence embeddings" in text and "decision threshold 0.4 for every code" in text
    assert "sentence by sentence" not in text  # recorded before the best sentence counted: not claimed
    pooled = machine_coder_text([{"embedder": "all-MiniLM-L6-v2", "params": {"sentence_weight": 0.5}}], ["auto"])
    assert "scored sentence by sentence, and a code's score moved 0.5 of the way to its best sentence's" in pooled


def test_a_reviewer_who_only_decided_suggestions_has_their_origins():
    codings = pd.DataFrame({"coder": ["auto", "auto", "auto"], "origin": ["rules", "similarity", "rules"],
                            "status": ["accepted", "rejected", "suggested"], "decided_by": ["lea", "lea", None],
                            "score": [0.9, 0.4, 0.5], "codebook_version": 1})
    table = coder_table(codings).set_index("coder")
    assert table.loc["lea", "origins"] == "rules, similarity"
    assert table.loc["lea", ["accepted", "rejected"]].tolist() == [1, 1]


def test_a_hand_code_its_coder_removed_again_is_not_reported_as_a_rejection():
    """A stranger added a code by hand, removed it, and the report said "1 rejected coding" of theirs."""
    codings = pd.DataFrame({"coder": ["ana", "ana", "auto"], "origin": ["human", "human", "rules"],
                            "status": ["rejected", "accepted", "rejected"], "decided_by": ["ana", "ana", "ana"],
                            "score": [None, None, 0.4], "codebook_version": 1})
    table = coder_table(codings).set_index("coder")
    assert table.loc["ana", ["accepted", "rejected", "removed"]].tolist() == [1, 1, 1]  # the suggestion's rejection


def _suggestions_only(tmp_path) -> Store:
    """Two transcripts whose only codings are machine suggestions nobody has reviewed."""
    store = Store.create(tmp_path / "s.qualkit.db", name="waiting")
    store.save_codebook(CODEBOOK, user="ana")
    store.upsert_participants(PARTICIPANTS, user="ana")
    store.update_settings(user="ana", min_cell=1)  # two people: every section is shown whatever their groups
    sources = [source_from_turns(f"g{i}.txt", [("Moderator", "How is work?", "moderator"),
                                               ("Ann", "Twelve patients and the inbox, every night.", "participant"),
                                               ("Zoë", "I chart at home after the kids sleep.", "participant")],
                                 "\n") for i in (1, 2)]
    store.add_sources(sources, user="ana")
    store.add_codings([Coding(seg.id, code, origin="rules", status="suggested", coder="auto", score=0.7)
                       for source in sources for seg, code in zip(source.segments[1:], ("workload", "ehr"),
                                                                  strict=True)], user="ana")
    return store


def test_every_section_says_so_when_nothing_is_accepted_yet(tmp_path):
    store = _suggestions_only(tmp_path)
    report = collect_report(store, n_boot=0, figures=False)
    paragraphs = _section_paragraphs(report)
    for section in SECTIONS:
        assert section in paragraphs, section
        assert any(p.startswith("No accepted codings yet \u2014 review suggestions first (4 are waiting)")
                   and "count suggestions too" in p for p in paragraphs[section]), section
    assert "Inter-coder reliability" in paragraphs and "Not computed yet" in paragraphs["Inter-coder reliability"][0]
    text = render_markdown(report, tmp_path / "r.md").read_text(encoding="utf-8")
    assert "transcript 0 of" not in text
    assert not [b for b in report.blocks if b.kind == "table" and b.name in ("prevalence", "cooccurrence")]
    assert not [b for b in report.blocks if b.kind == "quote"]

    counted = collect_report(store, n_boot=0, figures=False, include_suggested=True)
    paragraphs = _section_paragraphs(counted)
    assert not any("No accepted codings yet" in p for section in SECTIONS for p in paragraphs[section])
    assert "the last new code appeared in transcript 1 of 2" in " ".join(paragraphs["Saturation"])
    assert [b for b in counted.blocks if b.kind == "quote"]


def test_the_pilot_report_says_why_there_are_no_cooccurring_pairs_or_reliability(tmp_path):
    store = Store.create("sqlite://", name="one code")
    store.save_codebook(CODEBOOK, user="ana")
    source = source_from_turns("g.txt", [("Ann", "Twelve patients, one me.", "participant")], "\n")
    store.add_source(source, user="ana")
    store.add_codings([Coding(source.segments[0].id, "workload", status="accepted", coder="ana")], user="ana")
    paragraphs = _section_paragraphs(collect_report(store, n_boot=0, figures=False))
    assert paragraphs["Co-occurring codes"] == ["No two codes apply to the same segment yet."]
    assert "so far: ana" in paragraphs["Inter-coder reliability"][0]


@pytest.mark.parametrize("include_suggested", [False, True])
def test_an_empty_project_report_never_prints_empty_tables(tmp_path, include_suggested):
    store = Store.create("sqlite://", name="empty")
    report = collect_report(store, n_boot=0, figures=False, include_suggested=include_suggested)
    assert all(b.table is not None and not b.table.empty for b in report.blocks if b.kind == "table")
    paragraphs = _section_paragraphs(report)
    for section in ("Prevalence", "Co-occurring codes", "Saturation", "Exemplar quotes"):  # no "role" here
        assert any("no codings yet" in p for p in paragraphs[section]), section


def test_a_study_too_small_to_quote_says_why_instead_of_an_empty_section(tmp_path):
    """Two participants, minimum cell 3: the quotes section held a theme heading and nothing under it, and the
    words section blamed "not enough talk" (a stranger's two-nurse pilot)."""
    store = _suggestions_only(tmp_path)
    store.update_settings(user="ana", min_cell=3)
    report = collect_report(store, n_boot=0, figures=False, include_suggested=True)
    paragraphs = _section_paragraphs(report)
    assert not [b for b in report.blocks if b.kind == "quote"]
    assert any(p.startswith("No quote can be shown:") and "fewer than 3 people" in p
               for p in paragraphs["Exemplar quotes"])
    headings = [b.text for b in report.blocks if b.kind == "heading"]
    after = headings[headings.index("Exemplar quotes") + 1]
    assert after == "Inter-coder reliability"  # no theme heading without quotes under it
    assert paragraphs["Distinctive words by role"][0].startswith("Not compared:")
