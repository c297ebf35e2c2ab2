"""Reading the append-only event log: a project's events, the database's own (users, log-ins), the generation.

Events are written with :meth:`~qualkit.store.base.StoreBase.log` inside the transaction of the change
they record (or :func:`log_global` for users and log-ins, which belong to no project); their words come
from :mod:`qualkit.store.event_types`.

Example:
    >>> from qualkit.store.repository import Store
    >>> store = Store.create("sqlite://", name="g")
    >>> store.events_df()["action"].tolist(), store.generation() > 0
    (['create'], True)
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from qualkit.store.base import StoreBase
from qualkit.store.event_types import event_row
from qualkit.store.schema import EventRow

EVENT_COLUMNS = ["id", "at", "user", "action", "entity", "entity_id", "old", "new", "outcome"]


def engine_of(target: Engine | StoreBase) -> Engine:
    """The engine of a store, or the engine itself (database-wide tables such as users take either).

    Example:
        >>> from qualkit.store.engine import make_engine
        >>> engine = make_engine("sqlite://")
        >>> engine_of(engine) is engine
        True
    """
    return target.engine if isinstance(target, StoreBase) else target


class EventsMixin(StoreBase):
    """The project's event log (a part of :class:`~qualkit.store.repository.Store`)."""

    def events_df(self, entity: str | None = None, entity_id: int | str | None = None, limit: int | None = None) -> pd.DataFrame:
        """The event log, newest first, optionally for one entity.

        Example:
            >>> from qualkit.store.repository import Store
            >>> Store.create("sqlite://").events_df()["action"].tolist()
            ['create']
        """
        query = select(EventRow).where(EventRow.project_id == self.project_id)
        if entity is not None:
            query = query.where(EventRow.entity == entity)
        if entity_id is not None:
            query = query.where(EventRow.entity_id == str(entity_id))
        query = query.order_by(EventRow.id.desc())
        if limit:
            query = query.limit(limit)
        with self.session() as session:
            rows = session.scalars(query).all()
        return pd.DataFrame(
            [{"id": r.id, "at": r.at, "user": r.user, "action": r.action, "entity": r.entity,
              "entity_id": r.entity_id, "old": r.old, "new": r.new, "outcome": r.outcome} for r in rows],
            columns=EVENT_COLUMNS,
        )

    def generation(self) -> int:
        """The id of the project's newest event: it changes whenever anyone writes anything to the project.

        The app keys its cached queries on it, so a write by any user in any process invalidates them.

        Example:
            >>> from qualkit.store.repository import Store
            >>> store = Store.create("sqlite://", name="g")
            >>> before = store.generation()
            >>> store.update_settings(user="ana", colour="blue") and store.generation() > before
            True
        """
        with self.session() as session:
            return int(session.scalar(select(func.max(EventRow.id)).where(EventRow.project_id == self.project_id))
                       or 0)


def log_global(session: Session, user: str | None, action: str, entity: str, entity_id: int | str | None = None, *,
               old: dict[str, Any] | None = None, new: dict[str, Any] | None = None, outcome: str = "ok") -> None:
    """Append an event that belongs to the database rather than one project (users, log-ins).

    Example:
        >>> from sqlalchemy.orm import Session
        >>> from qualkit.store.repository import Store
        >>> store = Store.create("sqlite://", name="e")
        >>> with Session(store.engine) as session, session.begin():
        ...     log_global(session, "ana", "login", "user", "ana")
    """
    session.add(event_row(None, user, action, entity, entity_id, old=old, new=new, outcome=outcome))


def global_events_df(target: Engine | StoreBase, *, entity: str | None = None, limit: int = 200) -> pd.DataFrame:
    """Events that belong to no project (user management, log-ins), newest first.

    Example:
        >>> from qualkit.store.repository import Store
        >>> global_events_df(Store.create("sqlite://", name="x").engine).empty
        True
    """
    query = select(EventRow).where(EventRow.project_id.is_(None))
    if entity is not None:
        query = query.where(EventRow.entity == entity)
    with Session(engine_of(target)) as session:
        rows = session.scalars(query.order_by(EventRow.id.desc()).limit(limit)).all()
    return pd.DataFrame([[getattr(r, c) for c in EVENT_COLUMNS] for r in rows], columns=EVENT_COLUMNS)


__all__ = ["EVENT_COLUMNS", "EventsMixin", "engine_of", "global_events_df", "log_global"]
