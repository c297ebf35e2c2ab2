"""Reading and writing one project in the store: sources, segments, participants, codebooks, codings, memos.

Every write runs in one transaction (an import that fails leaves nothing behind) and appends an event
with the user, the time, and the old and new values. Updates to codings, memos and participants check
the row ``version`` the caller read, so two people changing the same record never lose a change
silently: the second gets a :class:`~qualkit.errors.ConflictError` carrying the current values, and
the failed attempt is logged too.

Example:
    >>> from qualkit.model import Source, Segment
    >>> store = Store.create("sqlite://", name="demo")
    >>> src = Source(name="g1.txt", text="Ann: I am tired.\\n", format="txt")
    >>> src.segments = [Segment("g1.txt", 5, 16, "I am tired.", speaker="Ann")]
    >>> source_id = store.add_source(src, user="ana")
    >>> store.segments_df()["text"].tolist()
    ['I am tired.']
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine, bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from qualkit.errors import ConflictError, ProjectNotFound, StoreError
from qualkit.model import (
    ORIGINS,
    STATUSES,
    Code,
    Codebook,
    Coding,
    ImportReport,
    Mark,
    Memo,
    Participant,
    Segment,
    Source,
    new_guid,
)
from qualkit.store.engine import HEAD_REVISION, database_url, make_engine, migrate, schema_revision
from qualkit.store.schema import (
    CodebookRow,
    CodeRow,
    CodingRow,
    EventRow,
    MemoRow,
    ParticipantRow,
    ProjectRow,
    SegmentRow,
    SourceRow,
    utcnow,
)

SEGMENT_COLUMNS = [
    "id", "source", "source_id", "start", "end", "text", "speaker", "participant", "speaker_role",
    "kind", "turn", "seq", "time_start", "time_end", "marks",
]
CODING_COLUMNS = [
    "id", "segment_id", "code_id", "codebook_version", "coder", "origin", "status", "score", "start", "end",
    "evidence", "rationale", "decided_by", "decided_at", "parent_id", "guid", "created_at", "updated_at",
    "version", "source", "source_id", "speaker", "speaker_role", "turn", "segment_start", "segment_end",
    "segment_text",
]
_CHUNK = 2000
_LOGGED_IDS = 500  # removed suggestion ids named in one event (the count is always exact)


def _coding_dict(row: CodingRow) -> dict[str, Any]:
    return {
        "id": row.id, "segment_id": row.segment_id, "code_id": row.code_id, "status": row.status,
        "origin": row.origin, "coder": row.coder, "score": row.score, "start": row.start, "end": row.end,
        "decided_by": row.decided_by, "version": row.version,
    }


def _bind_names(values: dict[str, Any]) -> dict[str, Any]:
    """Parameter names for an executemany UPDATE: ``_``-prefixed (column names are reserved for SET)."""
    return {k if k.startswith("_") else f"_{k}": v for k, v in values.items()}


def _chunks(rows: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(rows), size):
        yield rows[i : i + size]


class Store:
    """One project inside a qualkit database (SQLite file or any SQLAlchemy URL).

    Use :meth:`create` or :meth:`open`; the constructor only stores its arguments.

    Example:
        >>> store = Store.create("sqlite://", name="pilot")
        >>> store.name
        'pilot'
    """

    def __init__(self, engine: Engine, project_id: int, name: str) -> None:
        self.engine = engine
        self.project_id = project_id
        self.name = name
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    # ------------------------------------------------------------------ opening
    @classmethod
    def create(
        cls,
        path_or_url: str | os.PathLike[str] | Engine | None = None,
        name: str = "default",
        *,
        description: str = "",
        exist_ok: bool = False,
    ) -> Store:
        """Create a project (and the database schema if needed); refuse to overwrite an existing one.

        Example:
            >>> Store.create("sqlite://", name="a").project_id
            1
        """
        engine = path_or_url if isinstance(path_or_url, Engine) else make_engine(path_or_url)
        migrate(engine)
        with Session(engine) as session, session.begin():
            existing = session.scalar(select(ProjectRow).where(ProjectRow.name == name))
            if existing is not None:
                if not exist_ok:
                    raise StoreError(
                        f"a project named {name!r} already exists in {engine.url.render_as_string()}",
                        fix="open it with Project.open(...) or choose another name",
                    )
                return cls(engine, existing.id, existing.name)
            row = ProjectRow(name=name, description=description, settings={})
            session.add(row)
            session.flush()
            session.add(EventRow(project_id=row.id, action="create", entity="project", entity_id=str(row.id),
                                 new={"name": name}))
            return cls(engine, row.id, name)

    @classmethod
    def open(cls, path_or_url: str | os.PathLike[str] | Engine | None = None, name: str | None = None) -> Store:
        """Open an existing project; with one project in the database ``name`` may be left out.

        Example:
            >>> engine = make_engine("sqlite://")
            >>> _ = Store.create(engine, name="a")
            >>> Store.open(engine).name
            'a'
        """
        if isinstance(path_or_url, Engine):
            engine = path_or_url
        else:
            url = database_url(path_or_url)
            if url.startswith("sqlite:///") and not os.path.exists(url[len("sqlite:///"):]):
                raise ProjectNotFound(f"no qualkit project file at {url[len('sqlite:///'):]}",
                                      fix="create it with `qualkit init PATH` or Project.create(PATH)")
            engine = make_engine(url)
        revision = schema_revision(engine)
        if revision is None:
            raise ProjectNotFound(f"{engine.url.render_as_string()} holds no qualkit project",
                                  fix="create one with `qualkit init` or Project.create(...)")
        if revision != HEAD_REVISION:
            migrate(engine)
        with Session(engine) as session:
            rows = session.scalars(select(ProjectRow).order_by(ProjectRow.id)).all()
        if name is None:
            if len(rows) != 1:
                names = ", ".join(r.name for r in rows) or "none"
                raise ProjectNotFound(f"the database holds {len(rows)} projects ({names})",
                                      fix="pass name= to choose one")
            return cls(engine, rows[0].id, rows[0].name)
        for row in rows:
            if row.name == name:
                return cls(engine, row.id, row.name)
        raise ProjectNotFound(f"no project named {name!r}", fix="list projects with Store.list_projects(...)")

    @staticmethod
    def list_projects(path_or_url: str | os.PathLike[str] | Engine | None = None) -> list[str]:
        """Names of the projects in a database.

        Example:
            >>> engine = make_engine("sqlite://")
            >>> _ = Store.create(engine, name="b")
            >>> Store.list_projects(engine)
            ['b']
        """
        engine = path_or_url if isinstance(path_or_url, Engine) else make_engine(path_or_url)
        if schema_revision(engine) is None:
            return []
        with Session(engine) as session:
            return list(session.scalars(select(ProjectRow.name).order_by(ProjectRow.id)))

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session inside one transaction: committed on success, rolled back on any error.

        Example:
            >>> store = Store.create("sqlite://")
            >>> with store.transaction() as session:
            ...     store.log(session, "ana", "note", "project", store.project_id)
        """
        with self._sessions() as session, session.begin():
            yield session

    @property
    def settings(self) -> dict[str, Any]:
        """The project's settings (JSON), e.g. the name of its active codebook."""
        with self._sessions() as session:
            return dict(session.get(ProjectRow, self.project_id).settings or {})

    def update_settings(self, user: str | None = None, **changes: Any) -> dict[str, Any]:
        """Merge ``changes`` into the project settings and log the change."""
        with self.transaction() as session:
            row = session.get(ProjectRow, self.project_id)
            old = dict(row.settings or {})
            row.settings = {**old, **changes}
            self.log(session, user, "update", "project", self.project_id, old={k: old.get(k) for k in changes},
                     new=changes)
            return dict(row.settings)

    # ------------------------------------------------------------------ events
    def log(
        self,
        session: Session,
        user: str | None,
        action: str,
        entity: str,
        entity_id: Any = None,
        *,
        old: dict[str, Any] | None = None,
        new: dict[str, Any] | None = None,
        outcome: str = "ok",
    ) -> None:
        """Append one event in the caller's transaction (the event log is never updated or deleted)."""
        session.add(EventRow(
            project_id=self.project_id, user=user, action=action, entity=entity,
            entity_id=None if entity_id is None else str(entity_id),
            old=_jsonable(old), new=_jsonable(new), outcome=outcome,
        ))

    def events_df(self, entity: str | None = None, entity_id: Any = None, limit: int | None = None) -> pd.DataFrame:
        """The event log, newest first, optionally for one entity.

        Example:
            >>> Store.create("sqlite://").events_df()["action"].tolist()
            ['create']
        """
        query = select(EventRow).where(EventRow.project_id == self.project_id)
        if entity is not None:
            query = query.where(EventRow.entity == entity)
        if entity_id is not None:
            query = query.where(EventRow.entity_id == str(entity_id))
        query = query.order_by(EventRow.id.desc())
        if limit:
            query = query.limit(limit)
        with self._sessions() as session:
            rows = session.scalars(query).all()
        return pd.DataFrame(
            [{"id": r.id, "at": r.at, "user": r.user, "action": r.action, "entity": r.entity,
              "entity_id": r.entity_id, "old": r.old, "new": r.new, "outcome": r.outcome} for r in rows],
            columns=["id", "at", "user", "action", "entity", "entity_id", "old", "new", "outcome"],
        )

    # ------------------------------------------------------------------ sources and segments
    def add_source(self, source: Source, *, user: str | None = None) -> int:
        """Store a source with all its segments in one transaction; a name already used is an error.

        Segments get their database ids written back (``segment.id``). Speakers are linked to
        participants by label or alias.
        """
        try:
            with self.transaction() as session:
                return self._add_source(session, source, user)
        except IntegrityError as exc:
            raise StoreError(f"a source named {source.name!r} is already in project {self.name!r}",
                             fix="rename the file or remove the existing source first") from exc

    def _add_source(self, session: Session, source: Source, user: str | None) -> int:
        for seg in source.segments:
            if source.text[seg.start:seg.end] != seg.text:
                raise StoreError(f"segment {seg.start}:{seg.end} of {source.name} does not match the source text",
                                 fix="this is a reader bug; please report it with the file")
        report = dataclasses.asdict(source.import_report) if source.import_report else {}
        row = SourceRow(
            project_id=self.project_id, guid=source.guid or new_guid(), name=source.name, format=source.format,
            encoding=source.encoding, sha256=source.sha256, raw=source.raw, text=source.text,
            meta=_jsonable(source.metadata) or {}, report=_jsonable(report) or {}, imported_by=user,
        )
        session.add(row)
        session.flush()
        lookup = self._participant_lookup(session, source.name, source.metadata)
        payload = []
        for seq, seg in enumerate(source.segments):
            participant_id = lookup.get(seg.participant or "") or lookup.get(seg.speaker or "")
            payload.append({
                "project_id": self.project_id, "source_id": row.id, "start": seg.start, "end": seg.end,
                "text": seg.text, "speaker": seg.speaker, "participant_id": participant_id, "role": seg.role,
                "kind": seg.kind, "turn": seg.turn, "seq": seq, "time_start": seg.time_start,
                "time_end": seg.time_end, "marks": [[m.start, m.end, m.kind] for m in seg.marks],
                "attributes": _jsonable(seg.attributes) or {},
            })
        ids: list[int] = []
        for chunk in _chunks(payload):
            ids.extend(session.scalars(insert(SegmentRow).returning(SegmentRow.id), list(chunk)))
        for seg, seg_id in zip(source.segments, ids, strict=True):
            seg.id = seg_id
        source.id = row.id
        self.log(session, user, "import", "source", row.id,
                 new={"name": source.name, "format": source.format, "segments": len(ids), "sha256": row.sha256})
        return row.id

    def add_sources(self, sources: Iterable[Source], *, user: str | None = None) -> list[int]:
        """Store several sources in one transaction: all of them, or none."""
        sources = list(sources)
        names = [s.name for s in sources]
        duplicates = {n for n in names if names.count(n) > 1}
        if duplicates:
            raise StoreError(f"the batch names {sorted(duplicates)} more than once", fix="rename the files")
        try:
            with self.transaction() as session:
                return [self._add_source(session, source, user) for source in sources]
        except IntegrityError as exc:
            raise StoreError("a source in this batch is already in the project; nothing was imported",
                             fix="remove or rename the duplicate") from exc

    def remove_source(self, source: str | int, *, user: str | None = None) -> None:
        """Delete a source with its segments and codings; refused when humans already decided on it."""
        with self.transaction() as session:
            row = self._source_row(session, source)
            decided = session.scalar(
                select(func.count()).select_from(CodingRow).join(SegmentRow, CodingRow.segment_id == SegmentRow.id)
                .where(SegmentRow.source_id == row.id, CodingRow.status != "suggested"))
            if decided:
                raise StoreError(f"{row.name} has {decided} human decisions; refusing to delete them",
                                 fix="export the project first, then remove codings explicitly")
            self.log(session, user, "delete", "source", row.id, old={"name": row.name, "sha256": row.sha256})
            session.delete(row)

    def _source_row(self, session: Session, source: str | int) -> SourceRow:
        column = SourceRow.id if isinstance(source, int) else SourceRow.name
        row = session.scalar(select(SourceRow).where(SourceRow.project_id == self.project_id, column == source))
        if row is None:
            raise StoreError(f"no source {source!r} in project {self.name!r}")
        return row

    def sources_df(self) -> pd.DataFrame:
        """One row per source: id, name, format, encoding, sha256, counts, who imported it and when."""
        query = (
            select(SourceRow.id, SourceRow.guid, SourceRow.name, SourceRow.format, SourceRow.encoding,
                   SourceRow.sha256, SourceRow.imported_by, SourceRow.imported_at,
                   func.count(SegmentRow.id).label("segments"), func.length(SourceRow.text).label("characters"))
            .outerjoin(SegmentRow, SegmentRow.source_id == SourceRow.id)
            .where(SourceRow.project_id == self.project_id)
            .group_by(SourceRow.id).order_by(SourceRow.id)
        )
        with self._sessions() as session:
            rows = session.execute(query).mappings().all()
        return pd.DataFrame(rows, columns=["id", "guid", "name", "format", "encoding", "sha256", "imported_by",
                                           "imported_at", "segments", "characters"])

    def source(self, source: str | int, *, with_raw: bool = True) -> Source:
        """Load one source with its segments (and original bytes unless ``with_raw=False``)."""
        with self._sessions() as session:
            row = self._source_row(session, source)
            segments = self.segments(source_id=row.id, session=session)
            report = ImportReport(**row.report) if row.report else None
            return Source(name=row.name, text=row.text, format=row.format, raw=row.raw if with_raw else None,
                          encoding=row.encoding, guid=row.guid, segments=segments, metadata=dict(row.meta or {}),
                          import_report=report, id=row.id)

    def segments(
        self,
        *,
        source_id: int | None = None,
        ids: Sequence[int] | None = None,
        session: Session | None = None,
    ) -> list[Segment]:
        """Load segments as :class:`Segment` objects in source order."""
        query = (
            select(SegmentRow, SourceRow.name, ParticipantRow.label)
            .join(SourceRow, SourceRow.id == SegmentRow.source_id)
            .outerjoin(ParticipantRow, ParticipantRow.id == SegmentRow.participant_id)
            .where(SegmentRow.project_id == self.project_id)
        )
        if source_id is not None:
            query = query.where(SegmentRow.source_id == source_id)
        if ids is not None:
            query = query.where(SegmentRow.id.in_(list(ids)))
        query = query.order_by(SegmentRow.source_id, SegmentRow.seq)
        own = session is None
        session = session or self._sessions()
        try:
            rows = session.execute(query).all()
        finally:
            if own:
                session.close()
        return [
            Segment(source=name, start=r.start, end=r.end, text=r.text, speaker=r.speaker, role=r.role,
                    kind=r.kind, turn=r.turn, time_start=r.time_start, time_end=r.time_end,
                    marks=[Mark(*m) for m in (r.marks or [])], attributes=dict(r.attributes or {}),
                    participant=label, id=r.id)
            for r, name, label in rows
        ]

    def segments_df(self, *, source: str | int | None = None, participants_only: bool = False,
                    attributes: bool = True) -> pd.DataFrame:
        """Segments as a DataFrame, with segment and participant attributes as extra columns.

        ``speaker_role`` is ``moderator``/``participant`` (or empty for unattributed lines); a participant
        attribute named ``role`` (resident, attending, ...) appears as its own ``role`` column.
        """
        query = (
            select(SegmentRow.id, SourceRow.name.label("source"), SegmentRow.source_id, SegmentRow.start,
                   SegmentRow.end, SegmentRow.text, SegmentRow.speaker, ParticipantRow.label.label("participant"),
                   SegmentRow.role.label("speaker_role"), SegmentRow.kind, SegmentRow.turn, SegmentRow.seq,
                   SegmentRow.time_start, SegmentRow.time_end, SegmentRow.marks,
                   SegmentRow.attributes, ParticipantRow.attributes.label("participant_attributes"))
            .join(SourceRow, SourceRow.id == SegmentRow.source_id)
            .outerjoin(ParticipantRow, ParticipantRow.id == SegmentRow.participant_id)
            .where(SegmentRow.project_id == self.project_id)
            .order_by(SegmentRow.source_id, SegmentRow.seq)
        )
        if source is not None:
            column = SourceRow.id if isinstance(source, int) else SourceRow.name
            query = query.where(column == source)
        if participants_only:
            query = query.where(SegmentRow.role != "moderator", SegmentRow.kind.notin_(["unattributed", "legend"]))
        with self._sessions() as session:
            rows = session.execute(query).mappings().all()
        frame = pd.DataFrame(rows, columns=[*SEGMENT_COLUMNS, "attributes", "participant_attributes"])
        extra = [{**(a or {}), **(p or {})} for a, p in zip(frame.pop("attributes"),
                                                            frame.pop("participant_attributes"), strict=True)]
        if attributes and any(extra):
            attrs = pd.DataFrame(extra, index=frame.index)
            attrs = attrs[[c for c in attrs.columns if c not in frame.columns]]
            frame = pd.concat([frame, attrs], axis=1)
        return frame

    # ------------------------------------------------------------------ participants
    def _participant_lookup(self, session: Session, source_name: str | None = None,
                            source_meta: dict[str, Any] | None = None) -> dict[str, int]:
        """Speaker name -> participant row id, for the speakers of one source.

        Labels, pseudonyms and aliases all count as names. Participants whose ``session`` attribute names
        another source are not eligible (the same first name or "Moderator" recurs across sessions); a
        name that still fits several participants stays unlinked rather than guessed.
        """
        rows = session.scalars(select(ParticipantRow).where(ParticipantRow.project_id == self.project_id)).all()
        sessions = {r.id: str((r.attributes or {}).get("session") or "") for r in rows}
        here = {value for value in sessions.values() if _session_matches(value, source_name, source_meta)}
        candidates: dict[str, set[int]] = {}
        for row in rows:
            if here and sessions[row.id] and sessions[row.id] not in here:
                continue
            for name in {row.label, row.pseudonym, *(row.aliases or [])} - {None, ""}:
                candidates.setdefault(name, set()).add(row.id)
        return {name: next(iter(ids)) for name, ids in candidates.items() if len(ids) == 1}

    def upsert_participants(self, participants: Iterable[Participant], *, user: str | None = None,
                            expected_versions: dict[str, int | None] | None = None) -> int:
        """Add participants or update their attributes/aliases (logged); link existing segments to them.

        ``expected_versions`` maps a participant label to the row ``version`` the editor loaded (``None``:
        it did not exist yet). If anyone changed or created one of those meanwhile, nothing is saved: a
        ``conflict`` event is logged and :class:`ConflictError` carries the current values of each.
        Returns the number of segments newly linked to a participant.
        """
        participants = list(participants)
        try:
            return self._upsert_participants(participants, user, expected_versions)
        except _StaleVersion:  # someone wrote between our read and write: re-read and check again
            return self._upsert_participants(participants, user, expected_versions)

    def _upsert_participants(self, participants: list[Participant], user: str | None,
                             expected_versions: dict[str, int | None] | None) -> int:
        stale: dict[str, Any] = {}
        with self.transaction() as session:
            existing = {r.label: r for r in session.scalars(
                select(ParticipantRow).where(ParticipantRow.project_id == self.project_id))}
            for p in participants:
                if expected_versions is None or p.id not in expected_versions:
                    continue
                row = existing.get(p.id)
                if (None if row is None else row.version) != expected_versions[p.id]:
                    stale[p.id] = {"version": None, "removed": True} if row is None else {
                        "pseudonym": row.pseudonym, "aliases": list(row.aliases or []), **(row.attributes or {}),
                        "version": row.version}
            if not stale:
                for p in participants:
                    row = existing.get(p.id)
                    new = {"pseudonym": p.pseudonym, "aliases": list(p.aliases),
                           "attributes": _jsonable(p.attributes)}
                    if row is None:
                        row = ParticipantRow(project_id=self.project_id, label=p.id, pseudonym=p.pseudonym,
                                             aliases=list(p.aliases), attributes=new["attributes"],
                                             guid=p.guid or new_guid())
                        session.add(row)
                        existing[p.id] = row
                        self.log(session, user, "create", "participant", p.id, new=new)
                    else:
                        old = {"pseudonym": row.pseudonym, "aliases": row.aliases, "attributes": row.attributes}
                        if old != new:
                            result = session.execute(
                                update(ParticipantRow).where(ParticipantRow.id == row.id,
                                                             ParticipantRow.version == row.version)
                                .values(pseudonym=p.pseudonym, aliases=list(p.aliases), attributes=new["attributes"],
                                        version=row.version + 1).execution_options(synchronize_session=False))
                            if result.rowcount != 1:  # changed between our read and this write: start over
                                raise _StaleVersion("participant changed", current={}, user=user, action="update",
                                                    coding_id=0, expected=row.version, changes={})
                            self.log(session, user, "update", "participant", p.id, old=old, new=new)
                session.flush()
                return self._link_segments(session)
        with self.transaction() as session:
            for label in stale:
                self.log(session, user, "update", "participant", label,
                         old={"expected_version": expected_versions[label]}, new={"current": stale[label]},
                         outcome="conflict")
        shown = "; ".join(f"{label}: " + ", ".join(f"{k} {v}" for k, v in values.items() if v not in (None, "", []))
                          for label, values in stale.items())
        raise ConflictError(f"someone else changed {', '.join(stale)} while you edited; nothing was saved. "
                            f"Now: {shown}", current={"participants": stale},
                            fix="the table now shows the current values; make your change again")

    def _link_segments(self, session: Session) -> int:
        linked = 0
        unlinked = session.execute(
            select(SegmentRow.source_id, SegmentRow.speaker, func.count()).where(
                SegmentRow.project_id == self.project_id, SegmentRow.participant_id.is_(None),
                SegmentRow.speaker.is_not(None)).group_by(SegmentRow.source_id, SegmentRow.speaker)).all()
        lookups: dict[int, dict[str, int]] = {}
        for source_id, speaker, count in unlinked:
            if source_id not in lookups:
                source = session.get(SourceRow, source_id)
                lookups[source_id] = self._participant_lookup(session, source.name, source.meta)
            if speaker in lookups[source_id]:
                session.execute(update(SegmentRow).where(
                    SegmentRow.source_id == source_id, SegmentRow.speaker == speaker,
                    SegmentRow.participant_id.is_(None)).values(participant_id=lookups[source_id][speaker]))
                linked += count
        return linked

    def participants(self) -> list[Participant]:
        """All participants of the project."""
        with self._sessions() as session:
            rows = session.scalars(select(ParticipantRow).where(ParticipantRow.project_id == self.project_id)
                                   .order_by(ParticipantRow.id)).all()
        return [Participant(r.label, pseudonym=r.pseudonym, aliases=list(r.aliases or []),
                            attributes=dict(r.attributes or {}), guid=r.guid) for r in rows]

    def participants_df(self) -> pd.DataFrame:
        """Participants with their attributes as columns (plus ``version`` for conflict-checked edits)."""
        with self._sessions() as session:
            rows = session.scalars(select(ParticipantRow).where(ParticipantRow.project_id == self.project_id)
                                   .order_by(ParticipantRow.id)).all()
        records = [{"participant": r.label, "pseudonym": r.pseudonym, "aliases": list(r.aliases or []),
                    **(r.attributes or {}), "version": r.version} for r in rows]
        return pd.DataFrame(records, columns=None if records else ["participant", "pseudonym", "aliases", "version"])

    # ------------------------------------------------------------------ codebooks
    def save_codebook(self, codebook: Codebook, *, user: str | None = None, note: str = "",
                      expected_version: int | None = None) -> int:
        """Store ``codebook`` as the next version of its name and make it the project's active codebook.

        Returns the new version number (also written to ``codebook.version``); earlier versions are kept.
        With ``expected_version`` (the version the editor started from) a version saved by someone else
        meanwhile raises :class:`ConflictError` naming it, and nothing is saved.
        """
        try:
            with self.transaction() as session:
                version = self.save_codebook_in(session, codebook, user=user, note=note,
                                                expected_version=expected_version)
        except IntegrityError as exc:  # another version was saved at the same moment
            raise ConflictError(f"someone else saved codebook {codebook.name!r} at the same moment; yours was not "
                                "saved", current={"version": self.codebook(codebook.name).version}) from exc
        codebook.version = version
        return version

    def save_codebook_in(self, session: Session, codebook: Codebook, *, user: str | None = None, note: str = "",
                         expected_version: int | None = None) -> int:
        """:meth:`save_codebook` inside the caller's transaction (for changes that also move codings)."""
        latest_row = session.scalars(select(CodebookRow).where(
            CodebookRow.project_id == self.project_id, CodebookRow.name == codebook.name)
            .order_by(CodebookRow.version.desc()).limit(1).with_for_update()).first()
        latest = latest_row.version if latest_row is not None else 0
        if expected_version is not None and latest != expected_version:
            current = {"version": latest, "saved_by": latest_row.created_by if latest_row else None,
                       "note": latest_row.note if latest_row else None}
            raise ConflictError(
                f"codebook {codebook.name!r} is now at version {latest} (saved by {current['saved_by'] or 'someone'}"
                f"{': ' + current['note'] if current['note'] else ''}); you edited version {expected_version}, "
                "so your change was not saved", current=current,
                fix="reload the Codebook page to see the current codes, then make your change again")
        version = latest + 1
        row = CodebookRow(project_id=self.project_id, name=codebook.name, version=version,
                          description=codebook.description, note=note, created_by=user)
        session.add(row)
        session.flush()
        for position, code in enumerate(codebook.codes):
            data = {k: v for k, v in dataclasses.asdict(code).items()
                    if k not in ("id", "name", "parent", "color", "guid", "codable", "definition")}
            session.add(CodeRow(codebook_id=row.id, code_id=code.id, name=code.name, parent=code.parent,
                                position=position, color=code.color, guid=code.guid or new_guid(),
                                codable=code.codable, definition=code.definition, data=data))
        project = session.get(ProjectRow, self.project_id)
        project.settings = {**(project.settings or {}), "codebook": codebook.name}
        self.log(session, user, "save", "codebook", f"{codebook.name}@{version}",
                 old={"version": latest} if latest else None,
                 new={"name": codebook.name, "version": version, "codes": len(codebook.codes), "note": note})
        return version

    def codebook(self, name: str | None = None, version: int | None = None) -> Codebook:
        """Load a codebook version (default: the project's active codebook, latest version)."""
        name = name or self.settings.get("codebook")
        with self._sessions() as session:
            query = select(CodebookRow).where(CodebookRow.project_id == self.project_id)
            if name is not None:
                query = query.where(CodebookRow.name == name)
            if version is not None:
                query = query.where(CodebookRow.version == version)
            row = session.scalars(query.order_by(CodebookRow.version.desc())).first()
            if row is None:
                raise StoreError(f"project {self.name!r} has no codebook{f' {name!r}' if name else ''}"
                                 f"{f' version {version}' if version else ''}",
                                 fix="add one with project.set_codebook(qk.Codebook.load('burnout'))")
            codes = session.scalars(select(CodeRow).where(CodeRow.codebook_id == row.id)
                                    .order_by(CodeRow.position)).all()
            return Codebook(
                name=row.name, version=row.version, description=row.description,
                codes=[Code(id=c.code_id, name=c.name, parent=c.parent, color=c.color, guid=c.guid,
                            codable=c.codable, definition=c.definition, **(c.data or {})) for c in codes],
            )

    def codebook_versions(self) -> pd.DataFrame:
        """Every stored codebook version with who saved it, when, and why."""
        with self._sessions() as session:
            rows = session.execute(
                select(CodebookRow.name, CodebookRow.version, CodebookRow.created_by, CodebookRow.created_at,
                       CodebookRow.note, func.count(CodeRow.id).label("codes"))
                .outerjoin(CodeRow, CodeRow.codebook_id == CodebookRow.id)
                .where(CodebookRow.project_id == self.project_id)
                .group_by(CodebookRow.id).order_by(CodebookRow.name, CodebookRow.version)).mappings().all()
        return pd.DataFrame(rows, columns=["name", "version", "created_by", "created_at", "note", "codes"])

    # ------------------------------------------------------------------ codings
    def add_codings(self, codings: Sequence[Coding], *, user: str | None = None, action: str = "add") -> list[int]:
        """Insert codings in one transaction (spans default to the whole segment); ids are written back."""
        if not codings:
            return []
        with self.transaction() as session:
            return self._insert_codings(session, codings, user, action)

    def _insert_codings(self, session: Session, codings: Sequence[Coding], user: str | None, action: str,
                        *, details: dict[str, Any] | None = None) -> list[int]:
        spans = self._segment_spans(session, (c.segment_id for c in codings))
        now = utcnow()
        payload = []
        for c in codings:
            if c.segment_id not in spans:
                raise StoreError(f"segment {c.segment_id} is not in project {self.name!r}")
            if c.origin not in ORIGINS or c.status not in STATUSES:
                raise StoreError(f"coding of {c.code_id!r} has origin {c.origin!r} / status {c.status!r}",
                                 fix=f"use an origin of {ORIGINS} and a status of {STATUSES}")
            seg_start, seg_end = spans[c.segment_id]
            start = seg_start if c.start is None else c.start
            end = seg_end if c.end is None else c.end
            if not seg_start <= start < end <= seg_end:
                raise StoreError(f"span {start}:{end} lies outside segment {c.segment_id} ({seg_start}:{seg_end})")
            human = c.status != "suggested"
            payload.append({
                "project_id": self.project_id, "segment_id": c.segment_id, "code_id": c.code_id,
                "codebook_version": c.codebook_version, "coder": c.coder or user or "qualkit", "origin": c.origin,
                "status": c.status, "score": c.score, "start": start, "end": end,
                "evidence": [list(e) for e in c.evidence], "rationale": c.rationale,
                "decided_by": c.decided_by or (user if human else None), "decided_at": now if human else None,
                "parent_id": c.parent_id, "guid": c.guid or new_guid(), "created_at": now, "updated_at": now,
                "version": 1,
            })
        ids: list[int] = []
        for chunk in _chunks(payload):
            ids.extend(session.scalars(insert(CodingRow).returning(CodingRow.id), list(chunk)))
        for coding, coding_id in zip(codings, ids, strict=True):
            coding.id = coding_id
            coding.version = 1
        if len(ids) <= 20:
            for n, (coding_id, p) in enumerate(zip(ids, payload, strict=True)):
                self.log(session, user, action, "coding", coding_id,  # details once per insert, on the first
                         new={**{k: p[k] for k in ("segment_id", "code_id", "status", "origin", "coder", "start",
                                                   "end")}, **((details or {}) if n == 0 else {})})
        else:
            self.log(session, user, action, "coding", None,
                     new={"count": len(ids), "first_id": ids[0], "last_id": ids[-1],
                          "origins": sorted({p["origin"] for p in payload}), **(details or {})})
        return ids

    def replace_suggestions(
        self, codings: Sequence[Coding], *, segment_ids: Iterable[int], user: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> list[int]:
        """Refresh the machine suggestions still awaiting review on ``segment_ids`` to be ``codings``.

        A suggestion whose (segment, code) is proposed again keeps its row (id, version): only its
        score, evidence, rationale, origin, coder and codebook version are refreshed. Such a machine
        rescore does not bump ``version``, because a reviewer's decision on that (segment, code) stays
        valid; the version guards human decisions only (a changed span does bump it, since the
        reviewer would accept something else than they saw). Suggestions no longer proposed are
        deleted, new ones inserted; a (segment, code) a human already decided is not suggested again.
        Rows with a human origin or a decision are never touched, even if someone decides one while
        this runs. One transaction; ``rescore``, ``replace`` (removed ids) and ``suggest`` events;
        ``details`` (e.g. the machine coder's settings) go into the ``suggest`` event, or the
        ``rescore`` event when nothing is new. Returns the row ids of the stored suggestions, in order.

        Example:
            >>> from qualkit.model import Source, Segment
            >>> store = Store.create("sqlite://", name="r")
            >>> src = Source(name="g.txt", text="Ann: tired.", format="txt")
            >>> src.segments = [Segment("g.txt", 5, 11, "tired.", speaker="Ann")]
            >>> _ = store.add_source(src)
            >>> seg = src.segments[0].id
            >>> first = store.replace_suggestions([Coding(seg, "tired", "rules", score=0.5)], segment_ids=[seg])
            >>> again = store.replace_suggestions([Coding(seg, "tired", "rules", score=0.9)], segment_ids=[seg])
            >>> again == first, store.coding(first[0]).score, store.coding(first[0]).version
            (True, 0.9, 1)
        """
        seg_ids = sorted(set(segment_ids))
        table = CodingRow.__table__
        with self.transaction() as session:
            pending: dict[tuple[int, str], Any] = {}
            duplicates: list[int] = []
            for chunk in _chunks(seg_ids):
                rows = session.execute(select(
                    CodingRow.id, CodingRow.segment_id, CodingRow.code_id, CodingRow.start, CodingRow.end,
                    CodingRow.version).where(
                    CodingRow.project_id == self.project_id, CodingRow.segment_id.in_(list(chunk)),
                    CodingRow.status == "suggested", CodingRow.origin != "human").order_by(CodingRow.id)).all()
                for row in rows:
                    key = (int(row.segment_id), row.code_id)
                    if key in pending:
                        duplicates.append(int(row.id))  # an older duplicate: the first row stays
                    else:
                        pending[key] = row
            decided: set[tuple[int, str]] = set()
            for chunk in _chunks(seg_ids):
                decided.update((int(a), b) for a, b in session.execute(select(CodingRow.segment_id, CodingRow.code_id)
                               .where(CodingRow.project_id == self.project_id, CodingRow.segment_id.in_(list(chunk)),
                                      (CodingRow.status != "suggested") | (CodingRow.origin == "human"))))
            codings = [c for c in codings if (int(c.segment_id), c.code_id) not in decided]
            wanted = {(int(c.segment_id), c.code_id) for c in codings}
            gone = [int(r.id) for key, r in pending.items() if key not in wanted] + duplicates
            new: list[Coding] = []
            rescored: list[dict[str, Any]] = []
            moved: list[dict[str, Any]] = []
            now = utcnow()
            for coding in codings:
                row = pending.get((int(coding.segment_id), coding.code_id))
                if row is None:
                    new.append(coding)
                    continue
                values = {"_id": int(row.id), "score": coding.score, "evidence": [list(e) for e in coding.evidence],
                          "rationale": coding.rationale, "origin": coding.origin, "coder": coding.coder or user or "qualkit",
                          "codebook_version": coding.codebook_version, "updated_at": now}
                start = row.start if coding.start is None else coding.start
                end = row.end if coding.end is None else coding.end
                coding.id, coding.version = int(row.id), int(row.version)
                if (start, end) != (row.start, row.end):
                    moved.append({**values, "start": start, "end": end, "version": int(row.version) + 1,
                                  "_version": int(row.version)})
                    coding.version = int(row.version) + 1
                else:
                    rescored.append(values)
            only_pending = (table.c.status == "suggested") & (table.c.origin != "human")
            if rescored:
                statement = (update(table).where(table.c.id == bindparam("_id"), only_pending)
                             .values({k: bindparam(f"_{k}") for k in rescored[0] if k != "_id"}))
                session.execute(statement, [_bind_names(v) for v in rescored])
            if moved:
                spans = self._segment_spans(session, [c.segment_id for c in codings if c.id in {m["_id"] for m in moved}])
                for m, coding in ((m, c) for m in moved for c in codings if c.id == m["_id"]):
                    seg_start, seg_end = spans[coding.segment_id]
                    if not seg_start <= m["start"] < m["end"] <= seg_end:
                        raise StoreError(f"span {m['start']}:{m['end']} lies outside segment {coding.segment_id} "
                                         f"({seg_start}:{seg_end})")
                statement = (update(table).where(table.c.id == bindparam("_id"), table.c.version == bindparam("_version"),
                                                 only_pending)
                             .values({k: bindparam(f"_{k}") for k in moved[0] if k not in ("_id", "_version")}))
                session.execute(statement, [_bind_names(v) for v in moved])
            removed = 0
            for chunk in _chunks(gone):
                result = session.execute(delete(CodingRow).where(
                    CodingRow.project_id == self.project_id, CodingRow.id.in_(list(chunk)),
                    CodingRow.status == "suggested", CodingRow.origin != "human"))
                removed += result.rowcount or 0
            if rescored or moved:
                self.log(session, user, "rescore", "coding", None,
                         new={"count": len(rescored) + len(moved), "span_changed": len(moved),
                              **((details or {}) if not new else {})})
            if removed:
                self.log(session, user, "replace", "coding", None,
                         old={"suggestions_removed": removed, "segments": len(seg_ids),
                              "ids": sorted(gone)[:_LOGGED_IDS], "more_ids": max(0, len(gone) - _LOGGED_IDS)})
            if new:
                self._insert_codings(session, new, user, "suggest", details=details)
            return [int(c.id) for c in codings]

    def _segment_spans(self, session: Session, segment_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
        spans: dict[int, tuple[int, int]] = {}
        for chunk in _chunks(sorted(set(segment_ids))):
            spans.update({r.id: (r.start, r.end) for r in session.execute(
                select(SegmentRow.id, SegmentRow.start, SegmentRow.end).where(
                    SegmentRow.project_id == self.project_id, SegmentRow.id.in_(list(chunk))))})
        return spans

    def coding(self, coding_id: int) -> Coding:
        """Load one coding."""
        with self._sessions() as session:
            row = session.get(CodingRow, coding_id)
            if row is None or row.project_id != self.project_id:
                raise StoreError(f"no coding {coding_id} in project {self.name!r}")
            return _coding_from_row(row)

    def codings_df(
        self,
        *,
        status: str | Sequence[str] | None = None,
        origin: str | Sequence[str] | None = None,
        coder: str | Sequence[str] | None = None,
        code_id: str | Sequence[str] | None = None,
        source: str | int | None = None,
        segment_ids: Sequence[int] | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> pd.DataFrame:
        """Codings joined with their segment's source, speaker and text, filtered and paginated."""
        query = (
            select(CodingRow, SourceRow.name, SourceRow.id.label("sid"), SegmentRow.speaker, SegmentRow.role,
                   SegmentRow.turn, SegmentRow.start.label("seg_start"), SegmentRow.end.label("seg_end"),
                   SegmentRow.text)
            .join(SegmentRow, SegmentRow.id == CodingRow.segment_id)
            .join(SourceRow, SourceRow.id == SegmentRow.source_id)
            .where(CodingRow.project_id == self.project_id)
        )
        for column, value in ((CodingRow.status, status), (CodingRow.origin, origin), (CodingRow.coder, coder),
                              (CodingRow.code_id, code_id)):
            if value is not None:
                query = query.where(column.in_([value] if isinstance(value, str) else list(value)))
        if source is not None:
            query = query.where((SourceRow.id if isinstance(source, int) else SourceRow.name) == source)
        if segment_ids is not None:
            query = query.where(CodingRow.segment_id.in_(list(segment_ids)))
        query = query.order_by(CodingRow.id).offset(offset)
        if limit is not None:
            query = query.limit(limit)
        with self._sessions() as session:
            rows = session.execute(query).all()
        records = []
        for r in rows:
            c = r[0]
            records.append((c.id, c.segment_id, c.code_id, c.codebook_version, c.coder, c.origin, c.status, c.score,
                            c.start, c.end, c.evidence, c.rationale, c.decided_by, c.decided_at, c.parent_id, c.guid,
                            c.created_at, c.updated_at, c.version, r.name, r.sid, r.speaker, r.role, r.turn,
                            r.seg_start, r.seg_end, r.text))
        return pd.DataFrame.from_records(records, columns=CODING_COLUMNS)

    def update_coding(
        self,
        coding_id: int,
        *,
        user: str | None,
        expected_version: int | None = None,
        action: str = "update",
        **changes: Any,
    ) -> Coding:
        """Change a coding if nobody else changed it since ``expected_version`` (default: the current one).

        Allowed changes: ``status``, ``code_id``, ``start``, ``end``, ``score``, ``rationale``. A status
        change records ``decided_by``/``decided_at``. On a version mismatch nothing is written but a
        ``conflict`` event, and :class:`ConflictError` carries the current values.
        """
        with self.checked_transaction() as session:
            return self.update_coding_in(session, coding_id, user=user, expected_version=expected_version,
                                         action=action, **changes)

    @contextmanager
    def checked_transaction(self) -> Iterator[Session]:
        """A transaction for version-checked writes: a stale version rolls back everything, logs, and raises.

        Inside it, :meth:`update_coding_in` raises on a version mismatch; then nothing of the
        transaction is kept, the failed attempt is logged as a ``conflict`` event in its own
        transaction, and :class:`ConflictError` (with the current values) reaches the caller.

        Example:
            >>> store = Store.create("sqlite://")
            >>> with store.checked_transaction() as session:
            ...     store.log(session, "ana", "note", "project", store.project_id)
        """
        try:
            with self.transaction() as session:
                yield session
        except _StaleVersion as stale:
            with self.transaction() as session:
                self.log(session, stale.user, stale.action, "coding", stale.coding_id,
                         old={"expected_version": stale.expected}, new=stale.changes, outcome="conflict")
            raise ConflictError(stale.message, current=stale.current) from None

    def update_coding_in(
        self, session: Session, coding_id: int, *, user: str | None, expected_version: int | None = None,
        action: str = "update", **changes: Any,
    ) -> Coding:
        """:meth:`update_coding` inside the caller's :meth:`checked_transaction` (for multi-step decisions)."""
        allowed = {"status", "code_id", "start", "end", "score", "rationale"}
        unknown = set(changes) - allowed
        if unknown:
            raise StoreError(f"cannot change {sorted(unknown)} of a coding", fix=f"change only {sorted(allowed)}")
        if "status" in changes and changes["status"] not in STATUSES:
            raise StoreError(f"unknown status {changes['status']!r}", fix=f"use one of {STATUSES}")
        row = session.get(CodingRow, coding_id)
        if row is None or row.project_id != self.project_id:
            raise StoreError(f"no coding {coding_id} in project {self.name!r}")
        current = _coding_dict(row)
        version = current["version"] if expected_version is None else expected_version
        if "start" in changes or "end" in changes:
            seg = session.get(SegmentRow, row.segment_id)
            start, end = changes.get("start", row.start), changes.get("end", row.end)
            if not seg.start <= start < end <= seg.end:
                raise StoreError(f"span {start}:{end} lies outside segment {seg.id} ({seg.start}:{seg.end})")
        values = dict(changes, updated_at=utcnow(), version=version + 1)
        if "status" in changes:
            values.update(decided_by=user, decided_at=utcnow())
        result = session.execute(
            update(CodingRow).where(CodingRow.id == coding_id, CodingRow.version == version).values(**values)
            .execution_options(synchronize_session=False))
        if result.rowcount != 1:
            session.expire(row)
            current = _coding_dict(session.get(CodingRow, coding_id))
            who = current.get("decided_by") or "someone else"
            raise _StaleVersion(
                f"coding {coding_id} was changed by {who} (now {current['code_id']}, {current['status']}, "
                f"version {current['version']}) after you loaded version {version}; your change was not saved",
                current=current, user=user, action=action, coding_id=coding_id, expected=version,
                changes=dict(changes))
        self.log(session, user, action, "coding", coding_id,
                 old={k: current[k] for k in changes} | {"version": version}, new=dict(changes, version=version + 1))
        session.expire(row)
        return _coding_from_row(session.get(CodingRow, coding_id))

    def decide(
        self,
        coding_id: int,
        decision: str,
        *,
        user: str,
        expected_version: int | None = None,
        code_id: str | None = None,
        start: int | None = None,
        end: int | None = None,
    ) -> Coding:
        """Record a reviewer's decision on a coding: ``accept``, ``reject``, ``change`` (to ``code_id``) or ``span``.

        ``change`` rejects the original and adds an accepted human coding with the new code that points
        back to it (``parent_id``), so both the suggestion and the correction stay on record. Both
        happen in one transaction: a bad span or a conflict leaves the suggestion as it was.
        """
        if decision == "accept":
            return self.update_coding(coding_id, user=user, expected_version=expected_version, action="accept",
                                      status="accepted")
        if decision == "reject":
            return self.update_coding(coding_id, user=user, expected_version=expected_version, action="reject",
                                      status="rejected")
        if decision == "span":
            changes = {k: v for k, v in (("start", start), ("end", end)) if v is not None}
            return self.update_coding(coding_id, user=user, expected_version=expected_version, action="adjust",
                                      **changes)
        if decision == "change":
            if not code_id:
                raise StoreError("a change needs the new code_id")
            with self.checked_transaction() as session:
                old = self.update_coding_in(session, coding_id, user=user, expected_version=expected_version,
                                            action="change", status="rejected")
                new = Coding(segment_id=old.segment_id, code_id=code_id, origin="human", status="accepted",
                             coder=user, start=start if start is not None else old.start,
                             end=end if end is not None else old.end, codebook_version=old.codebook_version,
                             decided_by=user, parent_id=old.id, rationale=f"changed from {old.code_id}")
                self._insert_codings(session, [new], user, "change")
                return new
        raise StoreError(f"unknown decision {decision!r}", fix="use accept, reject, change or span")

    # ------------------------------------------------------------------ memos
    def add_memo(self, memo: Memo, *, user: str | None = None) -> int:
        """Store a memo on a segment, source or code."""
        with self.transaction() as session:
            row = MemoRow(project_id=self.project_id, segment_id=memo.segment_id, source_id=memo.source_id,
                          code_id=memo.code_id, text=memo.text, author=memo.author or user,
                          guid=memo.guid or new_guid())
            session.add(row)
            session.flush()
            self.log(session, user, "create", "memo", row.id,
                     new={"text": memo.text, "segment_id": memo.segment_id, "code_id": memo.code_id})
            memo.id = row.id
            return row.id

    def update_memo(self, memo_id: int, text: str, *, user: str | None, expected_version: int) -> None:
        """Change a memo's text if nobody else changed it since ``expected_version``."""
        with self.transaction() as session:
            row = session.get(MemoRow, memo_id)
            if row is None or row.project_id != self.project_id:
                raise StoreError(f"no memo {memo_id}")
            old_text = row.text
            result = session.execute(update(MemoRow).where(MemoRow.id == memo_id, MemoRow.version == expected_version)
                                     .values(text=text, version=expected_version + 1, updated_at=utcnow())
                                     .execution_options(synchronize_session=False))
            if result.rowcount == 1:
                self.log(session, user, "update", "memo", memo_id, old={"text": old_text}, new={"text": text})
                return
        with self.transaction() as session:
            row = session.get(MemoRow, memo_id)
            self.log(session, user, "update", "memo", memo_id, new={"text": text}, outcome="conflict")
            current = {"text": row.text, "version": row.version, "author": row.author}
        raise ConflictError(f"memo {memo_id} was changed by someone else; your text was not saved", current=current)

    def memos_df(self) -> pd.DataFrame:
        """All memos of the project."""
        with self._sessions() as session:
            rows = session.scalars(select(MemoRow).where(MemoRow.project_id == self.project_id)
                                   .order_by(MemoRow.id)).all()
        columns = ["id", "segment_id", "source_id", "code_id", "text", "author", "guid", "created_at", "updated_at",
                   "version"]
        return pd.DataFrame([[getattr(r, c) for c in columns] for r in rows], columns=columns)


class _StaleVersion(Exception):
    """Raised inside :meth:`Store.checked_transaction` when a version check fails (never escapes it)."""

    def __init__(self, message: str, *, current: dict[str, Any], user: str | None, action: str, coding_id: int,
                 expected: int, changes: dict[str, Any]) -> None:
        super().__init__(message)
        self.message, self.current, self.user, self.action = message, current, user, action
        self.coding_id, self.expected, self.changes = coding_id, expected, changes


def _coding_from_row(row: CodingRow) -> Coding:
    return Coding(segment_id=row.segment_id, code_id=row.code_id, origin=row.origin, status=row.status,
                  score=row.score, coder=row.coder, start=row.start, end=row.end,
                  evidence=[tuple(e) for e in (row.evidence or [])], rationale=row.rationale,
                  codebook_version=row.codebook_version, decided_by=row.decided_by, parent_id=row.parent_id,
                  guid=row.guid, id=row.id, version=row.version)


def _session_matches(session_value: str, source_name: str | None, source_meta: dict[str, Any] | None) -> bool:
    """True when a participant's session (e.g. ``fg1``) names this source (``fg1_residents.txt``)."""
    if not session_value or not source_name:
        return False
    if source_meta and str(source_meta.get("session", "")) == session_value:
        return True
    stem = Path(source_name).stem.lower()
    return re.match(rf"{re.escape(session_value.lower())}(?![a-z0-9])", stem) is not None


def _jsonable(value: Any) -> Any:
    """Make numpy scalars, tuples and sets JSON-safe for JSON columns."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)
