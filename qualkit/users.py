"""The study team: users, their roles and what each role may do, and salted password hashes.

Roles are an enum with ``can_*`` methods (as in Taguette), so every check in the app and the library
asks the same question in the same words. Passwords are stored only as bcrypt hashes (salted, with
the cost in the hash); nothing here imports Streamlit.

Who acts on which database, and what an unregistered name may do, is decided in one place:
:mod:`qualkit.access` (the same rule for ``Project``, the CLI and the app). :func:`actor` here is its
building block for registered names.

Example:
    >>> Role.VIEWER.can_code(), Role.CODER.can_code(), Role.CODER.can_edit_codebook()
    (False, True, False)
    >>> User("ana", Role.CODER, codebook_editor=True).can_edit_codebook()
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import pandas as pd

from qualkit.errors import InvalidInput, PermissionDenied
from qualkit.store.decisions import CONSENSUS
from qualkit.store.events import global_events_df
from qualkit.store.projects import demo_user_names
from qualkit.store.repository import Store
from qualkit.store.users import (
    Database,
    count_users,
    end_session_event,
    insert_user,
    login_failures,
    record_login,
    session_is_open,
    start_session_event,
    update_user,
    user_row,
    users_df,
)

MIN_PASSWORD_LENGTH = 8
BCRYPT_ROUNDS = 12
MAX_FAILED_LOGINS = 5  # failures in a row within LOCKOUT_MINUTES lock the name for LOCKOUT_MINUTES
LOCKOUT_MINUTES = 15
SESSION_HOURS = 12.0  # how long a log-in is remembered by the app (a reload or a link keeps you logged in)
SESSION_HOURS_MAX = 24.0 * 30
# Demo accounts: created only by ``qualkit demo``; the log-in page shows these passwords only for users
# listed in a project's ``settings["demo_users"]``.
DEMO_USERS: tuple[tuple[str, str, str], ...] = (
    ("admin", "demo-admin-pass", "admin"),
    ("ana", "demo-ana-pass", "coder"),
    ("ben", "demo-ben-pass", "coder"),
)
# A valid hash of a random password, checked when the user is unknown so the answer takes as long.
_DUMMY_HASH = "$2b$12$jPZEEHxqIbiUqnJXGDsok.iFK9g/Ip57d.iXt/IRjd8fTFn0txW8G"


class Role(StrEnum):
    """What a team member may do: ``admin`` everything, ``coder`` code and review, ``viewer`` only look.

    Example:
        >>> Role("coder").can_adjudicate()
        True
    """

    ADMIN = "admin"
    CODER = "coder"
    VIEWER = "viewer"

    def can_view(self) -> bool:
        """Read the study, its codings, themes and analyses (everyone)."""
        return True

    def can_code(self) -> bool:
        """Decide on suggestions, apply codes, adjust spans and write memos."""
        return self in (Role.ADMIN, Role.CODER)

    def can_edit_codebook(self, *, allowed: bool = False) -> bool:
        """Change the codebook: administrators, and coders the administrator allowed to."""
        return self is Role.ADMIN or (self is Role.CODER and allowed)

    def can_adjudicate(self) -> bool:
        """Settle disagreements after blind double-coding."""
        return self in (Role.ADMIN, Role.CODER)

    def can_run_analyses(self) -> bool:
        """Run theme discovery, retraining and other computations that write results."""
        return self in (Role.ADMIN, Role.CODER)

    def can_import(self) -> bool:
        """Create projects, import transcripts, edit participants and speaker aliases."""
        return self is Role.ADMIN

    def can_assign(self) -> bool:
        """Assign transcripts to coders (blind double-coding) and reopen assignments."""
        return self is Role.ADMIN

    def can_manage_users(self) -> bool:
        """Add and remove users and change their roles."""
        return self is Role.ADMIN

    def can_export(self) -> bool:
        """Download exports and reports (reading, so everyone)."""
        return True


ROLES: tuple[str, ...] = tuple(r.value for r in Role)


@dataclass(frozen=True, slots=True)
class User:
    """A team member as the app and the library see them (never with the password hash).

    Example:
        >>> u = User("ben", Role.VIEWER)
        >>> u.can_code()
        False
        >>> u.require("code")  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        qualkit.errors.PermissionDenied: ben is a viewer and may not code ...
    """

    name: str
    role: Role = Role.CODER
    display_name: str | None = None
    codebook_editor: bool = False
    registered: bool = True

    @property
    def label(self) -> str:
        """The name to show: display name if set, else the log-in name."""
        return self.display_name or self.name

    def can_view(self) -> bool:
        """See :meth:`Role.can_view`."""
        return self.role.can_view()

    def can_code(self) -> bool:
        """See :meth:`Role.can_code`."""
        return self.role.can_code()

    def can_edit_codebook(self) -> bool:
        """See :meth:`Role.can_edit_codebook`; a coder needs the administrator's permission."""
        return self.role.can_edit_codebook(allowed=self.codebook_editor)

    def can_adjudicate(self) -> bool:
        """See :meth:`Role.can_adjudicate`."""
        return self.role.can_adjudicate()

    def can_run_analyses(self) -> bool:
        """See :meth:`Role.can_run_analyses`."""
        return self.role.can_run_analyses()

    def can_import(self) -> bool:
        """See :meth:`Role.can_import`."""
        return self.role.can_import()

    def can_assign(self) -> bool:
        """See :meth:`Role.can_assign`."""
        return self.role.can_assign()

    def can_manage_users(self) -> bool:
        """See :meth:`Role.can_manage_users`."""
        return self.role.can_manage_users()

    def can_export(self) -> bool:
        """See :meth:`Role.can_export`."""
        return self.role.can_export()

    def require(self, permission: str) -> None:
        """Raise :class:`PermissionDenied` unless ``can_<permission>()`` is true.

        Example:
            >>> User("root", Role.ADMIN).require("manage_users")
        """
        check = getattr(self, f"can_{permission}", None)
        if check is None:
            raise ValueError(f"unknown permission {permission!r}")
        if not check():
            what = {"import": "import or remove transcripts"}.get(permission, permission.replace("_", " "))
            fix = ("ask an administrator to allow you to edit the codebook" if permission == "edit_codebook"
                   else "ask an administrator to change your role")
            raise PermissionDenied(f"{self.name} is a {self.role.value} and may not {what}", fix=fix)


# ---------------------------------------------------------------------------- passwords
def _password_bytes(password: str) -> bytes:
    data = password.encode("utf-8")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"the password is shorter than {MIN_PASSWORD_LENGTH} characters",
                           fix="choose a longer password (a few words make a good one)")
    if len(data) > 72:  # bcrypt reads only 72 bytes; refusing is clearer than silently ignoring the rest
        raise InvalidInput("the password is longer than 72 bytes", fix="choose a shorter password")
    return data


def hash_password(password: str, *, rounds: int = BCRYPT_ROUNDS) -> str:
    """Hash a password with bcrypt (a fresh random salt; the cost is stored in the hash).

    Example:
        >>> h = hash_password("correct horse", rounds=4)
        >>> h.startswith("$2b$04$"), verify_password("correct horse", h)
        (True, True)
    """
    import bcrypt

    return bcrypt.hashpw(_password_bytes(password), bcrypt.gensalt(rounds=rounds)).decode("ascii")


def verify_password(password: str, password_hash: str | None) -> bool:
    """True when ``password`` matches the stored bcrypt hash (False for an empty or invalid hash).

    Example:
        >>> verify_password("wrong password", hash_password("right password", rounds=4))
        False
    """
    import bcrypt

    if not password_hash:
        return False
    data = password.encode("utf-8")
    if len(data) > 72:
        return False
    try:
        return bcrypt.checkpw(data, password_hash.encode("ascii"))
    except ValueError:
        return False


# ---------------------------------------------------------------------------- the team in the database
def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 100 or any(ch.isspace() for ch in name):
        raise InvalidInput(f"{name!r} is not a usable log-in name",
                           fix="use a short name without spaces, such as ana or j.smith")
    if name == CONSENSUS:
        raise InvalidInput(f"{name!r} is reserved for adjudicated decisions", fix="choose another name")
    return name


_RANK = {Role.VIEWER: 0, Role.CODER: 1, Role.ADMIN: 2}


def _check_team_change(target: Database, actor: str | None, name: str, role: Role | None = None) -> None:
    """Only administrators change the team, and nobody raises their own role.

    ``actor`` None (a caller holding the database, such as a notebook on its own file) or a name that
    is not registered is left to the caller's rule (:mod:`qualkit.access`); a registered actor must be
    an active administrator.
    """
    if actor is None:
        return
    row = user_row(target, actor)
    if row is None:
        return
    if actor == name and role is not None and _RANK[role] > _RANK[Role(row["role"])]:
        raise PermissionDenied(f"{actor} may not raise their own role", fix="ask an administrator")
    if not row["active"] or row["role"] != Role.ADMIN.value:
        User(actor, Role(row["role"]) if row["active"] else Role.VIEWER).require("manage_users")


def _role(role: str | Role) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise InvalidInput(f"unknown role {role!r}", fix=f"use one of {', '.join(ROLES)}") from None


def _user_from_row(row: dict[str, Any]) -> User:
    return User(row["name"], Role(row["role"]), display_name=row["display_name"],
                codebook_editor=bool(row["can_edit_codebook"]))


def add_user(
    target: Database,
    name: str,
    password: str,
    role: str | Role = Role.CODER,
    *,
    display_name: str | None = None,
    can_edit_codebook: bool = False,
    actor: str | None = None,
    rounds: int = BCRYPT_ROUNDS,
) -> User:
    """Add a team member with a salted password hash (a removed user with that name comes back).

    Example:
        >>> store = Store.create("sqlite://", name="team")
        >>> add_user(store, "ana", "a long secret", "coder", rounds=4).role
        <Role.CODER: 'coder'>
    """
    name = _check_name(name)
    role = _role(role)
    _check_team_change(target, actor, name, role)
    insert_user(target, name=name, password_hash=hash_password(password, rounds=rounds),
                     role=role.value, actor=actor, display_name=display_name, can_edit_codebook=can_edit_codebook)
    return User(name, role, display_name=display_name, codebook_editor=can_edit_codebook)


def remove_user(target: Database, name: str, *, actor: str | None = None) -> None:
    """Remove a user's access (the row stays, inactive and without a password, so history keeps its name).

    Refuses to remove the last administrator.

    Example:
        >>> store = Store.create("sqlite://", name="rm")
        >>> _ = add_user(store, "ben", "a long secret", rounds=4)
        >>> remove_user(store, "ben")
        >>> get_user(store, "ben") is None
        True
    """
    _check_team_change(target, actor, name)
    row = user_row(target, name)
    if row is None or not row["active"]:
        raise InvalidInput(f"no user named {name!r}", fix="list users with `qualkit users list`")
    if row["role"] == Role.ADMIN and _admins(target) == [name]:
        raise InvalidInput(f"{name!r} is the last administrator", fix="make someone else an administrator first")
    update_user(target, name, actor=actor, active=False, password_hash=None)


def _admins(target: Database) -> list[str]:
    frame = users_df(target)
    return frame.loc[frame["role"] == Role.ADMIN.value, "name"].tolist()


def set_role(target: Database, name: str, role: str | Role, *, can_edit_codebook: bool | None = None,
             actor: str | None = None) -> User:
    """Change a user's role (and, optionally, whether a coder may edit the codebook).

    Example:
        >>> store = Store.create("sqlite://", name="role")
        >>> _ = add_user(store, "ana", "a long secret", rounds=4)
        >>> set_role(store, "ana", "coder", can_edit_codebook=True).can_edit_codebook()
        True
    """
    role = _role(role)
    _check_team_change(target, actor, name, Role.ADMIN if can_edit_codebook and actor == name else role)
    row = user_row(target, name)
    if row is None or not row["active"]:
        raise InvalidInput(f"no user named {name!r}", fix="list users with `qualkit users list`")
    if row["role"] == Role.ADMIN and role is not Role.ADMIN and _admins(target) == [name]:
        raise InvalidInput(f"{name!r} is the last administrator", fix="make someone else an administrator first")
    changes: dict[str, Any] = {"role": role.value}
    if can_edit_codebook is not None:
        changes["can_edit_codebook"] = can_edit_codebook
    update_user(target, name, actor=actor, **changes)
    return _user_from_row({**row, **changes})


def set_password(target: Database, name: str, password: str, *, actor: str | None = None,
                 rounds: int = BCRYPT_ROUNDS) -> None:
    """Give a user a new password (stored as a fresh salted hash).

    Example:
        >>> store = Store.create("sqlite://", name="pw")
        >>> _ = add_user(store, "ana", "a long secret", rounds=4)
        >>> set_password(store, "ana", "another secret", rounds=4)
        >>> authenticate(store, "ana", "another secret").name
        'ana'
    """
    if actor != name:
        _check_team_change(target, actor, name)
    row = user_row(target, name)
    if row is None or not row["active"]:
        raise InvalidInput(f"no user named {name!r}", fix="list users with `qualkit users list`")
    update_user(target, name, actor=actor, password_hash=hash_password(password, rounds=rounds))


def get_user(target: Database, name: str) -> User | None:
    """An active user by log-in name, or ``None``.

    Example:
        >>> get_user(Store.create("sqlite://", name="g"), "nobody") is None
        True
    """
    row = user_row(target, name)
    if row is None or not row["active"]:
        return None
    return _user_from_row(row)


def list_users(target: Database) -> pd.DataFrame:
    """The team as a DataFrame: name, display name, role, codebook permission, since when.

    Example:
        >>> list_users(Store.create("sqlite://", name="l")).empty
        True
    """
    return users_df(target)


def has_users(target: Database) -> bool:
    """True when the database has at least one active user.

    Example:
        >>> has_users(Store.create("sqlite://", name="h"))
        False
    """
    return count_users(target) > 0


def check_password(target: Database, name: str, password: str) -> bool:
    """True when ``password`` is the active user ``name``'s password (nothing is logged: not a log-in).

    Example:
        >>> store = Store.create("sqlite://", name="cp")
        >>> _ = add_user(store, "ana", "a long secret", rounds=4)
        >>> check_password(store, "ana", "a long secret"), check_password(store, "ana", "wrong")
        (True, False)
    """
    row = user_row(target, name)
    return bool(row and row["active"]) and verify_password(password, row["password_hash"])


def team_events(target: Database, *, limit: int = 200) -> pd.DataFrame:
    """User management and log-in events of the database (no project's), newest first.

    Example:
        >>> team_events(Store.create("sqlite://", name="te")).empty
        True
    """
    return global_events_df(target, limit=limit)


def demo_password_hashes(target: Database) -> tuple[str, ...]:
    """The stored password hashes of the demo accounts ("" when absent): what :func:`demo_logins` depends on.

    Example:
        >>> demo_password_hashes(Store.create("sqlite://", name="dp"))
        ('', '', '')
    """
    return tuple((user_row(target, name) or {}).get("password_hash") or "" for name, _, _ in DEMO_USERS)


def authenticate(target: Database, name: str, password: str) -> User:
    """Check a log-in; every attempt is logged (never the password). Wrong name or password look the same.

    After :data:`MAX_FAILED_LOGINS` failures in a row within :data:`LOCKOUT_MINUTES`, the name is locked
    for that long (even the right password is refused, with a message saying when to try again); a
    password reset by an administrator lifts the lock at once.

    Example:
        >>> store = Store.create("sqlite://", name="auth")
        >>> _ = add_user(store, "ana", "a long secret", rounds=4)
        >>> authenticate(store, "ana", "a long secret").role.value
        'coder'
    """
    engine = target
    name = (name or "").strip()
    locked = lockout_remaining(engine, name)
    if locked:
        record_login(engine, name, outcome="locked")
        minutes = max(1, -(-locked // 60))
        raise PermissionDenied(
            f"too many failed log-ins for {name!r}; try again in {minutes} minute{'s' if minutes != 1 else ''}",
            fix=f"wait, or ask an administrator to reset your password (`qualkit users passwd {name}`), which "
                "lifts the lock")
    row = user_row(engine, name)
    good = verify_password(password, row["password_hash"]) if row and row["active"] else False
    if row is None or not row["active"]:
        verify_password(password, _DUMMY_HASH)  # same work as for a known name
    record_login(engine, name, outcome="ok" if good else "denied")
    if not good:
        failures, _ = login_failures(engine, name, since=_now() - timedelta(minutes=LOCKOUT_MINUTES))
        left = MAX_FAILED_LOGINS - failures
        warning = (f" ({left} more failed attempt{'s' if left != 1 else ''} locks this name for {LOCKOUT_MINUTES} "
                   "minutes)") if 0 < left <= 2 else ""
        if left <= 0:  # this attempt locked it: say so now, not at the next attempt
            warning = f"; that was the {MAX_FAILED_LOGINS}th failed attempt: this name is locked for {LOCKOUT_MINUTES} minutes"
        raise PermissionDenied("unknown user name or wrong password" + warning,
                               fix="check both, or ask an administrator to reset your password")
    return _user_from_row(row)


def lockout_remaining(target: Database, name: str) -> int:
    """Seconds until ``name`` may try to log in again (0 when it is not locked).

    Example:
        >>> lockout_remaining(Store.create("sqlite://", name="lock"), "ana")
        0
    """
    now = _now()
    failures, newest = login_failures(target, (name or "").strip(),
                                           since=now - timedelta(minutes=LOCKOUT_MINUTES))
    if failures < MAX_FAILED_LOGINS or newest is None:
        return 0
    if newest.tzinfo is None:  # SQLite hands back naive UTC times
        newest = newest.replace(tzinfo=UTC)
    return max(0, int((newest + timedelta(minutes=LOCKOUT_MINUTES) - now).total_seconds()))


def _now() -> datetime:
    return datetime.now(UTC)


# ---------------------------------------------------------------------------- remembered log-ins (the app)
def _serializer(secret: str):
    try:
        from itsdangerous import URLSafeTimedSerializer
    except ImportError as error:  # the app extra brings it (Streamlit depends on it too)
        from qualkit.errors import MissingDependency

        raise MissingDependency("itsdangerous", extra="app") from error
    return URLSafeTimedSerializer(secret, salt="qualkit-session")


def _hash_fingerprint(password_hash: str | None) -> str:
    import hashlib

    return hashlib.sha256((password_hash or "").encode("ascii")).hexdigest()[:16]


def start_session(target: Database, user: User, secret: str, *, hours: float = SESSION_HOURS) -> str:
    """A signed token that logs ``user`` in again (after a reload or from a link) until it expires.

    The token names a ``session-start`` event, so logging out (:func:`end_session`) ends it on the
    server too; it also carries a fingerprint of the password hash, so a new password or removal
    ends every session of that user. Signed with ``secret`` by itsdangerous; nothing secret is inside.

    Example:
        >>> store = Store.create("sqlite://", name="sess")
        >>> ana = add_user(store, "ana", "a long secret", rounds=4)
        >>> token = start_session(store, ana, "server secret")
        >>> resume_session(store, token, "server secret").name
        'ana'
    """
    row = user_row(target, user.name)
    if row is None or not row["active"]:
        raise PermissionDenied(f"{user.name!r} is not an active user")
    expires = _now() + timedelta(hours=hours)
    session_id = start_session_event(target, user.name, expires_at=expires)
    return _serializer(secret).dumps({"u": user.name, "s": session_id, "h": _hash_fingerprint(row["password_hash"]),
                                      "x": hours})


def resume_session(target: Database, token: str, secret: str) -> User | None:
    """The user a :func:`start_session` token logs in, or None (bad signature, expired, logged out, changed).

    Example:
        >>> resume_session(Store.create("sqlite://", name="r"), "forged.token", "server secret") is None
        True
    """
    from itsdangerous import BadData

    serializer = _serializer(secret)
    try:
        data = serializer.loads(token, max_age=int(SESSION_HOURS_MAX * 3600))
        serializer.loads(token, max_age=int(float(data.get("x", SESSION_HOURS)) * 3600))
    except (BadData, TypeError, ValueError, AttributeError):
        return None
    name, session_id = str(data.get("u", "")), data.get("s")
    row = user_row(target, name)
    if row is None or not row["active"] or not isinstance(session_id, int):
        return None
    if data.get("h") != _hash_fingerprint(row["password_hash"]):
        return None
    if not session_is_open(target, name, session_id):
        return None
    return _user_from_row(row)


def end_session(target: Database, token: str, secret: str) -> None:
    """End the session of a token (log-out): it no longer logs anyone in, even if a copy of it was kept.

    Example:
        >>> end_session(Store.create("sqlite://", name="e"), "bad.token", "server secret")
    """
    from itsdangerous import BadData

    try:
        data = _serializer(secret).loads(token)
    except BadData:
        return
    if isinstance(data, dict) and isinstance(data.get("s"), int):
        end_session_event(target, str(data.get("u", "")), data["s"])


def actor(target: Database, name: str) -> User:
    """The :class:`User` acting as ``name``: the registered user, else a local administrator (see module doc).

    A registered but removed name gets no rights at all (a viewer).

    Example:
        >>> actor(Store.create("sqlite://", name="a"), "notebook-user").role
        <Role.ADMIN: 'admin'>
    """
    row = user_row(target, name)
    if row is None:
        return User(name, Role.ADMIN, registered=False)
    if not row["active"]:
        return User(name, Role.VIEWER)
    return _user_from_row(row)


def create_demo_users(store: Store, *, rounds: int = 10) -> list[tuple[str, str, str]]:
    """Create the demo accounts (an admin and two coders) and mark them in the project's settings.

    The log-in page shows their passwords only because of that mark; use this for the demo study only.

    Example:
        >>> store = Store.create("sqlite://", name="demo")
        >>> [name for name, _, _ in create_demo_users(store, rounds=4)]
        ['admin', 'ana', 'ben']
    """
    for name, password, role in DEMO_USERS:
        if get_user(store, name) is None:
            add_user(store, name, password, role, actor="qualkit-demo", rounds=rounds)
    store.update_settings(user="qualkit-demo", demo_users=[name for name, _, _ in DEMO_USERS])
    return list(DEMO_USERS)


def demo_logins(target: Database) -> list[tuple[str, str, str]]:
    """The demo accounts to show on the log-in page: marked by the demo study and still with the demo password.

    A demo account whose password was changed is not shown (its shown password would not work).

    Example:
        >>> demo_logins(Store.create("sqlite://", name="x"))
        []
    """
    marked = set(demo_user_names(target))
    out = []
    for name, password, role in DEMO_USERS:
        row = user_row(target, name) if name in marked else None
        if row is not None and row["active"] and verify_password(password, row["password_hash"]):
            out.append((name, password, role))
    return out


__all__ = [
    "DEMO_USERS",
    "ROLES",
    "Role",
    "User",
    "actor",
    "add_user",
    "authenticate",
    "check_password",
    "create_demo_users",
    "demo_logins",
    "demo_password_hashes",
    "end_session",
    "get_user",
    "has_users",
    "hash_password",
    "list_users",
    "lockout_remaining",
    "remove_user",
    "resume_session",
    "set_password",
    "set_role",
    "start_session",
    "team_events",
    "verify_password",
]
