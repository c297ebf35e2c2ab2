"""Small rendering helpers shared by the pages: code colours, highlighted text, pagination, placeholders.

The HTML builders are pure functions (no Streamlit calls) so they are tested directly.

Example:
    >>> highlight_html("I am tired.", 10, [Span(15, 20, "#ffd", "exhaustion")])
    '<span class="qk-text">I am <mark style="background:#ffd" title="exhaustion">tired</mark>.</span>'
"""

from __future__ import annotations

import html
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import streamlit as st

from qualkit.model import Codebook

# Light, distinguishable backgrounds (text stays readable on all of them).
PALETTE = (
    "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2", "#dbdb8d", "#9edae5",
    "#fdd0a2", "#c7e9c0", "#dadaeb", "#fcbba1", "#c6dbef", "#e5d8bd", "#fed9a6", "#b3de69", "#fccde5",
    "#d9d9d9", "#bc80bd", "#ccebc5", "#ffed6f", "#8dd3c7", "#80b1d3",
)


def code_colors(codebook: Codebook | None) -> dict[str, str]:
    """A colour per code: the codebook's own, else one from the palette in codebook order.

    Example:
        >>> from qualkit.model import Code
        >>> code_colors(Codebook("x", [Code("a", "A", color="#123456"), Code("b", "B")]))
        {'a': '#123456', 'b': '#ffbb78'}
    """
    if codebook is None:
        return {}
    return {code.id: code.color or PALETTE[i % len(PALETTE)] for i, code in enumerate(codebook.codes)}


def code_label(codebook: Codebook | None, code_id: str) -> str:
    """``Name (id)`` for a code, or the id alone when unknown.

    Example:
        >>> code_label(None, "workload")
        'workload'
    """
    if codebook is not None and code_id in codebook:
        return f"{codebook[code_id].name} ({code_id})"
    return code_id


@dataclass(frozen=True, slots=True)
class Span:
    """A highlighted stretch of text: absolute offsets, background colour, tooltip, and style.

    Example:
        >>> Span(0, 4, "#eee", "workload", dashed=True).dashed
        True
    """

    start: int
    end: int
    color: str
    title: str
    dashed: bool = False
    strong: bool = False


def highlight_html(text: str, base: int, spans: Sequence[Span]) -> str:
    """HTML of ``text`` (which starts at absolute offset ``base``) with ``spans`` highlighted.

    Overlapping spans split the text at every boundary; each piece takes the colour of the shortest
    span covering it and lists every covering code in its tooltip. Suggestions are drawn dashed,
    evidence in bold. Offsets outside the text are clipped.

    Example:
        >>> highlight_html("a<b", 0, [])
        '<span class="qk-text">a&lt;b</span>'
    """
    clipped = []
    for span in spans:
        lo, hi = max(span.start - base, 0), min(span.end - base, len(text))
        if lo < hi:
            clipped.append((lo, hi, span))
    cuts = sorted({0, len(text), *(lo for lo, _, _ in clipped), *(hi for _, hi, _ in clipped)})
    parts = []
    for lo, hi in itertools.pairwise(cuts):
        piece = html.escape(text[lo:hi])
        covering = [s for a, b, s in clipped if a <= lo and hi <= b]
        if not covering:
            parts.append(piece)
            continue
        top = min(covering, key=lambda s: s.end - s.start)
        style = f"background:{top.color}"
        if any(s.dashed for s in covering) and all(s.dashed for s in covering):
            style += ";border-bottom:2px dashed #555"
        if any(s.strong for s in covering):
            style += ";font-weight:bold"
        if len(covering) > 1:
            others = [s.color for s in covering if s is not top][:3]
            style += ";box-shadow:" + ",".join(f"0 {2 * (i + 1)}px 0 {c}" for i, c in enumerate(others))
        title = html.escape(", ".join(dict.fromkeys(s.title for s in covering)), quote=True)
        parts.append(f'<mark style="{style}" title="{title}">{piece}</mark>')
    return f'<span class="qk-text">{"".join(parts)}</span>'


def chip_html(label: str, color: str, *, dashed: bool = False, note: str = "") -> str:
    """A small coloured label for a code (dashed border for a suggestion).

    Example:
        >>> chip_html("Workload", "#eee").startswith('<span style="background:#eee')
        True
    """
    border = "1px dashed #555" if dashed else "1px solid #999"
    extra = f" <small>{html.escape(note)}</small>" if note else ""
    return (f'<span style="background:{color};border:{border};border-radius:0.6em;padding:0 0.45em;'
            f'margin-right:0.3em;font-size:0.85em;white-space:nowrap">{html.escape(label)}{extra}</span>')


def pager(key: str, total: int, size: int) -> int:
    """Previous/next controls for a paginated list; returns the offset of the current page.

    Example:
        >>> offset = pager("queue_page", total=250, size=10)  # doctest: +SKIP
    """
    pages = max(1, -(-total // size))
    page = min(max(int(st.session_state.get(key, 1)), 1), pages)
    st.session_state[key] = page
    if pages > 1:
        left, middle, right = st.columns([1, 3, 1])

        def move(step: int) -> None:
            st.session_state[key] = min(max(page + step, 1), pages)

        left.button("← Previous", key=f"{key}_prev", disabled=page <= 1, on_click=move, args=(-1,))
        middle.caption(f"Page {page} of {pages} · {total} in all")
        right.button("Next →", key=f"{key}_next", disabled=page >= pages, on_click=move, args=(1,))
    return (page - 1) * size


def not_available(what: str, area: str) -> None:
    """Say plainly that a capability has not landed yet (instead of failing).

    Example:
        >>> not_available("Theme discovery", "issue 5")  # doctest: +SKIP
    """
    st.info(f"{what} is not available yet in this installation ({area}).", icon=":material/hourglass_empty:")


def short(text: str, limit: int = 80) -> str:
    """The first ``limit`` characters of a text on one line.

    Example:
        >>> short("a\\nb", 10)
        'a b'
    """
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def as_frames(result: object) -> dict[str, object]:
    """The tables inside an analysis result: a DataFrame, a dict of them, or an object's DataFrame attributes.

    Example:
        >>> import pandas as pd
        >>> list(as_frames(pd.DataFrame({"a": [1]})))
        ['result']
    """
    import pandas as pd

    if isinstance(result, pd.DataFrame | pd.Series):
        return {"result": result}
    if isinstance(result, dict):
        return {str(k): v for k, v in result.items() if isinstance(v, pd.DataFrame | pd.Series)}
    found = {}
    for name in dir(result):
        if name.startswith("_"):
            continue
        try:
            value = getattr(result, name)
        except Exception:  # properties that compute and fail are not tables to show
            continue
        if isinstance(value, pd.DataFrame | pd.Series):
            found[name] = value
    return found


def show_result(result: object, *, key: str) -> None:
    """Show an analysis result: its tables (and a chart when it has one).

    Example:
        >>> show_result(result, key="prevalence")  # doctest: +SKIP
    """
    frames = as_frames(result)
    for name, frame in frames.items():
        if len(frames) > 1:
            st.markdown(f"**{name.replace('_', ' ').capitalize()}**")
        st.dataframe(frame, width="stretch", key=f"{key}_{name}")
    chart = getattr(result, "chart", None)
    if callable(chart):
        try:
            st.altair_chart(chart(), width="stretch", key=f"{key}_chart")
        except Exception as error:  # a figure problem must not hide the tables
            st.caption(f"(no chart: {error})")
    if not frames and result is not None:
        st.write(result)
