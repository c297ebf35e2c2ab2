"""Codebook page: browse codes with counts and examples; edit, add, merge, split (each a new version); import/export."""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from qualkit.app import clicks, queries, state, ui
from qualkit.codebook import undefined_codes
from qualkit.errors import QualkitError
from qualkit.model import Code
from qualkit.review import codebook_edits


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _items(text: str) -> list[str]:
    return [item.strip() for item in (text or "").replace("\n", ",").split(",") if item.strip()]


def code_table(ctx: state.Context, codebook) -> pd.DataFrame:
    """Codes with their parent, the segments coded with each (as the analyses count them), and how many
    suggestions wait and how many were rejected."""
    counts = queries.code_counts(ctx.url, ctx.name, ctx.gen, ctx.user.name).set_index("code_id")
    rows = []
    for code in codebook.codes:
        row = counts.loc[code.id] if code.id in counts.index else None
        rows.append({"id": code.id, "name": code.name, "parent": code.parent or "", "codable": code.codable,
                     "coded segments": int(row["accepted"]) if row is not None else 0,
                     "suggested": int(row["suggested"]) if row is not None else 0,
                     "rejected": int(row["rejected"]) if row is not None else 0})
    return pd.DataFrame(rows)


FIELDS = ("name", "parent", "definition", "inclusion", "exclusion", "examples", "near_misses", "cues", "color",
          "codable")


def _save_code(code: Code, version: int, tag: str, default_color: str) -> None:
    """Form callback: save the edited fields of ``code`` as a new version, checked against ``version``.

    A callback runs even when the form is gone from the new run (someone saved another version
    meanwhile, so the form's key changed): the edit then fails with a conflict message, never silently.
    """
    user, store = state.current_user(), state.current_store()
    if user is None or store is None:
        return
    value = {f: st.session_state.get(f"cb_{f}_{tag}") for f in (*FIELDS, "note")}
    changes = {"name": (value["name"] or "").strip(), "parent": value["parent"] or None,
               "definition": value["definition"] or "", "inclusion": value["inclusion"] or "",
               "exclusion": value["exclusion"] or "", "examples": _lines(value["examples"]),
               "near_misses": _lines(value["near_misses"]), "cues": _items(value["cues"]),
               "color": value["color"], "codable": bool(value["codable"])}
    if code.color is None and changes["color"] == default_color:
        changes.pop("color")  # the palette's colour shown as a default, not a choice
    changed = {k: v for k, v in changes.items() if v != getattr(code, k)}
    if not changed:
        state.flash(f"Nothing changed in {code.id}.", "info")
        return
    saved = state.run_action(codebook_edits.update_code, store, code.id, actor=user, note=value["note"] or "",
                             expected_version=version, **changed)
    if saved is not None:
        state.flash(f"Saved {code.id}: codebook version {saved}.")


def edit_form(ctx: state.Context, codebook, code: Code) -> None:
    """Edit one code's fields; saving makes a new codebook version.

    Every widget is keyed by the code and the codebook version, so choosing another code (or a
    version saved by someone else) shows that code's current values, never the previous one's.
    """
    tag = f"{code.id}_v{codebook.version}"
    default_color = ui.code_colors(codebook).get(code.id, "#dddddd")
    with st.form(f"edit_{tag}"):
        st.text_input("Name", code.name, key=f"cb_name_{tag}")
        parents = ["", *[c.id for c in codebook.codes if c.id != code.id]]
        st.selectbox("Parent", parents, index=parents.index(code.parent or ""), key=f"cb_parent_{tag}")
        st.text_area("Definition", code.definition, key=f"cb_definition_{tag}")
        st.text_area("Include when", code.inclusion, key=f"cb_inclusion_{tag}")
        st.text_area("Exclude when", code.exclusion, key=f"cb_exclusion_{tag}")
        st.text_area("Examples (one per line)", "\n".join(code.examples), key=f"cb_examples_{tag}")
        st.text_area("Near misses (one per line)", "\n".join(code.near_misses), key=f"cb_near_misses_{tag}")
        st.text_input("Cue words (comma separated)", ", ".join(code.cues), key=f"cb_cues_{tag}")
        st.color_picker("Colour", code.color or default_color, key=f"cb_color_{tag}")
        st.checkbox("Codable (a category only groups codes when unticked)", code.codable, key=f"cb_codable_{tag}")
        st.text_input("Why (kept in the history)", key=f"cb_note_{tag}")
        clicks.button("Save as a new version", key=f"cb_save_{tag}", type="primary", on_click=_save_code,
                      args=(code, codebook.version, tag, default_color), submit=True)


def _undo_merge() -> None:
    user, store = state.current_user(), state.current_store()
    if user is None or store is None:
        return
    result = state.run_action(codebook_edits.undo_merge, store, actor=user)
    if result is not None:
        state.flash(f"Merge undone: codebook version {result[0]}, {result[1]} codings back on their own codes.")


def structure_tabs(ctx: state.Context, codebook) -> None:
    """Add, merge and split codes; undo the merge that made the current version."""
    ids = codebook.ids
    merged = codebook_edits.last_merge(ctx.store) if ctx.user.can_edit_codebook() else None
    if merged is not None:
        clicks.button(f"Undo the merge of {', '.join(merged['merged'])} into {merged['into']} "
                      f"({merged['count']} codings move back)", key="cb_unmerge", on_click=_undo_merge,
                      icon=":material/undo:")
    add, merge, split = st.tabs(["Add a code", "Merge codes", "Split a code"])
    with add, st.form("cb_add"):
        # Ids with spaces work everywhere (CSV and REFI-QDA imports make them from code names; exports and
        # `qualkit review code` take them), so the form no longer asks for "no spaces" the imports never asked.
        new_id = st.text_input("Id (e.g. sleep_deprivation or Sleep deprivation)", key="cb_add_id",
                               help="How exports (CSV, Excel, REFI-QDA) and the command line name the code. "
                                    "Spaces are allowed; on the command line, quote such an id: "
                                    "qualkit review code group1.txt 3 \"Sleep deprivation\".")
        new_name = st.text_input("Name", key="cb_add_name")
        parent = st.selectbox("Parent", ["", *ids], key="cb_add_parent")
        definition = st.text_area("Definition", key="cb_add_definition")
        if st.form_submit_button("Add code"):
            code = Code(new_id.strip(), new_name.strip() or new_id.strip(), parent=parent or None,
                        definition=definition)
            version = state.run_action(codebook_edits.add_codebook_code, ctx.store, code, actor=ctx.user)
            if version is not None:
                state.flash(f"Added {code.id}: codebook version {version}.")
            st.rerun()
    with merge, st.form("cb_merge"):
        def label(code_id: str) -> str:  # names as everywhere else (the pickers listed bare ids)
            return ui.code_label(codebook, code_id)

        sources = st.multiselect("Merge these codes…", ids, key="cb_merge_from", format_func=label)
        into = st.selectbox("…into", ids, key="cb_merge_into", format_func=label)
        note = st.text_input("Why", key="cb_merge_note")
        if st.form_submit_button("Merge"):
            result = state.run_action(codebook_edits.merge_codes, ctx.store, sources, into, actor=ctx.user, note=note,
                                      expected_version=codebook.version)
            if result is not None:
                state.flash(f"Merged into {into}: codebook version {result[0]}, {result[1]} codings moved.")
            st.rerun()
    with split, st.form("cb_split"):
        code_id = st.selectbox("Split this code", ids, key="cb_split_code")
        parts = st.text_area("into new codes, one per line: `id = Name`", key="cb_split_parts")
        if st.form_submit_button("Split"):
            pairs = [(p.split("=", 1)[0], p.split("=", 1)[1] if "=" in p else p) for p in _lines(parts)]
            version = state.run_action(codebook_edits.split_code, ctx.store, code_id, pairs, actor=ctx.user)
            if version is not None:
                state.flash(f"Split {code_id}: codebook version {version}.")
            st.rerun()


def import_export(ctx: state.Context, codebook) -> None:
    """Download the codebook in any format; upload one as a new version."""
    try:
        from qualkit.codebook import FORMATS, save_codebook, suffixes
    except ImportError:
        ui.not_available("Codebook import and export", "codebook I/O, issue 4")
        return
    suffix_of = {fmt.label: fmt.suffixes[0] for fmt in FORMATS}
    left, right = st.columns(2)
    with left:
        fmt = st.selectbox("Export as", list(suffix_of), key="cb_export_format")
        if codebook is not None:
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / f"{codebook.name}{suffix_of[fmt]}"
                try:
                    save_codebook(codebook, path)
                    data = path.read_bytes()
                except QualkitError as error:
                    st.error(str(error))
                    data = None
            if data is not None:
                st.download_button(f"Download {path.name}", data, file_name=path.name, key="cb_download")
    with right:
        if not ctx.user.can_edit_codebook():
            return
        upload = st.file_uploader(f"Import a codebook ({' '.join(f.suffixes[0] for f in FORMATS)}) as a new version",
                                  type=[suffix.lstrip(".") for suffix in suffixes()], key="cb_upload")
        if upload is not None:
            st.text_input("Its name, if it is a codebook of its own", key="cb_import_name",
                          placeholder=f"{Path(upload.name).stem} (the file's name)",
                          help="Used when the file is not the next version of the study's codebook; the report's "
                               "methods name it (a stranger's was called “codebook”, after codebook.csv).")
            st.checkbox("Allow the new version to drop codes that are already in use", key="cb_leave_out",
                        help="A code the new version leaves out keeps its codings on record, but they leave every "
                             "analysis. Without this, a file that drops a code in use is refused and nothing changes.")
            clicks.button("Import as the next version", key="cb_import", on_click=_import_codebook,
                          args=(ctx, codebook))


def _import_codebook(ctx: state.Context, codebook: Any) -> None:
    """The import button's callback: save the uploaded codebook as the next version (or a codebook of its own).

    It runs before the page draws, so a second click cannot cut it short: a double-click imported nothing and
    said nothing, since the second run, where the button no longer read as pressed, stopped the first.
    """
    from qualkit.codebook import load_codebook

    upload, leave_out = st.session_state.get("cb_upload"), bool(st.session_state.get("cb_leave_out"))
    if upload is None:
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / Path(upload.name).name
        path.write_bytes(upload.getvalue())
        try:
            with warnings.catch_warnings(record=True) as heard:  # e.g. columns it does not read
                warnings.simplefilter("always")
                loaded = load_codebook(path)
        except QualkitError as error:  # every problem the check found, not the first alone
            for problem in getattr(error, "problems", [error]):
                state.flash(state.without_folder(str(problem), Path(tmp)), "error")
            return
    own_name = loaded.name = str(st.session_state.get("cb_import_name") or "").strip() or loaded.name
    if codebook_edits.is_next_version(codebook, loaded):
        loaded.name = codebook.name  # an edited copy of this codebook: its next version
    try:
        version = codebook_edits.save_codebook_version(ctx.store, loaded, actor=ctx.user,
                                                       note=f"imported {upload.name}", leave_out_coded=leave_out)
    except QualkitError as error:
        state.flash(f"{upload.name}: {error.render('app')}", "error")
        return
    if codebook is not None and loaded.name != codebook.name:  # the methods section names it
        state.flash(f"Imported {upload.name} as codebook “{own_name}”, version {version}: it keeps fewer "
                    f"than half of “{codebook.name}”'s codes, so it is a codebook of its own, not "
                    f"“{codebook.name}”'s next version.")
    else:
        state.flash(f"Imported {upload.name}: codebook “{loaded.name}”, version {version}.")
    for warning in heard:
        state.flash(str(warning.message), "warning")


def render() -> None:
    """The Codebook page."""
    ctx = state.page_context("Codebook")
    codebook = queries.codebook(ctx.url, ctx.name, ctx.gen)
    if codebook is None:
        st.info("This study has no codebook yet.")
        if ctx.user.can_edit_codebook() and st.button("Use the shipped burnout codebook", key="cb_shipped"):
            state.run_action(ctx.project.set_codebook, "burnout", note="shipped codebook",
                             success="Codebook added.")
            st.rerun()
        import_export(ctx, None)
        return
    st.caption(f"{codebook.name}, version {codebook.version} · {len(codebook.codable_codes)} codable codes"
               + ("" if ctx.user.can_edit_codebook() else " · read-only for you"))
    from qualkit.coding.rules import broad_cues

    broad = broad_cues(codebook)
    if broad:
        st.warning("Cues that match very common words, so the auto-coder suggests their codes almost everywhere:\n\n"
                   + "\n".join(f"- {w}" for w in broad), icon=":material/warning:")
    undefined = undefined_codes(codebook)
    if undefined:
        st.warning("\n".join(f"- {w}" for w in undefined), icon=":material/warning:")
    table = code_table(ctx, codebook)
    st.dataframe(table, hide_index=True, width="stretch")
    code_id = st.selectbox("Code", codebook.ids, key="cb_code", format_func=lambda c: ui.code_label(codebook, c))
    code = codebook[code_id]
    details, examples = st.columns(2)
    with details:
        st.markdown(ui.chip_html(code.name, ui.code_colors(codebook)[code.id]), unsafe_allow_html=True)
        for label, value in (("Definition", code.definition), ("Include when", code.inclusion),
                             ("Exclude when", code.exclusion)):
            if value:
                st.markdown(f"**{label}.** {value}")
        if code.cues:
            st.caption("Cues: " + ", ".join(code.cues))
    with examples:
        st.markdown("**Examples in the codebook**")
        for example in code.examples:
            st.caption(f"“{example}”")
        if not code.examples:
            st.caption("None." + (" Add examples under “Edit” below: the coder learns from them."
                                  if ctx.user.can_edit_codebook() else ""))
        st.markdown("**Coded in this study**")
        quotes = queries.code_examples(ctx.url, ctx.name, ctx.gen, code.id, ctx.user.name)
        for quote in quotes:
            st.caption(f"“{ui.short(quote, 200)}”")
        if not quotes:
            st.caption("None yet.")
    if ctx.user.can_edit_codebook():
        with st.expander(f"Edit {code.id}"):
            edit_form(ctx, codebook, code)
        structure_tabs(ctx, codebook)
    st.subheader("Import and export")
    import_export(ctx, codebook)
    st.subheader("History")
    st.dataframe(queries.codebook_versions(ctx.url, ctx.name, ctx.gen), hide_index=True, width="stretch")


render()
