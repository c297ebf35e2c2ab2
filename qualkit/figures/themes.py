"""Altair charts of a theme result: the 2-D theme map, top words, prevalence by group, and the hierarchy.

Each function takes a :class:`~qualkit.themes.result.ThemeResult` (fresh or loaded from the project)
and returns an Altair chart with its data inlined, so notebooks, the app (``st.altair_chart``) and
reports (``qualkit.figures.analysis.to_png``/``to_svg``) all use the same object.

Example:
    >>> import numpy as np, pandas as pd
    >>> from qualkit.themes.result import Theme, ThemeResult
    >>> docs = pd.DataFrame({"theme": [0, 0, 1, -1], "x": [0., .1, 1., .5], "y": [0., .1, 1., .5],
    ...                      "text": list("abcd"), "speaker": list("ABCD"), "similarity": [1., 1., 1., np.nan]})
    >>> r = ThemeResult([Theme(0, "inbox"), Theme(1, "sleep")], docs, np.zeros((4, 2)))
    >>> theme_map(r).to_dict()["layer"][0]["mark"]["type"]
    'circle'
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd

from qualkit.errors import InvalidInput

OUTLIER = "(unassigned)"


def _alt() -> Any:
    import altair as alt

    return alt


def _names(result: Any) -> dict[int, str]:
    return {t.id: f"{t.id}: {t.label}" for t in result.themes}


def theme_map(result: Any, *, max_points: int = 4000, width: int = 520, height: int = 420) -> Any:
    """Documents on the 2-D theme map, coloured by theme, with each theme's id at its centre.

    Large corpora are thinned to ``max_points`` documents (a fixed, evenly spaced sample, so the picture
    is the same every time); unassigned documents are grey.

    Example:
        >>> theme_map  # doctest: +ELLIPSIS
        <function theme_map at ...>
    """
    alt = _alt()
    docs = result.documents
    if docs.empty:
        raise InvalidInput("this theme result has no documents to draw")
    step = max(1, int(np.ceil(len(docs) / max_points)))
    names = _names(result)
    data = docs.iloc[::step][["x", "y", "theme", "text", "speaker"]].copy()
    data["theme_label"] = [names.get(t, OUTLIER) if t != -1 else OUTLIER for t in data["theme"]]
    data["text"] = data["text"].str.slice(0, 160)
    centres = (docs[docs["theme"] != -1].groupby("theme")[["x", "y"]].mean().reset_index())
    centres["theme_id"] = centres["theme"].astype(str)
    order = [names[t.id] for t in result.active if t.id in names] + [OUTLIER]
    colour = alt.Color("theme_label:N", title="theme", sort=order,
                       scale=alt.Scale(domain=order, range=[*_palette(len(order) - 1), "#cccccc"]))
    points = alt.Chart(data).mark_circle(size=22, opacity=0.65).encode(
        x=alt.X("x:Q", axis=None), y=alt.Y("y:Q", axis=None), color=colour,
        tooltip=["theme_label:N", "speaker:N", "text:N"])
    labels = alt.Chart(centres).mark_text(fontSize=12, fontWeight="bold").encode(
        x="x:Q", y="y:Q", text="theme_id:N")
    return (points + labels).properties(width=width, height=height, title="Theme map")


BASE_PALETTE = ("#4C78A8", "#F58518", "#54A24B", "#E45756", "#72B7B2", "#B279A2", "#FF9DA6", "#9D755D", "#EECA3B",
                "#79706E", "#1F77B4", "#D62728", "#2CA02C", "#9467BD", "#8C564B", "#E377C2", "#17BECF", "#BCBD22")


def _palette(n: int) -> list[str]:
    """``n`` distinct colours: the 18 hand-picked ones, then hues spread by the golden angle at three
    lightness levels, so no two themes on a map share a colour however many there are.

    Example:
        >>> len(set(_palette(60)))
        60
    """
    import colorsys

    colours = list(BASE_PALETTE[:max(n, 1)])
    taken = {c.lower() for c in colours}
    k = 0
    while len(colours) < n:
        hue = (k * 0.618033988749895) % 1.0
        lightness = (0.45, 0.62, 0.32)[(k // 7) % 3]
        red, green, blue = colorsys.hls_to_rgb(hue, lightness, 0.65)
        colour = f"#{round(red * 255):02x}{round(green * 255):02x}{round(blue * 255):02x}"
        k += 1
        if colour not in taken and colour != "#cccccc":  # grey is for unassigned documents
            colours.append(colour)
            taken.add(colour)
    return colours


def theme_words_chart(result: Any, *, themes: list[int] | None = None, top_n: int = 8, columns: int = 3) -> Any:
    """Bar charts of each theme's top words by c-TF-IDF weight (largest themes first, up to 12).

    Example:
        >>> theme_words_chart  # doctest: +ELLIPSIS
        <function theme_words_chart at ...>
    """
    alt = _alt()
    chosen = [result.theme(t) for t in themes] if themes is not None else result.active[:12]
    rows = [{"theme": f"{t.id}: {t.label}", "word": w, "weight": s, "rank": k}
            for t in chosen for k, (w, s) in enumerate(zip(t.words[:top_n], t.weights[:top_n], strict=False))]
    data = pd.DataFrame(rows, columns=["theme", "word", "weight", "rank"])
    return alt.Chart(data).mark_bar(color="#4C78A8").encode(
        x=alt.X("weight:Q", title="c-TF-IDF"), y=alt.Y("word:N", sort=alt.EncodingSortField("rank"), title=None),
        tooltip=["theme:N", "word:N", "weight:Q"],
    ).properties(width=170, height=alt.Step(13)).facet(
        facet=alt.Facet("theme:N", title=None, sort=[f"{t.id}: {t.label}" for t in chosen]), columns=columns,
    ).resolve_scale(y="independent").properties(title="Top words per theme")


def theme_prevalence_heatmap(result: Any, *, by: str | None = None) -> Any:
    """Heatmap of theme prevalence by group: the share of each group's documents in each theme.

    ``by`` is an attribute column such as ``group``, ``role`` or ``session`` (default: the first one the
    run computed prevalence for).

    Example:
        >>> theme_prevalence_heatmap  # doctest: +ELLIPSIS
        <function theme_prevalence_heatmap at ...>
    """
    alt = _alt()
    available = result.settings.get("by", [])
    preferred = result.settings.get("group_column")
    by = by or (preferred if preferred in available else next(iter(available), None))
    table = result.prevalence(by) if by else pd.DataFrame()
    if table.empty:
        raise InvalidInput(f"this theme run has no prevalence by {by!r}",
                           fix=f"use one of {result.settings.get('by', [])} or rerun with by=[...]")
    names = _names(result)
    cells = table.rename(index=names).stack().rename("share").reset_index()
    cells.columns = ["theme", "value", "share"]
    cells["percent"] = (cells["share"] * 100).round(0).astype(int).astype(str) + "%"
    order = [names[t.id] for t in result.active]
    base = alt.Chart(cells).encode(x=alt.X("value:N", title=by), y=alt.Y("theme:N", sort=order, title=None, axis=alt.Axis(labelLimit=400)))
    rect = base.mark_rect().encode(color=alt.Color("share:Q", title="share", scale=alt.Scale(scheme="blues")),
                                   tooltip=["theme:N", "value:N", alt.Tooltip("share:Q", format=".1%")])
    text = base.mark_text(fontSize=9).encode(text="percent:N")
    return (rect + text).properties(width=max(120, 60 * cells["value"].nunique()), height=alt.Step(16),
                                    title=f"Theme prevalence by {by}")


def theme_hierarchy_chart(result: Any, *, width: int = 420) -> Any:
    """A dendrogram of the active themes (average linkage of theme centroids, cosine distance).

    Example:
        >>> theme_hierarchy_chart  # doctest: +ELLIPSIS
        <function theme_hierarchy_chart at ...>
    """
    from scipy.cluster.hierarchy import dendrogram

    alt = _alt()
    tree = result.hierarchy()
    if tree.empty:
        raise InvalidInput("a hierarchy needs at least two active themes")
    leaves = tree.attrs["leaves"]
    matrix = tree[["left", "right", "distance"]].to_numpy(dtype=float)
    sizes = [len(t) for t in tree["themes"]]
    layout = dendrogram(np.column_stack([matrix, sizes]), no_plot=True, orientation="left")
    names = _names(result)
    segments = []
    for k, (ys, xs) in enumerate(zip(layout["icoord"], layout["dcoord"], strict=True)):
        points = list(zip(xs, ys, strict=True))
        for (x1, y1), (x2, y2) in itertools.pairwise(points):
            segments.append({"link": k, "x": x1, "y": y1, "x2": x2, "y2": y2})
    lines = pd.DataFrame(segments)
    labels = pd.DataFrame({"y": [5 + 10 * i for i in range(len(layout["leaves"]))],
                           "x": 0.0, "theme": [names[leaves[i]] for i in layout["leaves"]]})
    rules = alt.Chart(lines).mark_rule(color="#555").encode(
        x=alt.X("x:Q", title="cosine distance", scale=alt.Scale(reverse=True)), x2="x2:Q",
        y=alt.Y("y:Q", axis=None), y2="y2:Q")
    text = alt.Chart(labels).mark_text(align="left", dx=4, fontSize=10).encode(x="x:Q", y="y:Q", text="theme:N")
    return (rules + text).properties(width=width, height=14 * len(leaves) + 20, title="Theme hierarchy")


__all__ = ["theme_hierarchy_chart", "theme_map", "theme_prevalence_heatmap", "theme_words_chart"]
