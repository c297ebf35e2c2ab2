"""Analysis page: code prevalence by a participant attribute, and co-occurrence, over accepted codings.

The figures are :meth:`qualkit.project.Project.prevalence` and :meth:`~qualkit.project.Project.cooccurrence`
as they are (the notebook, ``qualkit analyze`` and the study report show the same table); roll-ups of
sub-codes are rows of their own, labelled "… + sub-codes". Every count opens the passages behind it:
click a cell (or choose it in the lists below the table).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from qualkit.app import clicks, queries, resources, state, ui
from qualkit.app.drilldown import show_passages
from qualkit.errors import QualkitError
from qualkit.project import Project
from qualkit.review import visibility

EVERYONE = "(everyone)"


@st.cache_data(show_spinner=False, max_entries=16)
def _prevalence(url: str, project: str, gen: int, user: str, by: str | None):
    return Project(resources.store_for(url, project), user=user).prevalence(by=by)


@st.cache_data(show_spinner=False, max_entries=16)
def _cooccurrence(url: str, project: str, gen: int, user: str):
    return Project(resources.store_for(url, project), user=user).cooccurrence()


@st.cache_data(show_spinner=False, max_entries=32)
def _passages(url: str, project: str, gen: int, user: str, code: str, other: str | None, by: str | None,
              group: str | None) -> pd.DataFrame:
    return Project(resources.store_for(url, project), user=user).passages(code, other=other, by=by, group=group)


def counts_table(result) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Codes (rows, labelled) × groups (columns) with "n (pct%)" cells; and the code ids and groups in order."""
    table = result.table
    codes = list(dict.fromkeys(table["code_id"]))
    groups = list(dict.fromkeys(table["group"]))
    names = dict(zip(table["code_id"], table["code_name"] if "code_name" in table else table["code_id"], strict=True))
    cells = table.set_index(["code_id", "group"])
    shown = pd.DataFrame({"code": [names[c] for c in codes]})
    for group in groups:
        shown[group] = [f"{int(cells.loc[(c, group), 'segments'])} ({cells.loc[(c, group), 'segments_pct']:.1f}%)"
                        for c in codes]
    return shown, codes, groups


def _pick_from_cell(key: str, codes: list[str], columns: list[str], code_key: str, column_key: str) -> None:
    """A clicked cell of the dataframe under ``key`` chooses the code and group in the lists below it."""
    selected = st.session_state.get(key)
    cells = selected.get("selection", {}).get("cells", []) if hasattr(selected, "get") else []
    if cells:
        row, column = cells[0][0], cells[0][1]
        if 0 <= int(row) < len(codes) and column in columns:
            st.session_state[code_key] = codes[int(row)]
            st.session_state[column_key] = column


def _save_min_cell() -> None:
    """Button callback: the study's minimum cell size, as the number box holds it."""
    user, store = state.current_user(), state.current_store()
    if user is not None and store is not None:
        value = int(st.session_state.get("an_min_cell", 3))
        state.run_action(lambda: Project(store, user=user.name).set_min_cell(value),
                         success=f"Groups of fewer than {value} people are no longer shown as themselves."
                         if value > 1 else "Every group is shown, however small.")


def min_cell_setting(ctx: state.Context) -> None:
    """The study's minimum cell size, for those who may change it (it was settable only from Python)."""
    if not ctx.user.can_import():
        return
    current = Project(ctx.store, user=ctx.user.name).min_cell
    with st.expander(f"Smallest group shown: {current} {'person' if current == 1 else 'people'}"):
        st.number_input("People a group needs to be shown as itself (1 shows every group)", min_value=1,
                        max_value=100, value=current, step=1, key="an_min_cell",
                        help="Smaller groups are merged into “Other” or left out, in this page, the CLI and the "
                             "report, so that nobody is recognisable from a group of one or two.")
        clicks.button("Save for the study", key="an_min_cell_save", on_click=_save_min_cell)


def prevalence_section(ctx: state.Context, by: str | None) -> None:
    """The prevalence chart, the counts (each opens its passages) and the tests."""
    st.subheader("Prevalence")
    try:
        result = _prevalence(ctx.url, ctx.name, ctx.gen, ctx.user.name, by)
    except QualkitError as error:
        st.warning(str(error))
        return
    table = result.table
    # Groups too small to show as themselves (the study's minimum cell size): a rule kept, not a problem.
    small_cells = result.settings.get("small_cells", {}).get("notes", [])
    for note in small_cells:
        st.info(note, icon=":material/shield_person:")
    if by is not None:
        min_cell_setting(ctx)
    if not len(table) or not result.settings.get("codings_counted"):
        st.info("No group large enough to show for this comparison." if small_cells and not len(table) else
                "No accepted code to count for this comparison yet.", icon=":material/hourglass_empty:")
        return
    try:
        from qualkit.figures.analysis import prevalence_chart

        st.altair_chart(prevalence_chart(result), key="an_chart")
    except (ImportError, QualkitError, ValueError, KeyError):
        pass
    for note in result.notes:
        if note not in small_cells:
            st.warning(note, icon=":material/balance:")
    shown, codes, groups = counts_table(result)
    names = dict(zip(codes, shown["code"], strict=True))
    st.caption("Segments coded with each code in each group (share of the group's participant segments). "
               "Rows “… + sub-codes” count a segment once when the code or any of its sub-codes applies. "
               "Click a count to read the passages behind it.")
    _pick_from_cell("an_cells", codes, groups, "an_code", "an_group")
    st.dataframe(shown, hide_index=True, width="stretch", key="an_cells", on_select="rerun",
                 selection_mode="single-cell")
    with st.expander("All figures (segments, speakers, sessions) and tests"):
        st.dataframe(table, hide_index=True, width="stretch", key="an_table")
        tests = getattr(result, "tests", None)
        if tests is not None and len(tests):
            st.markdown("**Tests by code**")
            st.dataframe(tests, hide_index=True, width="stretch", key="an_tests")
    left, right = st.columns(2)
    if st.session_state.get("an_code") not in codes:
        st.session_state.pop("an_code", None)
    if st.session_state.get("an_group") not in groups:
        st.session_state.pop("an_group", None)
    code = left.selectbox("Passages behind the count of", codes, key="an_code", format_func=names.get, index=None,
                          placeholder="Choose a code")
    group = right.selectbox(f"in the group ({by or 'everyone'})", groups, key="an_group", index=None,
                            placeholder="Choose a group")
    if code is None or group is None:
        return
    count = int(table.loc[(table["code_id"] == code) & (table["group"] == group), "segments"].iloc[0])
    frame = _passages(ctx.url, ctx.name, ctx.gen, ctx.user.name, code, None, by, None if by is None else group)
    show_passages(frame, key="an_passages", title=f"{names[code]} · {group}", count=count)


def cooccurrence_section(ctx: state.Context) -> None:
    """The co-occurrence matrix (labelled); a cell opens the segments coded with both codes."""
    st.subheader("Co-occurrence (segments coded with both)")
    try:
        matrix = _cooccurrence(ctx.url, ctx.name, ctx.gen, ctx.user.name)
    except QualkitError as error:
        st.warning(str(error))
        return
    if not len(matrix):
        st.info("No segment has two accepted codes yet.", icon=":material/hourglass_empty:")
        return
    codebook = queries.codebook(ctx.url, ctx.name, ctx.gen)
    label = (lambda c: ui.code_label(codebook, c)) if codebook is not None else str
    codes = [str(c) for c in matrix.index]
    labels = [label(c) for c in codes]
    shown = pd.DataFrame(matrix.to_numpy(), columns=labels)
    shown.insert(0, "code", labels)
    by_label = dict(zip(labels, codes, strict=True))
    selected = st.session_state.get("an_co_cells")
    cells = selected.get("selection", {}).get("cells", []) if hasattr(selected, "get") else []
    if cells and 0 <= int(cells[0][0]) < len(codes) and cells[0][1] in by_label:
        st.session_state["an_co_a"] = codes[int(cells[0][0])]
        st.session_state["an_co_b"] = by_label[cells[0][1]]
    st.caption("The diagonal counts segments with that code. Click a count to read the passages behind it.")
    st.dataframe(shown, hide_index=True, width="stretch", key="an_co_cells", on_select="rerun",
                 selection_mode="single-cell")
    left, right = st.columns(2)
    for k in ("an_co_a", "an_co_b"):
        if st.session_state.get(k) not in codes:
            st.session_state.pop(k, None)
    a = left.selectbox("Passages coded with", codes, key="an_co_a", format_func=label, index=None,
                       placeholder="Choose a code")
    b = right.selectbox("and with", codes, key="an_co_b", format_func=label, index=None, placeholder="Choose a code")
    if a is None or b is None:
        return
    frame = _passages(ctx.url, ctx.name, ctx.gen, ctx.user.name, a, None if a == b else b, None, None)
    show_passages(frame, key="an_co_passages", title=f"{label(a)} + {label(b)}" if a != b else label(a),
                  count=int(matrix.loc[a, b]))


def render() -> None:
    """The Analysis page."""
    ctx = state.page_context("Analysis")
    if not hasattr(Project, "prevalence"):
        ui.not_available("Prevalence and co-occurrence", "analysis, issue 7")
        return
    if not visibility.sees_everything(ctx.user.name, queries.team_view(ctx.url, ctx.name, ctx.gen)):
        st.info("Analyses count every coder's accepted codes, so they open once the blind double-coding you take "
                "part in is finished (every coder marked it done).", icon=":material/visibility_off:")
        return
    accepted = queries.status_counts(ctx.url, ctx.name, ctx.gen, ctx.user.name).get("accepted", 0)
    if not accepted:
        st.info("Nothing is accepted yet: prevalence and co-occurrence count accepted codes. Review suggestions "
                "on the Review queue page (or code passages on the Transcript page) first.",
                icon=":material/hourglass_empty:")
        return
    groups = queries.group_attributes(ctx.url, ctx.name, ctx.gen)
    by = st.selectbox("Compare by", [*groups, EVERYONE], key="an_by")
    by = None if by == EVERYONE else by
    prevalence_section(ctx, by)
    if hasattr(Project, "cooccurrence"):
        cooccurrence_section(ctx)


render()
