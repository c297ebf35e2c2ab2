"""The fixed vocabulary of the event log: what happened (action), to what (entity), and how it ended (outcome).

Every event row names one of these, as Taguette's command types do, so the History page, reports and
audits read a closed set of words. The values are the strings the log always stored, so old rows read
the same. A new kind of event is one new member here.

Example:
    >>> EventAction("bulk-accept") is EventAction.BULK_ACCEPT, EventEntity.CODING == "coding"
    (True, True)
    >>> event_row(1, "ana", "accept", "coding", 7).entity_id
    '7'
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from qualkit.errors import StoreError
from qualkit.store.rows import jsonable
from qualkit.store.schema import EventRow


class EventAction(StrEnum):
    """What an event records."""

    # projects, sources, participants, codebooks, memos, theme runs
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    IMPORT = "import"
    SAVE = "save"
    NOTE = "note"
    # codings
    ADD = "add"
    SUGGEST = "suggest"
    RESCORE = "rescore"
    REPLACE = "replace"
    CODE = "code"
    ACCEPT = "accept"
    REJECT = "reject"
    ADJUST = "adjust"
    CHANGE = "change"
    BULK_ACCEPT = "bulk-accept"
    RECODE = "recode"
    ADJUDICATE = "adjudicate"
    REVERT = "revert"
    # transcripts
    REDACT = "redact"
    # participants
    WITHDRAW = "withdraw"
    # assignments (blind double-coding)
    ASSIGN = "assign"
    UNASSIGN = "unassign"
    DONE = "done"
    REOPEN = "reopen"
    # theme edits
    MERGE = "merge"
    SPLIT = "split"
    RENAME = "rename"
    DISCARD = "discard"
    PROMOTE = "promote"
    # users and log-in sessions (events of the database, not of one project)
    LOGIN = "login"
    RESTORE = "restore"
    REMOVE = "remove"
    PASSWORD = "password"
    SESSION_START = "session-start"
    SESSION_END = "session-end"


class EventEntity(StrEnum):
    """The kind of record an event is about (``entity_id`` names which one)."""

    PROJECT = "project"
    SOURCE = "source"
    PARTICIPANT = "participant"
    CODEBOOK = "codebook"
    CODING = "coding"
    MEMO = "memo"
    ASSIGNMENT = "assignment"
    THEME_RUN = "theme_run"
    USER = "user"
    SESSION = "session"


class EventOutcome(StrEnum):
    """How the attempt ended: done, refused because someone changed the record first, or refused at log-in."""

    OK = "ok"
    CONFLICT = "conflict"
    DENIED = "denied"
    LOCKED = "locked"


def _member(kind: type[StrEnum], value: str) -> str:
    try:
        return kind(value).value
    except ValueError:
        raise StoreError(f"{value!r} is not an event {kind.__name__.removeprefix('Event').lower()} of qualkit",
                         fix=f"use a member of {kind.__name__} in qualkit/store/event_types.py "
                             "(a new kind of event is one new member there)") from None


def checked_action(action: str) -> str:
    """``action`` as stored, after checking it is an :class:`EventAction`.

    Example:
        >>> checked_action("accept")
        'accept'
    """
    return _member(EventAction, action)


def event_row(
    project_id: int | None, user: str | None, action: str, entity: str, entity_id: int | str | None = None, *,
    old: dict[str, Any] | None = None, new: dict[str, Any] | None = None, outcome: str = "ok",
) -> EventRow:
    """A new event row (not yet added to a session), its words checked against the vocabulary.

    Example:
        >>> event_row(None, "ana", "dance", "user")  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        qualkit.errors.StoreError: 'dance' is not an event action of qualkit
    """
    return EventRow(project_id=project_id, user=user, action=_member(EventAction, action),
                    entity=_member(EventEntity, entity), entity_id=None if entity_id is None else str(entity_id),
                    old=jsonable(old), new=jsonable(new), outcome=_member(EventOutcome, outcome))


__all__ = ["EventAction", "EventEntity", "EventOutcome", "checked_action", "event_row"]
