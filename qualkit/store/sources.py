"""Sources (transcripts) and their segments: store a source with its segments, load, list and remove them.

A source is stored with all its segments in one transaction; each segment's text must be exactly its
span of the source text (offsets are Unicode code points). Speakers are linked to participants by label,
pseudonym or alias.

Example:
    >>> from qualkit.model import Source, Segment
    >>> from qualkit.store.repository import Store
    >>> store = Store.create("sqlite://", name="demo")
    >>> src = Source(name="g1.txt", text="Ann: I am tired.\\n", format="txt")
    >>> src.segments = [Segment("g1.txt", 5, 16, "I am tired.", speaker="Ann")]
    >>> source_id = store.add_source(src, user="ana")
    >>> store.segments_df()["text"].tolist()
    ['I am tired.']
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from qualkit.errors import StoreError, did_you_mean
from qualkit.model import ImportReport, Mark, Participant, Segment, Source, new_guid
from qualkit.store.base import StoreBase
from qualkit.store.participants import participant_lookup
from qualkit.store.rows import SEGMENT_COLUMNS, chunks, jsonable
from qualkit.store.schema import CodingRow, MemoRow, ParticipantRow, SegmentRow, SourceRow


class SourcesMixin(StoreBase):
    """Sources and segments (a part of :class:`~qualkit.store.repository.Store`)."""

    def add_source(self, source: Source, *, user: str | None = None, participants: Iterable[Any] = ()) -> int:
        """Store a source with all its segments in one transaction; a name already used is an error.

        Segments get their database ids written back (``segment.id``). Speakers are linked to
        participants by label or alias. ``participants`` (a roster read with the file) are added or
        updated in the same transaction, so a source that cannot be stored changes none of them.
        """
        try:
            with self.transaction() as session:
                if participants:
                    self.upsert_participants_in(session, participants, user=user)
                return self.add_source_in(session, source, user=user)
        except IntegrityError as exc:
            raise StoreError(f"a source named {source.name!r} is already in project {self.name!r}",
                             fix="rename the file or remove the existing source first") from exc

    def add_source_in(self, session: Session, source: Source, *, user: str | None = None) -> int:
        """:meth:`add_source` inside the caller's transaction (an import that also writes other tables)."""
        for seg in source.segments:
            if source.text[seg.start:seg.end] != seg.text:
                raise StoreError(f"segment {seg.start}:{seg.end} of {source.name} does not match the source text",
                                 fix="this is a reader bug; please report it with the file")
        report = dataclasses.asdict(source.import_report) if source.import_report else {}
        row = SourceRow(
            project_id=self.project_id, guid=source.guid or new_guid(), name=source.name, format=source.format,
            encoding=source.encoding, sha256=source.sha256, raw=source.raw, text=source.text,
            meta=jsonable(source.metadata) or {}, report=jsonable(report) or {}, imported_by=user,
        )
        session.add(row)
        session.flush()
        lookup = participant_lookup(session, self.project_id, source.name, source.metadata)
        named = {seg.participant for seg in source.segments if seg.participant} - set(lookup)
        if named:  # a survey's respondent ids: each gets a participant row, or they were lost at import
            known = set()
            for person in session.scalars(select(ParticipantRow).where(ParticipantRow.project_id == self.project_id)):
                known.update({person.label, person.pseudonym, *(person.aliases or [])})
            new = sorted(named - known)  # a name some participant already carries is left to the lookup's rules
            if new:  # no session: a respondent id names one person in every file (unlike a speaker's "A")
                self.upsert_participants_in(session, [Participant(label) for label in new], user=user)
                lookup = participant_lookup(session, self.project_id, source.name, source.metadata)
        people = {person.label: person.attributes or {} for person in session.scalars(
            select(ParticipantRow).where(ParticipantRow.project_id == self.project_id))}
        payload = []
        for seq, seg in enumerate(source.segments):
            participant_id = lookup.get(seg.participant or "") or lookup.get(seg.speaker or "")
            attributes = jsonable(seg.attributes) or {}
            if seg.participant in people:
                # The import copied its participant's attributes in; they are read through the link at query
                # time instead, so a segment the lookup did not link (another session's "P1") gets none, and a
                # later change to the participants (a grade corrected, a column removed) reaches every segment.
                held = people[seg.participant]
                attributes = {k: v for k, v in attributes.items() if k not in held or held[k] != v}
            payload.append({
                "project_id": self.project_id, "source_id": row.id, "start": seg.start, "end": seg.end,
                "text": seg.text, "speaker": seg.speaker, "participant_id": participant_id, "role": seg.role,
                "kind": seg.kind, "turn": seg.turn, "seq": seq, "time_start": seg.time_start,
                "time_end": seg.time_end, "marks": [[m.start, m.end, m.kind] for m in seg.marks],
                "attributes": attributes,
            })
        ids: list[int] = []
        for chunk in chunks(payload):
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
                return [self.add_source_in(session, source, user=user) for source in sources]
        except IntegrityError as exc:
            raise StoreError("a source in this batch is already in the project; nothing was imported",
                             fix="remove or rename the duplicate") from exc

    def remove_source(self, source: str | int, *, user: str | None = None) -> None:
        """Delete a source with its segments and codings; refused when people decided on it or wrote memos on it."""
        with self.transaction() as session:
            row = self._source_row(session, source)
            decided = session.scalar(
                select(func.count()).select_from(CodingRow).join(SegmentRow, CodingRow.segment_id == SegmentRow.id)
                .where(SegmentRow.source_id == row.id, CodingRow.status != "suggested"))
            memos = session.scalar(
                select(func.count()).select_from(MemoRow).outerjoin(SegmentRow, MemoRow.segment_id == SegmentRow.id)
                .where(MemoRow.project_id == self.project_id, MemoRow.withdrawn_at.is_(None),
                       (MemoRow.source_id == row.id) | (SegmentRow.source_id == row.id)))
            if decided or memos:
                held = " and ".join(part for part in (
                    f"{decided} decisions by people (accepted, rejected or coded by hand)" if decided else "",
                    f"{memos} memos" if memos else "") if part)
                steps = " and ".join(step for step, needed in (
                    ("revert those decisions first (History)", decided),
                    ("move the memos' words elsewhere (or delete the memos)", memos)) if needed)
                raise StoreError(f"{row.name} has {held}; it is not removed, so that they are not lost with it",
                                 fix=f"{steps}, or keep the transcript")
            self.log(session, user, "delete", "source", row.id, old={"name": row.name, "sha256": row.sha256})
            session.delete(row)

    def _source_row(self, session: Session, source: str | int) -> SourceRow:
        column = SourceRow.id if isinstance(source, int) else SourceRow.name
        row = session.scalar(select(SourceRow).where(SourceRow.project_id == self.project_id, column == source))
        if row is None:
            names = list(session.scalars(select(SourceRow.name).where(SourceRow.project_id == self.project_id)))
            listed = ", ".join(sorted(names)[:12]) + (", …" if len(names) > 12 else "")
            raise StoreError(f"no source {source!r} in project {self.name!r}",
                             fix=f"{did_you_mean(source, names)}use a transcript's name as it was imported "
                                 f"({listed or 'none imported yet'})")
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
        with self.session() as session:
            rows = session.execute(query).mappings().all()
        return pd.DataFrame(rows, columns=["id", "guid", "name", "format", "encoding", "sha256", "imported_by",
                                           "imported_at", "segments", "characters"])

    def source_texts(self) -> dict[str, str]:
        """Every source's name and canonical text (to recognise a file imported before under other bytes).

        Example:
            >>> from qualkit.store.repository import Store
            >>> Store.create("sqlite://").source_texts()
            {}
        """
        with self.session() as session:
            rows = session.execute(select(SourceRow.name, SourceRow.text).where(
                SourceRow.project_id == self.project_id).order_by(SourceRow.id)).all()
        return {str(name): str(text or "") for name, text in rows}

    def source(self, source: str | int, *, with_raw: bool = True) -> Source:
        """Load one source with its segments (and original bytes unless ``with_raw=False``)."""
        with self.session() as session:
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
        """Load segments as :class:`Segment` objects in source order (with their linked participant's attributes)."""
        query = (
            select(SegmentRow, SourceRow.name, ParticipantRow.label, ParticipantRow.attributes)
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
        session = session or self.session()
        try:
            rows = session.execute(query).all()
        finally:
            if own:
                session.close()
        return [
            Segment(source=name, start=r.start, end=r.end, text=r.text, speaker=r.speaker, role=r.role,
                    kind=r.kind, turn=r.turn, time_start=r.time_start, time_end=r.time_end,
                    marks=[Mark(*m) for m in (r.marks or [])], attributes={**(r.attributes or {}), **(held or {})},
                    participant=label, id=r.id)
            for r, name, label, held in rows
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
            # coalesce: a segment of no role is a participant's here, and NULL != 'moderator' would drop it
            query = query.where(func.coalesce(SegmentRow.role, "") != "moderator",
                                SegmentRow.kind.notin_(["unattributed", "legend"]))
        with self.session() as session:
            rows = session.execute(query).mappings().all()
        frame = pd.DataFrame(rows, columns=[*SEGMENT_COLUMNS, "attributes", "participant_attributes"])
        extra = [{**(a or {}), **(p or {})} for a, p in zip(frame.pop("attributes"),
                                                            frame.pop("participant_attributes"), strict=True)]
        if attributes and any(extra):
            attrs = pd.DataFrame(extra, index=frame.index)
            attrs = attrs[[c for c in attrs.columns if c not in frame.columns]]
            frame = pd.concat([frame, attrs], axis=1)
        return frame


def segment_source_ids(store: StoreBase, segment_ids: Sequence[int]) -> dict[int, int]:
    """Map segment ids to their source ids.

    Example:
        >>> from qualkit.store.repository import Store
        >>> segment_source_ids(Store.create("sqlite://", name="m"), [1])
        {}
    """
    if not segment_ids:
        return {}
    with Session(store.engine) as session:
        rows = session.execute(select(SegmentRow.id, SegmentRow.source_id).where(
            SegmentRow.project_id == store.project_id, SegmentRow.id.in_(list(segment_ids)))).all()
    return {int(a): int(b) for a, b in rows}


__all__ = ["SourcesMixin", "segment_source_ids"]
