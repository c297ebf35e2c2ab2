"""Small rendering helpers shared by the pages: code colours, highlighted text, pagination, placeholders.

The HTML builders are :mod:`qualkit.display`'s pure functions, re-exported here for the pages.

Example:
    >>> highlight_html("I am tired.", 10, [Span(15, 20, "#ffd", "exhaustion")])
    '<span class="qk-text">I am <mark style="background:#ffd" title="exhaustion">tired</mark>.</span>'
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from qualkit.app import clicks, queries

# The HTML builders live in the library (notebooks use them too); pages reach them through this module.
from qualkit.display import PALETTE, Span, chip_html, code_colors, code_label, highlight_html, location
from qualkit.display import counted as counted  # re-exported: the pages write ui.counted
from qualkit.display import text_or as text_or  # re-exported: the pages write ui.text_or

# The browser tab's icon, inline: a ":material/...:" page icon makes the browser fetch an SVG from Google's font
# CDN on every page load (Streamlit builds that URL in the page), and the app must not reach the network.
APP_ICON = ("<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 24 24'>"
            "<path fill='#2e7d5b' d='M3 3h13a2 2 0 0 1 2 2v7a2 2 0 0 1-2 2H8l-4 4v-4H3a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z'/>"
            "<path fill='#8fc7ab' d='M20 8h1a2 2 0 0 1 2 2v7a2 2 0 0 1-2 2v3l-3-3h-7a2 2 0 0 1-2-2v-1h7a3 3 0 0 0 3-3z'/>"
            "</svg>")

__all__ = ["APP_ICON", "PALETTE", "Span", "as_frames", "chip_html", "code_colors", "code_label", "highlight_html", "not_available", "pager",
           "readable", "short", "show_result", "text_or"]


def pager(key: str, total: int, size: int) -> int:
    """Previous/next controls for a paginated list; returns the offset of the current page.

    Example:
        >>> offset = pager("queue_page", total=250, size=10)  # doctest: +SKIP
    """
    pages = max(1, -(-total // size))
    page = min(max(int(st.session_state.get(key, 1)), 1), pages)
    st.session_state[key] = page
    if pages > 1:
        left, middle, jump, right = st.columns([1, 2.2, 0.8, 1], vertical_alignment="center")

        def move(step: int) -> None:
            st.session_state[key] = min(max(page + step, 1), pages)

        def go_to() -> None:  # a long transcript's page 6 took five clicks of Next (a stranger's complaint)
            st.session_state[key] = min(max(int(st.session_state[f"{key}_jump"] or 1), 1), pages)

        clicks.button("← Previous", key=f"{key}_prev", disabled=page <= 1, on_click=move, args=(-1,), where=left)
        middle.caption(f"Page {page} of {pages} · {total} in all")
        st.session_state[f"{key}_jump"] = page
        jump.number_input("Go to page", min_value=1, max_value=pages, step=1, key=f"{key}_jump", on_change=go_to,
                          label_visibility="collapsed", help=f"Go to page (1 to {pages})")
        clicks.button("Next →", key=f"{key}_next", disabled=page >= pages, on_click=move, args=(1,), where=right)
    return (page - 1) * size


def who(speaker: object, participant: object = None, question: object = None, default: str = "unattributed") -> str:
    """Whose words a segment holds: the speaker; for a survey answer, the respondent and the question it answers.

    A survey's cards and lines all read "unattributed", so a coder could not tell whose answer, or to which
    question, "A proper pay rise." was.

    Example:
        >>> who("Ann"), who(None, "R0001", "What would help most?"), who(None)
        ('Ann', 'R0001 · What would help most?', 'unattributed')
    """
    parts = [text_or(speaker) or text_or(participant), short(text_or(question), 70) if text_or(question) else ""]
    return " · ".join(part for part in parts if part) or default


def readable(value: object) -> str:
    """An event's old/new value as short ``key: value`` text instead of a raw dict.

    Example:
        >>> readable({"status": "accepted", "version": 2})
        'status: accepted · version: 2'
        >>> readable(None)
        ''
    """
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, dict):
        parts = []
        for key, item in value.items():
            if item is None or item == [] or item == {}:
                continue
            if isinstance(item, list | tuple):
                shown = ", ".join(str(v) for v in item[:8]) + (f" … (+{len(item) - 8})" if len(item) > 8 else "")
            elif isinstance(item, dict):
                shown = "; ".join(f"{k}={v}" for k, v in item.items())
            else:
                shown = str(item)
            parts.append(f"{key.replace('_', ' ')}: {short(shown, 120)}")
        return " · ".join(parts)
    return short(str(value), 200)


def not_available(what: str, area: str) -> None:
    """Say plainly that a capability has not landed yet (instead of failing).

    Example:
        >>> not_available("Theme discovery", "issue 5")  # doctest: +SKIP
    """
    st.info(f"{what} is not available yet in this installation ({area}).", icon=":material/hourglass_empty:")


AGREEMENT_STATISTICS = {"cohen_kappa_pooled": "Kappa (pooled)", "krippendorff_alpha": "Krippendorff's alpha",
                        "gwet_ac1": "Gwet's AC1"}
"""The pooled statistics shown for a double-coded transcript, and their labels."""
FEW_SEGMENTS = 5
"""Below this many coded segments a transcript's kappa, alpha and AC1 are not shown: on one segment two
coders who agree read kappa 0 and alpha −1."""


def transcript_statistics(statistics: dict[str, float]) -> tuple[dict[str, float | None], str]:
    """A transcript's pooled statistics by label (None below :data:`FEW_SEGMENTS`), and a line saying over what.

    Example:
        >>> transcript_statistics({"cohen_kappa_pooled": 0.0, "krippendorff_alpha": -1.0, "gwet_ac1": 0.0,
        ...                        "units": 1})[1]
        'Only 1 segment was coded here; kappa, alpha and AC1 need at least 5 to mean anything.'
    """
    units = int(statistics.get("units", 0))
    shown = units >= FEW_SEGMENTS
    values = {label: statistics.get(key) if shown else None for key, label in AGREEMENT_STATISTICS.items()}
    if not statistics:
        return values, "No segment was coded here, so there is nothing to compare."
    if not shown:
        return values, (f"Only {counted(units, 'segment')} {'was' if units == 1 else 'were'} coded here; kappa, "
                        f"alpha and AC1 need at least {FEW_SEGMENTS} to mean anything.")
    return values, f"Kappa, alpha and AC1 over the {counted(units, 'segment')} some coder coded, every code on each."


def figure(value: float | None, digits: int = 3) -> str:
    """A statistic for a metric or table: rounded, or "–" when there is none.

    Example:
        >>> figure(0.12345), figure(None), figure(float("nan"))
        ('0.123', '–', '–')
    """
    import math

    return "–" if value is None or not math.isfinite(value) else f"{value:.{digits}f}"


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


def decision_in_words(ctx: Any, coding_id: int, event_id: int | None = None) -> str:
    """A decision on a coding, in words: what was done to which code, where ("rejected Workload in fg1.txt, turn 4").

    Names the decision an Undo button takes back, on the Review queue and the Transcript page: the event
    ``event_id`` when given (an undo further back on the same coding), else the coding's newest one.

    Example:
        >>> decision_in_words(ctx, 42)  # doctest: +SKIP
        'coded by hand: Workload in fg1.txt, turn 4'
    """
    import pandas as pd

    from qualkit.model import CONSENSUS
    from qualkit.store.decisions import state_histories
    from qualkit.store.queries import codings_by_id

    row = codings_by_id(ctx.store, [coding_id])
    if row.empty:
        return f"coding {coding_id}"
    row = row.iloc[0]
    history = state_histories(ctx.store, [coding_id]).get(coding_id, [])
    event = next((e for e in history if e["id"] == event_id), history[-1] if history else None)
    status = ((event or {}).get("new") or {}).get("status") or row["status"]
    by_hand = row["origin"] == "human" and pd.isna(row.get("parent_id")) and status == "accepted"
    done = "coded by hand:" if by_hand else {"accepted": "accepted", "rejected": "rejected"}.get(status, status)
    if row["decided_by"] == CONSENSUS:  # a settled disagreement, not the user's own accept or reject
        done = f"settled as {'applies' if row['status'] == 'accepted' else 'does not apply'}:"
    elif (event or {}).get("action") == "adjust":
        done = "changed the extent of"  # "accepted …" named a span change, which is what Undo took back
    codebook = queries.codebook(ctx.url, ctx.name, ctx.gen)
    label = code_label(codebook, row["code_id"]) if codebook is not None else row["code_id"]
    if row.get("segment_kind") == "row":
        return f"{done} {label} in {row['source']}, {location(row.to_dict())}"
    turn = "" if pd.isna(row["turn"]) else f", turn {int(row['turn'])}"
    return f"{done} {label} in {row['source']}{turn}"


def ready_to_mark_done(ctx: Any, source_id: int, *, key: str) -> bool:
    """True when the user may press "done" now: nothing left in their queue here, or they confirm leaving it.

    Marking done with suggestions unjudged counts each as the coder's "no" in the agreement figures; two
    coders who judged different cards of a long transcript got kappa 0.339 that way, without a word.

    Example:
        >>> ready_to_mark_done(ctx, 3, key="tx_done_anyway")  # doctest: +SKIP
    """
    frame, left = queries.queue(ctx.url, ctx.name, ctx.gen, ctx.user.name, 0, 10_000, source_id, None)
    if not left:
        return True
    earlier = int((frame["decided_by"] == ctx.user.name).sum()) if "decided_by" in frame else 0
    before = (f" {earlier} of them you decided before the transcript was assigned blind: that decision counts "
              "unless you judge it again here." if earlier else "")
    st.warning(f"You have not judged {counted(left, 'suggestion')} on this transcript yet (your review queue "
               "holds them). Marked done, each counts as your “no” in the agreement figures." + before,
               icon=":material/rule:")
    return st.checkbox(f"Mark it done anyway, leaving {counted(left, 'suggestion')} unjudged", key=key)
