"""Users of a database (the study team) and their log-ins: rows, roles, failures and remembered sessions.

Users belong to the whole database, not one project, so their events have no project. Permission
checks and password hashing live one layer up, in :mod:`qualkit.users`.

Example:
    >>> from qualkit.store.repository import Store
    >>> store = Store.create("sqlite://", name="pilot")
    >>> insert_user(store.engine, name="ana", password_hash="x", role="coder", actor="admin")
    >>> users_df(store.engine)["name"].tolist()
    ['ana']
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeAlias

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qualkit.errors import StoreError
from qualkit.model import new_guid
from qualkit.store.event_types import event_row
from qualkit.store.events import engine_of, log_global
from qualkit.store.schema import EventRow, UserRow

Database: TypeAlias = "Database"
"""Where users live: a database engine, or any project's store in it."""

USER_COLUMNS = ["name", "display_name", "role", "can_edit_codebook", "active", "created_at"]


def user_row(target: Database, name: str) -> dict[str, Any] | None:
    """One user's row as a dict (with ``password_hash``), or ``None``.

    Example:
        >>> from qualkit.store.repository import Store
        >>> user_row(Store.create("sqlite://", name="u").engine, "nobody") is None
        True
    """
    with Session(engine_of(target)) as session:
        row = session.scalar(select(UserRow).where(UserRow.name == name))
        if row is None:
            return None
        return {"name": row.name, "display_name": row.display_name, "role": row.role,
                "can_edit_codebook": bool(row.can_edit_codebook), "active": bool(row.active),
                "password_hash": row.password_hash, "created_at": row.created_at}


def count_users(target: Database, *, active_only: bool = True) -> int:
    """How many users the database has.

    Example:
        >>> from qualkit.store.repository import Store
        >>> count_users(Store.create("sqlite://", name="c").engine)
        0
    """
    query = select(func.count()).select_from(UserRow)
    if active_only:
        query = query.where(UserRow.active.is_(True))
    with Session(engine_of(target)) as session:
        return int(session.scalar(query) or 0)


def insert_user(target: Database, *, name: str, password_hash: str, role: str, actor: str | None,
                display_name: str | None = None, can_edit_codebook: bool = False) -> None:
    """Add a user, or bring back a removed one with the new password and role (logged).

    Example:
        >>> from qualkit.store.repository import Store
        >>> engine = Store.create("sqlite://", name="i").engine
        >>> insert_user(engine, name="ben", password_hash="h", role="viewer", actor="admin")
        >>> user_row(engine, "ben")["role"]
        'viewer'
    """
    with Session(engine_of(target)) as session, session.begin():
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


def update_user(target: Database, name: str, *, actor: str | None, **changes: Any) -> None:
    """Change a user's ``role``, ``can_edit_codebook``, ``display_name``, ``password_hash`` or ``active`` (logged).

    The password hash itself never enters the log, only the fact that it changed.

    Example:
        >>> from qualkit.store.repository import Store
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
    with Session(engine_of(target)) as session, session.begin():
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


def users_df(target: Database, *, include_removed: bool = False) -> pd.DataFrame:
    """The team: one row per user (never the password hash).

    Example:
        >>> from qualkit.store.repository import Store
        >>> list(users_df(Store.create("sqlite://", name="d").engine).columns)[:3]
        ['name', 'display_name', 'role']
    """
    query = select(UserRow).order_by(UserRow.name)
    if not include_removed:
        query = query.where(UserRow.active.is_(True))
    with Session(engine_of(target)) as session:
        rows = session.scalars(query).all()
    return pd.DataFrame([[getattr(r, c) for c in USER_COLUMNS] for r in rows], columns=USER_COLUMNS)


def user_guids(target: Database) -> dict[str, str]:
    """Each user's name -> GUID (the identity exports give them), for users that have one.

    Example:
        >>> from qualkit.store.engine import make_engine, migrate
        >>> engine = make_engine("sqlite://")
        >>> migrate(engine)
        >>> insert_user(engine, name="ana", password_hash="h", role="coder", actor=None)
        >>> list(user_guids(engine))
        ['ana']
    """
    with Session(engine_of(target)) as session:
        return {r.name: r.guid for r in session.scalars(select(UserRow)) if r.guid}


def record_login(target: Database, name: str, *, outcome: str) -> None:
    """Log one log-in attempt of ``name`` (``ok``, ``denied`` or ``locked``; never the password).

    Example:
        >>> from qualkit.store.engine import make_engine, migrate
        >>> engine = make_engine("sqlite://")
        >>> migrate(engine)
        >>> from datetime import datetime, timezone
        >>> record_login(engine, "ana", outcome="denied")
        >>> login_failures(engine, "ana", since=datetime(2000, 1, 1, tzinfo=timezone.utc))[0]
        1
    """
    with Session(engine_of(target)) as session, session.begin():
        log_global(session, name[:200], "login", "user", name[:100], outcome=outcome)


def login_failures(target: Database, name: str, *, since: datetime) -> tuple[int, datetime | None]:
    """Failed log-ins of ``name`` since ``since`` that came after its last good log-in or password change.

    Returns ``(count, time of the newest failure or None)``; read from the event log, so it holds across
    server processes and restarts.

    Example:
        >>> from qualkit.store.repository import Store
        >>> from datetime import datetime, timezone
        >>> login_failures(Store.create("sqlite://", name="f").engine, "ana", since=datetime(2000, 1, 1,
        ...                tzinfo=timezone.utc))
        (0, None)
    """
    query = (select(EventRow.action, EventRow.outcome, EventRow.at)
             .where(EventRow.project_id.is_(None), EventRow.entity == "user", EventRow.entity_id == name[:100],
                    EventRow.action.in_(["login", "password", "restore", "create"]), EventRow.at >= since)
             .order_by(EventRow.id.desc()).limit(200))
    with Session(engine_of(target)) as session:
        rows = session.execute(query).all()
    count, newest = 0, None
    for action, outcome, at in rows:
        if action != "login" or outcome == "ok":
            break
        count += 1
        newest = newest or at
    return count, newest


def start_session_event(target: Database, name: str, *, expires_at: datetime) -> int:
    """Record that ``name`` started a remembered log-in session; returns the event id (the session's id).

    Example:
        >>> from qualkit.store.repository import Store
        >>> from datetime import datetime, timezone
        >>> start_session_event(Store.create("sqlite://", name="s").engine, "ana",
        ...                     expires_at=datetime(2030, 1, 1, tzinfo=timezone.utc)) > 0
        True
    """
    with Session(engine_of(target)) as session, session.begin():
        row = event_row(None, name, "session-start", "session", name[:100], new={"expires_at": expires_at.isoformat()})
        session.add(row)
        session.flush()
        return int(row.id)


def end_session_event(target: Database, name: str, session_id: int) -> None:
    """Record that a remembered session ended (log-out): its token no longer logs anyone in.

    Example:
        >>> from qualkit.store.repository import Store
        >>> end_session_event(Store.create("sqlite://", name="e").engine, "ana", 1)
    """
    with Session(engine_of(target)) as session, session.begin():
        log_global(session, name, "session-end", "session", name[:100], old={"session": session_id})


def session_is_open(target: Database, name: str, session_id: int) -> bool:
    """True when ``session_id`` is a started, not ended, session of ``name``.

    Example:
        >>> from qualkit.store.repository import Store
        >>> session_is_open(Store.create("sqlite://", name="o").engine, "ana", 1)
        False
    """
    with Session(engine_of(target)) as session:
        started = session.scalar(select(EventRow).where(
            EventRow.id == session_id, EventRow.project_id.is_(None), EventRow.action == "session-start",
            EventRow.user == name))
        if started is None:
            return False
        ends = session.scalars(select(EventRow.old).where(
            EventRow.project_id.is_(None), EventRow.entity == "session", EventRow.entity_id == name[:100],
            EventRow.action == "session-end", EventRow.id > session_id)).all()
    return not any((old or {}).get("session") == session_id for old in ends)


__all__ = ["USER_COLUMNS", "Database", "count_users", "end_session_event", "insert_user", "login_failures", "record_login", "session_is_open", "start_session_event", "update_user", "user_guids", "user_row", "users_df"]
