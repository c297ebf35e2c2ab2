"""Review queue: suggested codings one card each, with evidence, rationale and one-click (or one-key) decisions.

Safe under change. The page holds a *snapshot* of its cards in the tab's session state (each card's
coding id and row version, as drawn); nothing else reorders them. Every decision, by button or key,
is sent with the id and version of that card, so it can only ever decide the card it belongs to; a
card decided meanwhile elsewhere (by a teammate, or in another tab; on a transcript coded blind, the
reviewer's own judgement made in another tab) says so and offers no decision, and the ▶ moves on to the
next card. The caption names the order the cards were drawn in. Retraining runs in a separate
worker process and stores a new ranking; when it would change the cards on screen the page offers it
("... would show other cards here — refresh") and applies it when the reviewer asks, turns the page, or has
decided every card on it; never mid-read (a new ranking that keeps the cards on screen is taken in silently). The count shown changes only by the decisions made (until the reviewer refreshes).

Keyboard: on the highlighted (first open) card ``A`` accepts, ``X`` rejects and ``K`` opens the
"change to" chooser (Streamlit reserves ``C`` and ``R``), where a code chosen and ``Enter`` apply the change; ``U`` or ``Ctrl+Z`` undoes the last decision
of this tab (a stack of :data:`UNDO_DEPTH`); each action shows exactly one message. A and X decide a card
only once it has been the highlighted one for 600 ms (a quick second press is swallowed; ``QUALKIT_QUEUE_SETTLE_MS``
sets it, see :func:`qualkit.app.resources.settle_ms`).

When the ▶ moves by itself (the card under it was decided or withdrawn elsewhere: a teammate, another tab, the
retrained coder), the first A, X or K that arrives for the card it moved to is not applied: the reviewer was
reading the card above, and their press meant that one. The page says where the ▶ went and why; the next press
acts as usual. A ▶ moved by the reviewer's own decision (or undo) needs no second press, and a click on a card's
own button always applies to that card.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import streamlit as st

from qualkit.app import actions, clicks, queries, resources, state, ui
from qualkit.app.components import Highlight, select_text
from qualkit.app.suggest import suggest_button
from qualkit.errors import ConflictError, QualkitError, StoreError, SuggestionWithdrawn
from qualkit.model import Codebook
from qualkit.review import decisions
from qualkit.store import jobs
from qualkit.store.queries import codings_by_id, own_judgements, withdrawals
from qualkit.users import get_user

PAGE_SIZE = 10
ALL = "(all)"
REFRESH_SECONDS = 2  # how often the page asks the store (one cheap query) whether a new ranking is ready
CHOOSE = "Choose a code…"
SNAPSHOT = "q_snapshot"
REBUILD = "q_rebuild"
UNDO = "q_undo_stack"
UNDO_DEPTH = 50
HELD = "q_held"  # the ▶ moved by itself onto this card: the first key press is held (see module docstring)
HOLD_KEYS = {"A": "accept", "X": "reject", "K": "choose another code for"}
# A card must have been the highlighted one resources.settle_ms() (600 ms) before A or X decides it: a second
# press meant for the card just decided would otherwise land on the next card, seen for a fraction of a second.
# K focuses the highlighted card's "change to" chooser; U / Ctrl+Z press "Undo" (Streamlit's own shortcuts are
# one per button, and Ctrl+Z must not be taken from a text box). A and X are Streamlit's button shortcuts
# (listened to on the document); the guard below listens on the window, before them, and swallows a press
# that comes within SETTLE_MS of a new card becoming the highlighted one.
KEYS_JS = """<script>
(() => {
  if (window.qualkitQueueKeys) return;
  window.qualkitQueueKeys = true;
  const current = () => {
    const card = document.querySelector('[class*="st-key-card_"][class*="_current"]');
    const found = card && /st-key-card_(\\d+)_v(\\d+)_current/.exec(card.className);
    return found ? found[0] : null;
  };
  let shown = { card: current(), since: performance.now() };
  const note = () => {
    const card = current();
    if (card !== shown.card) shown = { card, since: performance.now() };
  };
  new MutationObserver(note).observe(document.body, { subtree: true, childList: true, attributes: true,
                                                      attributeFilter: ["class"] });
  // A chooser of this page (a filter, "Change to") kept the keyboard after a choice, so the next A was typed
  // into it: once a choice is made (an option clicked, or Enter in an open list), the keys go back to the
  // cards. Only this page's choosers, and only on a choice: the script stays in the tab when another page
  // is opened, and typing to filter a list must keep the keyboard.
  const chooser = (el) => el && el.closest
    && el.closest('[class*="st-key-q_source"], [class*="st-key-q_code"], [class*="st-key-chg_"]');
  // After a code is chosen in a card's "Change to", Enter presses that card's Change (as Enter applies a
  // choice on the Transcript page; a stranger pressed Enter twice and nothing happened).
  let chosenFor = null;
  const release = () => {
    const box = document.activeElement && document.activeElement.closest
      && document.activeElement.closest('[class*="st-key-chg_"]');
    const found = box && /st-key-chg_(\\d+)/.exec(box.className);
    chosenFor = found ? found[1] : null;
    setTimeout(() => {
      const el = document.activeElement;
      if (chooser(el)) el.blur();
    }, 50);
  };
  document.addEventListener("click", (event) => {
    if (event.target.closest && event.target.closest('[role="option"]') && chooser(document.activeElement)) release();
  }, true);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && chooser(event.target) && event.target.getAttribute("aria-expanded") === "true") {
      release();
    }
  }, true);
  // How long until A and X act on the highlighted card (the browser tests wait for it, as a person would).
  window.qualkitSettlesIn = () => { note(); return Math.max(0, SETTLE_MS - (performance.now() - shown.since)); };
  window.addEventListener("keydown", (event) => {
    const target = event.target;
    if (target && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName))) return;
    if (!["a", "x"].includes(event.key.toLowerCase()) || event.ctrlKey || event.metaKey || event.altKey) return;
    note();
    // The ▶ moved by itself (the card under it was decided elsewhere): this press goes to the page's hold
    // button, which applies nothing and says where the ▶ went, even within SETTLE_MS (a press swallowed
    // there said nothing, and the reviewer thought it had been applied).
    if (document.querySelector('[class*="st-key-q_hold_"] button')) {
      const held = document.querySelector('[class*="st-key-card_"][class*="_current"]');
      if (held) held.scrollIntoView({ block: "nearest" });
      return;
    }
    if (performance.now() - shown.since < SETTLE_MS) {
      event.preventDefault();
      event.stopImmediatePropagation();
      return;
    }
    // The keys act only on a card the reviewer can see: after the top card was withdrawn, the highlight moved
    // to a card at the bottom edge of the screen, and an X meant for the top card rejected it. Such a press
    // brings the card into view instead; the next press decides it.
    const card = document.querySelector('[class*="st-key-card_"][class*="_current"]');
    const box = card && card.getBoundingClientRect();
    if (box && (box.top > window.innerHeight - 80 || box.bottom < 80)) {
      event.preventDefault();
      event.stopImmediatePropagation();
      card.scrollIntoView({ block: "center" });
      shown = { card: current(), since: performance.now() };
    }
  }, true);
  document.addEventListener("keydown", (event) => {
    const target = event.target;
    if (target && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName))) return;
    const key = event.key.toLowerCase();
    if (key === "z" && (event.ctrlKey || event.metaKey) && !event.altKey && !event.shiftKey) {
      const undo = document.querySelector('[class*="st-key-q_undo"] button');
      if (!undo || undo.disabled) return;
      event.preventDefault();
      undo.click();
      return;
    }
    if (event.key === "Enter" && chosenFor && !event.ctrlKey && !event.metaKey && !event.altKey) {
      const change = document.querySelector(`.st-key-chgbtn_${chosenFor} button`);
      chosenFor = null;
      if (!change || change.disabled) return;
      event.preventDefault();
      change.click();
      return;
    }
    if (key !== "k" || event.ctrlKey || event.metaKey || event.altKey) return;
    chosenFor = null;
    if (document.querySelector('[class*="st-key-q_hold_k"] button')) return;  // its own shortcut: held, said
    const box = document.querySelector('[class*="st-key-chg_"] input');
    if (!box) return;
    event.preventDefault();
    box.focus();
    box.click();
  }, true);
})();
</script>"""


# ---------------------------------------------------------------------------------------------- snapshot
def _snapshot() -> dict[str, Any] | None:
    return st.session_state.get(SNAPSHOT)


def _say(message: str, kind: str = "success") -> None:
    """The one message of this action, after those of earlier actions not shown yet (two quick presses: two lines)."""
    st.session_state[state.KEY_FLASH] = [*st.session_state.get(state.KEY_FLASH, []), (kind, message)][-3:]


def _report(error: Exception) -> None:
    st.session_state[state.KEY_FLASH] = []
    state.report_error(error)


def _drop_card(coding_id: int) -> None:
    """The reviewer decided this card: it leaves the snapshot and the count goes down by one."""
    snap = _snapshot()
    if snap is None:
        return
    frame = snap["frame"]
    if coding_id in set(frame["id"]):
        snap["frame"] = frame[frame["id"] != coding_id].reset_index(drop=True)
        snap["decided"] += 1


def _person(store: Any, name: object) -> str:
    """The name people see for the user ``name`` (their display name where they have one)."""
    if not isinstance(name, str) or not name:
        return "someone else"
    try:
        user = get_user(store, name)
    except QualkitError:
        user = None
    return user.label if user is not None else name


def _hold(card_id: int, key: str, where: str, why: str) -> None:
    """Hold-button callback (A, X or K after the ▶ moved by itself): apply nothing, say where the ▶ is now."""
    snap = _snapshot()
    if snap is not None and (snap.get(HELD) or {}).get("card") == card_id:
        snap[HELD] = None  # pressed once: the next press acts on the card
    _say(f"Not applied: the card you were on was {why} meanwhile; ▶ is now on {where} — press {key} again to "
         f"{HOLD_KEYS[key]} it.", "info")


def _undo_stack(project: str) -> list[dict[str, Any]]:
    """This tab's undo stack for one study (switching studies never undoes in the other one)."""
    return st.session_state.setdefault(f"{UNDO}::{project}", [])


def _push_undo(project: str, entry: dict[str, Any]) -> None:
    """Put one undoable step on this tab's stack (the oldest beyond :data:`UNDO_DEPTH` fall off)."""
    stack = _undo_stack(project)
    stack.append({**entry, "at": datetime.now(UTC).isoformat()})
    del stack[:-UNDO_DEPTH]


def _decide(coding_id: int, version: int, decision: str, label: str, start: int | None = None,
            end: int | None = None) -> None:
    """Button (or key) callback: apply one decision to exactly this card, at the version it showed."""
    user, store = state.current_user(), state.current_store()
    if user is None or store is None:
        return
    code_id = st.session_state.get(f"chg_{coding_id}") if decision == "change" else None
    if decision == "change" and not code_id:
        _say("Choose the code to change to first (K opens the chooser), then press Change.", "info")
        return
    try:
        result = decisions.decide(store, coding_id, decision, actor=user, expected_version=version, code_id=code_id,
                                  start=start, end=end)
    except ConflictError as error:
        done = {"accept": "accepted", "reject": "rejected"}.get(decision)
        if done and error.current.get("status") == done and error.current.get("decided_by") == user.name:
            stack = _undo_stack(store.name)
            if stack and stack[-1].get("card") == coding_id:
                # A second press of the same key before the page redrew: the first one did it.
                _say(f"Already {done} {label} (your decision a moment ago; U or Ctrl+Z undoes it).", "info")
            else:  # decided in another tab: U here takes back this tab's own decisions, not that one
                _say(f"Already {done} {label}, by you in another tab or page; nothing was saved twice "
                     "(History lists it, to undo it).", "info")
            _drop_card(coding_id)
            return
        status, by = error.current.get("status"), error.current.get("decided_by")
        if status in ("accepted", "rejected") and by:
            # The race: someone decided this card as the press was on its way. Said plainly (the card's own note,
            # "Decided meanwhile by …", read as if the press had done it).
            who = "you, in another tab or page," if by == user.name else _person(store, by)
            what = {"span": "accept", "change": "change of code"}.get(decision, decision)
            _say(f"Your {what} was not applied: {who} {status} {label} meanwhile. Nothing of yours was saved.",
                 "warning")
            return
        _report(error)
        return
    except SuggestionWithdrawn:  # by the retrained coder, while the card was on screen
        _decide_withdrawn(store, user, coding_id, decision, label, code_id, start, end)
        return
    except StoreError as error:
        if str(error).startswith(f"no coding {coding_id} "):  # withdrawn by the retrained coder meanwhile
            _decide_withdrawn(store, user, coding_id, decision, label, code_id, start, end)
        else:
            _report(error)
        return
    except QualkitError as error:
        _report(error)
        return
    message = {"accept": f"Accepted {label}.", "reject": f"Rejected {label}.",
               "change": f"Changed {label} to {ui.code_label(store.codebook(), code_id) if code_id else code_id}.",
               "span": f"Accepted {label} with the selected span."}
    _drop_card(coding_id)
    _push_undo(store.name, {"id": int(result.id), "version": int(result.version), "label": label,
                            "what": message[decision].rstrip("."), "card": coding_id, "left_queue": True})
    _say(message[decision] + " (U or Ctrl+Z undoes it.)")
    actions.schedule_retrain(store, user.name)


def _decide_withdrawn(store: Any, user: Any, coding_id: int, decision: str, label: str, code_id: str | None,
                      start: int | None, end: int | None) -> None:
    """A card the retrained coder withdrew while it was on screen: the person's judgement of what they saw stands.

    An accept (or a change, or a narrower span) becomes their own code on exactly the words and code the card
    showed, undoable as any decision; a reject needs nothing. Before, the press saved nothing and the message
    pointed to "add a missing code" on a card it had just removed.
    """
    snap = _snapshot()
    frame = snap["frame"] if snap is not None else pd.DataFrame()
    row = frame[frame["id"] == coding_id].iloc[0] if len(frame) and coding_id in set(frame["id"]) else None
    _drop_card(coding_id)
    if decision == "reject" or row is None:
        _say(f"The retrained coder no longer suggests {label}, so there was nothing to reject; nothing was saved.",
             "info" if decision == "reject" else "warning")
        return
    code = code_id if decision == "change" else str(row["code_id"])
    words = (start, end) if decision == "span" else (int(row["start"]), int(row["end"]))
    try:
        coding = decisions.add_code(store, int(row["segment_id"]), code, actor=user, start=words[0], end=words[1])
    except QualkitError as error:
        _report(error)
        return
    what = f"coded {ui.code_label(store.codebook(), code)} by hand on the card's words"
    _push_undo(store.name, {"id": int(coding.id), "version": int(coding.version), "label": label, "what": what,
                            "card": coding_id, "left_queue": False})
    _say(f"The retrained coder had withdrawn {label} meanwhile; your decision is saved as your own code on the same "
         "words. (U or Ctrl+Z undoes it.)", "info")
    actions.schedule_retrain(store, user.name)


def _add_missing(segment_id: int, coding_id: int, start: int | None, end: int | None) -> None:
    """Button callback: apply another code to the card's segment (the selected words, or the whole turn)."""
    user, store = state.current_user(), state.current_store()
    if user is None or store is None:
        return
    code_id = st.session_state.get(f"add_{coding_id}")
    try:
        coding = decisions.add_code(store, segment_id, code_id, actor=user, start=start, end=end)
    except QualkitError as error:
        _report(error)
        return
    where = "the selected words" if start is not None else "the whole turn"
    _push_undo(store.name, {"id": int(coding.id), "version": int(coding.version), "label": code_id,
                            "what": f"Added {code_id} to {where}", "card": coding_id, "left_queue": False})
    _say(f"Added {code_id} to {where}.")
    actions.schedule_retrain(store, user.name)


def _undo() -> None:
    """Button (U, Ctrl+Z) callback: take back this tab's newest decision; its card comes back on top."""
    user, store = state.current_user(), state.current_store()
    if user is None or store is None:
        return
    stack = _undo_stack(store.name)
    if not stack:
        return
    entry = stack.pop()
    if "bulk" in entry:  # one bulk accept: taken back as one step, each coding at the version it was left in
        failed = 0
        for coding_id, version in entry["bulk"]:
            try:
                decisions.revert_decision(store, coding_id, expected_version=version, actor=user)
            except QualkitError:
                failed += 1  # changed by someone since: left as it is now (History shows it)
        kept = f" {failed} of them changed since and were left as they are now." if failed else ""
        _say(f"Undone: {entry['what']}.{kept} The cards are back in the queue.", "info")
        st.session_state[REBUILD] = True
        actions.schedule_retrain(store, user.name)
        return
    try:
        decisions.revert_decision(store, entry["id"], expected_version=entry["version"], actor=user,
                                  event_id=entry.get("event"))
    except QualkitError as error:
        if "blind double-coding is finished" in str(error):
            _drop_finished(store, stack)
            return
        _report(error)
        return
    snap = _snapshot()
    on_top = False
    if entry["left_queue"] and snap is not None:
        back = codings_by_id(store, [entry["card"]])
        on_top = bool(len(back)) and back["status"].iloc[0] == "suggested"  # not a hand code: that is withdrawn
        if on_top and entry["card"] not in set(snap["frame"]["id"]):
            snap["frame"] = pd.concat([back.assign(priority=None), snap["frame"]], ignore_index=True)
            snap["decided"] -= 1
    _say(f"Undone: {entry['what']}." + (" The card is back on top." if on_top else ""), "info")
    actions.schedule_retrain(store, user.name)


def _refresh() -> None:
    st.session_state[REBUILD] = True


def _bulk(items: list[tuple[int, int]]) -> None:
    """Button callback: accept exactly the previewed suggestions."""
    user, store = state.current_user(), state.current_store()
    if user is None or store is None:
        return
    try:
        results = decisions.accept_many(store, items, actor=user)
    except QualkitError as error:
        _report(error)
        return
    counts = pd.Series(list(results.values())).value_counts().to_dict()
    # Say why any was left: a stranger's 77 became 76 with no word of the one someone had rejected meanwhile.
    why = {"accepted": "accepted", "conflict": "left as they are: someone decided them meanwhile",
           "already coded": "left: their words carry the code already", "gone": "gone: withdrawn by a retrain",
           "refused": "left: coded blind by others"}
    _say("Bulk accept: " + "; ".join(f"{n} {why.get(what, what)}" for what, n in counts.items())
         + " (U or Ctrl+Z undoes it).", "success" if set(counts) == {"accepted"} else "warning")
    accepted = [i for i, what in results.items() if what == "accepted"]
    if accepted:  # what to revert: the rows this bulk accept decided (the suggestions, or a blind coder's own
        # rows), as its events name them. Own rows found by their parent also took in a person's earlier change
        # of one of these suggestions, and the undo of the bulk accept reverted that change's own undo.
        undo = decisions.last_bulk(store, actor=user)
        _push_undo(store.name, {"bulk": undo, "what": f"bulk accept of {ui.counted(len(undo), 'suggestion')}",
                                "left_queue": False})
    st.session_state[REBUILD] = True
    actions.schedule_retrain(store, user.name)


# ---------------------------------------------------------------------------------------------- drawing
def card(ctx: state.Context, row, codebook: Codebook, colors: dict[str, str], *, first: bool,
         gone: str | None = None, note: str | None = None, held: bool = False) -> None:
    """One suggestion with its evidence highlighted and the decision controls (``gone``: why it has none now;
    ``note``: what changed on it since the queue was drawn; ``held``: the ▶ moved onto it by itself, so A and X
    belong to :func:`hold_keys` until pressed once)."""
    cid, version = int(row.id), int(row.version)
    survey = getattr(row, "segment_kind", None) == "row"  # an answer has no turns: its respondent says whose
    turn = f", {ui.location(row)}" if survey else "" if pd.isna(row.turn) else f" turn {int(row.turn)}"
    label = f"{ui.code_label(codebook, row.code_id)} on {row.source}{turn}"
    color = colors.get(row.code_id, "#eee")
    with st.container(border=True, key=f"card_{cid}_v{version}" + ("_current" if first else "")):
        score = "" if pd.isna(row.score) else f"score {row.score:.2f} · "
        segment = queries.segments(ctx.url, ctx.name, ctx.gen, int(row.source_id)).set_index("id")
        said = segment.loc[int(row.segment_id)] if int(row.segment_id) in segment.index else {}
        where = " · ".join(html.escape(part) for part in (
            str(row.origin), str(row.source), ui.who(row.speaker, said.get("participant"), said.get("question"))))
        mark = "▶ " if first else ""
        st.markdown(mark + ui.chip_html(ui.code_label(codebook, row.code_id), color, dashed=True)
                    + f" <small>{score}{where}{'' if survey else html.escape(turn.replace(' turn', ' · turn'))}</small>",
                    unsafe_allow_html=True)
        spans = [ui.Span(int(row.start), int(row.end), color, row.code_id, dashed=True)]
        spans += [ui.Span(int(a), int(b), color, "evidence", strong=True) for a, b in (row.evidence or [])]
        st.markdown(ui.highlight_html(row.segment_text, int(row.segment_start), spans), unsafe_allow_html=True)
        if row.rationale:
            st.caption(f"Why: {row.rationale}")
        if note:
            st.caption(f":material/update: {note}")
        if gone:
            st.caption(f":material/info: {gone}")
            # the message says "refresh the queue", and the button for it is offered only with a new ranking
            clicks.button("Refresh the queue", key=f"q_refresh_{cid}", on_click=_refresh, icon=":material/refresh:")
            return
        if not ctx.user.can_code():
            return
        a, x, sel, k = st.columns([1, 1, 2.2, 1.2], vertical_alignment="bottom")
        clicks.button("Accept", key=f"acc_{cid}", type="primary", on_click=_decide, args=(cid, version, "accept", label),
                      shortcut="A" if first and not held else None, width="stretch", where=a)
        clicks.button("Reject", key=f"rej_{cid}", on_click=_decide, args=(cid, version, "reject", label),
                      shortcut="X" if first and not held else None, width="stretch", where=x)
        others = [c.id for c in codebook.codable_codes if c.id != row.code_id]
        sel.selectbox("Change to", others, index=None, placeholder=CHOOSE + (" (K)" if first else ""),
                      key=f"chg_{cid}", format_func=lambda c: ui.code_label(codebook, c),
                      label_visibility="collapsed")
        clicks.button("Change", key=f"chgbtn_{cid}", on_click=_decide, args=(cid, version, "change", label),
                      width="stretch", where=k)
        if st.toggle("Adjust the span · add a missing code · history", key=f"more_{cid}"):
            more(ctx, row, codebook, color, label)


def more(ctx: state.Context, row, codebook: Codebook, color: str, label: str) -> None:
    """Select words of the turn to accept a different span or to code them with a missing code."""
    cid, version = int(row.id), int(row.version)
    st.caption("Select words below with the mouse (or Tab in and Shift+arrows): the span to accept, or the words "
               "to give a missing code. Without a selection, a missing code applies to the whole turn.")
    mark = Highlight(cid, int(row.start), int(row.end), color, ui.code_label(codebook, row.code_id),
                     status="suggested")
    chosen = select_text(row.segment_text, int(row.segment_start), [mark], key=f"sel_{cid}",
                         label=ui.who(row.speaker, getattr(row, "participant", None)))
    start, end = (chosen.start, chosen.end) if chosen is not None else (None, None)
    if chosen is not None:
        st.caption(f"Selected: “{ui.short(chosen.text, 120)}”")
    left, right = st.columns(2)
    clicks.button("Accept with the selected span", key=f"spanbtn_{cid}", on_click=_decide,
                  args=(cid, version, "span", label, start, end), disabled=chosen is None, where=left)
    right.selectbox("Missing code", [c.id for c in codebook.codable_codes], key=f"add_{cid}",
                    format_func=lambda c: ui.code_label(codebook, c))
    clicks.button("Add this code to the selection" if chosen is not None else "Add this code to the whole turn",
                  key=f"addbtn_{cid}", on_click=_add_missing, args=(int(row.segment_id), cid, start, end), where=right)
    if st.toggle("Show history", key=f"hist_{cid}"):
        history = decisions.coding_history(ctx.store, cid, viewer=ctx.user.name,
                                           view=queries.team_view(ctx.url, ctx.name, ctx.gen))
        table = history[["at", "user", "action", "old", "new", "outcome"]].copy()
        for column in ("old", "new"):
            table[column] = [ui.readable(v) for v in table[column]]
        st.dataframe(table, hide_index=True)


def hold(snap: dict[str, Any], marked: Any, gone: dict[int, str],
         codebook: Codebook) -> dict[str, Any] | None:
    """Whether the ▶ card's first key press is held: the ▶ moved onto it by itself, and no key was pressed since.

    The ▶ moved by itself when the card it was on last time is still among this tab's cards but now gone (decided
    or withdrawn elsewhere; ``gone`` says how, by card id). A card the reviewer decided here leaves the cards, so
    the ▶ their own decision moves holds nothing; nor does one an undo brings back on top (the card it was on
    still stands). Sam read the top card, Rosa accepted it in her tab, his page redrew by itself with the ▶ on
    the next card, and his A accepted that card, unread.
    """
    before, held = snap.get("marked"), snap.get(HELD)
    now = int(marked.id) if marked is not None else None
    snap["marked"] = now
    if now is None:
        held = None
    elif held is not None and held["card"] == now:
        pass  # still waiting for its first press
    elif before is not None and before != now and before in gone:
        survey = getattr(marked, "segment_kind", None) == "row"  # as the card names it
        turn = f", {ui.location(marked)}" if survey else "" if pd.isna(marked.turn) else f" turn {int(marked.turn)}"
        where = f"{ui.code_label(codebook, marked.code_id)} · {marked.source}{turn}"
        held = {"card": now, "where": where, "why": gone[before]}
    else:
        held = None
    snap[HELD] = held
    return held


def hold_keys(held: dict[str, Any]) -> None:
    """The buttons A, X and K press while the ▶ card is held (hidden: the keys are what reaches them).

    They apply nothing and say where the ▶ went; the card's own buttons still apply when clicked.
    """
    st.html("<style>.st-key-q_hold { display: none; }</style>")
    with st.container(key="q_hold"):
        for key in HOLD_KEYS:
            clicks.button(f"Held {key}", key=f"q_hold_{key.lower()}", on_click=_hold,
                          args=(held["card"], key, held["where"], held["why"]), shortcut=key)


def reordered(ctx: state.Context, snap: dict[str, Any], newest: int) -> bool:
    """Whether ranking ``newest``, made by a retrain since the cards were drawn, would show other cards (or the
    same in another order) than the page shows.

    Every decision retrains the coder and so re-ranks the queue; only a new order that changes what is on
    screen is worth a word (the banner came after every decision). An order that changes nothing is taken in.
    """
    if not newest or newest == snap["ranking"] or not jobs.ranking_size(ctx.store, newest):
        return False  # an empty ranking has nothing to show in a new order
    if not jobs.retrained_since(ctx.store, snap["ranking"]):
        # The first ordering of a queue that had none (asked for when the page opened) arrived after the cards
        # were drawn: nothing retrained, and "the retrained coder ranks anew" greeted a reviewer who had not
        # decided anything. It is used when the cards are next drawn (a refresh, another page, all decided).
        return False
    _, source_id, code_id, page = snap["key"]
    frame, _ = queries.queue(ctx.url, ctx.name, ctx.gen, ctx.user.name, (page - 1) * PAGE_SIZE, PAGE_SIZE,
                             source_id, code_id, newest)
    shown = [int(i) for i in snap["frame"]["id"]]
    if [int(i) for i in frame["id"]][: len(shown)] != shown:
        return True
    snap["ranking"] = newest
    return False


@st.fragment(run_every=REFRESH_SECONDS)
def watch_cards(ctx: state.Context, snap: dict[str, Any]) -> None:
    """Redraw the page as soon as a card drawn with its buttons is withdrawn by a retrain or decided by someone else.

    So the card says so before anyone presses a key on it (a stranger's X on such a card saved nothing). One small
    query every few seconds; nothing when the cards still stand.
    """
    live = snap.get("live", {})
    if live:  # a decision, a revert or a moved span bumps the version; a withdrawn card is gone
        now = codings_by_id(ctx.store, list(live))
        if dict(zip(now["id"].astype(int), now["version"].astype(int), strict=True)) != live:
            st.rerun(scope="app")
    blind = snap.get("live_blind", [])
    if blind and own_judgements(ctx.store, blind, coder=ctx.user.name):  # judged in another tab: the card
        st.rerun(scope="app")  # stays "suggested" (the judgement is the coder's own row), its version too


@st.fragment(run_every=REFRESH_SECONDS)
def work_status(ctx: state.Context, snap: dict[str, Any]) -> None:
    """What the worker does; when a new ranking would change the cards on screen, offer it (never apply it)."""
    store = ctx.store
    newest = jobs.ranking_version(store)
    status = actions.work_status(store)
    running, last = status["running"], status["last"]
    if reordered(ctx, snap, newest):
        left, right = st.columns([3, 1], vertical_alignment="center")
        left.info("The retrained coder ranks the suggestions anew and would show other cards here — refresh to see "
                  "the new order (your cards stay until you do).", icon=":material/sync:")
        if clicks.button("Refresh the queue", key="q_refresh", on_click=_refresh, where=right):
            st.rerun(scope="app")
    if running is not None:
        step = running.progress.get("message", "") if running.progress else ""
        what = ("Ordering the queue by what teaches the coder most" if running.kind == "rank"
                else "Retraining the learned coder on the latest decisions")
        st.caption(f":material/sync: {what} in the background{f' ({step})' if step else ''} — keep reviewing.")
    elif last is not None and last.status == "failed":
        st.caption(f":material/warning: The last background job ({last.kind}) failed: {last.error}")
    elif last is not None and last.finished_at is not None:
        finished = pd.Timestamp(last.finished_at)
        st.caption(f"Learned coder updated at {finished:%H:%M:%S} ({ui.readable(last.result)})")


def undo_bar(ctx: state.Context) -> None:
    """The Undo button for this tab's newest decision (U, Ctrl+Z); with none yet, for the user's newest one.

    A tab opened anew (a reload, a new log-in, a server restart) remembers nothing: U then offers the
    user's newest decision that still stands, named on the button, so the key never silently does nothing.
    """
    if not ctx.user.can_code():
        return
    stack = _undo_stack(ctx.name)
    if stack:
        entry = stack[-1]
        clicks.button(f"Undo: {entry['what']} (U / Ctrl+Z)", key="q_undo", icon=":material/undo:", on_click=_undo,
                      shortcut="U", help=f"{len(stack)} decision(s) of this tab can be undone, newest first.")
        return
    bulk = decisions.last_bulk(ctx.store, actor=ctx.user)
    if bulk:  # the whole bulk accept, as the tab that made it would undo it
        what = f"bulk accept of {ui.counted(len(bulk), 'suggestion')}"
        clicks.button(f"Undo your last decision: {what} (U / Ctrl+Z)", key="q_undo", icon=":material/undo:",
                      on_click=_undo_earlier_bulk, args=(bulk, what), shortcut="U",
                      help="Made before this tab opened; History lists every decision.")
        return
    last = decisions.last_decision(ctx.store, actor=ctx.user)
    if last is None:
        return
    what = ui.decision_in_words(ctx, last.coding_id, last.event_id)
    clicks.button(f"Undo your last decision: {what} (U / Ctrl+Z)", key="q_undo", icon=":material/undo:",
                  on_click=_undo_earlier, args=(*last, what), shortcut="U",
                  help="Made before this tab opened; History lists every decision.")


def _drop_finished(store: Any, stack: list[dict[str, Any]]) -> None:
    """Take every decision on a finished double-coded transcript off this tab's undo stack, and say so once.

    Such a decision is settled on the Double coding page, not undone: U walked into a finished transcript and
    was refused once per decision, 17 times, before it reached one it could take back.
    """
    from qualkit.review.visibility import TeamView

    view = TeamView.load(store)
    finished = {int(s) for s in view.assignments["source_id"] if view.is_complete(int(s))}
    rows = codings_by_id(store, [int(e["id"]) for e in stack if "id" in e])
    on_finished = {int(i) for i, s in zip(rows["id"], rows["source_id"], strict=True) if int(s) in finished} \
        if len(rows) else set()
    stack[:] = [e for e in stack if int(e.get("id", -1)) not in on_finished]
    _say(f"{ui.counted(len(on_finished) + 1, 'decision')} of yours on finished double-coded transcripts "
         "cannot be undone here: settle them on the Double coding page. "
         + ("U now takes back your decisions elsewhere." if stack else "Nothing else is left to undo in this tab."),
         "info")


def _undo_earlier(coding_id: int, version: int, event_id: int, what: str) -> None:
    """Button (U, Ctrl+Z) callback: take back the decision named on the button, at the version it named."""
    store = state.current_store()
    if store is None:
        return
    _push_undo(store.name, {"id": coding_id, "version": version, "event": event_id, "label": what, "what": what,
                            "card": coding_id, "left_queue": True})
    _undo()


def _undo_earlier_bulk(items: list[tuple[int, int]], what: str) -> None:
    """Button (U, Ctrl+Z) callback: take back a bulk accept made before this tab opened, as one step."""
    store = state.current_store()
    if store is None:
        return
    _push_undo(store.name, {"bulk": [tuple(item) for item in items], "what": what, "left_queue": False})
    _undo()


def bulk_section(ctx: state.Context, source_id: int | None, code_id: str | None) -> None:
    """Bulk-accept above a score, with a preview of exactly what will be accepted."""
    if not ctx.user.can_code() or not st.toggle("Bulk-accept high-scoring suggestions", key="bulk_on"):
        return
    threshold = st.slider("Accept every suggestion scoring at least", 0.5, 1.0, 0.9, 0.01, key="bulk_min")
    preview = queries.bulk_preview(ctx.url, ctx.name, ctx.gen, ctx.user.name, float(threshold), source_id, code_id)
    st.write(f"**{len(preview)}** suggestions score {threshold:.2f} or more; every one of them is listed below.")
    if len(preview):
        shown = preview[["code_id", "score", "source", "speaker", "segment_text"]]  # all: none accepted unseen
        st.dataframe(shown, hide_index=True, width="stretch", height=min(38 + 35 * len(shown), 420))
        items = [(int(i), int(v)) for i, v in zip(preview["id"], preview["version"], strict=True)]
        clicks.button(f"Accept these {len(preview)} suggestions", key="bulk_go", type="primary", on_click=_bulk,
                      args=(items,))


def nothing_to_review(ctx: state.Context, *, filtered: bool) -> None:
    """An empty queue, said for what it is: all reviewed, or nothing suggested yet (with the way to start).

    A new study's queue said "Nothing left to review here." in green before the coder had ever run on it, and a
    newcomer read it as "all done".
    """
    counts = queries.status_counts(ctx.url, ctx.name, ctx.gen, ctx.user.name)
    if filtered or any(counts.values()):
        st.success("Nothing left to review here.", icon=":material/task_alt:")
        return
    if queries.sources(ctx.url, ctx.name, ctx.gen).empty:
        st.info("No transcripts yet: import them on the Study page, then suggest codes for them.",
                icon=":material/upload_file:")
        return
    st.info("Nothing has been suggested for this study yet: the auto-coder has not run on its transcripts. "
            "Suggest codes here (or on the Study page); the suggestions then wait in this queue.",
            icon=":material/lightbulb:")
    suggest_button(ctx, key="q_suggest")


def withdrawn_note(withdrawal: dict[str, Any] | None, user: str,
                   shown: Callable[[object], str] | None = None) -> str:
    """What a card whose suggestion is gone says: the retrained coder withdrew it, or who did and why.

    A card withdrawn by a teammate's change of the same words said "The retrained coder withdrew this suggestion".
    ``shown`` turns a login name into the name people see.

    Example:
        >>> withdrawn_note({"user": "rosa", "why": "changed to Fatigue"}, "sam", str.title)
        'Withdrawn meanwhile by Rosa (changed to Fatigue); refresh the queue to drop it.'
    """
    if withdrawal is not None and withdrawal.get("why"):
        name = withdrawal.get("user")
        who = "you, in another tab or page" if name == user else \
            shown(name) if shown is not None else ui.text_or(name, "someone else")
        return f"Withdrawn meanwhile by {who} ({withdrawal['why']}); refresh the queue to drop it."
    if withdrawal is not None:
        return "The retrained coder withdrew this suggestion; refresh the queue to drop it."
    return "This suggestion was withdrawn meanwhile; refresh the queue to drop it."


def order_of(frame: pd.DataFrame) -> str:
    """The order the cards of ``frame`` are in, in words: ranked by what teaches the coder most, or by uncertainty.

    Read from the cards themselves (a ranked card has a ``priority``), once, when they are drawn: named from
    the newest ranking's version, the label switched between reruns while the cards stayed where they were,
    and said "most informative first" of cards an empty ranking had left in the uncertainty order.
    """
    ranked = frame["priority"].notna() if "priority" in frame and len(frame) else pd.Series(dtype=bool)
    if len(ranked) and ranked.all():
        return "most informative first"
    return "most informative first, then most uncertain" if ranked.any() else "most uncertain first"


def snapshot(ctx: state.Context, key: tuple, ranking: int) -> dict[str, Any]:
    """The cards this tab shows: kept as drawn until the reviewer refreshes, changes filters or pages,
    or has decided all of them."""
    snap = _snapshot()
    rebuild = st.session_state.pop(REBUILD, False)
    if snap is None or snap["key"] != key or rebuild or snap["frame"].empty:
        project, source_id, code_id, page = key
        frame, total = queries.queue(ctx.url, ctx.name, ctx.gen, ctx.user.name, (page - 1) * PAGE_SIZE, PAGE_SIZE,
                                     source_id, code_id, ranking)
        if frame.empty and total and page > 1:
            st.session_state["q_page"] = 1
            key = (project, source_id, code_id, 1)
            frame, total = queries.queue(ctx.url, ctx.name, ctx.gen, ctx.user.name, 0, PAGE_SIZE, source_id,
                                         code_id, ranking)
        snap = {"key": key, "ranking": ranking, "frame": frame.reset_index(drop=True), "total": int(total),
                "decided": 0, "order": order_of(frame)}
        st.session_state[SNAPSHOT] = snap
    return snap


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
    state.kept("q_source", names)
    state.kept("q_code", [ALL, *codebook.ids])
    chosen_source = left.selectbox("Transcript", names, key="q_source")
    chosen_code = right.selectbox("Code", [ALL, *codebook.ids], key="q_code",
                                  format_func=lambda c: c if c == ALL else ui.code_label(codebook, c))
    state.keep("q_source", chosen_source)
    state.keep("q_code", chosen_code)
    source_id = None if chosen_source == ALL else int(sources.loc[sources["name"] == chosen_source, "id"].iloc[0])
    code_id = None if chosen_code == ALL else chosen_code
    ranking = 0
    if actions.model_work_available():
        actions.ensure_ranking(ctx.store)
        ranking = jobs.ranking_version(ctx.store)
    page = max(int(st.session_state.get("q_page", 1)), 1)
    snap = snapshot(ctx, (ctx.name, source_id, code_id, page), ranking)
    snap["live"] = {}  # id -> version of the cards drawn below with buttons, which watch_cards watches between runs
    snap["live_blind"] = []  # those on transcripts the reviewer codes blind (judged elsewhere, only their own row tells)
    watch_cards(ctx, snap)
    if actions.model_work_available():
        work_status(ctx, snap)
    undo_bar(ctx)
    if ctx.user.can_code():  # before "nothing left": Ctrl+Z on the Undo button must work there too
        st.html(KEYS_JS.replace("SETTLE_MS", str(resources.settle_ms())), unsafe_allow_javascript=True)
    bulk_section(ctx, source_id, code_id)
    total = max(snap["total"] - snap["decided"], 0)
    if not total:
        nothing_to_review(ctx, filtered=source_id is not None or code_id is not None)
        return
    order = snap.get("order") or order_of(snap["frame"])
    keys = ("keys: A accept, X reject, K choose another code (type, Enter to pick it, Enter again to change), U undo (on the card marked ▶) · "
            if ctx.user.can_code() else "")
    st.caption(f"{ui.counted(total, 'suggestion')} to review · {order} · {keys}a card's score is the coders' combined "
               "confidence (0 to 1); under “Why”, each coder gives its own figure")
    frame = snap["frame"]
    current = codings_by_id(ctx.store, [int(i) for i in frame["id"]]).set_index("id")
    view = queries.team_view(ctx.url, ctx.name, ctx.gen)
    mine = view.own_row_sources(ctx.user.name)
    judged = own_judgements(ctx.store, [int(i) for i, s in zip(frame["id"], frame["source_id"], strict=True)
                                        if int(s) in mine], coder=ctx.user.name) if mine else {}
    if mine and set(frame["source_id"]) & mine:
        st.info("Some of these transcripts you code blind: your decisions are your own and stay hidden from "
                "the other coder until you both mark the transcript done (Double coding page).")
    withdrawn = withdrawals(ctx.store, [int(i) for i in frame["id"] if int(i) not in current.index])
    drawn = []  # (row, gone, note, why): why = how a gone card went, in words (for the held ▶'s message)
    for row in frame.itertuples():
        gone = note = why = None
        if int(row.id) not in current.index:
            gone = withdrawn_note(withdrawn.get(int(row.id)), ctx.user.name, lambda name: _person(ctx.store, name))
            withdrawal = withdrawn.get(int(row.id)) or {}
            by = withdrawal.get("user") if withdrawal.get("why") else None
            why = ("withdrawn by you, in another tab or page" if by == ctx.user.name else
                   f"withdrawn by {_person(ctx.store, by)}" if by else "withdrawn by the retrained coder")
        else:
            now = current.loc[int(row.id)]
            # On a transcript this reviewer codes blind, a suggestion decided in place before the assignment is
            # theirs to judge afresh: a live card, never "decided by <the other coder>" (that told them the
            # other coder's decision and offered no buttons).
            if now["status"] != "suggested" and int(row.source_id) not in mine:
                who = "you, in another tab or page" if now["decided_by"] == ctx.user.name else \
                    _person(ctx.store, now["decided_by"])
                gone = f"Decided meanwhile by {who} ({now['status']}); refresh the queue to drop it."
                why = f"decided by {who} ({now['status']})"
            elif int(row.id) in judged:  # the suggestion stays "suggested": the judgement is the reviewer's own row
                gone = (f"You judged this suggestion meanwhile ({judged[int(row.id)]}), in another tab or page; "
                        "refresh the queue to drop it.")
                why = f"judged by you in another tab or page ({judged[int(row.id)]})"
            else:
                # Still undecided: draw it as it is now (a retrain may have moved its span or changed its
                # score), so the buttons carry the version the reviewer is looking at.
                changed = int(now["version"]) != int(row.version)
                moved = (int(now["start"]), int(now["end"])) != (int(row.start), int(row.end))
                row = row._replace(**{k: now[k] for k in row._fields if k in now.index})
                if moved:
                    note = "The retrained coder moved this suggestion's span meanwhile; it is shown as it is now."
                elif changed:
                    note = "A decision on this suggestion was taken back meanwhile; it is shown as it is now."
        drawn.append((row, gone, note, why))
    marked = next((row for row, gone, _, _ in drawn if gone is None), None)
    held = hold(snap, marked, {int(row.id): why for row, gone, _, why in drawn if gone is not None}, codebook)
    # The hold keys go out before the cards: drawn after them, an A pressed as soon as the ▶ showed on its new
    # card could come before they existed, and was swallowed without a word (a flaky browser test saw it).
    hold_slot = st.empty()  # always here, so the cards below keep their places in the page
    if held is not None and ctx.user.can_code():
        with hold_slot.container():
            hold_keys(held)
    for row, gone, note, _ in drawn:
        first = marked is not None and int(row.id) == int(marked.id)
        card(ctx, row, codebook, colors, first=first, gone=gone, note=note, held=first and held is not None)
        if gone is None:
            snap["live"][int(row.id)] = int(row.version)
            if int(row.source_id) in mine:
                snap["live_blind"].append(int(row.id))
    ui.pager("q_page", total, PAGE_SIZE)  # the count above, less what this tab decided (one number, not two)


render()
