"""Participants: add or update them (row-version checked), list them, and link segments to them by speaker.

Example:
    >>> from qualkit.model import Participant
    >>> from qualkit.store.repository import Store
    >>> store = Store.create("sqlite://")
    >>> store.upsert_participants([Participant("P1", attributes={"role": "resident"})], user="ana")
    0
    >>> store.participants_df()["role"].tolist()
    ['resident']
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from qualkit.errors import ConflictError
from qualkit.ingest.participants import session_matches
from qualkit.model import Participant, new_guid
from qualkit.store.base import StaleVersion, StoreBase
from qualkit.store.rows import jsonable
from qualkit.store.schema import ParticipantRow, SegmentRow, SourceRow


def participant_lookup(session: Session, project_id: int, source_name: str | None = None,
                       source_meta: dict[str, Any] | None = None) -> dict[str, int]:
    """Speaker name -> participant row id, for the speakers of one source.

    Labels, pseudonyms and aliases all count as names. Participants whose ``session`` attribute names
    another source are not eligible (the same first name or "Moderator" recurs across sessions); a
    name that still fits several participants stays unlinked rather than guessed. Nor is a speaker linked to a
    participant the import found to be of another session (``source_meta["other_session_participants"]``, label ->
    participant labels): before that session's transcript is imported, nothing here says so.

    Example:
        >>> from qualkit.store.repository import Store
        >>> store = Store.create("sqlite://")
        >>> with store.session() as session:
        ...     participant_lookup(session, store.project_id, "fg1.txt")
        {}
    """
    rows = session.scalars(select(ParticipantRow).where(ParticipantRow.project_id == project_id,
                                                        ParticipantRow.withdrawn_at.is_(None))).all()
    sessions = {r.id: str((r.attributes or {}).get("session") or "") for r in rows}
    here = {value for value in sessions.values() if session_matches(value, source_name, source_meta)}
    others = [(name, meta) for name, meta in session.execute(
        select(SourceRow.name, SourceRow.meta).where(SourceRow.project_id == project_id)) if name != source_name]
    candidates: dict[str, set[int]] = {}
    for row in rows:
        value = sessions[row.id]
        if value and value not in here and (here or any(session_matches(value, n, m) for n, m in others)):
            continue  # someone of another transcript: "A" of one Q/A interview is not "A" of the next
        for name in {row.label, row.pseudonym, *(row.aliases or [])} - {None, ""}:
            candidates.setdefault(name, set()).add(row.id)
    declined = (source_meta or {}).get("other_session_participants") or {}
    label_of = {row.id: row.label for row in rows}
    return {name: next(iter(ids)) for name, ids in candidates.items()
            if len(ids) == 1 and label_of[next(iter(ids))] not in declined.get(name, ())}


class ParticipantsMixin(StoreBase):
    """Participants (a part of :class:`~qualkit.store.repository.Store`)."""

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
        except StaleVersion:  # someone wrote between our read and write: re-read and check again
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
                return self.upsert_participants_in(session, participants, user=user, existing=existing)
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

    def upsert_participants_in(self, session: Session, participants: Iterable[Participant], *,
                               user: str | None = None, existing: dict[str, ParticipantRow] | None = None) -> int:
        """:meth:`upsert_participants` inside the caller's transaction, without version checks (an import).

        Returns the number of segments newly linked to a participant. ``existing`` (label -> row) saves
        a query when the caller has just read the rows.

        Example:
            >>> from qualkit.store.repository import Store
            >>> store = Store.create("sqlite://")
            >>> with store.transaction() as session:
            ...     store.upsert_participants_in(session, [Participant("P1")], user="ana")
            0
        """
        if existing is None:
            existing = {r.label: r for r in session.scalars(
                select(ParticipantRow).where(ParticipantRow.project_id == self.project_id))}
        for p in participants:
            row = existing.get(p.id)
            if row is not None and row.withdrawn_at is not None:
                continue  # withdrew consent: a participants list read again does not bring their attributes back
            new = {"pseudonym": p.pseudonym, "aliases": list(p.aliases), "attributes": jsonable(p.attributes)}
            if row is None:
                row = ParticipantRow(project_id=self.project_id, label=p.id, pseudonym=p.pseudonym,
                                     aliases=list(p.aliases), attributes=new["attributes"], guid=p.guid or new_guid())
                session.add(row)
                existing[p.id] = row
                self.log(session, user, "create", "participant", p.id, new=new)
            else:
                old = {"pseudonym": row.pseudonym, "aliases": row.aliases, "attributes": row.attributes}
                if old != new:
                    result = session.execute(
                        update(ParticipantRow).where(ParticipantRow.id == row.id, ParticipantRow.version == row.version)
                        .values(pseudonym=p.pseudonym, aliases=list(p.aliases), attributes=new["attributes"],
                                version=row.version + 1).execution_options(synchronize_session=False))
                    if result.rowcount != 1:  # changed between our read and this write: start over
                        raise StaleVersion("participant changed", current={}, user=user, action="update",
                                           coding_id=0, expected=row.version, changes={})
                    self.log(session, user, "update", "participant", p.id, old=old, new=new)
        session.flush()
        return self._link_segments(session)

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
                lookups[source_id] = participant_lookup(session, self.project_id, source.name, source.meta)
            if speaker in lookups[source_id]:
                session.execute(update(SegmentRow).where(
                    SegmentRow.source_id == source_id, SegmentRow.speaker == speaker,
                    SegmentRow.participant_id.is_(None)).values(participant_id=lookups[source_id][speaker]))
                linked += count
        return linked

    def participants(self) -> list[Participant]:
        """All participants of the project (not those who withdrew: ``qualkit.store.withdrawal``)."""
        with self.session() as session:
            rows = session.scalars(select(ParticipantRow).where(ParticipantRow.project_id == self.project_id,
                                                                ParticipantRow.withdrawn_at.is_(None))
                                   .order_by(ParticipantRow.id)).all()
        return [Participant(r.label, pseudonym=r.pseudonym, aliases=list(r.aliases or []),
                            attributes=dict(r.attributes or {}), guid=r.guid) for r in rows]

    def participants_df(self) -> pd.DataFrame:
        """Participants with their attributes as columns (plus ``version`` for conflict-checked edits); not the withdrawn."""
        with self.session() as session:
            rows = session.scalars(select(ParticipantRow).where(ParticipantRow.project_id == self.project_id,
                                                                ParticipantRow.withdrawn_at.is_(None))
                                   .order_by(ParticipantRow.id)).all()
        records = [{"participant": r.label, "pseudonym": r.pseudonym, "aliases": list(r.aliases or []),
                    **(r.attributes or {}), "version": r.version} for r in rows]
        return pd.DataFrame(records, columns=None if records else ["participant", "pseudonym", "aliases", "version"])


__all__ = ["ParticipantsMixin", "participant_lookup", "session_matches"]
