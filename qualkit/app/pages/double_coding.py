"""Double coding page: assign transcripts to two coders (blind), mark done, compare, and adjudicate.

Until every assigned coder is done, nobody sees the other coder's decisions (nor this comparison);
afterwards each disagreement is settled here and recorded as the ``consensus`` decision, while both
coders' original decisions stay on record.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from qualkit.app import clicks, queries, state, ui
from qualkit.errors import QualkitError
from qualkit.review import double_coding
from qualkit.users import list_users

PAGE_SIZE = 10
# The settlement(s) this tab made last, so they can be taken back: ([(coding id, version), ...], what was settled).
LAST_SETTLED = "dc_last_settled"


def _assign() -> None:
    user, store = state.current_user(), state.current_store()
    if user is None or store is None:
        return
    source = st.session_state.get("dc_source")
    coders = st.session_state.get("dc_coders") or []
    blind = bool(st.session_state.get("dc_blind", True))
    try:
        note = (double_coding.blind_note(store, source, coders, assigner=user.name) if blind and source and coders
                else "")
    except QualkitError:  # the transcript is gone: assign() below says so
        note = ""
    state.run_action(double_coding.assign, store, source, coders, actor=user, blind=blind,
                     success=f"Assigned {source} to {', '.join(coders)}{' (blind)' if blind else ''}.{note}")


def _done(source_id: int, coder: str, done: bool) -> None:
    user, store = state.current_user(), state.current_store()
    if user is None or store is None:
        return
    state.run_action(double_coding.mark_done, store, source_id, actor=user, coder=coder, done=done,
                     success=f"{coder}: {'done' if done else 'reopened'}.")


def _unassign(source_id: int, coder: str) -> None:
    user, store = state.current_user(), state.current_store()
    if user is not None and store is not None:
        state.run_action(double_coding.unassign, store, source_id, coder, actor=user, success=f"Unassigned {coder}.")


def _adjudicate(segment_id: int, code_id: str, apply: bool, expected: dict | None, what: str, where: str) -> None:
    user, store = state.current_user(), state.current_store()
    if user is None or store is None:
        return
    note = st.session_state.get(f"adj_note_{segment_id}_{code_id}", "")
    settled = state.run_action(double_coding.adjudicate, store, segment_id, code_id, apply=apply, actor=user,
                               note=note, expected=expected,
                               success=f"Settled: {what} {'applies' if apply else 'does not apply'} to {where}.")
    if settled is not None:
        st.session_state[LAST_SETTLED] = ([(int(settled.id), int(settled.version))], f"{what} on {where}")


def _unsettle(records: list[tuple[int, int]], what: str) -> None:
    """Button callback: take back one settlement, or all the agreements recorded at once."""
    user, store = state.current_user(), state.current_store()
    if user is None or store is None:
        return
    undone = [state.run_action(double_coding.unsettle, store, coding_id, actor=user, expected_version=version)
              for coding_id, version in records]
    if all(u is not None for u in undone):
        st.session_state.pop(LAST_SETTLED, None)
        state.flash(f"Taken back: {what}; {'the disagreement is' if len(records) == 1 else 'they are'} open again.")


def _settle(source_id: int) -> None:
    user, store = state.current_user(), state.current_store()
    if user is None or store is None:
        return
    settled = state.run_action(double_coding.settle_agreements, store, source_id, actor=user)
    if settled is not None:
        state.flash(f"Recorded {len(settled)} agreements as consensus.")
        st.session_state[LAST_SETTLED] = ([(int(c.id), int(c.version)) for c in settled],
                                          f"the {len(settled)} agreements recorded as consensus")


def assignments_section(ctx: state.Context) -> None:
    """Assignments: the admin's form and table; each coder's own assignments with a done button."""
    frame = queries.assignments(ctx.url, ctx.name, ctx.gen)
    sources = queries.sources(ctx.url, ctx.name, ctx.gen)
    if ctx.user.can_assign():
        st.subheader("Assign a transcript")
        coders = [n for n, r in zip(*(list_users(ctx.store)[c] for c in ("name", "role")), strict=True)
                  if r in ("admin", "coder")]
        a, b, c, d = st.columns([2, 3, 1, 1], vertical_alignment="bottom")
        a.selectbox("Transcript", sources["name"].tolist(), key="dc_source")
        b.multiselect("Coders (two for double-coding)", coders, key="dc_coders", max_selections=4)
        c.checkbox("Blind", value=True, key="dc_blind")
        clicks.button("Assign", key="dc_assign", type="primary", on_click=_assign, where=d)
    if not ctx.user.can_assign():
        frame = frame[frame["coder"] == ctx.user.name]
    if frame.empty:
        st.caption("No transcript is assigned yet." if ctx.user.can_assign() else "No transcript is assigned to you.")
        return
    st.subheader("Assignments")
    view = queries.team_view(ctx.url, ctx.name, ctx.gen)
    for row in frame.itertuples():
        mine = row.coder == ctx.user.name
        cols = st.columns([3, 2, 2, 1.3, 1.3], vertical_alignment="center")
        cols[0].write(f"**{row.source}**")
        cols[1].write(f"{row.coder}{' (you)' if mine else ''}")
        cols[2].write((":material/check_circle: done" if row.done else ":material/pending: coding")
                      + (" · blind" if row.blind else ""))
        if mine and not row.done:
            with cols[3]:
                ready = ui.ready_to_mark_done(ctx, int(row.source_id), key=f"dc_done_anyway_{row.id}")
            if ready:
                clicks.button("Mark done", key=f"dc_done_{row.id}", on_click=_done,
                              args=(int(row.source_id), row.coder, True), where=cols[3])
        if mine and row.done and not ctx.user.can_assign() and not view.is_complete(int(row.source_id)):
            clicks.button("Not done yet", key=f"dc_reopen_{row.id}", on_click=_done,
                          args=(int(row.source_id), row.coder, False), where=cols[3],
                          help="Take back 'done' while another coder is still coding")
        if ctx.user.can_assign():
            if row.done:
                clicks.button("Reopen", key=f"dc_reopen_{row.id}", on_click=_done,
                              args=(int(row.source_id), row.coder, False), where=cols[3])
            clicks.button("Unassign", key=f"dc_rm_{row.id}", on_click=_unassign,
                          args=(int(row.source_id), row.coder), where=cols[4])


def disagreements_section(ctx: state.Context) -> None:
    """Compare the coders of a finished transcript and settle each disagreement."""
    st.subheader("Disagreements")
    view = queries.team_view(ctx.url, ctx.name, ctx.gen)
    frame = view.assignments
    finished = sorted({int(s) for s in frame["source_id"] if view.is_complete(int(s))}) if len(frame) else []
    if not finished:
        st.caption("A transcript appears here once every coder assigned to it marked it done.")
        return
    names = dict(zip(frame["source_id"], frame["source"], strict=False))
    source_id = st.selectbox("Finished transcript", finished, key="dc_compare", format_func=lambda s: names[s])
    coders = view.coders(source_id)
    try:
        judged = double_coding.judgements(ctx.store, source_id, actor=ctx.user, view=view)
    except Exception as error:  # permission or data problems: one line, no traceback
        st.error(str(error))
        return
    summary = double_coding.agreement_summary(judged)
    cols = st.columns(3)
    cols[0].metric("Judged (segment × code)", summary["judged"])
    cols[1].metric("Agreements", summary["agreements"])
    cols[2].metric("Agreement on judged pairs", "–" if summary["percent_agreement"] is None
                   else f"{summary['percent_agreement']}%")
    statistics = queries.transcript_agreement(ctx.url, ctx.name, ctx.gen, ctx.user.name, names[source_id],
                                              tuple(coders))
    values, over = ui.transcript_statistics(statistics)
    cols = st.columns(3)
    for col, (label, value) in zip(cols, values.items(), strict=True):
        col.metric(label, ui.figure(value))
    st.caption(f"{over} {double_coding.JUDGED_UNITS}")
    may_settle = ctx.user.can_assign() or (ctx.user.can_adjudicate() and ctx.user.name in coders)
    open_agreements = int((judged["agree"] & judged["consensus"].isna()).sum())
    if may_settle and open_agreements:
        clicks.button(f"Record the {open_agreements} agreements as consensus", key="dc_settle", on_click=_settle,
                      args=(source_id,))
    if may_settle and LAST_SETTLED in st.session_state:
        records, what = st.session_state[LAST_SETTLED]
        clicks.button(f"Undo: take back {what}", key="dc_unsettle_last", on_click=_unsettle, args=(records, what),
                      icon=":material/undo:")
    disagreeing = judged[~judged["agree"]]
    show_settled = st.checkbox("Show settled disagreements too", key="dc_show_settled")
    if not show_settled:
        disagreeing = disagreeing[disagreeing["consensus"].isna()]
    if disagreeing.empty:
        st.success("No open disagreements on this transcript.")
        return
    codebook = queries.codebook(ctx.url, ctx.name, ctx.gen)
    offset = ui.pager("dc_page", len(disagreeing), PAGE_SIZE)
    for row in disagreeing.iloc[offset:offset + PAGE_SIZE].itertuples():
        what = ui.code_label(codebook, row.code_id)
        speaker = ui.text_or(row.speaker, "unattributed")
        where = f"turn {int(row.turn)} ({speaker})" if pd.notna(row.turn) else f"{speaker}'s passage"
        with st.container(border=True):
            st.markdown(f"**{what}** · {'' if pd.isna(row.turn) else f'turn {int(row.turn)} · '}{speaker}: "
                        f"{ui.short(row.text, 300)}")
            st.caption(" · ".join(f"{c}: {disagreeing.at[row.Index, c]}" for c in coders)
                       + (f" · settled: {row.consensus}" if isinstance(row.consensus, str) else ""))
            if not may_settle:
                continue
            expected = (None if pd.isna(row.consensus_id)
                        else {"id": int(row.consensus_id), "version": int(row.consensus_version)})
            note_col, yes, no = st.columns([3, 1, 1], vertical_alignment="bottom")
            note_col.text_input("Note", key=f"adj_note_{row.segment_id}_{row.code_id}",
                                label_visibility="collapsed", placeholder="Why (optional)")
            clicks.button("Code applies", key=f"adj_yes_{row.segment_id}_{row.code_id}", on_click=_adjudicate,
                          args=(int(row.segment_id), row.code_id, True, expected, what, where), where=yes)
            clicks.button("Does not apply", key=f"adj_no_{row.segment_id}_{row.code_id}", on_click=_adjudicate,
                          args=(int(row.segment_id), row.code_id, False, expected, what, where), where=no)
            if expected is not None:
                clicks.button("Unsettle", key=f"adj_undo_{row.segment_id}_{row.code_id}", on_click=_unsettle,
                              args=([(expected["id"], expected["version"])], f"{what} on {where}"),
                              icon=":material/undo:", help="Take back this settlement: the disagreement is open again")


def render() -> None:
    """The Double coding page."""
    ctx = state.page_context("Double coding")
    assignments_section(ctx)
    st.divider()
    disagreements_section(ctx)


render()
