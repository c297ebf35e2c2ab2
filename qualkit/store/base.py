"""What every part of a :class:`~qualkit.store.repository.Store` shares: the project, transactions and the event log.

The table families (sources, participants, codebooks, codings, memos, projects, events) are mixins over
:class:`StoreBase`; each write runs inside :meth:`StoreBase.transaction` and appends an event with
:meth:`StoreBase.log`. Version-checked writes run in :meth:`StoreBase.checked_transaction`, which turns a
:class:`StaleVersion` raised inside it into a logged ``conflict`` event and a
:class:`~qualkit.errors.ConflictError` for the caller.

Example:
    >>> from qualkit.store.repository import Store
    >>> store = Store.create("sqlite://")
    >>> with store.transaction() as session:
    ...     store.log(session, "ana", "note", "project", store.project_id)
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from qualkit.errors import ConflictError, StoreError
from qualkit.store.event_types import event_row


def no_coding(coding_id: int, project: str) -> StoreError:
    """The error for a coding id the project does not have, with its fix in Python's and the terminal's words.

    Example:
        >>> no_coding(9, "pilot").render("cli")
        "no coding 9 in project 'pilot'. Fix: use an ID@VERSION that `qualkit review queue` or `qualkit show TRANSCRIPT` prints"
    """
    return StoreError(f"no coding {coding_id} in project {project!r}",
                      fix="use an id from project.codings() (the id column), the review queue or the History page",
                      cli_fix="use an ID@VERSION that `qualkit review queue` or `qualkit show TRANSCRIPT` prints")


def check_span(start: int, end: int, segment_id: int | None, seg_start: int, seg_end: int) -> None:
    """Refuse a coding's span unless it is words of its segment: it ends after it starts, inside the segment.

    Example:
        >>> check_span(1143, 1133, 56, 1123, 1205)
        Traceback (most recent call last):
        ...
        qualkit.errors.StoreError: span 1143:1133 ends before it starts. Fix: give an end after the start, within segment 56 (1123:1205)
        >>> check_span(1123, 1130.5, 56, 1123, 1205)
        Traceback (most recent call last):
        ...
        qualkit.errors.StoreError: span end 1130.5 is not a whole number of characters. Fix: give character offsets as integers, within segment 56 (1123:1205)
    """
    where = f"segment {segment_id} ({seg_start}:{seg_end})"
    for name, value in (("start", start), ("end", end)):
        # A float offset was stored once (296.0:303.5) and every export of the study failed on it afterwards.
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise StoreError(f"span {name} {value!r} is not a whole number of characters",
                             fix=f"give character offsets as integers, within {where}")
    if end < start:
        raise StoreError(f"span {start}:{end} ends before it starts", fix=f"give an end after the start, within {where}")
    if end == start:
        raise StoreError(f"span {start}:{end} is empty", fix=f"give an end after the start, within {where}")
    if not seg_start <= start < end <= seg_end:
        raise StoreError(f"span {start}:{end} lies outside {where}",
                         fix="give character offsets into the transcript that lie within the segment")


class StaleVersion(Exception):
    """Raised inside :meth:`StoreBase.checked_transaction` when a version check fails (never escapes it).

    Example:
        >>> StaleVersion("changed", current={}, user="ana", action="accept", coding_id=1, expected=1,
        ...              changes={}).expected
        1
    """

    def __init__(self, message: str, *, current: dict[str, Any], user: str | None, action: str, coding_id: int,
                 expected: int, changes: dict[str, Any]) -> None:
        super().__init__(message)
        self.message, self.current, self.user, self.action = message, current, user, action
        self.coding_id, self.expected, self.changes = coding_id, expected, changes


class StoreBase:
    """One project inside a qualkit database: its engine, id and name, transactions and the event log.

    Example:
        >>> from qualkit.store.engine import make_engine
        >>> StoreBase(make_engine("sqlite://"), 1, "pilot").name
        'pilot'
    """

    def __init__(self, engine: Engine, project_id: int, name: str) -> None:
        self.engine = engine
        self.project_id = project_id
        self.name = name
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def session(self) -> Session:
        """A session for reading (use it in a ``with`` block; writes go through :meth:`transaction`).

        Example:
            >>> from qualkit.store.repository import Store
            >>> with Store.create("sqlite://").session() as session:
            ...     session.is_active
            True
        """
        return self._sessions()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session inside one transaction: committed on success, rolled back on any error.

        Example:
            >>> from qualkit.store.repository import Store
            >>> store = Store.create("sqlite://")
            >>> with store.transaction() as session:
            ...     store.log(session, "ana", "note", "project", store.project_id)
        """
        with self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def checked_transaction(self) -> Iterator[Session]:
        """A transaction for version-checked writes: a stale version rolls back everything, logs, and raises.

        Inside it, :meth:`~qualkit.store.codings.CodingsMixin.update_coding_in` raises on a version
        mismatch; then nothing of the transaction is kept, the failed attempt is logged as a
        ``conflict`` event in its own transaction, and :class:`ConflictError` (with the current values)
        reaches the caller.

        Example:
            >>> from qualkit.store.repository import Store
            >>> store = Store.create("sqlite://")
            >>> with store.checked_transaction() as session:
            ...     store.log(session, "ana", "note", "project", store.project_id)
        """
        try:
            with self.transaction() as session:
                yield session
        except StaleVersion as stale:
            with self.transaction() as session:
                self.log(session, stale.user, stale.action, "coding", stale.coding_id,
                         old={"expected_version": stale.expected}, new=stale.changes, outcome="conflict")
            raise ConflictError(stale.message, current=stale.current) from None

    def log(
        self,
        session: Session,
        user: str | None,
        action: str,
        entity: str,
        entity_id: int | str | None = None,
        *,
        old: dict[str, Any] | None = None,
        new: dict[str, Any] | None = None,
        outcome: str = "ok",
    ) -> None:
        """Append one event in the caller's transaction (the event log is never updated or deleted).

        ``action`` and ``entity`` come from the fixed vocabulary of :mod:`qualkit.store.events`.
        """
        session.add(event_row(self.project_id, user, action, entity, entity_id, old=old, new=new, outcome=outcome))


__all__ = ["StaleVersion", "StoreBase"]
