"""A whole review recorded at once: accept and reject suggestions and add codings in one transaction.

Used when a coder's finished work arrives from outside the app (a gold-standard file, another tool): the
result is the same as if they had clicked through the review queue, with one event per changed row,
and either all of it is stored or none of it.

Example:
    >>> record_review(Store.create("sqlite://"), user="ana")
    {'accepted': 0, 'rejected': 0, 'added': 0}
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from qualkit.errors import ConflictError
from qualkit.model import Coding
from qualkit.store.repository import Store
from qualkit.store.schema import CodingRow, utcnow


def record_review(
    store: Store,
    *,
    accept: Sequence[int] = (),
    reject: Sequence[int] = (),
    add: Sequence[Coding] = (),
    user: str,
    action: str = "import",
) -> dict[str, int]:
    """Accept and reject pending suggestions (by id) and add codings, as ``user``, all in one transaction.

    Only suggestions still pending can be decided: if any was decided meanwhile, nothing is stored and
    :class:`ConflictError` names it.
    """
    decisions = {int(i): "accepted" for i in accept} | {int(i): "rejected" for i in reject}
    with store.transaction() as session:
        rows = session.scalars(select(CodingRow).where(CodingRow.project_id == store.project_id,
                                                      CodingRow.id.in_(list(decisions)))).all() if decisions else []
        if len(rows) != len(decisions) or any(r.status != "suggested" for r in rows):
            taken = sorted(set(decisions) - {r.id for r in rows if r.status == "suggested"})
            raise ConflictError(f"{len(taken)} of the suggestions to decide are gone or decided already "
                                f"(first: {taken[0]}); nothing was saved", current={"ids": taken[:20]})
        now = utcnow()
        for row in rows:
            status = decisions[row.id]
            store.log(session, user, action, "coding", row.id, old={"status": row.status, "version": row.version},
                      new={"status": status, "version": row.version + 1})
            row.status, row.decided_by, row.decided_at = status, user, now
            row.updated_at, row.version = now, row.version + 1
        if add:
            store.insert_codings_in(session, list(add), user=user, action=action)
    return {"accepted": sum(s == "accepted" for s in decisions.values()),
            "rejected": sum(s == "rejected" for s in decisions.values()), "added": len(add)}
