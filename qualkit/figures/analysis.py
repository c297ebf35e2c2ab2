"""Altair charts of the analyses, and offline rendering to PNG/SVG/HTML (``vl-convert``, no browser, no CDN).

Each chart function takes the result of the matching :mod:`qualkit.analysis` function and returns an
``altair.Chart`` with its data inlined, so a notebook shows it at once and :func:`to_png` /
:func:`to_svg` turn it into a file for Word or HTML reports.

Example:
    >>> import pandas as pd
    >>> from qualkit.analysis.saturation import saturation
    >>> segs = pd.DataFrame({"id": [1], "source": ["g1"], "speaker": "A", "speaker_role": "participant",
    ...                      "kind": "turn"})
    >>> cods = pd.DataFrame({"segment_id": [1], "code_id": ["a"], "status": ["accepted"]})
    >>> saturation_chart(saturation(segs, cods)).to_dict()["$schema"].startswith("https://vega.github.io")
    True
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from qualkit.errors import MissingDependency

PALETTE = ["#4C78A8", "#F58518", "#54A24B", "#E45756", "#72B7B2", "#B279A2", "#FF9DA6", "#9D755D", "#BAB0AC"]


def _alt() -> Any:
    import altair as alt

    return alt


LABEL_LIMIT = 400
"""Pixels a code's name may take on an axis: Vega-Lite's 180 cut "Emotional exhaustion and deperson…"."""


def _label(frame: pd.DataFrame, names: dict[str, str] | None) -> pd.Series:
    if "code_name" in frame:
        return pd.Series([n if isinstance(n, str) and n else c for n, c in zip(frame["code_name"], frame["code_id"], strict=True)], index=frame.index)
    lookup = names or {}
    return frame["code_id"].map(lambda code: lookup.get(code, code))


def prevalence_chart(prevalence: Any, *, measure: str = "segments_pct", names: dict[str, str] | None = None,
                     width: int = 420) -> Any:
    """Grouped horizontal bars: for each code, the share of each group's segments (or speakers) coded with it.

    ``measure`` is any column of ``prevalence.table`` (``segments_pct``, ``speakers_pct``, ``segments``...).
    Every code of the table is drawn, in the table's order: a code nobody in the groups shown applied has
    zero-length bars, since an absent code is a finding too.

    Example:
        >>> from qualkit.analysis.prevalence import Prevalence
        >>> table = pd.DataFrame({"code_id": ["a", "b"], "group": ["resident"] * 2, "segments_pct": [50.0, 0.0],
        ...                       "segments": [1, 0]})
        >>> chart = prevalence_chart(Prevalence(by="role", table=table))
        >>> chart.mark, chart.data["code"].tolist()
        ('bar', ['a', 'b'])
    """
    alt = _alt()
    table = prevalence.table.copy()
    table["code"] = _label(table, names)
    order = list(dict.fromkeys(table["code"]))
    title = {"segments_pct": "% of the group's segments", "speakers_pct": "% of the group's speakers",
             "sessions_pct": "% of the group's sessions"}.get(measure, measure)
    by = prevalence.by or "group"
    return alt.Chart(table).mark_bar().encode(
        y=alt.Y("code:N", sort=order, title=None, axis=alt.Axis(labelLimit=LABEL_LIMIT)),
        x=alt.X(f"{measure}:Q", title=title),
        yOffset=alt.YOffset("group:N"),
        color=alt.Color("group:N", title=by, scale=alt.Scale(range=PALETTE)),
        tooltip=["code", "group", measure, "segments", *[c for c in ("speakers", "sessions") if c in table]],
    ).properties(width=width, title=f"Code prevalence by {by}")


def cooccurrence_heatmap(matrix: pd.DataFrame, *, names: dict[str, str] | None = None, size: int = 18) -> Any:
    """A heatmap of a co-occurrence matrix (diagonal left blank), with counts written in the cells.

    Example:
        >>> m = pd.DataFrame([[2, 1], [1, 3]], index=["a", "b"], columns=["a", "b"])
        >>> cooccurrence_heatmap(m).to_dict()["layer"][0]["mark"]["type"]
        'rect'
    """
    alt = _alt()
    names = names or {}
    codes = [names.get(c, c) for c in matrix.index]
    values = matrix.to_numpy(dtype=float).copy()
    np.fill_diagonal(values, np.nan)
    cells = pd.DataFrame([{"a": codes[i], "b": codes[j], "count": values[i, j]}
                          for i in range(len(codes)) for j in range(len(codes)) if i != j])
    if cells.empty:
        cells = pd.DataFrame({"a": [], "b": [], "count": []})
    side = max(size * len(codes), 120)
    base = alt.Chart(cells).encode(
        x=alt.X("b:N", sort=codes, title=None, axis=alt.Axis(labelAngle=-45, labelLimit=LABEL_LIMIT)),
        y=alt.Y("a:N", sort=codes, title=None, axis=alt.Axis(labelLimit=LABEL_LIMIT)))
    rect = base.mark_rect().encode(color=alt.Color("count:Q", scale=alt.Scale(scheme="blues"), title="segments"),
                                   tooltip=["a", "b", "count"])
    text = base.mark_text(fontSize=9).encode(
        text=alt.Text("count:Q", format=".0f"),
        color=alt.condition("datum.count > 0", alt.value("black"), alt.value("transparent")))
    title = "Code co-occurrence" + (f" (within {matrix.attrs['window']} turns)" if matrix.attrs.get("window") else "")
    return (rect + text).properties(width=side, height=side, title=title)


def cooccurrence_network(matrix: pd.DataFrame, *, names: dict[str, str] | None = None, min_count: float = 1,
                         seed: int = 0, size: int = 420) -> Any:
    """A network of codes (node size: segments coded; edge width: co-occurrences), laid out with networkx.

    Example:
        >>> m = pd.DataFrame([[2, 1], [1, 3]], index=["a", "b"], columns=["a", "b"])
        >>> len(cooccurrence_network(m).to_dict()["layer"])
        3
    """
    import networkx as nx

    alt = _alt()
    names = names or {}
    graph = nx.Graph()
    codes = list(matrix.index)
    for i, code in enumerate(codes):
        graph.add_node(code, weight=float(matrix.iloc[i, i]))
    for i, a in enumerate(codes):
        for j in range(i + 1, len(codes)):
            if matrix.iloc[i, j] >= min_count and matrix.iloc[i, j] > 0:
                graph.add_edge(a, codes[j], weight=float(matrix.iloc[i, j]))
    layout = nx.spring_layout(graph, seed=seed, weight="weight") if len(graph) else {}
    nodes = pd.DataFrame([{"code": names.get(c, c), "x": float(layout[c][0]), "y": float(layout[c][1]),
                           "segments": graph.nodes[c]["weight"]} for c in graph.nodes])
    edges = pd.DataFrame([{"x": float(layout[a][0]), "y": float(layout[a][1]), "x2": float(layout[b][0]),
                           "y2": float(layout[b][1]), "count": d["weight"],
                           "pair": f"{names.get(a, a)} – {names.get(b, b)}"} for a, b, d in graph.edges(data=True)])
    if nodes.empty:
        nodes = pd.DataFrame({"code": [], "x": [], "y": [], "segments": []})
    if edges.empty:
        edges = pd.DataFrame({"x": [], "y": [], "x2": [], "y2": [], "count": [], "pair": []})
    axis = alt.Axis(labels=False, ticks=False, grid=False, domain=False, title=None)
    lines = alt.Chart(edges).mark_rule(color="#999", opacity=0.6).encode(
        x=alt.X("x:Q", axis=axis), y=alt.Y("y:Q", axis=axis), x2="x2:Q", y2="y2:Q",
        strokeWidth=alt.StrokeWidth("count:Q", scale=alt.Scale(range=[0.5, 6]), title="co-occurrences"),
        tooltip=["pair", "count"])
    points = alt.Chart(nodes).mark_circle(color=PALETTE[0], opacity=0.85).encode(
        x="x:Q", y="y:Q", size=alt.Size("segments:Q", scale=alt.Scale(range=[60, 900]), title="segments"),
        tooltip=["code", "segments"])
    labels = alt.Chart(nodes).mark_text(dy=-12, fontSize=10).encode(x="x:Q", y="y:Q", text="code:N")
    return (lines + points + labels).properties(width=size, height=size, title="Code co-occurrence network")


def saturation_chart(curve: pd.DataFrame, *, width: int = 420) -> Any:
    """New codes per transcript (bars) and the cumulative number of codes (line): the saturation curve.

    Example:
        >>> c = pd.DataFrame({"step": [1, 2], "unit": ["g1", "g2"], "new_codes": [3, 1], "cumulative_codes": [3, 4]})
        >>> len(saturation_chart(c).to_dict()["layer"])
        2
    """
    alt = _alt()
    data = curve[["step", "unit", "new_codes", "cumulative_codes"]].copy()
    data["unit"] = data["unit"].astype(str)
    order = data["unit"].tolist()
    x = alt.X("unit:N", sort=order, title=f"{curve.attrs.get('by', 'source')} (in order)",
              axis=alt.Axis(labelAngle=-30))
    bars = alt.Chart(data).mark_bar(color=PALETTE[1], opacity=0.7).encode(
        x=x, y=alt.Y("new_codes:Q", title="codes"), tooltip=["unit", "new_codes", "cumulative_codes"])
    line = alt.Chart(data).mark_line(point=True, color=PALETTE[0]).encode(x=x, y="cumulative_codes:Q")
    return (bars + line).properties(width=width, title="Thematic saturation: new (bars) and cumulative (line) codes")


def distinctive_words_chart(words: pd.DataFrame, *, top: int = 10, columns: int = 3) -> Any:
    """Bars of the top words per group by z-score (weighted log-odds), one panel per group.

    Example:
        >>> w = pd.DataFrame({"group": ["a"], "word": ["pager"], "z": [2.5], "count": [4]})
        >>> "facet" in distinctive_words_chart(w).to_dict()
        True
    """
    alt = _alt()
    data = words.sort_values("z", ascending=False).groupby("group", sort=True).head(top).copy()
    return alt.Chart(data).mark_bar(color=PALETTE[2]).encode(
        y=alt.Y("word:N", sort="-x", title=None), x=alt.X("z:Q", title="z (log-odds)"),
        tooltip=["group", "word", "z", "count"],
    ).properties(width=160, height=alt.Step(14)).facet(
        facet=alt.Facet("group:N", title=None), columns=columns).resolve_scale(y="independent").properties(
        title="Distinctive words by group")


def reliability_chart(per_code: pd.DataFrame, *, statistic: str = "cohen_kappa", names: dict[str, str] | None = None,
                      width: int = 360) -> Any:
    """Points with 95% intervals of a reliability statistic per code, with reference lines at .6 and .8.

    Example:
        >>> r = pd.DataFrame({"code_id": ["a"], "cohen_kappa": [0.7], "cohen_kappa_low": [0.5],
        ...                   "cohen_kappa_high": [0.85]})
        >>> len(reliability_chart(r).to_dict()["layer"])
        3
    """
    alt = _alt()
    data = per_code.copy()
    data["code"] = _label(data, names)
    order = data["code"].tolist()
    y = alt.Y("code:N", sort=order, title=None, axis=alt.Axis(labelLimit=LABEL_LIMIT))
    intervals = alt.Chart(data).mark_rule(color="#666").encode(
        y=y, x=alt.X(f"{statistic}_low:Q", title=statistic.replace("_", " "), scale=alt.Scale(domain=[-0.2, 1])),
        x2=f"{statistic}_high:Q")
    points = alt.Chart(data).mark_point(filled=True, color=PALETTE[3]).encode(
        y=y, x=f"{statistic}:Q", tooltip=["code", statistic, f"{statistic}_low", f"{statistic}_high"])
    rules = alt.Chart(pd.DataFrame({"x": [0.6, 0.8]})).mark_rule(strokeDash=[4, 4], color="#bbb").encode(x="x:Q")
    return (rules + intervals + points).properties(width=width, title=f"{statistic.replace('_', ' ')} per code "
                                                   "(95% bootstrap interval)")


def _vl_convert() -> Any:
    try:
        import vl_convert
    except ImportError as error:  # declared as a core dependency; only a broken install lacks it
        raise MissingDependency("vl-convert-python", pip="pip install vl-convert-python") from error
    return vl_convert


def to_png(chart: Any, *, scale: float = 2.0) -> bytes:
    """Render a chart to PNG bytes offline.

    Example:
        >>> import altair as alt
        >>> to_png(alt.Chart(pd.DataFrame({"x": [1]})).mark_point().encode(x="x:Q"))[:4]
        b'\\x89PNG'
    """
    return _vl_convert().vegalite_to_png(chart.to_json(), scale=scale)


def to_svg(chart: Any) -> str:
    """Render a chart to an SVG document offline (for inline HTML).

    Example:
        >>> import altair as alt
        >>> to_svg(alt.Chart(pd.DataFrame({"x": [1]})).mark_point().encode(x="x:Q")).startswith("<svg")
        True
    """
    return _vl_convert().vegalite_to_svg(chart.to_json())


# Export as PNG/SVG stays in the chart's menu; "Open in Vega Editor" would post the chart's data (quotes in
# tooltips) to vega.github.io, and the source views are of no use to a reader.
HTML_ACTIONS = {"export": True, "source": False, "compiled": False, "editor": False}


def to_html(chart: Any) -> str:
    """Render a chart as one self-contained, interactive HTML page: Vega's JavaScript inline, nothing from a CDN.

    Altair's default ``chart.to_html()`` loads vega, vega-lite and vega-embed from cdn.jsdelivr.net, so
    the page calls the web when opened and shows nothing offline; here the bundle comes from vl-convert.

    Example:
        >>> import altair as alt
        >>> page = to_html(alt.Chart(pd.DataFrame({"x": [1]})).mark_point().encode(x="x:Q"))
        >>> "cdn.jsdelivr.net" in page, page.lstrip().lower().startswith("<!doctype html>")
        (False, True)
    """
    import io

    _vl_convert()  # Altair inlines the bundle vl-convert carries; say so plainly when it is missing
    buffer = io.StringIO()
    chart.save(buffer, format="html", inline=True, embed_options={"actions": HTML_ACTIONS})
    return buffer.getvalue()
