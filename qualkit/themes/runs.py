"""Theme runs of a project: discover and save, load, list, edit (row-version checked) and promote to a code.

A :class:`~qualkit.themes.result.ThemeResult` is stored as one run by :mod:`qualkit.store.theme_runs`
(settings and library versions as JSON, the themes and document metadata as JSON, arrays as ``.npz``
bytes, never a pickle). Edits update the run only if nobody changed it since it was read
(``version``), like codings do, and every write appends an event with the user and the old and new values.

Example:
    >>> from qualkit.store.repository import Store
    >>> list_runs(Store.create("sqlite://")).empty
    True
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from qualkit.embeddings import Embedder
from qualkit.errors import ConflictError, InvalidInput, StoreError
from qualkit.model import Code, Codebook, Coding
from qualkit.progress import Progress, reporter
from qualkit.store import theme_runs
from qualkit.store.repository import Store
from qualkit.themes.describe import slug
from qualkit.themes.result import ThemeResult
from qualkit.themes.result import jsonable as _json

CODER = "themes"


def discover_and_save(
    store: Store,
    *,
    codebook: Codebook | bool | None = True,
    name: str = "",
    embedder: Embedder | None = None,
    user: str | None = None,
    progress: bool | Progress | None = False,
    **options: Any,
) -> ThemeResult:
    """Discover themes in a project's segments and save the run (what ``project.discover_themes`` does).

    ``codebook=True`` means the project's active codebook when it has one. Without an ``embedder`` the
    one resolver chooses the tier for the corpus size; vectors are cached in the project store.
    ``progress`` (a bar, nothing, or a ``(done, total, message)`` callback) names each step, saving included.

    Example:
        >>> discover_and_save  # doctest: +ELLIPSIS
        <function discover_and_save at ...>
    """
    if codebook is True:
        codebook = store.codebook() if store.settings.get("codebook") else None
    elif codebook is False:
        codebook = None
    report, close = reporter(progress, "theme discovery")
    try:
        report(0, 0, "loading the clustering tools")  # BERTopic, UMAP and numba: seconds on a busy machine
        from qualkit.themes.discover import STEPS, discover_themes

        def step(done: int, total: int, message: str) -> None:  # saving is one more step, and the last
            if done < total:
                report(done, total + 1, message)

        result = discover_themes(store.segments_df(), codebook, embedder=embedder, cache_store=store, progress=step,
                                 **options)
        report(STEPS, STEPS + 1, f"saving {len(result.active)} themes")
        save_run(store, result, user=user, name=name)
        report(STEPS + 1, STEPS + 1, f"saved as run {result.run_id}")
        return result
    finally:
        close()


def save_run(store: Store, result: ThemeResult, *, user: str | None = None, name: str = "") -> int:
    """Store a theme result as a new run; writes ``run_id`` and ``version`` back to the result.

    Example:
        >>> save_run  # doctest: +ELLIPSIS
        <function save_run at ...>
    """
    payload, arrays = result.to_storage()
    run_id = theme_runs.insert_run(store, name=name, settings=_json(result.settings), versions=dict(result.versions),
                                   payload=_json(payload), arrays=arrays, user=user)
    result.run_id, result.version = run_id, 1
    return run_id


def load_run(store: Store, run_id: int | None = None) -> ThemeResult:
    """Load a saved run (the latest when ``run_id`` is None) without refitting anything.

    Example:
        >>> load_run(Store.create("sqlite://"))  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        qualkit.errors.StoreError: project 'default' has no theme runs yet
    """
    run = theme_runs.run_record(store, run_id)
    return ThemeResult.from_storage(run["payload"], run["arrays"], settings=run["settings"], versions=run["versions"],
                                    run_id=run["id"], version=run["version"])


def list_runs(store: Store) -> pd.DataFrame:
    """Every saved run: id, name, who made it and when, version, and its summary counts.

    Example:
        >>> list(list_runs(Store.create("sqlite://")).columns)[:3]
        ['id', 'name', 'created_by']
    """
    return theme_runs.runs_df(store)


def update_run(
    store: Store, result: ThemeResult, *, user: str | None, action: str, expected_version: int | None = None
) -> ThemeResult:
    """Write an edited result over its run if the row is still at ``expected_version`` (default: the
    version the result was loaded at); otherwise log the conflict and raise :class:`ConflictError`.

    Example:
        >>> update_run  # doctest: +ELLIPSIS
        <function update_run at ...>
    """
    if result.run_id is None:
        raise StoreError("this theme result was never saved", fix="discover themes again (the new run is saved)")
    version = expected_version if expected_version is not None else result.version
    with store.transaction() as session:
        if _write_run(store, session, result, user=user, action=action, version=version):
            return result
    raise _run_conflict(store, result, user=user, action=action, version=version)


def _last_edit(result: ThemeResult, action: str) -> dict[str, Any]:
    """The edit a change of the run records: the result's newest edit, or just the action."""
    return result.edits[-1] if result.edits else {"action": action}


def _write_run(store: Store, session: Any, result: ThemeResult, *, user: str | None, action: str,
               version: int) -> bool:
    """Overwrite the run inside the caller's transaction if it is still at ``version``; False if not."""
    payload, arrays = result.to_storage()
    if not theme_runs.write_run_in(store, session, result.run_id, payload=_json(payload), arrays=arrays,
                                   version=version, user=user, action=action, edit=_last_edit(result, action)):
        return False
    result.version = version + 1
    return True


def _run_conflict(store: Store, result: ThemeResult, *, user: str | None, action: str,
                  version: int) -> ConflictError:
    """Log a refused change of a run (in its own transaction) and return the error to raise."""
    return theme_runs.run_conflict(store, result.run_id, user=user, action=action, version=version,
                                   edit=_last_edit(result, action))


class _RunChanged(Exception):
    """Raised inside a transaction to roll it back when the theme run moved on meanwhile."""


def edit_run(
    store: Store,
    action: str,
    *,
    user: str | None,
    run_id: int | None = None,
    expected_version: int | None = None,
    **arguments: Any,
) -> ThemeResult:
    """Load a run, apply ``merge``/``split``/``rename``/``discard`` with ``arguments``, and save it.

    Example:
        >>> edit_run(Store.create("sqlite://"), "explode", user="ana")  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        qualkit.errors.InvalidInput: unknown theme edit 'explode'
    """
    from qualkit.themes import edit

    operations = {"merge": edit.merge, "split": edit.split, "rename": edit.rename, "discard": edit.discard}
    if action not in operations:
        raise InvalidInput(f"unknown theme edit {action!r}", fix=f"use one of {sorted(operations)}")
    result = load_run(store, run_id)
    if expected_version is not None and expected_version != result.version:
        result.version = expected_version
    edited = operations[action](result, **arguments)
    return update_run(store, edited, user=user, action=action)


def _segment_ids(store: Store, docs: pd.DataFrame) -> list[int]:
    """The stored segment containing each document (its own id when known, else found by offsets)."""
    known = docs["segment_id"] if "segment_id" in docs.columns else pd.Series([None] * len(docs), index=docs.index)
    out: list[int | None] = [None if pd.isna(v) else int(v) for v in known]
    if any(v is None for v in out):
        stored = store.segments_df(attributes=False)[["id", "source", "start", "end"]]
        spans: dict[str, list[tuple[int, int, int]]] = {}
        for r in stored.itertuples(index=False):
            spans.setdefault(r.source, []).append((int(r.start), int(r.end), int(r.id)))
        for k, (doc, current) in enumerate(zip(docs.itertuples(index=False), out, strict=True)):
            if current is None:
                containing = [(end - start, sid) for start, end, sid in spans.get(doc.source, [])
                              if start <= doc.start and doc.end <= end]
                out[k] = min(containing)[1] if containing else None
    missing = sum(v is None for v in out)
    if missing:
        raise StoreError(f"{missing} theme documents lie in no stored segment of project {store.name!r}",
                         fix="discover themes again on this project")
    return [int(v) for v in out]


def promote_theme(
    store: Store,
    theme_id: int,
    *,
    user: str | None,
    run_id: int | None = None,
    code_id: str | None = None,
    name: str | None = None,
    parent: str | None = None,
) -> Code:
    """Make a theme a code: add it to the codebook (a new version) unless ``code_id`` already exists, store
    the theme's documents as suggested codings (``origin="topic"``, ``coder="themes"``, span = the
    sentence inside its stored turn), and mark the theme as promoted in its run.

    Without ``code_id`` the new code's id is made from ``name`` when given, else the candidate's id (made
    unique against the current codebook).
    Suggesting a theme into an existing code happens only when that ``code_id`` is given. A theme is
    promoted once: a second promotion is refused, naming the code it became.

    Example:
        >>> promote_theme  # doctest: +ELLIPSIS
        <function promote_theme at ...>
    """
    result = load_run(store, run_id)
    theme = result.theme(theme_id)
    if theme.status == "discarded":
        raise InvalidInput(f"theme {theme_id} was discarded", fix="promote an active theme")
    if theme.promoted_to:
        raise InvalidInput(f"theme {theme.id} of theme run {result.run_id} was already promoted to code "
                           f"{theme.promoted_to!r}; promoting it again would duplicate the code and its codings",
                           fix=f"review the suggested codings of {theme.promoted_to!r} in the queue instead")
    codebook = store.codebook()
    draft = theme.candidate or {}
    if code_id is None:
        # The draft id was unique when the run was described; the codebook may have grown since (codes
        # promoted from this or another run), and a draft must never land on an existing code.
        # A name given makes the id too: "Depersonalisation" kept the draft id joke_moral_injury, which the
        # researcher then had to type in every command and read in every export.
        code_id = slug([name] if name and name.strip() else [draft["id"]] if draft.get("id")
                       else (theme.words or [f"theme {theme.id}"]), taken={c.id.casefold() for c in codebook.codes})
    docs = result.theme_documents(theme.id)
    segment_ids = _segment_ids(store, docs)  # validate before writing anything
    extended = None
    if code_id in codebook:
        code = codebook[code_id]
    else:
        if parent is not None and parent not in codebook:
            raise InvalidInput(f"parent {parent!r} is not in codebook {codebook.name!r}",
                               fix="use an existing code id as parent, or leave it out")
        words = ", ".join(theme.words[:5])
        code = Code(id=code_id, name=name or draft.get("name") or theme.label, parent=parent,
                    definition=draft.get("definition") or f"Participants talk about {words}.",
                    examples=[q["text"] for q in theme.quotes])
        extended = Codebook(name=codebook.name, codes=[*codebook.codes, code], description=codebook.description)
    from qualkit.themes.edit import redescribe

    history = [*theme.history, f"promoted to code {code.id!r} ({len(docs)} suggested codings)"]
    edited = redescribe(result, result.documents["theme"].to_numpy(),
                        {"action": "promote", "theme": theme.id, "code_id": code.id, "codings": len(docs)},
                        {theme.id: {"promoted_to": code.id, "history": history}})
    loaded = result.version
    # The new codebook version, the suggested codings and the run's promoted mark land together or not at all,
    # so two people promoting the same theme at once cannot both add it.
    try:
        with store.transaction() as session:
            version = codebook.version
            if extended is not None:
                version = store.save_codebook_in(session, extended, user=user, expected_version=codebook.version,
                                                 note=f"code {code_id!r} from theme {theme.id} of theme run {result.run_id}")
            codings = [Coding(segment_id=sid, code_id=code.id, origin="topic", status="suggested", coder=CODER,
                              score=None if pd.isna(row.similarity) else round(float(row.similarity), 4),
                              start=int(row.start), end=int(row.end), codebook_version=version,
                              rationale=f"theme {theme.id} ({theme.label}) of theme run {result.run_id}")
                       for sid, row in zip(segment_ids, docs.itertuples(index=False), strict=True)]
            store.insert_codings_in(session, codings, user=user, action="suggest")
            if not _write_run(store, session, edited, user=user, action="promote", version=loaded):
                raise _RunChanged
    except _RunChanged:
        raise _run_conflict(store, edited, user=user, action="promote", version=loaded) from None
    return code


def theme_passages(store: Store, result: ThemeResult, theme_id: int) -> pd.DataFrame:
    """The passages of a theme (most typical first), attributed by role, with the ids that open the transcript.

    Columns as :func:`qualkit.analysis.passages.passages_behind` (``segment_id``, ``source``, ``source_id``,
    ``turn``, ``start``, ``end``, ``attribution``, ``group``, ``text``, ``codes``): read a theme before
    promoting it to a code.

    Example:
        >>> theme_passages(store, project.themes(), 0).shape[0] == project.themes().theme(0).size  # doctest: +SKIP
        True
    """
    from qualkit.analysis.passages import COLUMNS
    from qualkit.analysis.quotes import attribution

    docs = result.theme_documents(theme_id).reset_index(drop=True)
    if docs.empty:
        return pd.DataFrame(columns=COLUMNS)
    segment_ids = _segment_ids(store, docs)
    segments = store.segments_df().set_index("id")
    rows = []
    for doc, segment_id in zip(docs.to_dict("records"), segment_ids, strict=True):
        seg = segments.loc[segment_id].to_dict() if segment_id in segments.index else {}
        context = {**seg, **{k: v for k, v in doc.items() if not (isinstance(v, float) and pd.isna(v))}}
        rows.append({"segment_id": int(segment_id), "source": doc.get("source", seg.get("source")),
                     "source_id": seg.get("source_id"), "turn": seg.get("turn"), "start": doc.get("start"),
                     "end": doc.get("end"), "attribution": attribution(context), "group": "",
                     "text": doc.get("text"), "codes": []})
    return pd.DataFrame(rows, columns=COLUMNS)
