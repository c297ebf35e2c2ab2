"""Theme figures return Altair charts carrying the expected data."""

from __future__ import annotations

import pytest

from qualkit.errors import InvalidInput
from qualkit.figures.themes import (
    theme_hierarchy_chart,
    theme_map,
    theme_prevalence_heatmap,
    theme_words_chart,
)


def _values(spec):
    """All inline data rows of a chart spec (top-level datasets)."""
    return [row for rows in spec.get("datasets", {}).values() for row in rows]


def test_theme_map_has_a_point_per_document_and_a_label_per_theme(lsa_result):
    spec = theme_map(lsa_result).to_dict()
    rows = _values(spec)
    points = [r for r in rows if "text" in r]
    assert len(points) == len(lsa_result.documents)
    assert {r["theme_id"] for r in rows if "theme_id" in r} == {str(t.id) for t in lsa_result.active}
    assert spec["layer"][0]["mark"]["type"] == "circle"


def test_theme_map_thins_large_corpora(lsa_result):
    points = [r for r in _values(theme_map(lsa_result, max_points=50).to_dict()) if "text" in r]
    assert len(points) <= 50


def test_words_chart_shows_each_themes_top_words(lsa_result):
    rows = _values(theme_words_chart(lsa_result, top_n=5).to_dict())
    first = lsa_result.active[0]
    assert [r["word"] for r in rows if r["theme"].startswith(f"{first.id}:")] == first.words[:5]


def test_prevalence_heatmap_by_group(lsa_result):
    rows = _values(theme_prevalence_heatmap(lsa_result, by="role").to_dict())
    assert {r["value"] for r in rows} == {"resident", "attending", "nurse", "staff"}
    assert len(rows) == 4 * len(lsa_result.active)
    with pytest.raises(InvalidInput, match="prevalence"):
        theme_prevalence_heatmap(lsa_result, by="shoe_size")


def test_hierarchy_chart_lists_every_active_theme(lsa_result):
    rows = _values(theme_hierarchy_chart(lsa_result).to_dict())
    leaves = {r["theme"] for r in rows if "theme" in r}
    assert leaves == {f"{t.id}: {t.label}" for t in lsa_result.active}


def test_every_theme_on_the_map_has_its_own_colour():
    import numpy as np
    import pandas as pd

    from qualkit.themes.result import Theme, ThemeResult

    n = 40
    docs = pd.DataFrame({"theme": [*range(n), -1], "x": np.arange(n + 1.0), "y": np.zeros(n + 1),
                         "text": ["t"] * (n + 1), "speaker": ["A"] * (n + 1)})
    result = ThemeResult([Theme(i, f"theme {i}", size=1) for i in range(n)], docs, np.zeros((n + 1, 2)))
    scale = theme_map(result).to_dict()["layer"][0]["encoding"]["color"]["scale"]
    assert len(scale["domain"]) == n + 1 and len(set(scale["range"])) == n + 1  # 40 themes + unassigned grey
