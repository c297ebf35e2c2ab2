"""Themes page: emergent themes from theme discovery, and promoting a candidate theme to a code."""

from __future__ import annotations

import inspect

import pandas as pd
import streamlit as st

from qualkit.app import clicks, state, ui
from qualkit.app.drilldown import show_passages
from qualkit.errors import QualkitError
from qualkit.project import Project
from qualkit.themes.discover import discover_themes
from qualkit.themes.prepare import LEVELS

LEVEL_WORDS = {"sentence": "sentences", "window": "a few sentences together", "turn": "whole turns"}
MIN_WORDS = inspect.signature(discover_themes).parameters["min_words"].default


def _promote(theme_id: int) -> None:
    user = state.current_user()
    project = state.current_project(user) if user else None
    if project is None:
        return
    try:
        user.require("edit_codebook")
        project.promote_theme(int(theme_id))
    except QualkitError as error:
        state.report_error(error)
    else:
        state.flash(f"Theme {theme_id} is now a code (a new codebook version) with suggestions to review.")


def theme_reader(ctx: state.Context, result, table) -> None:
    """Read the passages of a theme (attributed by role, each with a link to its transcript) before promoting it."""
    if "id" not in table or not len(table):
        return
    labels = dict(zip(table["id"], table["label"] if "label" in table else table["id"], strict=True))
    sizes = dict(zip(table["id"], table["size"] if "size" in table else [None] * len(table), strict=True))
    theme = st.selectbox("Read the passages of a theme", list(labels), key="th_read", index=None,
                         placeholder="Choose a theme", format_func=lambda i: f"{i}: {labels[i]}")
    if theme is None:
        return
    from qualkit.themes.runs import theme_passages

    try:
        frame = theme_passages(ctx.store, result, int(theme))
    except QualkitError as error:
        st.warning(str(error))
        return
    size = sizes.get(theme)
    show_passages(frame, key="th_passages", title=f"Theme {theme}: {labels[theme]}",
                  count=None if size is None or pd.isna(size) else int(size))


def render() -> None:
    """The Themes page."""
    ctx = state.page_context("Themes")
    if not hasattr(Project, "discover_themes"):
        ui.not_available("Theme discovery", "themes, issue 5")
        return
    try:
        result = ctx.project.themes()
    except QualkitError:
        result = None
    if ctx.user.can_run_analyses():
        with st.expander("Settings"):
            left, right = st.columns(2)
            level = left.selectbox("Passages", list(LEVELS), key="th_level", format_func=LEVEL_WORDS.get)
            min_words = right.number_input("Minimum words per passage", min_value=1, max_value=50, step=1,
                                           value=MIN_WORDS, key="th_min_words",
                                           help="Shorter passages are left out of the clustering.")
    if ctx.user.can_run_analyses() and st.button(
            "Discover themes" if result is None else "Run theme discovery again", key="th_run",
            type="primary" if result is None else "secondary"):
        bar = st.progress(0.0, text="Discovering themes: starting…")

        def step(done: int, total: int, message: str) -> None:  # a first run spends a minute on one step
            bar.progress(min(done / total, 1.0) if total else 0.0, text=f"Discovering themes: {message}…")

        try:
            result = ctx.project.discover_themes(level=level, min_words=int(min_words), progress=step)
        except QualkitError as error:
            st.error(error.render("app"))
        else:
            st.success("Themes discovered and saved.")
        finally:
            bar.empty()
    if result is None:
        st.info("Theme discovery has not been run yet.")
        return
    table = result.to_frame() if hasattr(result, "to_frame") else next(iter(ui.as_frames(result).values()), None)
    if table is None:
        st.write(result)
        return
    st.dataframe(table, hide_index=True, width="stretch", key="th_table")
    theme_reader(ctx, result, table)
    if "candidate" in table and ctx.user.can_edit_codebook() and hasattr(Project, "promote_theme"):
        ids = table["id"].tolist()
        theme = st.selectbox("Theme to turn into a code", ids, key="th_pick",
                             format_func=lambda i: f"{i}: {table.loc[table['id'] == i, 'label'].iloc[0]}")
        clicks.button("Promote to a code", key="th_promote", on_click=_promote, args=(theme,))


render()
