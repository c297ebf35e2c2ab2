"""Codings: insert them, refresh machine suggestions, read them, and change them with a row-version check.

A coding's span is absolute offsets into its source text and must lie inside its segment. Updates check
the row ``version`` the caller read: a change someone else made meanwhile is never overwritten (the
caller gets :class:`~qualkit.errors.ConflictError` with the current values, and the attempt is logged).

Example:
    >>> from qualkit.model import Source, Segment
    >>> from qualkit.store.repository import Store
    >>> store = Store.create("sqlite://")
    >>> src = Source(name="g.txt", text="Ann: tired.", format="txt")
    >>> src.segments = [Segment("g.txt", 5, 11, "tired.", speaker="Ann")]
    >>> _ = store.add_source(src)
    >>> [cid] = store.add_codings([Coding(src.segments[0].id, "tired", "rules", score=0.8)], user="auto")
    >>> store.decide(cid, "accept", user="ana").status
    'accepted'
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd
from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from qualkit.errors import StoreError, SuggestionWithdrawn
from qualkit.model import ORIGINS, STATUSES, Coding, new_guid, withdrawn_by_author
from qualkit.store.base import StaleVersion, StoreBase, check_span, no_coding
from qualkit.store.rows import (
    bind_names,
    changed_by,
    chunks,
    coding_frame,
    coding_from_row,
    coding_record,
    coding_values,
    joined_codings,
)
from qualkit.store.schema import CodingRow, EventRow, SegmentRow, SourceRow, utcnow

LOGGED_IDS = 500
"""Removed suggestion ids named in one event (the count is always exact)."""


INSERTS = ("add", "suggest")
"""The event actions that store a new coding row (per-row events of every other action are a person's)."""



def withdrawn_log(ids: Sequence[int], what: dict[int, tuple[int, str]]) -> list[dict[str, Any]]:
    """What the log keeps of withdrawn suggestions: id, segment and code of the first :data:`LOGGED_IDS`.

    The rows are deleted, so without the segment and code nobody could tell later what was withdrawn.

    Example:
        >>> withdrawn_log([7], {7: (3, "workload")})
        [{'id': 7, 'segment_id': 3, 'code_id': 'workload'}]
    """
    return [{"id": int(i), "segment_id": what[i][0], "code_id": what[i][1]} for i in ids[:LOGGED_IDS] if i in what]

class CodingsMixin(StoreBase):
    """Codings (a part of :class:`~qualkit.store.repository.Store`)."""

    def add_codings(self, codings: Sequence[Coding], *, user: str | None = None, action: str = "add") -> list[int]:
        """Insert codings in one transaction (spans default to the whole segment); ids and spans are written back."""
        if not codings:
            return []
        with self.transaction() as session:
            return self.insert_codings_in(session, codings, user=user, action=action)

    def insert_codings_in(self, session: Session, codings: Sequence[Coding], *, user: str | None = None,
                          action: str = "add", details: dict[str, Any] | None = None) -> list[int]:
        """:meth:`add_codings` inside the caller's transaction (for writes that also change other tables).

        ``details`` (e.g. the machine coder's settings) go into the event of the insert.
        """
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
            check_span(start, end, c.segment_id, seg_start, seg_end)
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
        for chunk in chunks(payload):
            ids.extend(session.scalars(insert(CodingRow).returning(CodingRow.id), list(chunk)))
        for coding, coding_id, values in zip(codings, ids, payload, strict=True):
            coding.id, coding.version = coding_id, 1
            coding.start, coding.end = values["start"], values["end"]  # a whole-segment span, as stored
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
        reviewer would accept something else than they saw). A pending suggestion missing from ``codings``
        is deleted, so the caller lists every one whose basis stands, whatever its new score: autocode
        passes each pending (segment, code) it scored, even below the threshold, and leaves out only those
        whose code it no longer codes (the code left the codebook). One a person acted on is never deleted
        (an undone decision put it back in the queue on purpose, an adjusted span keeps it there). New ones
        are inserted; a (segment, code) a human already decided is not suggested again (its pending one goes).
        Rows with a human origin or a decision are never touched, even if someone decides one while
        this runs. One transaction; ``rescore``, ``replace`` (removed ids) and ``suggest`` events;
        ``details`` (e.g. the machine coder's settings) go into the ``suggest`` event, or the
        ``rescore`` event when nothing is new. Returns the row ids of the stored suggestions, in order.

        Example:
            >>> from qualkit.store.repository import Store
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
            what: dict[int, tuple[int, str]] = {}  # suggestion id -> (segment, code), for the log of withdrawals
            duplicates: list[int] = []
            for chunk in chunks(seg_ids):
                rows = session.execute(select(
                    CodingRow.id, CodingRow.segment_id, CodingRow.code_id, CodingRow.start, CodingRow.end,
                    CodingRow.version).where(
                    CodingRow.project_id == self.project_id, CodingRow.segment_id.in_(list(chunk)),
                    CodingRow.status == "suggested", CodingRow.origin != "human").order_by(CodingRow.id)).all()
                for row in rows:
                    key = (int(row.segment_id), row.code_id)
                    what[int(row.id)] = key
                    if key in pending:
                        duplicates.append(int(row.id))  # an older duplicate: the first row stays
                    else:
                        pending[key] = row
            decided: set[tuple[int, str]] = set()
            for chunk in chunks(seg_ids):
                rows = pd.DataFrame(session.execute(select(
                    CodingRow.id, CodingRow.segment_id, CodingRow.code_id, CodingRow.status, CodingRow.origin,
                    CodingRow.coder, CodingRow.decided_by, CodingRow.parent_id).where(
                    CodingRow.project_id == self.project_id, CodingRow.segment_id.in_(list(chunk)))).all(),
                    columns=["id", "segment_id", "code_id", "status", "origin", "coder", "decided_by", "parent_id"])
                # A hand code its coder took back decided nothing: the suggestion it had replaced comes back.
                rows = rows.loc[((rows["status"] != "suggested") | (rows["origin"] == "human"))
                                & ~withdrawn_by_author(rows)]
                decided.update((int(a), b) for a, b in zip(rows["segment_id"], rows["code_id"], strict=True))
            codings = [c for c in codings if (int(c.segment_id), c.code_id) not in decided]
            wanted = {(int(c.segment_id), c.code_id) for c in codings}
            gone = [int(r.id) for key, r in pending.items() if key not in wanted] + duplicates
            kept = self._acted_on(session, gone)  # one lookup for all, not one per row
            gone = [i for i in gone if i not in kept]
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
                    # "_seen" (not "_version", which names the new version's SET parameter) guards the update.
                    moved.append({**values, "start": start, "end": end, "version": int(row.version) + 1,
                                  "_seen": int(row.version)})
                    coding.version = int(row.version) + 1
                else:
                    rescored.append(values)
            only_pending = (table.c.status == "suggested") & (table.c.origin != "human")
            if rescored:
                statement = (update(table).where(table.c.id == bindparam("_id"), only_pending)
                             .values({k: bindparam(f"_{k}") for k in rescored[0] if k != "_id"}))
                session.execute(statement, [bind_names(v) for v in rescored])
            if moved:
                spans = self._segment_spans(session, [c.segment_id for c in codings if c.id in {m["_id"] for m in moved}])
                for m, coding in ((m, c) for m in moved for c in codings if c.id == m["_id"]):
                    seg_start, seg_end = spans[coding.segment_id]
                    check_span(m["start"], m["end"], coding.segment_id, seg_start, seg_end)
                statement = (update(table).where(table.c.id == bindparam("_id"), table.c.version == bindparam("_seen"),
                                                 only_pending)
                             .values({k: bindparam(f"_{k}") for k in moved[0] if not k.startswith("_")}))
                session.execute(statement, [bind_names(v) for v in moved])
            removed = 0
            for chunk in chunks(gone):
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
                              "ids": sorted(gone)[:LOGGED_IDS], "more_ids": max(0, len(gone) - LOGGED_IDS),
                              "withdrawn": withdrawn_log(sorted(gone), what)})
            if new:
                self.insert_codings_in(session, new, user=user, action="suggest", details=details)
            return [int(c.id) for c in codings]

    def drop_redundant_suggestions_in(self, session: Session, code_id: str, *, user: str | None,
                                      why: str) -> list[dict[str, Any]]:
        """Withdraw pending machine suggestions of ``code_id`` that a merge made redundant; returns their rows.

        Where a person already decided ``code_id`` on a segment, its suggestions there are withdrawn (a
        merge must not ask again about a pair someone rejected); of several on one segment, the highest
        score stays. A suggestion someone acted on stays, as in :meth:`replace_suggestions`. The rows come
        back whole (:func:`~qualkit.store.rows.coding_record`), so that undoing the merge can put them back.
        """
        rows = session.execute(select(CodingRow.id, CodingRow.segment_id, CodingRow.status, CodingRow.origin,
                                      CodingRow.score).where(CodingRow.project_id == self.project_id,
                                                             CodingRow.code_id == code_id)).all()
        what = {int(r.id): (int(r.segment_id), code_id) for r in rows}
        decided = {r.segment_id for r in rows if r.status != "suggested" or r.origin == "human"}
        best: dict[int, Any] = {}
        gone: list[int] = []
        for row in sorted((r for r in rows if r.status == "suggested" and r.origin != "human"),
                          key=lambda r: (-(r.score or 0.0), r.id)):
            if row.segment_id in decided or row.segment_id in best:
                gone.append(int(row.id))
            else:
                best[row.segment_id] = row
        kept = self._acted_on(session, gone)
        gone = sorted(i for i in gone if i not in kept)
        records: list[dict[str, Any]] = []
        for chunk in chunks(gone):
            records += [coding_record(r) for r in session.scalars(select(CodingRow).where(CodingRow.id.in_(chunk)))]
            session.execute(delete(CodingRow).where(CodingRow.project_id == self.project_id,
                                                    CodingRow.id.in_(list(chunk)), CodingRow.status == "suggested",
                                                    CodingRow.origin != "human"))
        self.log_withdrawn(session, gone, what, user=user, why=why)
        return records

    def log_withdrawn(self, session: Session, gone: Sequence[int], what: dict[int, tuple[int, str]], *,
                      user: str | None, why: str, extra: dict[str, Any] | None = None) -> None:
        """Log suggestions withdrawn for a reason (a merge, a change) as a retrain's are, so a card of one says so.

        ``extra`` goes into the event too (a change keeps the withdrawn rows whole, so that its undo puts them back).
        """
        if gone:
            self.log(session, user, "replace", "coding", None,
                     old={"suggestions_removed": len(gone), "why": why, "ids": list(gone[:LOGGED_IDS]),
                          "more_ids": max(0, len(gone) - LOGGED_IDS), "withdrawn": withdrawn_log(gone, what),
                          **(extra or {})})

    def withdraw_suggestions_in(self, session: Session, *, segment_id: int, code_id: str, span: tuple[int, int],
                                user: str | None, why: str, change_of: int | None = None) -> list[int]:
        """Withdraw the pending machine suggestions of ``code_id`` on exactly ``span`` of a segment; returns their ids.

        Logged as a retrain's withdrawals are (a card of one still on screen says so); one someone acted on stays.
        ``change_of``: the suggestion whose change withdrew them; the event then keeps the rows whole
        (``withdrawn_rows``), so that undoing the change puts them back as they were.
        """
        rows = session.execute(select(CodingRow.id).where(
            CodingRow.project_id == self.project_id, CodingRow.segment_id == segment_id, CodingRow.code_id == code_id,
            CodingRow.status == "suggested", CodingRow.origin != "human", CodingRow.start == span[0],
            CodingRow.end == span[1])).scalars().all()
        kept = self._acted_on(session, rows)
        gone = sorted(int(i) for i in rows if i not in kept)
        extra = None
        if gone and change_of is not None:
            extra = {"change_of": int(change_of), "withdrawn_rows": [coding_record(r) for r in session.scalars(
                select(CodingRow).where(CodingRow.id.in_(gone)).order_by(CodingRow.id))]}
        if gone:
            session.execute(delete(CodingRow).where(CodingRow.project_id == self.project_id, CodingRow.id.in_(gone)))
        self.log_withdrawn(session, gone, {i: (segment_id, code_id) for i in gone}, user=user, why=why, extra=extra)
        return gone

    def _acted_on(self, session: Session, coding_ids: Sequence[int]) -> set[int]:
        """The codings among ``coding_ids`` that someone has acted on since they were stored.

        Such a suggestion is pending only because a person left it so: its span adjusted, or a decision
        undone, which puts it back in the queue on purpose. A refresh must not delete it, nor the history it
        carries (its events name it, and History offers to revert the revert).
        """
        touched: set[int] = set()
        for chunk in chunks(sorted(coding_ids)):
            touched.update(int(i) for i in session.scalars(select(EventRow.entity_id).where(
                EventRow.project_id == self.project_id, EventRow.entity == "coding",
                EventRow.entity_id.in_([str(i) for i in chunk]), EventRow.action.not_in(INSERTS))))
        return touched

    def _segment_spans(self, session: Session, segment_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
        spans: dict[int, tuple[int, int]] = {}
        for chunk in chunks(sorted(set(segment_ids))):
            spans.update({r.id: (r.start, r.end) for r in session.execute(
                select(SegmentRow.id, SegmentRow.start, SegmentRow.end).where(
                    SegmentRow.project_id == self.project_id, SegmentRow.id.in_(list(chunk))))})
        return spans

    def coding(self, coding_id: int) -> Coding:
        """Load one coding."""
        with self.session() as session:
            row = session.get(CodingRow, coding_id)
            if row is not None and row.project_id == self.project_id:
                return coding_from_row(row)
        withdrawn = self._withdrawal(coding_id)
        if withdrawn is not None:  # a card still on someone's screen, or an id listed before a retrain
            at, user, why = withdrawn
            # A person's change or merge withdraws suggestions too; "when it retrained" blamed the machine for it.
            how = f"{user} withdrew it ({why})" if why else "the machine coder withdrew it when it retrained"
            raise SuggestionWithdrawn(f"suggestion {coding_id} is no longer there: {how} ({at:%Y-%m-%d %H:%M}); "
                                      "nobody had decided on it",
                                      fix="list the review queue again: what is still to decide is there")
        raise no_coding(coding_id, self.name)

    def _withdrawal(self, coding_id: int) -> tuple[Any, str, str | None] | None:
        """When, by whom and why the suggestion ``coding_id`` was withdrawn (its row is deleted; the log keeps
        the ids), or None; ``why`` is None for a retrain's refresh."""
        events = self.events_df("coding")
        for row in events.loc[events["action"] == "replace"].itertuples():
            if isinstance(row.old, dict) and coding_id in (row.old.get("ids") or []):
                return row.at, row.user, row.old.get("why")
        return None

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
        query = joined_codings(self.project_id)
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
        with self.session() as session:
            rows = session.execute(query).all()
        return coding_frame(rows)

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
            raise no_coding(coding_id, self.name)
        current = coding_values(row)
        version = current["version"] if expected_version is None else expected_version
        if "start" in changes or "end" in changes:
            seg = session.get(SegmentRow, row.segment_id)
            start, end = changes.get("start", row.start), changes.get("end", row.end)
            check_span(start, end, seg.id, seg.start, seg.end)
        values = dict(changes, updated_at=utcnow(), version=version + 1)
        if "status" in changes:
            values.update(decided_by=user, decided_at=utcnow())
        result = session.execute(
            update(CodingRow).where(CodingRow.id == coding_id, CodingRow.version == version).values(**values)
            .execution_options(synchronize_session=False))
        if result.rowcount != 1:
            session.expire(row)
            current = coding_values(session.get(CodingRow, coding_id))
            who = changed_by(current, user)
            raise StaleVersion(
                f"coding {coding_id} was changed by {who} (now {current['code_id']}, {current['status']}, "
                f"version {current['version']}) after you loaded version {version}; your change was not saved",
                current=current, user=user, action=action, coding_id=coding_id, expected=version,
                changes=dict(changes))
        self.log(session, user, action, "coding", coding_id,
                 old={k: current[k] for k in changes} | {"version": version}, new=dict(changes, version=version + 1))
        session.expire(row)
        return coding_from_row(session.get(CodingRow, coding_id))

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
                self.insert_codings_in(session, [new], user=user, action="change")
                # A suggestion of the new code on these very words stayed in the queue, where accepting it was
                # refused as coded already and the fix said to reject it: a false "no" for the learned coder.
                self.withdraw_suggestions_in(session, segment_id=old.segment_id, code_id=code_id, span=(new.start,
                                             new.end), user=user, why=f"coded the same words by a change ({old.id})",
                                             change_of=old.id)
                return new
        raise StoreError(f"unknown decision {decision!r}", fix="use accept, reject, change or span")


__all__ = ["LOGGED_IDS", "CodingsMixin"]
