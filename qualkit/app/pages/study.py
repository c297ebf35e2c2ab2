"""Study page: open or create a project, import transcripts, edit participants' attributes and speaker aliases.

Administrators also remove, redact and withdraw here: a transcript imported by mistake, words an ethics board
asks removed, a participant who withdrew consent.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from qualkit.app import clicks, queries, resources, state, ui
from qualkit.app.importing import ImportRun
from qualkit.app.suggest import suggest_button
from qualkit.app.tuning import tuning_section
from qualkit.errors import InvalidInput, QualkitError
from qualkit.model import Participant
from qualkit.project import Project


def _open_chosen() -> None:
    """Selectbox callback: the study picked is the study opened (the dropdown and the heading never disagree)."""
    choice = st.session_state.get("study_choice")
    if choice:
        state.open_project(choice)
        state.flash(f"Opened {choice}.")


def choose_project(user) -> None:
    """Pick the study to work on (and, for administrators, create one)."""
    names = state.project_names()
    store = state.current_store()
    current = store.name if store is not None else None
    if names:
        # What the heading shows is what the dropdown shows (index=None: the value comes from session state).
        st.session_state["study_choice"] = current if current in names else None
        st.selectbox("Study", names, key="study_choice", on_change=_open_chosen, index=None,
                     placeholder="Choose a study to open")
    else:
        st.info("This database holds no study yet.")
    if user.can_import():
        with st.expander("Create a new study", expanded=not names), st.form("create_project"):
            name = st.text_input("Name", key="new_project_name")
            description = st.text_area("Description", key="new_project_description")
            codebook = st.text_input("Codebook (a shipped name such as burnout, or leave empty)",
                                     value="burnout", key="new_project_codebook")
            if st.form_submit_button("Create"):
                try:
                    if not name.strip():
                        raise InvalidInput("the study needs a name", fix="type one, e.g. Burnout pilot")
                    Project.create(resources.engine_for(state.db_url()), name.strip(),
                                   codebook=codebook.strip() or None, description=description, user=user.name)
                except (QualkitError, ImportError) as error:
                    st.error(str(error))
                else:
                    state.open_project(name.strip())
                    state.flash(f"Created {name.strip()}.")
                    st.rerun()


def overview(ctx: state.Context) -> pd.DataFrame:
    """Counts and the transcripts table."""
    sources = queries.sources(ctx.url, ctx.name, ctx.gen)
    counts = queries.status_counts(ctx.url, ctx.name, ctx.gen, ctx.user.name)
    cols = st.columns(5)
    cols[0].metric("Transcripts", len(sources))
    cols[1].metric("Segments", int(sources["segments"].sum()) if len(sources) else 0)
    cols[2].metric("Suggested", counts.get("suggested", 0))
    cols[3].metric("Accepted", counts.get("accepted", 0),
                   help="Segments coded with a code, each segment and code once however many coders applied it "
                        "(as the analyses count them)")
    cols[4].metric("Rejected", counts.get("rejected", 0),
                   help="Decisions that a code does not apply, one per person and passage: a passage two coders "
                        "rejected counts twice, and a passage can be both accepted by one person and rejected by "
                        "another. A code its own coder took back (a hand code removed, a change undone) is no "
                        "rejection and is not counted")
    codebook = queries.codebook(ctx.url, ctx.name, ctx.gen)
    st.caption(f"Codebook: {codebook.name} v{codebook.version}, {len(codebook.codable_codes)} codes"
               if codebook else "No codebook yet — add one on the Codebook page.")
    if len(sources):
        assignments = queries.assignments(ctx.url, ctx.name, ctx.gen)
        coders = assignments.groupby("source_id")["coder"].agg(", ".join) if len(assignments) else {}
        table = sources[["id", "name", "format", "segments", "imported_by", "imported_at"]].copy()
        table["assigned to"] = [coders.get(i, "") if len(assignments) else "" for i in table["id"]]
        st.dataframe(table, hide_index=True, width="stretch")
        suggest_button(ctx, key="study_suggest")
        if ctx.user.can_import():
            remove_section(ctx, sources)
            redact_section(ctx, sources)
            withdraw_section(ctx)
    return sources


def _remove(source_id: int, name: str) -> None:
    user = state.current_user()
    project = state.current_project(user) if user is not None else None
    if project is None:
        return
    state.run_action(project.remove_transcript, source_id,
                     success=f"Removed {name} (importing the file again brings it back).")
    st.session_state["study_remove_sure"] = False


def remove_section(ctx: state.Context, sources: pd.DataFrame) -> None:
    """Remove a transcript imported by mistake: chosen, confirmed, refused once anyone decided on it."""
    with st.expander("Remove a transcript imported by mistake"):
        names = dict(zip(sources["id"], sources["name"], strict=True))
        chosen = st.selectbox("Transcript", list(names), format_func=names.get, key="study_remove_source")
        st.caption("Its segments and machine suggestions go with it; a transcript anyone has decided on "
                   "(accepted, rejected or coded by hand) or written a memo on is not removed.")
        sure = st.checkbox(f"Remove {names.get(chosen, '')}", key="study_remove_sure")
        clicks.button("Remove the transcript", key="study_remove_go", on_click=_remove,
                      args=(int(chosen), names.get(chosen, "")), disabled=not sure)


def _redact(source: str, words: str, replacement: str, options: dict[str, bool], places: int) -> None:
    """Button callback: replace exactly the places the preview listed (refused if their number changed)."""
    user = state.current_user()
    project = state.current_project(user) if user is not None else None
    if project is None:
        return
    counts = state.run_action(project.redact, source, words, replacement, expected=places, **options)
    if counts is not None:
        state.flash(f"Replaced {ui.counted(counts['passages'], 'place')} in {source} with “{replacement.strip()}”; "
                    f"{ui.counted(counts['codings'], 'coding')} kept their words.")
        st.session_state["study_redact_sure"] = False
        st.session_state["study_redact_words"] = ""


def redact_section(ctx: state.Context, sources: pd.DataFrame) -> None:
    """Take words out of a coded transcript (a name an ethics board asks removed): every place listed first."""
    with st.expander("Redact words in a transcript (e.g. a name), keeping every coding"):
        names = sources["name"].tolist()
        source = st.selectbox("Transcript", names, key="study_redact_source")
        left, right = st.columns(2)
        words = left.text_input("Words to take out", key="study_redact_words", placeholder="e.g. Dr Okafor")
        replacement = right.text_input("Put in their place", value="[redacted]", key="study_redact_with")
        options = {"whole_words": not st.checkbox("Also inside longer words (Ann in Anne)", key="study_redact_part"),
                   "case_sensitive": st.checkbox("Match upper and lower case exactly", key="study_redact_case")}
        if not words.strip():
            st.caption("Every place is listed before anything changes. Codings keep covering their words; memos "
                       "are not changed.")
            return
        try:
            places = ctx.project.redaction_preview(source, words, **options)
        except QualkitError as error:
            st.warning(error.render("app"))
            return
        if places.empty:
            st.info(f"“{words.strip()}” does not occur in {source}.")
            return
        st.write(f"**{ui.counted(len(places), 'place')}** in {source}, every one listed:")
        st.dataframe(places[["where", "context"]], hide_index=True, width="stretch",
                     height=min(38 + 35 * len(places), 360))
        sure = st.checkbox(f"Replace {'them' if len(places) > 1 else 'it'} with “{replacement.strip()}”. This cannot "
                           "be undone: the words leave the study database (export the study first to keep a copy).",
                           key="study_redact_sure")
        clicks.button(f"Replace {ui.counted(len(places), 'place')}", key="study_redact_go", on_click=_redact,
                      args=(source, words, replacement, options, len(places)), disabled=not sure, type="primary")


def _withdraw(who: str, reason: str, turns: int) -> None:
    """Button callback: withdraw exactly the turns the preview listed (refused if their number changed)."""
    user = state.current_user()
    project = state.current_project(user) if user is not None else None
    if project is None:
        return
    counts = state.run_action(project.withdraw_participant, who, reason=reason, expected=turns)
    if counts is not None:
        state.flash(f"Withdrew {counts['participant']}: {ui.counted(counts['turns'], 'turn')} in "
                    f"{ui.counted(counts['transcripts'], 'transcript')} replaced by [withdrawn], "
                    f"{ui.counted(counts['codings'], 'coding')} removed, "
                    f"{ui.counted(counts['memos'], 'memo')} on them deleted.")
        st.session_state["study_withdraw_sure"] = False
        st.session_state["study_withdraw_who"] = ""
        st.session_state["study_withdraw_reason"] = ""


def withdraw_section(ctx: state.Context) -> None:
    """Take out a participant who withdrew consent: every turn of theirs listed first, then confirmed."""
    from qualkit.review.withdrawal import IRREVERSIBLE

    with st.expander("Withdraw a participant (consent withdrawn)"):
        left, right = st.columns(2)
        who = left.text_input("Participant id or speaker name", key="study_withdraw_who", placeholder="e.g. P07")
        reason = right.text_input("Reason, for the record", key="study_withdraw_reason",
                                  placeholder="e.g. consent withdrawn by email on 3 May")
        if not who.strip():
            st.caption("Every turn of theirs is listed before anything changes. Their words become [withdrawn], "
                       "their name leaves their speaker labels, the codings on their turns leave every count and "
                       "export, the memos written on their turns are deleted, their attributes are dropped.")
            return
        try:
            turns = ctx.project.withdrawal_preview(who)
        except QualkitError as error:
            st.warning(error.render("app"))
            return
        label = turns["participant"].iloc[0] if len(turns) else who.strip()
        st.write(f"**{ui.counted(len(turns), 'turn')}** of {label} in "
                 f"{ui.counted(turns['source'].nunique(), 'transcript')}, every one listed:")
        st.dataframe(turns[["source", "turn", "speaker", "codings", "memos", "text"]], hide_index=True,
                     width="stretch", height=min(38 + 35 * max(len(turns), 1), 360))
        notes = [{"source": turn.source, "turn": turn.turn, "memo": note["id"], "author": note["author"],
                  "text": note["text"], "deleted earlier": note["deleted"]}
                 for turn in turns.itertuples() for note in turn.memo_notes]
        if notes:
            st.write(f"**{ui.counted(len(notes), 'memo')}** written on their turns will be deleted with them:")
            st.dataframe(pd.DataFrame(notes), hide_index=True, width="stretch",
                         height=min(38 + 35 * len(notes), 360), key="study_withdraw_memos")
        sure = st.checkbox(f"Withdraw {label}. {IRREVERSIBLE}", key="study_withdraw_sure")
        clicks.button(f"Withdraw {label}", key="study_withdraw_go", on_click=_withdraw,
                      args=(who, reason, len(turns)), disabled=not (sure and reason.strip()), type="primary")
        if sure and not reason.strip():
            st.caption("Give the reason first: it is kept in the History.")


def parse_aliases(text: str) -> dict[str, str]:
    """``Dr Smith = Jill Smith, MD`` lines into an alias map."""
    aliases = {}
    for line in text.splitlines():
        if "=" in line:
            alias, canonical = (part.strip() for part in line.split("=", 1))
            if alias and canonical:
                aliases[alias] = canonical
    return aliases


def import_section(ctx: state.Context) -> None:
    """Upload transcripts and import them one by one with a progress bar and each file's report."""
    st.subheader("Import transcripts")
    last_import_reports()
    if not hasattr(ctx.project, "import_transcripts"):
        ui.not_available("Importing transcripts", "ingestion, issue 3")
        return
    if not ctx.user.can_import():
        st.caption("Only an administrator imports transcripts.")
        return
    # Not clear_on_submit: the browser cleared the form at the first click of a double-click, and the second
    # submitted it empty in its place, so nothing was imported. The uploaders are emptied after an import by
    # a new key instead (a file uploader's value cannot be set).
    with st.form("import"):
        from qualkit.ingest.readers import suffixes

        st.file_uploader(f"Transcripts ({' '.join(suffixes())})", accept_multiple_files=True,
                         key=uploader_key("import_files"))
        st.file_uploader("participants.csv (optional)", type=["csv", "xlsx"], key=uploader_key("import_participants"))
        st.selectbox("Segment by", ["turn", "sentence", "window"], key="import_segment_by")
        st.text_area("Speaker aliases, one per line: `Dr Smith = Jill Smith, MD`", key="import_aliases")
        with st.expander("Table columns (CSV and Excel files; empty: guessed from the headers)"):
            st.text_area("The column(s) holding the answers or the talk, one per line", key="import_text_columns")
            st.text_input("The column holding the respondent's or participant's id", key="import_id_column")
        clicks.button("Import", key="import_submit", submit=True, type="primary", on_click=_start_import,
                      args=(ctx.project,))
    _follow_import()


def _start_import(project: Any) -> None:
    """The form's callback: copy the uploads and start their import (a click while one runs starts nothing)."""
    running = st.session_state.get(IMPORTING)
    if running is not None:  # a double-click, or a click while it runs: the first import goes on
        return
    files = st.session_state.get(uploader_key("import_files")) or []
    participants = st.session_state.get(uploader_key("import_participants"))
    if not files and participants is not None:  # a participants file alone: it was ignored silently
        _import_participants_alone(project, participants)
        _empty_uploaders()
        return
    if not files:
        if time.monotonic() - st.session_state.get(FINISHED_AT, -60.0) > 5:  # not the second click of a pair
            state.flash("Choose the transcripts to import first.", "warning")
        return
    folder = Path(tempfile.mkdtemp(prefix="qualkit-import-"))  # removed by the run when it finishes
    paths = []
    for upload in files:
        path = folder / Path(upload.name).name
        path.write_bytes(upload.getvalue())
        paths.append(path)
    participants_path = None
    if participants is not None:
        participants_path = folder / Path(participants.name).name
        participants_path.write_bytes(participants.getvalue())
    aliases = parse_aliases(st.session_state.get("import_aliases") or "") or None
    segment_by = st.session_state.get("import_segment_by") or "turn"
    text_columns = st.session_state.get("import_text_columns") or ""
    id_column = st.session_state.get("import_id_column") or ""

    def options(path: Path) -> dict[str, Any]:
        return {"aliases": aliases, "segment_by": segment_by, **table_columns(path, text_columns, id_column)}

    run = ImportRun(folder=folder, paths=paths, participants=participants_path, options=options)
    st.session_state[IMPORTING] = run
    run.start(project)


def uploader_key(name: str) -> str:
    """The key of an import uploader now: a new one after each import, which empties it.

    Example:
        >>> uploader_key("import_files")  # doctest: +SKIP
        'import_files'
    """
    generation = int(st.session_state.get(UPLOADS, 0))
    return name if generation == 0 else f"{name}_{generation}"


def _empty_uploaders() -> None:
    st.session_state[UPLOADS] = int(st.session_state.get(UPLOADS, 0)) + 1


def _follow_import() -> None:
    """Show the running import's progress until it finishes, then its messages (in every run of the page)."""
    run = st.session_state.get(IMPORTING)
    if run is None:
        return
    progress = st.progress(0.0, text=run.progress_text())
    while not run.finished.wait(0.25):
        progress.progress(run.done / max(len(run.paths), 1), text=run.progress_text())
    st.session_state.pop(IMPORTING, None)
    st.session_state[FINISHED_AT] = time.monotonic()
    _empty_uploaders()
    for error in run.errors:
        state.flash(f"Not imported: {error}", "error")
    st.session_state[REPORTS] = run.reports
    state.flash(*run.summary())
    st.rerun()  # the counts, the transcripts table and the participants show the new files at once


def table_columns(path: Path, text_columns: str, id_column: str) -> dict[str, Any]:
    """The ``columns=`` option for a CSV or Excel upload from the form's column fields (nothing when both are empty).

    A survey whose columns were guessed wrong could be put right only from Python or the command line.

    Example:
        >>> table_columns(Path("s.csv"), "What helps?\\nWhat hurts?", " Resp # ")
        {'columns': {'text': ['What helps?', 'What hurts?'], 'id': 'Resp #'}}
        >>> table_columns(Path("fg1.txt"), "What helps?", "")
        {}
    """
    from qualkit.ingest.readers import READERS, detect_format

    if "columns" not in READERS[detect_format(path)].options:  # a transcript's talk has no columns
        return {}
    columns: dict[str, Any] = {}
    if texts := [line.strip() for line in text_columns.splitlines() if line.strip()]:
        columns["text"] = texts
    if id_column.strip():
        columns["id"] = id_column.strip()
    return {"columns": columns} if columns else {}


def _import_participants_alone(project: Any, upload: Any) -> None:
    """Save an uploaded participants file with no transcripts, saying how many segments it linked."""
    with tempfile.TemporaryDirectory(prefix="qualkit-import-") as tmp:
        path = Path(tmp) / Path(upload.name).name
        path.write_bytes(upload.getvalue())
        try:
            linked = project.add_participants(path)
        except QualkitError as error:
            state.flash(f"Not imported: {state.without_folder(str(error), Path(tmp))}", "error")
        else:
            state.flash(f"Saved the participants of {upload.name}; {linked} segments are now linked to a participant."
                        + ("" if linked else " None of its ids or names matches a speaker of the study's "
                           "transcripts: check them, or give speakers as aliases."),
                        "success" if linked else "warning")


def last_import_reports() -> None:
    """What was understood of each file of the last import (shown once, after the page reloaded)."""
    for summary in st.session_state.pop(REPORTS, []):
        st.code(summary, language=None)


REPORTS = "study_import_reports"
IMPORTING = "study_import_run"  # the ImportRun under way (its thread outlives a rerun)
FINISHED_AT = "study_import_finished_at"  # when the last import finished (time.monotonic)
UPLOADS = "study_import_uploads"  # how many times the import uploaders were emptied
EDITOR = "participants_editor"
LOADED = "participants_loaded"  # the table (and row versions) as they were when the editing began


def _blank(value) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # a list or another non-scalar is a value
        return False


FILL_IN = ("role", "group")  # always offered, so new speakers' rows can be filled in


def _people_table(frame: pd.DataFrame) -> pd.DataFrame:
    table = frame.drop(columns=["version"], errors="ignore").copy()
    if "aliases" in table:
        table["aliases"] = [", ".join(a) if isinstance(a, list) else (a or "") for a in table["aliases"]]
    if table.empty:
        table = pd.DataFrame({"participant": pd.Series(dtype=str), "pseudonym": pd.Series(dtype=str),
                              "aliases": pd.Series(dtype=str)})
    for column in FILL_IN:
        if column not in table:
            table[column] = pd.Series([None] * len(table), index=table.index, dtype="string")
    return table.reset_index(drop=True)


def edited_table(base: pd.DataFrame, delta: dict) -> pd.DataFrame:
    """The editor's table: ``base`` with the data editor's edited, added and deleted rows applied."""
    table = base.copy()
    for index, changes in (delta.get("edited_rows") or {}).items():
        for column, value in changes.items():
            if column not in table:
                table[column] = None
            table.at[int(index), column] = value
    table = table.drop(index=[int(i) for i in delta.get("deleted_rows") or [] if int(i) in table.index])
    added = [row for row in delta.get("added_rows") or [] if any(not _blank(v) for v in row.values())]
    return pd.concat([table, pd.DataFrame(added)], ignore_index=True) if added else table


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Missing cells as None (pandas' NA cannot be compared or stored as an attribute)."""
    frame = frame.astype(object)
    return frame.where(frame.notna(), None)


def _save_participants() -> None:
    """Button callback: save the changed and added rows, checked against the versions the editing began from."""
    user, store = state.current_user(), state.current_store()
    loaded = st.session_state.get(LOADED)
    if user is None or store is None or loaded is None:
        return
    base, versions = loaded["table"], loaded["versions"]
    edited = _plain(edited_table(base, st.session_state.get(EDITOR) or {}))
    base = _plain(base)
    before = {str(r["participant"]): r for r in base.to_dict("records")}
    people, expected = [], {}
    for record in edited.to_dict("records"):
        label = str(record.pop("participant", "") or "").strip()
        if not label:
            continue
        old = before.get(label)
        if old is not None and all((_blank(record.get(k)) and _blank(v)) or record.get(k) == v
                                   for k, v in old.items() if k != "participant"):
            continue  # unchanged: not sent, so someone else's change to it is no conflict
        pseudonym = record.pop("pseudonym", None)
        pseudonym = None if _blank(pseudonym) else str(pseudonym)
        aliases = [a.strip() for a in str(record.pop("aliases", "") or "").split(",") if a.strip()]
        attributes = {k: v for k, v in record.items() if not _blank(v)}
        people.append(Participant(label, pseudonym=pseudonym, aliases=aliases, attributes=attributes))
        expected[label] = versions.get(label)
    removed = sorted(set(before) - {str(r.get("participant") or "").strip() for r in edited.to_dict("records")})
    st.session_state.pop(EDITOR, None)
    st.session_state.pop(LOADED, None)
    if removed:
        state.flash(f"Participants are not removed here ({', '.join(removed)} stay); remove them from "
                    "participants.csv and import it again.", "info")
    if not people:
        state.flash("Nothing changed in the participants.", "info")
        return
    linked = state.run_action(store.upsert_participants, people, user=user.name, expected_versions=expected)
    if linked is not None:
        state.flash(f"Saved {len(people)} participants; {linked} more segments linked to a participant.")


def participants_section(ctx: state.Context) -> None:
    """Participants' attributes and speaker aliases, edited in a table and saved (logged) in one transaction.

    Only changed rows are saved, each checked against the version it had when the editing began: if
    someone else saved that participant meanwhile, nothing is saved and the message shows their values.
    """
    st.subheader("Participants and speaker aliases")
    frame = queries.participants(ctx.url, ctx.name, ctx.gen)
    editable = ctx.user.can_import()
    table = _people_table(frame)
    if not editable:
        st.dataframe(table, hide_index=True, width="stretch")
        return
    st.caption("Aliases: other labels the same person has in transcripts, separated by commas "
               "(e.g. `Dr Smith, Jill`). Add a column for a new attribute by adding it to participants.csv.")
    delta = st.session_state.get(EDITOR) or {}
    editing = any(delta.get(k) for k in ("edited_rows", "added_rows", "deleted_rows"))
    if not editing or LOADED not in st.session_state:
        versions = dict(zip(frame["participant"], frame["version"], strict=True)) if len(frame) else {}
        st.session_state[LOADED] = {"table": table, "versions": {str(k): int(v) for k, v in versions.items()}}
    st.data_editor(st.session_state[LOADED]["table"], num_rows="dynamic", hide_index=True, key=EDITOR,
                   width="stretch")
    clicks.button("Save participants", key="participants_save", on_click=_save_participants)


def render() -> None:
    """The Study page."""
    ctx = state.page_context("Study", needs_project=False)
    user = state.current_user()
    choose_project(user)
    if ctx is None:
        return
    st.divider()
    st.header(ctx.name)
    overview(ctx)
    import_section(ctx)
    participants_section(ctx)
    tuning_section(ctx)


render()
