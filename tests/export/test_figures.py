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
