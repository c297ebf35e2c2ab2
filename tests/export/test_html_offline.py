"""Every HTML file qualkit writes opens offline: no script, style sheet, font or image comes from the web.

A stranger's ``qualkit themes figure map out/theme_map.html`` loaded vega, vega-lite and vega-embed from
cdn.jsdelivr.net (Altair's default ``to_html``): a call to a CDN when opened, a blank page offline.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))
from _build import build_project

import qualkit as qk
from qualkit.cli import app
from qualkit.cli.themes import FIGURES
from qualkit.export.registry import EXPORTS
from qualkit.figures import analysis as fig
from qualkit.themes.synthetic import planted_corpus

runner = CliRunner()

# A resource the browser fetches by itself: src/href/data/poster/srcset attributes, CSS url() and @import,
# pointing at http(s) or a protocol-relative "//host".
REMOTE = re.compile(r"""(?:\b(?:src|href|data|poster|srcset|action)\s*=\s*["']?\s*|url\(\s*["']?\s*|@import\s+["']?\s*)"""
                    r"""(?:https?:)?//""", re.IGNORECASE)


def remote_references(page: str) -> list[str]:
    """The places in ``page`` that load something from the web (empty for a self-contained page)."""
    return [page[max(m.start() - 40, 0):m.end() + 60] for m in REMOTE.finditer(page)]


def test_the_scanner_sees_what_altair_loads_from_a_cdn():
    import altair as alt
    import pandas as pd

    page = alt.Chart(pd.DataFrame({"x": [1]})).mark_point().encode(x="x:Q").to_html()
    assert remote_references(page)  # the check would have caught the stranger's theme map
    assert remote_references('<link rel="stylesheet" href="//fonts.example/x.css">')
    assert remote_references("<style>@import url('https://fonts.example/x.css');</style>")


@pytest.fixture(scope="module")
def themed(tmp_path_factory):
    path = tmp_path_factory.mktemp("themed") / "study.qualkit.db"
    project = qk.Project.create(path, codebook=None, user="ana")
    project.store.add_sources(planted_corpus(100, kind="turn", seed=5).sources, user="ana")
    project.discover_themes(embedder="lsa", engine="sklearn", reduction="pca")
    project.store.engine.dispose()
    return str(path)


@pytest.mark.parametrize("kind", FIGURES)
def test_every_theme_figure_as_html_carries_its_javascript_inline(kind, themed, tmp_path):
    out = tmp_path / f"theme_{kind}.html"
    drawn = runner.invoke(app, ["themes", "figure", kind, str(out), "--db", themed])
    assert drawn.exit_code == 0, drawn.output
    page = out.read_text(encoding="utf-8")
    assert remote_references(page) == []
    assert "cdn.jsdelivr.net" not in page and "vegaEmbed(" in page  # the chart is drawn by the inline bundle
    assert '"editor": false' in page  # no "Open in Vega Editor", which posts the data to vega.github.io


@pytest.fixture(scope="module")
def coded(tmp_path_factory):
    p = qk.Project.create(tmp_path_factory.mktemp("coded") / "p.qualkit.db", name="Pilot", codebook=None, user="ana")
    build_project(p.store)
    yield p
    p.store.engine.dispose()


@pytest.mark.parametrize("entry", [e for e in EXPORTS if {".html", ".htm"} & set(e.suffixes)],
                         ids=lambda e: e.name)
def test_every_html_export_is_self_contained(entry, coded, tmp_path):
    written = Path(coded.export(tmp_path / entry.file_name("study"), entry.name, n_boot=10))
    page = written.read_text(encoding="utf-8")
    assert "<svg" in page  # with its figures
    assert remote_references(page) == []


def test_every_analysis_chart_as_html_is_self_contained(coded):
    names = {c.id: c.name for c in coded.codebook.codes}
    co = coded.cooccurrence()
    for chart in (fig.prevalence_chart(coded.prevalence(by="role")), fig.cooccurrence_heatmap(co, names=names),
                  fig.cooccurrence_network(co, names=names), fig.saturation_chart(coded.saturation())):
        assert remote_references(fig.to_html(chart)) == []
