"""Per-tab view state: who is logged in, which study is open, messages to show after an action.

Session state is never the store of record: it holds names (the user, the project) and view choices;
the user's role is re-read from the database on every run, so a role change or removal applies at once.

A log-in is remembered across reloads and links by a signed cookie (:data:`COOKIE`, an itsdangerous
token from :func:`qualkit.users.start_session`, ``SameSite=Strict``, expiring with the session). The
server reads it with ``st.context.cookies`` when a browser tab connects; the page sets or clears it
with a tiny script (``st.html``), because Streamlit has no cookie setter. The token names a session
recorded in the event log, so logging out ends it on the server even if a copy of the cookie survives.

Example:
    >>> KEY_USER
    'qk_user'
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit as st

from qualkit.app import resources
from qualkit.app.navigation import page
from qualkit.errors import ConflictError, QualkitError
from qualkit.project import Project
from qualkit.store.engine import DATABASE_URL_ENV, database_url
from qualkit.store.repository import Store
from qualkit.users import SESSION_HOURS, User, end_session, get_user, resume_session, start_session

KEY_USER = "qk_user"
KEY_PROJECT = "qk_project"
KEY_FLASH = "qk_flash"
KEY_TOKEN = "qk_session_token"
KEY_RESUMED = "qk_cookie_checked"
KEY_FORGET = "qk_forget_cookie"
COOKIE = "qualkit_session"


def db_url() -> str | None:
    """The database the app serves (``$QUALKIT_DATABASE_URL``), as a SQLAlchemy URL, or None.

    Example:
        >>> isinstance(db_url(), str | None)
        True
    """
    raw = os.environ.get(DATABASE_URL_ENV)
    return database_url(raw) if raw else None


def current_user() -> User | None:
    """The logged-in user, freshly read from the database (None if logged out or removed).

    A new tab (a reload, a link) is logged in again from the session cookie while it is valid.

    Example:
        >>> current_user()  # doctest: +SKIP
    """
    url = db_url()
    if not url:
        return None
    name = st.session_state.get(KEY_USER) or _resume(url)
    if not name:
        return None
    user = get_user(resources.engine_for(url), name)
    if user is None:
        logout()
    return user


def _resume(url: str) -> str | None:
    """Log this tab in from the session cookie, once per tab (None when there is no valid one)."""
    if st.session_state.get(KEY_RESUMED):
        return None
    st.session_state[KEY_RESUMED] = True
    token = st.context.cookies.get(COOKIE)
    if not token:
        return None
    try:
        user = resume_session(resources.engine_for(url), token, resources.session_secret())
    except QualkitError:
        return None
    if user is None:
        st.session_state[KEY_FORGET] = True  # expired or ended: drop the stale cookie
        return None
    st.session_state[KEY_USER] = user.name
    st.session_state[KEY_TOKEN] = token
    return user.name


def login(user: User) -> None:
    """Remember the logged-in user for this tab, and (by a signed cookie) for reloads and links.

    Example:
        >>> login(User("ana"))  # doctest: +SKIP
    """
    st.session_state[KEY_USER] = user.name
    st.session_state.pop(KEY_FORGET, None)
    url = db_url()
    if url:
        try:
            st.session_state[KEY_TOKEN] = start_session(resources.engine_for(url), user, resources.session_secret())
        except QualkitError:  # no itsdangerous: the log-in lasts for this tab only
            st.session_state.pop(KEY_TOKEN, None)


def logout() -> None:
    """Forget the user and every view choice of this tab, end the remembered session and drop its cookie.

    Example:
        >>> logout()  # doctest: +SKIP
    """
    token, url = st.session_state.get(KEY_TOKEN), db_url()
    if token and url:
        with contextlib.suppress(QualkitError):  # the log-out must work even if the database is gone
            end_session(resources.engine_for(url), token, resources.session_secret())
    for key in list(st.session_state.keys()):
        del st.session_state[key]
    st.session_state[KEY_FORGET] = True
    st.session_state[KEY_RESUMED] = True  # the cookie this tab was opened with must not log it in again


def sync_cookie() -> None:
    """Set (while logged in) or clear (after log-out) the session cookie in the browser.

    Example:
        >>> sync_cookie()  # doctest: +SKIP
    """
    token = st.session_state.get(KEY_TOKEN)
    if token and st.session_state.get(KEY_USER):
        age = int(SESSION_HOURS * 3600)
        value = f"{COOKIE}={token}; Max-Age={age}; Path=/; SameSite=Strict"
    elif st.session_state.get(KEY_FORGET):
        value = f"{COOKIE}=; Max-Age=0; Path=/; SameSite=Strict"
    else:
        return
    st.html(f"<script>document.cookie = {json.dumps(value)} + (location.protocol === 'https:' ? '; Secure' : '');"
            "</script>", unsafe_allow_javascript=True)


STUDY_PARAM = "study"  # ?study=NAME in the address: the open study survives a reload, a link and the log-in


def open_project(name: str) -> None:
    """Make ``name`` the study this tab works on (and put it in the address as ``?study=NAME``).

    Example:
        >>> open_project("Burnout focus groups")  # doctest: +SKIP
    """
    st.session_state[KEY_PROJECT] = name
    if st.query_params.get(STUDY_PARAM) != name:
        st.query_params[STUDY_PARAM] = name


def sync_study_param() -> None:
    """Keep ``?study=NAME`` in the address on every page (switching pages drops query parameters).

    Run by the router while someone is logged in; a study named in the address of a new tab (a reload,
    a link, the log-in page) is opened by :func:`current_store`.

    Example:
        >>> sync_study_param()  # doctest: +SKIP
    """
    name = st.session_state.get(KEY_PROJECT)
    if name and st.query_params.get(STUDY_PARAM) != name:
        st.query_params[STUDY_PARAM] = name


def project_names() -> list[str]:
    """Projects in the served database.

    Example:
        >>> project_names()  # doctest: +SKIP
        ['Burnout focus groups']
    """
    url = db_url()
    return Store.list_projects(resources.engine_for(url)) if url else []


def current_store() -> Store | None:
    """The open project's store, opening the only project automatically when there is just one.

    Example:
        >>> current_store()  # doctest: +SKIP
    """
    url = db_url()
    if not url:
        return None
    name = st.session_state.get(KEY_PROJECT)
    if name is None and st.query_params.get(STUDY_PARAM):
        wanted = st.query_params.get(STUDY_PARAM)
        if wanted in project_names():
            name = wanted
            open_project(name)
    if name is None:
        names = project_names()
        if len(names) != 1:
            return None
        name = names[0]
        open_project(name)
    try:
        return resources.store_for(url, name)
    except QualkitError:
        st.session_state.pop(KEY_PROJECT, None)
        st.query_params.pop(STUDY_PARAM, None)
        return None


def current_project(user: User) -> Project | None:
    """A :class:`Project` over the open store acting as ``user`` (cheap: the store is shared).

    Example:
        >>> current_project(User("ana"))  # doctest: +SKIP
    """
    store = current_store()
    return None if store is None else Project(store, user=user.name)


def require_project(user: User) -> Project:
    """The open project, or a pointer to the Study page and a stop.

    Example:
        >>> require_project(User("ana"))  # doctest: +SKIP
    """
    project = current_project(user)
    if project is None:
        names = project_names()
        wanted = st.query_params.get(STUDY_PARAM)
        if wanted and wanted not in names:
            st.warning(f"This file holds no study named “{wanted}”.")
        if len(names) > 1:  # a link without ?study= to a file of several studies: choose here, not elsewhere
            chosen = st.selectbox("Which study?", names, index=None, placeholder="Choose a study…",
                                  key="qk_pick_study")
            if chosen:
                open_project(chosen)
                st.rerun()
        else:
            st.info("Open a study first.")
        st.page_link(page("study"), label="Go to the Study page", icon=":material/folder_open:")
        st.stop()
    return project


def generation(store: Store) -> int:
    """The project's newest event id: the cache key that changes with every write by anyone.

    Example:
        >>> generation(store)  # doctest: +SKIP
        42
    """
    return store.generation()


def kept(key: str, options: list[Any]) -> None:
    """Give the widget ``key`` back the choice it last had, if a run dropped it (call before drawing the widget).

    Streamlit forgets a widget's value after any run that does not draw it (an early return, another page);
    a reviewer's Transcript filter went back to "(all)" in the middle of work, and her next key presses
    decided cards of other transcripts. :func:`keep` stores the choice apart from the widget.

    Example:
        >>> kept("q_source", ["(all)", "fg1.txt"])  # doctest: +SKIP
    """
    remembered = st.session_state.get(KEPT + key)
    if key not in st.session_state and remembered in options:
        st.session_state[key] = remembered


def keep(key: str, value: Any) -> None:
    """Remember the widget ``key``'s choice for :func:`kept`.

    Example:
        >>> keep("q_source", "fg1.txt")  # doctest: +SKIP
    """
    st.session_state[KEPT + key] = value


KEPT = "qk_kept::"


def flash(message: str, kind: str = "success") -> None:
    """Queue a message to show at the top of the next run (actions run in callbacks before the page).

    Example:
        >>> flash("Accepted.")  # doctest: +SKIP
    """
    st.session_state.setdefault(KEY_FLASH, []).append((kind, message))


def show_flashes() -> None:
    """Show and clear the queued messages.

    Example:
        >>> show_flashes()  # doctest: +SKIP
    """
    for kind, message in st.session_state.pop(KEY_FLASH, []):
        getattr(st, kind if kind in ("success", "info", "warning", "error") else "info")(message)


def without_folder(text: str, folder: Path) -> str:
    """``text`` with the server's copy of an upload named as the researcher knows it (the file's own name).

    Example:
        >>> without_folder("/tmp/x1/codes.csv:1: no name column", Path("/tmp/x1"))
        'codes.csv:1: no name column'
    """
    return text.replace(f"{folder}{os.sep}", "")


def report_error(error: Exception) -> None:
    """Turn a qualkit error into a flash message: conflicts show the current value, never a traceback.

    Example:
        >>> report_error(QualkitError("no"))  # doctest: +SKIP
    """
    if isinstance(error, ConflictError):
        current = error.current
        keys = (("code_id", "status", "decided_by", "version") if "segment_id" in current
                else [k for k in current if k != "participants"])
        now = ", ".join(f"{k.replace('_', ' ') if k not in ('code_id', 'decided_by') else k}: "
                        f"{', '.join(map(str, v)) if isinstance(v, list) else v}"
                        for k in keys if (v := current.get(k)) not in (None, "", []))
        flash(f"Not saved: {error.message}." + (f" Current value — {now}." if now else "")
              + " The page now shows it; make your change again if it is still needed.", "warning")
    else:
        flash(error.render("app") if isinstance(error, QualkitError) else str(error), "error")


def run_action(action: Any, *args: Any, success: str | None = None, **kwargs: Any) -> Any:
    """Call a library action, flash ``success`` or the error; returns the result (None on error).

    Example:
        >>> run_action(print, "hi", success="printed")  # doctest: +SKIP
    """
    try:
        result = action(*args, **kwargs)
    except QualkitError as error:
        report_error(error)
        return None
    if success:
        flash(success)
    return result


@dataclass(frozen=True)
class Context:
    """What a page needs: the user, the open project, the database URL and the cache generation.

    Example:
        >>> ctx = page_context("Review queue")  # doctest: +SKIP
        >>> ctx.user.name  # doctest: +SKIP
        'ana'
    """

    user: User
    project: Project
    url: str
    gen: int

    @property
    def store(self) -> Store:
        """The open project's store."""
        return self.project.store

    @property
    def name(self) -> str:
        """The open project's name."""
        return self.project.name


def page_context(title: str, *, needs_project: bool = True) -> Context | None:
    """Start a page: title, queued messages, the logged-in user and (unless told otherwise) the open project.

    Stops the page with a hint when nobody is logged in or no study is open.

    Example:
        >>> page_context("Codebook")  # doctest: +SKIP
    """
    st.title(title)
    show_flashes()
    user = current_user()
    if user is None:
        st.warning("Please log in.")
        st.stop()
    project = require_project(user) if needs_project else current_project(user)
    if project is None:
        return None
    return Context(user=user, project=project, url=db_url() or "", gen=generation(project.store))


def sidebar(user: User) -> None:
    """Who is logged in, the open study, and the log-out button.

    Example:
        >>> sidebar(user)  # doctest: +SKIP
    """
    with st.sidebar:
        st.caption(f"Logged in as **{user.label}** ({user.role.value})")
        store = current_store()
        if store is not None:
            st.caption(f"Study: **{store.name}**")
        if st.button("Log out", key="qk_logout"):
            logout()
            st.rerun()
