"""Every analysis chart renders offline to PNG and SVG."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from _build import build_project

from qualkit.figures import analysis as fig
from qualkit.project import Project


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    p = Project.create(tmp_path_factory.mktemp("fig") / "p.qualkit.db", name="Pilot", codebook=None, user="ana")
    build_project(p.store)
    yield p
    p.store.engine.dispose()


def test_every_chart_renders_offline(project):
    names = {c.id: c.name for c in project.codebook.codes}
    co = project.cooccurrence()
    charts = {
        "prevalence": fig.prevalence_chart(project.prevalence(by="role")),
        "heatmap": fig.cooccurrence_heatmap(co, names=names),
        "network": fig.cooccurrence_network(co, names=names),
        "saturation": fig.saturation_chart(project.saturation()),
        "words": fig.distinctive_words_chart(project.distinctive_words(by="role", min_count=1)),
        "reliability": fig.reliability_chart(project.reliability(["ana", "ben"], n_boot=50).per_code, names=names),
    }
    for name, chart in charts.items():
        assert fig.to_png(chart).startswith(b"\x89PNG"), name
        svg = fig.to_svg(chart)
        assert svg.lstrip().startswith("<svg") and "<script" not in svg, name
    # The network places every code that co-occurs with another, and the heatmap leaves the diagonal blank.
    layers = charts["network"].to_dict()["layer"]
    nodes = next(layer for layer in layers if layer["mark"]["type"] == "circle")
    datasets = charts["network"].to_dict()["datasets"]
    assert len(datasets[nodes["data"]["name"]]) == len(co)
    assert "Workload" in fig.to_svg(charts["heatmap"])


def test_a_long_code_name_is_written_whole_on_the_axis():
    """A stranger's charts cut their code names ("Emotional exhaustion and deperson…") at Vega-Lite's 180 px."""
    import pandas as pd

    name = "Emotional exhaustion and depersonalisation after night shifts"
    per_code = pd.DataFrame({"code_id": ["ee"], "code_name": [name], "cohen_kappa": [0.7],
                             "cohen_kappa_low": [0.5], "cohen_kappa_high": [0.85]})
    svg = fig.to_svg(fig.reliability_chart(per_code))
    assert name in svg and "…" not in svg


def test_the_prevalence_chart_shows_a_code_absent_from_every_group_as_zero_bars():
    """F's by-site chart dropped a code nobody at either site applied; the table beside it listed it as zeros."""
    import pandas as pd

    from qualkit.analysis.prevalence import Prevalence

    table = pd.DataFrame({"code_id": ["workload", "workload", "moral_injury", "moral_injury", "ehr", "ehr"],
                          "code_name": ["Workload", "Workload", "Moral injury", "Moral injury", "EHR", "EHR"],
                          "group": ["north", "south"] * 3, "segments": [3, 1, 0, 0, 2, 0],
                          "segments_pct": [30.0, 10.0, 0.0, 0.0, 20.0, 0.0]})
    spec = fig.prevalence_chart(Prevalence(by="site", table=table)).to_dict()
    rows = next(iter(spec["datasets"].values()))
    absent = [row for row in rows if row["code_id"] == "moral_injury"]
    assert [(row["group"], row["segments_pct"]) for row in absent] == [("north", 0.0), ("south", 0.0)]
    assert spec["encoding"]["y"]["sort"] == ["Workload", "Moral injury", "EHR"]  # the table's codes, its order
    assert spec["title"] == "Code prevalence by site"
