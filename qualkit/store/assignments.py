"""Assignments: which coder codes which transcript, blind or not, and whether they are done.

Permission checks live one layer up, in :mod:`qualkit.review.double_coding`.

Example:
    >>> from qualkit.store.repository import Store
    >>> assignments_df(Store.create("sqlite://", name="a")).empty
    True
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from qualkit.errors import StoreError
from qualkit.store.repository import Store
from qualkit.store.schema import AssignmentRow, SourceRow, utcnow

ASSIGNMENT_COLUMNS = ["id", "source_id", "source", "coder", "blind", "done", "assigned_by", "created_at", "done_at"]


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


__all__ = ["ASSIGNMENT_COLUMNS", "add_assignments", "assignments_df", "remove_assignment", "set_assignment_done"]
