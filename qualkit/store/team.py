"""Store functions for working as a team: users, assignments, own (blind) decisions, consensus and bulk review.

These sit beside :mod:`qualkit.store.repository` and follow its rules: every write is one transaction
that appends an event naming the user with the old and new values, and updates of codings check the
row ``version`` the caller read. Users belong to the whole database (not one project), so their events
have no project. Permission checks live one layer up, in :mod:`qualkit.users` and :mod:`qualkit.review`.

Example:
    >>> from qualkit.store.repository import Store
    >>> store = Store.create("sqlite://", name="pilot")
    >>> insert_user(store.engine, name="ana", password_hash="x", role="coder", actor="admin")
    >>> users_df(store.engine)["name"].tolist()
    ['ana']
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd
from sqlalchemy import Engine, and_, exists, func, insert, literal, not_, or_, select, update
from sqlalchemy.orm import Session, aliased

from qualkit.errors import ConflictError, StoreError
from qualkit.model import Coding, new_guid
from qualkit.store.repository import CODING_COLUMNS, Store, _coding_dict, _coding_from_row, _jsonable
from qualkit.store.schema import (
    AssignmentRow,
    CodingRow,
    EventRow,
    MemoRow,
    ProjectRow,
    SegmentRow,
    SourceRow,
    UserRow,
    utcnow,
)

CONSENSUS = "consensus"
"""The ``coder``/``decided_by`` name of adjudicated (agreed) decisions; the event log names the real user."""

USER_COLUMNS = ["name", "display_name", "role", "can_edit_codebook", "active", "created_at"]
ASSIGNMENT_COLUMNS = ["id", "source_id", "source", "coder", "blind", "done", "assigned_by", "created_at", "done_at"]


def _engine(target: Engine | Store) -> Engine:
    return target.engine if isinstance(target, Store) else target


# ---------------------------------------------------------------------------- generation (cache keys)
def generation(store: Store) -> int:
    """The id of the project's newest event: it changes whenever anyone writes anything to the project.

    The app keys its cached queries on it, so a write by any user in any process invalidates them.

    Example:
        >>> store = Store.create("sqlite://", name="g")
        >>> before = generation(store)
        >>> store.update_settings(user="ana", colour="blue") and generation(store) > before
        True
    """
    with Session(store.engine) as session:
        return int(session.scalar(select(func.max(EventRow.id)).where(EventRow.project_id == store.project_id))
                   or 0)


def log_global(session: Session, user: str | None, action: str, entity: str, entity_id: Any = None, *,
               old: dict[str, Any] | None = None, new: dict[str, Any] | None = None, outcome: str = "ok") -> None:
    """Append an event that belongs to the database rather than one project (users, log-ins).

    Example:
        >>> from sqlalchemy.orm import Session
        >>> store = Store.create("sqlite://", name="e")
        >>> with Session(store.engine) as session, session.begin():
        ...     log_global(session, "ana", "login", "user", "ana")
    """
    session.add(EventRow(project_id=None, user=user, action=action, entity=entity,
                         entity_id=None if entity_id is None else str(entity_id),
                         old=_jsonable(old), new=_jsonable(new), outcome=outcome))


def global_events_df(target: Engine | Store, *, entity: str | None = None, limit: int = 200) -> pd.DataFrame:
    """Events that belong to no project (user management, log-ins), newest first.

    Example:
        >>> global_events_df(Store.create("sqlite://", name="x").engine).empty
        True
    """
    query = select(EventRow).where(EventRow.project_id.is_(None))
    if entity is not None:
        query = query.where(EventRow.entity == entity)
    with Session(_engine(target)) as session:
        rows = session.scalars(query.order_by(EventRow.id.desc()).limit(limit)).all()
    columns = ["id", "at", "user", "action", "entity", "entity_id", "old", "new", "outcome"]
    return pd.DataFrame([[getattr(r, c) for c in columns] for r in rows], columns=columns)


# ---------------------------------------------------------------------------- users
def user_row(target: Engine | Store, name: str) -> dict[str, Any] | None:
    """One user's row as a dict (with ``password_hash``), or ``None``.

    Example:
        >>> user_row(Store.create("sqlite://", name="u").engine, "nobody") is None
        True
    """
    with Session(_engine(target)) as session:
        row = session.scalar(select(UserRow).where(UserRow.name == name))
        if row is None:
            return None
        return {"name": row.name, "display_name": row.display_name, "role": row.role,
                "can_edit_codebook": bool(row.can_edit_codebook), "active": bool(row.active),
                "password_hash": row.password_hash, "created_at": row.created_at}


def count_users(target: Engine | Store, *, active_only: bool = True) -> int:
    """How many users the database has.

    Example:
        >>> count_users(Store.create("sqlite://", name="c").engine)
        0
    """
    query = select(func.count()).select_from(UserRow)
    if active_only:
        query = query.where(UserRow.active.is_(True))
    with Session(_engine(target)) as session:
        return int(session.scalar(query) or 0)


def insert_user(target: Engine | Store, *, name: str, password_hash: str, role: str, actor: str | None,
                display_name: str | None = None, can_edit_codebook: bool = False) -> None:
    """Add a user, or bring back a removed one with the new password and role (logged).

    Example:
        >>> engine = Store.create("sqlite://", name="i").engine
        >>> insert_user(engine, name="ben", password_hash="h", role="viewer", actor="admin")
        >>> user_row(engine, "ben")["role"]
        'viewer'
    """
    with Session(_engine(target)) as session, session.begin():
        row = session.scalar(select(UserRow).where(UserRow.name == name))
        new = {"role": role, "display_name": display_name, "can_edit_codebook": can_edit_codebook}
        if row is not None:
            if row.active:
                raise StoreError(f"a user named {name!r} already exists",
                                 fix=f"choose another name, or change the role with `qualkit users role {name} ...`")
            old = {"active": False, "role": row.role}
            row.active, row.password_hash, row.role = True, password_hash, role
            row.display_name, row.can_edit_codebook = display_name, can_edit_codebook
            log_global(session, actor, "restore", "user", name, old=old, new=new)
            return
        session.add(UserRow(name=name, display_name=display_name, password_hash=password_hash, role=role,
                            can_edit_codebook=can_edit_codebook, guid=new_guid(), active=True))
        log_global(session, actor, "create", "user", name, new=new)


def update_user(target: Engine | Store, name: str, *, actor: str | None, **changes: Any) -> None:
    """Change a user's ``role``, ``can_edit_codebook``, ``display_name``, ``password_hash`` or ``active`` (logged).

    The password hash itself never enters the log, only the fact that it changed.

    Example:
        >>> engine = Store.create("sqlite://", name="u2").engine
        >>> insert_user(engine, name="ana", password_hash="h", role="coder", actor=None)
        >>> update_user(engine, "ana", actor="admin", role="viewer")
        >>> user_row(engine, "ana")["role"]
        'viewer'
    """
    allowed = {"role", "can_edit_codebook", "display_name", "password_hash", "active"}
    unknown = set(changes) - allowed
    if unknown:
        raise StoreError(f"cannot change {sorted(unknown)} of a user", fix=f"change only {sorted(allowed)}")
    with Session(_engine(target)) as session, session.begin():
        row = session.scalar(select(UserRow).where(UserRow.name == name))
        if row is None:
            raise StoreError(f"no user named {name!r}", fix="list users with `qualkit users list`")
        old = {k: ("***" if k == "password_hash" else getattr(row, k)) for k in changes}
        new = {k: ("***" if k == "password_hash" else v) for k, v in changes.items()}
        for key, value in changes.items():
            setattr(row, key, value)
        action = "password" if set(changes) == {"password_hash"} else "update"
        if changes.get("active") is False:
            action = "remove"
        log_global(session, actor, action, "user", name, old=old, new=new)


def users_df(target: Engine | Store, *, include_removed: bool = False) -> pd.DataFrame:
    """The team: one row per user (never the password hash).

    Example:
        >>> list(users_df(Store.create("sqlite://", name="d").engine).columns)[:3]
        ['name', 'display_name', 'role']
    """
    query = select(UserRow).order_by(UserRow.name)
    if not include_removed:
        query = query.where(UserRow.active.is_(True))
    with Session(_engine(target)) as session:
        rows = session.scalars(query).all()
    return pd.DataFrame([[getattr(r, c) for c in USER_COLUMNS] for r in rows], columns=USER_COLUMNS)


def demo_user_names(target: Engine | Store) -> list[str]:
    """Names of demo accounts recorded in any project's settings (``settings["demo_users"]``).

    Example:
        >>> demo_user_names(Store.create("sqlite://", name="p").engine)
        []
    """
    with Session(_engine(target)) as session:
        settings = session.scalars(select(ProjectRow.settings)).all()
    names: list[str] = []
    for value in settings:
        for name in (value or {}).get("demo_users", []):
            if name not in names:
                names.append(name)
    return names


# ---------------------------------------------------------------------------- assignments
def assignments_df(store: Store) -> pd.DataFrame:
    """Who is assigned to code which transcript, blind or not, and whether they are done.

    Example:
        >>> assignments_df(Store.create("sqlite://", name="a")).empty
        True
    """
    query = (select(AssignmentRow, SourceRow.name).join(SourceRow, SourceRow.id == AssignmentRow.source_id)
             .where(AssignmentRow.project_id == store.project_id).order_by(SourceRow.id, AssignmentRow.coder))
    with Session(store.engine) as session:
        rows = session.execute(query).all()
    return pd.DataFrame([[a.id, a.source_id, name, a.coder, bool(a.blind), bool(a.done), a.assigned_by,
                          a.created_at, a.done_at] for a, name in rows], columns=ASSIGNMENT_COLUMNS)


def add_assignments(store: Store, source_id: int, coders: Sequence[str], *, blind: bool, user: str | None) -> int:
    """Assign a source to coders (those already assigned are left as they are); returns how many were added.

    Example:
        >>> store = Store.create("sqlite://", name="b")
        >>> add_assignments(store, 1, ["ana"], blind=True, user="admin")  # doctest: +SKIP
        1
    """
    added = 0
    with store.transaction() as session:
        existing = set(session.scalars(select(AssignmentRow.coder).where(
            AssignmentRow.project_id == store.project_id, AssignmentRow.source_id == source_id)))
        for coder in coders:
            if coder in existing:
                continue
            session.add(AssignmentRow(project_id=store.project_id, source_id=source_id, coder=coder, blind=blind,
                                      assigned_by=user))
            store.log(session, user, "assign", "assignment", f"{source_id}:{coder}",
                      new={"source_id": source_id, "coder": coder, "blind": blind})
            added += 1
    return added


def remove_assignment(store: Store, source_id: int, coder: str, *, user: str | None) -> None:
    """Take a coder off a source (their decisions stay in the store).

    Example:
        >>> remove_assignment(Store.create("sqlite://", name="r"), 1, "ana", user="admin")  # doctest: +SKIP
    """
    with store.transaction() as session:
        row = session.scalar(select(AssignmentRow).where(
            AssignmentRow.project_id == store.project_id, AssignmentRow.source_id == source_id,
            AssignmentRow.coder == coder))
        if row is None:
            raise StoreError(f"{coder!r} is not assigned to source {source_id}")
        store.log(session, user, "unassign", "assignment", f"{source_id}:{coder}",
                  old={"blind": row.blind, "done": row.done})
        session.delete(row)


def set_assignment_done(store: Store, source_id: int, coder: str, *, done: bool, user: str | None) -> None:
    """Mark a coder's assignment done (or reopen it), logged with the old and new state.

    Example:
        >>> set_assignment_done(Store.create("sqlite://", name="d"), 1, "ana", done=True, user="ana")  # doctest: +SKIP
    """
    with store.transaction() as session:
        row = session.scalar(select(AssignmentRow).where(
            AssignmentRow.project_id == store.project_id, AssignmentRow.source_id == source_id,
            AssignmentRow.coder == coder))
        if row is None:
            raise StoreError(f"{coder!r} is not assigned to source {source_id}",
                             fix="ask an administrator to assign the transcript first")
        old = {"done": row.done}
        row.done, row.done_at = done, (utcnow() if done else None)
        store.log(session, user, "done" if done else "reopen", "assignment", f"{source_id}:{coder}",
                  old=old, new={"done": done})


# ---------------------------------------------------------------------------- queries
def _coding_frame(rows: Iterable[Any]) -> pd.DataFrame:
    records = []
    for r in rows:
        c = r[0]
        records.append((c.id, c.segment_id, c.code_id, c.codebook_version, c.coder, c.origin, c.status, c.score,
                        c.start, c.end, c.evidence, c.rationale, c.decided_by, c.decided_at, c.parent_id, c.guid,
                        c.created_at, c.updated_at, c.version, r.name, r.sid, r.speaker, r.role, r.turn,
                        r.seg_start, r.seg_end, r.text))
    return pd.DataFrame.from_records(records, columns=CODING_COLUMNS)


def _joined(store: Store):
    return (
        select(CodingRow, SourceRow.name, SourceRow.id.label("sid"), SegmentRow.speaker, SegmentRow.role,
               SegmentRow.turn, SegmentRow.start.label("seg_start"), SegmentRow.end.label("seg_end"),
               SegmentRow.text)
        .join(SegmentRow, SegmentRow.id == CodingRow.segment_id)
        .join(SourceRow, SourceRow.id == SegmentRow.source_id)
        .where(CodingRow.project_id == store.project_id)
    )


def codings_by_id(store: Store, coding_ids: Sequence[int]) -> pd.DataFrame:
    """Codings (``codings_df`` columns) for the given ids, in the order given.

    Example:
        >>> codings_by_id(Store.create("sqlite://", name="q"), []).empty
        True
    """
    if not coding_ids:
        return _coding_frame([])
    with Session(store.engine) as session:
        rows = session.execute(_joined(store).where(CodingRow.id.in_(list(coding_ids)))).all()
    frame = _coding_frame(rows).set_index("id", drop=False)
    return frame.loc[[i for i in coding_ids if i in frame.index]].reset_index(drop=True)


def _queue_filters(store: Store, query, *, user: str, source_ids, code_ids, hidden_source_ids, own_row_source_ids):
    query = query.where(CodingRow.project_id == store.project_id, CodingRow.status == "suggested",
                        CodingRow.origin != "human")
    if source_ids is not None:
        query = query.where(SegmentRow.source_id.in_(list(source_ids)))
    if code_ids is not None:
        query = query.where(CodingRow.code_id.in_(list(code_ids)))
    if hidden_source_ids:
        query = query.where(SegmentRow.source_id.notin_(list(hidden_source_ids)))
    if own_row_source_ids:
        own = aliased(CodingRow)
        already = exists().where(own.segment_id == CodingRow.segment_id, own.code_id == CodingRow.code_id,
                                 own.coder == user, own.origin == "human")
        query = query.where(or_(SegmentRow.source_id.notin_(list(own_row_source_ids)), not_(already)))
    return query


def suggestion_queue(
    store: Store,
    *,
    user: str,
    limit: int = 20,
    offset: int = 0,
    source_ids: Sequence[int] | None = None,
    code_ids: Sequence[str] | None = None,
    hidden_source_ids: Sequence[int] = (),
    own_row_source_ids: Sequence[int] = (),
    min_score: float | None = None,
    ranking: Mapping[int, float] | None = None,
) -> tuple[pd.DataFrame, int]:
    """A page of suggestions awaiting review, most uncertain first, and how many there are in all.

    The order (score nearest 0.5 first, then id) is the fallback when the coding area's
    ``Project.review_queue`` is not available. Sources in ``hidden_source_ids`` are left out; in
    ``own_row_source_ids`` (the user's blind assignments) a suggestion the user already judged
    (an own human row with the same segment and code) is left out. With ``ranking`` (coding id ->
    priority, higher first; computed in the background from the coding area's active-learning order)
    the ranked suggestions come first and the rest follow by uncertainty; a ``priority`` column is added.

    Example:
        >>> frame, total = suggestion_queue(Store.create("sqlite://", name="s"), user="ana")
        >>> total
        0
    """
    filters = {"user": user, "source_ids": source_ids, "code_ids": code_ids,
               "hidden_source_ids": hidden_source_ids, "own_row_source_ids": own_row_source_ids}
    base = _joined(store)
    count = select(func.count()).select_from(CodingRow).join(SegmentRow, SegmentRow.id == CodingRow.segment_id)
    if min_score is not None:
        base = base.where(CodingRow.score >= min_score)
        count = count.where(CodingRow.score >= min_score)
    base = _queue_filters(store, base, **filters)
    count = _queue_filters(store, count, **filters)
    uncertainty = func.abs(func.coalesce(CodingRow.score, literal(0.5)) - literal(0.5))
    if ranking:
        ids_query = _queue_filters(store, select(CodingRow.id).join(SegmentRow, SegmentRow.id == CodingRow.segment_id),
                                   **filters)
        if min_score is not None:
            ids_query = ids_query.where(CodingRow.score >= min_score)
        with Session(store.engine) as session:
            ids = list(session.scalars(ids_query.order_by(uncertainty, CodingRow.id)))
        ids.sort(key=lambda i: -ranking.get(i, -1.0))  # stable: unranked keep the uncertainty order
        page = ids[offset:offset + limit]
        frame = codings_by_id(store, page)
        return frame.assign(priority=[ranking.get(int(i)) for i in frame["id"]]), len(ids)
    query = base.order_by(uncertainty, CodingRow.id).offset(offset).limit(limit)
    with Session(store.engine) as session:
        total = int(session.scalar(count) or 0)
        rows = session.execute(query).all()
    return _coding_frame(rows).assign(priority=None), total


def bulk_candidates(
    store: Store, *, user: str, min_score: float, source_ids: Sequence[int] | None = None,
    code_ids: Sequence[str] | None = None, hidden_source_ids: Sequence[int] = (),
    own_row_source_ids: Sequence[int] = (),
) -> pd.DataFrame:
    """Every suggestion a bulk accept at ``min_score`` would decide (highest score first).

    Example:
        >>> bulk_candidates(Store.create("sqlite://", name="b"), user="ana", min_score=0.9).empty
        True
    """
    query = _queue_filters(store, _joined(store).where(CodingRow.score >= min_score), user=user,
                           source_ids=source_ids, code_ids=code_ids, hidden_source_ids=hidden_source_ids,
                           own_row_source_ids=own_row_source_ids)
    with Session(store.engine) as session:
        rows = session.execute(query.order_by(CodingRow.score.desc(), CodingRow.id)).all()
    return _coding_frame(rows)


def _not_hidden(hidden: Mapping[int, set[str]] | None):
    """SQL condition leaving out rows of the given coders on the given sources (a visibility map)."""
    if not hidden:
        return literal(True)
    return not_(or_(*(and_(SegmentRow.source_id == source_id,
                           or_(CodingRow.coder.in_(sorted(coders)), CodingRow.decided_by.in_(sorted(coders))))
                      for source_id, coders in hidden.items())))


def code_counts(store: Store, *, hidden: Mapping[int, set[str]] | None = None) -> pd.DataFrame:
    """Codings per code and status (one row per code, a column per status); ``hidden`` rows left out.

    ``hidden`` maps a source id to coders whose rows there are not counted (see ``TeamView.hidden_map``).

    Example:
        >>> code_counts(Store.create("sqlite://", name="c")).empty
        True
    """
    query = (select(CodingRow.code_id, CodingRow.status, func.count())
             .join(SegmentRow, SegmentRow.id == CodingRow.segment_id)
             .where(CodingRow.project_id == store.project_id, _not_hidden(hidden))
             .group_by(CodingRow.code_id, CodingRow.status))
    with Session(store.engine) as session:
        rows = session.execute(query).all()
    frame = pd.DataFrame(rows, columns=["code_id", "status", "n"])
    if frame.empty:
        return pd.DataFrame(columns=["code_id", "accepted", "rejected", "suggested"])
    wide = frame.pivot_table(index="code_id", columns="status", values="n", aggfunc="sum", fill_value=0)
    for status in ("accepted", "rejected", "suggested"):
        if status not in wide.columns:
            wide[status] = 0
    return wide[["accepted", "rejected", "suggested"]].reset_index()


def code_examples(store: Store, code_id: str, *, limit: int = 3,
                  hidden: Mapping[int, set[str]] | None = None) -> list[str]:
    """Up to ``limit`` accepted excerpts of a code (the coded span of each); ``hidden`` rows left out.

    Example:
        >>> code_examples(Store.create("sqlite://", name="e"), "workload")
        []
    """
    query = (select(CodingRow.start, CodingRow.end, SegmentRow.start, SegmentRow.text)
             .join(SegmentRow, SegmentRow.id == CodingRow.segment_id)
             .where(CodingRow.project_id == store.project_id, CodingRow.code_id == code_id,
                    CodingRow.status == "accepted", _not_hidden(hidden))
             .order_by(CodingRow.id).limit(limit))
    with Session(store.engine) as session:
        rows = session.execute(query).all()
    return [text[start - seg_start:end - seg_start] for start, end, seg_start, text in rows]


def coding_source_ids(store: Store, coding_ids: Sequence[int]) -> dict[int, int]:
    """Map coding ids to their transcript (source) ids; ids no longer stored are left out.

    Example:
        >>> coding_source_ids(Store.create("sqlite://", name="cs"), [1])
        {}
    """
    out: dict[int, int] = {}
    ids = sorted(set(coding_ids))
    with Session(store.engine) as session:
        for i in range(0, len(ids), 2000):
            out.update({int(a): int(b) for a, b in session.execute(
                select(CodingRow.id, SegmentRow.source_id).join(SegmentRow, SegmentRow.id == CodingRow.segment_id)
                .where(CodingRow.project_id == store.project_id, CodingRow.id.in_(ids[i:i + 2000])))})
    return out


def memo_source_ids(store: Store, memo_ids: Sequence[int]) -> dict[int, int]:
    """Map memo ids to the transcript they are about (their own, or their segment's); others left out.

    Example:
        >>> memo_source_ids(Store.create("sqlite://", name="ms"), [1])
        {}
    """
    if not memo_ids:
        return {}
    with Session(store.engine) as session:
        rows = session.execute(
            select(MemoRow.id, MemoRow.source_id, SegmentRow.source_id)
            .outerjoin(SegmentRow, SegmentRow.id == MemoRow.segment_id)
            .where(MemoRow.project_id == store.project_id, MemoRow.id.in_(sorted(set(memo_ids))))).all()
    return {int(m): int(own if own is not None else seg) for m, own, seg in rows
            if own is not None or seg is not None}


def recode(store: Store, old_code_ids: Sequence[str], new_code_id: str, *, user: str | None,
           codebook_version: int | None = None) -> int:
    """Move every coding of ``old_code_ids`` to ``new_code_id`` (a merge), one transaction, one event.

    Each row's ``version`` goes up, so a reviewer holding an old copy gets a conflict, not a silent change.

    Example:
        >>> recode(Store.create("sqlite://", name="m"), ["a"], "b", user="ana")
        0
    """
    with store.transaction() as session:
        return _recode_in(store, session, old_code_ids, new_code_id, user=user, codebook_version=codebook_version)


def _recode_in(store: Store, session: Session, old_code_ids: Sequence[str], new_code_id: str, *, user: str | None,
               codebook_version: int | None = None) -> int:
    ids = list(session.scalars(select(CodingRow.id).where(
        CodingRow.project_id == store.project_id, CodingRow.code_id.in_(list(old_code_ids)))))
    if not ids:
        return 0
    values: dict[str, Any] = {"code_id": new_code_id, "version": CodingRow.version + 1, "updated_at": utcnow()}
    if codebook_version is not None:
        values["codebook_version"] = codebook_version
    session.execute(update(CodingRow).where(CodingRow.id.in_(ids)).values(**values)
                    .execution_options(synchronize_session=False))
    store.log(session, user, "recode", "coding", None, old={"code_ids": list(old_code_ids), "count": len(ids)},
              new={"code_id": new_code_id, "first_id": min(ids), "last_id": max(ids), "ids": ids[:500]})
    return len(ids)


# ---------------------------------------------------------------------------- decisions
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
    now = utcnow()
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
        return [_coding_from_row(r) for r in session.scalars(query.order_by(CodingRow.id))]


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
                                                  action=action, **changes) if changes else _coding_from_row(row))
                continue
            coding = Coding(segment_id=suggestion.segment_id, code_id=code_id, origin="human", status=status,
                            coder=user, start=start, end=end, codebook_version=suggestion.codebook_version,
                            decided_by=user, parent_id=suggestion.id,
                            rationale=f"own judgement of suggestion {suggestion.id}")
            store._insert_codings(session, [coding], user, action)
            out.append(coding)
    return out


def merge_codes(store: Store, old_code_ids: Sequence[str], new_code_id: str, codebook: Any, *, user: str | None,
                note: str, expected_version: int | None = None) -> tuple[int, int]:
    """Move the codings of merged codes and save the codebook without them, in ONE transaction.

    Returns ``(codebook version, codings moved)``; a conflicting codebook version saves nothing.

    Example:
        >>> store = Store.create("sqlite://", name="merge")  # doctest: +SKIP
    """
    with store.transaction() as session:
        moved = _recode_in(store, session, old_code_ids, new_code_id, user=user)
        version = store.save_codebook_in(session, codebook, user=user, note=note, expected_version=expected_version)
    codebook.version = version
    return version, moved


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
        if not seg.start <= start < end <= seg.end:
            raise StoreError(f"span {start}:{end} lies outside segment {segment_id} ({seg.start}:{seg.end})")
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
                return _coding_from_row(session.get(CodingRow, target.id))
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
            return _coding_from_row(row)
        session.expire(prior)
        current = _coding_dict(session.get(CodingRow, prior.id))
        store.log(session, user, "adjudicate", "coding", prior.id, old={"expected": expected},
                  new={"status": status}, outcome="conflict")
        conflict = ConflictError(
            f"the disagreement on {code_id} in segment {segment_id} was already settled ({current['status']}) "
            f"by another adjudication; your decision was not saved", current=current)
    raise conflict  # the conflict event is committed above; now tell the caller


def human_rows_df(store: Store, *, source_id: int, coders: Sequence[str]) -> pd.DataFrame:
    """Decided rows of one source that count as someone's judgement: the coders' own and consensus rows.

    Example:
        >>> human_rows_df(Store.create("sqlite://", name="h"), source_id=1, coders=["ana"]).empty
        True
    """
    names = [*coders, CONSENSUS]
    query = _joined(store).where(
        SegmentRow.source_id == source_id, CodingRow.status != "suggested",
        or_(CodingRow.coder.in_(names), and_(CodingRow.decided_by.in_(names))))
    with Session(store.engine) as session:
        rows = session.execute(query.order_by(CodingRow.id)).all()
    return _coding_frame(rows)


def segment_source_ids(store: Store, segment_ids: Sequence[int]) -> dict[int, int]:
    """Map segment ids to their source ids.

    Example:
        >>> segment_source_ids(Store.create("sqlite://", name="m"), [1])
        {}
    """
    if not segment_ids:
        return {}
    with Session(store.engine) as session:
        rows = session.execute(select(SegmentRow.id, SegmentRow.source_id).where(
            SegmentRow.project_id == store.project_id, SegmentRow.id.in_(list(segment_ids)))).all()
    return {int(a): int(b) for a, b in rows}


def child_coding_ids(store: Store, coding_id: int) -> list[int]:
    """Ids of codings derived from a coding (a change's new code, coders' own judgements).

    Example:
        >>> child_coding_ids(Store.create("sqlite://", name="c"), 1)
        []
    """
    with Session(store.engine) as session:
        return [int(i) for i in session.scalars(select(CodingRow.id).where(
            CodingRow.project_id == store.project_id, CodingRow.parent_id == coding_id).order_by(CodingRow.id))]


# ---------------------------------------------------------------------------- log-in attempts and sessions
def login_failures(target: Engine | Store, name: str, *, since: Any) -> tuple[int, Any]:
    """Failed log-ins of ``name`` since ``since`` that came after its last good log-in or password change.

    Returns ``(count, time of the newest failure or None)``; read from the event log, so it holds across
    server processes and restarts.

    Example:
        >>> from datetime import datetime, timezone
        >>> login_failures(Store.create("sqlite://", name="f").engine, "ana", since=datetime(2000, 1, 1,
        ...                tzinfo=timezone.utc))
        (0, None)
    """
    query = (select(EventRow.action, EventRow.outcome, EventRow.at)
             .where(EventRow.project_id.is_(None), EventRow.entity == "user", EventRow.entity_id == name[:100],
                    EventRow.action.in_(["login", "password", "restore", "create"]), EventRow.at >= since)
             .order_by(EventRow.id.desc()).limit(200))
    with Session(_engine(target)) as session:
        rows = session.execute(query).all()
    count, newest = 0, None
    for action, outcome, at in rows:
        if action != "login" or outcome == "ok":
            break
        count += 1
        newest = newest or at
    return count, newest


def start_session_event(target: Engine | Store, name: str, *, expires_at: Any) -> int:
    """Record that ``name`` started a remembered log-in session; returns the event id (the session's id).

    Example:
        >>> from datetime import datetime, timezone
        >>> start_session_event(Store.create("sqlite://", name="s").engine, "ana",
        ...                     expires_at=datetime(2030, 1, 1, tzinfo=timezone.utc)) > 0
        True
    """
    with Session(_engine(target)) as session, session.begin():
        row = EventRow(project_id=None, user=name, action="session-start", entity="session", entity_id=name[:100],
                       new={"expires_at": expires_at.isoformat()}, outcome="ok")
        session.add(row)
        session.flush()
        return int(row.id)


def end_session_event(target: Engine | Store, name: str, session_id: int) -> None:
    """Record that a remembered session ended (log-out): its token no longer logs anyone in.

    Example:
        >>> end_session_event(Store.create("sqlite://", name="e").engine, "ana", 1)
    """
    with Session(_engine(target)) as session, session.begin():
        log_global(session, name, "session-end", "session", name[:100], old={"session": session_id})


def session_is_open(target: Engine | Store, name: str, session_id: int) -> bool:
    """True when ``session_id`` is a started, not ended, session of ``name``.

    Example:
        >>> session_is_open(Store.create("sqlite://", name="o").engine, "ana", 1)
        False
    """
    with Session(_engine(target)) as session:
        started = session.scalar(select(EventRow).where(
            EventRow.id == session_id, EventRow.project_id.is_(None), EventRow.action == "session-start",
            EventRow.user == name))
        if started is None:
            return False
        ends = session.scalars(select(EventRow.old).where(
            EventRow.project_id.is_(None), EventRow.entity == "session", EventRow.entity_id == name[:100],
            EventRow.action == "session-end", EventRow.id > session_id)).all()
    return not any((old or {}).get("session") == session_id for old in ends)


def segment_ids_under_review(store: Store) -> list[int]:
    """Segments of the transcripts that still have machine suggestions awaiting review.

    What the app's background retraining refreshes: the transcripts being reviewed, not ones the team
    already finished (those get no new suggestions behind the reviewers' backs).

    Example:
        >>> segment_ids_under_review(Store.create("sqlite://", name="u"))
        []
    """
    pending = (select(SegmentRow.source_id).join(CodingRow, CodingRow.segment_id == SegmentRow.id)
               .where(CodingRow.project_id == store.project_id, CodingRow.status == "suggested",
                      CodingRow.origin != "human").distinct())
    query = (select(SegmentRow.id).where(SegmentRow.project_id == store.project_id,
                                         SegmentRow.source_id.in_(pending.scalar_subquery()))
             .order_by(SegmentRow.id))
    with Session(store.engine) as session:
        return [int(i) for i in session.scalars(query)]
