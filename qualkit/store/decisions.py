"""Decisions made as a team: bulk accepts, coders' own (blind) judgements, consensus, and moving codings to a code.

These follow the store's rules: every write is one transaction that appends an event naming the user
with the old and new values, and updates of codings check the row ``version`` the caller read.
Permission checks live one layer up, in :mod:`qualkit.review`.

Example:
    >>> from qualkit.store.repository import Store
    >>> bulk_set_status(Store.create("sqlite://", name="k"), [], "accepted", user="ana")
    ([], [])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from qualkit.errors import ConflictError, StoreError
from qualkit.model import CONSENSUS, Codebook, Coding, new_guid
from qualkit.store.base import StaleVersion, check_span, no_coding
from qualkit.store.event_types import checked_action
from qualkit.store.repository import Store
from qualkit.store.rows import changed_by, chunks, coding_from_row, coding_values, row_from_record
from qualkit.store.schema import CodingRow, EventRow, SegmentRow, utcnow

STATE_ACTIONS = ("accept", "reject", "adjust", "change", "bulk-accept", "code", "add", "update", "adjudicate",
                 "revert")
"""Event actions that set a coding's state (what an undo can take back); machine rescoring is not one of them."""

RESTORABLE = ("status", "code_id", "start", "end", "decided_by")
"""The fields of a coding that an undo restores from the event it takes back."""


def recode(store: Store, old_code_ids: Sequence[str], new_code_id: str, *, user: str | None,
           codebook_version: int | None = None) -> int:
    """Move every coding of ``old_code_ids`` to ``new_code_id`` (a merge), one transaction, one event.

    Each row's ``version`` goes up, so a reviewer holding an old copy gets a conflict, not a silent change.

    Example:
        >>> recode(Store.create("sqlite://", name="m"), ["a"], "b", user="ana")
        0
    """
    with store.transaction() as session:
        return recode_in(store, session, old_code_ids, new_code_id, user=user, codebook_version=codebook_version)


def recode_in(store: Store, session: Session, old_code_ids: Sequence[str], new_code_id: str, *, user: str | None,
              codebook_version: int | None = None, merge_version: int | None = None) -> int:
    """:func:`recode` inside the caller's transaction (a merge also saves the codebook in it).

    The event lists every moved coding under its old code (``moved``), so that a merge can be undone;
    ``merge_version`` is the codebook version the merge made.
    """
    rows = session.execute(select(CodingRow.id, CodingRow.code_id).where(
        CodingRow.project_id == store.project_id, CodingRow.code_id.in_(list(old_code_ids)))).all()
    ids = [int(r.id) for r in rows]
    if not ids and merge_version is None:
        return 0
    if not ids:  # a merge of codes nobody used: still on record, so that it can be undone
        store.log(session, user, "recode", "coding", None, old={"code_ids": list(old_code_ids), "count": 0},
                  new={"code_id": new_code_id, "ids": [], "moved": {}, "merge_version": merge_version})
        return 0
    moved: dict[str, list[int]] = {}
    for row in rows:
        moved.setdefault(row.code_id, []).append(int(row.id))
    values: dict[str, Any] = {"code_id": new_code_id, "version": CodingRow.version + 1, "updated_at": utcnow()}
    if codebook_version is not None:
        values["codebook_version"] = codebook_version
    session.execute(update(CodingRow).where(CodingRow.id.in_(ids)).values(**values)
                    .execution_options(synchronize_session=False))
    # Two codes that became one leave a segment with two suggestions of it, or one beside a decision on it.
    withdrawn = store.drop_redundant_suggestions_in(session, new_code_id, user=user,
                                                    why=f"{', '.join(old_code_ids)} recoded as {new_code_id}")
    # Each withdrawn row is kept whole in the event, with the code it had before the merge: undo puts it back.
    for record in withdrawn:
        record["code_id"] = next((old for old, moved_ids in moved.items() if record["id"] in moved_ids), new_code_id)
    store.log(session, user, "recode", "coding", None, old={"code_ids": list(old_code_ids), "count": len(ids)},
              new={"code_id": new_code_id, "first_id": min(ids), "last_id": max(ids), "ids": ids[:500],
                   "moved": moved, "withdrawn_rows": withdrawn,
                   **({"merge_version": merge_version} if merge_version is not None else {})})
    return len(ids)


def bulk_set_status(store: Store, items: Sequence[tuple[int, int]], status: str, *, user: str,
                    action: str = "bulk-accept") -> tuple[list[int], list[int]]:
    """Decide many codings at once; each ``(id, version)`` is version-checked and logged with old and new.

    Returns ``(decided_ids, conflicted_ids)``: a coding someone else changed meanwhile is skipped
    (and its failed attempt logged), never overwritten.

    Example:
        >>> bulk_set_status(Store.create("sqlite://", name="k"), [], "accepted", user="ana")
        ([], [])
    """
    decided: list[int] = []
    conflicted: list[int] = []
    if not items:
        return decided, conflicted
    now, action = utcnow(), checked_action(action)
    events: list[dict[str, Any]] = []
    with store.transaction() as session:
        for coding_id, version in items:
            result = session.execute(
                update(CodingRow).where(CodingRow.id == coding_id, CodingRow.project_id == store.project_id,
                                        CodingRow.version == version, CodingRow.status == "suggested")
                .values(status=status, decided_by=user, decided_at=now, updated_at=now, version=version + 1)
                .execution_options(synchronize_session=False))
            ok = result.rowcount == 1
            (decided if ok else conflicted).append(coding_id)
            events.append({
                "project_id": store.project_id, "at": now, "user": user, "action": action, "entity": "coding",
                "entity_id": str(coding_id), "outcome": "ok" if ok else "conflict",
                "old": {"status": "suggested", "version": version} if ok else {"expected_version": version},
                "new": {"status": status, "version": version + 1} if ok else {"status": status},
            })
        session.execute(insert(EventRow), events)
    return decided, conflicted


def own_rows(store: Store, *, coder: str, segment_id: int, code_id: str | None = None) -> list[Coding]:
    """A coder's own human rows on one segment (optionally for one code).

    Example:
        >>> own_rows(Store.create("sqlite://", name="o"), coder="ana", segment_id=1)
        []
    """
    query = select(CodingRow).where(CodingRow.project_id == store.project_id, CodingRow.segment_id == segment_id,
                                    CodingRow.coder == coder, CodingRow.origin == "human")
    if code_id is not None:
        query = query.where(CodingRow.code_id == code_id)
    with Session(store.engine) as session:
        return [coding_from_row(r) for r in session.scalars(query.order_by(CodingRow.id))]


def set_own_decision(
    store: Store, *, suggestion: Coding, code_id: str, status: str, user: str, start: int | None = None,
    end: int | None = None, action: str,
) -> Coding:
    """Record a coder's own judgement of ``code_id`` on the suggestion's segment (blind double-coding).

    The suggestion itself is untouched. An existing own row for the same segment and code is updated
    (version-checked); otherwise a new human row ``coder=user, parent_id=suggestion.id`` is added.

    Example:
        >>> store = Store.create("sqlite://", name="own")  # doctest: +SKIP
    """
    return set_own_decisions(store, suggestion=suggestion, user=user,
                             decisions=[(code_id, status, start, end, action)])[-1]


def set_own_decisions(
    store: Store, *, suggestion: Coding, user: str,
    decisions: Sequence[tuple[str, str, int | None, int | None, str]],
) -> list[Coding]:
    """Several own judgements on one suggestion's segment in ONE transaction: all are saved, or none.

    Each decision is ``(code_id, status, start, end, action)``; a blind "change" is two of them (the
    suggested code rejected, the new code accepted), so a bad span never leaves only the first.

    Example:
        >>> store = Store.create("sqlite://", name="own2")  # doctest: +SKIP
    """
    out: list[Coding] = []
    with store.checked_transaction() as session:
        for code_id, status, start, end, action in decisions:
            start = suggestion.start if start is None else start
            end = suggestion.end if end is None else end
            row = session.scalar(select(CodingRow).where(
                CodingRow.project_id == store.project_id, CodingRow.segment_id == suggestion.segment_id,
                CodingRow.coder == user, CodingRow.origin == "human", CodingRow.code_id == code_id)
                .order_by(CodingRow.id))
            if row is not None:
                changes = {k: v for k, v in (("status", status), ("start", start), ("end", end))
                           if getattr(row, k) != v}
                out.append(store.update_coding_in(session, row.id, user=user, expected_version=row.version,
                                                  action=action, **changes) if changes else coding_from_row(row))
                continue
            # The suggestion's evidence inside the span stays with the same code: the report quotes a coding
            # trimmed to its evidence, and without it a stranger's quotes opened 300-word turns at their start.
            evidence = [(a, b) for a, b in (suggestion.evidence or []) if start <= a and b <= end] \
                if code_id == suggestion.code_id else []
            coding = Coding(segment_id=suggestion.segment_id, code_id=code_id, origin="human", status=status,
                            coder=user, start=start, end=end, codebook_version=suggestion.codebook_version,
                            decided_by=user, parent_id=suggestion.id, evidence=evidence,
                            rationale=f"own judgement of suggestion {suggestion.id}")
            store.insert_codings_in(session, [coding], user=user, action=action)
            out.append(coding)
    return out


def merge_codes(store: Store, old_code_ids: Sequence[str], new_code_id: str, codebook: Codebook, *, user: str | None,
                note: str, expected_version: int | None = None) -> tuple[int, int]:
    """Move the codings of merged codes and save the codebook without them, in ONE transaction.

    Returns ``(codebook version, codings moved)``; a conflicting codebook version saves nothing.

    Example:
        >>> store = Store.create("sqlite://", name="merge")  # doctest: +SKIP
    """
    with store.transaction() as session:
        version = store.save_codebook_in(session, codebook, user=user, note=note, expected_version=expected_version)
        moved = recode_in(store, session, old_code_ids, new_code_id, user=user, merge_version=version)
    codebook.version = version
    return version, moved


def recent_coding_events(store: Store, action: str, *, limit: int) -> list[EventRow]:
    """The newest ``limit`` successful events of ``action`` on codings (``replace``, ``recode``...), newest first.

    Example:
        >>> recent_coding_events(Store.create("sqlite://", name="rce"), "replace", limit=5)
        []
    """
    with Session(store.engine) as session:
        return list(session.scalars(select(EventRow).where(
            EventRow.project_id == store.project_id, EventRow.entity == "coding", EventRow.action == action,
            EventRow.outcome == "ok").order_by(EventRow.id.desc()).limit(limit)).all())


def merge_event(store: Store, codebook_version: int) -> dict[str, Any] | None:
    """The recode event of the merge that made ``codebook_version`` (None when a merge did not make it).

    Example:
        >>> merge_event(Store.create("sqlite://", name="me"), 2) is None
        True
    """
    for row in recent_coding_events(store, "recode", limit=50):
        if (row.new or {}).get("merge_version") == codebook_version and "moved" in (row.new or {}):
            return {"id": int(row.id), "at": row.at, "user": row.user, "old": row.old, "new": row.new}
    return None


def unmerge_codes(store: Store, moved: dict[str, Sequence[int]], merged_into: str, codebook: Codebook, *,
                  user: str | None, note: str, expected_version: int, reverts_event: int,
                  withdrawn: Sequence[dict[str, Any]] = ()) -> tuple[int, int]:
    """Take back a merge in ONE transaction: its codings back to their codes, and ``codebook`` (the version
    before the merge) saved as the next version. Returns ``(codebook version, codings moved back)``.

    A coding recoded since the merge (no longer ``merged_into``) stays as it is now. ``withdrawn`` are the
    suggestions the merge withdrew as redundant (whole rows, from its event): they are put back as they were.

    Example:
        >>> store = Store.create("sqlite://", name="unmerge")  # doctest: +SKIP
    """
    back = 0
    with store.transaction() as session:
        version = store.save_codebook_in(session, codebook, user=user, note=note, expected_version=expected_version)
        for code_id, ids in moved.items():
            for chunk in chunks([int(i) for i in ids]):
                result = session.execute(
                    update(CodingRow).where(CodingRow.project_id == store.project_id, CodingRow.id.in_(chunk),
                                            CodingRow.code_id == merged_into)
                    .values(code_id=code_id, version=CodingRow.version + 1, updated_at=utcnow())
                    .execution_options(synchronize_session=False))
                back += result.rowcount or 0
        present = set(session.scalars(select(CodingRow.id).where(
            CodingRow.id.in_([int(r["id"]) for r in withdrawn])))) if withdrawn else set()
        restored = [row_from_record(r) for r in withdrawn if int(r["id"]) not in present]
        session.add_all(restored)  # the suggestions the merge withdrew, as they were (same ids)
        store.log(session, user, "revert", "coding", None, old={"code_id": merged_into},
                  new={"moved": {k: list(v)[:500] for k, v in moved.items()}, "count": back,
                       "suggestions_back": [int(r.id) for r in restored],
                       "codebook_version": version, "reverts_event": reverts_event})
    return version, back


def set_consensus(
    store: Store, *, segment_id: int, code_id: str, apply: bool, user: str, note: str = "",
    start: int | None = None, end: int | None = None, expected: dict[str, Any] | None = None,
) -> Coding:
    """Record the agreed (adjudicated) judgement of a code on a segment; the coders' own rows stay as they are.

    A machine suggestion still awaiting review for that segment and code is decided in place
    (``decided_by="consensus"``); otherwise a new human row ``coder="consensus"`` is added. An earlier
    consensus decision is changed only if it still matches ``expected`` (``{"id", "version"}``), so two
    adjudicators never overwrite each other silently. Logged as ``adjudicate`` by the real user.

    Example:
        >>> store = Store.create("sqlite://", name="cons")  # doctest: +SKIP
    """
    status = "accepted" if apply else "rejected"
    now = utcnow()
    conflict: ConflictError | None = None
    with store.transaction() as session:
        seg = session.get(SegmentRow, segment_id)
        if seg is None or seg.project_id != store.project_id:
            raise StoreError(f"no segment {segment_id} in project {store.name!r}")
        start = seg.start if start is None else start
        end = seg.end if end is None else end
        check_span(start, end, segment_id, seg.start, seg.end)
        prior = session.scalar(select(CodingRow).where(
            CodingRow.project_id == store.project_id, CodingRow.segment_id == segment_id,
            CodingRow.code_id == code_id, CodingRow.decided_by == CONSENSUS).order_by(CodingRow.id))
        suggestion = None if prior is not None else session.scalar(select(CodingRow).where(
            CodingRow.project_id == store.project_id, CodingRow.segment_id == segment_id,
            CodingRow.code_id == code_id, CodingRow.status == "suggested", CodingRow.origin != "human")
            .order_by(CodingRow.id))
        target = prior or suggestion
        if prior is not None and (expected is None or expected.get("id") != prior.id
                                  or expected.get("version") != prior.version):
            target = None
        if target is not None:
            old = {"status": target.status, "start": target.start, "end": target.end,
                   "decided_by": target.decided_by, "version": target.version}
            result = session.execute(
                update(CodingRow).where(CodingRow.id == target.id, CodingRow.version == target.version)
                .values(status=status, start=start, end=end, decided_by=CONSENSUS, decided_at=now,
                        updated_at=now, version=target.version + 1)
                .execution_options(synchronize_session=False))
            if result.rowcount == 1:
                store.log(session, user, "adjudicate", "coding", target.id, old=old,
                          new={"status": status, "start": start, "end": end, "decided_by": CONSENSUS,
                               "version": old["version"] + 1, "note": note})
                session.expire(target)
                return coding_from_row(session.get(CodingRow, target.id))
            prior = target  # changed under us: report it as a conflict below
        if prior is None:
            row = CodingRow(project_id=store.project_id, segment_id=segment_id, code_id=code_id, coder=CONSENSUS,
                            origin="human", status=status, score=None, start=start, end=end, evidence=[],
                            rationale=note or "adjudicated", decided_by=CONSENSUS, decided_at=now,
                            guid=new_guid(), created_at=now, updated_at=now, version=1)
            session.add(row)
            session.flush()
            store.log(session, user, "adjudicate", "coding", row.id, old=None,
                      new={"segment_id": segment_id, "code_id": code_id, "status": status, "start": start,
                           "end": end, "decided_by": CONSENSUS, "note": note})
            return coding_from_row(row)
        session.expire(prior)
        current = coding_values(session.get(CodingRow, prior.id))
        store.log(session, user, "adjudicate", "coding", prior.id, old={"expected": expected},
                  new={"status": status}, outcome="conflict")
        conflict = ConflictError(
            f"the disagreement on {code_id} in segment {segment_id} was already settled ({current['status']}) "
            f"by another adjudication; your decision was not saved", current=current)
    raise conflict  # the conflict event is committed above; now tell the caller


def state_events(store: Store, coding_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """The newest successful event that set each coding's state (see :data:`STATE_ACTIONS`), by coding id.

    Each is ``{"id", "at", "user", "action", "old", "new"}``; ``old`` is None when the event created the row.
    Codings without such an event are left out.

    Example:
        >>> state_events(Store.create("sqlite://", name="se"), [1])
        {}
    """
    return {coding_id: events[-1] for coding_id, events in state_histories(store, coding_ids).items()}


def state_histories(store: Store, coding_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    """Every successful event that set each coding's state, oldest first, by coding id (reverts included).

    Each event is as :func:`state_events` gives it; a revert names the event it took back in
    ``new["reverts_event"]``. Codings without such an event are left out.

    Example:
        >>> state_histories(Store.create("sqlite://", name="sh"), [1])
        {}
    """
    ids = sorted({str(int(i)) for i in coding_ids})
    out: dict[int, list[dict[str, Any]]] = {}
    with Session(store.engine) as session:
        for start in range(0, len(ids), 500):
            rows = session.scalars(select(EventRow).where(
                EventRow.project_id == store.project_id, EventRow.entity == "coding",
                EventRow.entity_id.in_(ids[start:start + 500]), EventRow.outcome == "ok",
                EventRow.action.in_(STATE_ACTIONS)).order_by(EventRow.id)).all()
            for row in rows:
                out.setdefault(int(row.entity_id), []).append(
                    {"id": row.id, "at": row.at, "user": row.user, "action": row.action, "old": row.old,
                     "new": row.new})
    return out


def user_state_events(store: Store, user: str, *, limit: int = 200) -> list[dict[str, Any]]:
    """A user's newest successful decision events on single codings (newest first), reverts left out.

    Example:
        >>> user_state_events(Store.create("sqlite://", name="ue"), "ana")
        []
    """
    with Session(store.engine) as session:
        rows = session.scalars(select(EventRow).where(
            EventRow.project_id == store.project_id, EventRow.entity == "coding", EventRow.entity_id.is_not(None),
            EventRow.user == user, EventRow.outcome == "ok",
            EventRow.action.in_([a for a in STATE_ACTIONS if a != "revert"]))
            .order_by(EventRow.id.desc()).limit(limit)).all()
    return [{"id": r.id, "coding_id": int(r.entity_id), "action": r.action, "old": r.old, "new": r.new, "at": r.at}
            for r in rows]


def change_withdrawals(store: Store, suggestion_id: int, *, look_back: int = 200) -> dict[str, Any] | None:
    """The newest withdrawal a change of ``suggestion_id`` made (the suggestions of the new code on the same words).

    ``{"id", "at", "user", "rows"}`` with the withdrawn rows whole (as :func:`~qualkit.store.rows.coding_record`
    gives them), or None when no change of it withdrew any among the newest ``look_back`` withdrawals.

    Example:
        >>> change_withdrawals(Store.create("sqlite://", name="cw"), 1) is None
        True
    """
    for row in recent_coding_events(store, "replace", limit=look_back):
        old = row.old if isinstance(row.old, dict) else {}
        if old.get("change_of") == int(suggestion_id) and old.get("withdrawn_rows"):
            return {"id": int(row.id), "at": row.at, "user": row.user, "rows": list(old["withdrawn_rows"])}
    return None


def restore_codings(store: Store, steps: Sequence[tuple[int, int, dict[str, Any], int]], *,
                    user: str, put_back: Sequence[dict[str, Any]] = (), put_back_event: int | None = None,
                    withdraw: tuple[int, str, int, int, int] | None = None) -> list[Coding]:
    """Put codings back to earlier values, version-checked, in ONE transaction; each is a ``revert`` event.

    Each step is ``(coding_id, expected_version, values, reverted_event_id)`` with ``values`` drawn from
    :data:`RESTORABLE`. Nothing is deleted: the row gets the values and ``version + 1``, and the event
    names the old values, the new ones and the event taken back. A row someone changed since
    ``expected_version`` saves none of the steps and raises :class:`~qualkit.errors.ConflictError`.

    Undoing a change also takes back what it withdrew: ``put_back`` are whole rows (from
    :func:`change_withdrawals`, its event ``put_back_event``) inserted again with their ids, unless present; a
    change done again (``withdraw``: ``(segment_id, code_id, start, end, suggestion_id)`` of its new code)
    withdraws them again, as the change did. Both in the same transaction.

    Example:
        >>> restore_codings(Store.create("sqlite://", name="rc"), [], user="ana")
        []
    """
    out: list[Coding] = []
    with store.checked_transaction() as session:
        for coding_id, expected, values, event_id in steps:
            unknown = set(values) - set(RESTORABLE)
            if unknown:
                raise StoreError(f"an undo cannot restore {sorted(unknown)} of a coding")
            row = session.get(CodingRow, coding_id)
            if row is None or row.project_id != store.project_id:
                raise no_coding(coding_id, store.name)
            current = coding_values(row)
            now = utcnow()
            changes = dict(values)
            if "status" in changes:
                changes["decided_at"] = None if changes["status"] == "suggested" and not changes.get("decided_by") \
                    else now
            result = session.execute(
                update(CodingRow).where(CodingRow.id == coding_id, CodingRow.version == expected)
                .values(**changes, updated_at=now, version=expected + 1).execution_options(synchronize_session=False))
            if result.rowcount != 1:
                who = changed_by(current, user)
                raise StaleVersion(
                    f"coding {coding_id} was changed by {who} (now {current['code_id']}, {current['status']}, "
                    f"version {current['version']}) after you loaded version {expected}; nothing was undone",
                    current=current, user=user, action="revert", coding_id=coding_id, expected=expected,
                    changes=dict(values))
            store.log(session, user, "revert", "coding", coding_id,
                      old={k: current[k] for k in RESTORABLE} | {"version": expected},
                      new=dict(values, version=expected + 1, reverts_event=event_id))
            session.expire(row)
            out.append(coding_from_row(session.get(CodingRow, coding_id)))
        present = set(session.scalars(select(CodingRow.id).where(
            CodingRow.id.in_([int(r["id"]) for r in put_back])))) if put_back else set()
        restored = [row_from_record(r) for r in put_back if int(r["id"]) not in present]
        if restored:
            session.add_all(restored)  # the suggestions the change withdrew, as they were (same ids)
            store.log(session, user, "revert", "coding", None, old=None,
                      new={"suggestions_back": [int(r.id) for r in restored], "reverts_event": put_back_event})
        if withdraw is not None:
            segment_id, code_id, start, end, suggestion_id = withdraw
            store.withdraw_suggestions_in(session, segment_id=segment_id, code_id=code_id, span=(start, end),
                                          user=user, why=f"coded the same words by a change ({suggestion_id})",
                                          change_of=suggestion_id)
    return out


__all__ = ["CONSENSUS", "RESTORABLE", "STATE_ACTIONS", "bulk_set_status", "change_withdrawals", "merge_codes", "own_rows", "recent_coding_events", "recode", "recode_in", "restore_codings", "set_consensus", "set_own_decision", "set_own_decisions", "state_events", "user_state_events"]
