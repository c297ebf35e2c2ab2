"""Export page: download the codings (always), and the analysis area's exports and reports as they land."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import streamlit as st

from qualkit.app import queries, state, ui
from qualkit.errors import QualkitError
from qualkit.export.format import file_stem
from qualkit.export.registry import EXPORTS
from qualkit.export.tables import tidy_codings, write_csv
from qualkit.project import Project
from qualkit.review import visibility

FORMATS = {entry.label: entry for entry in EXPORTS}  # every registered export, offered by its label
EVERYONE = "(everyone)"


def render() -> None:
    """The Export page.

    A prepared file is offered only for the choice it was made for (format or statuses, project state);
    preparing a new one first removes the previous download, so a stale file is never offered while (or
    after) a new export runs, nor after one failed.
    """
    ctx = state.page_context("Export")
    st.subheader("Codings as CSV")
    statuses = st.multiselect("Status", ["accepted", "suggested", "rejected", "removed"], default=["accepted"],
                              key="ex_status", help="removed: taken back by its own coder, a hand code removed or a change undone "
                              "(not a rejection)")
    view = queries.team_view(ctx.url, ctx.name, ctx.gen)
    csv_key = (ctx.name, ctx.user.name, tuple(statuses))
    if st.button("Prepare the CSV", key="ex_csv"):
        st.session_state.pop("ex_csv_data", None)
        everything = ("accepted", "suggested", "rejected", "removed")
        frame = visibility.visible_codings(tidy_codings(ctx.store, statuses=tuple(statuses) or everything),
                                           ctx.user.name, view)  # with the coded words and the speakers' attributes
        st.session_state["ex_csv_data"] = write_csv(frame.reset_index(drop=True))
        st.session_state["ex_csv_for"] = csv_key
    if st.session_state.get("ex_csv_data") and st.session_state.get("ex_csv_for") == csv_key:
        st.download_button("Download codings.csv", st.session_state["ex_csv_data"], file_name="codings.csv",
                           mime="text/csv", key="ex_csv_download")
    if not visibility.sees_everything(ctx.user.name, view):
        st.caption("While you code a transcript blind, this CSV leaves out the other coder's decisions on it.")
    st.subheader("Project exports and reports")
    if not visibility.sees_everything(ctx.user.name, view):
        st.info("Project exports and reports hold every coder's decisions, so they open once the blind "
                "double-coding you take part in is finished (every coder marked it done).",
                icon=":material/visibility_off:")
        return
    if not hasattr(Project, "export"):
        ui.not_available("Excel, REFI-QDA and report exports", "export, issue 7")
        return
    label = st.selectbox("Format", list(FORMATS), key="ex_format")
    options: dict[str, str | None] = {}
    if "by" in FORMATS[label].options:  # tables and reports: the prevalence table was always by role
        groups = queries.group_attributes(ctx.url, ctx.name, ctx.gen)
        by = st.selectbox("Prevalence by", [*groups, EVERYONE], key="ex_by",
                          index=groups.index("role") if "role" in groups else len(groups),
                          help="The participant attribute the prevalence table compares. Groups smaller than the "
                               "study's minimum cell size are merged or left out, as on the Analysis page.")
        options["by"] = None if by == EVERYONE else by
    file_key = (ctx.name, ctx.user.name, label, options.get("by"))
    run = st.button("Prepare the export", key="ex_run", type="primary")
    # The download sits in this slot: emptied before a new export starts, so the previous file is never
    # on screen (not even greyed out) while the new one is being made.
    slot = st.empty()
    if run:
        st.session_state.pop("ex_file", None)
        st.session_state.pop("ex_file_for", None)
        entry = FORMATS[label]
        with tempfile.TemporaryDirectory() as tmp, st.spinner("Exporting…"):
            stem = file_stem(ctx.name)  # was "Burnout__pharmacists___porters_2026"
            path = Path(tmp) / entry.file_name(stem)
            try:
                written = Path(ctx.project.export(path, format=entry.name, **options) or path)
            except QualkitError as error:
                st.error(str(error))
            else:
                if written.is_dir():
                    archive = shutil.make_archive(str(Path(tmp) / stem), "zip", written)
                    written = Path(archive)
                contents = entry.contents(ctx.project.store) if entry.contents else ""
                st.session_state["ex_file"] = (written.name, written.read_bytes(), contents)
                st.session_state["ex_file_for"] = file_key
    if st.session_state.get("ex_file") and st.session_state.get("ex_file_for") == file_key:
        name, data, contents = st.session_state["ex_file"]
        with slot.container():
            st.download_button(f"Download {name}", data, file_name=name, key="ex_download")
            if contents:
                st.caption(f"The file {contents}.")


render()
