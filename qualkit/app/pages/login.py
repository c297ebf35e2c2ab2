"""Log-in page: name and password, checked against the salted hashes in the project database."""

from __future__ import annotations

import streamlit as st

from qualkit.app import resources, state
from qualkit.errors import PermissionDenied, ProjectNotFound
from qualkit.store.engine import DATABASE_URL_ENV, project_engine
from qualkit.users import authenticate, demo_logins, demo_password_hashes, has_users


@st.cache_data(show_spinner=False, max_entries=8)
def _demo_logins(url: str, password_hashes: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """:func:`qualkit.users.demo_logins`, checked again only when a demo account's password hash changes."""
    return demo_logins(resources.engine_for(url))


def render() -> None:
    """Show the log-in form (and the demo accounts when the served database is the demo study)."""
    st.title("qualkit")
    st.caption("Qualitative analysis of focus-group and interview transcripts — shared review")
    state.show_flashes()
    url = state.db_url()
    if not url:
        st.error(f"No study database is configured. Start the app with {DATABASE_URL_ENV} set, e.g. "
                 f"`{DATABASE_URL_ENV}=demo.qualkit.db streamlit run app.py` (or `make app`).")
        return
    try:
        engine = project_engine(url, connect=resources.engine_for)
    except ProjectNotFound as error:  # checked before connecting: a mistyped path leaves no empty file behind
        st.error(error.render("app"))
        return
    except Exception as error:  # unreachable server, bad URL: say so in one line
        st.error(f"Cannot reach the study database: {str(error).splitlines()[0]}")
        return
    if not has_users(engine):
        st.info("This database has no users yet. An administrator adds the first one on the server:\n\n"
                f"`qualkit users add NAME --role admin --db {engine.url.render_as_string(hide_password=True)}`")
    with st.form("login"):
        name = st.text_input("User name", key="login_name")
        password = st.text_input("Password", type="password", key="login_password")
        submitted = st.form_submit_button("Log in", type="primary")
    if submitted:
        try:
            user = authenticate(engine, name, password)
        except PermissionDenied as error:
            st.error(str(error))
        else:
            state.login(user)
            st.rerun()
    demo = _demo_logins(url, demo_password_hashes(engine))
    if demo:
        st.info("This is the demo study. Log in as one of these demo accounts:\n\n"
                + "\n".join(f"- **{n}** / `{p}` ({r})" for n, p, r in demo))


render()
