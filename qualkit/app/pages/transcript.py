"""Transcript page: read a transcript with coded spans in code colours, code a passage by selecting it, write memos.

Select words with the mouse (or with Shift and the arrow keys), pick a code in the list that opens
(type to filter), done: the coding lands with the exact code-point offsets of the words. A selection
across turns is coded as one passage per turn, so each part stays attributed to its speaker. A coded
span is adjusted by selecting its new extent, and removed (rejected, kept on record) from the same list.
The text and the picker are :mod:`qualkit.app.components.text_select`.
"""

from __future__ import annotations

import functools

import pandas as pd
import streamlit as st

from qualkit.app import clicks, queries, state, ui
from qualkit.app.actions import schedule_retrain
from qualkit.app.components import CodeOption, Highlight, Passage, read_action, text_selector
from qualkit.app.suggest import suggest_button
from qualkit.display import clock
from qualkit.errors import QualkitError
from qualkit.review import decisions, double_coding
from qualkit.review.visibility import TeamView
from qualkit.store.memos import memo_source_ids

PAGE_SIZE = 25
STATUSES = ("accepted", "suggested", "rejected")
SELECTOR = "tx_text"
RECENT = "tx_recent_codes"

# The library's undo of a decision: the transcript offers "Revert" on every decided coding.
REVERT = decisions.revert_decision
# This tab's last memo action, so that Undo can take it back: (what was done, memo id, the words before).
MEMO_UNDO = "tx_memo_undo_entry"


def _act(passages: list[Passage], highlights: list[Highlight], codebook) -> None:
    """Component callback: do what the reader asked in the text selector (code, adjust, remove, accept, reject)."""
    user, store = state.current_user(), state.current_store()
    if user is None or store is None:
        return
    try:
        action = read_action(SELECTOR, passages, highlights)
    except QualkitError as error:
        state.report_error(error)
        return
    if action is None:
        return
    name = {h.id: h.name for h in highlights}.get(action.highlight, "")
    if action.kind == "code":
        parts = action.selection.parts
        label = ui.code_label(codebook, action.code) if codebook is not None else action.code
        what = (f"“{ui.short(parts[0].text, 60)}”" if len(parts) == 1
                else f"{len(parts)} passages (one per turn)")
        done = state.run_action(decisions.add_codes, store, [(int(p.passage), p.start, p.end) for p in parts],
                                action.code, actor=user, success=f"Coded {what} as {label}.")
        if done is not None:
            recent = [action.code, *[c for c in st.session_state.get(RECENT, []) if c != action.code]]
            st.session_state[RECENT] = recent[:5]
            if not str(st.session_state.get("tx_memo", "")).strip():  # a memo then goes with what was just coded,
                st.session_state["tx_segment"] = int(parts[0].passage)  # but a draft keeps the turn it was begun on
    elif action.kind == "revert":
        done = state.run_action(REVERT, store, int(action.highlight), actor=user,
                                expected_version=action.version, success=f"Reverted {name}.")
    else:
        decision = {"adjust": "span", "remove": "reject"}.get(action.kind, action.kind)
        span = {"start": action.selection.start, "end": action.selection.end} if action.kind == "adjust" else {}
        words = f"“{ui.short(action.selection.text, 60) if action.selection else ''}”"
        suggested = {h.id: h.status for h in highlights}.get(action.highlight) == "suggested"
        message = {"adjust": f"Accepted {name}, now covering {words}." if suggested else f"{name} now covers {words}.",
                   "remove": f"Removed {name} (kept on record as rejected).",
                   "accept": f"Accepted {name}.", "reject": f"Rejected {name}."}[action.kind]
        done = state.run_action(decisions.decide, store, int(action.highlight), decision, actor=user,
                                expected_version=action.version, success=message, **span)
    if done is not None:
        schedule_retrain(store, user.name)


def _memo(segment_id: int) -> None:
    """Button callback: save the memo typed for a segment."""
    user, store = state.current_user(), state.current_store()
    if user is None or store is None:
        return
    text = st.session_state.get("tx_memo", "")
    memo = state.run_action(decisions.write_memo, store, text, actor=user, segment_id=segment_id,
                            success="Memo saved.")
    if memo is not None:
        st.session_state["tx_memo"] = ""
        st.session_state[MEMO_UNDO] = ("write", memo.id, "")


def _edit_memo(memo_id: int, version: int, old_text: str) -> None:
    """Button callback: save the new words of one's memo (refused if it changed since it was drawn)."""
    user, store = state.current_user(), state.current_store()
    if user is None or store is None:
        return
    text = st.session_state.get(f"tx_memo_edit_{memo_id}_{version}", "")
    if state.run_action(decisions.edit_memo, store, memo_id, text, actor=user, expected_version=version,
                        success="Memo changed.") is not None:
        st.session_state[MEMO_UNDO] = ("edit", memo_id, old_text)


def _delete_memo(memo_id: int, version: int) -> None:
    """Button callback: delete one's memo (it can be brought back with Undo)."""
    user, store = state.current_user(), state.current_store()
    if user is None or store is None:
        return
    if state.run_action(decisions.delete_memo, store, memo_id, actor=user, expected_version=version,
                        success="Memo deleted.") is not None:
        st.session_state[MEMO_UNDO] = ("delete", memo_id, "")


def _undo_memo() -> None:
    """Button callback: take back this tab's last memo action (a new memo, an edit or a deletion)."""
    user, store = state.current_user(), state.current_store()
    if user is None or store is None or MEMO_UNDO not in st.session_state:
        return
    kind, memo_id, old_text = st.session_state[MEMO_UNDO]
    undo = {"write": (decisions.delete_memo, (), "The new memo is taken back."),
            "edit": (decisions.edit_memo, (old_text,), "The memo has its earlier words again."),
            "delete": (decisions.restore_memo, (), "The memo is back.")}
    action, extra, message = undo[kind]
    # No expected version: the undo acts on the memo as it is now, and says so if that is no longer possible.
    if state.run_action(action, store, memo_id, *extra, actor=user, success=message) is not None:
        del st.session_state[MEMO_UNDO]


def _done(source_id: int) -> None:
    user, store = state.current_user(), state.current_store()
    if user is not None and store is not None:
        state.run_action(double_coding.mark_done, store, source_id, actor=user,
                         success="Marked done. Once every coder is done, compare on the Double coding page.")


def _undo_last(coding_id: int, version: int, event_id: int, what: str) -> None:
    """Button callback: take back the decision named on the button, at the version it named."""
    user, store = state.current_user(), state.current_store()
    if user is not None and store is not None:
        state.run_action(decisions.revert_decision, store, coding_id, expected_version=version, actor=user,
                         event_id=event_id, success=f"Undone: {what}.")


def undo_button(ctx: state.Context) -> None:
    """Undo for the user's newest decision that still stands, named on the button (a stranger's hand code had none:
    Ctrl+Z and U did nothing here, and a chip's Revert did not say to what)."""
    last = decisions.last_decision(ctx.store, actor=ctx.user)
    if last is None:
        return
    what = ui.decision_in_words(ctx, last.coding_id, last.event_id)
    clicks.button(f"Undo your last decision: {what}", key="tx_undo", icon=":material/undo:", on_click=_undo_last,
                  args=(*last, what), help="Your newest decision that still stands, on any transcript; "
                                                        "History lists every one.")


def may_code_here(user, view: TeamView, source_id: int) -> bool:
    """True when ``user`` may code this transcript now (the rule :func:`qualkit.review.decisions.decide` enforces).

    A blind double-coded transcript is coded only by its assigned coders, each until they mark it done.
    """
    if not user.can_code():
        return False
    if source_id not in view.blind_sources():
        return True
    return (not view.is_complete(source_id) and user.name in view.coders(source_id)
            and not view.is_done(user.name, source_id))


def passages_of(page: pd.DataFrame, memo_counts: dict[int, int]) -> list[Passage]:
    """The page's segments as passages: speaker label, and turn number, role and memo count as a note."""
    out = []
    for seg in page.itertuples():
        note = " ".join(bit for bit in (
            "" if pd.isna(seg.turn) else f"#{int(seg.turn)}",
            clock(getattr(seg, "time_start", None)),  # where to find the turn in the recording (VTT/SRT, timed tables)
            "(moderator)" if seg.speaker_role == "moderator" else "",
            f"✎ {memo_counts[seg.id]} memo{'s' if memo_counts[seg.id] > 1 else ''}" if memo_counts.get(seg.id) else "",
        ) if bit)
        out.append(Passage(int(seg.id), str(seg.text), int(seg.start),
                           label=ui.who(seg.speaker, seg.participant, getattr(seg, "question", None), "(unattributed)"),
                           note=note))
    return out


def highlights_of(codings: pd.DataFrame, codebook, colors: dict[str, str], *, can_code: bool) -> list[Highlight]:
    """The codings shown, with what the reader may do to each: adjust / remove an accepted one,
    accept / reject / adjust a suggestion, accept a rejected one again."""
    out = []
    for c in codings.itertuples():
        name = codebook[c.code_id].name if codebook is not None and c.code_id in codebook else c.code_id
        who = c.decided_by if isinstance(c.decided_by, str) and c.decided_by else c.coder
        detail = f"{c.origin} · {who}" if c.origin != "human" else f"by {c.coder}"
        actions: tuple[str, ...] = ()
        if can_code:
            actions = {"accepted": ("adjust", "remove"), "suggested": ("accept", "reject", "adjust"),
                       "rejected": ("accept",)}.get(c.status, ())
            if c.status != "suggested":
                actions += ("revert",)
        out.append(Highlight(int(c.id), int(c.start), int(c.end), colors.get(c.code_id, "#eee"), name,
                             status=c.status, detail=detail, version=int(c.version), actions=actions))
    return out


def code_options(codebook, colors: dict[str, str]) -> list[CodeOption]:
    """The codes a passage may get, each with its parent's name as a hint."""
    options = []
    for code in codebook.codable_codes:
        parent = codebook[code.parent].name if code.parent and code.parent in codebook else ""
        options.append(CodeOption(code.id, code.name, colors.get(code.id, "#eee"), parent))
    return options


LINK = "tx_link"  # (transcript name, segment id) of the ?source=&segment= link this tab followed


def open_linked_place(ctx: state.Context, sources: pd.DataFrame) -> int | None:
    """Follow a ``?source=ID&segment=ID`` link (from Analysis or Themes): that transcript, at that segment.

    The link is taken out of the address once followed: a tab that reconnects after a server restart is a
    new session, and following the link again there would move the memo panel back to the linked turn over
    the one the reader chose since. Returns the linked segment's id while its transcript is shown, else None.
    """
    source, segment = st.query_params.get("source"), st.query_params.get("segment")
    if source is not None or segment is not None:
        st.query_params.pop("source", None)
        st.query_params.pop("segment", None)
        match = sources.loc[sources["id"] == int(source), "name"] if str(source).isdigit() else sources.iloc[:0]
        if not match.empty:
            follow_link(ctx, int(source), match.iloc[0], int(segment) if str(segment).isdigit() else None)
    linked = st.session_state.get(LINK)
    return linked[1] if linked and st.session_state.get("tx_source") == linked[0] else None


def follow_link(ctx: state.Context, source_id: int, name: str, segment_id: int | None) -> None:
    """Show transcript ``name`` unfiltered, at the page and turn of ``segment_id``."""
    st.session_state[LINK] = (name, segment_id)
    st.session_state["tx_source"] = name
    for key, empty in (("tx_speakers", []), ("tx_codes", []), ("tx_only_coded", False)):
        st.session_state[key] = empty
    if segment_id is not None:
        rows = queries.segments(ctx.url, ctx.name, ctx.gen, source_id)
        position = rows.index[rows["id"] == segment_id]
        if len(position):
            st.session_state["tx_page"] = int(rows.index.get_loc(position[0])) // PAGE_SIZE + 1
            st.session_state["tx_segment"] = segment_id


def _first_page() -> None:
    """Another transcript opens at its start (a stranger's second transcript opened at page 2, turn 24)."""
    st.session_state["tx_page"] = 1


def render() -> None:
    """The Transcript page."""
    ctx = state.page_context("Transcript")
    sources = queries.sources(ctx.url, ctx.name, ctx.gen)
    if sources.empty:
        st.info("No transcripts yet — import some on the Study page.")
        return
    linked = open_linked_place(ctx, sources)
    codebook = queries.codebook(ctx.url, ctx.name, ctx.gen)
    colors = ui.code_colors(codebook)
    names = sources["name"].tolist()
    name = st.selectbox("Transcript", names, key="tx_source", on_change=_first_page)
    source_id = int(sources.loc[sources["name"] == name, "id"].iloc[0])
    segments = queries.segments(ctx.url, ctx.name, ctx.gen, source_id)
    codings = queries.source_codings(ctx.url, ctx.name, ctx.gen, source_id, ctx.user.name)
    if linked is not None and (here := segments[segments["id"] == linked]).shape[0]:
        seg = here.iloc[0]
        turn = "" if pd.isna(seg["turn"]) else f"turn #{int(seg['turn'])}, "
        st.info(f"Opened at {turn}{ui.text_or(seg['speaker'], 'unattributed')}: “{ui.short(seg['text'], 90)}” "
                "(on this page; its memos are on the right).", icon=":material/my_location:")

    view = queries.team_view(ctx.url, ctx.name, ctx.gen)
    if ctx.user.name in view.coders(source_id) and view.in_blind_period(source_id):
        if view.is_done(ctx.user.name, source_id):
            st.info("You marked this transcript done; the other coder is still at work.")
        else:
            st.info("You code this transcript blind: the other coder's decisions stay hidden until you are both done.")
            if ui.ready_to_mark_done(ctx, source_id, key="tx_done_anyway"):
                clicks.button("Mark this transcript done", key="tx_done", on_click=_done, args=(source_id,))
    can_code = may_code_here(ctx.user, view, source_id) and codebook is not None
    if can_code:
        suggest_button(ctx, key="tx_suggest", source_id=source_id, source_name=name)
    if ctx.user.can_code():
        undo_button(ctx)

    f1, f2, f3, f4 = st.columns([2, 2, 2, 1], vertical_alignment="bottom")
    speakers = f1.multiselect("Speakers", sorted(segments["speaker"].dropna().unique()), key="tx_speakers")
    present = [c for c in (codebook.ids if codebook else []) if c in set(codings["code_id"])]
    codes = f2.multiselect("Codes", present, key="tx_codes", format_func=lambda c: ui.code_label(codebook, c))
    statuses = f3.multiselect("Status", STATUSES, default=["accepted", "suggested"], key="tx_status")
    only_coded = f4.checkbox("Coded only", key="tx_only_coded")

    shown = codings[codings["status"].isin(statuses)]
    # Rejected codes are hidden by default, as the filter's own default shows; accepted or suggested ones are said.
    hidden = codings.loc[~codings["status"].isin([*statuses, "rejected"]), "status"].value_counts()
    if len(hidden):  # a newcomer thought the team's codes were lost: the filter says what it hides
        st.caption(":material/filter_alt: Hidden by the Status filter: " + ", ".join(
            ui.counted(int(n), f"{status} code") for status, n in hidden.items()) + ".")
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
        passages = passages_of(page, memo_counts)
        highlights = highlights_of(shown[shown["segment_id"].isin(set(page["id"]))], codebook, colors,
                                   can_code=can_code)
        if can_code:
            st.caption("Select words to code them (mouse, or Tab into the text and use Shift+arrows), then pick a code "
                       "and press Enter. Click a coded word or a code chip to adjust, remove or decide it.")
        text_selector(passages, key=SELECTOR, highlights=highlights,
                      codes=code_options(codebook, colors) if can_code else None,
                      on_action=functools.partial(_act, passages, highlights, codebook),
                      recent=st.session_state.get(RECENT, []), readonly=not can_code,
                      aria_label=f"Transcript {name}", empty_text="No segment matches the filters.")
    with side:
        memo_panel(ctx, page, memos)


def memo_panel(ctx: state.Context, page: pd.DataFrame, memos: pd.DataFrame) -> None:
    """Read and write the memos of a segment on this page."""
    if page.empty:
        return
    st.subheader("Memos")
    labels = {int(s.id): f"{'' if pd.isna(s.turn) else f'#{int(s.turn)} '}"
                         f"{ui.who(s.speaker, s.participant, getattr(s, 'question', None), '(unattributed)')}: "
                         f"{ui.short(s.text, 50)}" for s in page.itertuples()}
    options = list(labels)
    talk = page.loc[page["speaker"].notna(), "id"] if "speaker" in page else page["id"]
    first = int((talk if len(talk) else page["id"]).iloc[0])  # the first turn someone said, not a title
    if "tx_segment" in st.session_state and st.session_state["tx_segment"] not in labels:
        # A turn of another page or filter: set the page's first turn in the session state, so the box
        # shows it. Passed only as the default (index), the browser kept showing the old page's turn while
        # a memo went on this one (a stranger's memo landed on #47 under "#0 Helen").
        st.session_state["tx_segment"] = first
    # With a turn chosen, Streamlit takes it from the session state. On a first look the page's first turn is
    # passed as the default, not set in the session state: a tab reconnected after a restart sends the turn it
    # shows, and that must win.
    index = 0 if "tx_segment" in st.session_state else options.index(first)
    segment_id = st.selectbox("Segment", options, index=index, key="tx_segment", format_func=labels.get)
    on_turn = memos[memos["segment_id"] == segment_id] if len(memos) else memos
    for memo in on_turn.itertuples():
        edited = " · edited" if int(memo.version) > 1 else ""
        st.caption(f"{ui.text_or(memo.author, 'unknown')} · {pd.Timestamp(memo.created_at):%Y-%m-%d %H:%M}{edited}")
        st.write(memo.text)
        own = ctx.user.can_code() and memo.author == ctx.user.name
        if own or ctx.user.can_manage_users():
            memo_controls(int(memo.id), int(memo.version), memo.text, own=own)
    deleted_memos(ctx, segment_id)
    if MEMO_UNDO in st.session_state:
        kind, memo_id = st.session_state[MEMO_UNDO][:2]
        # the undo is the tab's last memo action, wherever it was: say so when that is another transcript
        about = memo_source_ids(ctx.store, [memo_id]).get(memo_id)
        elsewhere = about is not None and len(page) and about != int(page["source_id"].iloc[0])
        clicks.button({"write": "Undo: take back the memo just saved", "edit": "Undo: restore the memo's earlier words",
                       "delete": "Undo: bring back the deleted memo"}[kind]
                      + (" (a memo on another transcript)" if elsewhere else ""), key="tx_memo_undo",
                      on_click=_undo_memo, icon=":material/undo:")
    if ctx.user.can_code():
        st.text_area("New memo on this segment", key="tx_memo")
        clicks.button("Save memo", key="tx_memo_save", on_click=_memo, args=(segment_id,))


def deleted_memos(ctx: state.Context, segment_id: int) -> None:
    """The deleted memos on this turn that the user may bring back (their own; an administrator's: any)."""
    gone = queries.memos(ctx.url, ctx.name, ctx.gen, ctx.user.name, deleted=True)
    gone = gone[gone["segment_id"] == segment_id] if len(gone) else gone
    if not ctx.user.can_manage_users():
        gone = gone[gone["author"] == ctx.user.name] if ctx.user.can_code() else gone.iloc[0:0]
    if gone.empty:
        return
    with st.expander(f"Deleted memos on this turn ({len(gone)})"):
        for memo in gone.itertuples():
            st.caption(f"{ui.text_or(memo.author, 'unknown')} · deleted {pd.Timestamp(memo.withdrawn_at):%Y-%m-%d %H:%M}")
            st.write(memo.text)
            clicks.button("Bring back", key=f"tx_memo_restore_{memo.id}_{memo.version}", on_click=_restore_memo,
                          args=(int(memo.id), int(memo.version)), icon=":material/restore_from_trash:")


def _restore_memo(memo_id: int, version: int) -> None:
    """Button callback: bring back a deleted memo (refused if it changed since it was drawn)."""
    user, store = state.current_user(), state.current_store()
    if user is not None and store is not None:
        state.run_action(decisions.restore_memo, store, memo_id, actor=user, expected_version=version,
                         success="The memo is back.")


def memo_controls(memo_id: int, version: int, text: str, *, own: bool) -> None:
    """Edit (the author) and Delete (the author, or an administrator) for one memo; both say the version seen."""
    edit, delete = st.columns(2)
    if own:
        with edit.popover("Edit", icon=":material/edit:"):
            st.text_area("Memo", value=text, key=f"tx_memo_edit_{memo_id}_{version}")
            clicks.button("Save changes", key=f"tx_memo_edit_save_{memo_id}_{version}", on_click=_edit_memo,
                          args=(memo_id, version, text))
    clicks.button("Delete", key=f"tx_memo_delete_{memo_id}_{version}", on_click=_delete_memo,
                  args=(memo_id, version), icon=":material/delete:", where=delete)


render()
