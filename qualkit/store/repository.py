"""Reading and writing one project in the store: the :class:`Store` every caller uses.

``Store`` is put together from one part per table family, each in its own module: projects and
settings (:mod:`~qualkit.store.projects`), the event log (:mod:`~qualkit.store.events`), sources and
segments (:mod:`~qualkit.store.sources`), participants (:mod:`~qualkit.store.participants`), codebooks
(:mod:`~qualkit.store.codebooks`), codings (:mod:`~qualkit.store.codings`), memos
(:mod:`~qualkit.store.memos`) and whole-project imports in one transaction (:mod:`~qualkit.store.imports`).
Team work (users, assignments, blind decisions, the review queue) and theme runs are functions over a
``Store`` in :mod:`~qualkit.store.users`, :mod:`~qualkit.store.assignments`,
:mod:`~qualkit.store.decisions`, :mod:`~qualkit.store.queries` and :mod:`~qualkit.store.theme_runs`.

Every write runs in one transaction (an import that fails leaves nothing behind) and appends an event
with the user, the time, and the old and new values. Updates to codings, memos and participants check
the row ``version`` the caller read, so two people changing the same record never lose a change
silently: the second gets a :class:`~qualkit.errors.ConflictError` carrying the current values, and
the failed attempt is logged too.

Example:
    >>> store = Store.create("sqlite://", name="demo")
    >>> store.codebook_versions().empty, store.events_df()["action"].tolist()
    (True, ['create'])
    >>> [c.__name__ for c in Store.__mro__][1:4]
    ['ProjectsMixin', 'EventsMixin', 'SourcesMixin']
"""

from __future__ import annotations

from qualkit.store.codebooks import CodebooksMixin
from qualkit.store.codings import CodingsMixin
from qualkit.store.events import EventsMixin
from qualkit.store.imports import ImportsMixin
from qualkit.store.memos import MemosMixin
from qualkit.store.participants import ParticipantsMixin
from qualkit.store.projects import ProjectsMixin
from qualkit.store.sources import SourcesMixin


class Store(ProjectsMixin, EventsMixin, SourcesMixin, ParticipantsMixin, CodebooksMixin, CodingsMixin, MemosMixin,
            ImportsMixin):
    """One project inside a qualkit database (SQLite file or any SQLAlchemy URL).

    Use :meth:`create` or :meth:`open`; the constructor only stores its arguments.

    Example:
        >>> store = Store.create("sqlite://", name="pilot")
        >>> store.name
        'pilot'
    """


__all__ = ["Store"]
