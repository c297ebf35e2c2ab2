"""Transcript page: read a transcript with coded spans in code colours, filter, code a passage, write memos.

A passage is coded by exact offsets computed from the stored segment text: pick the words on the
slider, or paste the words (whitespace may differ, as when copying from the browser).
"""

from __future__ import annotations

import html

import pandas as pd
import streamlit as st

from qualkit.app import queries, state, ui
from qualkit.app.actions import schedule_retrain
from qualkit.review import decisions, double_coding
from qualkit.spans import locate_passage, word_spans

PAGE_SIZE = 25
STATUSES = ("accepted", "suggested", "rejected")


def _apply(segment_id: int, text: str, base: int) -> None:
    """Button callback: apply the chosen code to the chosen words (or pasted passage) of a segment."""
    user, store = state.current_user(), state.current_store()
    if user is None or store is None:
        return
    code_id = st.session_state.get("tx_code")
    passage = (st.session_state.get("tx_passage") or "").strip()
    try:
        if passage:
            start, end = locate_passage(text, base, passage,
                                               occurrence=int(st.session_state.get("tx_occurrence", 1)))
        else:
            words = word_spans(text, base)
            lo, hi = st.session_state.get(f"tx_words_{segment_id}", (0, len(words) - 1))
            start, end = words[lo][0], words[hi][1]
    except Exception as error:  # InvalidInput from locate_passage, or an empty segment
        state.report_error(error)
        return
    if state.run_action(decisions.add_code, store, segment_id, code_id, actor=user, start=start, end=end,
                        success=f"Coded “{ui.short(text[start - base:end - base], 60)}” as {code_id}.") is not None:
        st.session_state["tx_passage"] = ""
        schedule_retrain(store, user.name)


def _memo(segment_id: int) -> None:
    """Button callback: save the memo typed for a segment."""
    user, store = state.current_user(), state.current_store()
    if user is None or store is None:
        return
    text = st.session_state.get("tx_memo", "")
    if state.run_action(decisions.write_memo, store, text, actor=user, segment_id=segment_id,
                        success="Memo saved.") is not None:
        st.session_state["tx_memo"] = ""


def _done(source_id: int) -> None:
    user, store = state.current_user(), state.current_store()
    if user is not None and store is not None:
        state.run_action(double_coding.mark_done, store, source_id, actor=user,
                         success="Marked done. Once every coder is done, compare on the Double coding page.")


def segment_html(seg, codings: pd.DataFrame, codebook, colors: dict[str, str], memo_count: int) -> str:
    """One segment: speaker label, text with coded spans highlighted, code chips."""
    spans, chips = [], []
    for c in codings.itertuples():
        color = colors.get(c.code_id, "#eee")
        name = codebook[c.code_id].name if codebook is not None and c.code_id in codebook else c.code_id
        if c.status != "rejected":
            spans.append(ui.Span(int(c.start), int(c.end), color, f"{name} ({c.status}, {c.coder})",
                                 dashed=c.status == "suggested"))
        note = {"suggested": "?", "rejected": "✗"}.get(c.status, "")
        chips.append(ui.chip_html(name, color if c.status != "rejected" else "#eee",
                                  dashed=c.status == "suggested", note=note))
    speaker = html.escape(ui.text_or(seg.speaker, "(unattributed)"))
    role = " <small>(moderator)</small>" if seg.speaker_role == "moderator" else ""
    memo = f" <span title='{memo_count} memo(s)' style='color:#777'>✎ memo</span>" if memo_count else ""
    turn = "" if pd.isna(seg.turn) else f"<small style='color:#888'>#{int(seg.turn)}</small> "
    return (f"<div style='margin:0.2em 0 0.6em 0'>{turn}<b>{speaker}</b>{role}: "
            f"{ui.highlight_html(seg.text, int(seg.start), spans)}{memo}<br>{''.join(chips)}</div>")


def render() -> None:
    """The Transcript page."""
    ctx = state.page_context("Transcript")
    sources = queries.sources(ctx.url, ctx.name, ctx.gen)
    if sources.empty:
        st.info("No transcripts yet — import some on the Study page.")
        return
    codebook = queries.codebook(ctx.url, ctx.name, ctx.gen)
    colors = ui.code_colors(codebook)
    names = sources["name"].tolist()
    name = st.selectbox("Transcript", names, key="tx_source")
    source_id = int(sources.loc[sources["name"] == name, "id"].iloc[0])
    segments = queries.segments(ctx.url, ctx.name, ctx.gen, source_id)
    codings = queries.source_codings(ctx.url, ctx.name, ctx.gen, source_id, ctx.user.name)

    view = queries.team_view(ctx.url, ctx.name, ctx.gen)
    if ctx.user.name in view.coders(source_id) and view.in_blind_period(source_id):
        if view.is_done(ctx.user.name, source_id):
            st.info("You marked this transcript done; the other coder is still at work.")
        else:
            st.info("You code this transcript blind: the other coder's decisions stay hidden until you are both done.")
            st.button("Mark this transcript done", key="tx_done", on_click=_done, args=(source_id,))

    f1, f2, f3, f4 = st.columns([2, 2, 2, 1], vertical_alignment="bottom")
    speakers = f1.multiselect("Speakers", sorted(segments["speaker"].dropna().unique()), key="tx_speakers")
    present = [c for c in (codebook.ids if codebook else []) if c in set(codings["code_id"])]
    codes = f2.multiselect("Codes", present, key="tx_codes", format_func=lambda c: ui.code_label(codebook, c))
    statuses = f3.multiselect("Status", STATUSES, default=["accepted", "suggested"], key="tx_status")
    only_coded = f4.checkbox("Coded only", key="tx_only_coded")

    shown = codings[codings["status"].isin(statuses)]
    if codes:
        shown = shown[shown["code_id"].isin(codes)]
    rows = segments
    if speakers:
        rows = rows[rows["speaker"].isin(speakers)]
    if codes or only_coded:
        rows = rows[rows["id"].isin(set(shown["segment_id"]))]
    memos = queries.memos(ctx.url, ctx.name, ctx.gen, ctx.user.name)
    memo_counts = memos["segment_id"].value_counts().to_dict() if len(memos) else {}

    text_col, side = st.columns([3, 2])
    with text_col:
        offset = ui.pager("tx_page", len(rows), PAGE_SIZE)
        page = rows.iloc[offset:offset + PAGE_SIZE]
        by_segment = {k: g for k, g in shown[shown["segment_id"].isin(set(page["id"]))].groupby("segment_id")}
        empty = shown.iloc[0:0]
        body = "".join(segment_html(seg, by_segment.get(seg.id, empty), codebook, colors,
                                    memo_counts.get(seg.id, 0)) for seg in page.itertuples())
        st.markdown(body or "_No segment matches the filters._", unsafe_allow_html=True)
    with side:
        coding_panel(ctx, page, codebook, memos)


def coding_panel(ctx: state.Context, page: pd.DataFrame, codebook, memos: pd.DataFrame) -> None:
    """Code a passage of a segment on this page, and read or write its memos."""
    if page.empty:
        return
    labels = {int(s.id): f"#{'' if pd.isna(s.turn) else int(s.turn)} {ui.text_or(s.speaker)}: {ui.short(s.text, 50)}"
              for s in page.itertuples()}
    segment_id = st.selectbox("Segment", list(labels), key="tx_segment", format_func=labels.get)
    seg = page[page["id"] == segment_id].iloc[0]
    text, base = seg["text"], int(seg["start"])
    if ctx.user.can_code() and codebook is not None:
        st.subheader("Code a passage")
        words = word_spans(text, base)
        if len(words) > 1:
            st.select_slider("Words", options=list(range(len(words))), value=(0, len(words) - 1),
                             key=f"tx_words_{segment_id}",
                             format_func=lambda i: text[words[i][0] - base:words[i][1] - base])
        st.text_input("…or paste the exact words", key="tx_passage")
        st.number_input("Occurrence (if the words appear more than once)", min_value=1, value=1, key="tx_occurrence")
        st.selectbox("Code", [c.id for c in codebook.codable_codes], key="tx_code",
                     format_func=lambda c: ui.code_label(codebook, c))
        st.button("Apply code", key="tx_apply", type="primary", on_click=_apply, args=(segment_id, text, base))
    st.subheader("Memos")
    mine = memos[memos["segment_id"] == segment_id] if len(memos) else memos
    for memo in mine.itertuples():
        st.caption(f"{ui.text_or(memo.author, 'unknown')} · {pd.Timestamp(memo.created_at):%Y-%m-%d %H:%M}")
        st.write(memo.text)
    if ctx.user.can_code():
        st.text_area("New memo on this segment", key="tx_memo")
        st.button("Save memo", key="tx_memo_save", on_click=_memo, args=(segment_id,))


render()
