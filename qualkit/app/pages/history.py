"""History page: the append-only event log — who changed what, when, from what to what."""

from __future__ import annotations

import streamlit as st

from qualkit.app import queries, state, ui
from qualkit.review import visibility
from qualkit.users import team_events

PAGE_SIZE = 50
LIMIT = 5000


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
    offset = ui.pager("h_page", len(shown), PAGE_SIZE)
    table = shown.iloc[offset:offset + PAGE_SIZE].copy()
    for column in ("old", "new"):
        table[column] = [ui.readable(v) for v in table[column]]
    st.dataframe(table, hide_index=True, width="stretch",
                 column_config={"old": st.column_config.TextColumn("old", width="large"),
                                "new": st.column_config.TextColumn("new", width="large")})
    if not visibility.sees_everything(ctx.user.name, queries.team_view(ctx.url, ctx.name, ctx.gen)):
        st.caption("While you code a transcript blind, the other coder's decisions and memos on it are not listed.")
    if len(events) == LIMIT:
        st.caption(f"Showing the newest {LIMIT} events; filter or use `Project.history()` for all.")
    if ctx.user.can_manage_users():
        st.subheader("Team and log-in events")
        st.dataframe(team_events(ctx.store, limit=200), hide_index=True, width="stretch")


render()
