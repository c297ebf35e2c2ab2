"""History page: the append-only event log — who changed what, when, from what to what — and undoing a decision.

A decision on a coding that still stands (nothing changed that coding since) can be reverted from here:
the revert is a new event, applied only to the version that decision left (someone's later change
makes it a conflict, never an overwrite).
"""

from __future__ import annotations

import streamlit as st

from qualkit.app import actions, clicks, queries, state, ui
from qualkit.display import code_label
from qualkit.review import decisions, visibility
from qualkit.store.decisions import STATE_ACTIONS, state_events
from qualkit.store.queries import codings_by_id
from qualkit.users import team_events

PAGE_SIZE = 50
LIMIT = 5000
MACHINE_ACTIONS = ("suggest", "rescore", "replace")
REVERTIBLE = 300  # the newest events (as filtered) whose decisions are offered for reverting


def render() -> None:
    """The History page."""
    ctx = state.page_context("History")
    events = queries.events(ctx.url, ctx.name, ctx.gen, LIMIT, ctx.user.name)
    a, b, c, d = st.columns(4)
    users = a.multiselect("User", sorted(events["user"].dropna().unique()), key="h_user")
    actions = b.multiselect("Action", sorted(events["action"].unique()), key="h_action")
    entities = c.multiselect("Record", sorted(events["entity"].unique()), key="h_entity")
    entity_id = d.text_input("Record id", key="h_entity_id")
    shown = events
    if users:
        shown = shown[shown["user"].isin(users)]
    if actions:
        shown = shown[shown["action"].isin(actions)]
    if entities:
        shown = shown[shown["entity"].isin(entities)]
    if entity_id.strip():
        shown = shown[shown["entity_id"] == entity_id.strip()]
    if st.checkbox("Only conflicts (changes that were refused because someone else changed the record first)",
                   key="h_conflicts"):
        shown = shown[shown["outcome"] == "conflict"]
    # The auto-coder's runs write most rows (every retrain); people's decisions are what a reader looks for.
    if not actions and not st.checkbox("Include the auto-coder's runs (suggest, rescore, replace)", key="h_machine"):
        shown = shown[~shown["action"].isin(MACHINE_ACTIONS)]
    offset = ui.pager("h_page", len(shown), PAGE_SIZE)
    table = shown.iloc[offset:offset + PAGE_SIZE].copy()
    for column in ("old", "new"):
        table[column] = [ui.readable(v) for v in table[column]]
    # Which code on which words, before the raw values: a stranger had to scroll sideways past ids to see it.
    coded = sorted({int(i) for i, e in zip(table["entity_id"], table["entity"], strict=True)
                    if e == "coding" and str(i).isdigit()})
    what = {("coding", i): words for i, words in (_what_was_decided(ctx, coded) if coded else {}).items()}
    if (table["entity"] == "memo").any():  # a memo's row read empty: its words say which memo it was
        memos = ctx.store.memos_df(withdrawn=True)
        what |= {("memo", int(i)): f"memo · “{ui.short(str(text), 60)}”"
                 for i, text in zip(memos["id"], memos["text"], strict=True)}
    table.insert(table.columns.get_loc("action") + 1, "what",
                 [what.get((e, int(i)), "") if str(i).isdigit() else ""
                  for i, e in zip(table["entity_id"], table["entity"], strict=True)])
    st.dataframe(table, hide_index=True, width="stretch",
                 column_order=["at", "user", "action", "what", "outcome", "old", "new", "entity", "entity_id", "id"],
                 column_config={"what": st.column_config.TextColumn("what", width="large"),
                                "old": st.column_config.TextColumn("old", width="medium"),
                                "new": st.column_config.TextColumn("new", width="medium")})
    if ctx.user.can_code():
        revert_section(ctx, shown.head(REVERTIBLE))
    if not visibility.sees_everything(ctx.user.name, queries.team_view(ctx.url, ctx.name, ctx.gen)):
        st.caption("While you code a transcript blind, the other coder's decisions and memos on it are not listed.")
    if len(events) == LIMIT:
        st.caption(f"Showing the newest {LIMIT} events; filter or use `Project.history()` for all.")
    if ctx.user.can_manage_users():
        st.subheader("Team and log-in events")
        st.dataframe(team_events(ctx.store, limit=200), hide_index=True, width="stretch")


def _revert(coding_id: int, version: int, label: str) -> None:
    """Button callback: revert one decision at the version it left the coding in."""
    user, store = state.current_user(), state.current_store()
    if user is None or store is None:
        return
    if state.run_action(decisions.revert_decision, store, coding_id, expected_version=version, actor=user,
                        success=f"Reverted {label} (a new event; the decision stays on record).") is not None:
        actions.schedule_retrain(store, user.name)


def _what_was_decided(ctx: state.Context, coding_ids: list[int]) -> dict[int, str]:
    """Per coding, its code and words (“Workload · ‘so many notes’ ”): what a reverter needs to recognise it."""
    codebook = queries.codebook(ctx.url, ctx.name, ctx.gen)
    rows = codings_by_id(ctx.store, coding_ids)  # one query for a page of events (gone rows are left out)
    out = {}
    for row in rows.itertuples():
        words = str(row.segment_text)[int(row.start) - int(row.segment_start):int(row.end) - int(row.segment_start)]
        out[int(row.id)] = f"{code_label(codebook, row.code_id)} · “{ui.short(words, 50)}” "
    return out


def revert_section(ctx: state.Context, table) -> None:
    """Revert any decision among the newest events shown (as filtered) that still stands (its coding's newest)."""
    decided = table[(table["entity"] == "coding") & table["entity_id"].notna() & (table["outcome"] == "ok")
                    & table["action"].isin([a for a in STATE_ACTIONS if a not in ("adjudicate", "add")])]
    if decided.empty:
        return
    newest = state_events(ctx.store, [int(i) for i in decided["entity_id"]])
    standing = [event for event in decided.itertuples()  # changed since: revert the newer decision first
                if newest.get(int(event.entity_id), {}).get("id") == int(event.id)]
    if not standing:
        return
    what = _what_was_decided(ctx, sorted({int(event.entity_id) for event in standing}))
    choices = {}
    for event in standing:
        coding_id = int(event.entity_id)
        version = (newest[coding_id]["new"] or {}).get("version", 1)
        choices[int(event.id)] = (coding_id, int(version), f"{event.user} {event.action} {what.get(coding_id, '')}"
                                  f"(coding {coding_id}, event {event.id})")
    st.subheader("Revert a decision")
    chosen = st.selectbox("Decision", list(choices), key="h_revert", format_func=lambda e: choices[e][2],
                          help=f"Decisions among the newest {REVERTIBLE} events shown (filter to reach older ones) "
                               "that nothing has changed since.")
    coding_id, version, label = choices[chosen]
    clicks.button("Revert this decision", key="h_revert_go", icon=":material/undo:", on_click=_revert,
                  args=(coding_id, version, label))


render()
