"""Analysis page: code prevalence by a participant attribute, and co-occurrence, over accepted codings."""

from __future__ import annotations

import streamlit as st

from qualkit.app import queries, resources, state, ui
from qualkit.errors import QualkitError
from qualkit.project import Project
from qualkit.review import visibility


@st.cache_data(show_spinner=False, max_entries=16)
def _prevalence(url: str, project: str, gen: int, by: str | None):
    return Project(resources.store_for(url, project), user="viewer").prevalence(by=by)


@st.cache_data(show_spinner=False, max_entries=16)
def _cooccurrence(url: str, project: str, gen: int):
    return Project(resources.store_for(url, project), user="viewer").cooccurrence()


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
    participants = queries.participants(ctx.url, ctx.name, ctx.gen)
    groups = [c for c in participants.columns if c not in ("participant", "pseudonym", "aliases", "version")]
    by = st.selectbox("Compare by", [*groups, "(everyone)"], key="an_by")
    by = None if by == "(everyone)" else by
    st.subheader("Prevalence")
    try:
        result = _prevalence(ctx.url, ctx.name, ctx.gen, by)
    except QualkitError as error:
        st.warning(str(error))
    else:
        table = getattr(result, "table", None)
        if table is not None and len(table):
            try:
                from qualkit.figures.analysis import prevalence_chart

                st.altair_chart(prevalence_chart(result), key="an_chart")
            except (ImportError, QualkitError, ValueError, KeyError):
                pass
        if table is not None and not len(table):
            st.info("No accepted code to count for this comparison yet.", icon=":material/hourglass_empty:")
        else:
            st.dataframe(getattr(result, "table", result), hide_index=True, width="stretch", key="an_table")
        tests = getattr(result, "tests", None)
        if tests is not None and len(tests):
            st.markdown("**Tests by code**")
            st.dataframe(tests, hide_index=True, width="stretch", key="an_tests")
    if hasattr(Project, "cooccurrence"):
        st.subheader("Co-occurrence (segments coded with both)")
        try:
            cooccurrence = _cooccurrence(ctx.url, ctx.name, ctx.gen)
        except QualkitError as error:
            st.warning(str(error))
        else:
            if hasattr(cooccurrence, "__len__") and not len(cooccurrence):
                st.info("No segment has two accepted codes yet.", icon=":material/hourglass_empty:")
            else:
                st.dataframe(cooccurrence, width="stretch", key="an_cooc")


render()
