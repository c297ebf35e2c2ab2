"""Review queue: suggested codings one card each, with evidence, rationale and one-click decisions.

Keyboard: on the first card, ``A`` accepts, ``X`` rejects and ``K`` opens the "change to" chooser
(Streamlit reserves ``C`` and ``R``); nothing changes until a code is chosen and "Change" pressed.
Each decision is sent with the version the card showed, so a decision someone else made meanwhile is
never overwritten: the card says so and shows the current value. The background retraining only
rescores suggestions (same id and version), so it never makes a card stale; when it finishes, or
anyone else writes, the queue reloads itself.
"""

from __future__ import annotations

import html
import time

import pandas as pd
import streamlit as st

from qualkit.app import queries, resources, state, ui
from qualkit.app.actions import ensure_ranking, model_work_available, schedule_retrain
from qualkit.errors import QualkitError, StoreError
from qualkit.model import Codebook
from qualkit.review import decisions
from qualkit.spans import word_spans

PAGE_SIZE = 10
ALL = "(all)"
REFRESH_SECONDS = 2  # how often the queue checks (one cheap query) whether to reload itself
CHOOSE = "Choose a code…"
# K focuses the first card's "change to" chooser (Streamlit's own shortcuts are buttons only).
CHOOSER_KEY_JS = """<script>
(() => {
  if (window.qualkitChooserKey) return;
  window.qualkitChooserKey = true;
  document.addEventListener("keydown", (event) => {
    if (event.key !== "k" && event.key !== "K") return;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    if (target && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName))) return;
    const box = document.querySelector('[class*="st-key-chg_"] input');
    if (!box) return;
    event.preventDefault();
    box.focus();
    box.click();
  }, true);
})();
</script>"""


def _decide(coding_id: int, version: int, decision: str, label: str, text: str, base: int) -> None:
    """Button callback: apply one decision with the version the card showed."""
    user, store = state.current_user(), state.current_store()
    if user is None or store is None:
        return
    code_id = st.session_state.get(f"chg_{coding_id}") if decision == "change" else None
    if decision == "change" and not code_id:
        state.flash("Choose the code to change to first (K opens the chooser), then press Change.", "info")
        return
    start = end = None
    if decision == "span":
        start, end = _chosen_span(coding_id, text, base)
    try:
        decisions.decide(store, coding_id, decision, actor=user, expected_version=version, code_id=code_id,
                      start=start, end=end)
    except StoreError as error:
        if str(error).startswith(f"no coding {coding_id} "):  # withdrawn by the retrained coder meanwhile
            state.flash(f"The retrained coder no longer suggests {label}, so there was nothing to decide; nothing "
                        "was saved. If the code applies, add it with “add a missing code” on the card.", "warning")
        else:
            state.report_error(error)
    except QualkitError as error:
        state.report_error(error)
    else:
        message = {"accept": f"Accepted {label}.", "reject": f"Rejected {label}.",
                   "change": f"Changed {label} to {code_id}.", "span": f"Accepted {label} with the adjusted span."}
        state.flash(message[decision])
        schedule_retrain(store, user.name)


def _chosen_span(coding_id: int, text: str, base: int) -> tuple[int | None, int | None]:
    """The exact offsets of the words chosen on the card's slider, computed from the stored segment text."""
    words = word_spans(text, base)
    chosen = st.session_state.get(f"span_{coding_id}")
    if not words or not chosen:
        return None, None
    lo, hi = chosen
    return words[lo][0], words[hi][1]


def _add_missing(segment_id: int, coding_id: int, text: str, base: int) -> None:
    """Button callback: apply another code to the card's segment (the whole segment or the chosen words)."""
    user, store = state.current_user(), state.current_store()
    if user is None or store is None:
        return
    code_id = st.session_state.get(f"add_{coding_id}")
    start, end = _chosen_span(coding_id, text, base)
    if state.run_action(decisions.add_code, store, segment_id, code_id, actor=user, start=start, end=end,
                        success=f"Added {code_id} to the segment.") is not None:
        schedule_retrain(store, user.name)


def _bulk(items: list[tuple[int, int]]) -> None:
    """Button callback: accept exactly the previewed suggestions."""
    user, store = state.current_user(), state.current_store()
    if user is None or store is None:
        return
    results = state.run_action(decisions.accept_many, store, items, actor=user)
    if results is not None:
        counts = pd.Series(list(results.values())).value_counts().to_dict()
        state.flash("Bulk accept: " + ", ".join(f"{n} {what}" for what, n in counts.items()))
        schedule_retrain(store, user.name)


def card(ctx: state.Context, row, codebook: Codebook, colors: dict[str, str], *, first: bool) -> None:
    """One suggestion with its evidence highlighted and the decision controls."""
    cid, version = int(row.id), int(row.version)
    turn = "" if pd.isna(row.turn) else f" turn {int(row.turn)}"
    label = f"{ui.code_label(codebook, row.code_id)} on {row.source}{turn}"
    color = colors.get(row.code_id, "#eee")
    seg = (row.segment_text, int(row.segment_start))
    with st.container(border=True, key=f"card_{cid}"):
        score = "" if pd.isna(row.score) else f"score {row.score:.2f} · "
        where = " · ".join(html.escape(part) for part in (
            str(row.origin), str(row.source), ui.text_or(row.speaker, "unattributed")))
        st.markdown(ui.chip_html(ui.code_label(codebook, row.code_id), color, dashed=True)
                    + f" <small>{score}{where}{html.escape(turn.replace(' turn', ' · turn'))}</small>",
                    unsafe_allow_html=True)
        spans = [ui.Span(int(row.start), int(row.end), color, row.code_id, dashed=True)]
        spans += [ui.Span(int(a), int(b), color, "evidence", strong=True) for a, b in (row.evidence or [])]
        st.markdown(ui.highlight_html(row.segment_text, int(row.segment_start), spans), unsafe_allow_html=True)
        if row.rationale:
            st.caption(f"Why: {row.rationale}")
        if not ctx.user.can_code():
            return
        a, x, sel, k = st.columns([1, 1, 2.2, 1.2], vertical_alignment="bottom")
        a.button("Accept", key=f"acc_{cid}", type="primary", on_click=_decide, args=(cid, version, "accept", label, *seg),
                 shortcut="A" if first else None, width="stretch")
        x.button("Reject", key=f"rej_{cid}", on_click=_decide, args=(cid, version, "reject", label, *seg),
                 shortcut="X" if first else None, width="stretch")
        others = [c.id for c in codebook.codable_codes if c.id != row.code_id]
        sel.selectbox("Change to", others, index=None, placeholder=CHOOSE + (" (K)" if first else ""),
                      key=f"chg_{cid}", format_func=lambda c: ui.code_label(codebook, c),
                      label_visibility="collapsed")
        k.button("Change", key=f"chgbtn_{cid}", on_click=_decide, args=(cid, version, "change", label, *seg),
                 width="stretch")
        with st.expander("Adjust the span · add a missing code · history"):
            words = word_spans(row.segment_text, int(row.segment_start))
            if words:
                first_word = next((i for i, (s, _) in enumerate(words) if s >= row.start), 0)
                last_word = max([i for i, (_, e) in enumerate(words) if e <= row.end] or [len(words) - 1])
                st.select_slider("Words", options=list(range(len(words))), key=f"span_{cid}",
                                 value=(first_word, max(first_word, last_word)),
                                 format_func=lambda i, w=words, t=row.segment_text, b=int(row.segment_start):
                                 t[w[i][0] - b:w[i][1] - b])
            left, right = st.columns(2)
            left.button("Accept with this span", key=f"spanbtn_{cid}", on_click=_decide,
                        args=(cid, version, "span", label, *seg))
            right.selectbox("Missing code", [c.id for c in codebook.codable_codes], key=f"add_{cid}",
                            format_func=lambda c: ui.code_label(codebook, c))
            right.button("Add this code to the segment", key=f"addbtn_{cid}", on_click=_add_missing,
                         args=(int(row.segment_id), cid, row.segment_text, int(row.segment_start)))
            if st.toggle("Show history", key=f"hist_{cid}"):
                history = decisions.coding_history(ctx.store, cid, viewer=ctx.user.name,
                                                view=queries.team_view(ctx.url, ctx.name, ctx.gen))
                table = history[["at", "user", "action", "old", "new", "outcome"]].copy()
                for column in ("old", "new"):
                    table[column] = [ui.readable(v) for v in table[column]]
                st.dataframe(table, hide_index=True)


@st.fragment(run_every=REFRESH_SECONDS)
def retrain_status(url: str, project: str, gen: int, ranked: int) -> None:
    """The background retraining's state; reloads the queue once new suggestions or anyone's changes arrived."""
    retrainer = resources.retrainer_for(url, project)
    if not retrainer.running:
        fresh = retrainer.ranking_version != ranked or state.generation(resources.store_for(url, project)) != gen
        if fresh:
            st.rerun(scope="app")
    if retrainer.running and retrainer.kind == "rank":
        st.caption(":material/sync: Ordering the queue by what teaches the coder most (meanwhile: most uncertain first)…")
    elif retrainer.running:
        st.caption(":material/sync: Retraining the learned coder on the latest decisions — keep reviewing, the "
                   "queue updates itself…")
    elif retrainer.last_error:
        st.caption(f":material/warning: The last retraining failed: {retrainer.last_error}")
    elif retrainer.last_finished:
        ago = int(time.time() - retrainer.last_finished)
        st.caption(f"Learned coder retrained {ago} s ago ({retrainer.last_summary}) · model update {retrainer.runs}")


def bulk_section(ctx: state.Context, source_id: int | None, code_id: str | None) -> None:
    """Bulk-accept above a score, with a preview of exactly what will be accepted."""
    if not ctx.user.can_code() or not st.toggle("Bulk-accept high-scoring suggestions", key="bulk_on"):
        return
    threshold = st.slider("Accept every suggestion scoring at least", 0.5, 1.0, 0.9, 0.01, key="bulk_min")
    preview = queries.bulk_preview(ctx.url, ctx.name, ctx.gen, ctx.user.name, float(threshold), source_id, code_id)
    st.write(f"**{len(preview)}** suggestions score {threshold:.2f} or more.")
    if len(preview):
        shown = preview.head(50)[["code_id", "score", "source", "speaker", "segment_text"]]
        st.dataframe(shown, hide_index=True, width="stretch")
        items = [(int(i), int(v)) for i, v in zip(preview["id"], preview["version"], strict=True)]
        st.button(f"Accept these {len(preview)} suggestions", key="bulk_go", type="primary", on_click=_bulk,
                  args=(items,))


def render() -> None:
    """The Review queue page."""
    ctx = state.page_context("Review queue")
    codebook = queries.codebook(ctx.url, ctx.name, ctx.gen)
    if codebook is None:
        st.info("The study has no codebook yet; add one on the Codebook page.")
        return
    colors = ui.code_colors(codebook)
    sources = queries.sources(ctx.url, ctx.name, ctx.gen)
    left, right = st.columns(2)
    names = [ALL, *sources["name"].tolist()]
    chosen_source = left.selectbox("Transcript", names, key="q_source")
    chosen_code = right.selectbox("Code", [ALL, *codebook.ids], key="q_code",
                                  format_func=lambda c: c if c == ALL else ui.code_label(codebook, c))
    source_id = None if chosen_source == ALL else int(sources.loc[sources["name"] == chosen_source, "id"].iloc[0])
    code_id = None if chosen_code == ALL else chosen_code
    ranking_version = 0
    if model_work_available():
        ensure_ranking(ctx.store)
        ranking_version = resources.retrainer_for(ctx.url, ctx.name).ranking_version
        retrain_status(ctx.url, ctx.name, ctx.gen, ranking_version)
    bulk_section(ctx, source_id, code_id)
    page = max(int(st.session_state.get("q_page", 1)), 1)
    frame, total = queries.queue(ctx.url, ctx.name, ctx.gen, ctx.user.name, (page - 1) * PAGE_SIZE, PAGE_SIZE,
                                 source_id, code_id, ranking_version)
    if frame.empty and total and page > 1:
        st.session_state["q_page"] = 1
        frame, total = queries.queue(ctx.url, ctx.name, ctx.gen, ctx.user.name, 0, PAGE_SIZE, source_id, code_id,
                                     ranking_version)
    if not total:
        st.success("Nothing left to review here.", icon=":material/task_alt:")
        return
    order = "most informative first" if ranking_version else "most uncertain first"
    st.caption(f"{total} suggestions to review · {order} · keys: A accept, X reject, K choose another code")
    if ctx.user.can_code():
        st.html(CHOOSER_KEY_JS, unsafe_allow_javascript=True)
    view = queries.team_view(ctx.url, ctx.name, ctx.gen)
    mine = view.own_row_sources(ctx.user.name)
    if mine and set(frame["source_id"]) & mine:
        st.info("Some of these transcripts you code blind: your decisions are your own and stay hidden from "
                "the other coder until you both mark the transcript done (Double coding page).")
    for i, row in enumerate(frame.itertuples()):
        card(ctx, row, codebook, colors, first=i == 0)
    ui.pager("q_page", total, PAGE_SIZE)


render()
