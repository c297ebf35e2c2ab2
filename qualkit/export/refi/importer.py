"""Importing a ``.qdpx`` into a project: plan every write as plain objects, check them, store them at once.

The file is read by :func:`~qualkit.export.refi.read.read_qdpx` (nothing stored), its texts are
segmented by qualkit's own transcript reader (as if imported as ``.txt``; ``Label: text`` lines as a
fallback), a coding that crosses turns is split at their borders, and coded text outside any segment
becomes an unattributed segment of its own, so every offset survives exactly. Everything the import
writes is then one :class:`~qualkit.store.imports.ImportBatch`: the store checks every value against
its column (length, NUL) before writing, and writes codebook, participants, sources, codings, memos and
the exchange settings in ONE transaction, on SQLite and PostgreSQL alike. A new project is created in
that same transaction, so a failed import leaves the database as it was and no half-made project.

Example:
    >>> from qualkit.store.repository import Store
    >>> from qualkit.export.refi.write import export_qdpx
    >>> import tempfile, pathlib
    >>> out = export_qdpx(Store.create("sqlite://", name="a"), pathlib.Path(tempfile.mkdtemp()) / "a.qdpx")
    >>> import_qdpx(out, Store.create("sqlite://", name="b")).summary()
    'imported a: 0 sources, 0 codes, 0 codings, 0 memos, 0 participants'
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from qualkit.errors import InvalidInput, InvalidProjectFile, QualkitError, StoreError
from qualkit.export.refi.common import (
    EXCHANGE_SETTING,
    SUGGESTIONS_USER,
    exchange_settings,
    normalise_guid,
    stable_guid,
)
from qualkit.export.refi.read import QdpxProject, read_qdpx
from qualkit.ingest.speakers import is_moderator_label
from qualkit.model import Codebook, Coding, ImportReport, Memo, Segment, Source
from qualkit.store.imports import ImportBatch

_TURN = re.compile(r"^[ \t]*(?P<label>[^\s:][^:\r\n]{0,59}?)[ \t]*:[ \t]+(?=\S)")


@dataclass
class QdpxImport:
    """What an import stored: counts and the warnings a researcher should read.

    Example:
        >>> QdpxImport(project="p").summary()
        'imported p: 0 sources, 0 codes, 0 codings, 0 memos, 0 participants'
    """

    project: str
    sources: int = 0
    codes: int = 0
    codings: int = 0
    memos: int = 0
    participants: int = 0
    split_codings: int = 0
    suggestions: int = 0
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line plus a line per warning."""
        suggestions = f", {self.suggestions} suggestions to review" if self.suggestions else ""
        text = (f"imported {self.project}: {self.sources} sources, {self.codes} codes, {self.codings} codings"
                f"{suggestions}, {self.memos} memos, {self.participants} participants")
        return "\n".join([text, *[f"  warning: {w}" for w in self.warnings]])


SUGGESTED = {"origin": "ensemble", "status": "suggested", "coder": "auto", "decided_by": None,
             "rationale": "a suggestion nobody had reviewed when the .qdpx was written"}
"""How a coding by :data:`SUGGESTIONS_USER` is stored: a machine suggestion awaiting review."""


def turn_segments(name: str, text: str) -> list[Segment]:
    """Split a plain text into one segment per non-empty line; ``Label: text`` lines become speaker turns.

    A turn's text starts after the label (the canonical rule); lines without a label are unattributed.

    Example:
        >>> [(s.speaker, s.text) for s in turn_segments("g1", "Moderator: Hi.\\r\\nAnn: Tired.\\r\\n")]
        [('Moderator', 'Hi.'), ('Ann', 'Tired.')]
    """
    segments: list[Segment] = []
    turn = 0
    for match in re.finditer(r"[^\r\n]+", text):
        line, offset = match.group(0), match.start()
        label = _TURN.match(line)
        if label:
            start = offset + label.end()
            speaker = label.group("label").strip()
            role = "moderator" if is_moderator_label(speaker) else "participant"
            kind = "turn"
        else:
            start = offset + len(line) - len(line.lstrip())
            speaker, role, kind = None, None, "unattributed"
        end = offset + len(line.rstrip())
        if end <= start:
            continue
        segments.append(Segment(name, start, end, text[start:end], speaker=speaker, role=role, kind=kind,
                                turn=turn))
        turn += 1
    return segments


def ingest_segments(name: str, text: str) -> list[Segment]:
    r"""Segment an imported text with qualkit's own transcript reader (speakers, moderators, marks).

    Falls back to :func:`turn_segments` when the reader is unavailable, refuses the text, or would
    read it differently (its canonical text must be the text itself, so offsets stay exact).

    Example:
        >>> [s.speaker for s in ingest_segments("g1.txt", "Moderator: Hi.\nAnn: Tired.\n")]
        ['Moderator', 'Ann']
    """
    from qualkit.ingest.transcript import read_transcript

    try:
        source = read_transcript(text=text, format="txt", name=name)
    except QualkitError:
        return turn_segments(name, text)
    if source.text != text:
        return turn_segments(name, text)
    return list(source.segments)


def _place(spans: Iterable[tuple[int, int]], segments: list[Segment], name: str,
           text: str) -> dict[tuple[int, int], list[tuple[int, int, int]]]:
    """Map each span to (segment index, start, end) pieces, adding unattributed segments where needed.

    A span inside a segment goes to the smallest such segment; a span across turns is split at the
    turns it overlaps; a span outside every segment gets an unattributed segment of its own.
    """
    placement: dict[tuple[int, int], list[tuple[int, int, int]]] = {}
    for start, end in sorted(set(spans)):
        containing = [i for i, s in enumerate(segments) if s.start <= start and end <= s.end]
        if containing:
            best = min(containing, key=lambda i: segments[i].end - segments[i].start)
            placement[(start, end)] = [(best, start, end)]
            continue
        overlapping = [(i, max(start, s.start), min(end, s.end)) for i, s in enumerate(segments)
                       if max(start, s.start) < min(end, s.end)]
        turns = [piece for piece in overlapping if segments[piece[0]].kind != "unattributed"]
        pieces = turns or overlapping
        if not pieces:
            segments.append(Segment(name, start, end, text[start:end], speaker=None, role=None, kind="unattributed"))
            pieces = [(len(segments) - 1, start, end)]
        placement[(start, end)] = pieces
    return placement


def plan_import(project: QdpxProject, path: str | os.PathLike[str], store: Any = None, *, user: str | None = None,
                segmenter: Callable[[str, str], list[Segment]] | None = None) -> tuple[ImportBatch, QdpxImport]:
    """Everything importing ``project`` into ``store`` (None: a new project) would write, and its report.

    Nothing is written: the batch holds plain objects (segments, codings tied to them, memos, the
    merged codebook, the exchange settings) for :meth:`~qualkit.store.imports.ImportsMixin.write_import`.
    A source name or GUID the project already has is refused here.

    Example:
        >>> batch, report = plan_import(QdpxProject(name="p"), "p.qdpx")
        >>> batch.sources, report.project
        ([], 'p')
    """
    path = Path(path)
    result = QdpxImport(project=project.name, warnings=list(project.warnings))
    if store is not None:
        _refuse_clashes(store, project, path)
    split = segmenter or ingest_segments
    sources: list[Source] = []
    placements = []
    for qs in project.sources:
        segments = sorted(split(qs.name, qs.text), key=lambda s: (s.start, s.end))
        spans = [(sel.start, sel.end) for sel in qs.selections]
        placement = _place(spans, segments, qs.name, qs.text)
        order = sorted(range(len(segments)), key=lambda i: (segments[i].start, segments[i].end))
        new_index = {old: new for new, old in enumerate(order)}
        segments = [segments[i] for i in order]
        placement = {span: [(new_index[i], a, b) for i, a, b in pieces] for span, pieces in placement.items()}
        speakers: dict[str, int] = {}
        for segment in segments:
            if segment.speaker:
                speakers[segment.speaker] = speakers.get(segment.speaker, 0) + 1
        report = ImportReport(source=qs.name, format="qdpx", encoding="utf-8", speakers=speakers,
                              moderators=sorted({s.speaker for s in segments if s.role == "moderator" and s.speaker}),
                              unattributed=sum(s.kind == "unattributed" for s in segments), segments=len(segments))
        # Provenance lives in the import report and the project settings, never in the metadata:
        # metadata are exported as source variables, and a round trip must not add one.
        source = Source(name=qs.name, text=qs.text, format="txt", raw=qs.text.encode("utf-8"), encoding="utf-8",
                        guid=qs.guid, segments=segments, metadata=dict(qs.variables), import_report=report)
        sources.append(source)
        placements.append(placement)

    batch = ImportBatch(sources=sources, codebook_note=f"imported from {path.name}")
    version, code_by_guid = _merge_codebook(store, project.codebook, batch, result)
    if project.participants:
        known = {p.id: p.guid for p in store.participants()} if store is not None else {}
        for participant in project.participants:
            old = normalise_guid(known.get(participant.id))
            if old and participant.guid and old != participant.guid:
                result.warnings.append(f"participant {participant.id!r} is already in the project with GUID {old}; "
                                       f"the file's {participant.guid} is not used")
        batch.participants = list(project.participants)
        result.participants = len(project.participants)
    result.sources = len(sources)

    unknown_codes = nobody = 0
    missing: dict[str, str] = {}  # code GUID not in the codebook -> the first selection that uses it
    for qs, source, placement in zip(project.sources, sources, placements, strict=True):
        for sel in qs.selections:
            pieces = placement[(sel.start, sel.end)]
            if len(pieces) > 1 and sel.codes:
                result.split_codings += len(sel.codes)
            for code_guid, coder, coding_guid in sel.codes:
                code_id = code_by_guid.get(code_guid)
                if code_id is None:
                    unknown_codes += 1
                    missing.setdefault(code_guid, sel.guid)
                    continue
                nobody += not coder
                who = coder or user
                suggested = coder == SUGGESTIONS_USER
                for n, (index, start, end) in enumerate(pieces):
                    guid = sel.guid if len(sel.codes) == 1 else (coding_guid or sel.guid)
                    if n:
                        guid = stable_guid("split", guid, str(start))
                    batch.codings.append((source.segments[index], Coding(
                        segment_id=0, code_id=code_id, start=start, end=end, codebook_version=version, guid=guid,
                        **(SUGGESTED if suggested else {"origin": "human", "status": "accepted", "coder": who,
                                                        "decided_by": who}))))
    result.suggestions = sum(c.status == "suggested" for _, c in batch.codings)
    result.codings = len(batch.codings) - result.suggestions
    if result.suggestions:
        result.warnings.append(f"{result.suggestions} codings by {SUGGESTIONS_USER!r} came in as suggestions to "
                               "review, not as anyone's coding")
    if nobody:
        result.warnings.append(f"{nobody} codings name no user (creatingUser); they are credited to {user!r}, "
                               "who imported them")
    if unknown_codes:
        shown = "; ".join(f"code {code} (e.g. selection {sel})" for code, sel in list(missing.items())[:3])
        result.warnings.append(f"skipped {unknown_codes} codings whose code GUID is not in the file's codebook: "
                               f"{shown}{' ...' if len(missing) > 3 else ''}")
    if result.split_codings:
        result.warnings.append(f"{result.split_codings} codings crossed speaker turns and were split at the turns")

    anchored: set[str] = set()
    memos: list[tuple[Segment | Source | None, Memo]] = []
    code_id_of_note = {g: code_by_guid.get(c) for c, guids in project.code_notes.items() for g in guids}
    for qs, source, placement in zip(project.sources, sources, placements, strict=True):
        for note in qs.notes:
            anchored.add(note)
            memos.append((source, _memo(project, note)))
        for sel in qs.selections:
            index = placement[(sel.start, sel.end)][0][0]
            for note in sel.notes:
                anchored.add(note)
                memos.append((source.segments[index], _memo(project, note)))
    for note, code_id in code_id_of_note.items():
        if code_id is not None and note not in anchored:
            anchored.add(note)
            memos.append((None, _memo(project, note, code_id=code_id)))
    for note in project.notes:
        if note not in anchored:
            memos.append((None, _memo(project, note)))
    batch.memos = [(target, memo) for target, memo in memos if memo.text]
    result.memos = len(batch.memos)
    batch.settings = {EXCHANGE_SETTING: _exchange_record(store, project, path, result, user=user)}
    return batch, result


def import_qdpx(
    path: str | os.PathLike[str],
    into: Any,
    *,
    user: str | None = None,
    segmenter: Callable[[str, str], list[Segment]] | None = None,
    crlf_as_one: bool | str = "auto",
) -> QdpxImport:
    """Import a ``.qdpx`` project into a store (or a Project), all in one transaction.

    Codings become accepted human codings by the user who made them in the other program (or
    ``user``). ``segmenter(name, text)`` splits texts into segments (default :func:`ingest_segments`,
    qualkit's transcript reader, so speakers, moderators and marks are found as on a normal import).
    ``crlf_as_one`` as in :func:`~qualkit.export.refi.read.read_qdpx`. Nothing is stored when the file
    is unsafe or malformed, names a source (or source GUID) the project already has, or holds a value
    the database cannot keep (one line names the place; no transcript text is quoted).

    GUIDs survive: sources, codes, codings, cases (participants) and notes keep theirs; the users'
    GUIDs and who created each source in the other program are kept in the project settings
    (``refi_exchange``, see :func:`~qualkit.export.refi.common.exchange_settings`) with a record of
    the import, so exporting the project again gives the same identifiers and no extra variables.

    Example:
        >>> from qualkit.store.repository import Store
        >>> from qualkit.export.refi.write import export_qdpx
        >>> import tempfile, pathlib
        >>> out = export_qdpx(Store.create("sqlite://", name="a"), pathlib.Path(tempfile.mkdtemp()) / "a.qdpx")
        >>> import_qdpx(out, Store.create("sqlite://", name="b")).sources
        0
    """
    store = getattr(into, "store", into)
    user = user or getattr(into, "user", None)
    path = Path(path)
    project = read_qdpx(path, crlf_as_one=crlf_as_one)
    batch, result = plan_import(project, path, store, user=user, segmenter=segmenter)
    with _named_file(path):
        store.write_import(batch, user=user)
    return result


def import_into_new_project(path: str | os.PathLike[str], into: str | os.PathLike[str] | None, *,
                            name: str | None = None, user: str | None = None,
                            crlf_as_one: bool | str = "auto") -> tuple[Any, QdpxImport]:
    """Create a project at ``into`` (SQLite path or URL) and import the ``.qdpx`` into it, in one transaction.

    A failure leaves no project behind; a new SQLite file that fails to import is removed again.

    Example:
        >>> import tempfile, pathlib
        >>> from qualkit.store.repository import Store
        >>> from qualkit.export.refi.write import export_qdpx
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> out = export_qdpx(Store.create("sqlite://", name="a"), folder / "a.qdpx")
        >>> store, report = import_into_new_project(out, folder / "b.qualkit.db")
        >>> store.name
        'a'
    """
    from qualkit.store.repository import Store

    path = Path(path)
    project = read_qdpx(path, crlf_as_one=crlf_as_one)  # fail before creating anything
    batch, result = plan_import(project, path, None, user=user)
    target = Path(into) if into is not None and "://" not in str(into) else None
    created_file = target is not None and not target.exists()
    try:
        with _named_file(path):
            store = Store.create_with_import(into, name or project.name, batch=batch,
                                             description=project.description, user=user)
    except Exception:
        if created_file and target is not None:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{target}{suffix}").unlink(missing_ok=True)
        raise
    return store, result


@contextmanager
def _named_file(path: Path) -> Iterator[None]:
    """Report a value the database cannot hold as a problem of the file, in one line."""
    try:
        yield
    except InvalidInput as error:
        raise InvalidProjectFile(error.message, path=path, fix=error.fix) from None


def _refuse_clashes(store: Any, project: QdpxProject, path: Path) -> None:
    """Refuse sources whose name or GUID the project already has (GUIDs name the files of a later export)."""
    existing = store.sources_df()
    clash = sorted(set(existing["name"]) & {s.name for s in project.sources})
    if clash:
        raise InvalidProjectFile(f"the project already has sources named {clash}", path=path,
                                 fix="import into a new project, or remove those sources first")
    known = {normalise_guid(g) for g in existing["guid"] if isinstance(g, str)}
    taken = sorted(known & {s.guid for s in project.sources})
    if taken:
        raise InvalidProjectFile(f"the project already has a source with GUID {taken[0]}", path=path,
                                 fix="import into a new project, or remove that source first")


def _exchange_record(store: Any, project: QdpxProject, path: Path, result: QdpxImport, *,
                     user: str | None) -> dict[str, Any]:
    """The exchange setting after this import: the file's user GUIDs and source creators, and a record of it."""
    exchange = exchange_settings(store) if store is not None else {"users": {}, "source_creators": {}, "imports": []}
    for guid, name in project.users.items():
        known = exchange["users"].get(name)
        if known is None:
            exchange["users"][name] = guid
        elif normalise_guid(known) != guid:
            result.warnings.append(f"user {name!r} has GUID {guid} in {path.name} but {known} in this project; "
                                   "the project's GUID is kept")
    for qs in project.sources:
        if qs.user:
            exchange["source_creators"][qs.guid] = qs.user
    exchange["imports"].append({
        "file": path.name, "project": project.name, "at": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "by": user, "sources": result.sources, "codes": result.codes, "codings": result.codings,
        "memos": result.memos, "participants": result.participants,
    })
    return exchange


def _merge_codebook(store: Any, imported: Codebook | None, batch: ImportBatch,
                    result: QdpxImport) -> tuple[int | None, dict[str, str]]:
    """Put the codebook to save into the batch; return the codings' version (None: the one saved) and code ids.

    Into a project without a codebook the imported one is saved as is. Into a project with one, codes
    are matched by GUID, then by id; when every code matches, nothing changes (re-importing a file a
    colleague coded in another program); otherwise the new codes are added as a new version of the
    project's codebook, under their matched parents (refused if someone saves that codebook meanwhile).
    """
    if imported is None or not imported.codes:
        return None, {}
    active = None
    if store is not None:
        try:
            active = store.codebook()
        except StoreError:
            active = None
    if active is None or not active.codes:
        batch.codebook = imported
        result.codes = len(imported.codes)
        return None, {c.guid: c.id for c in imported.codes}
    by_guid = {normalise_guid(c.guid): c.id for c in active.codes if c.guid}
    known = set(active.ids)
    target_of = {c.id: by_guid.get(c.guid) or (c.id if c.id in known else None) for c in imported.codes}
    new_codes = [replace(c, parent=(target_of.get(c.parent) or c.parent) if c.parent else None)
                 for c in imported.codes if target_of[c.id] is None]
    mapping = {c.guid: target_of[c.id] or c.id for c in imported.codes}
    if not new_codes:
        return active.version, mapping
    batch.codebook = Codebook(name=active.name, codes=[*active.codes, *new_codes], description=active.description)
    batch.codebook_note = f"{batch.codebook_note}: {len(new_codes)} new codes"
    batch.expected_codebook_version = active.version
    result.codes = len(new_codes)
    result.warnings.append(f"added {len(new_codes)} new codes to codebook {active.name!r} (version "
                           f"{active.version + 1})")
    return None, mapping


def _memo(project: QdpxProject, guid: str, **target: Any) -> Memo:
    text, author = project.notes.get(guid, ("", None))
    return Memo(text=text, author=author, guid=guid, **target)
