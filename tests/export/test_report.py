"""Study reports in Markdown, HTML and Word: sections, figures embedded, offline, quotes attributed."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from _build import CORPUS, build_demo_project, build_project

from qualkit import __version__
from qualkit.errors import InvalidInput
from qualkit.export.report import build_report, collect_report, render_html
from qualkit.store.repository import Store


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    store = Store.create(tmp_path_factory.mktemp("report") / "p.qualkit.db", name="Pilot study")
    build_project(store)
    yield store
    store.engine.dispose()


def _offline(text: str) -> None:
    assert "<script" not in text.lower()
    assert "<link" not in text.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']https?://""", text)


def test_report_layout_covers_every_section(small):
    report = collect_report(small, n_boot=50)
    headings = [b.text for b in report.blocks if b.kind == "heading"]
    for expected in ("Methods", "Codebook", "Prevalence by role", "Co-occurring codes", "Saturation",
                     "Exemplar quotes", "Inter-coder reliability"):
        assert expected in headings
    methods = next(b.text for b in report.blocks if b.kind == "paragraph")
    assert f"qualkit {__version__}" in methods
    assert "codebook \u201cmini\u201d, version 1" in methods
    assert "ana" in methods and "auto" in methods  # human and machine coders named
    assert "Only accepted codings were counted" in methods
    quotes = [b for b in report.blocks if b.kind == "quote"]
    assert quotes and all(q.attribution for q in quotes)
    assert {q.attribution for q in quotes} >= {"Resident, group 1"}
    assert not any(name in q.attribution for q in quotes for name in ("Ann", "Béla", "Zoë"))
    assert {b.name for b in report.blocks if b.kind == "figure"} >= {"prevalence", "saturation"}
    coders = next(b.table for b in report.blocks if b.kind == "table" and b.name == "coders").set_index("coder")
    assert coders.loc["auto", "kind"] == "machine" and coders.loc["auto", "scores"] == "0.30\u20130.80"
    assert coders.loc["ben", ["kind", "accepted"]].tolist() == ["human", 2]  # his own coding + one he accepted
    rel = report.results["reliability"]
    assert [c.name for c in rel.coders] == ["ana", "ben"]


def test_markdown_report_writes_figures_beside_it(small, tmp_path):
    out = build_report(small, tmp_path / "study.md", n_boot=50)
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Pilot study")
    images = re.findall(r"!\[[^\]]*\]\(([^)]+\.png)\)", text)
    assert len(images) >= 3
    for image in images:
        data = (tmp_path / image).read_bytes()
        assert data.startswith(b"\x89PNG")
    assert "| Workload |" in text.replace("&emsp;", "")
    assert "\u2014 Resident, group 1" in text


def test_html_report_is_one_offline_file_with_inline_svg(small, tmp_path):
    out = build_report(small, tmp_path / "study.html", n_boot=50)
    text = out.read_text(encoding="utf-8")
    _offline(text)
    assert text.count("<svg") >= 3
    assert "<table>" in text and "<blockquote>" in text
    assert "Resident, group 1" in text
    png = render_html(collect_report(small, n_boot=0), tmp_path / "png.html", inline="png").read_text(encoding="utf-8")
    _offline(png)
    assert png.count('src="data:image/png;base64,') >= 3


def test_word_report_embeds_pictures_and_tables(small, tmp_path):
    from docx import Document

    out = build_report(small, tmp_path / "study.docx", n_boot=50)
    document = Document(str(out))
    assert len(document.inline_shapes) >= 3
    assert len(document.tables) >= 3
    text = "\n".join(p.text for p in document.paragraphs)
    assert f"qualkit {__version__}" in text and "Inter-coder reliability" in text
    assert "Resident, group 1" in text


def test_a_misspelled_attribute_is_an_error_not_everyone_together(small):
    """Seen by a new researcher: --by ward (the study records 'site') silently reported all participants as one."""
    with pytest.raises(InvalidInput, match="no participant attribute 'ward' to compare groups by") as error:
        collect_report(small, by="ward", n_boot=0, figures=False)
    assert "'role'" in str(error.value) and "'start'" not in str(error.value)
    headings = [b.text for b in collect_report(small, by=None, n_boot=0, figures=False).blocks if b.kind == "heading"]
    assert "Prevalence" in headings  # none: everyone together, as asked


def test_report_of_an_empty_project_and_bad_format(tmp_path):
    empty = Store.create("sqlite://", name="empty")
    text = build_report(empty, tmp_path / "e.md").read_text(encoding="utf-8")
    assert "no codebook yet" in text and "no codings yet" in text
    with pytest.raises(InvalidInput, match="cannot write a report"):
        build_report(empty, tmp_path / "e.pdf")


@pytest.mark.skipif(not (CORPUS / "transcripts").is_dir(), reason="the demo corpus is not in this checkout")
def test_demo_study_produces_word_and_html_reports_with_charts_and_quotes(tmp_path):
    project = build_demo_project(tmp_path / "demo.qualkit.db")

    html = build_report(project.store, tmp_path / "demo.html", n_boot=200).read_text(encoding="utf-8")
    _offline(html)
    assert html.count("<svg") >= 4
    for attribution in ("Resident, session fg1", "Attending, session fg3", "Staff, session fg4"):
        assert attribution in html
    for section in ("Prevalence by role", "Co-occurring codes", "Saturation", "Distinctive words by role",
                    "Inter-coder reliability"):
        assert section in html
    assert "Cohen" in html and "version 1" in html

    from docx import Document

    document = Document(str(build_report(project.store, tmp_path / "demo.docx", n_boot=200)))
    assert len(document.inline_shapes) >= 4
    text = "\n".join(p.text for p in document.paragraphs)
    assert "Exemplar quotes" in text and "Inter-coder reliability" in text
    project.store.engine.dispose()


def test_methods_say_how_the_codebook_is_shaped():
    """Seen by a new researcher: '5 codes under 5 top-level themes' for a codebook with no hierarchy."""
    from qualkit.export.report import methods_paragraph
    from qualkit.model import Code, Codebook

    store = Store.create("sqlite://", name="shape")
    frames = store.codings_df(), store.segments_df()
    flat = Codebook("mine", [Code("Exhaustion", "Exhaustion"), Code("Workload", "Workload")])
    text = methods_paragraph(store, flat, *frames, by=None, include_suggested=False)
    assert "(a flat list of 2 codes)" in text and "top-level" not in text
    tree = Codebook("tree", [Code("feelings", "Feelings", codable=False), Code("tired", "Tired", parent="feelings"),
                             Code("work", "Work")])
    assert "(2 codes under 2 top-level themes)" in methods_paragraph(store, tree, *frames, by=None,
                                                                     include_suggested=False)
