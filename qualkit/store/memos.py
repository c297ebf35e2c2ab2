"""Memos on a segment, a source or a code: write, edit (row-version checked) and list them.

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
        with self.session() as session:
            rows = session.scalars(select(MemoRow).where(MemoRow.project_id == self.project_id)
                                   .order_by(MemoRow.id)).all()
        columns = ["id", "segment_id", "source_id", "code_id", "text", "author", "guid", "created_at", "updated_at",
                   "version"]
        return pd.DataFrame([[getattr(r, c) for c in columns] for r in rows], columns=columns)


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
