"""Who may do what: ONE authorisation rule for ``Project``, the CLI, exports, reports, analyses and reliability.

Whoever acts is a user: the app's log-in, ``Project.open(..., user=)``, the CLI's ``--user`` or
``$QUALKIT_USER``. :class:`Access` resolves that name to a :class:`~qualkit.users.User` (role re-read from
the database on every check, so a role change applies at once) and applies two things:

- **the role** (:class:`~qualkit.users.Role`: admin, coder, viewer) to every write, through
  :func:`requires` on each ``Project`` method (the table :data:`PROJECT_RULES` lists them all);
- **blind double-coding visibility** (:class:`~qualkit.review.visibility.TeamView`, the same rule as the
  app): a coder who codes a transcript blind beside someone does not see the other's codings, decisions,
  memos or events, nor project-wide results (analyses, exports, reports, reliability with them) until
  every coder of that transcript is done.

Who is acting when no registered user is named:

- a **local SQLite file** acts as its owner (an administrator): whoever has the file has the data anyway.
  A registered name still gets its own role, so ``user="vic"`` for a viewer is refused a write;
- a **shared database** (PostgreSQL) needs a named user for every write: without one, or with a name
  that is not on the team, the project is read-only. A database with no users yet lets the first named
  user act as its administrator (to add the team); the machine coder (``auto``, the app's background
  retraining) may store suggestions and nothing else.

Only administrators manage users and roles, and nobody raises their own role (:func:`check_user_change`).

Example:
    >>> from qualkit.store.repository import Store
    >>> access = Access(Store.create("sqlite://", name="a"), "ana")
    >>> access.user().role.value  # an unregistered name on a local file: its owner
    'admin'
"""

from __future__ import annotations

import functools
import getpass
import os
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import pandas as pd

from qualkit.errors import InvalidInput, PermissionDenied
from qualkit.users import Role, User, get_user, has_users
from qualkit.users import actor as registered_actor

USER_ENV = "QUALKIT_USER"
MACHINE_USER = "auto"
# Permissions a user without write rights still has: reading, and reading everything when not coding blind.
READ_PERMISSIONS = frozenset({"view", "see_all", "export"})
# Every public Project method and what it needs: a Role.can_<permission>, "view" (everyone, results
# filtered for a blind coder) or "see_all" (everyone, but not while coding blind beside someone).
PROJECT_RULES: dict[str, str] = {}

F = TypeVar("F", bound=Callable[..., Any])


def default_user() -> str:
    """The operating-system login name (``qualkit-user`` where there is none).

    Example:
        >>> isinstance(default_user(), str)
        True
    """
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "qualkit-user"


def _engine(target: Any):
    from qualkit.store.events import engine_of

    return engine_of(getattr(target, "store", target))


def is_local(target: Any) -> bool:
    """True for an SQLite database (a local file, or in memory): its owner is whoever opens it.

    Example:
        >>> from qualkit.store.repository import Store
        >>> is_local(Store.create("sqlite://", name="l"))
        True
    """
    return _engine(target).url.get_backend_name() == "sqlite"


def acting_user(target: Any, name: str, *, named: bool = True) -> User:
    """The :class:`User` acting as ``name`` on a database (see the module docstring for the rule).

    ``named`` says the name was given (``user=``, ``--user``, ``$QUALKIT_USER``) rather than taken
    from the operating system.

    Example:
        >>> from qualkit.store.repository import Store
        >>> acting_user(Store.create("sqlite://", name="x"), "someone", named=False).role.value
        'admin'
    """
    if _known(target, name):
        return registered_actor(target, name)  # registered: its role (a removed user: no rights)
    if named and has_users(target):
        _refuse_near_miss(target, name)
    if is_local(target):
        if named and name != MACHINE_USER and has_users(target):
            _warn_unregistered(target, name)
        return User(name, Role.ADMIN, registered=False)
    if name == MACHINE_USER:
        return User(name, Role.CODER, registered=False)
    if named and not has_users(target):
        return User(name, Role.ADMIN, registered=False)  # a new shared database: its first user sets it up
    return User(name, Role.VIEWER, registered=False)


_WARNED: set[tuple[str, str]] = set()


def _refuse_near_miss(target: Any, name: str) -> None:
    """Refuse a name that is a registered user's but for case or spaces (``"Ana "``): it would code as someone else."""
    from qualkit.store.users import users_df

    wanted = name.strip().casefold()
    for registered in users_df(target)["name"]:
        if str(registered).strip().casefold() == wanted:
            raise InvalidInput(f"{name!r} is not a user of this study; {registered!r} is",
                               fix=f"use the name exactly as registered: {registered}")


def _warn_unregistered(target: Any, name: str) -> None:
    """Say once that a name the study does not know acts as the file's owner (a typo would pass blind rules)."""
    import warnings

    key = (str(_engine(target).url), name)
    if key not in _WARNED:
        _WARNED.add(key)
        warnings.warn(f"{name!r} is not a registered user of this study, so it acts as the file's owner (an "
                      "administrator, who sees everything, blind coding included); check the name, or register "
                      f"it (qualkit users add {name})", UserWarning, stacklevel=4)


def _known(target: Any, name: str) -> bool:
    from qualkit.store.users import user_row

    return user_row(target, name) is not None


class Access:
    """The acting user on a project and the one rule of what they may do and see.

    Example:
        >>> from qualkit.store.repository import Store
        >>> Access(Store.create("sqlite://", name="b"), "ana").require("code").name
        'ana'
    """

    def __init__(self, target: Any, name: str | None = None) -> None:
        self.target = target
        env = os.environ.get(USER_ENV, "").strip()
        self.named = bool(name) or bool(env)
        self.name = name or env or default_user()

    # ---------------------------------------------------------------- who
    def user(self) -> User:
        """The acting user, with the role the database gives them now."""
        return acting_user(self.target, self.name, named=self.named)

    def require(self, permission: str) -> User:
        """Raise :class:`PermissionDenied` unless the acting user may do ``permission``; returns the user.

        Example:
            >>> from qualkit.store.repository import Store
            >>> Access(Store.create("sqlite://", name="c"), "ana").require("see_all").role.value
            'admin'
        """
        user = self.user()
        if permission == "view":
            return user
        if permission == "see_all":
            self.require_sees_all("this result")
            return user
        if user.name == MACHINE_USER and not user.registered and not is_local(self.target):
            if permission not in ("run_analyses", *READ_PERMISSIONS):
                raise PermissionDenied(f"the machine coder {MACHINE_USER!r} may only store suggestions",
                                       fix="act as a registered user")
            return user
        if not user.registered and user.role is Role.VIEWER and permission not in READ_PERMISSIONS:
            if not self.named:
                raise PermissionDenied("a shared database is read-only without a named user",
                                       fix="pass user='NAME' (a registered user) to Project.open",
                                       cli_fix="pass --user NAME (or set QUALKIT_USER) as a registered user")
            raise PermissionDenied(f"{user.name!r} is not a user of this database, so it is read-only for them",
                                   fix="ask an administrator to add you (qualkit users add NAME --role coder)")
        user.require(permission)
        return user

    # ---------------------------------------------------------------- what they may see
    def view(self) -> Any:
        """The project's :class:`~qualkit.review.visibility.TeamView` (assignments), read now."""
        from qualkit.review.visibility import TeamView

        return TeamView.load(getattr(self.target, "store", self.target))

    def hidden(self, view: Any = None) -> dict[int, set[str]]:
        """Source id -> coders whose decisions the acting user may not see there now (``view``: one read already)."""
        return (view or self.view()).hidden_map(self.name)

    def require_sees_all(self, what: str) -> None:
        """Refuse a project-wide result while the acting user codes blind beside someone.

        Example:
            >>> from qualkit.store.repository import Store
            >>> Access(Store.create("sqlite://", name="d"), "ana").require_sees_all("the export")
        """
        hidden = self.hidden()
        if hidden:
            others = sorted(set().union(*hidden.values()))
            raise PermissionDenied(
                f"{self.name} codes {len(hidden)} transcript(s) blind beside {', '.join(others)}: {what} would "
                "show their decisions",
                fix="it opens once every coder of the blind transcript marked it done (project.mark_done)",
                cli_fix="it opens once every coder of the blind transcript marked it done (qualkit assign done)")

    def require_coders_visible(self, coders: Iterable[str], *, source_ids: Iterable[int] | None = None,
                               view: Any = None) -> None:
        """Refuse reliability (or any comparison) that names a coder hidden from the acting user.

        ``source_ids`` limits the check to the transcripts compared: a coder who finished one blind
        transcript may compare it while another is still coded blind. The refusal names the transcripts.

        Example:
            >>> from qualkit.store.repository import Store
            >>> Access(Store.create("sqlite://", name="e"), "ana").require_coders_visible(["ana", "ben"])
        """
        hidden = self.hidden(view)
        if source_ids is not None:
            wanted = {int(i) for i in source_ids}
            hidden = {source: names for source, names in hidden.items() if int(source) in wanted}
        if not hidden:
            return
        blocked = set().union(*hidden.values())
        coders = list(coders)
        named = sorted({c.split(":", 1)[-1] for c in coders} & blocked)
        if not named and any(c.strip().lower() == "origin:human" for c in coders):
            named = sorted(blocked)  # every human's decisions, the hidden coders' among them
        if named:
            store = getattr(self.target, "store", self.target)
            sources = store.sources_df()
            names = dict(zip(sources["id"].astype(int), sources["name"], strict=True))
            blind = sorted(names.get(int(source), str(source)) for source, who in hidden.items() if who & set(named))
            raise PermissionDenied(
                f"{self.name} codes {', '.join(blind)} blind beside {', '.join(named)}: their decisions stay hidden "
                "until every coder of the blind transcript is done",
                fix="compare only transcripts whose blind coding is finished (sources=...), leave them out, or wait "
                    "until the blind double-coding is finished",
                cli_fix="compare only transcripts whose blind coding is finished (--source NAME), leave them out, "
                        "or wait until the blind double-coding is finished")

    def visible_codings(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` without the codings the acting user may not see (needs ``source_id``, ``coder``, ``decided_by``)."""
        from qualkit.review.visibility import visible_codings

        view = self.view()
        return visible_codings(frame, self.name, view) if not view.assignments.empty else frame

    def visible_memos(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` without the memos the acting user may not see."""
        from qualkit.review.visibility import visible_memos

        view = self.view()
        return visible_memos(self.target, frame, self.name, view) if not view.assignments.empty else frame

    def visible_events(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` without the events the acting user may not see."""
        from qualkit.review.visibility import visible_events

        view = self.view()
        return visible_events(self.target, frame, self.name, view) if not view.assignments.empty else frame


def requires(permission: str) -> Callable[[F], F]:
    """Mark a ``Project`` method with what it needs; the check runs (as ``self.access``) before the body.

    The method is listed in :data:`PROJECT_RULES`, the table the role tests compare against.

    Example:
        >>> class P:
        ...     access = None
        ...     @requires("view")
        ...     def look(self): return 1
        >>> PROJECT_RULES["look"]
        'view'
    """

    def decorate(method: F) -> F:
        @functools.wraps(method)
        def guarded(self: Any, *args: Any, **kwargs: Any) -> Any:
            self.access.require(permission)
            return method(self, *args, **kwargs)

        guarded.permission = permission  # type: ignore[attr-defined]
        PROJECT_RULES[method.__name__] = permission
        return guarded  # type: ignore[return-value]

    return decorate


ROLE_RANK = {Role.VIEWER: 0, Role.CODER: 1, Role.ADMIN: 2}


def check_user_change(target: Any, acting: User, name: str | None = None, role: str | Role | None = None) -> None:
    """Only administrators manage users and roles; nobody raises their own role.

    Example:
        >>> from qualkit.store.repository import Store
        >>> check_user_change(Store.create("sqlite://", name="u"), User("vic", Role.VIEWER), "vic", "admin")
        Traceback (most recent call last):
        qualkit.errors.PermissionDenied: vic is a viewer and may not manage users. Fix: ask an administrator to change your role
    """
    if name is not None and name == acting.name and role is not None:
        current = get_user(target, name)
        if current is not None and ROLE_RANK[Role(role)] > ROLE_RANK[current.role]:
            raise PermissionDenied(f"{acting.name} may not raise their own role",
                                   fix="ask another administrator")
    acting.require("manage_users")


__all__ = [
    "MACHINE_USER",
    "PROJECT_RULES",
    "USER_ENV",
    "Access",
    "acting_user",
    "check_user_change",
    "default_user",
    "is_local",
    "requires",
]
