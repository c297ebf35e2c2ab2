"""Memos on a segment, a source or a code: write, edit, withdraw and restore (row-version checked), list them.

Example:
    >>> from qualkit.model import Memo
    >>> from qualkit.store.repository import Store
    >>> store = Store.create("sqlite://")
    >>> store.add_memo(Memo("Workload comes up in every group.", author="ana"), user="ana")
    1
    >>> store.memos_df()["author"].tolist()
    ['ana']
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from qualkit.errors import ConflictError, StoreError
from qualkit.model import Memo, new_guid
from qualkit.store.base import StoreBase
from qualkit.store.schema import MemoRow, SegmentRow, utcnow

MEMO_COLUMNS = ["id", "segment_id", "source_id", "code_id", "text", "author", "guid", "created_at", "updated_at",
                "version", "withdrawn_at"]


class MemosMixin(StoreBase):
    """Memos (a part of :class:`~qualkit.store.repository.Store`)."""

    def add_memo(self, memo: Memo, *, user: str | None = None) -> int:
        """Store a memo on a segment, source or code."""
        with self.transaction() as session:
            return self.add_memo_in(session, memo, user=user)

    def add_memo_in(self, session: Session, memo: Memo, *, user: str | None = None) -> int:
        """:meth:`add_memo` inside the caller's transaction (an import that also writes other tables).

        Example:
            >>> from qualkit.store.repository import Store
            >>> store = Store.create("sqlite://")
            >>> with store.transaction() as session:
            ...     store.add_memo_in(session, Memo("A first thought.", author="ana"), user="ana")
            1
        """
        row = MemoRow(project_id=self.project_id, segment_id=memo.segment_id, source_id=memo.source_id,
                      code_id=memo.code_id, text=memo.text, author=memo.author or user, guid=memo.guid or new_guid())
        session.add(row)
        session.flush()
        self.log(session, user, "create", "memo", row.id,
                 new={"text": memo.text, "segment_id": memo.segment_id, "code_id": memo.code_id})
        memo.id = row.id
        return row.id

    def update_memo(self, memo_id: int, text: str, *, user: str | None, expected_version: int) -> None:
        """Change a memo's text if nobody else changed it since ``expected_version``."""
        self._change_memo(memo_id, "update", {"text": text}, user=user, expected_version=expected_version,
                          refused="your text was not saved")

    def withdraw_memo(self, memo_id: int, *, user: str | None, expected_version: int) -> None:
        """Withdraw (delete) a memo; the row stays, so :meth:`restore_memo` can bring it back.

        Example:
            >>> from qualkit.store.repository import Store
            >>> store = Store.create("sqlite://")
            >>> memo_id = store.add_memo(Memo("A slip.", author="ana"), user="ana")
            >>> store.withdraw_memo(memo_id, user="ana", expected_version=1)
            >>> len(store.memos_df()), len(store.memos_df(withdrawn=True))
            (0, 1)
        """
        self._change_memo(memo_id, "delete", {"withdrawn_at": utcnow()}, user=user,
                          expected_version=expected_version, refused="it was not deleted")

    def restore_memo(self, memo_id: int, *, user: str | None, expected_version: int) -> None:
        """Bring back a withdrawn memo."""
        self._change_memo(memo_id, "restore", {"withdrawn_at": None}, user=user, expected_version=expected_version,
                          refused="it was not brought back")

    def memo_row(self, memo_id: int) -> dict:
        """One memo as a dict (withdrawn ones too); :class:`StoreError` when the project has no such memo."""
        with self.session() as session:
            row = self._memo_in(session, memo_id)
            return {column: getattr(row, column) for column in MEMO_COLUMNS}

    def _memo_in(self, session: Session, memo_id: int) -> MemoRow:
        """The project's memo ``memo_id``, or :class:`StoreError` naming it."""
        row = session.get(MemoRow, memo_id)
        if row is None or row.project_id != self.project_id:
            raise StoreError(f"no memo {memo_id} in project {self.name!r}", fix="use a memo id of this project")
        return row

    def _change_memo(self, memo_id: int, action: str, values: dict, *, user: str | None, expected_version: int,
                     refused: str) -> None:
        with self.transaction() as session:
            row = self._memo_in(session, memo_id)
            old = {"text": row.text} if "text" in values else {"withdrawn": row.withdrawn_at is not None}
            new = {"text": values["text"]} if "text" in values else {"withdrawn": values["withdrawn_at"] is not None}
            result = session.execute(update(MemoRow).where(MemoRow.id == memo_id, MemoRow.version == expected_version)
                                     .values(**values, version=expected_version + 1, updated_at=utcnow())
                                     .execution_options(synchronize_session=False))
            if result.rowcount == 1:
                self.log(session, user, action, "memo", memo_id, old=old, new=new)
                return
        with self.transaction() as session:
            row = session.get(MemoRow, memo_id)
            self.log(session, user, action, "memo", memo_id, new=new, outcome="conflict")
            current = {"text": row.text, "version": row.version, "author": row.author,
                       "withdrawn": row.withdrawn_at is not None}
        raise ConflictError(f"memo {memo_id} was changed by someone else since you saw it; {refused}",
                            current=current)

    def memos_df(self, *, withdrawn: bool = False) -> pd.DataFrame:
        """The project's memos; ``withdrawn=True`` includes the deleted ones (column ``withdrawn_at``)."""
        query = select(MemoRow).where(MemoRow.project_id == self.project_id).order_by(MemoRow.id)
        if not withdrawn:
            query = query.where(MemoRow.withdrawn_at.is_(None))
        with self.session() as session:
            rows = session.scalars(query).all()
        return pd.DataFrame([[getattr(r, c) for c in MEMO_COLUMNS] for r in rows], columns=MEMO_COLUMNS)


def memo_source_ids(store: StoreBase, memo_ids: Sequence[int]) -> dict[int, int]:
    """Map memo ids to the transcript they are about (their own, or their segment's); others left out.

    Example:
        >>> from qualkit.store.repository import Store
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


__all__ = ["MemosMixin", "memo_source_ids"]
