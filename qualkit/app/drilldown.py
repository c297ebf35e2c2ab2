"""Open the passages behind a number: the panel the Analysis and Themes pages show under a chosen count.

The rows come from the library (:meth:`qualkit.project.Project.passages` for analysis cells,
:func:`qualkit.themes.runs.theme_passages` for a theme), so the number of passages listed is the number
in the cell. They are drawn read-only by the text selector (:mod:`qualkit.app.components`), labelled by
role, never by name, and each has a link that opens the transcript at that place
(``?source=ID&segment=ID`` on the Transcript page).

Example:
    >>> show_passages(frame, key="an_passages", title="Workload · resident")  # doctest: +SKIP
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from qualkit.app import state, ui
from qualkit.app.components import Passage, text_selector
from qualkit.app.navigation import page

PAGE_SIZE = 10


def transcript_link(source_id: int, segment_id: int) -> dict[str, str]:
    """The query parameters that open the Transcript page at one segment of one transcript (study kept).

    Example:
        >>> transcript_link(3, 41)["segment"]
        '41'
    """
    params = {"source": str(int(source_id)), "segment": str(int(segment_id))}
    study = st.session_state.get(state.KEY_PROJECT)
    if study:
        params[state.STUDY_PARAM] = study
    return params


def show_passages(frame: pd.DataFrame, *, key: str, title: str, count: int | None = None) -> None:
    """List the passages of ``frame`` (``passages_behind`` columns), ten at a time, each with its transcript link.

    ``count`` is the number shown in the cell the reader opened; the heading says how many passages
    there are, so a mismatch could not go unnoticed.

    Example:
        >>> show_passages(project.passages("workload"), key="an_p", title="Workload")  # doctest: +SKIP
    """
    n = len(frame)
    st.markdown(f"**{title}** — {n} passage{'s' if n != 1 else ''}"
                + (f" (the count shown: {count})" if count is not None and count != n else ""))
    if not n:
        st.caption("No passage behind this count.")
        return
    offset = ui.pager(f"{key}_page", n, PAGE_SIZE)
    part = frame.iloc[offset:offset + PAGE_SIZE]
    passages = []
    for row in part.itertuples():
        turn = "" if row.turn is None or pd.isna(row.turn) else f"#{int(row.turn)} "
        codes = ", ".join(row.codes) if isinstance(row.codes, list) else ""
        start = 0 if row.start is None or pd.isna(row.start) else int(row.start)
        passages.append(Passage(f"{key}-{row.segment_id}", str(row.text), start, label=str(row.attribution),
                                note=f"{turn}{row.source}" + (f" · {codes}" if codes else "")))
    text_selector(passages, key=f"{key}_text", readonly=True, aria_label=title, picker=False)
    st.caption("Open a passage where it was said:")
    columns = st.columns(2)
    for i, row in enumerate(part.itertuples()):
        if row.source_id is None or pd.isna(row.source_id):
            continue
        turn = "" if row.turn is None or pd.isna(row.turn) else f" #{int(row.turn)}"
        columns[i % 2].page_link(page("transcript"), label=f"{row.source}{turn} — {row.attribution}",
                                 icon=":material/open_in_new:",
                                 query_params=transcript_link(int(row.source_id), int(row.segment_id)))
