"""Reliability page: agreement of double-coded transcripts (built in) and the analysis area's reliability."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from qualkit.app import queries, state, ui
from qualkit.errors import QualkitError
from qualkit.project import Project
from qualkit.review import double_coding, visibility

SUMMARY_COLUMNS = {"judged": "judged (segment × code)", "agreements": "same judgement",
                   "disagreements": "different judgement", "percent_agreement": "agreement % (judged pairs)"}
# The same words for the statistics tables, whose percent agreement counts every code on every coded segment
# (a code neither coder applied is an agreement), so it reads higher than the judged pairs' above.
STATISTICS_COLUMNS = {"percent_agreement": "agreement (every code × coded segment)"}


def render() -> None:
    """The Reliability page."""
    ctx = state.page_context("Reliability")
    view = queries.team_view(ctx.url, ctx.name, ctx.gen)
    frame = view.assignments
    finished = sorted({int(s) for s in frame["source_id"] if view.is_complete(int(s))}) if len(frame) else []
    st.subheader("Double-coded transcripts")
    if not finished:
        st.caption("No finished double-coded transcript yet (assign transcripts on the Double coding page).")
    rows = []
    for source_id in finished:
        coders = view.coders(source_id)
        try:
            judged = double_coding.judgements(ctx.store, source_id, actor=ctx.user, view=view)
        except QualkitError as error:
            st.warning(str(error))
            continue
        names = dict(zip(frame["source_id"], frame["source"], strict=False))
        statistics = queries.transcript_agreement(ctx.url, ctx.name, ctx.gen, ctx.user.name, names[source_id],
                                                  tuple(coders))
        values, _ = ui.transcript_statistics(statistics)
        rows.append({"transcript": names[source_id], "coders": ", ".join(coders),
                     **double_coding.agreement_summary(judged),
                     "coded segments": int(statistics.get("units", 0)), **values})
    if rows:
        table = pd.DataFrame(rows).rename(columns=SUMMARY_COLUMNS)
        st.dataframe(table, hide_index=True, width="stretch")
        st.caption(f"Kappa, alpha and AC1 are left blank for a transcript with fewer than {ui.FEW_SEGMENTS} coded "
                   f"segments. {double_coding.JUDGED_UNITS}")
    st.subheader("Inter-coder reliability by code")
    if not hasattr(Project, "reliability"):
        ui.not_available("Kappa and Krippendorff's alpha by code", "analysis, issue 7")
        return
    hidden = visibility.hidden_coders_anywhere(ctx.user.name, view)
    coders = sorted(set(frame["coder"]) - hidden) if len(frame) else []
    if hidden:
        st.caption("Coders you code blind beside are left out until you have both finished.")
    chosen = st.multiselect("Coders", coders, default=coders[:2], key="rel_coders")
    if len(chosen) < 2:
        st.caption("Choose two or more coders.")
        return
    try:
        result = ctx.project.reliability(chosen)
    except QualkitError as error:
        st.warning(str(error))
        return
    if getattr(result, "statement", ""):
        st.write(result.statement)
        st.caption("Gwet's AC1 sits beside kappa and alpha: for a rare code that both coders almost never apply, "
                   "kappa falls towards zero although they agree on nearly every segment; AC1 does not.")
    for name in ("overall", "per_code"):
        table = getattr(result, name, None)
        if table is not None and len(table):
            table = table.rename(columns=STATISTICS_COLUMNS)
            if "statistic" in table:  # the overall table names its statistics in rows
                table = table.assign(statistic=table["statistic"].replace(STATISTICS_COLUMNS))
            st.dataframe(table, hide_index=True, width="stretch", key=f"rel_{name}")
    st.caption("Two percent agreements, two questions: “agreement % (judged pairs)” above counts only the "
               "segment × code pairs some coder judged (what there is to settle); “agreement (every code × coded "
               "segment)” here counts every code on every segment a coder coded, a code neither applied included, as "
               "kappa, alpha and AC1 do. Report the second beside them.")
    try:
        from qualkit.figures.analysis import reliability_chart

        st.altair_chart(reliability_chart(result.per_code), key="rel_chart")
    except (ImportError, AttributeError, KeyError, ValueError):
        pass
    disagreements = getattr(result, "disagreements", None)
    if disagreements is not None:
        st.subheader(f"Disagreements ({len(disagreements)})")
        if not len(disagreements):
            st.caption("The coders agree on every segment and code.")
        else:
            st.caption("Segments where one coder applied a code and another did not; settle them on the Double "
                       "coding page (both coders' decisions stay on record).")
            shown = [c for c in ("source", "turn", "speaker", "code_name", "applied_by", "not_applied_by", "text")
                     if c in disagreements]
            st.dataframe(disagreements[shown], hide_index=True, width="stretch", key="rel_disagreements")

render()
